#[telemetry::track("cmd.build", attrs(a = x, b = f(), c = [1], d = 1 as u8, a = 2))]
fn build() {}

fn main() {}
