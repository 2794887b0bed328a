//! Report mode with real processes, real files and real HTTP on 127.0.0.1. The tool is
//! the test bin `report-tool` (tests/src/bin/report-tool.rs, knobs in its header), run
//! with a temporary `HOME`, a cleared environment and a test clock
//! (`REPORT_TOOL_TELEMETRY_TEST_NOW`):
//!
//! 1. a week of runs folds into one report file (0600, no identifier, no time finer
//!    than a day) that `telemetry report` shows, as a table and as JSON;
//! 2. the first run of the next week uploads the complete report once, within the exit
//!    (`SendMode::AtExit`) or through the detached uploader, and marks it sent;
//! 3. a report collected at level `local`, even in part, is never uploaded, also after
//!    `telemetry enable`;
//! 4. sampling: at rate 0.1, 1,000 installs upload 100 ± 30 reports, and every other
//!    install marks its report `sampled_out`;
//! 5. attribute combinations past the limit go to the `_other` row, also across
//!    processes;
//! 6. a process killed with SIGKILL leaves a valid report holding what it folded; a
//!    corrupt report file is set aside and a new report starts;
//! 7. level `off` writes nothing;
//! 8. processes running at once lose no call.
//!
//! Every wait is bounded; no duration is asserted.
#![cfg(all(feature = "collect", feature = "http", feature = "reports"))]

mod delivery_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use delivery_support::{Reply, Request, Server, wait_until};
use serde_json::Value;
use telemetry_tests::{command_in_home, files_below};

const TOOL: &str = env!("CARGO_BIN_EXE_report-tool");

/// The bound of every wait for something that should take a second or two.
const WAIT: Duration = Duration::from_secs(20);

const DAY: u64 = 86_400;
/// Monday 2026-11-23, 00:00 UTC: the first day of "week 0".
const WEEK0: u64 = 1_795_392_000;
/// The report files of weeks 0, 1 and 2.
const WEEK0_FILE: &str = "2026-11-23.json";
const WEEK1_FILE: &str = "2026-11-30.json";
const WEEK2_FILE: &str = "2026-12-07.json";

/// Noon (UTC) of `day` (0 = Monday) of week `week`, in seconds since the epoch.
fn noon(week: u64, day: u64) -> u64 {
    WEEK0 + (week * 7 + day) * DAY + 12 * 3600
}

// ---------------------------------------------------------------------------------
// Running the tool
// ---------------------------------------------------------------------------------

/// A `report-tool` command with `HOME` = `home` (nothing else of this process's
/// environment), the clock at `now`, and `env`.
fn command(home: &Path, now: u64, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = command_in_home(TOOL, home);
    cmd.env("REPORT_TOOL_TELEMETRY_TEST_NOW", now.to_string())
        .args(args)
        .envs(env.iter().copied());
    cmd
}

/// Runs `report-tool` (see [`command`]) and waits for it.
fn tool(home: &Path, now: u64, args: &[&str], env: &[(&str, &str)]) -> Output {
    command(home, now, args, env).output().unwrap()
}

/// Runs `report-tool` and fails unless it exits with 0 and did not panic.
#[track_caller]
fn tool_ok(home: &Path, now: u64, args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = tool(home, now, args, env);
    assert_ok(&out, args);
    out
}

#[track_caller]
fn assert_ok(out: &Output, args: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("panicked"),
        "report-tool {args:?}: {:?}\nstdout: {}\nstderr: {stderr}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
    );
}

/// A loopback server that takes every request, its `/v1/reports` URL, and a fresh
/// home directory.
fn server_and_home() -> (Server, String, tempfile::TempDir) {
    let server = Server::start(Reply::Status(200));
    let url = server.url("/v1/reports");
    (server, url, tempfile::tempdir().unwrap())
}

/// The tool's data dir below `home` (the Linux layout).
fn data_dir(home: &Path) -> PathBuf {
    home.join(".local/share/report-tool/telemetry")
}

fn reports_dir(home: &Path) -> PathBuf {
    data_dir(home).join("reports")
}

// ---------------------------------------------------------------------------------
// Reading report files
// ---------------------------------------------------------------------------------

/// A report file, parsed (`None` if there is none).
fn read_json(path: &Path) -> Option<Value> {
    let bytes = std::fs::read(path).ok()?;
    Some(
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{} is not JSON ({e}): {bytes:?}", path.display())),
    )
}

/// The report file `name` in `dir`, which must exist.
#[track_caller]
fn stored(dir: &Path, name: &str) -> Value {
    read_json(&dir.join(name))
        .unwrap_or_else(|| panic!("no {name} in {}: {:?}", dir.display(), files_below(dir)))
}

/// The calls counted in a report (the `report` object of a file, or a body).
fn total(report: &Value) -> u64 {
    rows(report)
        .iter()
        .map(|r| r["count"].as_u64().unwrap())
        .sum()
}

fn rows(report: &Value) -> Vec<Value> {
    report["rows"].as_array().unwrap().clone()
}

/// The names of the report files in `dir` (`<date>.json`), sorted.
fn report_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| {
                    n.ends_with(".json") && !n.starts_with('.') && !n.starts_with("pending-")
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The pending-rows files in `dir` (rows a process could not fold in under the lock).
fn pending_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("pending-") && n.ends_with(".json"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The calls in `dir`'s report files and pending files together.
fn calls_on_disk(dir: &Path) -> u64 {
    let in_reports: u64 = report_files(dir)
        .iter()
        .map(|n| total(&stored(dir, n)["report"]))
        .sum();
    let in_pending: u64 = pending_files(dir)
        .iter()
        .map(|p| total(&read_json(p).unwrap()))
        .sum();
    in_reports + in_pending
}

/// Every key of every object in `value`, at any depth.
fn keys(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                keys(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

/// Whether `text` holds a date followed by a time of day (`2026-11-23T12:...` or
/// `2026-11-23 12:...`), as RFC 3339 and its relatives write it.
fn has_time_of_day(text: &str) -> bool {
    let b = text.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    (0..b.len()).any(|i| {
        (0..4).all(|k| digit(i + k))
            && b.get(i + 4) == Some(&b'-')
            && digit(i + 5)
            && digit(i + 6)
            && b.get(i + 7) == Some(&b'-')
            && digit(i + 8)
            && digit(i + 9)
            && matches!(b.get(i + 10), Some(b'T' | b't' | b' '))
            && digit(i + 11)
    })
}

/// Fails unless a report file's text holds nothing that tells installs, runs or calls
/// apart, nor a time finer than a day.
#[track_caller]
fn assert_anonymous(text: &str) {
    let value: Value = serde_json::from_str(text).unwrap();
    let mut all = Vec::new();
    keys(&value, &mut all);
    for forbidden in [
        "machine_id",
        "session_id",
        "event_id",
        "install_id",
        "timestamp",
        "timestamp_utc",
        "time",
    ] {
        assert!(
            !all.iter().any(|k| k == forbidden),
            "a report holds `{forbidden}`: {text}"
        );
    }
    assert!(
        !has_time_of_day(text),
        "a report holds a time of day: {text}"
    );
}

/// The JSON objects `telemetry report --json` printed, one per line.
fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The `period_start` of every report the server received.
fn periods_received(requests: &[Request]) -> Vec<String> {
    requests
        .iter()
        .map(|r| r.json()["period_start"].as_str().unwrap_or("?").to_owned())
        .collect()
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Waits (bounded) until no detached uploader of `home` is alive.
#[track_caller]
fn wait_for_no_uploader(home: &Path) {
    #[cfg(target_os = "linux")]
    {
        let gone = wait_until(WAIT, || delivery_support::uploaders(home).is_empty());
        assert!(gone, "an uploader of {} still runs", home.display());
    }
    #[cfg(not(target_os = "linux"))]
    let _ = home;
}

// ---------------------------------------------------------------------------------
// 1. A week of runs folds into one report
// ---------------------------------------------------------------------------------

#[test]
fn a_week_of_runs_folds_into_one_private_anonymous_report() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let local = [("RT_LOCAL", "1")];
    for day in 0..7 {
        tool_ok(home, noon(0, day), &["run", "3"], &local);
    }
    // Sunday, a second before the next week.
    tool_ok(home, WEEK0 + 7 * DAY - 1, &["run", "0"], &local);

    let dir = reports_dir(home);
    assert_eq!(report_files(&dir), [WEEK0_FILE], "one report for the week");
    // Nothing else of substance in the data dir: no machine id, no log, no spool (the
    // directory's own lock files aside).
    let visible: Vec<String> = files_below(&data_dir(home))
        .into_iter()
        .filter(|p| !p.rsplit('/').next().unwrap().starts_with('.'))
        .collect();
    assert_eq!(visible, ["reports", "reports/2026-11-23.json"]);
    let path = dir.join(WEEK0_FILE);
    #[cfg(unix)]
    assert_eq!(
        telemetry_tests::mode_of(&path),
        0o600,
        "the report is private"
    );

    let text = std::fs::read_to_string(&path).unwrap();
    assert_anonymous(&text);
    let file: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(file["level"], "local");
    assert_eq!(file["sent_at"], Value::Null);
    let report = &file["report"];
    assert_eq!(report["schema"], "telemetry-report/1");
    assert_eq!(report["tool"], "report-tool");
    assert_eq!(report["period"], "week");
    assert_eq!(
        (&report["period_start"], &report["period_end"]),
        (&Value::from("2026-11-23"), &Value::from("2026-11-30"))
    );
    assert_eq!(total(report), 21, "7 runs of 3 calls: {report}");
    let rows = rows(report);
    assert_eq!(rows.len(), 1, "one event, one outcome, one value: {rows:?}");
    assert_eq!(rows[0]["event"], "cmd.build");
    assert_eq!(rows[0]["outcome"], "ok");
    assert_eq!(rows[0]["attrs"]["jobs"], 0);
    let buckets: u64 = rows[0]["duration_ms"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap())
        .sum();
    assert_eq!(buckets, 21, "every call has its duration in the histogram");

    // The table.
    let out = tool_ok(home, noon(0, 6), &["telemetry", "report"], &local);
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("from 2026-11-23 to 2026-11-30") && table.contains("level local"),
        "{table}"
    );
    let line = table
        .lines()
        .find(|l| l.trim_start().starts_with("cmd.build"))
        .unwrap_or_else(|| panic!("no line for cmd.build: {table}"));
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&cells[..3], ["cmd.build", "21", "0.0%"], "{table}");

    // The JSON: the report as it would be uploaded.
    let out = tool_ok(home, noon(0, 6), &["telemetry", "report", "--json"], &local);
    let printed = json_lines(&out.stdout);
    assert_eq!(printed.len(), 1, "one report");
    assert_eq!(printed[0], *report, "--json prints the file's report");
    assert_eq!(printed.iter().map(total).sum::<u64>(), 21);
    assert_anonymous(&String::from_utf8_lossy(&out.stdout));
    // Reading wrote nothing.
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

/// `Hashed` values never enter a report, whatever the capture: a `record!` value and a
/// `capture(key = expr)` have the catalog kind `any`, not `hashed`.
#[test]
fn hashed_values_of_record_and_expression_captures_never_enter_a_report() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let dir = reports_dir(home);
    let env = [("RT_LOCAL", "1"), ("RT_PROJECT", "1")];
    tool_ok(home, noon(0, 0), &["run", "2"], &env);
    let file = stored(&dir, WEEK0_FILE);
    let events: Vec<String> = rows(&file["report"])
        .iter()
        .map(|r| r["event"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        events.iter().any(|e| e == "project.opened")
            && events.iter().any(|e| e == "project.loaded"),
        "{file}"
    );
    for row in rows(&file["report"]) {
        assert!(
            row["attrs"].get("project").is_none(),
            "a Hashed value: {row}"
        );
        assert_eq!(row["count"], 2, "{row}");
    }
}

// ---------------------------------------------------------------------------------
// 2. The next period's first run uploads the report once
// ---------------------------------------------------------------------------------

/// Week 0: two runs (5 calls) at level `on`; week 1: the first run uploads week 0's
/// report (within its exit, or through the detached uploader), later runs nothing.
fn next_week_uploads_once(at_exit: bool) {
    let (server, url, home) = server_and_home();
    let home = home.path();
    let dir = reports_dir(home);
    let mut env = vec![("RT_ENDPOINT", url.as_str())];
    if at_exit {
        env.push(("RT_AT_EXIT", "1"));
    }
    let mode = if at_exit { "AtExit" } else { "Background" };

    tool_ok(home, noon(0, 0), &["telemetry", "enable"], &env);
    tool_ok(home, noon(0, 0), &["run", "3"], &env);
    tool_ok(home, noon(0, 4), &["run", "2"], &env);
    wait_for_no_uploader(home);
    assert!(
        server.requests().is_empty(),
        "{mode}: nothing is sent while the week runs: {:?}",
        periods_received(&server.requests())
    );
    let before = stored(&dir, WEEK0_FILE);
    assert_eq!(before["level"], "on");
    assert_eq!(total(&before["report"]), 5);

    // The first run of week 1.
    tool_ok(home, noon(1, 0), &["run", "1"], &env);
    if at_exit {
        assert_eq!(server.requests().len(), 1, "{mode}: sent within the exit");
    } else {
        let got = server.wait_until(WAIT, |r| !r.is_empty());
        assert!(got, "{mode}: the uploader sent nothing within {WAIT:?}");
        wait_for_no_uploader(home);
    }
    // Marked once the server acknowledged it (by the uploader, maybe just after).
    let marked = wait_until(WAIT, || {
        read_json(&dir.join(WEEK0_FILE)).is_some_and(|f| f["sent_at"].is_string())
    });
    let after = stored(&dir, WEEK0_FILE);
    assert!(marked, "{mode}: the report is marked sent: {after}");
    assert_eq!(after["not_sent"], Value::Null);
    assert_eq!(after["level"], "on");
    assert_eq!(
        after["report"], before["report"],
        "{mode}: the report itself is unchanged"
    );

    let requests = server.requests();
    assert_eq!(
        requests.len(),
        1,
        "{mode}: {:?}",
        periods_received(&requests)
    );
    let request = &requests[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/v1/reports")
    );
    assert!(
        request
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        request.headers
    );
    let body = request.json();
    assert_eq!(
        body, before["report"],
        "{mode}: the body is week 0's report"
    );
    assert_eq!(body["schema"], "telemetry-report/1");
    assert_eq!(body["period_start"], "2026-11-23");
    assert_eq!(total(&body), 5);
    assert_anonymous(&String::from_utf8_lossy(&request.body));

    // Later runs of week 1: nothing more is sent, and no uploader is started.
    let started = modified(&dir.join("upload-started"));
    if at_exit {
        assert_eq!(started, None, "{mode}: no uploader was ever started");
    } else {
        assert!(started.is_some(), "{mode}: the uploader left its stamp");
    }
    tool_ok(home, noon(1, 1), &["run", "1"], &env);
    tool_ok(home, noon(1, 5), &["run", "1"], &env);
    wait_for_no_uploader(home);
    assert_eq!(
        modified(&dir.join("upload-started")),
        started,
        "{mode}: no uploader started for a sent report"
    );
    assert_eq!(
        server.requests().len(),
        1,
        "{mode}: {:?}",
        periods_received(&server.requests())
    );
    let week1 = stored(&dir, WEEK1_FILE);
    assert_eq!(total(&week1["report"]), 3);
    assert_eq!(week1["sent_at"], Value::Null, "week 1 is still open");
    wait_for_no_uploader(home);
}

/// A report the server refuses for good (a 4xx other than 408 and 429) is marked
/// `refused` and not sent again, and the reports after it are still sent; a report the
/// server could not take now (a 5xx) stays due.
#[test]
fn a_report_refused_for_good_does_not_hold_up_the_next_ones() {
    let (server, url, home) = server_and_home();
    let home = home.path();
    let dir = reports_dir(home);
    let env = [("RT_ENDPOINT", url.as_str()), ("RT_AT_EXIT", "1")];
    tool_ok(home, noon(0, 0), &["telemetry", "enable"], &env);
    tool_ok(home, noon(0, 1), &["run", "2"], &env);
    // Week 1: the server is down when week 0 is due.
    server.script([Reply::Status(503)]);
    tool_ok(home, noon(1, 1), &["run", "3"], &env);
    assert_eq!(periods_received(&server.requests()), ["2026-11-23"]);
    assert_eq!(stored(&dir, WEEK0_FILE)["sent_at"], Value::Null);
    assert_eq!(stored(&dir, WEEK0_FILE)["not_sent"], Value::Null);

    // Week 2: week 0 is refused for good, week 1 is taken.
    server.script([Reply::Status(400), Reply::Status(200)]);
    tool_ok(home, noon(2, 1), &["run", "1"], &env);
    assert_eq!(
        periods_received(&server.requests()),
        ["2026-11-23", "2026-11-23", "2026-11-30"]
    );
    let week0 = stored(&dir, WEEK0_FILE);
    assert_eq!(week0["sent_at"], Value::Null);
    assert_eq!(week0["not_sent"], "refused");
    assert!(stored(&dir, WEEK1_FILE)["sent_at"].is_string());

    // Week 3: week 2 is sent, week 0 not again.
    tool_ok(home, noon(3, 1), &["run", "1"], &env);
    assert_eq!(periods_received(&server.requests())[3..], ["2026-12-07"]);
    let out = tool_ok(home, noon(3, 1), &["telemetry", "report"], &env);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("not sent (refused by the server)"), "{text}");
}

#[test]
fn the_next_weeks_first_run_uploads_the_report_once_within_its_exit() {
    next_week_uploads_once(true);
}

#[test]
fn the_next_weeks_first_run_hands_the_report_to_the_uploader_once() {
    next_week_uploads_once(false);
}

// ---------------------------------------------------------------------------------
// 3. Local data is never uploaded
// ---------------------------------------------------------------------------------

/// `telemetry reset` in report mode sends no deletion request: the backend holds
/// nothing tied to this machine, and the request would carry the machine id, the only
/// identifier the tool would ever send. The reports are deleted.
#[test]
fn reset_in_report_mode_sends_no_machine_id() {
    let (server, url, home) = server_and_home();
    let home = home.path();
    let dir = reports_dir(home);
    let env = [("RT_ENDPOINT", url.as_str()), ("RT_AT_EXIT", "1")];
    tool_ok(home, noon(0, 0), &["telemetry", "enable"], &env);
    tool_ok(home, noon(0, 1), &["run", "2"], &env);
    tool_ok(home, noon(1, 0), &["run", "1"], &env);
    assert_eq!(periods_received(&server.requests()), ["2026-11-23"]);

    let out = tool(home, noon(1, 1), &["telemetry", "reset"], &env);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for request in server.requests() {
        let body = String::from_utf8_lossy(&request.body);
        assert!(!body.contains("machine_id"), "sent: {body}\n{stdout}");
    }
    assert_eq!(server.requests().len(), 1, "{stdout}");
    assert!(!dir.exists(), "{:?}", files_below(&dir));
}

/// Show mode prints the report on standard error when it is sent (and sends it, from
/// the run itself, where the user sees it); dry-run mode prints it and sends nothing.
#[test]
fn show_mode_prints_the_report_it_sends_and_dry_run_sends_nothing() {
    for (flag, sends) in [
        ("REPORT_TOOL_TELEMETRY_SHOW", true),
        ("REPORT_TOOL_TELEMETRY_DRY_RUN", false),
    ] {
        let (server, url, home) = server_and_home();
        let home = home.path();
        let env = [("RT_ENDPOINT", url.as_str())];
        tool_ok(home, noon(0, 0), &["telemetry", "enable"], &env);
        tool_ok(home, noon(0, 1), &["run", "4"], &env);
        let week0 = stored(&reports_dir(home), WEEK0_FILE);

        let shown = [("RT_ENDPOINT", url.as_str()), (flag, "1")];
        let out = tool_ok(home, noon(1, 0), &["run", "1"], &shown);
        wait_for_no_uploader(home);
        assert!(out.stdout.is_empty(), "{flag}: nothing on stdout");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let printed: Vec<Value> = stderr
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["schema"] == "telemetry-report/1")
            .collect();
        assert_eq!(printed, vec![week0["report"].clone()], "{flag}: {stderr}");
        let requests = server.requests();
        if sends {
            assert_eq!(
                requests.len(),
                1,
                "{flag}: {:?}",
                periods_received(&requests)
            );
            assert_eq!(requests[0].json(), week0["report"]);
        } else {
            assert!(
                requests.is_empty(),
                "{flag}: {:?}",
                periods_received(&requests)
            );
            // A dry run changes nothing: the report is still due, and the next run
            // without the variable sends it.
            assert_eq!(
                stored(&reports_dir(home), WEEK0_FILE)["sent_at"],
                Value::Null
            );
            let again = [("RT_ENDPOINT", url.as_str()), ("RT_AT_EXIT", "1")];
            tool_ok(home, noon(1, 1), &["run", "1"], &again);
            let requests = server.requests();
            assert_eq!(
                requests.len(),
                1,
                "after the dry run: {:?}",
                periods_received(&requests)
            );
            assert_eq!(requests[0].json(), week0["report"]);
        }
    }
}

/// A dry run changes nothing either: its own calls are not kept (the week's report,
/// uploaded later, would carry them), and an install that is sampled out does not
/// mark its due report in a dry run.
#[test]
fn a_dry_run_keeps_none_of_its_calls_and_marks_no_report() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let dir = reports_dir(home);
    tool_ok(home, noon(0, 0), &["telemetry", "enable"], &[]);
    tool_ok(home, noon(0, 1), &["run", "2"], &[]);
    let week0 = std::fs::read(dir.join(WEEK0_FILE)).unwrap();

    // Week 0 is due in week 1; at rate 0 this install is not among those that upload.
    let dry = [("REPORT_TOOL_TELEMETRY_DRY_RUN", "1"), ("RT_RATE", "0")];
    let out = tool_ok(home, noon(1, 0), &["run", "3"], &dry);
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&std::fs::read(dir.join(WEEK0_FILE)).unwrap()),
        String::from_utf8_lossy(&week0),
        "week 0 not marked by a dry run"
    );
    assert_eq!(
        report_files(&dir),
        [WEEK0_FILE],
        "the dry run's calls are kept nowhere: {:?}",
        files_below(&dir)
    );
    assert!(pending_files(&dir).is_empty());
}

#[test]
fn a_local_week_is_never_uploaded_after_enable() {
    let (server, url, home) = server_and_home();
    let home = home.path();
    let dir = reports_dir(home);
    // The tool collects at level `local` until the user decides.
    let env = [
        ("RT_LOCAL", "1"),
        ("RT_ENDPOINT", url.as_str()),
        ("RT_AT_EXIT", "1"),
    ];
    tool_ok(home, noon(0, 1), &["run", "4"], &env);
    tool_ok(home, noon(0, 3), &["run", "2"], &env);
    assert_eq!(stored(&dir, WEEK0_FILE)["level"], "local");

    // The user switches to `on` in week 1.
    let out = tool_ok(home, noon(1, 0), &["telemetry", "enable"], &env);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("enabled"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    tool_ok(home, noon(1, 0), &["run", "1"], &env);
    tool_ok(home, noon(1, 2), &["run", "2"], &env);
    assert!(
        server.requests().is_empty(),
        "week 0 was local: {:?}",
        periods_received(&server.requests())
    );
    // Week 2: week 1, collected at level `on` only, is sent; week 0 never.
    tool_ok(home, noon(2, 0), &["run", "1"], &env);
    tool_ok(home, noon(2, 1), &["run", "1"], &env);
    let requests = server.requests();
    assert_eq!(periods_received(&requests), ["2026-11-30"]);
    assert_eq!(total(&requests[0].json()), 3);

    let week0 = stored(&dir, WEEK0_FILE);
    assert_eq!(week0["level"], "local");
    assert_eq!(week0["sent_at"], Value::Null);
    assert_eq!(total(&week0["report"]), 6, "kept, whole");
    assert_eq!(stored(&dir, WEEK1_FILE)["level"], "on");
    assert!(stored(&dir, WEEK1_FILE)["sent_at"].is_string());
    assert_eq!(stored(&dir, WEEK2_FILE)["sent_at"], Value::Null);

    let out = tool_ok(home, noon(2, 1), &["telemetry", "report"], &env);
    let table = String::from_utf8(out.stdout).unwrap();
    let header = table
        .lines()
        .find(|l| l.contains("from 2026-11-23"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(header.ends_with("local (never sent)"), "{table}");
}

#[test]
fn a_week_collected_partly_at_level_local_is_local_for_good() {
    let (server, url, home) = server_and_home();
    let home = home.path();
    let dir = reports_dir(home);
    // This tool's default is `off`: the user chooses `local`, then `on`, in one week.
    let env = [("RT_ENDPOINT", url.as_str()), ("RT_AT_EXIT", "1")];
    tool_ok(home, noon(0, 0), &["telemetry", "local"], &env);
    tool_ok(home, noon(0, 0), &["run", "2"], &env);
    assert_eq!(stored(&dir, WEEK0_FILE)["level"], "local");
    tool_ok(home, noon(0, 2), &["telemetry", "enable"], &env);
    tool_ok(home, noon(0, 2), &["run", "5"], &env);
    let week0 = stored(&dir, WEEK0_FILE);
    assert_eq!(
        week0["level"], "local",
        "one local fold marks the week local"
    );
    assert_eq!(total(&week0["report"]), 7);

    // Weeks 1 and 2 at level `on`.
    tool_ok(home, noon(1, 0), &["run", "1"], &env);
    tool_ok(home, noon(2, 0), &["run", "1"], &env);
    tool_ok(home, noon(2, 3), &["run", "1"], &env);
    assert_eq!(
        periods_received(&server.requests()),
        ["2026-11-30"],
        "only week 1 was sent"
    );
    let week0 = stored(&dir, WEEK0_FILE);
    assert_eq!(
        (&week0["level"], &week0["sent_at"]),
        (&Value::from("local"), &Value::Null)
    );
    assert_eq!(total(&week0["report"]), 7);
}

// ---------------------------------------------------------------------------------
// 4. Sampling
// ---------------------------------------------------------------------------------

fn refs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// At rate 0.1, each of 1,000 installs (a data dir of its own, hence a draw of its
/// own) holds a complete report of week 0 at level `on` and runs once in week 1, within
/// its exit. The number that upload is binomial(1000, 0.1): mean 100, standard
/// deviation sqrt(1000 × 0.1 × 0.9) ≈ 9.5, so 100 ± 30 is more than 3 standard
/// deviations (a correct library fails it about twice in 1,000 runs), while a rate
/// applied wrongly (0 %, 100 %, 1 - rate) is far outside it. Beyond the count, each
/// install must do what its kept draw says: upload if it is below the rate, else mark
/// its report `sampled_out` and send nothing.
///
/// Each install posts to a path of its own, so the server knows who sent what: the
/// installs it heard from must be exactly those marked sent, each once.
///
/// One process takes a few tens of milliseconds: 1,000 of them, 4 at a time, take
/// about 10-40 s on 2 cores.
#[test]
fn at_rate_one_tenth_about_a_tenth_of_installs_upload_and_the_rest_mark_sampled_out() {
    const INSTALLS: usize = 1000;
    const AT_ONCE: usize = 4;
    let server = Server::start(Reply::Status(200));
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let install = |i: usize| root.join(format!("install-{i:04}"));
    let reports = |i: usize| install(i).join("data/reports");
    let env = |i: usize| -> Vec<(String, String)> {
        [
            ("REPORT_TOOL_TELEMETRY", "1"),
            ("RT_AT_EXIT", "1"),
            // Four tools at once on two cores: the default 100 ms exit deadline can
            // cut a send off (it stays due, which is right, but not what this test
            // counts). Sampling is the subject here, not the deadline.
            ("RT_DEADLINE_MS", "10000"),
            ("RT_RATE", "0.1"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .chain([
            (
                "RT_DATA_DIR".to_owned(),
                install(i).join("data").display().to_string(),
            ),
            (
                "RT_ENDPOINT".to_owned(),
                server.url(&format!("/v1/reports/{i}")),
            ),
        ])
        .collect()
    };
    let run = |i: usize, now: u64| {
        tool_ok(&install(i), now, &["run", "1"], &refs(&env(i)));
    };

    // One real week-0 report at level `on` (install "1000", not counted).
    std::fs::create_dir(install(INSTALLS)).unwrap();
    tool_ok(
        &install(INSTALLS),
        noon(0, 2),
        &["run", "2"],
        &refs(&env(INSTALLS)),
    );
    let seed_file = reports(INSTALLS).join(WEEK0_FILE);
    let seeded = read_json(&seed_file).unwrap();
    assert_eq!(seeded["level"], "on");
    assert_eq!(total(&seeded["report"]), 2);
    let bytes = std::fs::read(&seed_file).unwrap();
    assert!(server.requests().is_empty());

    for i in 0..INSTALLS {
        std::fs::create_dir_all(reports(i)).unwrap();
        #[cfg(unix)]
        {
            telemetry_tests::chmod(&install(i).join("data"), 0o700);
            telemetry_tests::chmod(&reports(i), 0o700);
        }
        std::fs::write(reports(i).join(WEEK0_FILE), &bytes).unwrap();
        #[cfg(unix)]
        telemetry_tests::chmod(&reports(i).join(WEEK0_FILE), 0o600);
    }

    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..AT_ONCE {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= INSTALLS {
                        return;
                    }
                    run(i, noon(1, 0));
                }
            });
        }
    });
    let state = |i: usize| {
        let file = stored(&reports(i), WEEK0_FILE);
        (file["sent_at"].clone(), file["not_sent"].clone())
    };
    let requests = server.requests();
    let mut heard_from: Vec<usize> = requests
        .iter()
        .map(|r| {
            assert_eq!(
                r.json(),
                seeded["report"],
                "every upload is the week-0 report"
            );
            r.path.rsplit('/').next().unwrap().parse().unwrap()
        })
        .collect();
    heard_from.sort_unstable();
    let (mut sent, mut sampled_out) = (Vec::new(), 0);
    for i in 0..INSTALLS {
        let x: f64 = std::fs::read_to_string(reports(i).join("sample"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!((0.0..1.0).contains(&x), "install {i}: draw {x}");
        match state(i) {
            (Value::String(_), Value::Null) => {
                assert!(x < 0.1, "install {i} sent with draw {x}");
                sent.push(i);
            }
            (Value::Null, Value::String(why)) if why == "sampled_out" => {
                assert!(x >= 0.1, "install {i} sampled out with draw {x}");
                sampled_out += 1;
            }
            other => panic!("install {i} (draw {x}): neither sent nor sampled out: {other:?}"),
        }
        assert_eq!(
            stored(&reports(i), WEEK0_FILE)["report"],
            seeded["report"],
            "install {i}"
        );
    }
    assert_eq!(
        heard_from, sent,
        "the installs the server heard from, once each, are those marked sent"
    );
    assert_eq!(
        requests.len() + sampled_out,
        INSTALLS,
        "requests at the server and `sampled_out` marks on disk"
    );
    assert!(
        (70..=130).contains(&sent.len()),
        "{} of {INSTALLS} installs uploaded at rate 0.1",
        sent.len()
    );
}

// ---------------------------------------------------------------------------------
// 5. Cardinality
// ---------------------------------------------------------------------------------

/// The rows of `report`: (attribute rows as (jobs, count), count of the `_other` rows,
/// number of `_other` rows).
fn split_rows(report: &Value) -> (Vec<(i64, u64)>, u64, usize) {
    let mut attrs = Vec::new();
    let (mut other, mut other_rows) = (0, 0);
    for row in rows(report) {
        let count = row["count"].as_u64().unwrap();
        if row["_other"] == true {
            assert_eq!(row["attrs"], serde_json::json!({}), "{row}");
            other += count;
            other_rows += 1;
        } else {
            attrs.push((row["attrs"]["jobs"].as_i64().unwrap(), count));
        }
    }
    attrs.sort_unstable();
    (attrs, other, other_rows)
}

#[test]
fn combinations_past_the_limit_go_to_the_other_row_also_across_processes() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let dir = reports_dir(home);
    let env = [("RT_LOCAL", "1"), ("RT_LIMIT", "3"), ("RT_VARIANTS", "10")];

    // 20 calls, jobs = 0..9 twice: the first three values have rows, 14 calls overflow.
    tool_ok(home, noon(0, 0), &["run", "20"], &env);
    let (attrs, other, other_rows) = split_rows(&stored(&dir, WEEK0_FILE)["report"]);
    assert_eq!(attrs, [(0, 2), (1, 2), (2, 2)]);
    assert_eq!((other, other_rows), (14, 1));

    // A second process, same values: the same rows grow.
    tool_ok(home, noon(0, 1), &["run", "20"], &env);
    let report = stored(&dir, WEEK0_FILE)["report"].clone();
    let (attrs, other, other_rows) = split_rows(&report);
    assert_eq!(attrs, [(0, 4), (1, 4), (2, 4)]);
    assert_eq!((other, other_rows), (28, 1));
    assert_eq!(total(&report), 40);
    let out = tool_ok(home, noon(0, 1), &["telemetry", "report"], &env);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("(28 run(s) with attribute values past"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Another week whose report an earlier process filled with three other values
    // (jobs = 7, 8, 9; the tool numbers its values from 0, so the test writes them):
    // a process whose own values are 0..2 finds the limit reached in the file.
    let mut file = stored(&dir, WEEK0_FILE);
    file["report"]["period_start"] = "2026-11-30".into();
    file["report"]["period_end"] = "2026-12-07".into();
    let mut shifted = Vec::new();
    for mut row in rows(&file["report"]) {
        if row["_other"] != true {
            let jobs = row["attrs"]["jobs"].as_i64().unwrap();
            row["attrs"]["jobs"] = (jobs + 7).into();
            shifted.push(row);
        }
    }
    file["report"]["rows"] = shifted.into();
    std::fs::write(dir.join(WEEK1_FILE), serde_json::to_vec(&file).unwrap()).unwrap();
    #[cfg(unix)]
    telemetry_tests::chmod(&dir.join(WEEK1_FILE), 0o600);
    tool_ok(
        home,
        noon(1, 0),
        &["run", "6"],
        &[("RT_LOCAL", "1"), ("RT_LIMIT", "3"), ("RT_VARIANTS", "3")],
    );
    let report = stored(&dir, WEEK1_FILE)["report"].clone();
    let (attrs, other, other_rows) = split_rows(&report);
    assert_eq!(attrs, [(7, 4), (8, 4), (9, 4)], "{report}");
    assert_eq!((other, other_rows), (6, 1), "{report}");
    assert_eq!(total(&report), 18);
}

// ---------------------------------------------------------------------------------
// 6. SIGKILL and corrupt files
// ---------------------------------------------------------------------------------

/// `n` calls, then a long sleep: the worker writes the report while the process runs
/// (at most once a second); killed with SIGKILL, the process leaves a valid report
/// with its calls, which the next run adds to. 100 is the default batch size: a batch
/// that fills at once is taken without lingering, and the queue is then idle.
#[cfg(unix)]
#[test]
fn a_process_killed_while_it_sleeps_has_written_its_calls() {
    use std::os::unix::process::ExitStatusExt;
    for n in [7_u64, 100, 300] {
        let home = tempfile::tempdir().unwrap();
        let home = home.path();
        let dir = reports_dir(home);
        let env = [("RT_LOCAL", "1"), ("RT_SLEEP_MS", "120000")];
        let arg = n.to_string();
        let mut child = command(home, noon(0, 0), &["run", &arg], &env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // (Read without panicking: the child must be killed whatever is found.)
        let written = wait_until(WAIT, || {
            std::fs::read(dir.join(WEEK0_FILE))
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|f| f["report"]["rows"].as_array().map(|r| r.len()))
                .is_some_and(|_| {
                    read_json(&dir.join(WEEK0_FILE)).is_some_and(|f| total(&f["report"]) == n)
                })
        });
        let still_running = child.try_wait().unwrap().is_none();
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(still_running, "{n} calls: the tool ended early: {status:?}");
        assert_eq!(status.signal(), Some(9), "{n} calls");
        let seen = read_json(&dir.join(WEEK0_FILE));
        assert!(
            written,
            "{n} calls: not in the report within {WAIT:?} while the process ran: {seen:?}"
        );
        let file = stored(&dir, WEEK0_FILE);
        assert_eq!(total(&file["report"]), n);
        assert_eq!(report_files(&dir), [WEEK0_FILE]);
        assert!(pending_files(&dir).is_empty());

        tool_ok(home, noon(0, 1), &["run", "5"], &[("RT_LOCAL", "1")]);
        assert_eq!(total(&stored(&dir, WEEK0_FILE)["report"]), n + 5);
    }
}

#[test]
fn a_corrupt_report_file_is_set_aside_and_a_new_report_starts() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let dir = reports_dir(home);
    let env = [("RT_LOCAL", "1")];
    tool_ok(home, noon(0, 0), &["run", "2"], &env);

    let garbage: &[u8] = b"\x00\xff{\"format\":1,\"level\":\"on\" garbage \xfe\n";
    std::fs::write(dir.join(WEEK0_FILE), garbage).unwrap();
    // Rows left by a process that could not take the lock, gone bad too.
    let bad_pending = dir.join("pending-0123456789abcdef0123456789abcdef.json");
    std::fs::write(&bad_pending, b"[1, 2").unwrap();
    #[cfg(unix)]
    telemetry_tests::chmod(&bad_pending, 0o600);

    // Reading lists the bad file and changes nothing.
    let out = tool_ok(home, noon(0, 1), &["telemetry", "report"], &env);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("unreadable report"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(std::fs::read(dir.join(WEEK0_FILE)).unwrap(), garbage);

    tool_ok(home, noon(0, 1), &["run", "3"], &env);
    let kept = dir.join(format!("{WEEK0_FILE}.corrupt"));
    assert_eq!(
        std::fs::read(&kept).ok().as_deref(),
        Some(garbage),
        "the bad bytes are kept aside: {:?}",
        files_below(&dir)
    );
    let file = stored(&dir, WEEK0_FILE);
    assert_eq!(total(&file["report"]), 3, "a new report: {file}");
    assert!(!bad_pending.exists(), "the bad pending file is set aside");
    assert!(
        dir.join("pending-0123456789abcdef0123456789abcdef.json.corrupt")
            .exists()
    );

    tool_ok(home, noon(0, 2), &["run", "1"], &env);
    assert_eq!(total(&stored(&dir, WEEK0_FILE)["report"]), 4);
    let out = tool_ok(home, noon(0, 2), &["telemetry", "report", "--json"], &env);
    assert_eq!(json_lines(&out.stdout).iter().map(total).sum::<u64>(), 4);

    // The same week's file goes bad again: the first bad bytes are still kept.
    let garbage2: &[u8] = b"second garbage";
    std::fs::write(dir.join(WEEK0_FILE), garbage2).unwrap();
    tool_ok(home, noon(0, 3), &["run", "2"], &env);
    assert_eq!(total(&stored(&dir, WEEK0_FILE)["report"]), 2);
    let mut set_aside: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&format!("{WEEK0_FILE}.corrupt")))
        })
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    set_aside.sort();
    assert_eq!(
        set_aside,
        [garbage.to_vec(), garbage2.to_vec()],
        "each bad file is kept, none overwritten: {:?}",
        files_below(&dir)
    );
}

/// A report file this library could not have written, though it passes the naming
/// rules: `telemetry report` names it and does not panic (a histogram's `min` above its
/// `max` made the quantiles panic; counts that add up past `u64::MAX` overflowed).
#[test]
fn telemetry_report_does_not_panic_on_a_file_with_impossible_numbers() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let dir = reports_dir(home);
    let env = [("RT_LOCAL", "1"), ("RT_VARIANTS", "2")];
    tool_ok(home, noon(0, 0), &["run", "2"], &env);
    let good = stored(&dir, WEEK0_FILE);
    assert_eq!(rows(&good["report"]).len(), 2);

    let mut min_above_max = good.clone();
    let mut huge_counts = good.clone();
    for row in 0..2 {
        min_above_max["report"]["rows"][row]["duration_ms"]["min"] = 5.0.into();
        min_above_max["report"]["rows"][row]["duration_ms"]["max"] = 1.0.into();
        huge_counts["report"]["rows"][row]["count"] = u64::MAX.into();
        huge_counts["report"]["rows"][row]["duration_ms"]["buckets"][0] = u64::MAX.into();
    }
    for bad in [min_above_max, huge_counts] {
        std::fs::write(dir.join(WEEK0_FILE), serde_json::to_vec(&bad).unwrap()).unwrap();
        for args in [
            &["telemetry", "report"][..],
            &["telemetry", "report", "--json"],
        ] {
            let out = tool(home, noon(0, 1), args, &env);
            assert_ok(&out, args);
        }
        // A writer replaces it (set aside, or added to) without panicking either.
        tool_ok(home, noon(0, 1), &["run", "1"], &env);
    }
}

/// A report file larger than any report (32 MiB) is named as such, not as a JSON
/// error halfway through it, and set aside by the next writer.
#[test]
fn a_huge_report_file_gets_a_clear_error_and_is_set_aside() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let dir = reports_dir(home);
    let env = [("RT_LOCAL", "1")];
    tool_ok(home, noon(0, 0), &["run", "2"], &env);
    // A valid report, padded past the limit.
    let mut text = serde_json::to_string(&stored(&dir, WEEK0_FILE)).unwrap();
    text.push_str(&" ".repeat(33 << 20));
    std::fs::write(dir.join(WEEK0_FILE), &text).unwrap();

    let out = tool_ok(home, noon(0, 1), &["telemetry", "report"], &env);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("unreadable report") && stdout.contains("larger than"),
        "{stdout}"
    );
    tool_ok(home, noon(0, 1), &["run", "3"], &env);
    assert!(dir.join(format!("{WEEK0_FILE}.corrupt")).exists());
    assert_eq!(total(&stored(&dir, WEEK0_FILE)["report"]), 3);
}

/// The lock file refused for its permissions (writable by others): the run's calls
/// wait in a pending file, as for a refused report file, and are counted once the
/// permissions are put right.
#[cfg(unix)]
#[test]
fn a_refused_lock_file_loses_no_call() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let dir = reports_dir(home);
    let env = [("RT_LOCAL", "1")];
    tool_ok(home, noon(0, 0), &["run", "1"], &env);
    let lock = dir.join(".lock");
    telemetry_tests::chmod(&lock, 0o666);
    tool_ok(home, noon(0, 1), &["run", "2"], &env);
    assert_eq!(calls_on_disk(&dir), 3, "{:?}", files_below(&dir));
    let out = tool_ok(home, noon(0, 1), &["telemetry", "report", "--json"], &env);
    assert_eq!(json_lines(&out.stdout).iter().map(total).sum::<u64>(), 3);

    telemetry_tests::chmod(&lock, 0o600);
    tool_ok(home, noon(0, 2), &["run", "4"], &env);
    assert_eq!(total(&stored(&dir, WEEK0_FILE)["report"]), 7);
    assert!(pending_files(&dir).is_empty());
}

// ---------------------------------------------------------------------------------
// 7. Level off
// ---------------------------------------------------------------------------------

#[test]
fn at_level_off_runs_write_nothing() {
    // DO_NOT_TRACK overrides the tool's `local` default and the user's consent.
    for consent in [None, Some(("REPORT_TOOL_TELEMETRY", "1"))] {
        let home = tempfile::tempdir().unwrap();
        let home = home.path();
        let mut env = vec![("RT_LOCAL", "1"), ("DO_NOT_TRACK", "1")];
        env.extend(consent);
        tool_ok(home, noon(0, 0), &["run", "5"], &env);
        tool_ok(home, noon(1, 0), &["run", "5"], &env);
        let out = tool_ok(home, noon(1, 0), &["telemetry", "report"], &env);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("telemetry is off"),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(
            files_below(home),
            Vec::<String>::new(),
            "DO_NOT_TRACK, consent {consent:?}"
        );
    }

    // `telemetry disable`: only the decision is saved (in the config dir).
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let env = [("RT_LOCAL", "1")];
    tool_ok(home, noon(0, 0), &["telemetry", "disable"], &env);
    tool_ok(home, noon(0, 0), &["run", "5"], &env);
    tool_ok(home, noon(1, 0), &["run", "5"], &env);
    assert!(
        !data_dir(home).exists(),
        "after disable: {:?}",
        files_below(home)
    );
    assert_eq!(
        files_below(home),
        [
            ".config",
            ".config/report-tool",
            ".config/report-tool/telemetry.json"
        ]
    );
}

// ---------------------------------------------------------------------------------
// 8. Processes at once
// ---------------------------------------------------------------------------------

#[test]
fn processes_running_at_once_lose_no_call() {
    const PROCESSES: u64 = 8;
    const CALLS: u64 = 50;
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let dir = reports_dir(home);
    let env = [("RT_LOCAL", "1")];
    let arg = CALLS.to_string();
    // Three rounds; the first also creates the directory, from eight processes.
    for round in 1..=3 {
        let children: Vec<_> = (0..PROCESSES)
            .map(|_| {
                command(home, noon(0, round), &["run", &arg], &env)
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            assert_ok(&child.wait_with_output().unwrap(), &["run", &arg]);
        }
        let expected = round * PROCESSES * CALLS;
        assert_eq!(
            calls_on_disk(&dir),
            expected,
            "round {round}: report and pending files: {:?}",
            files_below(&dir)
        );
        let out = tool_ok(
            home,
            noon(0, round),
            &["telemetry", "report", "--json"],
            &env,
        );
        let printed = json_lines(&out.stdout);
        assert_eq!(printed.len(), 1);
        assert_eq!(
            total(&printed[0]),
            expected,
            "round {round}: `telemetry report`"
        );
    }
    // The next writer folds any pending rows into the report file.
    tool_ok(home, noon(0, 5), &["run", "1"], &env);
    assert!(pending_files(&dir).is_empty(), "{:?}", files_below(&dir));
    assert_eq!(
        total(&stored(&dir, WEEK0_FILE)["report"]),
        3 * PROCESSES * CALLS + 1
    );
    assert_eq!(report_files(&dir), [WEEK0_FILE]);
}

// ---------------------------------------------------------------------------------
// 9. Period boundaries
// ---------------------------------------------------------------------------------

/// A process that starts just before midnight UTC Sunday→Monday and makes its calls
/// after it: the calls belong to the new week, not to the week the process started in
/// (complete by then, and perhaps uploaded already, so that they would never be sent).
#[test]
fn calls_made_after_the_week_ended_go_to_the_new_week_in_a_process_started_before() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let dir = reports_dir(home);
    let env = [("RT_LOCAL", "1"), ("RT_WAIT_MS", "1500")];
    // A second before week 1 begins; the calls come half a second after it began.
    tool_ok(home, WEEK0 + 7 * DAY - 1, &["run", "3"], &env);
    assert_eq!(report_files(&dir), [WEEK1_FILE], "{:?}", files_below(&dir));
    assert_eq!(total(&stored(&dir, WEEK1_FILE)["report"]), 3);
}
