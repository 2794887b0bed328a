//! The `telemetry` subcommand's command line, written with clap's builder API: one
//! definition serves builder hosts ([`TelemetryCommand::command`],
//! [`TelemetryCommand::from_matches`]) and derive hosts (the [`clap::Subcommand`] and
//! [`clap::FromArgMatches`] implementations below, which `#[command(subcommand)]`
//! calls), with no `clap_derive` in the library.
//!
//! Every text here is what the tool's users read in `mytool telemetry --help`.

use clap::error::ErrorKind;
use clap::{Arg, ArgAction, ArgMatches, Command};

use super::TelemetryCommand;

/// The subcommand's name in the host's command line.
const NAME: &str = "telemetry";

/// What `mytool --help` and `mytool telemetry --help` say about the subcommand.
const ABOUT: &str = "See and change what anonymous usage data this tool may collect";

const STATUS: &str = "status";
const ENABLE: &str = "enable";
const DISABLE: &str = "disable";
const RESET: &str = "reset";
const SCHEMA: &str = "schema";
const LOCAL: &str = "local";
#[cfg(feature = "reports")]
const REPORT: &str = "report";
#[cfg(feature = "reports")]
const NAMES: &[&str] = &[STATUS, ENABLE, DISABLE, LOCAL, REPORT, RESET, SCHEMA];
#[cfg(not(feature = "reports"))]
const NAMES: &[&str] = &[STATUS, ENABLE, DISABLE, LOCAL, RESET, SCHEMA];

const JSON: &str = "json";
const ALL_TOOLS: &str = "all-tools";
const ALL_TOOLS_HELP: &str = "For every tool built with the same telemetry library (saved in a file they all read), \
     not only this one";
const MARKDOWN: &str = "markdown";

/// The commands, as subcommands of whatever the host nests them in.
fn subcommands() -> Vec<Command> {
    #[cfg_attr(not(feature = "reports"), allow(unused_mut))]
    let mut commands = vec![
        Command::new(STATUS)
            .about("Show whether telemetry is on, which rule decided it, and what is stored where")
            .arg(flag(JSON, "Print the status as JSON")),
        Command::new(ENABLE)
            .about("Turn telemetry on (saved in the config file)")
            .arg(flag(ALL_TOOLS, ALL_TOOLS_HELP)),
        Command::new(DISABLE)
            .about("Turn telemetry off (saved) and delete every event not sent yet")
            .arg(flag(ALL_TOOLS, ALL_TOOLS_HELP)),
        Command::new(LOCAL).about(
            "Keep usage data on this machine only: recorded for you to read, never sent (saved)",
        ),
        Command::new(RESET).about(
            "Delete every trace: unsent events, install id and key; ask the backend to delete \
             this machine's data (only if telemetry was ever enabled here and DO_NOT_TRACK, CI \
             or the tool's variables do not forbid sending); turn telemetry off",
        ),
        Command::new(SCHEMA)
            .about("List every event this tool can send, with every field and attribute")
            .arg(flag(
                MARKDOWN,
                "Print Markdown tables (to paste into documentation) instead of JSON",
            )),
    ];
    #[cfg(feature = "reports")]
    commands.insert(
        4,
        Command::new(REPORT)
            .about("Show the usage reports kept on this machine (report mode): runs, errors and durations per command")
            .arg(flag(JSON, "Print each report as JSON, byte for byte what a JSON endpoint receives (an OTLP collector gets the same numbers as metrics)")),
    );
    commands
}

fn flag(id: &'static str, help: &'static str) -> Arg {
    Arg::new(id).long(id).action(ArgAction::SetTrue).help(help)
}

/// Adds the commands to `cmd`; gives it the subcommand's `about` unless it has
/// one (a host's doc comment or `about` is applied after this and wins anyway).
fn augment(cmd: Command) -> Command {
    let cmd = if cmd.get_about().is_none() {
        cmd.about(ABOUT)
    } else {
        cmd
    };
    cmd.subcommands(subcommands())
}

impl TelemetryCommand {
    /// The `telemetry` subcommand for a command line built with clap's builder API:
    /// `status [--json]`, `enable [--all-tools]`, `disable [--all-tools]`, `local`,
    /// `report [--json]`, `reset`, `schema [--markdown]`, with
    /// help text written for the tool's users. Rename it with
    /// [`Command::name`] if `telemetry` does not suit.
    ///
    /// ```
    /// let cli = clap::Command::new("mytool").subcommand(telemetry::cli::TelemetryCommand::command());
    /// let help = cli.find_subcommand("telemetry").unwrap().get_about().unwrap().to_string();
    /// assert_eq!(help, "See and change what anonymous usage data this tool may collect");
    /// ```
    pub fn command() -> Command {
        augment(Command::new(NAME))
            .subcommand_required(true)
            .arg_required_else_help(true)
    }

    /// The command the user asked for, from the matches of the `telemetry`
    /// subcommand (the `sub` of `Some(("telemetry", sub)) = matches.subcommand()`).
    ///
    /// ```
    /// use telemetry::cli::TelemetryCommand;
    ///
    /// let cli = clap::Command::new("mytool").subcommand(TelemetryCommand::command());
    /// let matches = cli.try_get_matches_from(["mytool", "telemetry", "schema", "--markdown"])?;
    /// let sub = matches.subcommand_matches("telemetry").unwrap();
    /// assert_eq!(TelemetryCommand::from_matches(sub)?, TelemetryCommand::Schema { markdown: true });
    /// # Ok::<(), clap::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`clap::Error`] (print it with [`clap::Error::exit`]) when `matches` holds no
    /// subcommand or one this type does not know, which happens only if they come from
    /// another command than [`command`](Self::command).
    pub fn from_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        match matches.subcommand() {
            Some((name, sub)) => Self::from_subcommand(name, sub),
            None => Err(clap::Error::raw(
                ErrorKind::MissingSubcommand,
                format!("a subcommand is required: {}\n", NAMES.join(", ")),
            )),
        }
    }

    fn from_subcommand(name: &str, sub: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(match name {
            STATUS => Self::Status {
                json: flag_value(sub, JSON)?,
            },
            ENABLE => Self::Enable {
                all_tools: flag_value(sub, ALL_TOOLS)?,
            },
            DISABLE => Self::Disable {
                all_tools: flag_value(sub, ALL_TOOLS)?,
            },
            LOCAL => Self::Local,
            #[cfg(feature = "reports")]
            REPORT => Self::Report {
                json: flag_value(sub, JSON)?,
            },
            RESET => Self::Reset,
            SCHEMA => Self::Schema {
                markdown: flag_value(sub, MARKDOWN)?,
            },
            other => {
                return Err(clap::Error::raw(
                    ErrorKind::InvalidSubcommand,
                    format!(
                        "unrecognized subcommand '{other}' (expected one of: {})\n",
                        NAMES.join(", ")
                    ),
                ));
            }
        })
    }
}

/// A `SetTrue` flag; `false` when the matches do not define it (a command built by the
/// host without it). Never panics, unlike `ArgMatches::get_flag`.
fn flag_value(matches: &ArgMatches, id: &str) -> Result<bool, clap::Error> {
    match matches.try_get_one::<bool>(id) {
        Ok(value) => Ok(value.copied().unwrap_or(false)),
        Err(clap::parser::MatchesError::UnknownArgument { .. }) => Ok(false),
        Err(e) => Err(clap::Error::raw(
            ErrorKind::InvalidValue,
            format!("--{id}: {e}\n"),
        )),
    }
}

/// For `#[command(subcommand)]` in a derive host: the same commands and help.
impl clap::Subcommand for TelemetryCommand {
    fn augment_subcommands(cmd: Command) -> Command {
        augment(cmd)
    }

    fn augment_subcommands_for_update(cmd: Command) -> Command {
        augment(cmd)
    }

    fn has_subcommand(name: &str) -> bool {
        NAMES.contains(&name)
    }
}

/// For `#[command(subcommand)]` in a derive host: reads what
/// [`TelemetryCommand::from_matches`] reads.
impl clap::FromArgMatches for TelemetryCommand {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Self::from_matches(matches)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        if matches.subcommand().is_some() {
            *self = Self::from_matches(matches)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use clap::{FromArgMatches, Subcommand};

    use super::*;

    fn parse(args: &[&str]) -> Result<TelemetryCommand, clap::Error> {
        let cli = Command::new("mytool").subcommand(TelemetryCommand::command());
        let matches = cli.try_get_matches_from(args)?;
        TelemetryCommand::from_matches(matches.subcommand_matches(NAME).unwrap())
    }

    #[test]
    fn every_command_parses() {
        let t = |rest: &[&str]| {
            let mut args = vec!["mytool", "telemetry"];
            args.extend_from_slice(rest);
            parse(&args).unwrap()
        };
        assert_eq!(t(&["status"]), TelemetryCommand::Status { json: false });
        assert_eq!(
            t(&["status", "--json"]),
            TelemetryCommand::Status { json: true }
        );
        assert_eq!(
            t(&["enable"]),
            TelemetryCommand::Enable { all_tools: false }
        );
        assert_eq!(
            t(&["disable", "--all-tools"]),
            TelemetryCommand::Disable { all_tools: true }
        );
        assert_eq!(t(&["reset"]), TelemetryCommand::Reset);
        assert_eq!(t(&["local"]), TelemetryCommand::Local);
        #[cfg(feature = "reports")]
        {
            assert_eq!(t(&["report"]), TelemetryCommand::Report { json: false });
            assert_eq!(
                t(&["report", "--json"]),
                TelemetryCommand::Report { json: true }
            );
        }
        assert_eq!(t(&["schema"]), TelemetryCommand::Schema { markdown: false });
        assert_eq!(
            t(&["schema", "--markdown"]),
            TelemetryCommand::Schema { markdown: true }
        );
        for name in NAMES {
            assert!(TelemetryCommand::has_subcommand(name), "{name}");
        }
        assert!(!TelemetryCommand::has_subcommand("telemetry"));
    }

    #[test]
    fn bad_input_is_a_clap_error_not_a_panic() {
        let missing = parse(&["mytool", "telemetry"]).unwrap_err();
        assert_eq!(
            missing.kind(),
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        );
        let unknown = parse(&["mytool", "telemetry", "stats"]).unwrap_err();
        assert_eq!(unknown.kind(), ErrorKind::InvalidSubcommand);
        assert!(parse(&["mytool", "telemetry", "enable", "--json"]).is_err());

        // Matches from another command than ours: errors, never a panic.
        let other = Command::new("x")
            .subcommand(Command::new("status"))
            .subcommand(Command::new("other"))
            .try_get_matches_from(["x", "status"])
            .unwrap();
        assert_eq!(
            TelemetryCommand::from_matches(&other).unwrap(),
            TelemetryCommand::Status { json: false },
            "a missing flag reads as not given"
        );
        let other = Command::new("x")
            .subcommand(Command::new("other"))
            .try_get_matches_from(["x", "other"])
            .unwrap();
        assert_eq!(
            TelemetryCommand::from_matches(&other).unwrap_err().kind(),
            ErrorKind::InvalidSubcommand
        );
        let none = Command::new("x").try_get_matches_from(["x"]).unwrap();
        assert_eq!(
            TelemetryCommand::from_arg_matches(&none)
                .unwrap_err()
                .kind(),
            ErrorKind::MissingSubcommand
        );
        let typed = Command::new("x")
            .subcommand(Command::new("status").arg(Arg::new("json").long("json")))
            .try_get_matches_from(["x", "status", "--json", "yes"])
            .unwrap();
        assert!(TelemetryCommand::from_matches(&typed).is_err());
    }

    #[test]
    fn the_about_is_for_users_and_a_host_about_wins() {
        let ours = TelemetryCommand::command();
        assert_eq!(ours.get_about().unwrap().to_string(), ABOUT);
        assert_eq!(ours.get_long_about(), None);
        let host = TelemetryCommand::augment_subcommands(Command::new("t").about("Mine"));
        assert_eq!(host.get_about().unwrap().to_string(), "Mine");
        for sub in ours.get_subcommands() {
            let about = sub.get_about().unwrap().to_string();
            assert!(!about.contains('`') && !about.ends_with('.'), "{about}");
        }
    }

    #[test]
    fn update_replaces_the_command_given() {
        let cli = Command::new("t").subcommands(subcommands());
        let matches = cli.try_get_matches_from(["t", "schema"]).unwrap();
        let mut cmd = TelemetryCommand::Enable { all_tools: false };
        cmd.update_from_arg_matches(&matches).unwrap();
        assert_eq!(cmd, TelemetryCommand::Schema { markdown: false });
        let empty = Command::new("t").try_get_matches_from(["t"]).unwrap();
        cmd.update_from_arg_matches(&empty).unwrap();
        assert_eq!(cmd, TelemetryCommand::Schema { markdown: false });
    }
}
