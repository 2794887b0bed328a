//! A rejected derive leaves stub impls behind: using the enum as a classifier adds no
//! second error.
#[derive(telemetry::SafeValue)]
enum Failure {
    Io(std::io::ErrorKind),
}

fn classify(error: &std::io::Error) -> Failure {
    Failure::Io(error.kind())
}

#[telemetry::track("cmd.read", error = classify)]
fn read() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
