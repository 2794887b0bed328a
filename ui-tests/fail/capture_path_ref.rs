use std::path::Path;

#[telemetry::track("cmd.build", capture(out_dir))]
fn build(out_dir: &Path) -> bool {
    out_dir.exists()
}

fn main() {}
