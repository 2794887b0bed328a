#[telemetry::track("cmd.build", attrs(jobs = 4), capture(jobs))]
fn build(jobs: u8) -> u8 {
    jobs
}

fn main() {}
