//! `demo-not-linked`: the example tool `demo` without telemetry, for measuring what
//! linking (and disabling) telemetry costs a whole process (see `bench/exit.sh`).
//!
//! Same clap CLI and the same work per command as `examples/demo.rs`; the `telemetry`
//! subcommand is absent and nothing from the `telemetry` crate is used, so it is not
//! linked.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "demo",
    version,
    about = "A tiny build tool that shows what telemetry records"
)]
struct Cli {
    /// How this demo asks for consent (to try both modes).
    #[arg(long, value_enum, default_value_t = Consent::OptIn, global = true, hide = true)]
    consent: Consent,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Consent {
    OptIn,
    OptOut,
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
        /// Leave through `std::process::exit(CODE)` instead of returning from `main`.
        #[arg(long, hide = true)]
        exit: Option<i32>,
    },
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
    let cli = Cli::parse();
    let _ = cli.consent;
    let result = match cli.command {
        Command::Build { release, jobs } => build(release, jobs),
        Command::Test => test(),
        Command::Fail { exit } => {
            if let Some(code) = exit {
                eprintln!("demo: this command always fails");
                std::process::exit(code);
            }
            Err(DemoError("this command always fails"))
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

#[derive(Debug, Clone, Copy)]
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
    let cwd = std::env::current_dir().unwrap_or_default();
    std::thread::sleep(Duration::from_millis(5));
    eprintln!("demo: built {} ({profile:?}, {jobs} jobs)", cwd.display());
    Ok(())
}

fn test() -> Result<(), DemoError> {
    std::thread::sleep(Duration::from_millis(2));
    eprintln!("demo: 3 tests passed");
    Ok(())
}
