use std::path::Path;

#[telemetry::track("cmd.open", capture(file))]
fn open(file: impl AsRef<Path>) -> bool {
    file.as_ref().exists()
}

fn main() {}
