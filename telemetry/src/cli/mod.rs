//! `mytool telemetry <command>`: the user's controls (feature `clap`).
//!
//! [`TelemetryCommand`] nests into a tool's command line either way clap is used. Its
//! help text is written for the tool's users (`mytool telemetry --help` says what
//! telemetry is and lists the commands), never this crate's documentation; a host's
//! own doc comment or `about` on the nesting variant wins over it.
//!
//! **Builder API** (handlers taking `&ArgMatches`, `fn main()` returning `()`):
//!
//! ```
//! use clap::Command;
//! use telemetry::cli::TelemetryCommand;
//!
//! let cli = Command::new("mytool")
//!     .subcommand(Command::new("build").about("Build the project"))
//!     .subcommand(TelemetryCommand::command());
//! let matches = cli.try_get_matches_from(["mytool", "telemetry", "status", "--json"])?;
//! match matches.subcommand() {
//!     Some(("telemetry", sub)) => {
//!         let cmd = TelemetryCommand::from_matches(sub)?;
//!         assert_eq!(cmd, TelemetryCommand::Status { json: true });
//!         // In main: `cmd.run_and_exit(&ctx)`, which ends the process through
//!         // `telemetry::exit` with 0 or 1.
//!     }
//!     _ => unreachable!(),
//! }
//! # Ok::<(), clap::Error>(())
//! ```
//!
//! **Derive API**:
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
//!     #[command(subcommand)]
//!     Telemetry(telemetry::cli::TelemetryCommand),
//! }
//!
//! let cli = Cli::parse_from(["mytool", "telemetry", "status", "--json"]);
//! assert!(matches!(cli.command, Command::Telemetry(_)));
//! // In main: `Command::Telemetry(cmd) => return cmd.run_to_exit_code(&ctx),`
//! ```
//!
//! The `clap` feature needs only clap's builder (`clap_builder`): the subcommand is
//! written with the builder API and implements [`clap::Subcommand`] and
//! [`clap::FromArgMatches`] by hand, so a host that does not derive pulls no
//! `clap_derive`.

mod actions;
mod args;
#[cfg(feature = "reports")]
mod report;
mod status;

use std::io::Write;
use std::process::ExitCode;

use crate::context::TelemetryContext;
use crate::error::TelemetryError;

pub use status::{RefusedPath, Status};

/// The `telemetry` subcommand a tool nests into its own command line: `status`,
/// `enable`, `disable`, `reset`, `schema`.
///
/// Parsed from the command line with [`command`](Self::command) and
/// [`from_matches`](Self::from_matches) (builder API), or as a
/// `#[command(subcommand)]` (derive API): see the [module docs](self).
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
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TelemetryCommand {
    /// `status [--json]`: whether telemetry is on, which rule decided it, and what is
    /// stored where.
    Status {
        /// Print the status as JSON.
        json: bool,
    },
    /// `enable [--all-tools]`: turn telemetry on (saved in the config file).
    Enable {
        /// For every tool built with this library (saved in a file they all read),
        /// not only this one.
        all_tools: bool,
    },
    /// `disable [--all-tools]`: turn telemetry off (saved) and delete every event not
    /// sent yet.
    Disable {
        /// For every tool built with this library (saved in a file they all read),
        /// not only this one.
        all_tools: bool,
    },
    /// `local`: keep usage data on this machine only (level `local`, saved in the
    /// config file): recorded for the user to read, never sent.
    Local,
    /// `report [--json]`: the reports kept on this machine (report mode, feature
    /// `reports`), as a table per period, or each exactly as it would be uploaded.
    #[cfg(feature = "reports")]
    Report {
        /// Print each report's JSON (the bytes `HttpSink` uploads) instead of tables.
        json: bool,
    },
    /// `reset`: delete every trace (unsent events, install id, key, local log); ask the
    /// backend to delete this machine's data (only if telemetry was ever enabled here
    /// and nothing in the environment forbids sending); turn telemetry off.
    Reset,
    /// `schema [--markdown]`: every event this tool can send, with every field and
    /// attribute, as JSON or as Markdown tables (see
    /// [`TelemetryContext::schema`]).
    Schema {
        /// Print Markdown tables instead of JSON.
        markdown: bool,
    },
}

impl TelemetryCommand {
    /// Runs the command, writing its report to standard output.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink)
    /// #     .env(telemetry::consent::Env::empty().with_config_dir(dir.path())).build().unwrap();
    /// telemetry::cli::TelemetryCommand::Schema { markdown: false }.run(&ctx)?;
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
            Self::Local => actions::local(ctx, out),
            #[cfg(feature = "reports")]
            Self::Report { json } => report::run(ctx, *json, out),
            Self::Reset => actions::reset(ctx, out),
            Self::Schema { markdown } => schema(ctx, *markdown, out),
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
    /// let code = telemetry::cli::TelemetryCommand::Schema { markdown: true }.run_to_exit_code(&ctx);
    /// assert_eq!(code, std::process::ExitCode::SUCCESS);
    /// ```
    pub fn run_to_exit_code(&self, ctx: &TelemetryContext) -> ExitCode {
        if self.run_reporting(ctx) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }

    /// Runs the command and ends the process, for a `main` that returns `()`: exit
    /// code 0 on success; otherwise the error is printed as a diagnostic on standard
    /// error and the code is 1. Leaves through [`telemetry::exit`](crate::exit), so
    /// the installed context writes out what it recorded first, as its guard would.
    ///
    /// ```no_run
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).build().unwrap();
    /// fn main_of_a_builder_tool(matches: &clap::ArgMatches, ctx: &telemetry::TelemetryContext) {
    ///     if let Some(("telemetry", sub)) = matches.subcommand() {
    ///         match telemetry::cli::TelemetryCommand::from_matches(sub) {
    ///             Ok(cmd) => cmd.run_and_exit(ctx),
    ///             Err(e) => e.exit(),
    ///         }
    ///     }
    /// }
    /// ```
    pub fn run_and_exit(&self, ctx: &TelemetryContext) -> ! {
        let code = if self.run_reporting(ctx) { 0 } else { 1 };
        crate::global::exit(code)
    }

    /// Runs the command; an error is printed on standard error. Whether it succeeded.
    fn run_reporting(&self, ctx: &TelemetryContext) -> bool {
        match self.run(ctx) {
            Ok(()) => true,
            Err(e) => {
                let _ = write_diagnostic(&mut std::io::stderr().lock(), ctx.tool(), &e);
                false
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

fn schema(
    ctx: &TelemetryContext,
    markdown: bool,
    out: &mut dyn Write,
) -> Result<(), TelemetryError> {
    let schema = ctx.schema();
    let text = if markdown {
        schema.to_markdown()
    } else {
        let mut json = schema.to_json();
        json.push('\n');
        json
    };
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| TelemetryError::io("write to", "stdout", e))
}
