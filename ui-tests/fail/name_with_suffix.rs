#[telemetry::track("cmd.build"alice)]
fn build() {}

fn main() {}
