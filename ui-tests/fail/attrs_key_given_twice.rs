// Each default attribute key is given once; `attrs!` checks it at compile time.
fn main() {
    let _ = telemetry::attrs!(jobs = 1_u8, jobs = 2_u8);
}
