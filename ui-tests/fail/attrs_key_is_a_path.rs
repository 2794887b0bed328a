#[telemetry::track("cmd.build", attrs(build::profile = "release"))]
fn build() {}

fn main() {}
