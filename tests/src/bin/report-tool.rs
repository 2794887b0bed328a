//! Test helper: a tool in report mode (tests/tests/reports_process.rs). It calls
//! `telemetry::init` first, then:
//!
//! - `report-tool run [N]`: N calls (default 1) of a tracked `build(jobs)`; the
//!   `jobs` value of call `i` is `i % RT_VARIANTS` (default 1 variant); with
//!   `RT_FAIL=1` every call returns an error; `RT_SLEEP_MS` sleeps after the calls
//!   (so a test can kill the process while it waits); `RT_WAIT_MS` sleeps before
//!   them (after `init`: the calls come later in the process's life); with
//!   `RT_PROJECT=1` each call also records `project.opened` with a `Hashed` project
//!   (`record!`) and calls `open(project = Hashed::new(..))`;
//! - `report-tool telemetry <status|enable|disable|local|report [--json]|...>`.
//!
//! Knobs: `RT_ENDPOINT` (an `HttpSink`; without it, no sink: reports are kept only),
//! `RT_RATE` (upload rate, default 1), `RT_DAILY=1` (daily periods), `RT_LOCAL=1`
//! (local by default), `RT_LIMIT` (max combinations), `RT_DATA_DIR`, `RT_AT_EXIT=1`,
//! `RT_DEADLINE_MS` (the exit deadline).
//! The clock: `REPORT_TOOL_TELEMETRY_TEST_NOW` (seconds since the epoch).

use std::process::ExitCode;
use std::time::Duration;

use telemetry::cli::TelemetryCommand;
use telemetry::{ReportSettings, TelemetryContext};

#[derive(Debug)]
struct BuildFailed;

impl std::fmt::Display for BuildFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("build failed")
    }
}

impl std::error::Error for BuildFailed {}

#[telemetry::track("cmd.build", capture(jobs))]
fn build(jobs: u32, fail: bool) -> Result<(), BuildFailed> {
    if fail { Err(BuildFailed) } else { Ok(()) }
}

#[telemetry::track(
    "project.loaded",
    capture(project = telemetry::Hashed::new("project", "/home/alice/secret-project"))
)]
fn load() {}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn number<T: std::str::FromStr>(name: &str) -> Option<T> {
    var(name).and_then(|v| v.parse().ok())
}

fn context() -> Result<TelemetryContext, telemetry::TelemetryError> {
    let mut settings = if var("RT_DAILY").is_some() {
        ReportSettings::daily()
    } else {
        ReportSettings::weekly()
    };
    if let Some(rate) = number::<f64>("RT_RATE") {
        settings = settings.upload_rate(rate);
    }
    if var("RT_LOCAL").is_some() {
        settings = settings.local_by_default();
    }
    if let Some(limit) = number::<usize>("RT_LIMIT") {
        settings = settings.max_combinations(limit);
    }
    let mut builder = TelemetryContext::builder()
        .tool(telemetry::tool!("report-tool", "1.2.0"))
        .reports(settings)
        .upload_interval(Duration::ZERO);
    if let Some(dir) = var("RT_DATA_DIR") {
        builder = builder.data_dir(dir);
    }
    if let Some(ms) = number::<u64>("RT_DEADLINE_MS") {
        builder = builder.deadline(Duration::from_millis(ms));
    }
    if var("RT_AT_EXIT").is_some() {
        builder = builder.send_mode(telemetry::SendMode::AtExit);
    }
    #[cfg(feature = "http")]
    if let Some(endpoint) = var("RT_ENDPOINT") {
        builder = builder.sink(
            telemetry::sink::HttpSink::builder(&endpoint)
                .allow_insecure_http(true)
                .build()?,
        );
    }
    builder.build()
}

fn main() -> ExitCode {
    let ctx = match context() {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("report-tool: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _guard = telemetry::init(ctx.clone());
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("telemetry") => {
            let cli = clap::Command::new("report-tool").subcommand(TelemetryCommand::command());
            let matches = match cli.try_get_matches_from(
                std::iter::once("report-tool").chain(args.iter().map(String::as_str)),
            ) {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            match matches
                .subcommand_matches("telemetry")
                .map(TelemetryCommand::from_matches)
            {
                Some(Ok(cmd)) => cmd.run_to_exit_code(&ctx),
                _ => ExitCode::from(2),
            }
        }
        Some("run") | None => {
            let n: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1);
            let variants: u32 = number("RT_VARIANTS").unwrap_or(1).max(1);
            let fail = var("RT_FAIL").is_some();
            if let Some(ms) = number::<u64>("RT_WAIT_MS") {
                std::thread::sleep(Duration::from_millis(ms));
            }
            let project = var("RT_PROJECT").is_some();
            for i in 0..n {
                let _ = build(i % variants, fail);
                if project {
                    let _ = telemetry::record!(
                        "project.opened",
                        project = telemetry::Hashed::new("project", "/home/alice/secret-project")
                    );
                    load();
                }
            }
            if let Some(ms) = number::<u64>("RT_SLEEP_MS") {
                eprintln!("report-tool: sleeping");
                std::thread::sleep(Duration::from_millis(ms));
            }
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("report-tool: unknown argument {other:?}");
            ExitCode::from(2)
        }
    }
}
