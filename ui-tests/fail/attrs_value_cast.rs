#[telemetry::track("cmd.build", attrs(jobs = 4 as u8))]
fn build() {}

fn main() {}
