//! Ends of a process that run no guard, with real processes: Ctrl-C (`SIGINT`) and
//! `SIGTERM` sent to the demo while it runs `watch`, and a panic hook that exits.
//! The demo opts in with `telemetry::signals::record_interruptions()` (unless
//! `DEMO_SIGNALS=0`) and `track_open_calls()` for its panic hook.
#![cfg(all(unix, feature = "collect"))]

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use telemetry::Outcome;
use telemetry_tests::{command_in_home, demo_events};

const DEMO: &str = env!("CARGO_BIN_EXE_demo");
const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;
/// Bounds every wait: a demo that does not react fails the test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(30);

/// A running `demo watch`, started through `sh -c` when `shell` is given (to set up
/// the signals it inherits), with the lines it writes on stderr.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Watch {
    /// Starts `demo watch` with telemetry on and returns once it is watching (it
    /// said so on stderr).
    fn start(home: &Path, env: &[(&str, &str)], shell: Option<&str>) -> Self {
        let mut cmd = match shell {
            Some(script) => {
                let mut cmd = command_in_home("sh", home);
                cmd.args(["-c", &format!("{script}; exec \"$0\" watch"), DEMO]);
                cmd
            }
            None => {
                let mut cmd = command_in_home(DEMO, home);
                cmd.arg("watch");
                cmd
            }
        };
        cmd.env("DEMO_TELEMETRY", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the demo starts");
        let stderr = child.stderr.take().expect("piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut watch = Self { child, lines };
        watch.wait_for_line("watching");
        // Some time inside the tracked call, so that it has a duration.
        std::thread::sleep(Duration::from_millis(100));
        watch
    }

    fn wait_for_line(&mut self, needle: &str) -> String {
        let until = Instant::now() + PATIENCE;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(e) => {
                    let _ = self.child.kill();
                    panic!("no line with {needle:?} from the demo: {e}");
                }
            }
        }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal}");
    }

    /// The exit status, or `None` if the demo is still running after `within`.
    fn exited_within(&mut self, within: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status);
            }
            if Instant::now() >= until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn exit_status(mut self) -> ExitStatus {
        match self.exited_within(PATIENCE) {
            Some(status) => status,
            None => {
                let _ = self.child.kill();
                panic!("the demo did not end within {PATIENCE:?}");
            }
        }
    }
}

#[test]
fn ctrl_c_records_the_running_command_as_interrupted_and_ends_by_the_signal() {
    let home = tempfile::tempdir().unwrap();
    let watch = Watch::start(home.path(), &[], None);
    watch.signal("INT");
    let status = watch.exit_status();
    assert_eq!(
        status.signal(),
        Some(SIGINT),
        "killed by SIGINT: {status:?}"
    );
    assert_eq!(status.code(), None);
    let events = demo_events(home.path());
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].name, "cmd.watch");
    assert_eq!(events[0].outcome, Outcome::Interrupted);
    assert_eq!(events[0].error_kind, None);
    assert!(
        events[0].duration_ms.is_some_and(|ms| ms >= 100.0),
        "timed until the signal: {:?}",
        events[0]
    );
}

#[test]
fn sigterm_records_the_running_command_as_interrupted_and_ends_by_the_signal() {
    let home = tempfile::tempdir().unwrap();
    let watch = Watch::start(home.path(), &[], None);
    watch.signal("TERM");
    let status = watch.exit_status();
    assert_eq!(status.signal(), Some(SIGTERM), "{status:?}");
    let events = demo_events(home.path());
    let outcomes: Vec<_> = events.iter().map(|e| (&*e.name, e.outcome)).collect();
    assert_eq!(outcomes, [("cmd.watch", Outcome::Interrupted)]);
}

/// Without the opt-in the library installs no handler: the signal's default action
/// ends the process as before, and the running command is not recorded.
#[test]
fn without_the_opt_in_a_signal_ends_the_process_as_before_and_records_nothing() {
    let home = tempfile::tempdir().unwrap();
    let watch = Watch::start(home.path(), &[("DEMO_SIGNALS", "0")], None);
    watch.signal("INT");
    let status = watch.exit_status();
    assert_eq!(status.signal(), Some(SIGINT), "{status:?}");
    assert_eq!(demo_events(home.path()), []);
}

/// A signal the process was started with ignored (`nohup`, `trap '' INT`) stays
/// ignored: the opt-in never turns it into an end of the process.
#[test]
fn an_ignored_signal_stays_ignored() {
    let home = tempfile::tempdir().unwrap();
    let mut watch = Watch::start(home.path(), &[], Some("trap '' INT"));
    watch.signal("INT");
    assert_eq!(
        watch.exited_within(Duration::from_millis(500)),
        None,
        "SIGINT is still ignored"
    );
    assert_eq!(demo_events(home.path()), []);
    // SIGTERM was not ignored: the library handles it.
    watch.signal("TERM");
    let status = watch.exit_status();
    assert_eq!(status.signal(), Some(SIGTERM), "{status:?}");
    let events = demo_events(home.path());
    let outcomes: Vec<_> = events.iter().map(|e| (&*e.name, e.outcome)).collect();
    assert_eq!(outcomes, [("cmd.watch", Outcome::Interrupted)]);
}

/// The panic hook recipe: a hook that ends the process with `telemetry::exit(101)`
/// (after `track_open_calls()`) records the panicking command as `panic`, which a hook
/// calling `std::process::exit` loses.
#[test]
fn a_panic_hook_that_exits_keeps_the_panicking_command() {
    let home = tempfile::tempdir().unwrap();
    let out = command_in_home(DEMO, home.path())
        .arg("crash")
        .env("DEMO_TELEMETRY", "1")
        .output()
        .expect("the demo runs");
    assert_eq!(out.status.code(), Some(101), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("demo: internal error"), "{stderr}");
    let events = demo_events(home.path());
    let outcomes: Vec<_> = events.iter().map(|e| (&*e.name, e.outcome)).collect();
    assert_eq!(outcomes, [("cmd.crash", Outcome::Panic)]);
}
