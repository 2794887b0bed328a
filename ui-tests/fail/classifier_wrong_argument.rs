#[derive(telemetry::SafeValue)]
enum Failure {
    Parse,
}

fn classify(_: &std::num::ParseIntError) -> Failure {
    Failure::Parse
}

#[telemetry::track("cmd.read", error = classify)]
fn read() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
