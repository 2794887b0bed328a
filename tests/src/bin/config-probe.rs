//! Test helper: builds the context of the tool `probe` with the policy set in code
//! (`.policy(Enabled)`, no consent resolution), installs it, hashes one value (which
//! creates the local key in the config dir) and prints the config dir on stdout.
//!
//! Usage: `config-probe` (reads `PROBE_CONFIG_DIR` like any tool would).

use std::process::ExitCode;

use telemetry::sink::NoopSink;
use telemetry::{CollectionPolicy, Hashed, TelemetryContext};

fn main() -> ExitCode {
    let Ok(ctx) = TelemetryContext::builder()
        .tool(telemetry::tool!("probe", "1.0.0"))
        .sink(NoopSink)
        .policy(CollectionPolicy::Enabled)
        .build()
    else {
        return ExitCode::FAILURE;
    };
    let guard = telemetry::init(ctx);
    let hashed = Hashed::new("project", "/home/alice/project");
    let dir = guard.context().and_then(|c| c.config_dir());
    println!(
        "{}",
        dir.map_or_else(|| "-".to_owned(), |d| d.display().to_string())
    );
    if hashed.digest().is_none() {
        return ExitCode::from(3);
    }
    ExitCode::SUCCESS
}
