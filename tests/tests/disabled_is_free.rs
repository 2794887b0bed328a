//! A disabled context does no work: no machine id derived, no worker thread started,
//! no file created. Its own test binary, so no other test's worker is in the process.

use std::time::Duration;

use telemetry::sink::FileSink;
use telemetry::{CollectionPolicy, TelemetryContext};
use telemetry_tests::{assert_no_files, worker_running};

#[test]
fn disabled_context_derives_no_id_starts_no_thread_and_writes_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1"))
        .data_dir(dir.path().join("data"))
        .sink(FileSink::new(dir.path().join("events.jsonl")))
        .local_log()
        .policy(CollectionPolicy::Disabled)
        .build()
        .unwrap();
    let guard = telemetry::init(ctx.clone());
    for i in 0..100 {
        telemetry::record!(ctx, "cmd.build", i = i).unwrap();
    }
    tracked(7);
    ctx.flush_blocking(Duration::from_secs(1)).unwrap();
    telemetry::shutdown().unwrap();
    drop(guard);

    assert_eq!(telemetry::__diagnostics::machine_id_derivations(), 0);
    assert!(
        !worker_running(),
        "threads: {:?}",
        telemetry_tests::thread_names()
    );
    assert_no_files(dir.path());
    assert!(!telemetry::__private::enabled());

    #[cfg(feature = "collect")]
    the_same_checks_do_see_an_enabled_context();
}

/// A tracked call while the installed context is disabled: one flag load, nothing
/// recorded.
#[telemetry::track("cmd.tracked", capture(jobs))]
fn tracked(jobs: u16) -> u16 {
    jobs
}

/// The observations above are not blind: an enabled context is seen by each. (Run
/// after them, in the same test, so that no other test's worker is in the process.)
#[cfg(feature = "collect")]
fn the_same_checks_do_see_an_enabled_context() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1"))
        .data_dir(dir.path().join("data"))
        .local_log()
        .policy(CollectionPolicy::Enabled)
        .build()
        .unwrap();
    telemetry::record!(ctx, "cmd.build", i = 1).unwrap();
    ctx.flush_blocking(Duration::from_secs(10)).unwrap();
    assert!(worker_running());
    assert!(telemetry::__diagnostics::machine_id_derivations() >= 1);
    assert!(telemetry_tests::files_below(dir.path()).contains(&"data/events.jsonl".to_owned()));
}
