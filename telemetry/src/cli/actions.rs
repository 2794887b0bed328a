//! `enable`, `disable` and `reset`: the library calls
//! ([`TelemetryContext::enable`] and friends), their reports printed line by line.

use std::io::Write;

use crate::context::{ConsentChange, DeletionOutcome, TelemetryContext};
use crate::error::TelemetryError;

fn say(out: &mut dyn Write, line: impl std::fmt::Display) -> Result<(), TelemetryError> {
    writeln!(out, "{line}").map_err(|e| TelemetryError::io("write to", "stdout", e))
}

/// Who a decision is for.
fn scope(all_tools: bool) -> &'static str {
    if all_tools {
        " for every tool built with telemetry-rs"
    } else {
        ""
    }
}

/// The note a change gets when a rule above the config file still keeps telemetry off.
fn say_still_off(out: &mut dyn Write, change: &ConsentChange) -> Result<(), TelemetryError> {
    match change.still_off_by {
        Some(source) => say(
            out,
            format!("note: telemetry stays off in this environment (decided by {source})"),
        ),
        None => Ok(()),
    }
}

/// What a change that stops sending says: the unsent events it dropped, then
/// `what` it set.
fn say_withdrawn(
    out: &mut dyn Write,
    change: &ConsentChange,
    what: String,
) -> Result<(), TelemetryError> {
    say(
        out,
        format!("dropped {} unsent event(s)", change.dropped_events),
    )?;
    say(out, what)
}

pub(super) fn enable(
    ctx: &TelemetryContext,
    all_tools: bool,
    out: &mut dyn Write,
) -> Result<(), TelemetryError> {
    let change = if all_tools {
        ctx.enable_all_tools()?
    } else {
        ctx.enable()?
    };
    say(
        out,
        format!(
            "telemetry enabled{} (saved in {})",
            scope(all_tools),
            change.saved_in.display()
        ),
    )?;
    say_still_off(out, &change)
}

pub(super) fn disable(
    ctx: &TelemetryContext,
    all_tools: bool,
    out: &mut dyn Write,
) -> Result<(), TelemetryError> {
    let change = if all_tools {
        ctx.disable_all_tools()?
    } else {
        ctx.disable()?
    };
    say_withdrawn(
        out,
        &change,
        format!(
            "telemetry disabled{} (saved in {})",
            scope(all_tools),
            change.saved_in.display()
        ),
    )
}

pub(super) fn local(ctx: &TelemetryContext, out: &mut dyn Write) -> Result<(), TelemetryError> {
    let change = ctx.keep_local()?;
    say_withdrawn(
        out,
        &change,
        format!(
            "telemetry set to local: recorded on this machine, never sent (saved in {})",
            change.saved_in.display()
        ),
    )?;
    say_still_off(out, &change)
}

pub(super) fn reset(ctx: &TelemetryContext, out: &mut dyn Write) -> Result<(), TelemetryError> {
    let report = ctx.reset();
    say(
        out,
        format!("ok: dropped {} unsent event(s)", report.dropped_events),
    )?;
    match &report.deletion {
        DeletionOutcome::Sent(message) => say(out, format!("ok: {message}"))?,
        DeletionOutcome::NotSent(why) => {
            say(out, format!("skipped: no deletion request sent: {why}"))?;
            say(out, format!("  ({})", why.how_to_send(ctx.tool())))?;
        }
        DeletionOutcome::Failed(e) => say(out, format!("failed: deletion request: {e}"))?,
    }
    for removal in &report.removals {
        let (what, path) = (removal.what, removal.path.display());
        match &removal.result {
            Ok(true) => say(out, format!("ok: deleted the {what} ({path})"))?,
            Ok(false) => say(out, format!("ok: no {what} to delete"))?,
            Err(e) => say(out, format!("failed: delete the {what} ({path}): {e}"))?,
        }
    }
    match &report.saved {
        Ok(path) => say(
            out,
            format!("ok: telemetry disabled (saved in {})", path.display()),
        )?,
        Err(e) => say(out, format!("failed: save the decision: {e}"))?,
    }
    report.into_error().map_or(Ok(()), Err)
}
