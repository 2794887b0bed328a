#[telemetry::track("cmd.build", attrs(os = std::env::consts::OS))]
fn build() {}

fn main() {}
