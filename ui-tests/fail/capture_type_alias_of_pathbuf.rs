type Manifest = std::path::PathBuf;

#[telemetry::track("cmd.build", capture(manifest))]
fn build(manifest: Manifest) -> bool {
    manifest.exists()
}

fn main() {}
