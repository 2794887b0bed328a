#[derive(telemetry::SafeValue)]
enum Failure {
    Io,
}

struct Tool;

impl Tool {
    fn classify(_: &std::io::Error) -> Failure {
        Failure::Io
    }

    #[telemetry::track("cmd.self_path", error = Self::classify)]
    fn self_path(&self) -> std::io::Result<()> {
        Ok(())
    }
}

#[telemetry::track("cmd.closure", error = |_: &std::io::Error| Failure::Io)]
fn closure() -> std::io::Result<()> {
    Ok(())
}

#[telemetry::track("cmd.nothing", error = Tool::classify)]
fn returns_nothing() {}

#[telemetry::track("cmd.missing", error =)]
fn missing() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
