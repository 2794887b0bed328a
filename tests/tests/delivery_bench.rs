//! Throughput figures for BENCHMARKS.md (measured, never asserted). Ignored by default:
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-delivery cargo test --release -p telemetry-tests \
//!     --features http --test delivery_bench -- --ignored --nocapture --test-threads=1
//! ```
#![cfg(all(feature = "collect", feature = "http"))]

mod delivery_support;

use std::time::{Duration, Instant};

use delivery_support::{Reply, Server};
use telemetry::sink::{FileSink, HttpSink};
use telemetry::{CollectionPolicy, DeliveryMode, TelemetryContext};

const EVENTS: usize = 200_000;

fn run(label: &str, builder: telemetry::TelemetryContextBuilder) {
    let ctx = builder
        .tool(telemetry::tool!("bench", "1"))
        .queue_capacity(EVENTS)
        .batch_size(500)
        .linger(Duration::from_millis(5))
        .policy(CollectionPolicy::Enabled)
        .build()
        .unwrap();
    // Warm-up: starts the worker (and sender), derives the machine id, opens connections.
    telemetry::record!(ctx, "bench.warmup", i = 0).unwrap();
    ctx.flush_blocking(Duration::from_secs(30)).unwrap();
    let started = Instant::now();
    for i in 0..EVENTS {
        telemetry::record!(ctx, "bench.event", i = i as i64).unwrap();
    }
    let recorded = started.elapsed();
    ctx.flush_blocking(Duration::from_secs(300)).unwrap();
    let total = started.elapsed();
    let stats = ctx.stats();
    assert_eq!(stats.delivered as usize, EVENTS + 1, "{stats:?}");
    println!(
        "{label}: {EVENTS} events delivered in {:.3} s = {:.0} events/s (recording: {:.0} ns/event on the caller's thread)",
        total.as_secs_f64(),
        EVENTS as f64 / total.as_secs_f64(),
        recorded.as_nanos() as f64 / EVENTS as f64,
    );
}

#[test]
#[ignore = "benchmark: run explicitly with --ignored --nocapture"]
fn sustained_throughput() {
    let dir = tempfile::tempdir().unwrap();
    run(
        "FileSink",
        TelemetryContext::builder()
            .data_dir(dir.path())
            .sink(FileSink::new(dir.path().join("events.jsonl"))),
    );
    let server = Server::start(Reply::Status(200));
    let http = || {
        HttpSink::builder(&server.url("/v1/events"))
            .allow_insecure_http(true)
            .build()
            .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    run(
        "HttpSink, at-least-once (spool)",
        TelemetryContext::builder()
            .data_dir(dir.path())
            .sink(http()),
    );
    let dir = tempfile::tempdir().unwrap();
    run(
        "HttpSink, at-most-once",
        TelemetryContext::builder()
            .data_dir(dir.path())
            .sink(http())
            .delivery_mode(DeliveryMode::AtMostOnce),
    );
}
