#[telemetry::track("cmd.build", attrs(dry_run = -true))]
fn build() {}

fn main() {}
