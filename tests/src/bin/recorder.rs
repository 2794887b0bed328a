//! Test helper: a minimal tool that sends telemetry over HTTP, for the uploader tests
//! (`tests/tests/uploader_process.rs`). It calls `telemetry::init` first thing (unless
//! told to parse its arguments first), records `REC_COUNT` events with `record!`, and
//! leaves through the guard.
//!
//! Usage: `recorder [run | enable | disable]` (default `run`).
//!
//! Consent is resolved as a real tool's would be (opt-in): `RECORDER_TELEMETRY=1` for
//! one run, or the config file written by `recorder enable`. Knobs (all optional but
//! the endpoint):
//!
//! - `REC_ENDPOINT`: the `http://127.0.0.1:PORT/..` URL of the `HttpSink`
//! - `REC_DATA_DIR`: the data dir (spool in `$REC_DATA_DIR/spool`)
//! - `REC_COUNT`: events recorded by `run` (default 1)
//! - `REC_DEADLINE_MS`: the exit deadline (default 100)
//! - `REC_BATCH`: the batch size (default the library's)
//! - `REC_AT_EXIT=1`: `SendMode::AtExit` instead of the default background mode
//! - `REC_INTERVAL_MS`, `REC_LIMIT_MS`: the uploader's interval and time limit
//! - `REC_PARSE_FIRST=1`: reject unknown arguments *before* `init` (exit code 2), as a
//!   tool that parses its command line first does; its uploader then never reaches
//!   `init`.

use std::process::ExitCode;
use std::time::Duration;

use telemetry::TelemetryContext;
use telemetry::consent::ConsentMode;
use telemetry::sink::HttpSink;

const COMMANDS: &[&str] = &["run", "enable", "disable"];

fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    if std::env::var_os("REC_PARSE_FIRST").is_some()
        && command.as_deref().is_some_and(|c| !COMMANDS.contains(&c))
    {
        eprintln!("recorder: unknown argument {command:?}");
        return ExitCode::from(2);
    }
    let ctx = match context() {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("recorder: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _guard = telemetry::init(ctx.clone());
    match command.as_deref().unwrap_or("run") {
        "run" => {
            for i in 0..number("REC_COUNT").unwrap_or(1) {
                if let Err(e) = telemetry::record!("rec.event", i = i) {
                    eprintln!("recorder: event {i} not recorded: {e}");
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        "enable" => report(ctx.enable()),
        "disable" => report(ctx.disable()),
        other => {
            eprintln!("recorder: unknown argument {other:?}");
            ExitCode::from(2)
        }
    }
}

fn report<T: std::fmt::Debug>(result: Result<T, telemetry::TelemetryError>) -> ExitCode {
    match result {
        Ok(change) => {
            eprintln!("recorder: {change:?}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("recorder: {e}");
            ExitCode::FAILURE
        }
    }
}

fn number(name: &str) -> Option<i64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn millis(name: &str) -> Option<Duration> {
    number(name).and_then(|ms| u64::try_from(ms).ok().map(Duration::from_millis))
}

fn context() -> Result<TelemetryContext, telemetry::TelemetryError> {
    let endpoint = std::env::var("REC_ENDPOINT").unwrap_or_default();
    let sink = HttpSink::builder(&endpoint)
        .allow_insecure_http(true)
        .build()?;
    let mut builder = TelemetryContext::builder()
        .tool(telemetry::tool!("recorder", "1.0.0"))
        .consent(ConsentMode::OptIn)
        .sink(sink)
        .deadline(millis("REC_DEADLINE_MS").unwrap_or(Duration::from_millis(100)));
    if let Some(dir) = std::env::var_os("REC_DATA_DIR") {
        builder = builder.data_dir(dir);
    }
    if let Some(size) = number("REC_BATCH").and_then(|n| usize::try_from(n).ok()) {
        builder = builder.batch_size(size);
    }
    if std::env::var_os("REC_AT_EXIT").is_some() {
        builder = builder.send_mode(telemetry::SendMode::AtExit);
    }
    if let Some(interval) = millis("REC_INTERVAL_MS") {
        builder = builder.upload_interval(interval);
    }
    if let Some(limit) = millis("REC_LIMIT_MS") {
        builder = builder.upload_time_limit(limit);
    }
    builder.build()
}
