#[telemetry::track("Cmd.Build")]
fn build() {}

fn main() {}
