#[telemetry::track("cmd.build")]
struct Build;

fn main() {}
