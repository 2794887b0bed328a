//! `mytool telemetry <command>`: the user's controls (feature `clap`).
//!
//! ```
//! use clap::{Parser, Subcommand};
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(subcommand)]
//!     command: Command,
//! }
//!
//! #[derive(Subcommand)]
//! enum Command {
//!     /// Build the project.
//!     Build,
//!     /// Inspect or change telemetry.
//!     #[command(subcommand)]
//!     Telemetry(telemetry::cli::TelemetryCommand),
//! }
//!
//! let cli = Cli::parse_from(["mytool", "telemetry", "status", "--json"]);
//! assert!(matches!(cli.command, Command::Telemetry(_)));
//! // In main: `Command::Telemetry(cmd) => return cmd.run_to_exit_code(&ctx),`
//! ```

mod actions;
mod status;

use std::io::Write;
use std::process::ExitCode;

use crate::context::TelemetryContext;
use crate::error::TelemetryError;

pub use status::{RefusedPath, Status};

/// The `telemetry` subcommand a tool nests into its own CLI.
///
/// ```
/// use clap::Parser;
///
/// #[derive(Parser)]
/// struct Cli {
///     #[command(subcommand)]
///     telemetry: telemetry::cli::TelemetryCommand,
/// }
/// let cli = Cli::parse_from(["mytool", "disable", "--all-tools"]);
/// assert!(matches!(cli.telemetry, telemetry::cli::TelemetryCommand::Disable { all_tools: true }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
#[non_exhaustive]
pub enum TelemetryCommand {
    /// Show whether telemetry is on, which rule decided it, and what is stored where.
    Status {
        /// Print the status as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Turn telemetry on (saved in the config file).
    Enable {
        /// For every tool built with the same telemetry library (saved in a file they
        /// all read), not only this one.
        #[arg(long)]
        all_tools: bool,
    },
    /// Turn telemetry off (saved) and delete every event not sent yet.
    Disable {
        /// For every tool built with the same telemetry library (saved in a file they
        /// all read), not only this one.
        #[arg(long)]
        all_tools: bool,
    },
    /// Delete every trace: unsent events, install id and key; ask the backend to delete
    /// this machine's data (only if telemetry was ever enabled here and DO_NOT_TRACK, CI
    /// or the tool's variables do not forbid sending); turn telemetry off.
    Reset,
    /// Print, as JSON, every event this tool can send, with its attribute keys and kinds.
    Schema,
}

impl TelemetryCommand {
    /// Runs the command, writing its report to standard output.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink)
    /// #     .env(telemetry::consent::Env::empty().with_config_dir(dir.path())).build().unwrap();
    /// telemetry::cli::TelemetryCommand::Schema.run(&ctx)?;
    /// # Ok::<(), telemetry::TelemetryError>(())
    /// ```
    pub fn run(&self, ctx: &TelemetryContext) -> Result<(), TelemetryError> {
        self.run_with_output(ctx, &mut std::io::stdout().lock())
    }

    /// Runs the command, writing its report to `out`.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink)
    /// #     .env(telemetry::consent::Env::empty().with_config_dir(dir.path())).build().unwrap();
    /// let mut out = Vec::new();
    /// telemetry::cli::TelemetryCommand::Status { json: true }.run_with_output(&ctx, &mut out)?;
    /// let status: serde_json::Value = serde_json::from_slice(&out).unwrap();
    /// assert_eq!(status["enabled"], false);
    /// # Ok::<(), telemetry::TelemetryError>(())
    /// ```
    pub fn run_with_output(
        &self,
        ctx: &TelemetryContext,
        out: &mut dyn Write,
    ) -> Result<(), TelemetryError> {
        match self {
            Self::Status { json } => status::run(ctx, *json, out),
            Self::Enable { all_tools } => actions::enable(ctx, *all_tools, out),
            Self::Disable { all_tools } => actions::disable(ctx, *all_tools, out),
            Self::Reset => actions::reset(ctx, out),
            Self::Schema => schema(out),
        }
    }

    /// Runs the command and turns the result into the process's exit code: 0 on
    /// success; otherwise the error is printed as a diagnostic on standard error and the
    /// code is 1.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink)
    /// #     .env(telemetry::consent::Env::empty().with_config_dir(dir.path())).build().unwrap();
    /// let code = telemetry::cli::TelemetryCommand::Schema.run_to_exit_code(&ctx);
    /// assert_eq!(code, std::process::ExitCode::SUCCESS);
    /// ```
    pub fn run_to_exit_code(&self, ctx: &TelemetryContext) -> ExitCode {
        match self.run(ctx) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                let _ = write_diagnostic(&mut std::io::stderr().lock(), ctx.tool(), &e);
                ExitCode::FAILURE
            }
        }
    }
}

/// Writes `error` as a short diagnostic: code, message, causes, help.
pub(crate) fn write_diagnostic(
    out: &mut dyn Write,
    tool: &str,
    error: &TelemetryError,
) -> std::io::Result<()> {
    use miette::Diagnostic;
    let code = error
        .code()
        .map_or_else(|| "telemetry".to_owned(), |c| c.to_string());
    writeln!(out, "{tool}: error[{code}]: {error}")?;
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        writeln!(out, "  caused by: {cause}")?;
        source = cause.source();
    }
    if let Some(help) = error.help() {
        writeln!(out, "  help: {help}")?;
    }
    Ok(())
}

fn schema(out: &mut dyn Write) -> Result<(), TelemetryError> {
    let events = crate::catalog::events();
    let json = serde_json::to_string_pretty(&serde_json::json!({ "events": events })).map_err(
        |source| TelemetryError::Serde {
            what: "the event catalog",
            source,
        },
    )?;
    writeln!(out, "{json}").map_err(|e| TelemetryError::io("write to", "stdout", e))
}
