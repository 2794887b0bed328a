use std::path::Path;

#[telemetry::track(
    "Cmd.Build",
    attrs(Profile = "release", home = env!("HOME"), jobs = JOBS),
    capture(out_dir, missing, self),
    colour(auto)
)]
fn build(out_dir: &Path) -> bool {
    out_dir.exists()
}

fn main() {}
