//! The `telemetry` subcommand nested in real tools, run as a user runs them: the
//! builder-API example (`booktool`: `TelemetryCommand::command()`, `from_matches`,
//! `run_and_exit`), a derive-API host whose variant has no doc comment
//! (`derive-host`), and the demo. Each is a real process with a temporary `HOME`.

use std::path::Path;
use std::process::Output;

use telemetry_tests::command_in_home;
#[cfg(feature = "collect")]
use telemetry_tests::read_events;

/// What `mytool telemetry --help` says about the subcommand (`cli/args.rs`).
const ABOUT: &str = "See and change what anonymous usage data this tool may collect";

fn run(exe: &str, home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = command_in_home(exe, home);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the host binary runs")
}

fn booktool(home: &Path, args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_booktool"), home, args, &[])
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Help written for the tool's users: our about and the five commands, and nothing
/// of this crate's rustdoc (Markdown, code, type names).
#[track_caller]
fn assert_user_facing(help: &str) {
    for leak in [
        "`",
        "```",
        "use clap",
        "TelemetryCommand",
        "nests into",
        "#[",
        "::",
    ] {
        assert!(!help.contains(leak), "{leak:?} in the help:\n{help}");
    }
}

#[test]
fn telemetry_help_is_for_users_in_every_host() {
    let home = tempfile::tempdir().unwrap();
    for exe in [
        env!("CARGO_BIN_EXE_booktool"),
        env!("CARGO_BIN_EXE_derive-host"),
    ] {
        let out = run(exe, home.path(), &["telemetry", "--help"], &[]);
        assert!(out.status.success(), "{exe}: {out:?}");
        let help = text(&out.stdout);
        assert!(help.starts_with(ABOUT), "{exe}:\n{help}");
        for command in ["status", "enable", "disable", "reset", "schema"] {
            assert!(
                help.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{command} "))),
                "{exe}: no {command} in\n{help}"
            );
        }
        assert_user_facing(&help);

        // The tool's own help lists the subcommand with the same line.
        let top = run(exe, home.path(), &["--help"], &[]);
        let top = text(&top.stdout);
        assert!(
            top.lines()
                .any(|l| l.trim_start().starts_with("telemetry ") && l.ends_with(ABOUT)),
            "{exe}:\n{top}"
        );
        assert_user_facing(&top);

        let schema = run(exe, home.path(), &["telemetry", "schema", "--help"], &[]);
        let schema = text(&schema.stdout);
        assert!(schema.contains("--markdown"), "{exe}:\n{schema}");
        assert_user_facing(&schema);
    }
    telemetry_tests::assert_no_files(home.path());
}

/// A host's doc comment on its variant is its choice, and wins.
#[test]
fn a_hosts_own_about_wins() {
    let home = tempfile::tempdir().unwrap();
    let out = run(
        env!("CARGO_BIN_EXE_demo"),
        home.path(),
        &["telemetry", "--help"],
        &[],
    );
    assert!(out.status.success(), "{out:?}");
    let help = text(&out.stdout);
    assert!(
        help.starts_with("Inspect or change telemetry: status, enable, disable, reset, schema"),
        "{help}"
    );
    assert!(!help.contains(ABOUT), "{help}");
}

#[cfg(feature = "collect")]
#[test]
fn the_builder_host_parses_and_runs_every_command() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join(".config/booktool/telemetry.json");
    let log = home
        .path()
        .join(".local/share/booktool/telemetry/events.jsonl");

    let status = booktool(home.path(), &["telemetry", "status", "--json"]);
    assert_eq!(status.status.code(), Some(0), "{status:?}");
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(json["tool"], "booktool");
    assert_eq!(json["enabled"], false);

    let enable = booktool(home.path(), &["telemetry", "enable"]);
    assert_eq!(enable.status.code(), Some(0), "{enable:?}");
    assert!(text(&enable.stdout).starts_with("telemetry enabled (saved in "));
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(file["enabled"], true);

    let build = booktool(home.path(), &["build", "--open"]);
    assert_eq!(build.status.code(), Some(0), "{build:?}");
    // An error ends the run through `telemetry::exit(101)`: code kept, event kept.
    let fail = booktool(home.path(), &["fail"]);
    assert_eq!(fail.status.code(), Some(101), "{fail:?}");
    let events = read_events(&log);
    let names: Vec<_> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["cmd.build", "book.rendered", "cmd.fail"]);
    assert_eq!(events[0].attrs["open"], true);
    assert_eq!(
        events[0].attrs["interactive"], false,
        "the default attribute"
    );
    assert_eq!(events[1].attrs["chapters"], 3);
    assert_eq!(events[2].outcome, telemetry::Outcome::Error);

    let status = booktool(home.path(), &["telemetry", "status"]);
    assert_eq!(status.status.code(), Some(0), "{status:?}");
    assert!(text(&status.stdout).starts_with("telemetry:    enabled"));

    let disable = booktool(home.path(), &["telemetry", "disable"]);
    assert_eq!(disable.status.code(), Some(0), "{disable:?}");
    assert!(text(&disable.stdout).contains("telemetry disabled (saved in "));
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(file["enabled"], false);
    let json: serde_json::Value =
        serde_json::from_slice(&booktool(home.path(), &["telemetry", "status", "--json"]).stdout)
            .unwrap();
    assert_eq!(
        (&json["enabled"], &json["decided_by"]),
        (&serde_json::json!(false), &serde_json::json!("config_file"))
    );
    assert_eq!(
        read_events(&log).len(),
        3,
        "nothing recorded while disabled"
    );
    booktool(home.path(), &["build"]);
    assert_eq!(
        read_events(&log).len(),
        3,
        "nothing recorded while disabled"
    );
}

/// `run_and_exit` turns a failed command into exit code 1 and a diagnostic; a wrong
/// command line is clap's usual error (code 2), and `telemetry` alone shows its help.
#[test]
fn the_builder_host_reports_errors_with_exit_codes() {
    let home = tempfile::tempdir().unwrap();
    // A config dir that cannot be created: a file stands where it should be.
    std::fs::create_dir_all(home.path().join(".config")).unwrap();
    std::fs::write(home.path().join(".config/booktool"), b"not a directory").unwrap();
    let enable = booktool(home.path(), &["telemetry", "enable"]);
    assert_eq!(enable.status.code(), Some(1), "{enable:?}");
    let stderr = text(&enable.stderr);
    assert!(stderr.contains("booktool: error[telemetry::"), "{stderr}");
    assert!(enable.stdout.is_empty());

    let unknown = booktool(home.path(), &["telemetry", "stats"]);
    assert_eq!(unknown.status.code(), Some(2), "{unknown:?}");
    assert!(text(&unknown.stderr).contains("unrecognized subcommand 'stats'"));

    let bare = booktool(home.path(), &["telemetry"]);
    assert_eq!(bare.status.code(), Some(2), "{bare:?}");
    assert!(text(&bare.stderr).starts_with(ABOUT), "{bare:?}");
}

/// The schema of the builder host: its tracked command, its `record!` event and its
/// default attribute, as JSON and as Markdown.
#[test]
fn the_builder_host_schema_lists_record_events_and_default_attributes() {
    let home = tempfile::tempdir().unwrap();
    let out = booktool(home.path(), &["telemetry", "schema"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<_> = schema["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "book.rendered",
            "cmd.build",
            "cmd.fail",
            "data.deletion_request"
        ]
    );
    assert_eq!(
        schema["default_attrs"],
        serde_json::json!({"interactive": "bool"})
    );
    assert_eq!(
        schema["events"][0]["captures"],
        serde_json::json!({"chapters": "any"})
    );

    let out = booktool(home.path(), &["telemetry", "schema", "--markdown"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let md = text(&out.stdout);
    for line in [
        "| `interactive` | bool |",
        "| `book.rendered` | `chapters` | any |  |",
        "| `cmd.build` | `open` | bool |  |",
    ] {
        assert!(md.lines().any(|l| l == line), "no {line:?} in\n{md}");
    }
    telemetry_tests::assert_no_files(home.path());
}
