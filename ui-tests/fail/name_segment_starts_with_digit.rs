#[telemetry::track("cmd.2build")]
fn build() {}

fn main() {}
