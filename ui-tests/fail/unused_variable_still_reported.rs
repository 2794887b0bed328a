#![deny(unused_variables)]

#[telemetry::track("cmd.build", capture(jobs))]
fn build(jobs: u8, verbose: bool) -> u8 {
    jobs
}

fn main() {
    build(1, true);
}
