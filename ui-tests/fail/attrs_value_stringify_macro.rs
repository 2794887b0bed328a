#[telemetry::track("cmd.build", attrs(profile = stringify!(release)))]
fn build() {}

fn main() {}
