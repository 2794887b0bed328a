fn classify(error: &std::io::Error) -> String {
    error.to_string()
}

fn code(error: &std::io::Error) -> i32 {
    error.raw_os_error().unwrap_or(0)
}

#[telemetry::track("cmd.read", error = classify)]
fn read() -> std::io::Result<()> {
    Ok(())
}

#[telemetry::track("cmd.write", error = code)]
fn write() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
