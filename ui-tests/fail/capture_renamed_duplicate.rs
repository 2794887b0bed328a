#[telemetry::track("cmd.build", attrs(open = true), capture(jobs, jobs = threads, open = open))]
fn build(jobs: u16, threads: u16, open: bool) -> u16 {
    let _ = open;
    jobs + threads
}

fn main() {}
