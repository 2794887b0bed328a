//! `demo`: a small command-line tool instrumented with `telemetry`.
//!
//! Telemetry is opt-in: nothing is recorded until the user runs `demo telemetry enable`
//! or sets `DEMO_TELEMETRY=1` for one run. Every command then records one event into
//! the local log (`<data dir>/demo/telemetry/events.jsonl`), which `demo events` prints.
//!
//! ```text
//! DEMO_TELEMETRY=1 demo build --release --jobs 8
//! demo events
//! demo telemetry status
//! ```

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use telemetry::cli::TelemetryCommand;
use telemetry::consent::ConsentMode;
use telemetry::{TelemetryContext, track};

#[derive(Parser)]
#[command(
    name = "demo",
    version,
    about = "A tiny build tool that shows what telemetry records"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How this demo asks for consent: opt-in, or opt-out with `DEMO_CONSENT=opt-out` (to
/// try both modes).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Consent {
    OptIn,
    OptOut,
}

impl Consent {
    fn from_env() -> Self {
        match std::env::var("DEMO_CONSENT").as_deref() {
            Ok("opt-out") => Self::OptOut,
            _ => Self::OptIn,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Pretend to build the project.
    Build {
        /// Build with optimisations.
        #[arg(long)]
        release: bool,
        /// Number of parallel jobs.
        #[arg(long, default_value_t = 4)]
        jobs: u16,
    },
    /// Pretend to run the tests.
    Test,
    /// A command that fails (exit code 1).
    Fail {
        /// Leave through `telemetry::exit(CODE)` instead of returning from `main`
        /// (as tools that call `std::process::exit` on errors do).
        #[arg(long, hide = true)]
        exit: Option<i32>,
    },
    /// Watch the project until stopped with Ctrl-C (recorded as `interrupted`).
    Watch,
    /// Panic inside a tracked command (shows the panic hook recipe: exit code 101).
    #[command(hide = true)]
    Crash,
    /// Print the events recorded in the local log.
    Events,
    /// Inspect or change telemetry: status, enable, disable, reset, schema.
    #[command(subcommand)]
    Telemetry(TelemetryCommand),
}

#[derive(Debug)]
struct DemoError(&'static str);

impl std::fmt::Display for DemoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for DemoError {}

fn main() -> ExitCode {
    // Telemetry first, before the arguments are parsed: `init` recognises the
    // detached uploader (this executable, started with `--telemetry-uploader`),
    // uploads and exits, so it must come before anything that would reject that
    // argument or do work.
    let ctx = telemetry_context(Consent::from_env());
    let _guard = ctx.clone().map(telemetry::init);
    // Ctrl-C and SIGTERM end `demo watch`: record the command as `interrupted`, then
    // end as the signal would have (feature `signals`; `DEMO_SIGNALS=0` leaves the
    // signals alone, for the tests).
    #[cfg(feature = "signals")]
    if std::env::var_os("DEMO_SIGNALS").is_none_or(|v| v != "0") {
        telemetry::signals::record_interruptions();
    }
    // A panic hook that ends the process skips every guard: `telemetry::exit` records
    // the tracked calls still running (as `panic`) and writes the run out first.
    telemetry::signals::track_open_calls();
    std::panic::set_hook(Box::new(|info| {
        eprintln!("demo: internal error: {info}");
        telemetry::exit(101);
    }));
    let cli = Cli::parse();

    let result = match cli.command {
        Command::Build { release, jobs } => build(release, jobs),
        Command::Test => test(),
        Command::Fail { exit } => {
            let result = fail();
            if let (Some(code), Err(e)) = (exit, &result) {
                eprintln!("demo: {e}");
                telemetry::exit(code);
            }
            result
        }
        Command::Watch => watch(),
        Command::Crash => crash(),
        Command::Events => events(),
        Command::Telemetry(cmd) => {
            return match &ctx {
                Some(ctx) => cmd.run_to_exit_code(ctx),
                None => ExitCode::FAILURE,
            };
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: {e}");
            ExitCode::FAILURE
        }
    }
}

const NOTICE: &str = "demo collects anonymous usage data (command names, durations, outcomes) \
to improve the tool.";

/// The tool's telemetry: consent resolved from the environment and the user's config
/// file; events kept in the local log (and sent to `DEMO_TELEMETRY_ENDPOINT` when the
/// demo is built with the `http` feature).
fn telemetry_context(consent: Consent) -> Option<TelemetryContext> {
    // Knobs for trying the delivery settings (the tests and `bench/exit.sh` use
    // them); a real tool fixes these in code.
    let millis = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .map(Duration::from_millis)
    };
    let mut builder = TelemetryContext::builder()
        .tool(telemetry::tool!("demo", env!("CARGO_PKG_VERSION")))
        .salt("demo-telemetry-v1")
        .local_log()
        .deadline(millis("DEMO_DEADLINE_MS").unwrap_or(Duration::from_millis(100)))
        .consent(match consent {
            Consent::OptIn => ConsentMode::OptIn,
            Consent::OptOut => ConsentMode::OptOut {
                notice: NOTICE.into(),
            },
        });
    if let Some(interval) = millis("DEMO_UPLOAD_INTERVAL_MS") {
        builder = builder.upload_interval(interval);
    }
    if let Some(limit) = millis("DEMO_UPLOAD_LIMIT_MS") {
        builder = builder.upload_time_limit(limit);
    }
    if std::env::var_os("DEMO_SEND_AT_EXIT").is_some() {
        builder = builder.send_mode(telemetry::SendMode::AtExit);
    }
    // Report mode: calls folded into a weekly report file (`<data dir>/reports/`)
    // instead of events in the local log.
    #[cfg(feature = "reports")]
    if std::env::var_os("DEMO_REPORTS").is_some() {
        builder = builder.reports(telemetry::ReportSettings::weekly());
    }
    #[cfg(feature = "http")]
    let builder = match std::env::var("DEMO_TELEMETRY_ENDPOINT") {
        Ok(url) if !url.is_empty() => {
            let loopback =
                url.starts_with("http://127.0.0.1:") || url.starts_with("http://localhost:");
            match telemetry::sink::HttpSink::builder(&url)
                .allow_insecure_http(loopback)
                .build()
            {
                Ok(sink) => builder.sink(sink),
                Err(e) => {
                    eprintln!("demo: telemetry endpoint ignored: {e}");
                    builder
                }
            }
        }
        _ => builder,
    };
    match builder.build() {
        Ok(ctx) => Some(ctx),
        Err(e) => {
            // Telemetry must never break the tool: say why once, carry on without it.
            eprintln!("demo: telemetry unavailable: {e}");
            None
        }
    }
}

/// The build profile, sent as `"debug"` or `"release"`: an enum, so it can never carry
/// free text.
#[derive(Debug, Clone, Copy, telemetry::SafeValue)]
enum Profile {
    Debug,
    Release,
}

fn build(release: bool, jobs: u16) -> Result<(), DemoError> {
    let profile = if release {
        Profile::Release
    } else {
        Profile::Debug
    };
    // The project is identified by a keyed hash of its directory, never by its path.
    let cwd = std::env::current_dir().unwrap_or_default();
    let project = telemetry::Hashed::new("project", cwd.as_os_str().as_encoded_bytes());
    compile(profile, jobs, project, &cwd)
}

#[track("cmd.build", attrs(target = "demo"), capture(profile, jobs, project))]
fn compile(
    profile: Profile,
    jobs: u16,
    project: telemetry::Hashed,
    dir: &std::path::Path,
) -> Result<(), DemoError> {
    std::thread::sleep(Duration::from_millis(5));
    eprintln!("demo: built {} ({profile:?}, {jobs} jobs)", dir.display());
    let _ = project;
    Ok(())
}

#[track("cmd.test")]
fn test() -> Result<(), DemoError> {
    std::thread::sleep(Duration::from_millis(2));
    eprintln!("demo: 3 tests passed");
    Ok(())
}

#[track("cmd.fail")]
fn fail() -> Result<(), DemoError> {
    Err(DemoError("this command always fails"))
}

#[track("cmd.watch")]
fn watch() -> Result<(), DemoError> {
    eprintln!("demo: watching for changes (Ctrl-C to stop)");
    loop {
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[track("cmd.crash")]
fn crash() -> Result<(), DemoError> {
    let steps: Vec<u8> = Vec::new();
    // A bug: indexing an empty list.
    Err(DemoError(if steps[0] == 0 { "zero" } else { "other" }))
}

#[allow(
    clippy::print_stdout,
    reason = "printing the log is this command's output, on the user's request"
)]
fn events() -> Result<(), DemoError> {
    let Some(path) = telemetry::global().and_then(|c| c.local_log_path().map(|p| p.to_owned()))
    else {
        return Err(DemoError("no local event log is configured"));
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            eprintln!("demo: events recorded in {}:", path.display());
            print!("{text}");
            Ok(())
        }
        Err(_) => {
            eprintln!(
                "demo: no events recorded yet in {} (telemetry is opt-in: DEMO_TELEMETRY=1)",
                path.display()
            );
            Ok(())
        }
    }
}
