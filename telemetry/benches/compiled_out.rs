//! `#[track]` with the `collect` feature off, next to the plain function:
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-bench cargo bench -p telemetry --no-default-features \
//!     --bench compiled_out -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Built with `collect` on, the same binary measures the disabled path with no context
//! installed (the case is then named `track_no_context`).

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented `pub fn`"
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "measured/mod.rs"]
mod measured;
use measured::{plain, plain_capture, tracked, tracked_capture};

fn cases(c: &mut Criterion) {
    let label = if cfg!(feature = "collect") {
        "no_context"
    } else {
        "compiled_out"
    };
    let mut g = c.benchmark_group("compiled_out");
    g.bench_function("1_plain", |b| b.iter(|| plain(black_box(7))));
    g.bench_function("1b_plain_capture_baseline", |b| {
        b.iter(|| plain_capture(black_box(7), black_box(true)))
    });
    g.bench_function(format!("3_track_{label}"), |b| {
        b.iter(|| tracked(black_box(7)))
    });
    g.bench_function(format!("3b_track_capture_{label}"), |b| {
        b.iter(|| tracked_capture(black_box(7), black_box(true)))
    });
    g.finish();
}

criterion_group!(benches, cases);
criterion_main!(benches);
