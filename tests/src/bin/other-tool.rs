//! Test helper: a second tool built with `telemetry`, named `other` (its own config
//! file, data dir and `OTHER_*` variables), opt-in, keeping a local log, with the
//! ready-made `telemetry` subcommand. Shows what one switch for every tool does to a
//! tool other than the one that set it.
//!
//! Usage: `other-tool run` (records `cmd.run`) | `other-tool telemetry <command>`

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use telemetry::cli::TelemetryCommand;
use telemetry::{TelemetryContext, track};

#[derive(Parser)]
#[command(name = "other")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Do the work (one event).
    Run,
    /// Inspect or change telemetry.
    #[command(subcommand)]
    Telemetry(TelemetryCommand),
}

fn main() -> ExitCode {
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("other", "2.0.0"))
        .local_log()
        .build()
        .ok();
    let _guard = ctx.clone().map(telemetry::init);
    match Cli::parse().command {
        Command::Run => {
            run();
            ExitCode::SUCCESS
        }
        Command::Telemetry(cmd) => match &ctx {
            Some(ctx) => cmd.run_to_exit_code(ctx),
            None => ExitCode::FAILURE,
        },
    }
}

#[track("cmd.run")]
fn run() {}
