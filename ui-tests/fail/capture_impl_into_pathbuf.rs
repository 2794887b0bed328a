use std::path::PathBuf;

#[telemetry::track("cmd.open", capture(file))]
fn open(file: impl Into<PathBuf>) -> bool {
    file.into().exists()
}

fn main() {}
