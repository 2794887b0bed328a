//! The end of a run (the guard's drop, [`crate::shutdown`], [`crate::exit`]) and the
//! detached uploader's run.
//!
//! The exit first *persists*: everything accepted is written out (local sinks, and
//! the spool, synced), whatever the deadline, zero included. Then, in
//! [`SendMode::Background`] (the default), it sends nothing: it starts the uploader
//! when one is due (see `uploader`). In [`SendMode::AtExit`], or where no uploader may
//! run (CI, an environment veto, an uploader that never reached `init`), it waits up
//! to the deadline for the sender, as the in-process send did before.

#[cfg(feature = "spool")]
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::TelemetryContext;
use crate::error::TelemetryError;
#[cfg(feature = "spool")]
use crate::pipeline::Spool;
use crate::pipeline::{Delivery, SendMode};
#[cfg(feature = "spool")]
use crate::uploader::{self, Plan, Stamp, UploadLock};

/// The longest the exit waits for the local writes (the local log, the spool) when
/// the deadline is shorter: on this project's disk about 0.5 ms for one event and 2 ms
/// for a full default queue, syncs included (BENCHMARKS.md, issue 12); a disk that
/// hangs longer than this is given up on, and the exit goes on.
pub const PERSIST_LIMIT: Duration = Duration::from_secs(1);

/// How a child that must take the lock itself (not on Unix, where the parent hands
/// it over) waits for the parent to let go of it.
#[cfg(feature = "spool")]
const LOCK_HANDOVER: Duration = Duration::from_millis(500);

impl TelemetryContext {
    /// Installed by `init`, so the run is going to record: with a spool, starts the
    /// worker now, which gets ready while the tool works (the local log's directory,
    /// the spool's next file: see `Delivery::prepare_at_start`), so that the exit
    /// only writes. Nothing when telemetry is off. A context without a spool starts
    /// its worker at the first event: a tool that forks after `init`
    /// (a daemon) then still has one in the child.
    pub(crate) fn warm_up(&self) {
        if !self.is_enabled() {
            return;
        }
        if self.inner.delivery.folds_reports() {
            // Report mode: the worker looks for a complete report to upload while
            // the tool works, so that the exit only reads a flag.
            if let Err(e) = self.ensure_worker() {
                crate::util::log::debug!(error = %e, "telemetry: worker not started");
            }
            return;
        }
        if self.inner.delivery.spool.is_none() {
            return;
        }
        self.inner
            .delivery
            .prepare_at_start
            .store(true, Ordering::Release);
        if let Err(e) = self.ensure_worker() {
            crate::util::log::debug!(error = %e, "telemetry: worker not started");
        }
    }

    /// What the worker of an installed context does after each batch it journals:
    /// prepares the spool's next file (created, its name synced), so that the exit's
    /// write needs one sync. For the exit benches (`__diagnostics`), whose contexts
    /// are not installed (an exit of theirs would start an uploader).
    #[cfg(all(feature = "test-internals", feature = "spool"))]
    pub(crate) fn prepare_spool_ahead(&self) {
        self.inner
            .delivery
            .prepare_at_start
            .store(true, Ordering::Release);
        if let Some(spool) = &self.inner.delivery.spool {
            spool.prepare();
        }
    }

    /// Persists, then sends within the deadline or starts the uploader (module docs).
    pub(crate) fn finish(&self) -> Result<(), TelemetryError> {
        if !self.is_enabled() {
            return Ok(());
        }
        let start = Instant::now();
        let spool = self.inner.delivery.spool.clone();
        #[cfg(feature = "spool")]
        let plan = spool.as_deref().map(|spool| self.exit_plan(spool));
        #[cfg(not(feature = "spool"))]
        let plan: Option<ExitPlan> = spool.as_deref().map(|spool| match *spool {});
        // Without a spool every sink is written directly by the worker: writing them
        // out is all there is to do, local or not.
        let send_now = plan.is_none_or(|p| p.send_now);
        let mut result = Ok(());
        let mut persisted = true;
        // Dropping the last handle afterwards need not wait a second time.
        self.inner.finished.store(true, Ordering::Release);
        if !send_now {
            // No request of this process's own from here on (a long-running process's
            // sender could otherwise claim the last batch while the uploader takes it).
            self.inner.queue.hand_over();
        }
        if self.inner.worker_started.load(Ordering::Acquire) {
            let queue = &self.inner.queue;
            let spool_errors = &self.inner.delivery.counters.spool_errors;
            let unspooled_before = crate::pipeline::Counters::get(spool_errors);
            let generation = queue.request_flush(send_now);
            let limit = persist_limit(&self.inner.delivery, self.deadline());
            if spool.is_none() {
                // The worker's writes are the whole delivery.
                result = queue.wait_flushed(generation, limit);
            } else if !queue.wait_persisted(generation, limit) {
                persisted = false;
                result = Err(TelemetryError::Timeout { deadline: limit });
            } else if send_now {
                let left = self.deadline().saturating_sub(start.elapsed());
                result = queue.wait_flushed(generation, left);
            } else if crate::pipeline::Counters::get(spool_errors) > unspooled_before {
                // The spool could not take a batch (disk full, refused): it is sent
                // from memory, at most once, within the deadline, or lost (counted).
                let generation = queue.request_flush(true);
                let left = self.deadline().saturating_sub(start.elapsed());
                result = queue.wait_flushed(generation, left);
            }
        }
        // A disk that did not take the write in time is left alone: no more I/O on it
        // from the exit (the worker finishes in the background, if it can).
        #[cfg(feature = "spool")]
        if let (Some(spool), Some(plan), true) = (&spool, plan, persisted) {
            spool.discard_prepared();
            // A send cut short by the exit: the batch goes back at once, for the
            // uploader or the next run.
            spool.release_own();
            if plan.spawn {
                self.start_uploader(spool);
            }
        }
        #[cfg(not(feature = "spool"))]
        let _ = (plan, persisted);
        #[cfg(feature = "reports")]
        if persisted && self.inner.delivery.folds_reports() {
            let reports = self.finish_reports(start);
            result = result.and(reports);
        }
        result
    }

    /// Whether this exit sends within its deadline, and whether it starts the uploader.
    #[cfg(feature = "spool")]
    fn exit_plan(&self, spool: &Spool) -> ExitPlan {
        let in_process = ExitPlan {
            send_now: true,
            spawn: false,
        };
        if !self.uploader_may_run() {
            return in_process;
        }
        let Some(dir) = spool.checked_dir() else {
            // Nothing spooled yet.
            return ExitPlan {
                send_now: false,
                spawn: true,
            };
        };
        match uploader::plan(&dir, self.inner.upload.interval) {
            Plan::Detached { due } => ExitPlan {
                send_now: false,
                spawn: due,
            },
            Plan::Broken { due } => {
                crate::util::log::debug!(
                    "telemetry: the last uploader never reached `telemetry::init` (is it called \
                     before the arguments are parsed?); sending within the exit deadline"
                );
                ExitPlan {
                    send_now: true,
                    spawn: due,
                }
            }
        }
    }

    /// Whether a detached uploader may deliver for this run: in background mode,
    /// outside CI (an explicit `<TOOL>_TELEMETRY=1` there still collects: the run
    /// sends its own, as no later run will) and under no veto that a policy set in
    /// code overrode.
    #[cfg(feature = "spool")]
    pub(super) fn uploader_may_run(&self) -> bool {
        self.inner.send_mode == SendMode::Background
            && !self.inner.ci
            && self.decision().env_veto.is_none()
    }

    /// Starts the uploader if the spool holds batches it may send now and no other
    /// uploader runs.
    #[cfg(feature = "spool")]
    fn start_uploader(&self, spool: &Arc<Spool>) {
        let Some(dir) = spool.checked_dir() else {
            return;
        };
        if !spool.has_waiting(&dir) || spool.held_until_in(&dir).is_some() {
            return;
        }
        self.spawn_uploader(&dir);
    }

    /// Starts the detached uploader whose lock and stamps live in `dir` (the spool,
    /// or the reports), unless one holds the lock.
    #[cfg(feature = "spool")]
    pub(super) fn spawn_uploader(&self, dir: &std::path::Path) {
        let Some(lock) = UploadLock::try_acquire(dir) else {
            return;
        };
        uploader::mark(dir, Stamp::Started);
        if let Err(e) = uploader::spawn(self.tool(), lock) {
            // Not an uploader that never reached `init`: try again next time.
            uploader::unmark(dir, Stamp::Started);
            crate::util::log::debug!(error = %e, "telemetry: could not start the uploader");
        }
    }

    /// The uploader's start, in `dir` (the spool, or the reports): takes the lock its
    /// parent handed over (or its own), stamps that it ran, and starts the watchdog
    /// that ends the process after the time limit (`at_limit` first). `None`: another
    /// uploader holds the lock, or no watchdog could start (no upload without it).
    #[cfg(feature = "spool")]
    pub(super) fn begin_upload(
        &self,
        dir: &std::path::Path,
        at_limit: impl FnOnce() + Send + 'static,
    ) -> Option<UploadLock> {
        let lock = uploader::held_by_parent(dir).or_else(|| {
            let until = Instant::now() + LOCK_HANDOVER;
            loop {
                match UploadLock::try_acquire(dir) {
                    Some(lock) => break Some(lock),
                    None if Instant::now() < until => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    None => break None,
                }
            }
        })?;
        uploader::mark(dir, Stamp::Ran);
        let limit = self.inner.upload.time_limit;
        std::thread::Builder::new()
            .name("telemetry-upload-limit".into())
            .spawn(move || {
                std::thread::sleep(limit);
                at_limit();
                std::process::exit(0);
            })
            .ok()?;
        Some(lock)
    }

    /// This process is the uploader (`init` saw the marker): sends the spool, oldest
    /// first, for at most the time limit, and ends the process. Never returns to the
    /// tool's code.
    #[cfg(feature = "spool")]
    pub(crate) fn run_as_uploader(&self) -> ! {
        uploader::shed_inherited_descriptors(self.tool());
        #[cfg(feature = "reports")]
        if self.inner.delivery.folds_reports() {
            self.upload_reports_as_uploader();
            std::process::exit(0)
        }
        self.upload_once();
        std::process::exit(0)
    }

    #[cfg(feature = "spool")]
    fn upload_once(&self) {
        if !self.is_enabled() || self.inner.ci || self.decision().env_veto.is_some() {
            return;
        }
        let Some(spool) = self.inner.delivery.spool.clone() else {
            return;
        };
        let Some(dir) = spool.checked_dir() else {
            return;
        };
        let watchdog_spool = Arc::clone(&spool);
        let Some(lock) = self.begin_upload(&dir, move || watchdog_spool.release_own()) else {
            return;
        };
        let limit = self.inner.upload.time_limit;
        if let Err(e) = self.ensure_worker() {
            crate::util::log::debug!(error = %e, "telemetry: uploader could not start");
            return;
        }
        let queue = &self.inner.queue;
        let generation = queue.request_flush(true);
        if let Err(e) = queue.wait_flushed(generation, limit) {
            crate::util::log::debug!(error = %e, "telemetry: upload incomplete");
        }
        spool.release_own();
        if !(self.inner.delivery.consented)() {
            // Disabled while this upload ran: the purge left the lock it held; the
            // last one out leaves nothing behind.
            lock.remove(&dir);
        }
        drop(lock);
    }
}

/// The wait for the local writes: the deadline, or [`PERSIST_LIMIT`] if longer, unless
/// a sink the worker writes directly may be remote (at-most-once delivery to a network
/// sink): then the deadline alone.
pub(super) fn persist_limit(delivery: &Delivery, deadline: Duration) -> Duration {
    // In report mode the worker writes only the report files, whatever the sinks.
    let direct_local =
        delivery.folds_reports() || delivery.direct.as_ref().is_none_or(|sink| sink.is_local());
    if direct_local {
        deadline.max(PERSIST_LIMIT)
    } else {
        deadline
    }
}

/// What the spool's stamps say about the detached uploader (for `telemetry status`).
#[cfg(feature = "clap")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UploaderState {
    /// When one was last started by an exit.
    pub(crate) started: Option<std::time::SystemTime>,
    /// When one last reached `init` and began to upload.
    pub(crate) ran: Option<std::time::SystemTime>,
    /// The last one started never reached `init`: the exit sends within its deadline.
    pub(crate) broken: bool,
}

impl TelemetryContext {
    /// When sends happen (see [`SendMode`]).
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// assert_eq!(ctx.send_mode(), telemetry::SendMode::Background);
    /// ```
    pub fn send_mode(&self) -> SendMode {
        self.inner.send_mode
    }

    /// The uploader's stamps, when this context has a spool directory (reads two
    /// files' times; writes nothing).
    #[cfg(all(feature = "clap", feature = "spool"))]
    pub(crate) fn uploader_state(&self) -> Option<UploaderState> {
        let dir = self.inner.delivery.spool.as_deref()?.checked_dir()?;
        Some(UploaderState {
            started: uploader::read(&dir, Stamp::Started),
            ran: uploader::read(&dir, Stamp::Ran),
            broken: matches!(
                uploader::plan(&dir, self.inner.upload.interval),
                Plan::Broken { .. }
            ),
        })
    }
}

impl TelemetryContext {
    /// Without a spool there is no uploader to report on.
    #[cfg(all(feature = "clap", not(feature = "spool")))]
    pub(crate) fn uploader_state(&self) -> Option<UploaderState> {
        None
    }
}

#[derive(Debug, Clone, Copy)]
struct ExitPlan {
    send_now: bool,
    #[cfg_attr(not(feature = "spool"), allow(dead_code))]
    spawn: bool,
}
