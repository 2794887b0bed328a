//! Peak memory while a producer records far faster than the sink can take: the bounded
//! queue must keep the process's memory bounded by its capacity, whatever the rate.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-bench cargo bench -p telemetry --bench memory
//! ```
//!
//! For each queue capacity the binary re-runs itself in a child process (peak RSS is
//! per process): the child records `MEMORY_EVENTS` (default 10 000 000) events through
//! `#[track]` as fast as one thread can, into a sink that sleeps 1 ms per batch, and
//! prints its peak RSS (`VmHWM`) before and after, with the accepted and dropped counts.

use std::hint::black_box;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use telemetry::sink::TelemetrySink;
use telemetry::{CollectionPolicy, Event, TelemetryContext, TelemetryError, track};

/// A sink far slower than any producer: 1 ms per batch.
struct SlowSink;

#[async_trait]
impl TelemetrySink for SlowSink {
    async fn emit(&self, _event: &Event) -> Result<(), TelemetryError> {
        Ok(())
    }
    async fn emit_batch(&self, _events: &[Event]) -> Result<(), TelemetryError> {
        std::thread::sleep(Duration::from_millis(1));
        Ok(())
    }
    fn is_local(&self) -> bool {
        true
    }
}

#[track("bench.memory", attrs(kind = "bench"), capture(i, flag))]
#[inline(never)]
fn work(i: u64, flag: bool) -> u64 {
    black_box(i).wrapping_mul(3) ^ u64::from(flag)
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

#[allow(
    clippy::print_stdout,
    reason = "the figures are this benchmark's output"
)]
fn child(capacity: usize, events: u64) {
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("bench", "0"))
        .sink(SlowSink)
        .policy(CollectionPolicy::Enabled)
        .queue_capacity(capacity)
        .deadline(Duration::from_millis(100))
        .build();
    let ctx = match ctx {
        Ok(ctx) => ctx,
        Err(e) => panic!("context: {e}"),
    };
    let guard = telemetry::init(ctx.clone());
    let before = vm_hwm_kib();
    let t = Instant::now();
    for i in 0..events {
        black_box(work(black_box(i), i & 1 == 0));
    }
    let elapsed = t.elapsed();
    let after = vm_hwm_kib();
    let dropped = ctx.stats().dropped;
    println!(
        "capacity {capacity:>9}: {events} events in {:>6.2} s ({:>5.1} M/s), accepted {:>9}, \
         dropped {:>9}, VmHWM before {:>7} KiB, after {:>7} KiB (+{} KiB)",
        elapsed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64() / 1e6,
        events - dropped,
        dropped,
        before,
        after,
        after.saturating_sub(before),
    );
    drop(guard);
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: a quick smoke run.
    let full = std::env::args().any(|a| a == "--bench");
    let events = std::env::var("MEMORY_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 10_000_000 } else { 100_000 });
    if let Some(capacity) = std::env::var("MEMORY_QUEUE_CAPACITY")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        child(capacity, events);
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("memory bench: cannot find its own executable");
        return;
    };
    let capacities: &[usize] = if full {
        &[
            telemetry::DEFAULT_QUEUE_CAPACITY,
            10_000,
            100_000,
            1_000_000,
        ]
    } else {
        &[telemetry::DEFAULT_QUEUE_CAPACITY]
    };
    for &capacity in capacities {
        let status = std::process::Command::new(&exe)
            .env("MEMORY_QUEUE_CAPACITY", capacity.to_string())
            .env("MEMORY_EVENTS", events.to_string())
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("memory bench: child for capacity {capacity} failed: {status:?}");
        }
    }
}
