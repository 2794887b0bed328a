#[telemetry::track("cmd.build", capture(jobs: u16 = dry_run))]
fn build(dry_run: bool) -> bool {
    dry_run
}

fn main() {}
