#[telemetry::track("cmd.build", attrs(dry_run))]
fn build() {}

fn main() {}
