//! The worker of an installed, enabled context with a spool gets ready while the tool
//! works, so that the exit only writes: each direct sink's `prepare` is called (the
//! local log's directory is made) before any event. The machine id is not derived
//! until an event needs it (a run may record nothing: a `reset`, a dry run). Nothing
//! of the kind for a context that is not installed or is disabled. Its own test
//! binary: `init` installs process-wide, and the counts are process-wide.

// A context with a spool needs feature `spool`; the default build has none.
#![cfg(all(feature = "collect", feature = "spool"))]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use telemetry::sink::TelemetrySink;
use telemetry::{CollectionPolicy, Event, SendMode, TelemetryContext, TelemetryError};
use telemetry_tests::{assert_no_files, worker_running};

/// A local sink that counts `prepare` calls and events.
#[derive(Default)]
struct Counting {
    prepared: AtomicUsize,
    events: AtomicUsize,
}

#[async_trait::async_trait]
impl TelemetrySink for Counting {
    async fn emit(&self, _event: &Event) -> Result<(), TelemetryError> {
        self.events.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    async fn prepare(&self) -> Result<(), TelemetryError> {
        self.prepared.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn is_local(&self) -> bool {
        true
    }
}

/// A sink that is not local (so the context has a spool) and takes everything.
struct Remote;

#[async_trait::async_trait]
impl TelemetrySink for Remote {
    async fn emit(&self, _event: &Event) -> Result<(), TelemetryError> {
        Ok(())
    }
}

fn context(dir: &Path, sink: &Arc<Counting>, policy: CollectionPolicy) -> TelemetryContext {
    TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1"))
        .env(telemetry::consent::Env::empty())
        .data_dir(dir.join("data"))
        .config_dir(dir.join("config"))
        .sink(Arc::clone(sink))
        .sink(Remote)
        .local_log()
        .policy(policy)
        // No detached uploader: it would start this test binary again.
        .send_mode(SendMode::AtExit)
        .build()
        .unwrap()
}

/// Waits (up to 10 s, polling) for `done`: the worker works on its own thread.
fn eventually(what: &str, done: impl Fn() -> bool) {
    let until = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < until, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn an_installed_enabled_context_gets_ready_before_its_first_event_and_no_other_does() {
    // Disabled and installed: nothing at all.
    let off = tempfile::tempdir().unwrap();
    let sink = Arc::new(Counting::default());
    let guard = telemetry::init(context(off.path(), &sink, CollectionPolicy::Disabled));
    std::thread::sleep(Duration::from_millis(100));
    assert!(!worker_running());
    drop(guard);
    assert_eq!(sink.prepared.load(Ordering::SeqCst), 0);
    assert_eq!(telemetry::__diagnostics::machine_id_derivations(), 0);
    assert_no_files(off.path());

    // Enabled but not installed: the worker starts with the first event, as before,
    // and gets nothing ready ahead.
    let loose = tempfile::tempdir().unwrap();
    let sink = Arc::new(Counting::default());
    let ctx = context(loose.path(), &sink, CollectionPolicy::Enabled);
    std::thread::sleep(Duration::from_millis(100));
    assert!(!worker_running());
    telemetry::record!(ctx, "cmd.loose").unwrap();
    ctx.flush_blocking(Duration::from_secs(5)).unwrap();
    assert_eq!(sink.events.load(Ordering::SeqCst), 1);
    assert_eq!(sink.prepared.load(Ordering::SeqCst), 0);
    drop(ctx);
    let derived_before = telemetry::__diagnostics::machine_id_derivations();

    // Enabled and installed: ready before any event, once; no machine id yet.
    let on = tempfile::tempdir().unwrap();
    let sink = Arc::new(Counting::default());
    let ctx = context(on.path(), &sink, CollectionPolicy::Enabled);
    let guard = telemetry::init(ctx.clone());
    eventually("the sinks prepared", || {
        sink.prepared.load(Ordering::SeqCst) == 1
    });
    let log = ctx.local_log_path().unwrap().to_owned();
    eventually("the local log's directory made", || {
        log.parent().is_some_and(Path::is_dir)
    });
    eventually("the spool's next file prepared", || {
        telemetry_tests::files_below(&on.path().join("data/spool"))
            .iter()
            .any(|f| f.contains(".jsonl.claim-"))
    });
    assert!(!log.exists(), "no event yet, so no log file");
    assert_eq!(sink.events.load(Ordering::SeqCst), 0);
    assert_eq!(
        telemetry::__diagnostics::machine_id_derivations(),
        derived_before,
        "no machine id before an event needs one"
    );

    telemetry::record!(ctx, "cmd.installed").unwrap();
    drop(guard);
    assert_eq!(sink.events.load(Ordering::SeqCst), 1);
    assert_eq!(sink.prepared.load(Ordering::SeqCst), 1, "prepared once");
    assert_eq!(
        telemetry::__diagnostics::machine_id_derivations(),
        derived_before + 1,
        "derived once"
    );
    let logged = telemetry_tests::read_events(&log);
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].name, "cmd.installed");
}
