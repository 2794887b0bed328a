#[telemetry::track("cmd.read", error = clasify)]
fn read() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
