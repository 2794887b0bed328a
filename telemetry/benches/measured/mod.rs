//! The functions every hot-path benchmark measures, defined once so that the `track`,
//! `compiled_out` and `hot_path` figures are of the very same code.
#![allow(dead_code, reason = "each bench uses the subset it needs")]

use std::hint::black_box;

use telemetry::track;

/// The baseline: the trivial body, untracked.
#[inline(never)]
pub(crate) fn plain(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

/// The baseline of the `capture` cases: the same body and parameters.
#[inline(never)]
pub(crate) fn plain_capture(x: u64, flag: bool) -> u64 {
    black_box(x).wrapping_mul(3) ^ u64::from(flag)
}

/// `plain`, tracked.
#[track("bench.track")]
#[inline(never)]
pub(crate) fn tracked(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

/// `plain_capture`, tracked with two captured values and two literal attributes.
#[track(
    "bench.track_capture",
    attrs(kind = "bench", level = 3),
    capture(x, flag)
)]
#[inline(never)]
pub(crate) fn tracked_capture(x: u64, flag: bool) -> u64 {
    black_box(x).wrapping_mul(3) ^ u64::from(flag)
}
