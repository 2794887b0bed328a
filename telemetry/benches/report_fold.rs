//! Report mode's fold: how many queued calls per second the worker folds into the
//! report's counters (issue budget: at least 5 M/s).
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-bench cargo bench -p telemetry --features reports,test-internals \
//!     --bench report_fold -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! The measured code is the worker's own: `__diagnostics::ReportFold::fold` hands each
//! record to the report worker's per-call step (`pipeline::report_worker::add`: the
//! duration from the two clock readings, then `report::Fold::add`), as the worker does
//! for each batch it takes from the queue. The records are built beforehand, untimed,
//! as the hot path builds them (`__diagnostics::queued_calls`: the site's static spec,
//! two clock readings, the captured values), `CALLS` per iteration; the fold lives
//! across iterations, as it does between two report writes, so after the first
//! iteration every combination already has its row (the steady state).
//!
//! Cases:
//! - `plain`: a site without captured values (most sites);
//! - `captures_10`: a site with two captured values (`jobs`: int, `release`: bool)
//!   cycling through 10 combinations, limit 100 (the default);
//! - `captures_50_limit_20`: the same site cycling through 50 combinations with a limit
//!   of 20: 20 kept, and the calls of the other 30 (60 % of them) counted in the
//!   `_other` row (the overflow path: each looks up its combination, misses, and finds
//!   the limit reached).
//!
//! At the end the bench prints each case's rows (expected: 1, 10, 21 with one
//! `_other`), so a case that did not fold what it meant to is visible.

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented `pub fn`"
)]

use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use telemetry::__diagnostics::{QueuedCalls, ReportFold, queued_calls};
use telemetry::AttrValue;
use telemetry::catalog::{CaptureSpec, EventSpec};

/// Calls folded per iteration (about what one flush at exit or a few seconds of a busy
/// tool hand the worker; ~100 KB of records, which stay in the CPU's caches as a batch
/// just taken from the queue does).
const CALLS: usize = 1000;

static PLAIN: EventSpec = EventSpec::new("bench.report_plain", &[], &[], module_path!());

static CAPTURING: EventSpec = EventSpec::new(
    "bench.report_capture",
    &[],
    &[
        CaptureSpec::new("jobs", "int"),
        CaptureSpec::new("release", "bool"),
    ],
    module_path!(),
);

/// Call `i`'s two captured values: `combinations` distinct pairs, in turn.
fn captured(i: usize, combinations: usize) -> [Option<AttrValue>; 2] {
    let k = i % combinations;
    [
        Some(AttrValue::Int((k / 2) as i64)),
        Some(AttrValue::Bool(k.is_multiple_of(2))),
    ]
}

struct Case {
    name: &'static str,
    limit: usize,
    calls: fn() -> QueuedCalls,
}

fn plain_calls() -> QueuedCalls {
    queued_calls(&PLAIN, CALLS, |_| [])
}

fn calls_10() -> QueuedCalls {
    queued_calls(&CAPTURING, CALLS, |i| captured(i, 10))
}

fn calls_50() -> QueuedCalls {
    queued_calls(&CAPTURING, CALLS, |i| captured(i, 50))
}

#[allow(clippy::print_stderr, reason = "the rows are part of the figure")]
fn report_fold(c: &mut Criterion) {
    let mut g = c.benchmark_group("report_fold");
    g.throughput(Throughput::Elements(CALLS as u64));
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    let cases = [
        Case {
            name: "plain",
            limit: telemetry::report::DEFAULT_MAX_COMBINATIONS,
            calls: plain_calls,
        },
        Case {
            name: "captures_10",
            limit: telemetry::report::DEFAULT_MAX_COMBINATIONS,
            calls: calls_10,
        },
        Case {
            name: "captures_50_limit_20",
            limit: 20,
            calls: calls_50,
        },
    ];
    for case in cases {
        let mut fold = ReportFold::new(case.limit);
        g.bench_function(case.name, |b| {
            b.iter_batched(
                case.calls,
                |calls| fold.fold(calls),
                BatchSize::PerIteration,
            )
        });
        let rows = fold.drain_rows();
        let other = rows
            .iter()
            .filter(|r| r.other)
            .map(|r| r.count)
            .sum::<u64>();
        let total = rows.iter().map(|r| r.count).sum::<u64>();
        eprintln!(
            "[report_fold/{}] {} rows ({} `_other`), {total} calls folded, {other} of them in `_other`",
            case.name,
            rows.len(),
            rows.iter().filter(|r| r.other).count(),
        );
    }
    g.finish();
}

criterion_group!(benches, report_fold);
criterion_main!(benches);
