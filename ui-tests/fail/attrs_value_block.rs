#[telemetry::track("cmd.build", attrs(jobs = { 4 }))]
fn build() {}

fn main() {}
