#[telemetry::track("cmd.build", attrs(profile = &"release"))]
fn build() {}

fn main() {}
