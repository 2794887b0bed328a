//! What a build without the `spool` feature (the default: no network sink) does: only
//! sinks it writes directly, no spool on disk, no sender thread, no uploader; and a sink
//! that is not local is refused unless the author chose at-most-once delivery.
//!
//! Runs in CI in the default-features step, `cargo test -p telemetry -p telemetry-tests`
//! (`.ci/run`); the workspace-wide run has every feature, `spool` included, and
//! compiles this file out.
#![cfg(all(feature = "collect", not(feature = "spool")))]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use telemetry::cli::{Status, TelemetryCommand};
use telemetry::consent::Env;
use telemetry::sink::{MemorySink, TelemetrySink};
use telemetry::{
    CollectionPolicy, DeliveryMode, Event, SendMode, TelemetryContext, TelemetryError,
};
use telemetry_tests::{
    demo_data_dir, demo_log, files_below, run_demo, thread_names, worker_running,
};

/// A sink that keeps what it gets, and does not say it is local.
#[derive(Clone, Default)]
struct Remote(Arc<Mutex<Vec<String>>>);

#[async_trait]
impl TelemetrySink for Remote {
    async fn emit(&self, event: &Event) -> Result<(), TelemetryError> {
        self.0.lock().unwrap().push(event.name().to_owned());
        Ok(())
    }
}

#[test]
fn a_sink_that_is_not_local_needs_the_spool_feature_or_at_most_once() {
    let data = tempfile::tempdir().unwrap();
    let builder = || {
        TelemetryContext::builder()
            .tool(telemetry::tool!("mytool", "1"))
            .data_dir(data.path())
            .policy(CollectionPolicy::Enabled)
    };
    let refused = builder().sink(Remote::default()).build().unwrap_err();
    assert!(
        matches!(&refused, TelemetryError::Config(m) if m.contains("`spool` feature")),
        "{refused}"
    );

    let remote = Remote::default();
    let ctx = builder()
        .sink(remote.clone())
        .delivery_mode(DeliveryMode::AtMostOnce)
        .build()
        .unwrap();
    assert_eq!(ctx.delivery_mode(), DeliveryMode::AtMostOnce);
    for _ in 0..3 {
        telemetry::record!(ctx, "cmd.build").unwrap();
    }
    ctx.flush_blocking(Duration::from_secs(10)).unwrap();
    assert_eq!(remote.0.lock().unwrap().len(), 3);
    assert!(ctx.spool_dir().is_none());
    assert!(
        files_below(data.path()).is_empty(),
        "{:?}",
        files_below(data.path())
    );
}

#[test]
fn the_local_log_is_written_and_nothing_else() {
    let data = tempfile::tempdir().unwrap();
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1"))
        .data_dir(data.path())
        .policy(CollectionPolicy::Enabled)
        .local_log()
        .build()
        .unwrap();
    let guard = telemetry::init(ctx.clone());
    telemetry::record!(ctx, "cmd.build").unwrap();
    ctx.flush_blocking(Duration::from_secs(10)).unwrap();
    // While the context delivers, the worker is the only thread the library runs (no
    // sender, no uploader, no request thread): every thread with the library's prefix
    // in this process is a worker (the other tests here start workers too). The kernel
    // cuts a thread's name to 15 bytes.
    assert!(worker_running());
    let worker = &telemetry::__diagnostics::WORKER_THREAD_NAME[..15];
    let ours: Vec<String> = thread_names()
        .into_iter()
        .filter(|n| n.starts_with("telemetry"))
        .collect();
    assert!(ours.iter().all(|n| n == worker), "{ours:?}");
    drop(guard);
    let files = files_below(data.path());
    assert!(
        files.iter().any(|f| f.ends_with("events.jsonl")),
        "{files:?}"
    );
    assert!(!files.iter().any(|f| f.contains("spool")), "{files:?}");
}

#[test]
fn the_demo_records_locally_and_keeps_no_spool() {
    let home = tempfile::tempdir().unwrap();
    let out = run_demo(
        env!("CARGO_BIN_EXE_demo"),
        home.path(),
        &["build"],
        &[("DEMO_TELEMETRY", "1")],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = std::fs::read_to_string(demo_log(home.path())).unwrap();
    assert!(text.contains("\"cmd.build\""), "{text}");
    let files = files_below(&demo_data_dir(home.path()));
    assert!(!files.iter().any(|f| f.contains("spool")), "{files:?}");
}

/// Whether a sink that is not local is refused depends on the author's code alone:
/// `<TOOL>_TELEMETRY_DRY_RUN` (every sink replaced by stderr) and `<TOOL>_TELEMETRY_LOCAL`
/// (the remote sinks dropped) leave no remote sink to refuse, but the tool would fail
/// for every user without them.
#[test]
fn the_refusal_does_not_depend_on_the_users_environment() {
    let dir = tempfile::tempdir().unwrap();
    for var in ["MYTOOL_TELEMETRY_DRY_RUN", "MYTOOL_TELEMETRY_LOCAL"] {
        let builder = || {
            let env = Env::empty()
                .with_config_dir(dir.path().join("config"))
                .with_var("MYTOOL_TELEMETRY", "1")
                .with_var(var, "1");
            TelemetryContext::builder()
                .tool(telemetry::tool!("mytool", "1"))
                .data_dir(dir.path().join("data"))
                .env(env)
                .sink(Remote::default())
        };
        let refused = builder().build().unwrap_err();
        assert!(
            matches!(&refused, TelemetryError::Config(m) if m.contains("`spool` feature")),
            "{var}: {refused}"
        );
        // The same environment does reach the context: at most once, it is built, and
        // the mode is on.
        let ctx = builder()
            .delivery_mode(DeliveryMode::AtMostOnce)
            .build()
            .unwrap();
        let status = Status::of(&ctx);
        assert!(status.enabled, "{var}");
        let on = if var.ends_with("DRY_RUN") {
            status.dry_run
        } else {
            status.local_only
        };
        assert!(on, "{var}: {status:?}");
    }
}

/// `telemetry status` says what a context without a spool does, whatever the send mode
/// (which only chooses when a spool is sent).
#[test]
fn status_says_the_worker_writes_the_sinks_directly() {
    let dir = tempfile::tempdir().unwrap();
    for mode in [SendMode::Background, SendMode::AtExit] {
        let local = TelemetryContext::builder().local_log();
        let remote = TelemetryContext::builder()
            .sink(Remote::default())
            .delivery_mode(DeliveryMode::AtMostOnce);
        for builder in [local, remote] {
            let ctx = builder
                .tool(telemetry::tool!("mytool", "1"))
                .data_dir(dir.path().join("data"))
                .config_dir(dir.path().join("config"))
                .policy(CollectionPolicy::Enabled)
                .send_mode(mode)
                .build()
                .unwrap();
            let mut out = Vec::new();
            TelemetryCommand::Status { json: false }
                .run_with_output(&ctx, &mut out)
                .unwrap();
            let text = String::from_utf8(out).unwrap();
            let sending = text
                .lines()
                .find(|l| l.starts_with("sending:"))
                .unwrap_or_default();
            assert!(
                sending.contains("the worker thread writes events to the sinks")
                    && sending.contains("(no spool)")
                    && sending.contains("at exit, what is still queued is written out"),
                "{text}"
            );
            assert!(
                !text.contains("uploader") && !text.contains("exit deadline"),
                "{text}"
            );
        }
    }
}

/// Writes a batch in `<data dir>/spool` as an earlier version of the tool with a
/// network sink left it (as `delivery_support::write_ready_file` does): two events.
fn leave_a_batch(data: &Path) -> std::path::PathBuf {
    let spool = data.join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    let path = spool.join(format!("{:020}-{}-000000.jsonl", 1, 4242));
    let lines: String = (0..2)
        .map(|_| {
            let event = Event::new("cmd.old", "mytool", "1", telemetry_tests::SAMPLE_MACHINE_ID);
            event.to_json() + "\n"
        })
        .collect();
    std::fs::write(&path, lines).unwrap();
    path
}

/// `disable` and `reset` delete the batches an earlier run left in the spool, and count
/// them, although this build has no spool of its own.
#[test]
fn disable_and_reset_delete_batches_an_earlier_run_left() {
    for command in ["disable", "reset"] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let batch = leave_a_batch(&data);
        let ctx = TelemetryContext::builder()
            .tool(telemetry::tool!("mytool", "1"))
            .data_dir(&data)
            .env(Env::empty().with_config_dir(dir.path().join("config")))
            .sink(MemorySink::new())
            .build()
            .unwrap();
        assert!(ctx.spool_dir().is_none());
        let dropped = match command {
            "disable" => ctx.disable().unwrap().dropped_events,
            _ => {
                let report = ctx.reset();
                assert!(report.is_complete(), "{report:?}");
                report.dropped_events
            }
        };
        assert!(!batch.exists(), "{command}: {:?}", files_below(&data));
        assert_eq!(dropped, 2, "{command}");
        assert!(!data.join("spool").exists(), "{command}");
    }
}
