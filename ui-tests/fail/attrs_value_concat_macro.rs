#[telemetry::track("cmd.build", attrs(profile = concat!("rel", "ease")))]
fn build() {}

fn main() {}
