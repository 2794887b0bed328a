//! The local write cost of an exit (issue 12): the time from the exit's request to its
//! return when the queue holds a full default queue (1000 events) and the context
//! journals a network sink, so that every event must be synced to the spool first.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-bench cargo bench -p telemetry --bench exit_persist
//! ```
//!
//! The exit itself (`finish`, behind the guard's drop) is not public; the bench goes
//! through [`TelemetryContext::flush_blocking`] with a zero deadline, which does the
//! same first step — it waits for the worker to write out everything queued (local
//! sinks, then the spool: one synced file per batch, the directory synced after each
//! rename) — and then returns `Timeout` at once. `telemetry::init` and its guard are
//! not used: the first exit of a process would start this binary as the uploader.
//!
//! Each iteration, untimed: a fresh temporary data dir and context (policy enabled,
//! `SendMode::Background`, a 24 h upload interval), one event flushed so that the
//! worker and sender threads run and the spool exists; then the worker is parked and
//! N events are recorded, so that all N are in memory — none written — when the
//! timing starts. Timed: the worker is let go and `flush_blocking(0)` returns. Two
//! ways to park it (`Parked`):
//!
//! - in a gate: a local sink whose `flush` waits on it, reached through a flush with
//!   nothing queued. That sink stays in the context, so the worker makes an `Event`
//!   of each queued call for it (the cases without `prepared` in their name);
//! - lingering: a one-hour linger and a batch size above N, so the worker waits for
//!   the batch to fill; the journaled sink is the only one (unless the case adds the
//!   local log), as for a tool with a network sink, so the worker writes the spool's
//!   lines straight from the queued calls. The batch size only decides when a worker
//!   that is not flushing wakes up: a flush takes, and writes into one file,
//!   everything queued. With the next file prepared ahead (`prepare_spool_ahead`,
//!   feature `test-internals`), as an installed context's worker does, these
//!   `*_prepared` cases are the real exit's shape.
//!
//! The journaled ("remote") sink is a stub that never touches the network: its
//! first answer is a retryable error with a one-hour `Retry-After`, which the sender
//! records in the spool. From then on the sender's passes stop at that pause without
//! claiming a file, as in a real background-mode exit, where the sender sends nothing.
//!
//! The second group measures what the durability itself costs on this disk, with the
//! standard library only: ten files of 40 KiB (about what 1000 events make in batches
//! of 100: this bench's events are ~360 bytes, the demo's ~450) and one file of 446
//! bytes (one `demo build` event), each created, written and renamed as the spool
//! does it, with and without `sync_data` on the file and a sync of the directory after
//! the rename. The bench prints the size of a 1000-event spool and the temporary
//! directory it writes in (`df -T` tells its file system).
//!
//! The `report_exit` group is report mode's exit (`.reports(..)`: no spool, the worker
//! folds the queued calls and writes the period's report file, unsynced, replaced by a
//! rename): the time `telemetry::shutdown()` — the exit itself, as the guard's drop and
//! `telemetry::exit` run it — takes from its flush request to its return, with N
//! tracked calls (1, 10, 1000) all still queued when it starts, and the period's report
//! file absent (the first run: not even the reports directory exists) or holding 20
//! rows (left by an earlier run of the same iteration, untimed). Each iteration,
//! untimed: a fresh temporary data dir; for the 20-row cases, a first context
//! installed with `init`, 20 calls of a `#[track]` function capturing `jobs` = 0..19,
//! and its guard dropped (its exit writes the file); then the measured context,
//! installed with `init` (which starts the worker: it looks for a due report), an
//! empty flush so that the worker is idle in its loop, and the N calls (`jobs` =
//! `i % 4`: rows the file already has) with a batch larger than N, so that the worker
//! lingers and folds nothing before the exit. `init` is safe here: in report mode
//! an exit starts an uploader only for a complete report collected at level `on`,
//! and no period is complete in a fresh data dir. After the timing the bench reads
//! the report back and prints it if its calls do not add up.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-bench cargo bench -p telemetry --bench exit_persist -- report_exit
//! ```
//!
//! The share of the syncs in the `exit_persist` figures themselves: the same binary
//! with `fsync`/`fdatasync` made no-ops (`apt-get install eatmydata`):
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-bench cargo bench -p telemetry --bench exit_persist --no-run
//! CARGO_TARGET_DIR=/work/target-bench \
//!     LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libeatmydata.so \
//!     /work/target-bench/release/deps/exit_persist-<hash> --bench exit_persist
//! ```

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented `pub fn`"
)]

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use telemetry::sink::TelemetrySink;
use telemetry::{CollectionPolicy, Event, SendMode, TelemetryContext, TelemetryError};

/// A local sink that can hold the worker: its `flush` waits while the gate is shut.
#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    shut: bool,
    parked: bool,
}

impl Gate {
    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn shut(&self) {
        self.lock().shut = true;
    }

    fn open(&self) {
        self.lock().shut = false;
        self.changed.notify_all();
    }

    /// Waits until the worker waits in the gate.
    fn wait_parked(&self) {
        let mut st = self.lock();
        while !st.parked {
            st = self
                .changed
                .wait(st)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

struct GateSink(Arc<Gate>);

#[async_trait]
impl TelemetrySink for GateSink {
    async fn emit(&self, _event: &Event) -> Result<(), TelemetryError> {
        Ok(())
    }
    async fn emit_batch(&self, _events: &[Event]) -> Result<(), TelemetryError> {
        Ok(())
    }
    async fn flush(&self) -> Result<(), TelemetryError> {
        let gate = &self.0;
        let mut st = gate.lock();
        if st.shut {
            st.parked = true;
            gate.changed.notify_all();
            while st.shut {
                st = gate
                    .changed
                    .wait(st)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            st.parked = false;
        }
        Ok(())
    }
    fn is_local(&self) -> bool {
        true
    }
}

/// The journaled sink: no network; every request is answered "come back in an hour".
struct PausedRemote;

#[async_trait]
impl TelemetrySink for PausedRemote {
    async fn emit(&self, _event: &Event) -> Result<(), TelemetryError> {
        Err(TelemetryError::Http {
            endpoint: "stub".into(),
            status: Some(503),
            message: "the bench's stub asks for a pause".into(),
            retryable: true,
            retry_after: Some(Duration::from_secs(3600)),
        })
    }
    async fn emit_batch(&self, events: &[Event]) -> Result<(), TelemetryError> {
        match events.first() {
            Some(event) => self.emit(event).await,
            None => Ok(()),
        }
    }
}

#[derive(Clone, Copy)]
struct Case {
    events: u64,
    batch: usize,
    local_log: bool,
    /// The spool's next file prepared ahead, as an installed context's worker does
    /// (feature `test-internals`): the write out then costs one sync, as at a real exit.
    prepared: bool,
    /// How the worker is kept from writing before the timing starts.
    parked: Parked,
}

#[derive(Clone, Copy, PartialEq)]
enum Parked {
    /// In the `flush` of a local sink ([`GateSink`]), which stays in the context: a
    /// direct sink, so the worker makes an `Event` of each queued call.
    InGate,
    /// Lingering for a batch larger than the events recorded (a one-hour linger): the
    /// journaled sink is the only one, as for a tool with a network sink and no local
    /// log, so the worker writes the spool's lines straight from the queued calls.
    /// The batch size decides only when a worker that is not flushing wakes up: a
    /// flush takes, and writes into one file, everything queued.
    #[cfg_attr(
        not(all(feature = "test-internals", feature = "spool")),
        expect(
            dead_code,
            reason = "its cases need the prepared file (`test-internals`)"
        )
    )]
    Lingering,
}

/// One exit: returns the time from the request to the return, and checks that every
/// event reached the spool.
fn one_exit(case: Case) -> Duration {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("tempdir: {e}"),
    };
    let gate = Arc::new(Gate::default());
    let mut builder = TelemetryContext::builder()
        .tool(telemetry::tool!("bench", "0"))
        .env(telemetry::consent::Env::empty())
        .data_dir(dir.path())
        .sink(PausedRemote)
        .policy(CollectionPolicy::Enabled)
        .send_mode(SendMode::Background)
        .upload_interval(Duration::from_secs(24 * 3600));
    builder = match case.parked {
        Parked::InGate => builder
            .sink(GateSink(Arc::clone(&gate)))
            .batch_size(case.batch),
        Parked::Lingering => builder
            .linger(Duration::from_secs(3600))
            .batch_size(case.events as usize + 1),
    };
    if case.local_log {
        builder = builder.local_log();
    }
    let ctx = match builder.build() {
        Ok(ctx) => ctx,
        Err(e) => panic!("context: {e}"),
    };
    // Untimed: threads started, machine id derived, spool made, the stub's pause
    // recorded (the flush reports it as an error: expected).
    let _ = telemetry::record!(ctx, "bench.exit_persist", i = 0_u64, jobs = 8_u16);
    let _ = ctx.flush_blocking(Duration::from_secs(5));
    #[cfg(all(feature = "test-internals", feature = "spool"))]
    if case.prepared {
        telemetry::__diagnostics::prepare_spool_ahead(&ctx);
    }
    #[cfg(not(all(feature = "test-internals", feature = "spool")))]
    let _ = case.prepared;
    // Park the worker in the gate, with nothing taken (or let it linger: see `Parked`).
    let in_gate = case.parked == Parked::InGate;
    if in_gate {
        gate.shut();
    }
    let parked = std::thread::scope(|s| {
        let helper = in_gate.then(|| s.spawn(|| ctx.flush_blocking(Duration::ZERO)));
        if in_gate {
            gate.wait_parked();
        }
        for i in 0..case.events {
            let _ = telemetry::record!(ctx, "bench.exit_persist", i = i, jobs = 8_u16);
        }
        let queued = ctx.stats().queued;
        // Timed: the exit's local writes.
        let t = Instant::now();
        gate.open();
        let result = ctx.flush_blocking(Duration::ZERO);
        let took = t.elapsed();
        if let Some(helper) = helper {
            let _ = helper.join();
        }
        // `Timeout`; or, when the sender completed the flush (a pass that stops at
        // the stub's pause, no request) before this thread woke up, the pause or
        // nothing (the pause went to the helper's flush): all mean "persisted".
        if !matches!(
            result,
            Ok(()) | Err(TelemetryError::Timeout { .. } | TelemetryError::Paused { .. })
        ) {
            eprintln!("unexpected flush result: {result:?}");
        }
        (queued, took)
    });
    let (queued, took) = parked;
    let stats = ctx.stats();
    if queued != case.events as usize
        || stats.spooled_events != case.events + 1
        || stats.dropped != 0
        || stats.spool_errors != 0
    {
        eprintln!(
            "iteration not as planned: {queued} queued at the request (want {}), {} events \
             in the spool (want {}), {} dropped, {} spool errors",
            case.events,
            stats.spooled_events,
            case.events + 1,
            stats.dropped,
            stats.spool_errors,
        );
    }
    drop(ctx);
    took
}

#[allow(
    clippy::print_stderr,
    reason = "what the iterations wrote is part of the figure"
)]
fn exit_persist(c: &mut Criterion) {
    let mut g = c.benchmark_group("exit_persist");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(5));
    g.warm_up_time(Duration::from_secs(1));
    let cases = [
        (
            "1_event",
            Case {
                events: 1,
                batch: 100,
                local_log: false,
                prepared: false,
                parked: Parked::InGate,
            },
        ),
        (
            "1000_events_batch_100",
            Case {
                events: 1000,
                batch: 100,
                local_log: false,
                prepared: false,
                parked: Parked::InGate,
            },
        ),
        (
            "1000_events_batch_100_local_log",
            Case {
                events: 1000,
                batch: 100,
                local_log: true,
                prepared: false,
                parked: Parked::InGate,
            },
        ),
        (
            "1000_events_batch_1000",
            Case {
                events: 1000,
                batch: 1000,
                local_log: false,
                prepared: false,
                parked: Parked::InGate,
            },
        ),
    ];
    for (name, case) in cases {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| one_exit(case)).sum())
        });
    }
    // The real exit's shape: the next file prepared ahead (features `test-internals`
    // and `spool`), the worker waiting in its loop, and no local sink unless the
    // case adds the local log.
    #[cfg(all(feature = "test-internals", feature = "spool"))]
    for (name, events, local_log) in [
        ("1_event_prepared", 1, false),
        ("1000_events_prepared", 1000, false),
        ("1000_events_prepared_local_log", 1000, true),
    ] {
        let case = Case {
            events,
            batch: 100,
            local_log,
            prepared: true,
            parked: Parked::Lingering,
        };
        g.bench_function(name, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| one_exit(case)).sum())
        });
    }
    g.finish();
    report_spool_size();
}

/// Prints the size of a 1000-event spool, so the file sizes of the `fs_*` group can
/// be checked against it.
#[allow(clippy::print_stderr, reason = "the figure is this benchmark's output")]
fn report_spool_size() {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("tempdir: {e}"),
    };
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("bench", "0"))
        .env(telemetry::consent::Env::empty())
        .data_dir(dir.path())
        .sink(PausedRemote)
        .policy(CollectionPolicy::Enabled)
        .build();
    let Ok(ctx) = ctx else {
        return;
    };
    for i in 0..1000_u64 {
        let _ = telemetry::record!(ctx, "bench.exit_persist", i = i, jobs = 8_u16);
    }
    let _ = ctx.flush_blocking(Duration::from_secs(5));
    let s = ctx.stats();
    eprintln!(
        "[exit_persist] 1000 events: {} spool files, {} bytes ({} bytes per event); temp dir {}",
        s.spooled_files,
        s.spooled_bytes,
        s.spooled_bytes / s.spooled_events.max(1),
        std::env::temp_dir().display(),
    );
}

/// Writes `count` files of `size` bytes the way the spool does (created under a claim
/// name, 0600, then renamed to the ready name), syncing the data and the directory
/// when `sync` is set.
fn write_files(dir: &Path, count: usize, size: usize, sync: bool) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let line = {
        let mut line = vec![b'x'; 399];
        line.push(b'\n');
        line
    };
    let body: Vec<u8> = line.iter().copied().cycle().take(size).collect();
    for n in 0..count {
        let claim = dir.join(format!("{n:020}.jsonl.claim-1-bench"));
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&claim)?;
        file.write_all(&body)?;
        if sync {
            file.sync_data()?;
        }
        drop(file);
        fs::rename(&claim, dir.join(format!("{n:020}.jsonl")))?;
        if sync {
            fs::File::open(dir)?.sync_all()?;
        }
    }
    Ok(())
}

fn fs_durability(c: &mut Criterion) {
    let mut g = c.benchmark_group("fs_durability");
    g.sample_size(30);
    g.measurement_time(Duration::from_secs(5));
    g.warm_up_time(Duration::from_secs(1));
    for (name, count, size) in [("10_files_40KiB", 10, 40 * 1024), ("1_file_446B", 1, 446)] {
        for (mode, sync) in [("no_sync", false), ("sync_data_and_dir", true)] {
            g.bench_function(format!("{name}/{mode}"), |b| {
                b.iter_batched(
                    || match tempfile::tempdir() {
                        Ok(dir) => dir,
                        Err(e) => panic!("tempdir: {e}"),
                    },
                    |dir| {
                        if let Err(e) = write_files(dir.path(), count, size, sync) {
                            panic!("write: {e}");
                        }
                        dir
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    g.finish();
}

/// Report mode's exit (feature `reports`).
#[cfg(feature = "reports")]
mod report_mode {
    use super::*;
    use telemetry::ReportSettings;

    /// The tracked function of the report-mode cases.
    #[telemetry::track("bench.report_exit", capture(jobs))]
    #[inline(never)]
    fn build(jobs: u16) -> u16 {
        std::hint::black_box(jobs)
    }

    /// Calls, and rows of the period's report file before the run (0: no file).
    #[derive(Clone, Copy)]
    struct ReportCase {
        calls: u64,
        rows_before: u16,
    }

    /// A report-mode context on `dir`; the worker wakes only for a flush (or after a
    /// second: report mode's longest wait).
    fn report_context(dir: &Path) -> TelemetryContext {
        let built = TelemetryContext::builder()
            .tool(telemetry::tool!("bench", "0"))
            .env(telemetry::consent::Env::empty())
            .data_dir(dir)
            .reports(ReportSettings::weekly())
            .policy(CollectionPolicy::Enabled)
            .queue_capacity(4096)
            .batch_size(4096)
            .linger(Duration::from_secs(10))
            .build();
        match built {
            Ok(ctx) => ctx,
            Err(e) => panic!("context: {e}"),
        }
    }

    /// The calls in a context's report files, and its rows.
    fn report_totals(ctx: &TelemetryContext) -> (u64, usize) {
        let Ok(reports) = ctx.reports() else {
            return (0, 0);
        };
        reports
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .flat_map(|stored| &stored.report.rows)
            .fold((0, 0), |(calls, rows), row| (calls + row.count, rows + 1))
    }

    /// One report-mode exit: the time `shutdown` takes.
    #[allow(
        clippy::print_stderr,
        reason = "an iteration that did not go as planned is part of the figure"
    )]
    fn one_report_exit(case: ReportCase) -> Duration {
        let dir = match tempfile::tempdir() {
            Ok(dir) => dir,
            Err(e) => panic!("tempdir: {e}"),
        };
        if case.rows_before > 0 {
            // An earlier run of the period.
            let guard = telemetry::init(report_context(dir.path()));
            for jobs in 0..case.rows_before {
                build(jobs);
            }
            drop(guard);
        }
        let guard = telemetry::init(report_context(dir.path()));
        let Some(ctx) = guard.context().cloned() else {
            panic!("no context");
        };
        // The worker through its start (the due-report check) and idle.
        let _ = ctx.flush_blocking(Duration::from_secs(5));
        for i in 0..case.calls {
            build((i % 4) as u16);
        }
        let queued = ctx.stats().queued;
        // Timed: the exit.
        let t = Instant::now();
        let result = telemetry::shutdown();
        let took = t.elapsed();
        drop(guard);
        let (calls, rows) = report_totals(&ctx);
        let want_calls = case.calls + u64::from(case.rows_before);
        let want_rows = usize::from(case.rows_before).max(case.calls.min(4) as usize);
        if result.is_err()
            || queued != case.calls as usize
            || calls != want_calls
            || rows != want_rows
        {
            eprintln!(
                "report exit not as planned: {result:?}, {queued} queued at the exit (want {}), \
                 {calls} calls in {rows} rows in the report (want {want_calls} in {want_rows})",
                case.calls,
            );
        }
        took
    }

    pub(super) fn report_exit(c: &mut Criterion) {
        let mut g = c.benchmark_group("report_exit");
        g.sample_size(30);
        g.measurement_time(Duration::from_secs(4));
        g.warm_up_time(Duration::from_secs(1));
        for calls in [1, 10, 1000] {
            for (file, rows_before) in [("no_file", 0), ("file_20_rows", 20)] {
                let case = ReportCase { calls, rows_before };
                g.bench_function(format!("{calls}_calls/{file}"), |b| {
                    b.iter_custom(|iters| (0..iters).map(|_| one_report_exit(case)).sum())
                });
            }
        }
        g.finish();
    }
}

#[cfg(feature = "reports")]
use report_mode::report_exit;

/// Without feature `reports` there is no report mode to time.
#[cfg(not(feature = "reports"))]
fn report_exit(_: &mut Criterion) {
    eprintln!("report_exit: skipped, it needs `--features reports`");
}

criterion_group!(benches, exit_persist, fs_durability, report_exit);
criterion_main!(benches);
