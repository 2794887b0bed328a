//! Which sinks are fed directly and which through the spool, and how failed sends are
//! retried.

#[cfg(feature = "spool")]
use std::hash::{BuildHasher, Hasher};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::error::TelemetryError;
use crate::pipeline::EventFactory;
use crate::pipeline::Spool;
use crate::pipeline::stats::{Counters, DeliveryMode};
use crate::sink::{TeeSink, TelemetrySink};

#[cfg(feature = "spool")]
/// How many times one batch is tried within one process before it is left in the
/// spool for a later run.
pub(crate) const MAX_ATTEMPTS: u32 = 4;

#[cfg(feature = "spool")]
/// The first retry waits about this long; every further one twice as long.
pub(crate) const BACKOFF_BASE: Duration = Duration::from_millis(200);
#[cfg(feature = "spool")]
/// No retry waits longer than this.
pub(crate) const BACKOFF_CAP: Duration = Duration::from_secs(5);
#[cfg(feature = "spool")]
/// After a replay failed for a retryable reason, the next replay waits this long.
pub(crate) const REPLAY_PAUSE: Duration = Duration::from_secs(30);

/// In [`SendMode::Background`], how long a process runs before its sender thread
/// sends on its own: a shorter run leaves its batches to the uploader.
pub(crate) const BACKGROUND_SEND_AFTER: Duration = Duration::from_secs(30);

/// When the batches of the journaled (network) sinks are sent. Either way every
/// accepted event is synced to the spool before the exit returns, whatever the
/// deadline (zero included).
///
/// Feature `spool`; no effect without it, nor on a context without a spool (only
/// local sinks, or `DeliveryMode::AtMostOnce`): the worker then writes every sink
/// directly, and the exit writes out what is still queued.
///
/// ```
/// let b = telemetry::TelemetryContext::builder().send_mode(telemetry::SendMode::AtExit);
/// # drop(b);
/// assert_eq!(telemetry::SendMode::default(), telemetry::SendMode::Background);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SendMode {
    /// The default: no network request on the exit path. The exit persists; a
    /// detached uploader (the tool's executable re-run, at most once per
    /// [`upload_interval`](crate::TelemetryContextBuilder::upload_interval)) sends the
    /// spool; a process that runs for more than 30 s also sends from its own sender
    /// thread. See `docs/delivery.md`.
    #[default]
    Background,
    /// The sender thread sends each batch as soon as it is written, and the exit
    /// waits up to the deadline for it: for long-running programs, or a tool that
    /// cannot call `telemetry::init` before it parses its arguments.
    AtExit,
}

/// Default bound on the number of spool files (batches).
pub const DEFAULT_SPOOL_MAX_FILES: usize = 1000;
/// Default bound on the spool's total size in bytes (10 MiB).
pub const DEFAULT_SPOOL_MAX_BYTES: u64 = 10 * 1024 * 1024;

/// The argument the detached uploader is started with (also what `ps` shows).
pub const UPLOADER_ARG: &str = "--telemetry-uploader";
/// Default: the least time between two uploaders of one tool.
pub const DEFAULT_UPLOAD_INTERVAL: Duration = Duration::from_secs(10 * 60);
/// Default: the longest an uploader runs.
pub const DEFAULT_UPLOAD_TIME_LIMIT: Duration = Duration::from_secs(30);

/// What the spool directory holds right now.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scan {
    pub(crate) files: u64,
    pub(crate) events: u64,
    pub(crate) bytes: u64,
}

/// The spool's bounds, from the builder.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "spool"), allow(dead_code))]
pub(crate) struct SpoolLimits {
    pub(crate) max_files: usize,
    pub(crate) max_bytes: u64,
}

/// The routing decided when the context is built.
pub(crate) struct Delivery {
    pub(crate) mode: DeliveryMode,
    /// Sinks written from memory, once, by the worker.
    pub(crate) direct: Option<Arc<dyn TelemetrySink>>,
    /// Sinks fed through the spool by the sender thread (only with a spool).
    pub(crate) journaled: Option<Arc<dyn TelemetrySink>>,
    pub(crate) spool: Option<Arc<Spool>>,
    pub(crate) counters: Arc<Counters>,
    /// How long after the start the sender may send on its own (an explicit flush
    /// sends at once): zero when the exit sends, a while in background mode.
    #[cfg_attr(not(feature = "spool"), allow(dead_code))]
    pub(crate) send_after: Duration,
    /// Asked before every request: whether the user still consents (the config file
    /// may have changed since the process started).
    #[cfg_attr(not(feature = "spool"), allow(dead_code))]
    pub(crate) consented: Consented,
    /// The worker gets ready as soon as it starts: the direct sinks' files
    /// (`TelemetrySink::prepare`), the spool's next file (`Spool::prepare`). Set when
    /// a context with a spool is installed: the run is going to record, and its
    /// exit should not wait for these.
    pub(crate) prepare_at_start: std::sync::atomic::AtomicBool,
    /// Report mode: the worker folds every call into the period's report instead of
    /// handing events to the sinks.
    #[cfg(feature = "reports")]
    pub(crate) reports: Option<Arc<crate::report::ReportMode>>,
}

/// The consent check the sender makes before every request.
pub(crate) type Consented = Box<dyn Fn() -> bool + Send + Sync>;

/// The mode the author chose, or the default for `sinks`: at-least-once when one of
/// them does not say it is local (it may transmit), at-most-once otherwise.
fn wanted_mode(sinks: &[Arc<dyn TelemetrySink>], mode: Option<DeliveryMode>) -> DeliveryMode {
    mode.unwrap_or(if sinks.iter().any(|s| !s.is_local()) {
        DeliveryMode::AtLeastOnce
    } else {
        DeliveryMode::AtMostOnce
    })
}

impl Delivery {
    /// Refuses what this build cannot deliver: without the `spool` feature,
    /// at-least-once delivery (the default for a sink that is not local). Judged on the
    /// author's own sinks and mode, before the user's environment shapes the sinks
    /// (`<TOOL>_TELEMETRY_DRY_RUN` replaces them with stderr, `<TOOL>_TELEMETRY_LOCAL`
    /// drops the remote ones), so that the same code is refused in every environment:
    /// judged afterwards, a tool tried with one of those variables set built fine and
    /// failed only for users without them.
    pub(crate) fn check_buildable(
        author_sinks: &[Arc<dyn TelemetrySink>],
        mode: Option<DeliveryMode>,
    ) -> Result<(), TelemetryError> {
        if cfg!(not(feature = "spool"))
            && wanted_mode(author_sinks, mode) == DeliveryMode::AtLeastOnce
        {
            return Err(TelemetryError::Config(
                "at-least-once delivery (the default for a sink that is not local) needs \
                 the `spool` feature of `telemetry` (the network sinks' features turn it \
                 on); or choose `delivery_mode(DeliveryMode::AtMostOnce)`"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Decides the routing:
    ///
    /// - the mode is the author's choice, or `AtLeastOnce` when a sink is remote and
    ///   `AtMostOnce` otherwise;
    /// - `AtLeastOnce` needs a data dir for the spool; without one (no home directory)
    ///   delivery degrades to `AtMostOnce` rather than failing the tool;
    /// - with a spool, the remote sinks are journaled and the local ones written
    ///   directly (so a retried network batch is not written twice to a local log);
    ///   with no remote sink at all, every sink is journaled.
    ///
    /// What the build cannot deliver was refused before, by
    /// [`check_buildable`](Self::check_buildable).
    pub(crate) fn plan(
        factory: Arc<EventFactory>,
        sinks: Vec<Arc<dyn TelemetrySink>>,
        mode: Option<DeliveryMode>,
        data_dir: Option<&Path>,
        limits: SpoolLimits,
        send_after: Duration,
        consented: Consented,
    ) -> Self {
        // A sink that does not say it is local may transmit: treat it as remote.
        let any_remote = sinks.iter().any(|s| !s.is_local());
        let counters = Arc::new(Counters::default());
        #[cfg(feature = "spool")]
        let spool = match (wanted_mode(&sinks, mode), data_dir) {
            (DeliveryMode::AtLeastOnce, Some(dir)) => Some(Arc::new(Spool::new(
                dir.join(crate::layout::SPOOL_DIR),
                factory,
                limits.max_files,
                limits.max_bytes,
                Arc::clone(&counters),
            ))),
            _ => None,
        };
        // No spool in this build. `check_buildable` already refused, on the author's
        // sinks, every context that would want one; the sinks here are those less the
        // ones the environment dropped, plus local ones (the local log, stderr), so
        // none of them wants one either.
        #[cfg(not(feature = "spool"))]
        let spool: Option<Arc<Spool>> = {
            let _ = (factory, mode, data_dir, limits);
            None
        };
        let (direct, journaled) = if spool.is_none() {
            (sinks, Vec::new())
        } else if any_remote {
            sinks.into_iter().partition(|s| s.is_local())
        } else {
            (Vec::new(), sinks)
        };
        Self {
            mode: if spool.is_some() {
                DeliveryMode::AtLeastOnce
            } else {
                DeliveryMode::AtMostOnce
            },
            direct: TeeSink::combine(direct),
            journaled: TeeSink::combine(journaled),
            spool,
            counters,
            send_after,
            consented,
            prepare_at_start: std::sync::atomic::AtomicBool::new(false),
            #[cfg(feature = "reports")]
            reports: None,
        }
    }
}

impl Delivery {
    /// Report mode: the worker folds calls into reports (never without feature
    /// `reports`).
    pub(crate) fn folds_reports(&self) -> bool {
        #[cfg(feature = "reports")]
        return self.reports.is_some();
        #[cfg(not(feature = "reports"))]
        false
    }
}

/// Runs a sink call, turning a panic inside the sink into an error: a misbehaving
/// sink must not take the delivery threads down with it.
pub(crate) fn guarded(
    call: impl FnOnce() -> Result<(), TelemetryError>,
) -> Result<(), TelemetryError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call))
        .unwrap_or(Err(TelemetryError::SinkPanicked))
}

#[cfg(feature = "spool")]
/// The wait before retry number `attempt` (1-based): exponential with "equal jitter"
/// (half fixed, half random), so processes that failed together do not retry together.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let exp = BACKOFF_BASE
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(BACKOFF_CAP);
    let half = exp / 2;
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(attempt);
    let random = hasher.finish() % 1_000_001;
    half + half.mul_f64(random as f64 / 1_000_000.0)
}

#[cfg(all(test, feature = "spool"))]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        for attempt in 1..20 {
            let exp = BACKOFF_BASE
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(BACKOFF_CAP);
            let b = backoff(attempt);
            assert!(b >= exp / 2 && b <= exp, "{attempt}: {b:?}");
        }
        let samples: std::collections::HashSet<_> = (0..20).map(|_| backoff(3)).collect();
        assert!(samples.len() > 1, "jittered");
    }
}
