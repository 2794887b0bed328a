//! Test helper: a tool whose command line uses clap's derive API and nests the
//! `telemetry` subcommand through a variant **without a doc comment**, so the help
//! text shown for it is whatever `TelemetryCommand` itself provides.
//!
//! Usage: `derive-host telemetry <command>` (tool name `derive-host`).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use telemetry::TelemetryContext;
use telemetry::cli::TelemetryCommand;

#[derive(Parser)]
#[command(name = "derive-host", about = "A derive-API host")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    #[command(subcommand)]
    Telemetry(TelemetryCommand),
}

fn main() -> ExitCode {
    let Ok(ctx) = TelemetryContext::builder()
        .tool(telemetry::tool!("derive-host", "1.0.0"))
        .local_log()
        .build()
    else {
        return ExitCode::FAILURE;
    };
    let _guard = telemetry::init(ctx.clone());
    match Cli::parse().command {
        Cmd::Telemetry(cmd) => cmd.run_to_exit_code(&ctx),
    }
}
