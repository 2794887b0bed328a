//! Instruction counts of one call on each path, for before/after comparisons of
//! hot-path changes that hold up on a loaded machine (`valgrind` counts instructions,
//! not time):
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-bench cargo bench -p telemetry --bench hot_path --no-run
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \
//!     --toggle-collect='hot_path::case_*' <the hot_path binary printed above>
//! callgrind_annotate --inclusive=yes /tmp/cg.out | grep case_
//! ```
//!
//! Each `case_*` function runs twice (warm-up, then timed) with `CALLS` calls each:
//! divide its inclusive count by `2 * CALLS` (20 000).
//! Only the recording thread is counted (the worker runs outside the toggled
//! functions). Run without valgrind, it prints a rough time per call.
//!
//! `case_*_reports` are the enabled cases with a context in report mode
//! (`.reports(..)`): the same code on the recording thread, into the same queue. Their
//! counts include what the first calls into a newly installed context pay once (the
//! queue's growth, the handle's refresh), which the event-mode cases paid before they
//! were counted, and the worker's wake-ups: the default batch (100) wakes a worker that
//! lingers, and a worker that only folds lingers far more often than one building
//! events.

use std::hint::black_box;
use std::time::{Duration, Instant};

use telemetry::sink::NoopSink;
use telemetry::{CollectionPolicy, TelemetryContext, TelemetryGuard};

#[path = "measured/mod.rs"]
mod measured;
use measured::{plain, plain_capture, tracked, tracked_capture};

const CALLS: u64 = 10_000;

#[inline(never)]
fn case_plain() {
    for i in 0..CALLS {
        black_box(plain(black_box(i)));
    }
}

// Each case has a distinct body, so the linker cannot fold two cases into one symbol.
#[inline(never)]
fn case_track_disabled() {
    for i in 0..CALLS {
        black_box(tracked(black_box(i) ^ 1));
    }
}

#[inline(never)]
fn case_plain_capture() {
    for i in 0..CALLS {
        black_box(plain_capture(black_box(i) ^ 3, i & 1 == 0));
    }
}

#[inline(never)]
fn case_track_disabled_capture() {
    for i in 0..CALLS {
        black_box(tracked_capture(black_box(i) ^ 4, i & 1 == 0));
    }
}

#[inline(never)]
fn case_track_enabled() {
    for i in 0..CALLS {
        black_box(tracked(black_box(i) ^ 2));
    }
}

#[inline(never)]
fn case_track_enabled_capture() {
    for i in 0..CALLS {
        black_box(tracked_capture(black_box(i), i & 1 == 0));
    }
}

// The enabled cases in report mode (`.reports(..)`): the same code on the recording
// thread; only the worker differs.
#[cfg(feature = "reports")]
#[inline(never)]
fn case_track_enabled_reports() {
    for i in 0..CALLS {
        black_box(tracked(black_box(i) ^ 7));
    }
}

#[cfg(feature = "reports")]
#[inline(never)]
fn case_track_enabled_capture_reports() {
    for i in 0..CALLS {
        black_box(tracked_capture(black_box(i) ^ 8, i & 1 == 0));
    }
}

// After `signals::track_open_calls()`: every enabled call is kept while it runs.
#[inline(never)]
fn case_track_enabled_kept() {
    for i in 0..CALLS {
        black_box(tracked(black_box(i) ^ 5));
    }
}

#[inline(never)]
fn case_track_enabled_capture_kept() {
    for i in 0..CALLS {
        black_box(tracked_capture(black_box(i) ^ 6, i & 1 == 0));
    }
}

fn install(policy: CollectionPolicy) -> TelemetryGuard {
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("bench", "0"))
        .sink(NoopSink)
        .policy(policy)
        .queue_capacity(4 * CALLS as usize)
        .deadline(Duration::from_secs(30))
        .build();
    match ctx {
        Ok(ctx) => telemetry::init(ctx),
        Err(e) => panic!("bench context: {e}"),
    }
}

fn run(name: &str, guard: &TelemetryGuard, case: fn()) {
    // Warm up (first event starts the worker), then measure.
    case();
    if let Some(ctx) = guard.context() {
        let _ = ctx.flush_blocking(Duration::from_secs(30));
    }
    let t = Instant::now();
    case();
    let per_call = t.elapsed().as_nanos() as f64 / CALLS as f64;
    if let Some(ctx) = guard.context() {
        let _ = ctx.flush_blocking(Duration::from_secs(30));
        eprintln!(
            "{name:<28} {per_call:>8.1} ns/call (dropped {})",
            ctx.stats().dropped
        );
    }
}

fn main() {
    {
        let guard = install(CollectionPolicy::Disabled);
        run("plain", &guard, case_plain);
        run("track_disabled", &guard, case_track_disabled);
        run("plain_capture", &guard, case_plain_capture);
        run(
            "track_disabled_capture",
            &guard,
            case_track_disabled_capture,
        );
    }
    let guard = install(CollectionPolicy::Enabled);
    // A thread times its first 20 000 tracked calls with `Instant`, then calibrates the
    // cheap clock: get past that outside the counted functions, so the counts are the
    // steady state.
    for i in 0..30_000 {
        black_box(tracked(black_box(i)));
    }
    if let Some(ctx) = guard.context() {
        let _ = ctx.flush_blocking(Duration::from_secs(30));
    }
    run("track_enabled", &guard, case_track_enabled);
    run("track_enabled_capture", &guard, case_track_enabled_capture);
    drop(guard);
    // Feature `reports` only.
    #[cfg(feature = "reports")]
    {
        let dir = match tempfile::tempdir() {
            Ok(dir) => dir,
            Err(e) => panic!("tempdir: {e}"),
        };
        let ctx = TelemetryContext::builder()
            .tool(telemetry::tool!("bench", "0"))
            .env(telemetry::consent::Env::empty())
            .data_dir(dir.path())
            .reports(telemetry::ReportSettings::weekly())
            .policy(CollectionPolicy::Enabled)
            .queue_capacity(4 * CALLS as usize)
            .deadline(Duration::from_secs(30))
            .build();
        let guard = match ctx {
            Ok(ctx) => telemetry::init(ctx),
            Err(e) => panic!("bench context: {e}"),
        };
        run("track_enabled_reports", &guard, case_track_enabled_reports);
        run(
            "track_enabled_capture_reports",
            &guard,
            case_track_enabled_capture_reports,
        );
    }
    let guard = install(CollectionPolicy::Enabled);
    // Last: keeping running calls cannot be turned off again.
    assert!(telemetry::signals::track_open_calls());
    run("track_enabled_kept", &guard, case_track_enabled_kept);
    run(
        "track_enabled_capture_kept",
        &guard,
        case_track_enabled_capture_kept,
    );
}
