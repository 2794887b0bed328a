//! Putting a context together from the author's settings and the user's decision:
//! consent resolution (with its warnings and notice on stderr) and the sinks it
//! leaves.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::consent::{self, CollectionPolicy, Decision, Env, ToolInfo};
use crate::pipeline::Consented;
use crate::sink::{FileSink, TelemetrySink, WriterSink};

/// The sinks events go to, as the user's decision shapes them: in local-only mode the
/// ones that may transmit are dropped and the local log is added; in dry-run mode
/// everything is replaced by stderr (printed, never sent nor stored); in show mode
/// stderr is added.
pub(super) fn sinks(
    mut sinks: Vec<Arc<dyn TelemetrySink>>,
    decision: &Decision,
    local_log: Option<&Path>,
) -> Vec<Arc<dyn TelemetrySink>> {
    if decision.local_only {
        sinks.retain(|s| s.is_local());
    }
    if let Some(path) = local_log {
        sinks.push(Arc::new(FileSink::local_log(path)));
    }
    if decision.dry_run {
        sinks = vec![Arc::new(WriterSink::stderr())];
    } else if decision.show {
        sinks.push(Arc::new(WriterSink::stderr()));
    }
    sinks
}

/// What consent resolution leaves the builder.
pub(super) struct Decided {
    pub(super) decision: Decision,
    pub(super) config_dir: Option<PathBuf>,
    /// The same resolution again, for the sender to ask before every request.
    pub(super) consented: Consented,
    /// A CI service is detected (the uploader never runs there).
    pub(super) ci: bool,
}

/// Resolves consent (or takes the author's explicit policy), prints the resolution's
/// warnings and, when due, the opt-out notice, all on stderr.
pub(super) fn decide(
    tool: &ToolInfo,
    explicit: Option<CollectionPolicy>,
    env: Option<Env>,
    config_dir: Option<PathBuf>,
    data_dir: Option<&Path>,
) -> Decided {
    let env = env.unwrap_or_else(|| Env::from_process(&tool.name));
    let ci = env.is_ci();
    let (decision, config_dir, env) = resolve(tool, explicit, env, config_dir, data_dir);
    let consented: Consented = match explicit {
        // The author's own consent flow: nothing outside the process changes it.
        Some(_) => Box::new(|| true),
        None => {
            let tool = tool.clone();
            // `local` is consent to record, not to send.
            Box::new(move || consent::resolve(&tool, &env).level() == consent::Level::On)
        }
    };
    Decided {
        decision,
        config_dir,
        consented,
        ci,
    }
}

fn resolve(
    tool: &ToolInfo,
    explicit: Option<CollectionPolicy>,
    mut env: Env,
    config_dir: Option<PathBuf>,
    data_dir: Option<&Path>,
) -> (Decision, Option<PathBuf>, Env) {
    if let Some(policy) = explicit {
        // The same dir consent resolution would use: the builder's, else
        // `<TOOL>_CONFIG_DIR`, else the platform's (all in `env`).
        let config_dir = config_dir.or_else(|| env.config_dir().map(Path::to_owned));
        let mut decision = Decision::explicit(policy);
        decision.config_path = config_dir.as_ref().map(|d| d.join(consent::CONFIG_FILE));
        // So that `telemetry enable|disable --all-tools` works from this tool too.
        decision.shared_config_path = env
            .shared_config_dir()
            .map(|d| d.join(consent::SHARED_CONSENT_FILE));
        // The environment's vetoes still bind `telemetry reset`.
        decision.env_veto = decision.env_veto.or(consent::env_veto(tool, &env));
        return (decision, config_dir, env);
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
        crate::util::log::debug!(error = %e, "telemetry: opt-out notice not shown");
    }
    let config_dir = env.config_dir().map(Path::to_owned);
    (decision, config_dir, env)
}
