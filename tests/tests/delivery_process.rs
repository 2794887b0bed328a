//! Delivery across real processes: the example tool exits on time against a black hole
//! and a later run delivers what it left; a process killed with SIGKILL mid-send loses
//! nothing; two processes replaying one spool deliver each event once; an unwritable
//! data dir changes nothing for the tool.
//!
//! The "child" processes of the last three tests are this test binary itself, run with
//! `DELIVERY_CHILD` set (see [`child_workload`]).
#![cfg(all(feature = "collect", feature = "http"))]

mod delivery_support;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use delivery_support::{BlackHole, Reply, Server, jsonl, spooled, write_ready_file};
use telemetry::sink::HttpSink;
use telemetry::{CollectionPolicy, Event, TelemetryContext};
use telemetry_tests::command_in_home;

fn demo(home: &Path, args: &[&str], endpoint: &str) -> (Output, Duration) {
    demo_with(home, args, endpoint, &[])
}

fn demo_with(
    home: &Path,
    args: &[&str],
    endpoint: &str,
    env: &[(&str, &str)],
) -> (Output, Duration) {
    let mut cmd = command_in_home(env!("CARGO_BIN_EXE_demo"), home);
    cmd.args(args)
        .env("DEMO_TELEMETRY", "1")
        .env("DEMO_TELEMETRY_ENDPOINT", endpoint)
        .envs(env.iter().copied());
    let started = Instant::now();
    let out = cmd.output().unwrap();
    (out, started.elapsed())
}

fn demo_spool(home: &Path) -> PathBuf {
    home.join(".local/share/demo/telemetry/spool")
}

#[test]
fn against_a_black_hole_the_tool_exits_on_time_and_the_uploader_delivers_later() {
    let home = tempfile::tempdir().unwrap();
    let hole = BlackHole::start();
    let knobs = [
        ("DEMO_UPLOAD_INTERVAL_MS", "0"),
        ("DEMO_UPLOAD_LIMIT_MS", "1500"),
    ];
    let (out, took) = demo_with(home.path(), &["build"], &hole.url("/v1/events"), &knobs);
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty());
    // No network on the exit path; the margin covers process start-up on a loaded
    // machine.
    assert!(took < Duration::from_secs(3), "exit took {took:?}");
    let left = spooled(&demo_spool(home.path()));
    assert_eq!(left.len(), 1, "the event waits on disk");
    assert_eq!(left[0].name, "cmd.build");
    // The uploader the run started tries the black hole until its time limit.
    wait_for_no_uploader(&demo_spool(home.path()));
    assert_eq!(spooled(&demo_spool(home.path())).len(), 1, "still kept");

    let server = Server::start(Reply::Status(200));
    let (out, _) = demo_with(home.path(), &["test"], &server.url("/v1/events"), &knobs);
    assert!(out.status.success());
    let until = Instant::now() + Duration::from_secs(20);
    while server.accepted_ids().len() < 2 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let ids = server.accepted_ids();
    assert!(
        ids.contains(&left[0].event_id),
        "the spooled event was delivered with its event_id by the next uploader: {ids:?}"
    );
    assert_eq!(ids.len(), 2, "and the new run's event, each once");
    wait_for_no_uploader(&demo_spool(home.path()));
    assert!(spooled(&demo_spool(home.path())).is_empty());
}

/// Waits (bounded) until no process holds the uploader's lock in `spool`.
fn wait_for_no_uploader(spool: &Path) {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let free = std::fs::OpenOptions::new()
            .write(true)
            .open(spool.join("upload.lock"))
            .map_or(true, |f| f.try_lock().is_ok());
        if free {
            return;
        }
        assert!(
            Instant::now() < until,
            "an uploader outlived its time limit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn against_a_hanging_server_the_tool_exits_on_time() {
    let home = tempfile::tempdir().unwrap();
    let server = Server::start(Reply::Hang);
    let (out, took) = demo(home.path(), &["fail"], &server.url("/v1/events"));
    assert_eq!(out.status.code(), Some(1), "the tool's exit code is kept");
    assert!(took < Duration::from_secs(3), "exit took {took:?}");
    assert_eq!(spooled(&demo_spool(home.path())).len(), 1);
}

#[test]
fn an_unwritable_data_dir_changes_nothing_for_the_tool() {
    let home = tempfile::tempdir().unwrap();
    // The tool's data dir would be below a regular file: every create fails, even as root.
    std::fs::create_dir_all(home.path().join(".local/share")).unwrap();
    std::fs::write(home.path().join(".local/share/demo"), b"").unwrap();
    let server = Server::start(Reply::Status(200));
    for (args, code) in [(&["build"][..], 0), (&["fail"][..], 1)] {
        let (out, took) = demo(home.path(), args, &server.url("/v1/events"));
        assert_eq!(out.status.code(), Some(code), "{out:?}");
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(took < Duration::from_secs(3), "exit took {took:?}");
    }
}

/// The workload of a child process; a no-op in a normal test run.
#[test]
fn child_workload() {
    let Ok(mode) = std::env::var("DELIVERY_CHILD") else {
        return;
    };
    let url = std::env::var("DELIVERY_URL").unwrap();
    let dir = std::env::var("DELIVERY_DIR").unwrap();
    let sink = HttpSink::builder(&url)
        .allow_insecure_http(true)
        .request_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1"))
        .data_dir(dir)
        .sink(sink)
        .batch_size(5)
        .policy(CollectionPolicy::Enabled)
        .build()
        .unwrap();
    match mode.as_str() {
        "send" => {
            for i in 0..20 {
                telemetry::record!(ctx, "cmd.step", i = i).unwrap();
            }
            let _ = ctx.flush_blocking(Duration::from_millis(100));
            // Stay in the middle of sending until killed.
            std::thread::sleep(Duration::from_secs(60));
        }
        "replay" => {
            telemetry::record!(ctx, "cmd.replay", pid = i64::from(std::process::id())).unwrap();
            ctx.flush_blocking(Duration::from_secs(60)).unwrap();
        }
        other => panic!("unknown child mode {other}"),
    }
}

fn child(mode: &str, url: &str, dir: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child_workload", "--test-threads=1"])
        .env("DELIVERY_CHILD", mode)
        .env("DELIVERY_URL", url)
        .env("DELIVERY_DIR", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

#[test]
fn a_process_killed_mid_send_loses_nothing_it_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    let hang = Server::start(Reply::Hang);
    let mut sender = child("send", &hang.url("/"), dir.path()).spawn().unwrap();
    // Wait (bounded) until the child is mid-request and has journaled everything.
    let until = Instant::now() + Duration::from_secs(30);
    while (hang.requests().is_empty() || spooled(&spool).len() < 20) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let accepted: HashSet<String> = spooled(&spool).into_iter().map(|e| e.event_id).collect();
    assert_eq!(accepted.len(), 20, "journaled before the kill");
    assert!(!hang.requests().is_empty(), "the child was sending");
    sender.kill().unwrap(); // SIGKILL
    sender.wait().unwrap();

    let server = Server::start(Reply::Status(200));
    let out = child("replay", &server.url("/"), dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let delivered: Vec<String> = server.accepted_ids();
    let unique: HashSet<&String> = delivered.iter().collect();
    for id in &accepted {
        assert!(unique.contains(id), "event {id} was lost");
    }
    assert_eq!(unique.len(), 21, "the 20 accepted events and the new one");
    assert!(spooled(&spool).is_empty());
}

#[test]
fn two_processes_replaying_one_spool_deliver_each_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    let mut ids = HashSet::new();
    for f in 0..30 {
        let events: Vec<Event> = (0..4)
            .map(|i| {
                telemetry_tests::spooled_event("cmd.old", "mytool", "1", dir.path())
                    .with_attr("i", i)
            })
            .collect();
        ids.extend(events.iter().map(|e| e.event_id().to_owned()));
        write_ready_file(&spool, f, &jsonl(&events));
    }
    let server = Server::start(Reply::Slow(200, Duration::from_millis(5)));
    let children: Vec<_> = (0..2)
        .map(|_| {
            child("replay", &server.url("/"), dir.path())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for id in server.accepted_ids() {
        *seen.entry(id).or_default() += 1;
    }
    for id in &ids {
        assert_eq!(seen.get(id), Some(&1), "event {id} delivered once");
    }
    assert_eq!(seen.len(), 122, "120 replayed + one new event per process");
    assert!(spooled(&spool).is_empty());
}
