const NAME: &str = "cmd.build";

#[telemetry::track(NAME)]
fn build() {}

fn main() {}
