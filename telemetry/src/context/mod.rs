//! `TelemetryContext`: the tool's identity, its sinks, the consent policy, and the
//! queue that connects recording threads to the delivery worker.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::catalog::{CaptureSpec, EventSpec};
use crate::consent::{CollectionPolicy, ConsentMode, Decision, ToolInfo};
use crate::deletion::DeletionRequestor;
use crate::error::TelemetryError;
use crate::pipeline::{self, BatchConfig, Captures, EventFactory, Pending, Queue};

mod assemble;
mod builder;
mod commands;
mod exit;
#[cfg(feature = "reports")]
mod reports;
mod schema;

use crate::pipeline::{Delivery, DeliveryMode, DeliveryStats, SendMode};
use crate::sink::TelemetrySink;
use crate::switch::COMPILED_IN;
pub use builder::{DefaultAttrs, TelemetryContextBuilder, Tool};
pub use commands::{ConsentChange, DeletionOutcome, Removal, ResetReport};
pub use exit::PERSIST_LIMIT;
pub use schema::{Schema, SchemaField};

/// File name of the local event log inside the data dir.
pub const LOCAL_LOG_FILE: &str = "events.jsonl";
/// Default time `TelemetryGuard` (and `shutdown`) may spend delivering at exit.
pub const DEFAULT_DEADLINE: Duration = Duration::from_millis(100);
/// Default capacity of the in-memory queue.
pub const DEFAULT_QUEUE_CAPACITY: usize = 1000;
/// Default largest batch handed to a sink at once.
pub const DEFAULT_BATCH_SIZE: usize = 100;
/// Default time the worker waits for a batch to fill before sending a partial one.
pub const DEFAULT_LINGER: Duration = Duration::from_secs(1);

/// The detached uploader's settings (builder: `upload_interval`, `upload_time_limit`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct UploadSettings {
    pub(crate) interval: Duration,
    pub(crate) time_limit: Duration,
}

impl Default for UploadSettings {
    fn default() -> Self {
        Self {
            interval: crate::pipeline::DEFAULT_UPLOAD_INTERVAL,
            time_limit: crate::pipeline::DEFAULT_UPLOAD_TIME_LIMIT,
        }
    }
}

/// The process's telemetry: tool metadata, sinks, policy and delivery queue.
///
/// Cheap to clone (an `Arc`); `Send + Sync`. Usually installed process-wide with
/// [`crate::init`] so `#[track]` sites can reach it.
///
/// ```
/// use telemetry::{CollectionPolicy, TelemetryContext};
/// use telemetry::sink::MemorySink;
///
/// let sink = MemorySink::new();
/// let ctx = TelemetryContext::builder()
///     .tool(telemetry::tool!("mytool", "1.0.0"))
///     .sink(sink.clone())
///     .policy(CollectionPolicy::Enabled)
///     .build()?;
/// telemetry::record!(ctx, "docs.context", jobs = 4)?;
/// ctx.flush_blocking(std::time::Duration::from_secs(5))?;
/// # #[cfg(feature = "collect")]
/// assert_eq!(sink.snapshot()[0].attrs()["jobs"], telemetry::AttrValue::Int(4));
/// # Ok::<(), telemetry::TelemetryError>(())
/// ```
#[derive(Clone)]
pub struct TelemetryContext {
    inner: Arc<Inner>,
}

struct Inner {
    factory: Arc<EventFactory>,
    sink: Arc<dyn TelemetrySink>,
    enabled: AtomicBool,
    /// Held by `set_policy` for the whole change.
    policy_change: Mutex<()>,
    deadline: Duration,
    batch: BatchConfig,
    queue: Arc<Queue>,
    local_log: Option<PathBuf>,
    /// `None` until the first accepted event (or, with a spool, `init`) starts the
    /// worker.
    worker: Mutex<Option<Result<(), String>>>,
    worker_started: AtomicBool,
    /// The end of the run was done (`exit::finish`): dropping does not wait again.
    finished: AtomicBool,
    /// Which sinks are journaled, the spool, the delivery counters.
    delivery: Arc<Delivery>,
    send_mode: SendMode,
    #[cfg_attr(not(feature = "spool"), allow(dead_code))]
    upload: UploadSettings,
    /// A CI service is detected: no detached uploader.
    #[cfg_attr(not(feature = "spool"), allow(dead_code))]
    ci: bool,
    decision: Decision,
    consent_mode: ConsentMode,
    config_dir: Option<PathBuf>,
    deletion: Arc<dyn DeletionRequestor>,
    /// The requestor is [`EventDeletionRequestor`](crate::deletion::EventDeletionRequestor)
    /// (`telemetry schema` lists its event).
    deletion_event: bool,
    /// The default attributes' keys and kinds (`telemetry schema`).
    default_attr_specs: Vec<CaptureSpec>,
    /// Report mode, when the author chose it.
    #[cfg(feature = "reports")]
    report_settings: Option<crate::report::ReportSettings>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle is gone (a context used without `init`, say): what was
        // accepted is written out before this returns, as at an exit, then the
        // worker finishes and ends.
        if self.worker_started.load(Ordering::Acquire) && !self.finished.load(Ordering::Acquire) {
            let generation = self.queue.request_flush(false);
            self.queue.close();
            let limit = exit::persist_limit(&self.delivery, self.deadline);
            self.queue.wait_persisted(generation, limit);
            if let Some(spool) = &self.delivery.spool {
                spool.discard_prepared();
            }
        } else {
            self.queue.close();
        }
    }
}

impl std::fmt::Debug for TelemetryContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryContext")
            .field("tool", &self.tool())
            .field("tool_version", &self.tool_version())
            .field("policy", &self.policy())
            .field("sinks", &self.describe_sinks())
            .finish_non_exhaustive()
    }
}

impl TelemetryContext {
    /// Starts building a context.
    ///
    /// ```
    /// let ctx = telemetry::TelemetryContext::builder()
    ///     .tool(telemetry::tool!("mytool", "1.0.0"))
    ///     .sink(telemetry::sink::NoopSink)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(ctx.tool(), "mytool");
    /// ```
    pub fn builder() -> TelemetryContextBuilder {
        TelemetryContextBuilder::default()
    }

    /// The tool's name.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// assert_eq!(ctx.tool(), "t");
    /// ```
    pub fn tool(&self) -> &str {
        &self.inner.factory.tool
    }

    /// The tool's version.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// assert_eq!(ctx.tool_version(), "1");
    /// ```
    pub fn tool_version(&self) -> &str {
        &self.inner.factory.tool_version
    }

    /// Where this context keeps its install id (and, later, its spool).
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).data_dir("/tmp/t").build().unwrap();
    /// assert_eq!(ctx.data_dir(), Some(std::path::Path::new("/tmp/t")));
    /// ```
    pub fn data_dir(&self) -> Option<&Path> {
        self.inner.factory.data_dir.as_deref()
    }

    /// The local event log, if [`local_log`](TelemetryContextBuilder::local_log) was set.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// assert!(ctx.local_log_path().is_none());
    /// ```
    pub fn local_log_path(&self) -> Option<&Path> {
        self.inner.local_log.as_deref()
    }

    /// The time the exit flush may take.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// assert_eq!(ctx.deadline(), telemetry::DEFAULT_DEADLINE);
    /// ```
    pub fn deadline(&self) -> Duration {
        self.inner.deadline
    }

    /// The effective policy: `Enabled` only if collection is compiled in and enabled.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// assert_eq!(ctx.policy(), telemetry::CollectionPolicy::Disabled);
    /// ```
    pub fn policy(&self) -> CollectionPolicy {
        if self.is_enabled() {
            CollectionPolicy::Enabled
        } else {
            CollectionPolicy::Disabled
        }
    }

    /// Whether events are recorded.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// assert!(!ctx.is_enabled());
    /// ```
    #[inline]
    pub fn is_enabled(&self) -> bool {
        COMPILED_IN && self.inner.enabled.load(Ordering::Relaxed)
    }

    /// Changes the policy at run time. Disabling [purges](Self::purge): every event
    /// still queued in memory and every spool file is deleted and replay stops, so
    /// nothing collected before is sent afterwards.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// ctx.set_policy(telemetry::CollectionPolicy::Disabled);
    /// assert!(!ctx.is_enabled());
    /// ```
    pub fn set_policy(&self, policy: CollectionPolicy) {
        // One change at a time: two opposite calls at once must not leave the flag
        // and the queue disagreeing.
        let _one_at_a_time = self
            .inner
            .policy_change
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let enabled = policy == CollectionPolicy::Enabled;
        self.inner.enabled.store(enabled, Ordering::Relaxed);
        // Under the queue's lock: an event recorded concurrently is either taken
        // before this (and deleted by the purge below) or refused after it.
        self.inner.queue.set_accepting(enabled);
        if !enabled {
            self.purge();
        }
    }

    /// Consent withdrawn: drops the events queued in memory, deletes every spool file
    /// of this tool (including batches left by earlier runs and batches other processes
    /// are sending) and stops replay and retries at once; a request already on the
    /// wire is abandoned. Returns the number of events deleted. Does not change the
    /// policy (see [`set_policy`](Self::set_policy)) and does not touch the local
    /// event log. Runs on the caller's thread: when it returns, the files are gone.
    ///
    /// A context without a spool of its own (a build without feature `spool`, or only
    /// local sinks) still deletes the batches an earlier run left in
    /// `<data dir>/spool/`. Under the trust rules, either way: a spool directory that
    /// is a link or someone else's is not touched, and a file in it that is a link or
    /// someone else's is left.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// assert_eq!(ctx.purge(), 0);
    /// ```
    pub fn purge(&self) -> u64 {
        let queued = self.inner.queue.purge() as u64;
        let spooled = match self.inner.delivery.spool.as_ref() {
            Some(spool) => spool.purge(),
            // No spool here, but an earlier run that had one (an older version of the
            // tool, or another build or configuration of it) may have left batches
            // behind: deleted all the same, as `disable` and `reset` promise.
            None => self.data_dir().map_or(0, |dir| {
                pipeline::purge_spool_dir(&dir.join(crate::layout::SPOOL_DIR))
            }),
        };
        let purged = queued + spooled;
        pipeline::Counters::add(&self.inner.delivery.counters.purged, purged);
        purged
    }

    /// How accepted events are delivered: [`DeliveryMode::AtLeastOnce`] when this
    /// context journals batches in a spool.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// assert_eq!(ctx.delivery_mode(), telemetry::DeliveryMode::AtMostOnce);
    /// ```
    pub fn delivery_mode(&self) -> DeliveryMode {
        self.inner.delivery.mode
    }

    /// The spool directory (`<data dir>/spool`), in at-least-once mode.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// assert!(ctx.spool_dir().is_none());
    /// ```
    pub fn spool_dir(&self) -> Option<&Path> {
        self.inner.delivery.spool.as_deref().map(|s| s.dir())
    }

    /// The delivery counters of this process and what the spool holds now (this reads
    /// the spool directory; it never writes). For `telemetry status`.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// let stats = ctx.stats();
    /// assert_eq!((stats.spooled_events, stats.retried, stats.corrupt_skipped), (0, 0, 0));
    /// ```
    pub fn stats(&self) -> DeliveryStats {
        let d = &self.inner.delivery;
        let c = &d.counters;
        let get = pipeline::Counters::get;
        let scan = d
            .spool
            .as_ref()
            .map_or_else(pipeline::Scan::default, |s| s.scan());
        DeliveryStats {
            mode: d.mode,
            queued: self.inner.queue.len(),
            delivered: self.inner.queue.delivered(),
            failed: self.inner.queue.failed(),
            dropped: self.inner.queue.dropped(),
            spool_errors: get(&c.spool_errors),
            spooled_files: scan.files,
            spooled_events: scan.events,
            spooled_bytes: scan.bytes,
            pruned_files: get(&c.pruned_files),
            pruned_events: get(&c.pruned_events),
            corrupt_skipped: get(&c.corrupt_skipped),
            retried: get(&c.retried),
            replayed: get(&c.replayed),
            purged: get(&c.purged),
        }
    }

    /// A description of the sinks, for `telemetry status`.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::FileSink::new("/tmp/e.jsonl")).build().unwrap();
    /// assert_eq!(ctx.describe_sinks(), "file /tmp/e.jsonl");
    /// ```
    pub fn describe_sinks(&self) -> String {
        self.inner.sink.describe()
    }

    /// Records a point event declared by `telemetry::record!` (the spec is the site's
    /// `static`). Never blocks; a full queue drops the event, counts it and says so.
    pub(crate) fn record_point(
        &self,
        spec: &'static EventSpec,
        captured: Captures,
    ) -> Result<(), TelemetryError> {
        if !self.is_enabled() {
            return Ok(());
        }
        self.enqueue(Pending::point(spec, captured))
    }

    /// Hands an event to the queue, starting the worker on first use.
    pub(crate) fn enqueue(&self, pending: Pending) -> Result<(), TelemetryError> {
        self.ensure_worker()?;
        let queue = &self.inner.queue;
        queue.outcome(queue.push(pending))
    }

    /// The queue, once the worker that drains it runs: what the hot path of the
    /// installed context pushes into directly (see `global::record_call`).
    pub(crate) fn running_queue(&self) -> Option<Arc<Queue>> {
        self.inner
            .worker_started
            .load(Ordering::Acquire)
            .then(|| Arc::clone(&self.inner.queue))
    }

    fn ensure_worker(&self) -> Result<(), TelemetryError> {
        if self.inner.worker_started.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut worker = self
            .inner
            .worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let state = worker.get_or_insert_with(|| {
            pipeline::spawn(
                Arc::clone(&self.inner.queue),
                Arc::clone(&self.inner.factory),
                Arc::clone(&self.inner.delivery),
                self.inner.batch,
            )
            .map_err(|e| e.to_string())
        });
        match state {
            Ok(()) => {
                self.inner.worker_started.store(true, Ordering::Release);
                Ok(())
            }
            Err(message) => Err(TelemetryError::Worker(message.clone())),
        }
    }

    /// Waits until every event accepted so far reached the sinks and the sinks flushed.
    /// Returns the first delivery error since the previous flush, if any. Has no
    /// deadline of its own: wrap it in a timeout, or use
    /// [`flush_blocking`](Self::flush_blocking).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// ctx.flush().await.unwrap();
    /// # });
    /// ```
    pub async fn flush(&self) -> Result<(), TelemetryError> {
        if !self.inner.worker_started.load(Ordering::Acquire) {
            return Ok(());
        }
        let generation = self.inner.queue.request_flush(true);
        self.inner.queue.wait_flushed_async(generation).await
    }

    /// Like [`flush`](Self::flush), but blocking the calling thread for at most
    /// `deadline` on the sinks; returns [`TelemetryError::Timeout`] if they did not
    /// finish in time (what is left keeps being delivered in the background). Whatever
    /// the deadline, what was accepted is written out first (the local sinks and, in
    /// at-least-once mode, the spool, synced), which may take up to
    /// [`PERSIST_LIMIT`](crate::PERSIST_LIMIT) on a disk that hangs.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// ctx.flush_blocking(std::time::Duration::from_millis(100)).unwrap();
    /// ```
    pub fn flush_blocking(&self, deadline: Duration) -> Result<(), TelemetryError> {
        if !self.inner.worker_started.load(Ordering::Acquire) {
            return Ok(());
        }
        let start = std::time::Instant::now();
        let queue = &self.inner.queue;
        let generation = queue.request_flush(true);
        // Written out first, whatever the deadline (see `exit::PERSIST_LIMIT`).
        let limit = exit::persist_limit(&self.inner.delivery, deadline);
        let persisted = queue.wait_persisted(generation, limit);
        let left = deadline.saturating_sub(start.elapsed());
        match queue.wait_flushed(generation, left) {
            Err(TelemetryError::Timeout { .. }) if !persisted => {
                Err(TelemetryError::Timeout { deadline: limit })
            }
            Err(TelemetryError::Timeout { .. }) => Err(TelemetryError::Timeout { deadline }),
            other => other,
        }
    }

    /// How consent was decided for this process, and why (see [`crate::consent`]).
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink)
    /// #     .env(telemetry::consent::Env::empty().with_var("DO_NOT_TRACK", "1")).build().unwrap();
    /// # #[cfg(feature = "collect")]
    /// assert_eq!(ctx.decision().source, telemetry::consent::DecisionSource::DoNotTrack);
    /// ```
    pub fn decision(&self) -> &Decision {
        &self.inner.decision
    }

    /// The tool's consent settings (name and opt-in/opt-out mode).
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// assert_eq!(ctx.tool_info().name, "t");
    /// ```
    pub fn tool_info(&self) -> ToolInfo {
        #[cfg_attr(not(feature = "reports"), allow(unused_mut))]
        let mut info = ToolInfo::new(self.tool()).with_mode(self.inner.consent_mode.clone());
        #[cfg(feature = "reports")]
        {
            info.local_by_default = self
                .inner
                .report_settings
                .as_ref()
                .is_some_and(crate::report::ReportSettings::is_local_by_default);
        }
        info
    }

    /// The tool's config dir: the consent file `telemetry.json` and the local key
    /// `telemetry.key` live here.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).config_dir("/tmp/t-cfg").build().unwrap();
    /// assert_eq!(ctx.config_dir(), Some(std::path::Path::new("/tmp/t-cfg")));
    /// ```
    pub fn config_dir(&self) -> Option<&Path> {
        self.inner.config_dir.as_deref()
    }

    /// The salted machine id events carry. Derives it (and, where the OS has no machine
    /// id, creates the install id) on first use: call it only when telemetry is on or
    /// the user asked (`telemetry status`, `reset`).
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// assert_eq!(ctx.machine_id().len(), 64);
    /// ```
    pub fn machine_id(&self) -> &str {
        self.inner.factory.machine_id()
    }

    pub(crate) fn sink(&self) -> &Arc<dyn TelemetrySink> {
        &self.inner.sink
    }

    pub(crate) fn deletion_requestor(&self) -> &Arc<dyn DeletionRequestor> {
        &self.inner.deletion
    }

    /// Marks this context's queue as installed under `generation` (0: uninstalled).
    pub(crate) fn set_installed(&self, generation: u64) {
        self.inner.queue.set_installed(generation);
    }

    pub(crate) fn same_as(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl TelemetryContext {
    /// Whether the author chose report mode (feature `reports`; never without it).
    ///
    /// ```
    /// let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1"))
    ///     .sink(telemetry::sink::NoopSink).build().unwrap();
    /// assert!(!ctx.collects_reports());
    /// ```
    pub fn collects_reports(&self) -> bool {
        #[cfg(feature = "reports")]
        return self.inner.report_settings.is_some();
        #[cfg(not(feature = "reports"))]
        false
    }

    /// Report mode's settings, when the author chose it
    /// ([`TelemetryContextBuilder::reports`]).
    ///
    /// ```
    /// let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1"))
    ///     .sink(telemetry::sink::NoopSink).build().unwrap();
    /// assert!(ctx.report_settings().is_none());
    /// ```
    #[cfg(feature = "reports")]
    pub fn report_settings(&self) -> Option<&crate::report::ReportSettings> {
        self.inner.report_settings.as_ref()
    }

    /// The collection level of this process (see [`Level`](crate::consent::Level)).
    ///
    /// ```
    /// let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1"))
    ///     .sink(telemetry::sink::NoopSink).build().unwrap();
    /// assert_eq!(ctx.level(), telemetry::consent::Level::Off);
    /// ```
    pub fn level(&self) -> crate::consent::Level {
        if self.is_enabled() {
            self.decision().level()
        } else {
            crate::consent::Level::Off
        }
    }
}
