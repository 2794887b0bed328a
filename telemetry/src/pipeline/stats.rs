//! Delivery counters and the public snapshot of them, [`DeliveryStats`].

use std::sync::atomic::{AtomicU64, Ordering};

/// How accepted events are protected on their way to the sinks.
///
/// - `AtLeastOnce`: every batch bound for a network sink is written to the spool
///   (`<data dir>/spool/`) *before* it is sent and removed only after the sink
///   acknowledged it. What was not acknowledged when the process exits is sent by a
///   later run; a batch can then arrive twice, always with the same `event_id`s, so a
///   backend deduplicates on `event_id`.
/// - `AtMostOnce`: no journal. Events are sent from memory; what is not delivered by
///   the exit deadline is lost.
///
/// Default (see [`TelemetryContextBuilder::delivery_mode`](crate::TelemetryContextBuilder::delivery_mode)):
/// `AtLeastOnce` when the context has a sink that is not local (a network sink, or a
/// custom sink that does not declare [`TelemetrySink::is_local`](crate::sink::TelemetrySink::is_local)),
/// `AtMostOnce` otherwise — a local sink (file, memory, writer) takes a batch at once
/// or fails for a reason a later retry would not fix, so journaling it only doubles
/// the disk writes.
///
/// ```
/// assert_ne!(telemetry::DeliveryMode::AtLeastOnce, telemetry::DeliveryMode::AtMostOnce);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryMode {
    /// Journal before sending, delete after acknowledgement, replay in a later run.
    AtLeastOnce,
    /// Send from memory only; undelivered events are lost at exit.
    AtMostOnce,
}

/// A snapshot of a context's delivery counters, for `telemetry status` and tests.
///
/// Counters are per process (they start at zero in every run); `spooled_*` is read
/// from the spool directory when the snapshot is taken, so it includes batches left by
/// earlier runs and by other processes of the same tool.
///
/// ```
/// let ctx = telemetry::TelemetryContext::builder()
///     .tool(telemetry::tool!("t", "1"))
///     .sink(telemetry::sink::NoopSink)
///     .build()?;
/// let stats = ctx.stats();
/// assert_eq!(stats.delivered, 0);
/// assert_eq!(stats.mode, telemetry::DeliveryMode::AtMostOnce);
/// # Ok::<(), telemetry::TelemetryError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryStats {
    /// The effective delivery mode.
    pub mode: DeliveryMode,
    /// Events accepted and still waiting in memory.
    pub queued: usize,
    /// Events the sinks acknowledged (the network sinks, when there are any).
    pub delivered: u64,
    /// Events a sink refused for good (e.g. HTTP 400) or, without a spool, failed to take.
    pub failed: u64,
    /// Events dropped because the in-memory queue was full.
    pub dropped: u64,
    /// Events that could not be written to the spool (disk full, unwritable
    /// directory); they were still sent from memory, at most once.
    pub spool_errors: u64,
    /// Spool files on disk now (waiting, or being sent by a live process).
    pub spooled_files: u64,
    /// Events in those files.
    pub spooled_events: u64,
    /// Bytes in those files.
    pub spooled_bytes: u64,
    /// Spool files deleted because the spool was over its file or byte bound.
    pub pruned_files: u64,
    /// Events in the pruned files.
    pub pruned_events: u64,
    /// Spool lines skipped: corrupt or truncated (e.g. a process killed mid-write), or
    /// refused by the replay check (not an event this binary could have made).
    pub corrupt_skipped: u64,
    /// Send attempts repeated after a retryable failure.
    pub retried: u64,
    /// Events from earlier runs (or dead processes) delivered by this process.
    pub replayed: u64,
    /// Events deleted because consent was withdrawn ([`purge`](crate::TelemetryContext::purge)).
    pub purged: u64,
}

/// The counters shared by the worker, the sender and the spool.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) spool_errors: AtomicU64,
    pub(crate) pruned_files: AtomicU64,
    pub(crate) pruned_events: AtomicU64,
    pub(crate) corrupt_skipped: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) replayed: AtomicU64,
    pub(crate) purged: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
