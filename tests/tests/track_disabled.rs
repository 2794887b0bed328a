//! `#[telemetry::track]` with telemetry off — a disabled context, no context, or
//! collection compiled out (`--no-default-features`): tracked functions run as usual and
//! nothing reaches the sink.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use telemetry::sink::MemorySink;
use telemetry::{CollectionPolicy, TelemetryContext};

/// The global context is process-wide: one test at a time installs it.
static SERIAL: Mutex<()> = Mutex::new(());

#[telemetry::track("off.build", attrs(kind = "full"), capture(jobs))]
fn build(jobs: u16, fail: bool) -> Result<u16, std::fmt::Error> {
    if fail { Err(std::fmt::Error) } else { Ok(jobs) }
}

#[telemetry::track("off.panics")]
fn panics() {
    panic!("quiet")
}

#[telemetry::track("off.fetch", capture(id))]
async fn fetch(id: u32) -> u32 {
    id
}

/// How many times a capture expression or a classifier ran.
static EVALUATED: AtomicUsize = AtomicUsize::new(0);

fn probe() -> bool {
    EVALUATED.fetch_add(1, Ordering::SeqCst);
    true
}

#[derive(telemetry::SafeValue)]
enum Failure {
    Format,
}

fn classify(_: &std::fmt::Error) -> Failure {
    EVALUATED.fetch_add(1, Ordering::SeqCst);
    Failure::Format
}

#[telemetry::track("off.computed", capture(probed = probe()), error = classify)]
fn computed() -> Result<(), std::fmt::Error> {
    Err(std::fmt::Error)
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// Runs every tracked function once; returns how many times a capture expression or
/// a classifier ran.
fn run_everything() -> usize {
    let before = EVALUATED.load(Ordering::SeqCst);
    assert_eq!(build(2, false), Ok(2));
    assert!(build(2, true).is_err());
    assert!(std::panic::catch_unwind(panics).is_err());
    assert_eq!(block_on(fetch(3)), 3);
    assert!(computed().is_err());
    EVALUATED.load(Ordering::SeqCst) - before
}

#[test]
fn a_disabled_context_records_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let sink = MemorySink::new();
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("offtool", "1"))
        .salt("s")
        .sink(sink.clone())
        .policy(CollectionPolicy::Disabled)
        .build()
        .unwrap();
    let guard = telemetry::init(ctx.clone());
    assert!(!telemetry::__private::enabled());
    // Capture expressions and classifiers are not even evaluated.
    assert_eq!(run_everything(), 0);
    ctx.flush_blocking(Duration::from_secs(10)).unwrap();
    drop(guard);
    assert!(sink.snapshot().is_empty(), "{:?}", sink.snapshot());
}

#[test]
fn without_a_context_tracked_functions_just_run() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    assert!(telemetry::global().is_none());
    assert!(!telemetry::__private::enabled());
    assert_eq!(run_everything(), 0);
}

/// The same checks are not blind: with collection compiled in, the same calls reach
/// the sink of an enabled context.
#[cfg(feature = "collect")]
#[test]
fn the_same_calls_are_recorded_when_enabled() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let sink = MemorySink::new();
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("offtool", "1"))
        .data_dir(std::env::temp_dir().join("telemetry-tests-data"))
        .salt("s")
        .sink(sink.clone())
        .policy(CollectionPolicy::Enabled)
        .build()
        .unwrap();
    let guard = telemetry::init(ctx.clone());
    // The capture expression and the classifier.
    assert_eq!(run_everything(), 2);
    ctx.flush_blocking(Duration::from_secs(10)).unwrap();
    drop(guard);
    let mut names: Vec<String> = sink
        .snapshot()
        .into_iter()
        .map(|e| e.name().to_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "off.build",
            "off.build",
            "off.computed",
            "off.fetch",
            "off.panics"
        ]
    );
}
