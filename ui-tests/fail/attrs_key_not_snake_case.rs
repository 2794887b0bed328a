#[telemetry::track("cmd.build", attrs(buildProfile = "release"))]
fn build() {}

fn main() {}
