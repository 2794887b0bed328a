#[telemetry::track(concat!("cmd", ".build"))]
fn build() {}

fn main() {}
