#[telemetry::track("cmd.build", capture(job))]
fn build(jobs: u8, verbose: bool) -> u8 {
    if verbose { jobs } else { 0 }
}

fn main() {}
