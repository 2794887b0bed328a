#[telemetry::track("cmd.build", attrs(version = (1, 2)))]
fn build() {}

fn main() {}
