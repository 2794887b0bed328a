#[telemetry::track]
fn build() {}

fn main() {}
