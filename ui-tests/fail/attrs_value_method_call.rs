#[telemetry::track("cmd.build", attrs(profile = "release".to_uppercase()))]
fn build() {}

fn main() {}
