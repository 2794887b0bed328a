//! The process-wide context that `#[track]` sites record into.
//!
//! Tracked functions check one relaxed `AtomicBool` ([`enabled`]); everything else
//! (the lock, the clock, the queue) is reached only when it is `true`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{PoisonError, RwLock};

use crate::__private::{EventSpec, Start};
use crate::context::{COMPILED_IN, TelemetryContext};
use crate::error::TelemetryError;
use crate::event::Outcome;
use crate::pipeline::{Captures, Pending};

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
    if ctx.is_enabled() {
        // Calibrates the hot path's clock here, not in the first tracked call.
        clock::init();
    }
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
        if ctx.is_enabled() {
            clock::init();
        }
        ENABLED.store(ctx.is_enabled(), Ordering::Relaxed);
    }
}

/// The fast-path check of every tracked call.
#[inline(always)]
pub(crate) fn enabled() -> bool {
    COMPILED_IN && ENABLED.load(Ordering::Relaxed)
}

/// Records a finished tracked call into the installed context.
#[inline]
pub(crate) fn record_call(
    spec: &'static EventSpec,
    start: Start,
    outcome: Outcome,
    error_kind: Option<&'static str>,
    captured: Captures,
) {
    if !COMPILED_IN {
        return;
    }
    let end = clock::now();
    let global = GLOBAL.read().unwrap_or_else(PoisonError::into_inner);
    let Some(ctx) = global.as_ref().filter(|c| c.is_enabled()) else {
        return;
    };
    let pending = Pending {
        name: spec.name.into(),
        static_attrs: spec.attrs,
        captured,
        dynamic: Default::default(),
        duration: Some(clock::duration(start.tick(), end)),
        at: clock::to_instant(end),
        outcome,
        error_kind: error_kind.map(Into::into),
    };
    if let Err(e) = ctx.enqueue(pending) {
        // Counted by the queue (drops) or the worker state; never the host's problem.
        tracing::debug!(error = %e, event = spec.name, "telemetry: event not recorded");
    }
}

/// The monotonic clock of tracked calls: two reads per call, so its cost is a large
/// share of the enabled path (`Instant::now` is ~23 ns on the benchmark machine, a raw
/// read here ~8 ns; see BENCHMARKS.md).
///
/// With `collect` on it is a `quanta::Clock` read raw: on x86-64 the time-stamp counter,
/// used only where `quanta` finds (CPUID) an *invariant* TSC — constant rate whatever
/// the P-state, running in deep C-states, synchronised across cores — and `RDTSCP`; on
/// aarch64 the architected system counter; anywhere else the OS monotonic clock. The
/// counter is scaled with one calibration against the OS clock, done once per process
/// by [`init`](super::init) when an enabled context is installed (about 1 ms): never on
/// a disabled path, never inside a tracked call. Durations saturate at zero should a
/// call start on one core and end on another whose counter lags (a broken hypervisor),
/// so a reading is never subtracted the wrong way round. The end of a call is mapped to
/// a `std::time::Instant` through an anchor pair read together at calibration, so the
/// worker still dates events from a standard `Instant`, to the calibration's accuracy
/// (parts per million: well under the millisecond the timestamp carries).
pub(crate) mod clock {
    #[cfg(feature = "collect")]
    mod imp {
        use std::sync::OnceLock;
        use std::time::{Duration, Instant};

        /// A raw reading of the hot path's clock (TSC cycles, or nanoseconds on the
        /// fallback): only meaningful to [`duration`] and [`to_instant`].
        pub(crate) type Tick = u64;

        /// The calibrated clock, and one reading of it taken together with the
        /// standard clock's.
        struct Anchored {
            clock: quanta::Clock,
            raw: u64,
            instant: Instant,
        }

        static CLOCK: OnceLock<Anchored> = OnceLock::new();

        fn clock() -> &'static Anchored {
            CLOCK.get_or_init(|| {
                let clock = quanta::Clock::new();
                Anchored {
                    raw: clock.raw(),
                    instant: Instant::now(),
                    clock,
                }
            })
        }

        /// Calibrates the clock (once per process; later calls are one load).
        pub(crate) fn init() {
            clock();
        }

        /// One raw reading: a load and the counter read.
        #[inline]
        pub(crate) fn now() -> Tick {
            clock().clock.raw()
        }

        /// The time from `start` to `end`; zero if `end` reads earlier.
        pub(crate) fn duration(start: Tick, end: Tick) -> Duration {
            if end <= start {
                return Duration::ZERO;
            }
            Duration::from_nanos(clock().clock.delta_as_nanos(start, end))
        }

        /// The standard `Instant` of a reading.
        pub(crate) fn to_instant(tick: Tick) -> Instant {
            let anchor = clock();
            if tick >= anchor.raw {
                anchor.instant.checked_add(duration(anchor.raw, tick))
            } else {
                anchor.instant.checked_sub(duration(tick, anchor.raw))
            }
            .unwrap_or(anchor.instant)
        }
    }

    #[cfg(not(feature = "collect"))]
    mod imp {
        use std::time::Instant;

        /// A reading of the hot path's clock (compiled out: never read).
        pub(crate) type Tick = Instant;

        pub(crate) fn init() {}

        #[inline]
        pub(crate) fn now() -> Tick {
            Instant::now()
        }

        pub(crate) fn duration(start: Tick, end: Tick) -> std::time::Duration {
            end.saturating_duration_since(start)
        }

        pub(crate) fn to_instant(tick: Tick) -> Instant {
            tick
        }
    }

    pub(crate) use imp::{Tick, duration, init, now, to_instant};
}
