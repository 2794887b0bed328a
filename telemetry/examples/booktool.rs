//! `booktool`: a tool whose command line is built with clap's **builder API**, the way
//! many real tools are (mdBook, for one): handlers take `&ArgMatches`, `main` returns
//! `()`, and an error ends the process with `exit(101)`.
//!
//! Telemetry is opt-in: nothing is recorded until the user runs `booktool telemetry
//! enable` or sets `BOOKTOOL_TELEMETRY=1` for one run. Events go to the local log
//! (`<data dir>/booktool/telemetry/events.jsonl`).
//!
//! ```text
//! booktool telemetry enable
//! booktool build --open
//! booktool telemetry schema --markdown
//! ```

use clap::{Arg, ArgAction, ArgMatches, Command};
use telemetry::cli::TelemetryCommand;
use telemetry::{TelemetryContext, track};

fn cli() -> Command {
    Command::new("booktool")
        .about("A tiny book builder whose command line uses clap's builder API")
        .version(env!("CARGO_PKG_VERSION"))
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(
            Command::new("build")
                .about("Pretend to build the book")
                .arg(
                    Arg::new("open")
                        .long("open")
                        .action(ArgAction::SetTrue)
                        .help("Open the book in a browser afterwards"),
                ),
        )
        .subcommand(Command::new("fail").about("A command that fails (exit code 101)"))
        // `telemetry status|enable|disable|reset|schema`, with its own help text.
        .subcommand(TelemetryCommand::command())
}

fn main() {
    // Telemetry first, before the arguments are parsed: `init` recognises the
    // detached uploader (this executable, started with `--telemetry-uploader`).
    let ctx = match TelemetryContext::builder()
        .tool(telemetry::tool!("booktool", env!("CARGO_PKG_VERSION")))
        // On every event; `telemetry schema` lists it with its kind.
        .default_attrs(telemetry::attrs!(
            interactive = std::io::IsTerminal::is_terminal(&std::io::stderr())
        ))
        .local_log()
        .build()
    {
        Ok(ctx) => Some(ctx),
        Err(e) => {
            // Telemetry must never break the tool: say why once, carry on without it.
            eprintln!("booktool: telemetry unavailable: {e}");
            None
        }
    };
    let _guard = ctx.clone().map(telemetry::init);

    let matches = cli().get_matches();
    let result = match matches.subcommand() {
        Some(("build", args)) => build(args),
        Some(("fail", args)) => fail(args),
        Some(("telemetry", args)) => match (TelemetryCommand::from_matches(args), &ctx) {
            // Prints its report, then leaves through `telemetry::exit` (0 or 1).
            (Ok(cmd), Some(ctx)) => cmd.run_and_exit(ctx),
            (Ok(_), None) => telemetry::exit(1),
            (Err(e), _) => e.exit(),
        },
        _ => Ok(()),
    };
    if let Err(e) = result {
        eprintln!("booktool: {e}");
        // Not `std::process::exit`, which skips the guard: the run's events would be
        // lost. `telemetry::exit` writes them out first.
        telemetry::exit(101);
    }
}

/// The handler, as builder-API tools write them: it reads what it needs from the
/// matches and calls the tracked function with values that cannot carry text.
fn build(args: &ArgMatches) -> Result<(), BookError> {
    build_book(args.get_flag("open"))?;
    // An event that is not a function call (it is in `telemetry schema` too).
    let _ = telemetry::record!("book.rendered", chapters = 3_u32);
    Ok(())
}

#[track("cmd.build", capture(open))]
fn build_book(open: bool) -> Result<(), BookError> {
    eprintln!(
        "booktool: book built{}",
        if open { " (and opened)" } else { "" }
    );
    Ok(())
}

fn fail(_args: &ArgMatches) -> Result<(), BookError> {
    fail_to_render()
}

#[track("cmd.fail")]
fn fail_to_render() -> Result<(), BookError> {
    Err(BookError("the book could not be rendered"))
}

#[derive(Debug)]
struct BookError(&'static str);

impl std::fmt::Display for BookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for BookError {}
