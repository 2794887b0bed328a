#[telemetry::track("cmd.build", attrs(a = 1), attrs(b = 2))]
fn build() {}

fn main() {}
