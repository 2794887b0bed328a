//! [`TelemetryContextBuilder`]: the author's settings, checked by `build`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{
    DEFAULT_BATCH_SIZE, DEFAULT_DEADLINE, DEFAULT_LINGER, DEFAULT_QUEUE_CAPACITY, Inner,
    LOCAL_LOG_FILE, TelemetryContext, UploadSettings, assemble,
};
use crate::catalog::{self, CaptureSpec};
use crate::consent::{CollectionPolicy, ConsentMode, Env, ToolInfo};
use crate::deletion::{DeletionRequestor, EventDeletionRequestor};
use crate::error::TelemetryError;
use crate::naming;
use crate::pipeline::{
    BACKGROUND_SEND_AFTER, BatchConfig, DEFAULT_SPOOL_MAX_BYTES, DEFAULT_SPOOL_MAX_FILES, Delivery,
    DeliveryMode, EventFactory, Queue, SendMode, SpoolLimits,
};
#[cfg(feature = "reports")]
use crate::report::{ReportMode, ReportSettings};
use crate::sink::{TeeSink, TelemetrySink};
use crate::value::AttrValue;

/// Builds a [`TelemetryContext`]. Every mistake is reported by [`build`](Self::build)
/// as a [`TelemetryError::Config`], never a panic.
///
/// ```
/// let ctx = telemetry::TelemetryContext::builder()
///     .tool(telemetry::tool!())
///     .salt("mytool-telemetry-v1")
///     .sink(telemetry::sink::FileSink::new("/tmp/mytool-events.jsonl"))
///     .default_attrs(telemetry::attrs!(ci = false))
///     .deadline(std::time::Duration::from_millis(200))
///     .build()?;
/// # drop(ctx);
/// # Ok::<(), telemetry::TelemetryError>(())
/// ```
#[derive(Default)]
#[must_use]
pub struct TelemetryContextBuilder {
    tool: Option<Tool>,
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
    send_mode: SendMode,
    upload: UploadSettings,
    spool_limits: Option<SpoolLimits>,
    data_dir: Option<PathBuf>,
    local_log: bool,
    default_attrs: DefaultAttrs,
    /// The deletion requestor sends a `data.deletion_request` event (the default).
    deletion_event: Option<bool>,
    /// Report mode (`reports`).
    #[cfg(feature = "reports")]
    reports: Option<ReportSettings>,
}

impl std::fmt::Debug for TelemetryContextBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryContextBuilder")
            .field("tool", &self.tool)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl TelemetryContextBuilder {
    /// The tool's name and version (required), made by [`telemetry::tool!`](crate::tool):
    /// `tool!()` takes the calling crate's `CARGO_PKG_NAME` and `CARGO_PKG_VERSION`,
    /// `tool!("mytool", "1.2.3")` takes two literals (or constants). Both are in every
    /// event, so both are fixed when the tool is compiled: the macro checks them then
    /// (name: 1-64 of `A-Za-z0-9-_.`; version: 1-64 of `A-Za-z0-9.+-`), and a name read
    /// at run time (from `argv[0]`, say) does not compile.
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().tool(telemetry::tool!("mytool", "1.0.0"));
    /// # drop(b);
    /// ```
    pub fn tool(mut self, tool: Tool) -> Self {
        self.tool = Some(tool);
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
    /// let b = telemetry::TelemetryContext::builder().sink(telemetry::sink::MemorySink::new());
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
    /// let sinks: Vec<Arc<dyn telemetry::sink::TelemetrySink>> = vec![Arc::new(telemetry::sink::NoopSink)];
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
        // For `telemetry schema`: only this requestor sends an event through the sinks.
        let any: &dyn std::any::Any = &requestor;
        self.deletion_event = Some(any.is::<EventDeletionRequestor>());
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
    /// Without feature `spool` there is no spool: [`build`](Self::build) refuses
    /// `AtLeastOnce`, and with it the default for a sink that is not local, unless
    /// `AtMostOnce` is chosen here. Judged on the sinks the author gave, whatever the
    /// user's environment (`<TOOL>_TELEMETRY_DRY_RUN`, `_LOCAL`) later does with them.
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().delivery_mode(telemetry::DeliveryMode::AtMostOnce);
    /// # drop(b);
    /// ```
    pub fn delivery_mode(mut self, mode: DeliveryMode) -> Self {
        self.delivery_mode = Some(mode);
        self
    }

    /// When the network sinks' batches are sent (see [`SendMode`]): in the background
    /// (the default; the exit only persists) or within the exit deadline.
    ///
    /// Feature `spool`; no effect without it, nor on a context without a spool (only
    /// local sinks, or `AtMostOnce`): the worker then writes every sink directly.
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().send_mode(telemetry::SendMode::AtExit);
    /// # drop(b);
    /// ```
    pub fn send_mode(mut self, mode: SendMode) -> Self {
        self.send_mode = mode;
        self
    }

    /// The least time between two detached uploaders of this tool (default
    /// [`DEFAULT_UPLOAD_INTERVAL`](crate::DEFAULT_UPLOAD_INTERVAL), 10 minutes; zero:
    /// after every run that leaves batches, still one at a time).
    ///
    /// Feature `spool`; no effect without it (there is no uploader), nor on a context
    /// without a spool.
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().upload_interval(std::time::Duration::from_secs(3600));
    /// # drop(b);
    /// ```
    pub fn upload_interval(mut self, interval: Duration) -> Self {
        self.upload.interval = interval;
        self
    }

    /// The longest a detached uploader runs (default
    /// [`DEFAULT_UPLOAD_TIME_LIMIT`](crate::DEFAULT_UPLOAD_TIME_LIMIT), 30 s): it
    /// exits then, whatever it is doing, and what it did not send stays in the spool.
    ///
    /// Feature `spool`; no effect without it (there is no uploader), nor on a context
    /// without a spool.
    ///
    /// ```
    /// let b = telemetry::TelemetryContext::builder().upload_time_limit(std::time::Duration::from_secs(10));
    /// # drop(b);
    /// ```
    pub fn upload_time_limit(mut self, limit: Duration) -> Self {
        self.upload.time_limit = limit;
        self
    }

    /// Bounds of the spool (defaults [`DEFAULT_SPOOL_MAX_FILES`] files, one batch
    /// each, and [`DEFAULT_SPOOL_MAX_BYTES`] bytes). When a new batch would exceed
    /// either, the oldest waiting batches are deleted and counted
    /// ([`DeliveryStats::pruned_events`](crate::DeliveryStats::pruned_events)).
    ///
    /// Feature `spool`; no effect without it (there is no spool), nor on a context
    /// without a spool.
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

    /// Adds the local event log: a [`FileSink`](crate::sink::FileSink) appending JSON lines to
    /// `<data dir>/events.jsonl` (see [`data_dir`](Self::data_dir)), so users can read
    /// exactly what was recorded. Created only when the first event is delivered.
    ///
    /// ```
    /// let ctx = telemetry::TelemetryContext::builder()
    ///     .tool(telemetry::tool!("mytool", "1"))
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

    /// Attributes added to every event (an event's own attribute with the same key
    /// wins), made by [`telemetry::attrs!`](crate::attrs): keys are identifiers, values
    /// [`SafeValue`](crate::SafeValue)s, as in `capture(..)`. Replaces earlier ones.
    ///
    /// ```
    /// #[derive(telemetry::SafeValue)]
    /// enum Channel { Stable, Beta }
    ///
    /// let b = telemetry::TelemetryContext::builder()
    ///     .default_attrs(telemetry::attrs!(channel = Channel::Beta, container = false));
    /// # drop(b);
    /// # let _ = Channel::Stable;
    /// ```
    pub fn default_attrs(mut self, attrs: DefaultAttrs) -> Self {
        self.default_attrs = attrs;
        self
    }

    /// Report mode (feature `reports`; see [`crate::report`]): instead of sending one
    /// event per call,
    /// the worker folds every call into the current period's report, kept in
    /// `<data dir>/reports/` for the user to read (`telemetry report`); a complete
    /// report is uploaded once, at level `on`, to the sinks that take reports
    /// ([`HttpSink`](crate::sink) as JSON, [`OtlpSink`](crate::sink) as OTLP
    /// metrics). No machine id, session id or event id exists in this mode.
    ///
    /// With no sink at all, reports are kept and never uploaded. `build` refuses
    /// sinks none of which takes reports, an upload rate outside [0, 1] and a limit of
    /// zero combinations.
    ///
    /// ```
    /// let ctx = telemetry::TelemetryContext::builder()
    ///     .tool(telemetry::tool!("mytool", "1.0.0"))
    ///     .reports(telemetry::ReportSettings::weekly().local_by_default())
    ///     .build()?;
    /// assert!(ctx.report_settings().is_some());
    /// # Ok::<(), telemetry::TelemetryError>(())
    /// ```
    #[cfg(feature = "reports")]
    pub fn reports(mut self, settings: ReportSettings) -> Self {
        self.reports = Some(settings);
        self
    }

    /// Checks the settings and builds the context. Starts nothing: the worker thread
    /// starts with the first recorded event.
    ///
    /// ```
    /// let err = telemetry::TelemetryContext::builder().build().unwrap_err();
    /// assert!(err.to_string().contains("`tool` is required"));
    /// ```
    pub fn build(self) -> Result<TelemetryContext, TelemetryError> {
        let config = |msg: String| Err(TelemetryError::Config(msg));
        let Some(Tool {
            name: tool,
            version: tool_version,
        }) = self.tool
        else {
            return config("`tool` is required: `.tool(telemetry::tool!())`".into());
        };
        let capacity = self.queue_capacity.unwrap_or(DEFAULT_QUEUE_CAPACITY);
        if capacity == 0 {
            return config("`queue_capacity` must be at least 1".into());
        }
        let batch_size = self.batch_size.unwrap_or(DEFAULT_BATCH_SIZE);
        if batch_size == 0 {
            return config("`batch_size` must be at least 1".into());
        }
        #[cfg(feature = "reports")]
        let report_mode = self.reports.is_some();
        #[cfg(not(feature = "reports"))]
        let report_mode = false;
        #[cfg_attr(not(feature = "reports"), allow(unused_mut))]
        let mut sinks = self.sinks;
        #[cfg_attr(not(feature = "reports"), allow(unused_mut))]
        let mut delivery_mode = self.delivery_mode;
        #[cfg(feature = "reports")]
        if let Some(settings) = &self.reports {
            settings.check().map_err(TelemetryError::Config)?;
            if !sinks.is_empty() && !sinks.iter().any(|s| s.takes_reports()) {
                return config(
                    "report mode: none of the sinks takes reports (`HttpSink` and `OtlpSink` \
                     do; a custom sink implements `emit_report`)"
                        .into(),
                );
            }
            if sinks.is_empty() {
                // Reports kept on this machine only.
                sinks.push(Arc::new(crate::sink::NoopSink));
            }
            // Events never reach a sink in this mode: nothing to journal.
            delivery_mode = Some(DeliveryMode::AtMostOnce);
        }
        // On the author's sinks, before consent resolution and the user's environment
        // shape them: whether this build can deliver them must not depend on where
        // the tool runs.
        Delivery::check_buildable(&sinks, delivery_mode)?;
        let data_dir = self.data_dir.or_else(|| crate::layout::data_dir(tool));
        #[cfg_attr(not(feature = "reports"), allow(unused_mut))]
        let mut tool_info = ToolInfo::new(tool).with_mode(self.consent.clone());
        #[cfg(feature = "reports")]
        {
            tool_info.local_by_default = self
                .reports
                .as_ref()
                .is_some_and(ReportSettings::is_local_by_default);
        }
        let assemble::Decided {
            decision,
            config_dir,
            consented,
            ci,
        } = assemble::decide(
            &tool_info,
            self.policy,
            self.env,
            self.config_dir,
            data_dir.as_deref(),
        );
        // In report mode the reports are the local record: no event log.
        let wants_log = !report_mode && (self.local_log || decision.local_only);
        let local_log = match (wants_log, &data_dir) {
            (false, _) => None,
            (true, Some(dir)) => Some(dir.join(LOCAL_LOG_FILE)),
            (true, None) => {
                return config(
                    "`local_log` needs a data dir: no home directory was found, set `data_dir`"
                        .into(),
                );
            }
        };
        let mut sinks = assemble::sinks(sinks, &decision, local_log.as_deref());
        if report_mode && sinks.is_empty() {
            // Level `local` removed the network sinks: the reports are kept only.
            sinks.push(Arc::new(crate::sink::NoopSink));
        }
        let salt = self.salt.unwrap_or_else(|| tool.to_owned());
        let factory = Arc::new(EventFactory::new(
            tool,
            tool_version,
            salt,
            data_dir.clone(),
            self.default_attrs.values,
        ));
        #[cfg_attr(not(feature = "reports"), allow(unused_mut))]
        let mut delivery = Delivery::plan(
            Arc::clone(&factory),
            sinks.clone(),
            delivery_mode,
            data_dir.as_deref(),
            self.spool_limits.unwrap_or(SpoolLimits {
                max_files: DEFAULT_SPOOL_MAX_FILES,
                max_bytes: DEFAULT_SPOOL_MAX_BYTES,
            }),
            match self.send_mode {
                SendMode::Background => BACKGROUND_SEND_AFTER,
                SendMode::AtExit => Duration::ZERO,
            },
            consented,
        );
        let Some(sink) = TeeSink::combine(sinks) else {
            return config("at least one sink is required".into());
        };
        #[cfg_attr(not(feature = "reports"), allow(unused_mut))]
        let mut enabled = decision.policy == CollectionPolicy::Enabled;
        #[cfg(feature = "reports")]
        if let Some(settings) = &self.reports {
            match &data_dir {
                Some(dir) => {
                    delivery.reports = Some(Arc::new(ReportMode::new(
                        settings.clone(),
                        dir,
                        tool,
                        decision.level(),
                        decision.dry_run,
                    )));
                }
                // No home directory: nowhere to keep a report, so nothing is recorded.
                None => enabled = false,
            }
        }
        Ok(TelemetryContext {
            inner: Arc::new(Inner {
                factory,
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
                finished: AtomicBool::new(false),
                delivery: Arc::new(delivery),
                send_mode: self.send_mode,
                upload: self.upload,
                ci,
                decision,
                consent_mode: self.consent,
                config_dir,
                deletion: self
                    .deletion
                    .unwrap_or_else(|| Arc::new(EventDeletionRequestor)),
                deletion_event: self.deletion_event.unwrap_or(true),
                default_attr_specs: self.default_attrs.specs,
                #[cfg(feature = "reports")]
                report_settings: self.reports,
            }),
        })
    }
}

/// A tool's name and version, fixed when the tool is compiled: made by
/// [`telemetry::tool!`](crate::tool) only.
///
/// ```
/// const TOOL: telemetry::Tool = telemetry::tool!("mytool", "1.2.3");
/// assert_eq!((TOOL.name(), TOOL.version()), ("mytool", "1.2.3"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    name: &'static str,
    version: &'static str,
}

impl Tool {
    /// Checks both in const evaluation (a compile error when they break the rules).
    pub(crate) const fn checked(name: &'static str, version: &'static str) -> Self {
        assert!(
            naming::is_valid_tool_name(name),
            "telemetry::tool!: the tool name must be 1-64 ASCII letters, digits, '-', '_' or '.', not starting with '.'"
        );
        assert!(
            naming::is_valid_tool_version(version),
            "telemetry::tool!: the version must be 1-64 ASCII letters, digits, '.', '-' or '+' (a SemVer version such as 1.2.3-beta.1+abc fits)"
        );
        Self { name, version }
    }

    /// The tool's name.
    ///
    /// ```
    /// assert_eq!(telemetry::tool!("t", "1").name(), "t");
    /// ```
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The tool's version.
    ///
    /// ```
    /// assert_eq!(telemetry::tool!("t", "1.0").version(), "1.0");
    /// ```
    pub const fn version(&self) -> &'static str {
        self.version
    }
}

/// Attributes added to every event, made by [`telemetry::attrs!`](crate::attrs) only:
/// identifier keys, [`SafeValue`](crate::SafeValue) values. Every key is declared with
/// the kind of its value, whatever the value of this run (an `Option` that is `None`
/// included), so `telemetry schema` lists it.
///
/// ```
/// let attrs = telemetry::attrs!(jobs = 4_u16, ci = true);
/// # drop(attrs);
/// ```
#[derive(Debug, Clone, Default)]
pub struct DefaultAttrs {
    /// The values of this run (a `None` left out).
    values: BTreeMap<Cow<'static, str>, AttrValue>,
    /// Every key with its kind, in the order written.
    specs: Vec<CaptureSpec>,
}

impl DefaultAttrs {
    /// From keys checked in const evaluation (see `__private::attr_keys`) and the
    /// values with the kind of their type.
    pub(crate) fn from_pairs(
        pairs: impl IntoIterator<Item = (&'static str, (Option<AttrValue>, &'static str))>,
    ) -> Self {
        let mut values = BTreeMap::new();
        let mut specs = Vec::new();
        for (key, (value, kind)) in pairs {
            specs.push(catalog::declared_capture(key, kind));
            if let Some(value) = value {
                values.insert(Cow::Borrowed(key), value);
            }
        }
        Self { values, specs }
    }
}
