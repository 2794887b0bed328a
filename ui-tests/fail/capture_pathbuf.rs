#[telemetry::track("cmd.build", capture(manifest))]
fn build(manifest: std::path::PathBuf) -> bool {
    manifest.exists()
}

fn main() {}
