//! Pipeline throughput: events/s from several threads recording through `#[track]` until
//! a flush confirmed that every event reached the sink.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-bench cargo bench -p telemetry --features http \
//!     --bench pipeline -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Each round builds a fresh context (in a temporary data dir), installs it, records
//! `EVENTS` events from `THREADS` threads as fast as they can, and flushes. The queue
//! holds a whole round, so nothing is dropped and the figure is what the worker (and
//! the sink) can deliver. Without `--features http` only the `FileSink` cases run.
//!
//! In at-least-once mode a round's flush journals everything queued as one file (about
//! 75 MB here), over the spool's default bound (10 MiB). That batch alone is over the
//! bound, so the spool prunes nothing for it; it once pruned the batches journaled just
//! before it, and 1 000-9 000 events of a round (once 29 000) were never sent
//! (`pruned_events`: the "round incomplete" line says so if it happens again).

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented `pub fn`"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use telemetry::sink::{FileSink, TelemetrySink};
use telemetry::{CollectionPolicy, TelemetryContext, track};

const EVENTS: u64 = 200_000;
const THREADS: u64 = 4;

#[track("bench.pipeline", attrs(kind = "bench"), capture(i))]
#[inline(never)]
fn work(i: u64) -> u64 {
    black_box(i).wrapping_mul(3)
}

/// Installs a context around `sink`, records one round and returns the time from the
/// first record to the end of the flush.
fn round(
    sink: impl TelemetrySink,
    batch: usize,
    configure: impl FnOnce(Builder) -> Builder,
) -> Duration {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("tempdir: {e}"),
    };
    let builder = TelemetryContext::builder()
        .tool(telemetry::tool!("bench", "0"))
        .data_dir(dir.path())
        .sink(sink)
        .policy(CollectionPolicy::Enabled)
        .queue_capacity(EVENTS as usize)
        .batch_size(batch)
        .deadline(Duration::from_secs(60));
    let ctx = match configure(builder).build() {
        Ok(ctx) => ctx,
        Err(e) => panic!("context: {e}"),
    };
    // Derive the machine id (once per process in a real tool) outside the timing.
    black_box(ctx.machine_id());
    let guard = telemetry::init(ctx.clone());
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for i in 0..EVENTS / THREADS {
                    black_box(work(black_box(i)));
                }
            });
        }
    });
    let flushed = ctx.flush_blocking(Duration::from_secs(60));
    let elapsed = t.elapsed();
    let stats = ctx.stats();
    if flushed.is_err() || stats.delivered != EVENTS || stats.dropped != 0 {
        eprintln!(
            "round incomplete: flush {flushed:?}, delivered {}/{EVENTS}, dropped {}, \
             pruned {}, spooled {}",
            stats.delivered, stats.dropped, stats.pruned_events, stats.spooled_events
        );
    }
    drop(guard);
    elapsed
}

type Builder = telemetry::TelemetryContextBuilder;

fn file_sink(c: &mut Criterion) {
    let mut g = c.benchmark_group("pipeline_file");
    g.throughput(Throughput::Elements(EVENTS));
    g.sample_size(10);
    for batch in [100, 1000] {
        g.bench_function(format!("{THREADS}_threads_batch_{batch}"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        // A private directory: the file trust rules refuse a log
                        // directly in the shared, world-writable temp dir.
                        let Ok(dir) = tempfile::tempdir() else {
                            eprintln!("no temporary directory; round skipped");
                            return std::time::Duration::ZERO;
                        };
                        let log = dir.path().join(format!("events-{batch}.jsonl"));
                        round(FileSink::new(&log), batch, |b| b)
                    })
                    .sum()
            })
        });
    }
    g.finish();
}

#[cfg(feature = "http")]
fn http_sink(c: &mut Criterion) {
    use telemetry::DeliveryMode;
    use telemetry::sink::HttpSink;
    let url = server::start();
    let mut g = c.benchmark_group("pipeline_http_loopback");
    g.throughput(Throughput::Elements(EVENTS));
    g.sample_size(10);
    for (name, mode) in [
        ("at_least_once", DeliveryMode::AtLeastOnce),
        ("at_most_once", DeliveryMode::AtMostOnce),
    ] {
        g.bench_function(format!("{THREADS}_threads_batch_1000_{name}"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let sink = match HttpSink::builder(&url).allow_insecure_http(true).build() {
                            Ok(sink) => sink,
                            Err(e) => panic!("sink: {e}"),
                        };
                        round(sink, 1000, |b| b.delivery_mode(mode))
                    })
                    .sum()
            })
        });
    }
    g.finish();
    eprintln!("[http] the server answered {} requests", server::requests());
}

#[cfg(not(feature = "http"))]
fn http_sink(_: &mut Criterion) {
    eprintln!("pipeline_http_loopback skipped: run with --features http");
}

/// A minimal HTTP/1.1 server on 127.0.0.1 answering every request with `200` (keep-alive),
/// for as long as the bench process lives.
#[cfg(feature = "http")]
mod server {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicU64, Ordering};

    static REQUESTS: AtomicU64 = AtomicU64::new(0);

    pub(crate) fn requests() -> u64 {
        REQUESTS.load(Ordering::Relaxed)
    }

    pub(crate) fn start() -> String {
        let listener = match TcpListener::bind("127.0.0.1:0") {
            Ok(l) => l,
            Err(e) => panic!("bind: {e}"),
        };
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || serve(stream));
            }
        });
        format!("http://127.0.0.1:{port}/v1/events")
    }

    fn serve(stream: TcpStream) -> std::io::Result<()> {
        let mut writer = stream.try_clone()?;
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        loop {
            let mut length = 0u64;
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            std::io::copy(&mut (&mut reader).take(length), &mut std::io::sink())?;
            REQUESTS.fetch_add(1, Ordering::Relaxed);
            writer.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")?;
        }
    }
}

criterion_group!(benches, file_sink, http_sink);
criterion_main!(benches);
