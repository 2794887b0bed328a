//! The example tool as a user runs it: a real process, a temporary `HOME`, real
//! environment variables.

use std::path::Path;
use std::process::Output;

#[cfg(feature = "collect")]
use telemetry::Outcome;
use telemetry_tests::{assert_no_files, run_demo};
#[cfg(feature = "collect")]
use telemetry_tests::{demo_events as recorded, demo_log as local_log};

fn demo(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    run_demo(env!("CARGO_BIN_EXE_demo"), home, args, env)
}

#[test]
fn without_consent_nothing_is_recorded_and_no_file_is_created() {
    let home = tempfile::tempdir().unwrap();
    for args in [&["build"][..], &["test"], &["fail"]] {
        let out = demo(home.path(), args, &[]);
        assert!(out.stdout.is_empty(), "telemetry never prints to stdout");
    }
    assert_no_files(home.path());
}

#[cfg(feature = "collect")]
#[test]
fn with_consent_each_command_records_one_event() {
    let home = tempfile::tempdir().unwrap();
    let on = [("DEMO_TELEMETRY", "1")];
    let build = demo(home.path(), &["build", "--release", "--jobs", "8"], &on);
    assert!(build.status.success());
    assert!(build.stdout.is_empty(), "telemetry never prints to stdout");
    assert!(demo(home.path(), &["test"], &on).status.success());
    let fail = demo(home.path(), &["fail"], &on);
    assert_eq!(
        fail.status.code(),
        Some(1),
        "the tool's own exit code is kept"
    );

    let events = recorded(home.path());
    let names: Vec<_> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["cmd.build", "cmd.test", "cmd.fail"]);
    let build = &events[0];
    assert_eq!(&*build.tool, "demo");
    assert_eq!(build.attrs["jobs"], serde_json::json!(8));
    assert_eq!(build.attrs["profile"], serde_json::json!("release"));
    assert_eq!(build.attrs["target"], serde_json::json!("demo"));
    let keys: Vec<_> = build.attrs.keys().map(String::as_str).collect();
    assert_eq!(keys, ["jobs", "profile", "project", "target"]);
    assert!(
        build.duration_ms.unwrap() >= 5.0,
        "timed by #[track]: {build:?}"
    );
    assert_eq!(build.outcome, Outcome::Ok);
    assert_eq!(build.machine_id.len(), 64);
    assert_ne!(
        events[0].session_id, events[1].session_id,
        "one session per process"
    );
    assert_eq!(events[1].outcome, Outcome::Ok);
    assert_eq!(events[2].outcome, Outcome::Error);
    assert_eq!(events[2].error_kind.as_deref(), Some("demo::DemoError"));

    // Nothing from the command line or the file system made it into any event.
    let log = std::fs::read_to_string(local_log(home.path())).unwrap();
    let home_text = home.path().to_str().unwrap();
    assert!(!log.contains(home_text) && !log.contains("/tmp"), "{log}");

    // `demo events` prints exactly what the log holds, on stdout (the tool's output).
    let shown = demo(home.path(), &["events"], &[]);
    assert_eq!(
        String::from_utf8(shown.stdout).unwrap(),
        std::fs::read_to_string(local_log(home.path())).unwrap()
    );
}

#[cfg(not(feature = "collect"))]
#[test]
fn compiled_out_even_consent_records_nothing() {
    let home = tempfile::tempdir().unwrap();
    let out = demo(home.path(), &["build"], &[("DEMO_TELEMETRY", "1")]);
    assert!(out.status.success());
    assert_no_files(home.path());
}

#[cfg(feature = "collect")]
#[test]
fn the_demo_schema_lists_every_tracked_command_with_its_keys() {
    let home = tempfile::tempdir().unwrap();
    let out = demo(home.path(), &["telemetry", "schema"], &[]);
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let events = schema["events"].as_array().unwrap();
    let names: Vec<_> = events.iter().map(|e| e["name"].as_str().unwrap()).collect();
    // The tracked commands, and the deletion request that `reset` sends.
    assert_eq!(
        names,
        [
            "cmd.build",
            "cmd.crash",
            "cmd.fail",
            "cmd.test",
            "cmd.watch",
            "data.deletion_request"
        ]
    );
    let build = &events[0];
    assert_eq!(build["attrs"]["target"], "demo");
    assert_eq!(build["captures"]["profile"], "string");
    assert_eq!(build["captures"]["jobs"], "int");
    assert_eq!(build["captures"]["project"], "hashed");
    assert_eq!(events[5]["attrs"], serde_json::json!({}));
    assert_eq!(events[5]["captures"], serde_json::json!({}));
    // The fields the library adds to every event, each described.
    let fields: Vec<_> = schema["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for field in [
        "event_id",
        "name",
        "tool",
        "tool_version",
        "machine_id",
        "session_id",
        "timestamp_utc",
        "os",
        "arch",
        "duration_ms",
        "outcome",
        "error_kind",
        "attrs",
    ] {
        assert!(fields.contains(&field), "{field} missing from {fields:?}");
    }
    assert_eq!(schema["default_attrs"], serde_json::json!({}));
    assert_eq!(schema["tool"], "demo");
    // The values an enum capture can take; none for the others.
    assert_eq!(
        build["values"],
        serde_json::json!({"profile": ["debug", "release"]})
    );
    assert_no_files(home.path()); // schema needs no consent and writes nothing
}

/// `schema --markdown`: tables a tool author pastes into their documentation.
#[cfg(feature = "collect")]
#[test]
fn the_demo_schema_as_markdown() {
    let home = tempfile::tempdir().unwrap();
    let out = demo(home.path(), &["telemetry", "schema", "--markdown"], &[]);
    assert!(out.status.success(), "{out:?}");
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.starts_with("## What `demo` "), "{md}");
    for row in [
        "| field | kind | what it holds |",
        "| `outcome` | string | how the command ended (`ok` for events that are not a command): `ok`, `error`, `panic`, `cancelled`, `interrupted` |",
        "| event | attribute | kind | value |",
        "| `cmd.build` | `jobs` | int |  |",
        "|  | `profile` | string | `debug`, `release` |",
        "|  | `project` | hashed |  |",
        "|  | `target` | string | `\"demo\"` |",
        "| `cmd.fail` | — |  |  |",
        "| `data.deletion_request` | — |  |  |",
        "None: `demo` adds no attribute to every event.",
    ] {
        assert!(md.lines().any(|l| l == row), "no line {row:?} in\n{md}");
    }
    // Every table row has as many cells as its header.
    for table in md.split("\n\n").filter(|t| t.starts_with('|')) {
        let cells = |l: &str| l.replace("\\|", "").matches('|').count();
        let header = table.lines().next().unwrap();
        for line in table.lines().skip(2) {
            assert_eq!(cells(line), cells(header), "{line}");
        }
    }
    assert_no_files(home.path());
}

/// A tool that ends with `telemetry::exit(code)` (instead of `std::process::exit`,
/// which skips the guard) keeps its exit code and its events.
#[cfg(feature = "collect")]
#[test]
fn telemetry_exit_keeps_the_code_and_the_event() {
    let home = tempfile::tempdir().unwrap();
    let out = demo(
        home.path(),
        &["fail", "--exit", "101"],
        &[("DEMO_TELEMETRY", "1")],
    );
    assert_eq!(out.status.code(), Some(101), "{out:?}");
    assert!(out.stdout.is_empty());
    let events = recorded(home.path());
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].name, "cmd.fail");
    assert_eq!(events[0].outcome, Outcome::Error);
}
