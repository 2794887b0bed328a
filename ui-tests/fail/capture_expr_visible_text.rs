use std::path::PathBuf;

#[telemetry::track(
    "cmd.build",
    capture(
        dir = out_dir,
        name = out_dir.display(),
        label = format!("{jobs}"),
        profile = "release",
        level = 3,
    )
)]
fn build(out_dir: PathBuf, jobs: u16) -> u16 {
    let _ = out_dir;
    jobs
}

fn main() {}
