#[telemetry::track("cmd.build", attrs(targets = ["x86_64", "aarch64"]))]
fn build() {}

fn main() {}
