#[telemetry::track("cmd.build", attrs(profile = "release", profile = "debug"))]
fn build() {}

fn main() {}
