#[telemetry::track("cmd.build", attrs(big = 18446744073709551616, small = -9223372036854775809))]
fn build() {}

fn main() {}
