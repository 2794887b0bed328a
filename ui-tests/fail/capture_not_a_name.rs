struct Options {
    jobs: u8,
}

#[telemetry::track("cmd.build", capture(options.jobs))]
fn build(options: Options) -> u8 {
    options.jobs
}

fn main() {}
