#[derive(telemetry::SafeValue)]
enum Failure {
    Parse,
}

fn classify(_: &u8) -> Failure {
    Failure::Parse
}

#[telemetry::track("cmd.count", error = classify)]
fn count() -> Option<u8> {
    None
}

fn main() {}
