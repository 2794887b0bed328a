#[telemetry::track("cmd.build", attrs(profile = format!("{}", "release")))]
fn build() {}

fn main() {}
