use std::path::Path;

#[telemetry::track("cmd.open", capture(file))]
fn open<P>(file: P) -> bool
where
    P: AsRef<Path>,
{
    file.as_ref().exists()
}

fn main() {}
