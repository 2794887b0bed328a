//! `enable`, `disable` and `reset`: the commands that change what is stored.

use std::io::Write;

use crate::consent::CollectionPolicy;
use crate::consent::{self, ConfigFile, DecisionSource};
use crate::context::TelemetryContext;
use crate::error::TelemetryError;

fn say(out: &mut dyn Write, line: impl std::fmt::Display) -> Result<(), TelemetryError> {
    writeln!(out, "{line}").map_err(|e| TelemetryError::io("write to", "stdout", e))
}

fn config_path(ctx: &TelemetryContext) -> Result<std::path::PathBuf, TelemetryError> {
    ctx.decision().config_path.clone().ok_or_else(|| {
        TelemetryError::Config(format!(
            "no config directory is known: set {}_CONFIG_DIR",
            ctx.tool_info().env_prefix()
        ))
    })
}

/// Saves the decision. An explicit command replaces a corrupt or future-version file;
/// a valid file keeps its other fields; a file the trust rules refuse is never replaced:
/// the command fails naming it and why. `update` may change the file further.
fn persist(
    ctx: &TelemetryContext,
    enabled: bool,
    update: impl FnOnce(&mut ConfigFile),
) -> Result<std::path::PathBuf, TelemetryError> {
    let path = config_path(ctx)?;
    let mut file = consent::load_for_update(&path, true)?.with_decision(enabled);
    update(&mut file);
    consent::store_config(&path, &file)?;
    Ok(path)
}

/// Stops collection in this process and deletes every event not sent yet, in memory
/// and in the spool (also batches left by earlier runs). Returns how many were deleted.
fn withdraw(ctx: &TelemetryContext) -> u64 {
    let dropped = ctx.purge();
    // Also purges anything accepted between the two calls.
    ctx.set_policy(CollectionPolicy::Disabled);
    dropped
}

pub(super) fn enable(ctx: &TelemetryContext, out: &mut dyn Write) -> Result<(), TelemetryError> {
    let path = persist(ctx, true, |_| {})?;
    say(
        out,
        format!("telemetry enabled (saved in {})", path.display()),
    )?;
    // A rule above the config file (compiled out, DO_NOT_TRACK, <TOOL>_TELEMETRY=0, CI)
    // still overrules it: say so rather than let the user believe events are sent. The
    // context's own decision already tells, with the environment it was resolved from.
    let source = ctx.decision().source;
    if matches!(
        source,
        DecisionSource::CompiledOut
            | DecisionSource::DoNotTrack
            | DecisionSource::EnvDisabled
            | DecisionSource::Ci
    ) {
        say(
            out,
            format!("note: telemetry stays off in this environment (decided by {source})"),
        )?;
    }
    Ok(())
}

pub(super) fn disable(ctx: &TelemetryContext, out: &mut dyn Write) -> Result<(), TelemetryError> {
    let dropped = withdraw(ctx);
    say(out, format!("dropped {dropped} unsent event(s)"))?;
    let path = persist(ctx, false, |_| {})?;
    say(
        out,
        format!("telemetry disabled (saved in {})", path.display()),
    )
}

pub(super) fn reset(ctx: &TelemetryContext, out: &mut dyn Write) -> Result<(), TelemetryError> {
    let mut failures = Vec::new();

    // 1. Nothing buffered may leave after this point.
    let dropped = withdraw(ctx);
    say(out, format!("ok: dropped {dropped} unsent event(s)"))?;

    // 2. Ask for deletion (bounded), with the id the events carried; only where
    //    sending is allowed and something may have been sent (otherwise the machine id
    //    is not even derived).
    let mut request_sent = false;
    match ctx.deletion_request_allowed() {
        Err(why) => {
            say(out, format!("skipped: no deletion request sent: {why}"))?;
            say(out, format!("  ({})", why.how_to_send(ctx.tool())))?;
        }
        Ok(()) => match ctx.request_deletion() {
            Ok(message) => {
                request_sent = true;
                say(out, format!("ok: {message}"))?;
            }
            Err(e) => {
                say(out, format!("failed: deletion request: {e}"))?;
                failures.push(e);
            }
        },
    }

    // 3. Forget the identity: install id, local key, local log.
    for removal in ctx.forget_identity() {
        let (what, path) = (removal.what, removal.path.display());
        match removal.result {
            Ok(true) => say(out, format!("ok: deleted the {what} ({path})"))?,
            Ok(false) => say(out, format!("ok: no {what} to delete"))?,
            Err(e) => {
                say(out, format!("failed: delete the {what} ({path}): {e}"))?;
                failures.push(e);
            }
        }
    }

    // 4. Stay off. After a delivered request nothing is left to delete until telemetry
    //    is enabled again; otherwise the record stays, so a later reset can send it.
    match persist(ctx, false, |file| {
        if request_sent {
            file.ever_enabled = Some(false);
        }
    }) {
        Ok(path) => say(
            out,
            format!("ok: telemetry disabled (saved in {})", path.display()),
        )?,
        Err(e) => {
            say(out, format!("failed: save the decision: {e}"))?;
            failures.push(e);
        }
    }
    match failures.len() {
        0 => Ok(()),
        1 => Err(failures.remove(0)),
        n => Err(TelemetryError::Config(format!(
            "{n} reset steps failed (see above); the local reset completed as far as it could"
        ))),
    }
}
