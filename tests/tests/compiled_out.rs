//! With the `collect` feature off, every entry point is a no-op, even with an explicit
//! `Enabled` policy. (Run by `cargo test -p telemetry-tests --no-default-features`.)
#![cfg(not(feature = "collect"))]

use std::time::Duration;

use telemetry::sink::MemorySink;
use telemetry::{CollectionPolicy, TelemetryContext};

#[test]
fn enabled_policy_is_ignored_when_compiled_out() {
    let dir = tempfile::tempdir().unwrap();
    let sink = MemorySink::new();
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1"))
        .data_dir(dir.path())
        .local_log()
        .sink(sink.clone())
        .policy(CollectionPolicy::Enabled)
        .build()
        .unwrap();
    assert_eq!(ctx.policy(), CollectionPolicy::Disabled);
    let guard = telemetry::init(ctx.clone());
    assert!(!telemetry::__private::enabled());
    telemetry::record!(ctx, "cmd.build", jobs = 1).unwrap();
    ctx.flush_blocking(Duration::from_secs(1)).unwrap();
    drop(guard);
    assert!(sink.snapshot().is_empty());
    assert_eq!(telemetry::__diagnostics::machine_id_derivations(), 0);
    assert!(!telemetry_tests::worker_running());
    telemetry_tests::assert_no_files(dir.path());
}
