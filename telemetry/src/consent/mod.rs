//! Consent: whether this process may collect, and why.
//!
//! [`resolve`] is a pure function of the tool's settings and an [`Env`] snapshot. The
//! first matching rule decides:
//!
//! | # | rule | result | [`DecisionSource`] |
//! |---|------|--------|--------------------|
//! | 1 | the `collect` feature is off | disabled | `compiled_out` |
//! | 2 | `DO_NOT_TRACK` set to anything but empty, `0`, `false` | disabled | `do_not_track` |
//! | 3 | `<TOOL>_TELEMETRY_DISABLED` truthy, or `<TOOL>_TELEMETRY` = `0\|false\|off\|no` | disabled | `env_disabled` |
//! | 4 | `<TOOL>_TELEMETRY` = `1\|true\|on\|yes` (wins over CI) | enabled | `env_enabled` |
//! | 5 | a CI service is detected ([`CI_VARS`]) | disabled | `ci` |
//! | 6 | the user's decisions: the tool's config file (`telemetry enable\|disable`) and the file shared by every tool built with this library (`telemetry enable\|disable --all-tools`); the later of the two decides; a file that is unreadable or refused means disabled | as decided | `config_file` or `shared_config` |
//! | 7 | opt-out tool whose notice was not yet shown | disabled | `notice_pending` |
//! | 8 | otherwise: opt-in → disabled; opt-out (notice shown before) → enabled | | `default` |
//!
//! The shared file is `<config>/telemetry-rs/consent.json` ([`SHARED_CONSENT_FILE`];
//! `~/.config/telemetry-rs/consent.json` on Linux), in the same format as the tool's
//! own. Of the two decisions the one made last counts (their `decided_at`; a decision
//! without a readable time counts as older than one with a time, and on a tie
//! `disabled` wins): so `mytool telemetry disable --all-tools` turns off every tool,
//! also one enabled on its own before, and `othertool telemetry enable`, made after
//! it, turns that one tool back on. The environment (rules 2–5) overrides both.
//!
//! `<TOOL>` is the tool name upper-cased with every non-alphanumeric byte turned into
//! `_` ([`env_prefix`]). Values are case-insensitive; a value that is neither truthy nor
//! falsy is reported as a warning and counts as not set.
//!
//! Rules 1–3 and 5 are the *environment vetoes* ([`Decision::env_veto`]): they also
//! keep `telemetry reset` from sending a deletion request.
//!
//! The config file is read only if the trust rules accept it (a regular file owned by
//! the user, writable by no one else, not reached through a symbolic link in its last
//! component, in a directory only the user controls); otherwise it is
//! [`ConfigState::Refused`]: no consent, a warning, and never overwritten.

mod config_file;
mod env;
mod notice;

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

pub use crate::layout::{SHARED_CONSENT_FILE, env_prefix};
pub use config_file::{
    CONFIG_FILE, CONFIG_VERSION, ConfigFile, ConfigState, load_config, store_config,
};
pub(crate) use config_file::{load_for_update, record_ever_enabled, record_notice_shown};
pub use env::{CI_VARS, Env};
pub(crate) use env::{Flag, is_off_or_empty, parse_flag};
pub use notice::show_notice;

use crate::switch::COMPILED_IN;

pub(crate) mod policy;
pub(crate) use policy::CollectionPolicy;
pub use policy::Level;

/// How the tool author asks for consent.
///
/// ```
/// use telemetry::consent::ConsentMode;
/// let mode = ConsentMode::OptOut {
///     notice: "mytool collects anonymous usage data; run `mytool telemetry disable` to opt out.".into(),
/// };
/// assert!(matches!(ConsentMode::default(), ConsentMode::OptIn));
/// # drop(mode);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ConsentMode {
    /// Nothing is collected until the user enables it (`telemetry enable` or
    /// `<TOOL>_TELEMETRY=1`). The default.
    #[default]
    OptIn,
    /// Collected unless the user opts out, but only after `notice` was shown once on an
    /// interactive terminal; the run that shows it sends nothing.
    OptOut {
        /// The text shown once on standard error.
        notice: Cow<'static, str>,
    },
}

/// What consent resolution needs to know about the tool.
///
/// ```
/// let info = telemetry::consent::ToolInfo::new("mytool");
/// assert_eq!(info.env_prefix(), "MYTOOL");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolInfo {
    /// The tool's name.
    pub name: String,
    /// Opt-in (default) or opt-out with a notice.
    pub mode: ConsentMode,
    /// Where no rule decides (rule 8, and an opt-out tool's pending notice): collect
    /// at level `local` (kept on this machine, never sent) rather than `off`. Set by
    /// [`ReportSettings::local_by_default`](crate::ReportSettings::local_by_default).
    pub local_by_default: bool,
}

impl ToolInfo {
    /// An opt-in tool.
    ///
    /// ```
    /// assert_eq!(telemetry::consent::ToolInfo::new("t").name, "t");
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            mode: ConsentMode::OptIn,
            local_by_default: false,
        }
    }

    /// The same tool with another consent mode.
    ///
    /// ```
    /// use telemetry::consent::{ConsentMode, ToolInfo};
    /// let t = ToolInfo::new("t").with_mode(ConsentMode::OptOut { notice: "n".into() });
    /// assert!(matches!(t.mode, ConsentMode::OptOut { .. }));
    /// ```
    #[must_use]
    pub fn with_mode(mut self, mode: ConsentMode) -> Self {
        self.mode = mode;
        self
    }

    /// `<TOOL>`, the prefix of this tool's environment variables.
    ///
    /// ```
    /// assert_eq!(telemetry::consent::ToolInfo::new("my-tool").env_prefix(), "MY_TOOL");
    /// ```
    pub fn env_prefix(&self) -> String {
        env_prefix(&self.name)
    }
}

/// Which rule decided.
///
/// ```
/// assert_eq!(telemetry::consent::DecisionSource::DoNotTrack.as_str(), "do_not_track");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecisionSource {
    /// The `collect` feature is off.
    CompiledOut,
    /// `DO_NOT_TRACK` is set.
    DoNotTrack,
    /// `<TOOL>_TELEMETRY_DISABLED` or `<TOOL>_TELEMETRY=0`.
    EnvDisabled,
    /// `<TOOL>_TELEMETRY=1`.
    EnvEnabled,
    /// A CI service was detected.
    Ci,
    /// The user's config file.
    ConfigFile,
    /// The consent file shared by every tool built with this library
    /// (`telemetry enable|disable --all-tools`).
    SharedConfig,
    /// Opt-out tool, notice not shown yet.
    NoticePending,
    /// The tool's default.
    Default,
    /// The tool author set the policy in code (`TelemetryContextBuilder::policy`).
    Explicit,
}

impl DecisionSource {
    /// The snake_case name shown by `telemetry status`.
    ///
    /// ```
    /// assert_eq!(telemetry::consent::DecisionSource::Ci.as_str(), "ci");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CompiledOut => "compiled_out",
            Self::DoNotTrack => "do_not_track",
            Self::EnvDisabled => "env_disabled",
            Self::EnvEnabled => "env_enabled",
            Self::Ci => "ci",
            Self::ConfigFile => "config_file",
            Self::SharedConfig => "shared_config",
            Self::NoticePending => "notice_pending",
            Self::Default => "default",
            Self::Explicit => "explicit",
        }
    }
}

impl fmt::Display for DecisionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of consent resolution, with everything `telemetry status` explains.
///
/// ```
/// use telemetry::consent::{DecisionSource, Env, ToolInfo, resolve};
/// let d = resolve(&ToolInfo::new("mytool"), &Env::empty().with_var("DO_NOT_TRACK", "1"));
/// assert_eq!(d.policy, telemetry::CollectionPolicy::Disabled);
/// # #[cfg(feature = "collect")]
/// assert_eq!(d.source, DecisionSource::DoNotTrack);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Decision {
    /// Collect or not.
    pub policy: CollectionPolicy,
    /// The rule that decided.
    pub source: DecisionSource,
    /// `<TOOL>_TELEMETRY_SHOW`: print each payload to stderr, then send it.
    pub show: bool,
    /// `<TOOL>_TELEMETRY_DRY_RUN`: print each payload to stderr, send nothing.
    pub dry_run: bool,
    /// `<TOOL>_TELEMETRY_LOCAL`: keep events in the local log only.
    pub local_only: bool,
    /// Where the consent file is (or would be).
    pub config_path: Option<PathBuf>,
    /// What was found there.
    pub config: ConfigState,
    /// Where the consent file shared by every tool built with this library is (or
    /// would be).
    pub shared_config_path: Option<PathBuf>,
    /// What was found there.
    pub shared_config: ConfigState,
    /// The opt-out notice should be shown now (on a terminal, not shown before).
    pub notice_due: bool,
    /// Problems worth telling the user (an unrecognised variable value, an invalid or
    /// refused file).
    pub warnings: Vec<String>,
    /// The environment rule that keeps telemetry from sending anything, whatever else
    /// says (`compiled_out`, `do_not_track`, `env_disabled`, `ci`), if one applies. Also
    /// set for a policy chosen in code, so that `telemetry reset` honours it too.
    pub env_veto: Option<DecisionSource>,
}

impl Decision {
    /// The collection level: `off` when disabled, `local` when what is collected stays
    /// on this machine (`<TOOL>_TELEMETRY_LOCAL`, `telemetry local`, a tool that
    /// collects locally by default), `on` otherwise.
    ///
    /// ```
    /// use telemetry::consent::{Env, Level, ToolInfo, resolve};
    /// let d = resolve(&ToolInfo::new("mytool"), &Env::empty().with_var("MYTOOL_TELEMETRY", "1").with_var("MYTOOL_TELEMETRY_LOCAL", "1"));
    /// # #[cfg(feature = "collect")]
    /// assert_eq!(d.level(), Level::Local);
    /// ```
    pub fn level(&self) -> Level {
        match (self.policy, self.local_only) {
            (CollectionPolicy::Disabled, _) => Level::Off,
            (CollectionPolicy::Enabled, true) => Level::Local,
            (CollectionPolicy::Enabled, false) => Level::On,
        }
    }

    /// A decision made in code by the tool author.
    pub(crate) fn explicit(policy: CollectionPolicy) -> Self {
        let (policy, source) = if COMPILED_IN {
            (policy, DecisionSource::Explicit)
        } else {
            (CollectionPolicy::Disabled, DecisionSource::CompiledOut)
        };
        Self {
            policy,
            source,
            show: false,
            dry_run: false,
            local_only: false,
            config_path: None,
            config: ConfigState::Missing,
            shared_config_path: None,
            shared_config: ConfigState::Missing,
            notice_due: false,
            warnings: Vec::new(),
            env_veto: (!COMPILED_IN).then_some(DecisionSource::CompiledOut),
        }
    }
}

/// The environment rule that disables telemetry for `tool` in `env`, if any: rules 1–3
/// and 5 of the table (CI only when `<TOOL>_TELEMETRY=1` does not overrule it).
pub(crate) fn env_veto(tool: &ToolInfo, env: &Env) -> Option<DecisionSource> {
    let prefix = tool.env_prefix();
    let flag = |suffix: &str| env.var(&format!("{prefix}{suffix}")).map(parse_flag);
    if !COMPILED_IN {
        Some(DecisionSource::CompiledOut)
    } else if env.var("DO_NOT_TRACK").is_some_and(|v| !is_off_or_empty(v)) {
        Some(DecisionSource::DoNotTrack)
    } else if flag("_TELEMETRY_DISABLED") == Some(Flag::On) || flag("_TELEMETRY") == Some(Flag::Off)
    {
        Some(DecisionSource::EnvDisabled)
    } else if flag("_TELEMETRY") == Some(Flag::On) {
        None
    } else if env.is_ci() {
        Some(DecisionSource::Ci)
    } else {
        None
    }
}

/// What an enabled context does before it starts (the builder calls it after
/// resolution, before the warnings are printed; nothing at all when disabled):
///
/// - checks the files and directories it will use against the trust rules; each
///   refusal becomes a warning (the file is then unused: no key, so `Hashed` values are
///   left out; no data dir, so no local log, spool or install id);
/// - records `ever_enabled` in the config file, so a later `telemetry reset` knows a
///   deletion request is due. Only for a run that can send (not dry run, not local
///   only) and a decision the user made (`<TOOL>_TELEMETRY=1`, the config file, an
///   opt-out tool after its notice); a policy set in code is the tool's own consent
///   flow and is not recorded. A failure to record is not an error.
pub(crate) fn prepare_enabled(decision: &mut Decision, data_dir: Option<&Path>) {
    use crate::util::fs::{self as fsutil, DirLink, Strictness};
    if decision.policy != CollectionPolicy::Enabled {
        return;
    }
    if let Some(key) = decision
        .config_path
        .as_deref()
        .and_then(Path::parent)
        .map(|dir| dir.join(crate::layout::KEY_FILE))
        && let Some(r) = fsutil::inspect_file(&key, DirLink::Allowed, Strictness::Trusted)
    {
        decision.warnings.push(format!(
            "{r}; the key is not used, so `Hashed` values are left out of events"
        ));
    }
    if let Some(dir) = data_dir {
        let spool = dir.join(crate::layout::SPOOL_DIR);
        if let Err(r) = fsutil::check_dir(dir, DirLink::Refused)
            .and_then(|_| fsutil::check_dir(&spool, DirLink::Refused))
        {
            decision.warnings.push(format!(
                "{r}; telemetry stores nothing there (no local log, spool or install id)"
            ));
        }
    }
    let user_decided = matches!(
        decision.source,
        DecisionSource::EnvEnabled
            | DecisionSource::ConfigFile
            | DecisionSource::SharedConfig
            | DecisionSource::Default
    );
    // Already recorded in the file this decision was read from: not read again (the
    // second read was a walk up the config dir's path and a parse on every run).
    let recorded =
        matches!(&decision.config, ConfigState::Valid(file) if file.ever_enabled == Some(true));
    if user_decided
        && !recorded
        && !decision.dry_run
        && !decision.local_only
        && let Some(path) = decision.config_path.as_deref()
        && let Err(e) = record_ever_enabled(path)
    {
        crate::util::log::debug!(error = %e, "telemetry: could not record that telemetry was enabled");
    }
}

/// Resolves consent for `tool` in `env` (see the module docs for the rules). Reads the
/// config file, writes nothing, prints nothing.
///
/// ```
/// use telemetry::consent::{Env, ToolInfo, resolve};
/// let dir = tempfile::tempdir().unwrap();
/// let env = Env::empty().with_config_dir(dir.path()).with_var("MYTOOL_TELEMETRY", "1");
/// let decision = resolve(&ToolInfo::new("mytool"), &env);
/// # #[cfg(feature = "collect")]
/// assert_eq!(decision.policy, telemetry::CollectionPolicy::Enabled);
/// ```
pub fn resolve(tool: &ToolInfo, env: &Env) -> Decision {
    let prefix = tool.env_prefix();
    let mut warnings = Vec::new();
    let mut flag = |suffix: &str| -> Option<Flag> {
        let name = format!("{prefix}{suffix}");
        let value = env.var(&name)?;
        if value.trim().is_empty() {
            return None;
        }
        match parse_flag(value) {
            Flag::Invalid => {
                warnings.push(format!(
                    "{name}={value:?} is not one of 1/true/on/yes or 0/false/off/no; ignored"
                ));
                None
            }
            parsed => Some(parsed),
        }
    };
    let telemetry_var = flag("_TELEMETRY");
    // Parsed here for its warning; `env_veto` applies it.
    let _ = flag("_TELEMETRY_DISABLED");
    let show = flag("_TELEMETRY_SHOW") == Some(Flag::On);
    let dry_run = flag("_TELEMETRY_DRY_RUN") == Some(Flag::On);
    let mut local_only = flag("_TELEMETRY_LOCAL") == Some(Flag::On);

    let config_path = env.config_dir().map(|d| d.join(CONFIG_FILE));
    let config = config_path
        .as_deref()
        .map_or(ConfigState::Missing, load_config);
    match &config {
        ConfigState::Invalid { reason } => warnings.push(format!(
            "{reason}; telemetry stays off until `telemetry enable` or `disable` rewrites it"
        )),
        ConfigState::Refused { reason } => warnings.push(format!(
            "{reason}; it is ignored (telemetry stays off) and never overwritten: fix its owner or permissions, or remove it"
        )),
        _ => {}
    }

    let shared_config_path = env.shared_config_dir().map(|d| d.join(SHARED_CONSENT_FILE));
    let shared_config = shared_config_path
        .as_deref()
        .map_or(ConfigState::Missing, load_config);
    match &shared_config {
        ConfigState::Invalid { reason } => warnings.push(format!(
            "{reason}; every tool built with this library stays off until `telemetry enable --all-tools` or `disable --all-tools` rewrites it"
        )),
        ConfigState::Refused { reason } => warnings.push(format!(
            "{reason}; it is ignored (every tool built with this library stays off) and never overwritten: fix its owner or permissions, or remove it"
        )),
        _ => {}
    }

    let notice_shown = config.file().is_some_and(|f| f.notice_shown_at.is_some());
    let mut notice_due = false;
    use CollectionPolicy::{Disabled, Enabled};
    let env_veto = env_veto(tool, env);
    let (policy, source) = if let Some(veto) = env_veto {
        (Disabled, veto)
    } else if telemetry_var == Some(Flag::On) {
        (Enabled, DecisionSource::EnvEnabled)
    } else if let Some((level, source)) = user_decision(&config, &shared_config) {
        local_only |= level == Level::Local;
        (
            if level == Level::Off {
                Disabled
            } else {
                Enabled
            },
            source,
        )
    } else {
        let (policy, source) = match &tool.mode {
            ConsentMode::OptIn => (Disabled, DecisionSource::Default),
            ConsentMode::OptOut { .. } if notice_shown => (Enabled, DecisionSource::Default),
            ConsentMode::OptOut { .. } => {
                // Shown only where someone can read it, and only if we can remember
                // that it was shown; otherwise it would be shown on every run.
                notice_due = env.is_terminal() && config_path.is_some();
                (Disabled, DecisionSource::NoticePending)
            }
        };
        if policy == Disabled && tool.local_by_default {
            // Nothing leaves the machine without a decision; kept locally meanwhile.
            local_only = true;
            (Enabled, source)
        } else {
            (policy, source)
        }
    };
    Decision {
        policy,
        source,
        show,
        dry_run,
        local_only,
        config_path,
        config,
        shared_config_path,
        shared_config,
        notice_due,
        warnings,
        env_veto,
    }
}

/// Rule 6: the user's decision, from the tool's config file and the shared one
/// (module docs), if either holds one. A file that cannot be used (unreadable,
/// corrupt, refused) may have said "off", so it means disabled.
fn user_decision(own: &ConfigState, shared: &ConfigState) -> Option<(Level, DecisionSource)> {
    /// A decision and when it was made (`None`: no time this library wrote).
    type Made<'a> = Option<(Level, Option<&'a str>)>;
    fn made(state: &ConfigState) -> Result<Made<'_>, ()> {
        match state {
            ConfigState::Invalid { .. } | ConfigState::Refused { .. } => Err(()),
            _ => Ok(state.file().and_then(|f| {
                let at = f
                    .decided_at
                    .as_deref()
                    .filter(|t| crate::util::time::is_rfc3339_millis(t));
                Some((f.decided_level()?, at))
            })),
        }
    }
    use DecisionSource::{ConfigFile, SharedConfig};
    let own = made(own).map_err(|()| (Level::Off, ConfigFile));
    let shared = made(shared).map_err(|()| (Level::Off, SharedConfig));
    let (own, shared) = match (own, shared) {
        (Err(unusable), _) | (_, Err(unusable)) => return Some(unusable),
        (Ok(own), Ok(shared)) => (own, shared),
    };
    match (own, shared) {
        (None, None) => None,
        (Some((enabled, _)), None) => Some((enabled, ConfigFile)),
        (None, Some((enabled, _))) => Some((enabled, SharedConfig)),
        // `None` (no time) sorts before any time.
        (Some((own, own_at)), Some((shared, shared_at))) => Some(if shared_at > own_at {
            (shared, SharedConfig)
        } else if own_at > shared_at || own <= shared {
            (own, ConfigFile)
        } else {
            // The same time, different decisions: the more private one wins.
            (shared, SharedConfig)
        }),
    }
}

#[cfg(test)]
mod tests;
