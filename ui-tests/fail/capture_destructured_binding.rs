#[telemetry::track("cmd.build", capture(jobs))]
fn build((jobs, verbose): (u8, bool)) -> u8 {
    if verbose { jobs } else { 0 }
}

fn main() {}
