//! `telemetry status`: the effective state and the rule behind it.

use std::io::Write;

use crate::consent::{ConfigState, ConsentMode, DecisionSource};
use crate::context::TelemetryContext;
use crate::error::TelemetryError;
use crate::pipeline::{DeliveryMode, SendMode};
use crate::util::json::{Json, ObjectBuilder};

/// What `telemetry status --json` prints.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink)
/// #     .env(telemetry::consent::Env::empty().with_config_dir(dir.path())).build().unwrap();
/// let status = telemetry::cli::Status::of(&ctx);
/// assert!(!status.enabled);
/// # #[cfg(feature = "collect")]
/// assert_eq!(status.decided_by, "default");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Status {
    /// The tool's name.
    pub tool: String,
    /// The tool's version.
    pub tool_version: String,
    /// Whether events are collected in this process.
    pub enabled: bool,
    /// The collection level: `off`, `local` (kept on this machine, never sent) or `on`.
    pub level: &'static str,
    /// `events` (one per tracked call) or `reports` (counts per period, no identifier).
    pub collects: &'static str,
    /// Report mode: `day` or `week`.
    pub report_period: Option<&'static str>,
    /// Report mode: the share of installs that upload their reports.
    pub report_upload_rate: Option<f64>,
    /// Report mode: where the reports are kept.
    pub reports_dir: Option<String>,
    /// The rule that decided (`do_not_track`, `config_file`, ...).
    pub decided_by: &'static str,
    /// The same, in words.
    pub reason: String,
    /// `opt_in` or `opt_out`.
    pub consent_mode: &'static str,
    /// The consent file's path.
    pub config_file: Option<String>,
    /// `missing`, `valid`, `invalid` or `refused` (failed the trust rules).
    pub config_state: &'static str,
    /// Why the consent file is not used, when it is invalid or refused.
    pub config_error: Option<String>,
    /// The consent file every tool built with this library reads
    /// (`telemetry enable|disable --all-tools`).
    pub shared_config_file: Option<String>,
    /// `missing`, `valid`, `invalid` or `refused`.
    pub shared_config_state: &'static str,
    /// Why the shared file is not used, when it is invalid or refused.
    pub shared_config_error: Option<String>,
    /// What the shared file decides for every tool (`None`: no decision there).
    pub shared_decision: Option<bool>,
    /// Whether the config file records that telemetry was ever enabled here (so
    /// `reset` would send a deletion request, unless the environment forbids it).
    pub ever_enabled: bool,
    /// Files and directories telemetry would use but refuses (trust rules): each is
    /// treated as absent and never overwritten.
    pub refused: Vec<RefusedPath>,
    /// Where the install id (and the spool) live.
    pub data_dir: Option<String>,
    /// The local event log, if any.
    pub local_log: Option<String>,
    /// The first 8 hex chars of the salted machine id; only while telemetry is on.
    pub machine_id_prefix: Option<String>,
    /// Where events go.
    pub sinks: String,
    /// `<TOOL>_TELEMETRY_SHOW`.
    pub show: bool,
    /// `<TOOL>_TELEMETRY_DRY_RUN`.
    pub dry_run: bool,
    /// `<TOOL>_TELEMETRY_LOCAL`.
    pub local_only: bool,
    /// `at_least_once` (batches journaled in the spool) or `at_most_once`.
    pub delivery_mode: &'static str,
    /// The spool directory, in at-least-once mode.
    pub spool_dir: Option<String>,
    /// `background` (the exit only persists; a detached uploader sends) or `at_exit`
    /// (sent within the exit deadline): the author's setting, which only applies to a
    /// spool. Without one (`spool_dir` is `None`) the worker writes the sinks directly
    /// and the exit writes out what is still queued, whatever this says.
    pub send_mode: &'static str,
    /// When the last detached uploader was started (RFC 3339), if one was.
    pub uploader_started: Option<String>,
    /// When the last detached uploader began to upload (RFC 3339), if one did.
    pub uploader_ran: Option<String>,
    /// The last uploader started never began: the tool probably parses its arguments
    /// before calling `telemetry::init`; until that is fixed, each exit sends within
    /// its deadline.
    pub uploader_broken: bool,
    /// Events waiting in memory.
    pub queued_events: usize,
    /// Events waiting in the spool (from this and earlier runs).
    pub spooled_events: u64,
    /// Spool files on disk.
    pub spooled_files: u64,
    /// Events dropped because the queue was full.
    pub dropped_events: u64,
    /// Events a sink refused for good.
    pub failed_events: u64,
    /// Warnings from consent resolution.
    pub warnings: Vec<String>,
}

/// A file or directory `telemetry status` found refused by the trust rules.
///
/// ```
/// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
/// for r in telemetry::cli::Status::of(&ctx).refused {
///     println!("{}: {} {}", r.what, r.path, r.reason);
/// }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RefusedPath {
    /// What it is (`config file`, `local key`, `data dir`, ...).
    pub what: &'static str,
    /// Where.
    pub path: String,
    /// Why it is refused.
    pub reason: String,
}

impl RefusedPath {
    fn to_document(&self) -> Json {
        ObjectBuilder::new()
            .field("what", self.what)
            .field("path", self.path.as_str())
            .field("reason", self.reason.as_str())
            .build()
    }
}

impl Status {
    /// The status as `telemetry status --json` prints it: every field, in order (a
    /// field without a value is `null`).
    fn to_document(&self) -> Json {
        ObjectBuilder::new()
            .field("tool", self.tool.as_str())
            .field("tool_version", self.tool_version.as_str())
            .field("enabled", self.enabled)
            .field("level", self.level)
            .field("collects", self.collects)
            .field("report_period", self.report_period)
            .field("report_upload_rate", self.report_upload_rate)
            .field("reports_dir", self.reports_dir.as_deref())
            .field("decided_by", self.decided_by)
            .field("reason", self.reason.as_str())
            .field("consent_mode", self.consent_mode)
            .field("config_file", self.config_file.as_deref())
            .field("config_state", self.config_state)
            .field("config_error", self.config_error.as_deref())
            .field("shared_config_file", self.shared_config_file.as_deref())
            .field("shared_config_state", self.shared_config_state)
            .field("shared_config_error", self.shared_config_error.as_deref())
            .field("shared_decision", self.shared_decision)
            .field("ever_enabled", self.ever_enabled)
            .field(
                "refused",
                Json::Array(self.refused.iter().map(RefusedPath::to_document).collect()),
            )
            .field("data_dir", self.data_dir.as_deref())
            .field("local_log", self.local_log.as_deref())
            .field("machine_id_prefix", self.machine_id_prefix.as_deref())
            .field("sinks", self.sinks.as_str())
            .field("show", self.show)
            .field("dry_run", self.dry_run)
            .field("local_only", self.local_only)
            .field("delivery_mode", self.delivery_mode)
            .field("spool_dir", self.spool_dir.as_deref())
            .field("send_mode", self.send_mode)
            .field("uploader_started", self.uploader_started.as_deref())
            .field("uploader_ran", self.uploader_ran.as_deref())
            .field("uploader_broken", self.uploader_broken)
            .field("queued_events", self.queued_events as u64)
            .field("spooled_events", self.spooled_events)
            .field("spooled_files", self.spooled_files)
            .field("dropped_events", self.dropped_events)
            .field("failed_events", self.failed_events)
            .field(
                "warnings",
                Json::Array(
                    self.warnings
                        .iter()
                        .map(|w| Json::from(w.as_str()))
                        .collect(),
                ),
            )
            .build()
    }
}

/// Everything `status` checks against the trust rules. Reads metadata only.
fn refused_paths(ctx: &TelemetryContext) -> Vec<RefusedPath> {
    use crate::util::fs::{self as fsutil, DirLink, Strictness};
    let mut found = Vec::new();
    let mut push = |what, r: Option<fsutil::Refused>| {
        if let Some(r) = r {
            found.push(RefusedPath {
                what,
                path: r.path.display().to_string(),
                reason: r.reason,
            });
        }
    };
    let d = ctx.decision();
    if let Some(path) = d.config_path.as_deref() {
        push(
            "config file",
            fsutil::inspect_file(path, DirLink::Allowed, Strictness::Trusted),
        );
    }
    if let Some(path) = d.shared_config_path.as_deref() {
        push(
            "shared config file",
            fsutil::inspect_file(path, DirLink::Allowed, Strictness::Trusted),
        );
    }
    if let Some(dir) = ctx.config_dir() {
        push(
            "local key",
            fsutil::inspect_file(
                &dir.join(crate::layout::KEY_FILE),
                DirLink::Allowed,
                Strictness::Trusted,
            ),
        );
    }
    if let Some(dir) = ctx.data_dir() {
        let data_dir = fsutil::check_dir(dir, DirLink::Refused).err();
        let data_dir_ok = data_dir.is_none();
        push("data dir", data_dir);
        if data_dir_ok {
            let spool = dir.join(crate::layout::SPOOL_DIR);
            let spool_dir = fsutil::check_dir(&spool, DirLink::Refused).err();
            let spool_ok = spool_dir.is_none();
            push("spool dir", spool_dir);
            push(
                "install id",
                fsutil::inspect_file(
                    &dir.join(crate::layout::INSTALL_ID_FILE),
                    DirLink::Refused,
                    Strictness::Trusted,
                ),
            );
            if spool_ok {
                push(
                    "spool retry-after file",
                    fsutil::inspect_file(
                        &spool.join("retry-after"),
                        DirLink::Refused,
                        Strictness::Trusted,
                    ),
                );
            }
        }
    }
    if let Some(log) = ctx.local_log_path() {
        push(
            "local event log",
            fsutil::inspect_file(log, DirLink::Refused, Strictness::Owned),
        );
    }
    found
}

impl Status {
    /// Collects the status of `ctx`. Derives the machine id only if telemetry is on.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// assert_eq!(telemetry::cli::Status::of(&ctx).machine_id_prefix, None);
    /// ```
    pub fn of(ctx: &TelemetryContext) -> Self {
        let d = ctx.decision();
        let state = |config: &ConfigState| match config {
            ConfigState::Missing => ("missing", None),
            ConfigState::Valid(_) => ("valid", None),
            ConfigState::Invalid { reason } => ("invalid", Some(reason.clone())),
            ConfigState::Refused { reason } => ("refused", Some(reason.clone())),
        };
        let (config_state, config_error) = state(&d.config);
        let (shared_config_state, shared_config_error) = state(&d.shared_config);
        let display = |p: Option<&std::path::Path>| p.map(|p| p.display().to_string());
        let stats = ctx.stats();
        let uploader = ctx.uploader_state();
        let time = |t: Option<std::time::SystemTime>| t.map(crate::util::time::rfc3339_millis);
        let report = report_facts(ctx);
        Self {
            tool: ctx.tool().to_owned(),
            tool_version: ctx.tool_version().to_owned(),
            enabled: ctx.is_enabled(),
            level: ctx.level().as_str(),
            collects: if ctx.collects_reports() {
                "reports"
            } else {
                "events"
            },
            report_period: report.as_ref().map(|(period, _, _)| *period),
            report_upload_rate: report.as_ref().map(|(_, rate, _)| *rate),
            reports_dir: report.and_then(|(_, _, dir)| dir),
            decided_by: d.source.as_str(),
            reason: reason(ctx),
            consent_mode: match ctx.tool_info().mode {
                ConsentMode::OptIn => "opt_in",
                ConsentMode::OptOut { .. } => "opt_out",
            },
            config_file: display(d.config_path.as_deref()),
            config_state,
            config_error,
            shared_config_file: display(d.shared_config_path.as_deref()),
            shared_config_state,
            shared_config_error,
            shared_decision: d.shared_config.file().and_then(|f| f.enabled),
            ever_enabled: d
                .config_path
                .as_deref()
                .map(crate::consent::load_config)
                .and_then(|c| c.file().map(crate::consent::ConfigFile::was_ever_enabled))
                .unwrap_or(false),
            refused: refused_paths(ctx),
            data_dir: display(ctx.data_dir()),
            local_log: display(ctx.local_log_path()),
            // No machine id exists in report mode: never derived there.
            machine_id_prefix: (ctx.is_enabled() && !ctx.collects_reports())
                .then(|| ctx.machine_id().chars().take(8).collect()),
            sinks: ctx.describe_sinks(),
            show: d.show,
            dry_run: d.dry_run,
            local_only: d.local_only,
            delivery_mode: match stats.mode {
                DeliveryMode::AtLeastOnce => "at_least_once",
                DeliveryMode::AtMostOnce => "at_most_once",
            },
            spool_dir: display(ctx.spool_dir()),
            send_mode: match ctx.send_mode() {
                SendMode::AtExit => "at_exit",
                _ => "background",
            },
            uploader_started: time(uploader.and_then(|u| u.started)),
            uploader_ran: time(uploader.and_then(|u| u.ran)),
            uploader_broken: uploader.is_some_and(|u| u.broken),
            queued_events: stats.queued,
            spooled_events: stats.spooled_events,
            spooled_files: stats.spooled_files,
            dropped_events: stats.dropped,
            failed_events: stats.failed,
            warnings: d.warnings.clone(),
        }
    }
}

/// Report mode's period, upload rate and reports directory (feature `reports`).
fn report_facts(ctx: &TelemetryContext) -> Option<(&'static str, f64, Option<String>)> {
    #[cfg(feature = "reports")]
    return ctx.report_settings().map(|r| {
        (
            r.period().as_str(),
            r.rate(),
            ctx.data_dir()
                .map(|d| d.join(crate::report::REPORTS_DIR).display().to_string()),
        )
    });
    #[cfg(not(feature = "reports"))]
    {
        let _ = ctx;
        None
    }
}

/// The deciding rule in words a user can act on.
fn reason(ctx: &TelemetryContext) -> String {
    let d = ctx.decision();
    let tool = ctx.tool();
    let prefix = ctx.tool_info().env_prefix();
    match d.source {
        DecisionSource::CompiledOut => format!("this build of {tool} has telemetry compiled out"),
        DecisionSource::DoNotTrack => "DO_NOT_TRACK is set in the environment".into(),
        DecisionSource::EnvDisabled => {
            format!("{prefix}_TELEMETRY_DISABLED or {prefix}_TELEMETRY=0 is set in the environment")
        }
        DecisionSource::EnvEnabled => format!("{prefix}_TELEMETRY=1 is set in the environment"),
        DecisionSource::Ci => {
            "a CI environment was detected (CI or a CI service's variable is set)".into()
        }
        DecisionSource::ConfigFile => match &d.config {
            ConfigState::Refused { .. } => {
                "the config file is refused (not trusted, see below), so telemetry stays off; it is never overwritten".into()
            }
            ConfigState::Invalid { .. } => format!(
                "the config file cannot be used, so telemetry stays off until `{tool} telemetry enable` or `disable` rewrites it"
            ),
            ConfigState::Valid(f) if f.decided_level() == Some(crate::consent::Level::Local) => {
                format!("set to local in the config file (`{tool} telemetry local`)")
            }
            ConfigState::Valid(f) if f.enabled == Some(true) => {
                format!("enabled in the config file (`{tool} telemetry enable`)")
            }
            _ => format!("disabled in the config file (`{tool} telemetry disable`)"),
        },
        DecisionSource::SharedConfig => match &d.shared_config {
            ConfigState::Refused { .. } => "the consent file shared by every tool built with telemetry-rs is refused (not trusted, see below), so telemetry stays off; it is never overwritten".into(),
            ConfigState::Invalid { .. } => format!(
                "the consent file shared by every tool built with telemetry-rs cannot be used, so telemetry stays off until `{tool} telemetry enable --all-tools` or `disable --all-tools` rewrites it"
            ),
            ConfigState::Valid(f) if f.enabled == Some(true) => format!(
                "enabled for every tool built with telemetry-rs (`{tool} telemetry enable --all-tools`), later than this tool's own decision"
            ),
            _ => format!(
                "disabled for every tool built with telemetry-rs (`{tool} telemetry disable --all-tools`), later than this tool's own decision"
            ),
        },
        DecisionSource::Default | DecisionSource::NoticePending
            if ctx.tool_info().local_by_default && d.local_only =>
        {
            format!(
                "no decision yet, so usage data is kept on this machine only (`{tool} telemetry enable` sends it, `disable` stops it)"
            )
        }
        DecisionSource::NoticePending => {
            "the telemetry notice has not been shown on an interactive terminal yet".into()
        }
        DecisionSource::Default => match ctx.tool_info().mode {
            ConsentMode::OptIn => {
                format!("telemetry is opt-in and was not enabled (`{tool} telemetry enable`)")
            }
            ConsentMode::OptOut { .. } => format!(
                "telemetry is on by default after the notice was shown; `{tool} telemetry disable` turns it off"
            ),
        },
        DecisionSource::Explicit => format!("set by {tool} in code"),
    }
}

pub(super) fn run(
    ctx: &TelemetryContext,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), TelemetryError> {
    let s = Status::of(ctx);
    let text = if json {
        let mut text = s.to_document().to_string_pretty();
        text.push('\n');
        text
    } else {
        human(&s)
    };
    out.write_all(text.as_bytes())
        .map_err(|e| TelemetryError::io("write to", "stdout", e))
}

fn human(s: &Status) -> String {
    let none = || "-".to_owned();
    let mut lines = vec![
        format!(
            "telemetry:    {} ({})",
            if s.enabled { "enabled" } else { "disabled" },
            s.reason
        ),
        format!(
            "level:        {}",
            match s.level {
                "local" => "local (recorded on this machine, never sent)",
                "on" => "on (recorded and sent)",
                _ => "off (nothing recorded, nothing written)",
            }
        ),
        match (s.report_period, &s.reports_dir) {
            (Some(period), dir) => format!(
                "collects:     reports: counts per {period}, no identifier; kept in {}; {}% of installs upload (`telemetry report` shows them)",
                dir.clone().unwrap_or_else(none),
                s.report_upload_rate.unwrap_or(0.0) * 100.0
            ),
            (None, _) => "collects:     events (one per tracked call)".to_owned(),
        },
        format!("decided by:   {}", s.decided_by),
        format!(
            "config file:  {} [{}]{}",
            s.config_file.clone().unwrap_or_else(none),
            s.config_state,
            s.config_error
                .as_ref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ),
        format!(
            "all tools:    {} [{}]{}",
            s.shared_config_file.clone().unwrap_or_else(none),
            s.shared_config_state,
            match (&s.shared_config_error, s.shared_decision) {
                (Some(e), _) => format!(": {e}"),
                (None, Some(true)) => ": enabled for every tool".to_owned(),
                (None, Some(false)) => ": disabled for every tool".to_owned(),
                (None, None) => String::new(),
            }
        ),
        format!("data dir:     {}", s.data_dir.clone().unwrap_or_else(none)),
        format!(
            "machine id:   {}",
            s.machine_id_prefix.as_ref().map_or_else(
                || if s.report_period.is_some() {
                    "none in report mode".to_owned()
                } else {
                    "not derived while telemetry is off".to_owned()
                },
                |p| format!("{p}… (salted hash, first 8 hex)")
            )
        ),
        format!("sends to:     {}", s.sinks),
        format!("local log:    {}", s.local_log.clone().unwrap_or_else(none)),
        format!(
            "events:       {} queued, {} spooled in {} file(s), {} dropped, {} failed",
            s.queued_events, s.spooled_events, s.spooled_files, s.dropped_events, s.failed_events
        ),
        format!(
            "delivery:     {}{}",
            s.delivery_mode,
            s.spool_dir
                .as_ref()
                .map(|d| format!(" (spool: {d})"))
                .unwrap_or_default()
        ),
        format!(
            "sending:      {}{}",
            // The send mode only chooses when the spool is sent: without a spool (a
            // build without feature `spool`, or only local sinks) there is neither a
            // sender nor an uploader, whatever the mode says.
            match (&s.spool_dir, s.send_mode) {
                (None, _) => {
                    "directly: the worker thread writes events to the sinks as they come \
                     (no spool); at exit, what is still queued is written out"
                }
                (Some(_), "at_exit") => "within the exit deadline",
                (Some(_), _) => "in the background (detached uploader)",
            },
            match (&s.uploader_started, &s.uploader_ran) {
                (None, _) => String::new(),
                (Some(started), ran) => format!(
                    "; last uploader started {started}, last upload {}",
                    ran.as_deref().unwrap_or("never")
                ),
            }
        ),
        format!(
            "modes:        show={} dry_run={} local_only={}",
            s.show, s.dry_run, s.local_only
        ),
    ];
    lines.extend(
        s.refused
            .iter()
            .map(|r| format!("refused:      {} {} {}", r.what, r.path, r.reason)),
    );
    lines.extend(s.warnings.iter().map(|w| format!("warning:      {w}")));
    if s.uploader_broken {
        lines.push(
            "warning:      the last uploader never started uploading: call `telemetry::init` \
             before parsing arguments; until then each exit sends within its deadline"
                .to_owned(),
        );
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}
