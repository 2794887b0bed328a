#[telemetry::track("cmd.build", fields(jobs))]
fn build(jobs: u8) -> u8 {
    jobs
}

fn main() {}
