//! A signature with a syntax error: rustc's error, and `#[track]` says it could not read
//! the signature (not that the item is not a function).
#[telemetry::track("cmd.build")]
fn build(jobs: u16,, verbose: bool) -> u16 {
    jobs
}

fn main() {}
