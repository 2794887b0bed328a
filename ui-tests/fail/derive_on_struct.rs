#[derive(telemetry::SafeValue)]
struct UserName(String);

fn main() {}
