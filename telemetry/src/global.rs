//! The process-wide context that `#[track]` sites record into.
//!
//! Tracked functions check one relaxed `AtomicBool` ([`enabled`]); everything else
//! (the lock, the clock, the queue) is reached only when it is `true`.

use std::sync::atomic::Ordering;
use std::sync::{PoisonError, RwLock};

use crate::catalog::EventSpec;
use crate::clock::{self, Tick};
use crate::context::TelemetryContext;
use crate::error::TelemetryError;
use crate::error_kind::ErrorKind;
use crate::event::Outcome;
use crate::pipeline::{Captures, Pending, What};
use crate::switch::COMPILED_IN;

static GLOBAL: RwLock<Option<TelemetryContext>> = RwLock::new(None);

/// Installs `ctx` as the process-wide context (replacing any previous one) and returns
/// a guard whose `Drop` ends the run: everything accepted is written out (the spool
/// synced), then, by default, the detached uploader is started if one is due (see
/// [`SendMode`](crate::SendMode) and `docs/delivery.md`).
///
/// **Call it first thing in `main`, before parsing arguments or doing any work.** The
/// uploader is this same executable, started with the argument
/// [`UPLOADER_ARG`](crate::UPLOADER_ARG) and `<TOOL>_TELEMETRY_UPLOADER=1`: `init`
/// recognises it, uploads, and ends that process without returning. (A tool that
/// parses first makes its uploader fail on the unknown argument; the library notices
/// and sends within the exit deadline instead, slower but never lost.)
///
/// Keep the guard alive for the whole `main`. `std::process::exit` skips destructors:
/// leave through [`exit`] instead.
///
/// ```
/// let ctx = telemetry::TelemetryContext::builder()
///     .tool(telemetry::tool!("mytool", "1.0.0"))
///     .sink(telemetry::sink::NoopSink)
///     .build()?;
/// let _guard = telemetry::init(ctx);
/// assert!(telemetry::global().is_some());
/// # Ok::<(), telemetry::TelemetryError>(())
/// ```
#[must_use = "dropping the guard at once flushes and uninstalls the context"]
pub fn init(ctx: TelemetryContext) -> TelemetryGuard {
    #[cfg(feature = "spool")]
    if crate::uploader::is_this_process(ctx.tool()) {
        ctx.run_as_uploader();
    }
    let mut global = GLOBAL.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(previous) = global.as_ref() {
        previous.set_installed(0);
    }
    let generation = installed_queue::INSTALLED.load(Ordering::Relaxed) + 1;
    ctx.set_installed(generation);
    *global = Some(ctx.clone());
    installed_queue::INSTALLED.store(generation, Ordering::Release);
    drop(global);
    ctx.warm_up();
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

/// Ends the run of the installed context as its guard's `Drop` does (see [`init`]):
/// writes out everything accepted, whatever the deadline, then starts the uploader or
/// sends within the deadline. For tools that leave through `std::process::exit`, which
/// skips the guard's `Drop` (or use [`exit`]). Never waits on a network longer than the
/// deadline.
///
/// ```
/// telemetry::shutdown().ok();
/// // std::process::exit(2);
/// ```
pub fn shutdown() -> Result<(), TelemetryError> {
    match global() {
        Some(ctx) => ctx.finish(),
        None => Ok(()),
    }
}

/// Ends the process with `code`, like [`std::process::exit`], after doing what the
/// [`TelemetryGuard`] does when `main` returns (see [`shutdown`]).
/// `std::process::exit` skips destructors, so a tool that leaves through it loses the
/// events of the run; call this instead.
///
/// Where the tool asked for it ([`signals::track_open_calls`](crate::signals::track_open_calls)),
/// the tracked calls still running are recorded first: as `panic` those of a thread
/// that is panicking (a panic hook that exits), as `interrupted` the others (an exit
/// from inside a tracked call, or from a signal handler of the tool's own).
///
/// ```no_run
/// fn fail(message: &str) -> ! {
///     eprintln!("mytool: {message}");
///     telemetry::exit(101)
/// }
/// ```
pub fn exit(code: i32) -> ! {
    end_open_calls();
    if let Err(e) = shutdown() {
        crate::util::log::debug!(error = %e, "telemetry: exit flush incomplete");
    }
    std::process::exit(code)
}

/// Flushes and uninstalls the global context when dropped (see [`init`]).
///
/// ```
/// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
/// let guard = telemetry::init(ctx);
/// drop(guard); // writes out what was recorded; never waits on a network
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
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
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
        if let Err(e) = ctx.finish() {
            crate::util::log::debug!(error = %e, "telemetry: exit flush incomplete");
        }
        let mut global = GLOBAL.write().unwrap_or_else(PoisonError::into_inner);
        if global.as_ref().is_some_and(|g| g.same_as(&ctx)) {
            ctx.set_installed(0);
            *global = None;
            installed_queue::INSTALLED.fetch_add(1, Ordering::Release);
        }
    }
}

/// Records a finished tracked call into the installed context.
///
/// The recording thread only reads the clock and moves a small record into the queue:
/// the worker looks up the name and literal attributes in `spec` and turns the two
/// clock readings into a duration and a timestamp.
#[inline]
pub(crate) fn record_call(
    spec: &'static EventSpec,
    start: Tick,
    outcome: Outcome,
    error_kind: Option<ErrorKind>,
    captured: Captures,
) {
    if !COMPILED_IN {
        return;
    }
    let end = clock::end_of(start);
    let pending = Pending {
        what: What::Call {
            spec,
            start,
            captured,
            error_kind,
        },
        end,
        outcome,
    };
    let mut pending = Some(pending);
    let result = match installed_queue::push(&mut pending) {
        Some(pushed) => pushed,
        // No handle, a stale one, or the context was uninstalled since the check.
        None => {
            let global = GLOBAL.read().unwrap_or_else(PoisonError::into_inner);
            let (Some(ctx), Some(pending)) =
                (global.as_ref().filter(|c| c.is_enabled()), pending.take())
            else {
                return;
            };
            let result = ctx.enqueue(pending);
            installed_queue::remember(ctx);
            result
        }
    };
    if let Err(e) = result {
        // Counted by the queue (drops) or the worker state; never the host's problem.
        crate::util::log::debug!(error = %e, event = spec.name, "telemetry: event not recorded");
    }
}

/// Records every tracked call still running, which the process is about to end without
/// running their guards: as `panic` the calls of this thread if it is panicking (a
/// panic hook), as `interrupted` the others. Only calls kept by `open_calls` (once the
/// tool asked for it); returns how many were recorded. Their guards, should they still
/// run, record nothing more.
pub(crate) fn end_open_calls() -> usize {
    let calls = crate::open_calls::take_all();
    let count = calls.len();
    let panicking = std::thread::panicking();
    for call in calls {
        let outcome = if panicking && call.started_here() {
            Outcome::Panic
        } else {
            Outcome::Interrupted
        };
        record_call(call.spec, call.start, outcome, None, call.captured);
    }
    count
}

/// Each recording thread's handle on the installed context's queue, so that a tracked
/// call takes no lock but the queue's own.
///
/// A call compares one number ([`INSTALLED`](installed_queue::INSTALLED), the install
/// generation, changed under `GLOBAL`'s write lock by every install and uninstall)
/// with the one its thread's handle was taken under; only when they differ (a new
/// context, or the thread's first call) does it take `GLOBAL`'s read lock and refresh
/// the handle. That check is only a hint: the push itself re-checks, under the queue's
/// lock, that the queue is still the installed one (`Queue::push_installed`; install
/// and uninstall change it under that lock while holding `GLOBAL`'s write lock) and
/// that its policy is on (`set_policy` changes it under that lock), so no tracked call
/// lands in a context after `init` replaced it, its guard uninstalled it or consent was
/// withdrawn. The handle is the queue alone, never the context: a thread-local destructor may
/// drop the last reference to it, and dropping a queue does no I/O (the context, with
/// its sinks, is never dropped there).
mod installed_queue {
    use std::cell::RefCell;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use crate::context::TelemetryContext;
    use crate::error::TelemetryError;
    use crate::pipeline::{Pending, Queue};

    /// The install generation (0: nothing installed yet).
    pub(super) static INSTALLED: AtomicU64 = AtomicU64::new(0);

    struct Handle {
        installed: u64,
        queue: Arc<Queue>,
    }

    thread_local! {
        static HANDLE: RefCell<Option<Handle>> = const { RefCell::new(None) };
    }

    /// Pushes the record into the queue of the installed context through this thread's
    /// handle; `None` (the record left in place) when the handle is missing or stale,
    /// or the queue's context is no longer the installed one.
    #[inline]
    pub(super) fn push(pending: &mut Option<Pending>) -> Option<Result<(), TelemetryError>> {
        let installed = INSTALLED.load(Ordering::Acquire);
        HANDLE
            .try_with(|handle| {
                let handle = handle.try_borrow().ok()?;
                let handle = handle.as_ref().filter(|h| h.installed == installed)?;
                let queue = &handle.queue;
                let pushed = queue.push_installed(pending, handle.installed)?;
                Some(queue.outcome(pushed))
            })
            .ok()
            .flatten()
    }

    /// Takes a handle on `ctx`'s queue (the installed context, read under `GLOBAL`'s
    /// read lock) once its worker runs.
    pub(super) fn remember(ctx: &TelemetryContext) {
        let Some(queue) = ctx.running_queue() else {
            return;
        };
        let installed = INSTALLED.load(Ordering::Acquire);
        let _ = HANDLE.try_with(|handle| {
            if let Ok(mut handle) = handle.try_borrow_mut() {
                *handle = Some(Handle { installed, queue });
            }
        });
    }
}
