const JOBS: u8 = 4;

#[telemetry::track("cmd.build", attrs(jobs = JOBS))]
fn build() {}

fn main() {
    let _ = JOBS;
}
