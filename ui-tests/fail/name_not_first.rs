#[telemetry::track(attrs(profile = "release"), "cmd.build")]
fn build() {}

fn main() {}
