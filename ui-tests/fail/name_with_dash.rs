#[telemetry::track("cmd.dry-run")]
fn build() {}

fn main() {}
