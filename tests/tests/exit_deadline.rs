//! The exit returns on time even when a sink never answers: at once by default (it
//! only persists), within the deadline when the tool asked to send at exit. Without
//! the `spool` feature the hanging sink is written directly (at most once), and the
//! deadline holds the same.
#![cfg(feature = "collect")]

use std::time::{Duration, Instant};

use telemetry::{CollectionPolicy, TelemetryContext, TelemetryContextBuilder};
use telemetry_tests::HangingSink;

/// A context with a sink that never answers, delivered as the build allows.
fn hanging() -> TelemetryContextBuilder {
    let builder = TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1"))
        .sink(HangingSink)
        .policy(CollectionPolicy::Enabled);
    if cfg!(feature = "spool") {
        builder
    } else {
        builder.delivery_mode(telemetry::DeliveryMode::AtMostOnce)
    }
}

#[test]
fn guard_drop_returns_within_the_deadline_when_a_sink_hangs() {
    let data = tempfile::tempdir().unwrap();
    let ctx = hanging()
        .data_dir(data.path())
        .send_mode(telemetry::SendMode::AtExit)
        .deadline(Duration::from_millis(100))
        .build()
        .unwrap();
    let guard = telemetry::init(ctx.clone());
    for i in 0..10 {
        telemetry::record!(ctx, "cmd.build", i = i).unwrap();
    }
    let started = Instant::now();
    drop(guard);
    let took = started.elapsed();
    // A generous margin: the check is "returns", not a benchmark.
    assert!(took < Duration::from_secs(2), "guard drop took {took:?}");
    assert!(
        took >= Duration::from_millis(100),
        "it did wait for the sink: {took:?}"
    );
    assert!(telemetry::global().is_none());
}

#[test]
fn flush_blocking_reports_a_timeout() {
    let data = tempfile::tempdir().unwrap();
    let ctx = hanging().data_dir(data.path()).build().unwrap();
    telemetry::record!(ctx, "cmd.build", i = 1).unwrap();
    let err = ctx.flush_blocking(Duration::from_millis(50)).unwrap_err();
    assert!(
        matches!(err, telemetry::TelemetryError::Timeout { .. }),
        "{err:?}"
    );
}
