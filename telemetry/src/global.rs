//! The process-wide context that `#[track]` sites record into.
//!
//! Tracked functions check one relaxed `AtomicBool` ([`enabled`]); everything else
//! (the lock, the clock, the queue) is reached only when it is `true`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::Instant;

use crate::__private::{EventSpec, Start};
use crate::context::{COMPILED_IN, TelemetryContext};
use crate::error::TelemetryError;
use crate::event::{AttrValue, Outcome};
use crate::pipeline::Pending;

/// `true` while an enabled context is installed.
static ENABLED: AtomicBool = AtomicBool::new(false);
static GLOBAL: RwLock<Option<TelemetryContext>> = RwLock::new(None);

/// Installs `ctx` as the process-wide context (replacing any previous one) and returns
/// a guard whose `Drop` delivers what it can within the context's deadline.
///
/// Keep the guard alive for the whole `main`. `std::process::exit` skips destructors:
/// call [`shutdown`] before it.
///
/// ```
/// let ctx = telemetry::TelemetryContext::builder()
///     .tool("mytool")
///     .tool_version("1.0.0")
///     .sink(telemetry::NoopSink)
///     .build()?;
/// let _guard = telemetry::init(ctx);
/// assert!(telemetry::global().is_some());
/// # Ok::<(), telemetry::TelemetryError>(())
/// ```
#[must_use = "dropping the guard at once flushes and uninstalls the context"]
pub fn init(ctx: TelemetryContext) -> TelemetryGuard {
    let mut global = GLOBAL.write().unwrap_or_else(PoisonError::into_inner);
    ENABLED.store(ctx.is_enabled(), Ordering::Relaxed);
    *global = Some(ctx.clone());
    TelemetryGuard { ctx: Some(ctx) }
}

/// The installed context, if any.
///
/// ```
/// assert!(telemetry::global().is_none());
/// ```
pub fn global() -> Option<TelemetryContext> {
    GLOBAL
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// Delivers what the installed context can within its deadline; for tools that leave
/// through `std::process::exit`, which skips the guard's `Drop`. Returns at the
/// deadline even if a sink hangs; undelivered events are then lost (or, with a spool,
/// kept for the next run).
///
/// ```
/// telemetry::shutdown().ok();
/// // std::process::exit(2);
/// ```
pub fn shutdown() -> Result<(), TelemetryError> {
    match global() {
        Some(ctx) => ctx.flush_blocking(ctx.deadline()),
        None => Ok(()),
    }
}

/// Flushes and uninstalls the global context when dropped (see [`init`]).
///
/// ```
/// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
/// let guard = telemetry::init(ctx);
/// drop(guard); // returns within the context's deadline
/// assert!(telemetry::global().is_none());
/// ```
#[derive(Debug)]
pub struct TelemetryGuard {
    ctx: Option<TelemetryContext>,
}

impl TelemetryGuard {
    /// The context this guard installed.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// let guard = telemetry::init(ctx);
    /// assert_eq!(guard.context().map(|c| c.tool()), Some("t"));
    /// ```
    pub fn context(&self) -> Option<&TelemetryContext> {
        self.ctx.as_ref()
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let Some(ctx) = self.ctx.take() else { return };
        if let Err(e) = ctx.flush_blocking(ctx.deadline()) {
            tracing::debug!(error = %e, "telemetry: exit flush incomplete");
        }
        let mut global = GLOBAL.write().unwrap_or_else(PoisonError::into_inner);
        if global.as_ref().is_some_and(|g| g.same_as(&ctx)) {
            ENABLED.store(false, Ordering::Relaxed);
            *global = None;
        }
    }
}

/// Re-reads `ctx`'s policy into the fast-path flag, if `ctx` is the installed one.
pub(crate) fn refresh(ctx: &TelemetryContext) {
    let global = GLOBAL.read().unwrap_or_else(PoisonError::into_inner);
    if global.as_ref().is_some_and(|g| g.same_as(ctx)) {
        ENABLED.store(ctx.is_enabled(), Ordering::Relaxed);
    }
}

/// The fast-path check of every tracked call.
#[inline(always)]
pub(crate) fn enabled() -> bool {
    COMPILED_IN && ENABLED.load(Ordering::Relaxed)
}

/// Records a finished tracked call into the installed context.
pub(crate) fn record_call(
    spec: &'static EventSpec,
    start: Start,
    outcome: Outcome,
    error_kind: Option<&'static str>,
    captured: Vec<(&'static str, AttrValue)>,
) {
    if !COMPILED_IN {
        return;
    }
    let now = Instant::now();
    let global = GLOBAL.read().unwrap_or_else(PoisonError::into_inner);
    let Some(ctx) = global.as_ref().filter(|c| c.is_enabled()) else {
        return;
    };
    let pending = Pending {
        name: spec.name.into(),
        static_attrs: spec.attrs,
        captured,
        dynamic: Default::default(),
        duration: Some(now.saturating_duration_since(start.instant())),
        at: now,
        outcome,
        error_kind: error_kind.map(Into::into),
    };
    if let Err(e) = ctx.enqueue(pending) {
        // Counted by the queue (drops) or the worker state; never the host's problem.
        tracing::debug!(error = %e, event = spec.name, "telemetry: event not recorded");
    }
}
