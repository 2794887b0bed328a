// A wrong attribute reports its own error only: the function is still emitted, so
// the call in `main` resolves and its types still check.
#[telemetry::track("Bad Name")]
fn build(jobs: u8) -> u8 {
    jobs
}

fn main() {
    let jobs: u8 = build(4);
    let _ = jobs;
}
