#[telemetry::track("cmd..build")]
fn build() {}

fn main() {}
