//! `#[track]` side by side with `tracing`, on the same trivial function.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-bench cargo bench -p telemetry --bench track -- \
//!     --warm-up-time 1 --measurement-time 3
//! ```
//!
//! The order of the cases matters and is fixed: `tracing` without a subscriber is
//! measured before any dispatcher was ever installed in this process (afterwards its
//! fast path must also check the thread-local scoped dispatcher), and the telemetry
//! cases install their global context one after the other.
//!
//! Enabled cases record into the real queue with the real worker draining it into
//! `NoopSink`. So that a benchmark measures recording and not the refusal of a full
//! queue, calls are timed in chunks smaller than the queue, with an (untimed) flush
//! between chunks; the number of dropped events is printed at the end (expected: 0).
//!
//! `4r_..`, `5r_..` and `4cr_..` are cases 4, 5 and 4c in report mode (`.reports(..)`,
//! a temporary data dir): the recording thread runs the same code into the same queue;
//! only the worker differs (it folds the calls, and writes a report file at each
//! flush).
//!
//! The hot-path cases (`4_track_enabled`, `5_..`) use a batch as large as a chunk, so
//! the worker lingers (as it does in a CLI run, which records a few events) and the
//! figure is the cost on the caller's thread. `4c_track_enabled_worker_busy` uses the
//! default batch (100): the worker then builds and delivers events *while* the caller
//! records, on the same two cores, and the figure includes that interference.

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented `pub fn`"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use telemetry::sink::NoopSink;
use telemetry::{CollectionPolicy, TelemetryContext, TelemetryGuard};
use tracing_subscriber::layer::SubscriberExt as _;

#[path = "measured/mod.rs"]
mod measured;
use measured::{plain, plain_capture, tracked, tracked_capture};
use telemetry::track;

/// Calls timed between two flushes (per thread): small enough for the queue to stay in
/// the CPU caches, as it does in a CLI run that records a few events.
const CHUNK: u64 = 5_000;
/// Queue capacity: two producers' chunks fit.
const CAPACITY: usize = 4 * CHUNK as usize;
/// A batch no chunk fills: the worker lingers while calls are timed.
const LINGERING: usize = 4 * CHUNK as usize;
/// The default batch: the worker wakes every 100 events.
const BUSY: usize = telemetry::DEFAULT_BATCH_SIZE;

// ---- the measured functions ------------------------------------------------------------

#[tracing::instrument]
#[inline(never)]
fn traced(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[inline(never)]
async fn plain_async(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[track("bench.track_async")]
#[inline(never)]
async fn tracked_async(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[tracing::instrument]
#[inline(never)]
async fn traced_async(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

// ---- helpers ---------------------------------------------------------------------------

/// A layer that does nothing: `tracing_subscriber::registry()` alone keeps closed spans
/// (no layer ever releases them), which is not a configuration anyone runs.
struct NoopLayer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for NoopLayer {}

/// Installs a context; `batch` = how many queued events wake the worker.
fn install(policy: CollectionPolicy, batch: usize) -> TelemetryGuard {
    install_in(
        TelemetryContext::builder().sink(NoopSink).policy(policy),
        batch,
    )
}

/// The same in report mode (`.reports(..)`): the worker folds the calls and writes a
/// report file in `dir` at each flush, instead of building events for `NoopSink`.
#[cfg(feature = "reports")]
fn install_reports(dir: &std::path::Path, batch: usize) -> TelemetryGuard {
    let builder = TelemetryContext::builder()
        .env(telemetry::consent::Env::empty())
        .data_dir(dir)
        .reports(telemetry::ReportSettings::weekly())
        .policy(CollectionPolicy::Enabled);
    install_in(builder, batch)
}

/// Builds `builder` with the settings every case shares, and installs it.
fn install_in(builder: telemetry::TelemetryContextBuilder, batch: usize) -> TelemetryGuard {
    let ctx = builder
        .tool(telemetry::tool!("bench", "0"))
        .queue_capacity(CAPACITY)
        .batch_size(batch)
        .linger(Duration::from_secs(10))
        .deadline(Duration::from_secs(30))
        .build();
    match ctx {
        Ok(ctx) => telemetry::init(ctx),
        Err(e) => panic!("bench context: {e}"),
    }
}

/// Registers `name`: calls of `call` timed in chunks under `guard`.
fn bench_tracked(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    guard: &TelemetryGuard,
    call: impl Fn(u64) + Copy,
) {
    g.bench_function(name, |b| {
        b.iter_custom(|iters| timed_chunks(guard, iters, call))
    });
}

/// One tracked call, and one with two captured values (the cases' bodies).
fn one_tracked(i: u64) {
    black_box(tracked(black_box(i)));
}

fn one_tracked_capture(i: u64) {
    black_box(tracked_capture(black_box(i), black_box(i & 1 == 0)));
}

fn flush(guard: &TelemetryGuard) {
    if let Some(ctx) = guard.context() {
        let _ = ctx.flush_blocking(Duration::from_secs(30));
    }
}

/// Times `iters` calls of `f` in chunks, flushing (untimed) between chunks.
fn timed_chunks(guard: &TelemetryGuard, iters: u64, mut f: impl FnMut(u64)) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let n = (iters - done).min(CHUNK);
        let t = Instant::now();
        for i in done..done + n {
            f(i);
        }
        total += t.elapsed();
        flush(guard);
        done += n;
    }
    total
}

fn report_drops(guard: &TelemetryGuard, what: &str) {
    if let Some(ctx) = guard.context() {
        eprintln!(
            "[{what}] delivered {} events, dropped {}",
            ctx.stats().delivered,
            ctx.stats().dropped
        );
    }
}

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(e) => panic!("runtime: {e}"),
    }
}

// ---- the benchmarks --------------------------------------------------------------------

fn sync_cases(c: &mut Criterion) {
    let mut g = c.benchmark_group("sync");
    g.bench_function("1_plain", |b| b.iter(|| plain(black_box(7))));
    g.bench_function("1b_plain_capture_baseline", |b| {
        b.iter(|| plain_capture(black_box(7), black_box(true)))
    });
    // Before any dispatcher exists in the process.
    g.bench_function("6_tracing_no_subscriber", |b| {
        b.iter(|| traced(black_box(7)))
    });
    {
        let _guard = install(CollectionPolicy::Disabled, LINGERING);
        g.bench_function("2_track_disabled", |b| b.iter(|| tracked(black_box(7))));
        g.bench_function("2b_track_capture_disabled", |b| {
            b.iter(|| tracked_capture(black_box(7), black_box(true)))
        });
    }
    {
        let guard = install(CollectionPolicy::Enabled, LINGERING);
        bench_tracked(&mut g, "4_track_enabled", &guard, one_tracked);
        bench_tracked(
            &mut g,
            "5_track_enabled_capture",
            &guard,
            one_tracked_capture,
        );
        report_drops(&guard, "sync");
    }
    {
        let guard = install(CollectionPolicy::Enabled, BUSY);
        bench_tracked(&mut g, "4c_track_enabled_worker_busy", &guard, one_tracked);
        report_drops(&guard, "sync, worker busy");
    }
    // Feature `reports` only.
    #[cfg(feature = "reports")]
    {
        // Report mode: the same enqueue; the worker folds instead of building events
        // (it lingers at most a second in this mode, far longer than a chunk).
        let dir = match tempfile::tempdir() {
            Ok(dir) => dir,
            Err(e) => panic!("tempdir: {e}"),
        };
        let guard = install_reports(dir.path(), LINGERING);
        bench_tracked(&mut g, "4r_track_enabled_reports", &guard, one_tracked);
        bench_tracked(
            &mut g,
            "5r_track_enabled_capture_reports",
            &guard,
            one_tracked_capture,
        );
        report_drops(&guard, "sync, reports");
        drop(guard);
        let guard = install_reports(dir.path(), BUSY);
        bench_tracked(
            &mut g,
            "4cr_track_enabled_worker_busy_reports",
            &guard,
            one_tracked,
        );
        report_drops(&guard, "sync, worker busy, reports");
    }
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(NoopLayer));
    tracing::dispatcher::with_default(&dispatch, || {
        g.bench_function("7_tracing_registry", |b| b.iter(|| traced(black_box(7))));
    });
    g.finish();
}

fn async_cases(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("async");
    g.bench_function("1_plain", |b| {
        b.iter(|| rt.block_on(plain_async(black_box(7))))
    });
    {
        let guard = install(CollectionPolicy::Enabled, LINGERING);
        g.bench_function("4_track_enabled", |b| {
            b.iter_custom(|iters| {
                timed_chunks(&guard, iters, |i| {
                    black_box(rt.block_on(tracked_async(black_box(i))));
                })
            })
        });
        report_drops(&guard, "async");
    }
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(NoopLayer));
    tracing::dispatcher::with_default(&dispatch, || {
        g.bench_function("7_tracing_registry", |b| {
            b.iter(|| rt.block_on(traced_async(black_box(7))))
        });
    });
    g.finish();
}

/// Two threads recording at once (per-call time on each thread).
fn contention(c: &mut Criterion) {
    let mut g = c.benchmark_group("contended_2_threads");
    {
        let guard = install(CollectionPolicy::Enabled, LINGERING);
        g.bench_function("4_track_enabled", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut done = 0;
                while done < iters {
                    let n = (iters - done).min(CHUNK);
                    let barrier = std::sync::Barrier::new(2);
                    let times: Vec<Duration> = std::thread::scope(|s| {
                        let handles: Vec<_> = (0..2)
                            .map(|_| {
                                s.spawn(|| {
                                    barrier.wait();
                                    let t = Instant::now();
                                    for i in 0..n {
                                        black_box(tracked(black_box(i)));
                                    }
                                    t.elapsed()
                                })
                            })
                            .collect();
                        handles.into_iter().filter_map(|h| h.join().ok()).collect()
                    });
                    total += times.into_iter().max().unwrap_or_default();
                    flush(&guard);
                    done += n;
                }
                total
            })
        });
        report_drops(&guard, "contended");
    }
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(NoopLayer));
    g.bench_function("7_tracing_registry", |b| {
        b.iter_custom(|iters| {
            let barrier = std::sync::Barrier::new(2);
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..2)
                    .map(|_| {
                        s.spawn(|| {
                            tracing::dispatcher::with_default(&dispatch, || {
                                barrier.wait();
                                let t = Instant::now();
                                for i in 0..iters {
                                    black_box(traced(black_box(i)));
                                }
                                t.elapsed()
                            })
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .filter_map(|h| h.join().ok())
                    .max()
                    .unwrap_or_default()
            })
        })
    });
    g.finish();
}

criterion_group!(benches, sync_cases, async_cases, contention);
criterion_main!(benches);
