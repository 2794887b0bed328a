#[telemetry::track("cmd.build", attrs(source = file!()))]
fn build() {}

fn main() {}
