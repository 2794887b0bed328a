//! `TelemetryContext`: the tool's identity, its sinks, the consent policy, and the
//! queue that connects recording threads to the delivery worker.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::consent::{self, CollectionPolicy, ConsentMode, Decision, Env, ToolInfo};
use crate::deletion::{DeletionRequestor, EventDeletionRequestor};
use crate::error::TelemetryError;
use crate::event::{AttrValue, IntoAttrValue};
use crate::naming;
use crate::pipeline::{self, BatchConfig, EventFactory, Pending, Queue};
use crate::pipeline::{
    DEFAULT_SPOOL_MAX_BYTES, DEFAULT_SPOOL_MAX_FILES, Delivery, DeliveryMode, DeliveryStats,
    SpoolLimits,
};
use crate::sink::{FileSink, TeeSink, TelemetrySink, WriterSink};
use crate::switch::COMPILED_IN;

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

/// The process's telemetry: tool metadata, sinks, policy and delivery queue.
///
/// Cheap to clone (an `Arc`); `Send + Sync`. Usually installed process-wide with
/// [`crate::init`] so `#[track]` sites can reach it.
///
/// ```
/// use telemetry::{CollectionPolicy, MemorySink, TelemetryContext};
///
/// let sink = MemorySink::new();
/// let ctx = TelemetryContext::builder()
///     .tool("mytool")
///     .tool_version("1.0.0")
///     .sink(sink.clone())
///     .policy(CollectionPolicy::Enabled)
///     .build()?;
/// ctx.record_sync("cmd.build", [("jobs", 4)])?;
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
    /// `None` until the first accepted event starts the worker.
    worker: Mutex<Option<Result<(), String>>>,
    worker_started: AtomicBool,
    /// Which sinks are journaled, the spool, the delivery counters.
    delivery: Arc<Delivery>,
    decision: Decision,
    consent_mode: ConsentMode,
    config_dir: Option<PathBuf>,
    deletion: Arc<dyn DeletionRequestor>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle is gone: let the worker finish what is queued and exit.
        self.queue.close();
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
    ///     .tool("mytool")
    ///     .tool_version("1.0.0")
    ///     .sink(telemetry::NoopSink)
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
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// assert_eq!(ctx.tool(), "t");
    /// ```
    pub fn tool(&self) -> &str {
        &self.inner.factory.tool
    }

    /// The tool's version.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// assert_eq!(ctx.tool_version(), "1");
    /// ```
    pub fn tool_version(&self) -> &str {
        &self.inner.factory.tool_version
    }

    /// Where this context keeps its install id (and, later, its spool).
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).data_dir("/tmp/t").build().unwrap();
    /// assert_eq!(ctx.data_dir(), Some(std::path::Path::new("/tmp/t")));
    /// ```
    pub fn data_dir(&self) -> Option<&Path> {
        self.inner.factory.data_dir.as_deref()
    }

    /// The local event log, if [`local_log`](TelemetryContextBuilder::local_log) was set.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// assert!(ctx.local_log_path().is_none());
    /// ```
    pub fn local_log_path(&self) -> Option<&Path> {
        self.inner.local_log.as_deref()
    }

    /// The time the exit flush may take.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// assert_eq!(ctx.deadline(), telemetry::DEFAULT_DEADLINE);
    /// ```
    pub fn deadline(&self) -> Duration {
        self.inner.deadline
    }

    /// The effective policy: `Enabled` only if collection is compiled in and enabled.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
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
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
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
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
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
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// assert_eq!(ctx.purge(), 0);
    /// ```
    pub fn purge(&self) -> u64 {
        let queued = self.inner.queue.purge() as u64;
        let spooled = self.inner.delivery.spool.as_ref().map_or(0, |s| s.purge());
        let purged = queued + spooled;
        pipeline::Counters::add(&self.inner.delivery.counters.purged, purged);
        purged
    }

    /// How accepted events are delivered: [`DeliveryMode::AtLeastOnce`] when this
    /// context journals batches in a spool.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// assert_eq!(ctx.delivery_mode(), telemetry::DeliveryMode::AtMostOnce);
    /// ```
    pub fn delivery_mode(&self) -> DeliveryMode {
        self.inner.delivery.mode
    }

    /// The spool directory (`<data dir>/spool`), in at-least-once mode.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// assert!(ctx.spool_dir().is_none());
    /// ```
    pub fn spool_dir(&self) -> Option<&Path> {
        self.inner.delivery.spool.as_deref().map(|s| s.dir())
    }

    /// The delivery counters of this process and what the spool holds now (this reads
    /// the spool directory; it never writes). For `telemetry status`.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
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
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::FileSink::new("/tmp/e.jsonl")).build().unwrap();
    /// assert_eq!(ctx.describe_sinks(), "file /tmp/e.jsonl");
    /// ```
    pub fn describe_sinks(&self) -> String {
        self.inner.sink.describe()
    }

    /// Events dropped because the queue was full.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// assert_eq!(ctx.dropped_events(), 0);
    /// ```
    pub fn dropped_events(&self) -> u64 {
        self.inner.queue.dropped()
    }

    /// Events accepted and waiting in memory.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// assert_eq!(ctx.queued_events(), 0);
    /// ```
    pub fn queued_events(&self) -> usize {
        self.inner.queue.len()
    }

    /// Events the sinks accepted.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// assert_eq!(ctx.delivered_events(), 0);
    /// ```
    pub fn delivered_events(&self) -> u64 {
        self.inner.queue.delivered()
    }

    /// Events a sink failed to take (counted, never retried by this context).
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// assert_eq!(ctx.failed_events(), 0);
    /// ```
    pub fn failed_events(&self) -> u64 {
        self.inner.queue.failed()
    }

    /// Records an event named `name` with no attributes. Returns once the event is
    /// accepted into the queue (it is delivered in the background).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// ctx.record("cmd.build").await.unwrap();
    /// # });
    /// ```
    pub async fn record(&self, name: &'static str) -> Result<(), TelemetryError> {
        self.record_sync(name, std::iter::empty::<(&'static str, AttrValue)>())
    }

    /// Records an event with attributes (a per-event attribute wins over a default
    /// attribute of the same key). Returns once the event is accepted.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// ctx.record_with_attrs("cmd.build", [("profile", "release")]).await.unwrap();
    /// # });
    /// ```
    pub async fn record_with_attrs<V: IntoAttrValue>(
        &self,
        name: &'static str,
        attrs: impl IntoIterator<Item = (&'static str, V)>,
    ) -> Result<(), TelemetryError> {
        self.record_sync(name, attrs)
    }

    /// The synchronous, non-blocking form of [`record_with_attrs`](Self::record_with_attrs):
    /// usable from sync code and from inside any async runtime. A full queue drops the
    /// event, counts it ([`dropped_events`](Self::dropped_events)) and returns
    /// [`TelemetryError::QueueFull`]; it never waits.
    ///
    /// The event name and the keys are `&'static str` — text fixed in the source, so
    /// never a value read at run time — and are checked too: names must be lowercase
    /// dotted (`cmd.build`) and keys snake_case, or the call is refused with
    /// [`TelemetryError::Config`]. Values are bools, numbers, `&'static str`s or
    /// [`SafeValue`](crate::SafeValue)s (see [`IntoAttrValue`]); a `String` does not
    /// compile. (This departs on purpose from telemetry APIs that take a
    /// `HashMap<String, String>`: any run-time string could carry a path or a name.)
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).policy(telemetry::CollectionPolicy::Enabled).build().unwrap();
    /// ctx.record_sync("cmd.build", [("jobs", 4)]).unwrap();
    /// # #[cfg(feature = "collect")]
    /// assert!(ctx.record_sync("/home/alice", [("jobs", 4)]).is_err());
    /// ```
    pub fn record_sync<V: IntoAttrValue>(
        &self,
        name: &'static str,
        attrs: impl IntoIterator<Item = (&'static str, V)>,
    ) -> Result<(), TelemetryError> {
        if !self.is_enabled() {
            return Ok(());
        }
        if !naming::is_valid_event_name(name) {
            return Err(TelemetryError::Config(format!(
                "event name {name:?} is not lowercase dotted ([a-z][a-z0-9_]* segments, at most 64 bytes)"
            )));
        }
        let mut checked = BTreeMap::new();
        for (key, value) in attrs {
            if !naming::is_valid_attr_key(key) {
                return Err(TelemetryError::Config(format!(
                    "attribute key {key:?} is not snake_case"
                )));
            }
            match value.into_attr_value() {
                Some(value) => checked.insert(key, value),
                None => checked.remove(key),
            };
        }
        self.enqueue(Pending::named(name, checked))
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
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// ctx.flush().await.unwrap();
    /// # });
    /// ```
    pub async fn flush(&self) -> Result<(), TelemetryError> {
        if !self.inner.worker_started.load(Ordering::Acquire) {
            return Ok(());
        }
        let generation = self.inner.queue.request_flush();
        self.inner.queue.wait_flushed_async(generation).await
    }

    /// Like [`flush`](Self::flush), but blocking the calling thread for at most
    /// `deadline`; returns [`TelemetryError::Timeout`] if the sinks did not finish in
    /// time (what is left keeps being delivered in the background).
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// ctx.flush_blocking(std::time::Duration::from_millis(100)).unwrap();
    /// ```
    pub fn flush_blocking(&self, deadline: Duration) -> Result<(), TelemetryError> {
        if !self.inner.worker_started.load(Ordering::Acquire) {
            return Ok(());
        }
        let generation = self.inner.queue.request_flush();
        self.inner.queue.wait_flushed(generation, deadline)
    }

    /// How consent was decided for this process, and why (see [`crate::consent`]).
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink)
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
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// assert_eq!(ctx.tool_info().name, "t");
    /// ```
    pub fn tool_info(&self) -> ToolInfo {
        ToolInfo::new(self.tool()).with_mode(self.inner.consent_mode.clone())
    }

    /// The tool's config dir: the consent file `telemetry.json` and the local key
    /// `telemetry.key` live here.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).config_dir("/tmp/t-cfg").build().unwrap();
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
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
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

/// Builds a [`TelemetryContext`]. Every mistake is reported by [`build`](Self::build)
/// as a [`TelemetryError::Config`], never a panic.
///
/// ```
/// let ctx = telemetry::TelemetryContext::builder()
///     .tool("mytool")
///     .tool_version(env!("CARGO_PKG_VERSION"))
///     .salt("mytool-telemetry-v1")
///     .sink(telemetry::FileSink::new("/tmp/mytool-events.jsonl"))
///     .default_attr("channel", "stable")
///     .deadline(std::time::Duration::from_millis(200))
///     .build()?;
/// # drop(ctx);
/// # Ok::<(), telemetry::TelemetryError>(())
/// ```
#[derive(Default)]
#[must_use]
pub struct TelemetryContextBuilder {
    tool: Option<&'static str>,
    tool_version: Option<&'static str>,
    salt: Option<String>,
    sinks: Vec<Arc<dyn TelemetrySink>>,
    policy: Option<CollectionPolicy>,
    consent: ConsentMode,
    env: Option<Env>,
    config_dir: Option<PathBuf>,
    deletion: Option<Arc<dyn DeletionRequestor>>,
    deadline: Option<Duration>,
    queue_capacity: Option<usize>,
    batch_size: Option<usize>,
    linger: Option<Duration>,
    delivery_mode: Option<DeliveryMode>,
    spool_limits: Option<SpoolLimits>,
    data_dir: Option<PathBuf>,
    local_log: bool,
    default_attrs: BTreeMap<Cow<'static, str>, AttrValue>,
}

impl std::fmt::Debug for TelemetryContextBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryContextBuilder")
            .field("tool", &self.tool)
            .field("tool_version", &self.tool_version)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl TelemetryContextBuilder {
    /// The tool's name (required): letters, digits, `-`, `_`, `.`; at most 64 bytes.
    /// It names the data directory and the `<TOOL>_TELEMETRY*` variables. A
    /// `&'static str` (usually `env!("CARGO_PKG_NAME")` or a literal): it is in every
    /// event, so it is fixed when the tool is compiled.
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().tool("mytool");
    /// # drop(b);
    /// ```
    pub fn tool(mut self, tool: &'static str) -> Self {
        self.tool = Some(tool);
        self
    }

    /// The tool's version (required), usually `env!("CARGO_PKG_VERSION")`: a
    /// `&'static str` of at most 64 ASCII letters, digits, `.`, `-` and `+` (a SemVer
    /// version with pre-release and build metadata fits); [`build`](Self::build) refuses
    /// anything else. It is in every event, so it is fixed when the tool is compiled.
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().tool_version(env!("CARGO_PKG_VERSION"));
    /// # drop(b);
    /// ```
    pub fn tool_version(mut self, version: &'static str) -> Self {
        self.tool_version = Some(version);
        self
    }

    /// The salt hashed with the machine id (default: the tool name). A per-tool salt
    /// means two tools on one machine report unrelated ids.
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().salt("mytool-v1");
    /// # drop(b);
    /// ```
    pub fn salt(mut self, salt: impl Into<String>) -> Self {
        self.salt = Some(salt.into());
        self
    }

    /// Adds a sink. Several sinks receive every event (see [`TeeSink`]).
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().sink(telemetry::MemorySink::new());
    /// # drop(b);
    /// ```
    pub fn sink(mut self, sink: impl TelemetrySink) -> Self {
        self.sinks.push(Arc::new(sink));
        self
    }

    /// Adds several shared sinks.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sinks: Vec<Arc<dyn telemetry::TelemetrySink>> = vec![Arc::new(telemetry::NoopSink)];
    /// let b = telemetry::TelemetryContext::builder().sinks(sinks);
    /// # drop(b);
    /// ```
    pub fn sinks(mut self, sinks: impl IntoIterator<Item = Arc<dyn TelemetrySink>>) -> Self {
        self.sinks.extend(sinks);
        self
    }

    /// Sets the policy in code, bypassing consent resolution (for tests, and for tools
    /// with a consent flow of their own). Without it, [`build`](Self::build) resolves
    /// consent from the environment and the user's config file (see [`crate::consent`]).
    /// The `collect` feature still wins: compiled out is always disabled.
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().policy(telemetry::CollectionPolicy::Enabled);
    /// # drop(b);
    /// ```
    pub fn policy(mut self, policy: CollectionPolicy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// How consent is asked for: [`ConsentMode::OptIn`] (default) or
    /// [`ConsentMode::OptOut`] with a notice shown once on a terminal.
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().consent(telemetry::consent::ConsentMode::OptIn);
    /// # drop(b);
    /// ```
    pub fn consent(mut self, mode: ConsentMode) -> Self {
        self.consent = mode;
        self
    }

    /// The environment consent is resolved from (default: [`Env::from_process`]).
    /// Tests inject one to check every rule without touching the process environment.
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().env(telemetry::consent::Env::empty());
    /// # drop(b);
    /// ```
    pub fn env(mut self, env: Env) -> Self {
        self.env = Some(env);
        self
    }

    /// The tool's config dir (default: `<TOOL>_CONFIG_DIR`, else the platform's, e.g.
    /// `~/.config/<tool>` on Linux), where `telemetry.json` and `telemetry.key` live.
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().config_dir("/tmp/mytool-config");
    /// # drop(b);
    /// ```
    pub fn config_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config_dir = Some(dir.into());
        self
    }

    /// How `telemetry reset` asks the backend to delete this machine's data (default:
    /// [`EventDeletionRequestor`], a `data.deletion_request` event through the sinks).
    ///
    /// ```
    /// let m = telemetry::deletion::MailtoDeletionRequestor::new("privacy@example.com").unwrap();
    /// let b = telemetry::TelemetryContext::builder().deletion_requestor(m);
    /// # drop(b);
    /// ```
    pub fn deletion_requestor(mut self, requestor: impl DeletionRequestor) -> Self {
        self.deletion = Some(Arc::new(requestor));
        self
    }

    /// The most time the exit flush may take (default 100 ms).
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().deadline(std::time::Duration::from_millis(50));
    /// # drop(b);
    /// ```
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Capacity of the in-memory queue (default 1000). When it is full, new events are
    /// dropped and counted; recording never waits.
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().queue_capacity(10_000);
    /// # drop(b);
    /// ```
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = Some(capacity);
        self
    }

    /// The largest batch handed to a sink at once (default 100).
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().batch_size(500);
    /// # drop(b);
    /// ```
    pub fn batch_size(mut self, size: usize) -> Self {
        self.batch_size = Some(size);
        self
    }

    /// How long the worker waits for a batch to fill before sending a partial one
    /// (default 1 s; a flush sends at once).
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().linger(std::time::Duration::from_millis(10));
    /// # drop(b);
    /// ```
    pub fn linger(mut self, linger: Duration) -> Self {
        self.linger = Some(linger);
        self
    }

    /// How accepted events are protected on their way to the sinks (see
    /// [`DeliveryMode`]). Default: `AtLeastOnce` when a sink is not local (a network
    /// sink such as `HttpSink`/`OtlpSink`, or a custom sink that does not declare
    /// [`is_local`](TelemetrySink::is_local)), `AtMostOnce` otherwise. In
    /// `AtLeastOnce` the remote sinks are fed through the spool in
    /// `<data dir>/spool/` and the local sinks are still written directly, once (with
    /// no remote sink, every sink goes through the spool). Without a data dir (no home
    /// directory) the spool is impossible and delivery is `AtMostOnce`.
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().delivery_mode(telemetry::DeliveryMode::AtMostOnce);
    /// # drop(b);
    /// ```
    pub fn delivery_mode(mut self, mode: DeliveryMode) -> Self {
        self.delivery_mode = Some(mode);
        self
    }

    /// Bounds of the spool (defaults [`DEFAULT_SPOOL_MAX_FILES`] files, one batch
    /// each, and [`DEFAULT_SPOOL_MAX_BYTES`] bytes). When a new batch would exceed
    /// either, the oldest waiting batches are deleted and counted
    /// ([`DeliveryStats::pruned_events`]).
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().spool_limits(100, 1 << 20);
    /// # drop(b);
    /// ```
    pub fn spool_limits(mut self, max_files: usize, max_bytes: u64) -> Self {
        self.spool_limits = Some(SpoolLimits {
            max_files,
            max_bytes,
        });
        self
    }

    /// Where the install id (and the spool) live. Default: the platform data dir,
    /// `<data>/<tool>/telemetry` (e.g. `~/.local/share/mytool/telemetry` on Linux).
    /// Nothing is created there while telemetry is disabled.
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().data_dir("/var/lib/mytool/telemetry");
    /// # drop(b);
    /// ```
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Adds the local event log: a [`FileSink`](crate::FileSink) appending JSON lines to
    /// `<data dir>/events.jsonl` (see [`data_dir`](Self::data_dir)), so users can read
    /// exactly what was recorded. Created only when the first event is delivered.
    ///
    /// ```
    /// let ctx = telemetry::TelemetryContext::builder()
    ///     .tool("mytool")
    ///     .tool_version("1")
    ///     .data_dir("/tmp/mytool-telemetry")
    ///     .local_log()
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(ctx.local_log_path().unwrap(), std::path::Path::new("/tmp/mytool-telemetry/events.jsonl"));
    /// ```
    pub fn local_log(mut self) -> Self {
        self.local_log = true;
        self
    }

    /// A tool-level attribute added to every event; a per-event attribute with the same
    /// key wins. The key is a `&'static str` and the value a bool, a number, a
    /// `&'static str` or a [`SafeValue`](crate::SafeValue) (see [`IntoAttrValue`]): never
    /// text read at run time. A value of `None` adds nothing.
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().default_attr("channel", "beta");
    /// # drop(b);
    /// ```
    pub fn default_attr(mut self, key: &'static str, value: impl IntoAttrValue) -> Self {
        match value.into_attr_value() {
            Some(value) => self.default_attrs.insert(Cow::Borrowed(key), value),
            None => self.default_attrs.remove(key),
        };
        self
    }

    /// Checks the settings and builds the context. Starts nothing: the worker thread
    /// starts with the first recorded event.
    ///
    /// ```
    /// let err = telemetry::TelemetryContext::builder().tool("t").build().unwrap_err();
    /// assert!(err.to_string().contains("tool_version"));
    /// ```
    pub fn build(self) -> Result<TelemetryContext, TelemetryError> {
        let config = |msg: String| Err(TelemetryError::Config(msg));
        let Some(tool) = self.tool else {
            return config("`tool` is required".into());
        };
        if !naming::is_valid_tool_name(tool) {
            return config(format!(
                "tool name {tool:?} must be 1-64 ASCII letters, digits, '-', '_' or '.'"
            ));
        }
        let Some(tool_version) = self.tool_version else {
            return config("`tool_version` is required".into());
        };
        if !naming::is_valid_tool_version(tool_version) {
            return config(format!(
                "tool version {tool_version:?} must be 1-64 ASCII letters, digits, '.', '-' or '+' \
                 (a SemVer version such as 1.2.3-beta.1+abc fits)"
            ));
        }
        if let Some(key) = self
            .default_attrs
            .keys()
            .find(|k| !naming::is_valid_attr_key(k))
        {
            return config(format!("default attribute key {key:?} is not snake_case"));
        }
        let capacity = self.queue_capacity.unwrap_or(DEFAULT_QUEUE_CAPACITY);
        if capacity == 0 {
            return config("`queue_capacity` must be at least 1".into());
        }
        let batch_size = self.batch_size.unwrap_or(DEFAULT_BATCH_SIZE);
        if batch_size == 0 {
            return config("`batch_size` must be at least 1".into());
        }
        let data_dir = self.data_dir.or_else(|| crate::layout::data_dir(tool));
        let tool_info = ToolInfo::new(tool).with_mode(self.consent.clone());
        let (decision, config_dir) = decide(
            &tool_info,
            self.policy,
            self.env,
            self.config_dir,
            data_dir.as_deref(),
        );
        let mut sinks = self.sinks;
        if decision.local_only {
            sinks.retain(|s| s.is_local());
        }
        let local_log = match (self.local_log || decision.local_only, &data_dir) {
            (false, _) => None,
            (true, Some(dir)) => Some(dir.join(LOCAL_LOG_FILE)),
            (true, None) => {
                return config(
                    "`local_log` needs a data dir: no home directory was found, set `data_dir`"
                        .into(),
                );
            }
        };
        if let Some(path) = &local_log {
            sinks.push(Arc::new(FileSink::local_log(path)));
        }
        if decision.dry_run {
            // Printed, never sent nor stored.
            sinks = vec![Arc::new(WriterSink::stderr())];
        } else if decision.show {
            sinks.push(Arc::new(WriterSink::stderr()));
        }
        let delivery = Delivery::plan(
            sinks.clone(),
            self.delivery_mode,
            data_dir.as_deref(),
            self.spool_limits.unwrap_or(SpoolLimits {
                max_files: DEFAULT_SPOOL_MAX_FILES,
                max_bytes: DEFAULT_SPOOL_MAX_BYTES,
            }),
        );
        let sink: Arc<dyn TelemetrySink> = match sinks.len() {
            0 => return config("at least one sink is required".into()),
            1 => sinks
                .into_iter()
                .next()
                .ok_or_else(|| TelemetryError::Config("at least one sink is required".into()))?,
            _ => Arc::new(sinks.into_iter().fold(TeeSink::new(), TeeSink::with_shared)),
        };
        let salt = self.salt.unwrap_or_else(|| tool.to_owned());
        let enabled = decision.policy == CollectionPolicy::Enabled;
        let factory = EventFactory::new(tool, tool_version, salt, data_dir, self.default_attrs);
        Ok(TelemetryContext {
            inner: Arc::new(Inner {
                factory: Arc::new(factory),
                sink,
                enabled: AtomicBool::new(enabled),
                policy_change: Mutex::new(()),
                deadline: self.deadline.unwrap_or(DEFAULT_DEADLINE),
                batch: BatchConfig {
                    linger: self.linger.unwrap_or(DEFAULT_LINGER),
                },
                queue: Arc::new(Queue::new(capacity, batch_size, enabled)),
                local_log,
                worker: Mutex::new(None),
                worker_started: AtomicBool::new(false),
                delivery: Arc::new(delivery),
                decision,
                consent_mode: self.consent,
                config_dir,
                deletion: self
                    .deletion
                    .unwrap_or_else(|| Arc::new(EventDeletionRequestor)),
            }),
        })
    }
}

/// Resolves consent (or takes the author's explicit policy), prints the resolution's
/// warnings and, when due, the opt-out notice, all on stderr. Returns the decision and
/// the config dir.
fn decide(
    tool: &ToolInfo,
    explicit: Option<CollectionPolicy>,
    env: Option<Env>,
    config_dir: Option<PathBuf>,
    data_dir: Option<&Path>,
) -> (Decision, Option<PathBuf>) {
    let mut env = env.unwrap_or_else(|| Env::from_process(&tool.name));
    if let Some(policy) = explicit {
        // The same dir consent resolution would use: the builder's, else
        // `<TOOL>_CONFIG_DIR`, else the platform's (all in `env`).
        let config_dir = config_dir.or_else(|| env.config_dir().map(Path::to_owned));
        let mut decision = Decision::explicit(policy);
        decision.config_path = config_dir.as_ref().map(|d| d.join(consent::CONFIG_FILE));
        // The environment's vetoes still bind `telemetry reset`.
        decision.env_veto = decision.env_veto.or(consent::env_veto(tool, &env));
        return (decision, config_dir);
    }
    if let Some(dir) = config_dir {
        env = env.with_config_dir(dir);
    }
    let mut decision = consent::resolve(tool, &env);
    consent::prepare_enabled(&mut decision, data_dir);
    let mut stderr = std::io::stderr();
    for warning in &decision.warnings {
        let _ = writeln!(stderr, "{}: telemetry: warning: {warning}", tool.name);
    }
    if let Err(e) = consent::show_notice(tool, &decision, &mut stderr) {
        tracing::debug!(error = %e, "telemetry: opt-out notice not shown");
    }
    (decision, env.config_dir().map(Path::to_owned))
}
