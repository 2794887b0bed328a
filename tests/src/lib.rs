//! Shared helpers for the behaviour tests: misbehaving sinks, process spawning with a
//! clean environment, and a look at this process's threads.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use async_trait::async_trait;
use telemetry::sink::TelemetrySink;
use telemetry::{Event, TelemetryError};

/// A sink whose every call waits forever: a server that accepted the connection and
/// never answered.
#[derive(Debug, Clone, Copy, Default)]
pub struct HangingSink;

#[async_trait]
impl TelemetrySink for HangingSink {
    async fn emit(&self, _event: &Event) -> Result<(), TelemetryError> {
        std::future::pending().await
    }
    async fn flush(&self) -> Result<(), TelemetryError> {
        std::future::pending().await
    }
}

/// Names of this process's threads, read from `/proc/self/task/*/comm`.
pub fn thread_names() -> Vec<String> {
    let mut names = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").expect("procfs is mounted") {
        let comm = task.unwrap().path().join("comm");
        if let Ok(name) = std::fs::read_to_string(comm) {
            names.push(name.trim().to_owned());
        }
    }
    names
}

/// Whether a telemetry delivery worker runs in this process.
pub fn worker_running() -> bool {
    // `comm` is cut to 15 bytes by the kernel.
    let name = &telemetry::__diagnostics::WORKER_THREAD_NAME[..15];
    thread_names().iter().any(|n| n == name)
}

/// A command for `program` with an empty environment but `HOME` = `home` and `PATH`:
/// nothing of the machine's own environment (CI variables, `DO_NOT_TRACK`, proxies,
/// `XDG_*` dirs) can change what a test observes, whatever the CI service sets.
pub fn command_in_home(program: impl AsRef<std::ffi::OsStr>, home: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd.env("HOME", home);
    cmd
}

/// Every file below `dir`, relative to it, sorted (empty when `dir` does not exist).
pub fn files_below(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            out.push(path.strip_prefix(base).unwrap().display().to_string());
            if path.is_dir() {
                walk(base, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Runs the example tool `exe` (pass `env!("CARGO_BIN_EXE_demo")`) with `HOME` = `home`,
/// a clean telemetry environment plus `env`, and waits for it.
pub fn run_demo(exe: &str, home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = command_in_home(exe, home);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the demo binary runs")
}

/// The demo's telemetry data dir under `home` (Linux layout).
pub fn demo_data_dir(home: &Path) -> PathBuf {
    home.join(".local/share/demo/telemetry")
}

/// The demo's config dir under `home` (Linux layout).
pub fn demo_config_dir(home: &Path) -> PathBuf {
    home.join(".config/demo")
}

/// The demo's local event log under `home`.
pub fn demo_log(home: &Path) -> PathBuf {
    demo_data_dir(home).join("events.jsonl")
}

/// One line of a JSON-lines event log, read with the tests' own idea of the wire
/// format (the library deliberately has no public way to parse text into an `Event`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct LoggedEvent {
    pub event_id: String,
    pub name: String,
    pub tool: String,
    pub tool_version: String,
    pub machine_id: String,
    pub session_id: String,
    pub timestamp_utc: String,
    pub os: String,
    pub arch: String,
    #[serde(default)]
    pub duration_ms: Option<f64>,
    #[serde(deserialize_with = "outcome_by_name")]
    pub outcome: telemetry::Outcome,
    #[serde(default)]
    pub error_kind: Option<String>,
    #[serde(default)]
    pub attrs: std::collections::BTreeMap<String, serde_json::Value>,
}

/// An outcome by its wire name (`Outcome::as_str`): the tests' reading of the field.
fn outcome_by_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<telemetry::Outcome, D::Error> {
    let name = <String as serde::Deserialize>::deserialize(d)?;
    name.parse()
        .map_err(|e| serde::de::Error::custom(format!("{name:?}: {e}")))
}

/// The events of one spool file, read with the tests' own idea of its format: JSON
/// lines, each an event; a line `{"spool":2,...}` gives the process's fields (tool,
/// version, ids, platform) of the event lines after it, which leave them out. Lines
/// that are not events (a truncated last line) are skipped.
pub fn spool_file_events(text: &str) -> Vec<LoggedEvent> {
    let mut process: Option<serde_json::Map<String, serde_json::Value>> = None;
    let mut events = Vec::new();
    for line in text.lines() {
        let Ok(serde_json::Value::Object(mut fields)) = serde_json::from_str(line) else {
            continue;
        };
        if let Some(format) = fields.remove("spool") {
            process = (format == 2).then_some(fields);
            continue;
        }
        for (key, value) in process.iter().flatten() {
            fields.entry(key.clone()).or_insert_with(|| value.clone());
        }
        if let Ok(event) = serde_json::from_value(serde_json::Value::Object(fields)) {
            events.push(event);
        }
    }
    events
}

/// Every event of a JSON-lines log (none if the file does not exist).
pub fn read_events(path: &Path) -> Vec<LoggedEvent> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("every logged line is an event"))
        .collect()
}

/// Every event in the demo's local log (none if there is no log).
pub fn demo_events(home: &Path) -> Vec<LoggedEvent> {
    std::fs::read_to_string(demo_log(home))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("every logged line is an event"))
        .collect()
}

/// Fails, listing what it found, unless there is no file or directory below `dir`.
#[track_caller]
pub fn assert_no_files(dir: &Path) {
    let found = files_below(dir);
    assert!(
        found.is_empty(),
        "expected nothing below {}: {found:?}",
        dir.display()
    );
}

/// The uid this process creates files as (the owner of a file it just wrote).
#[cfg(unix)]
pub fn current_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    let probe = std::env::temp_dir().join(format!("uid-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").expect("the temp dir is writable");
    let uid = std::fs::metadata(&probe).expect("just written").uid();
    let _ = std::fs::remove_file(&probe);
    uid
}

/// A uid other than this process's, for files "of another user" made with `chown`:
/// `Some` only when running as root (only root may give a file away). Otherwise prints
/// why `test` is skipped and returns `None`.
#[cfg(unix)]
pub fn other_uid_or_skip(test: &str) -> Option<u32> {
    let uid = current_uid();
    if uid == 0 {
        Some(4242)
    } else {
        eprintln!(
            "skipped {test}: it needs root to chown files to a second uid (running as uid {uid})"
        );
        None
    }
}

/// Gives `path` (not following a link) to `uid`.
#[cfg(unix)]
pub fn chown(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).expect("chown as root");
}

/// Sets `path`'s permission bits.
#[cfg(unix)]
pub fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// `path`'s permission bits (not following a link).
#[cfg(unix)]
pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o7777
}

/// A machine id of the right shape (64 lowercase hex digits) that is not this
/// machine's.
pub const SAMPLE_MACHINE_ID: &str =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// An event as the library makes it for the tool `tool` (salt = the tool's name),
/// version `version`, with its data in `data_dir`: what a test writes into a spool
/// itself (replay refuses events this binary could not have made; the name must be
/// declared in the test binary, e.g. by a `record!` site).
pub fn spooled_event(
    name: &'static str,
    tool: &'static str,
    version: &'static str,
    data_dir: &Path,
) -> telemetry::Event {
    let machine_id = telemetry::MachineId::derive_in(tool, data_dir);
    // The test's own leak, for `Event::new`'s `&'static str`.
    let machine_id: &'static str = Box::leak(machine_id.into_boxed_str());
    telemetry::Event::new(name, tool, version, machine_id)
}
