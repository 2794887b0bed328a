//! The process-wide context that `#[track]` sites record into.
//!
//! Tracked functions check one relaxed `AtomicBool` ([`enabled`]); everything else
//! (the lock, the clock, the queue) is reached only when it is `true`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{PoisonError, RwLock};

use crate::__private::{ErrorKind, EventSpec, Start};
use crate::context::{COMPILED_IN, TelemetryContext};
use crate::error::TelemetryError;
use crate::event::Outcome;
use crate::pipeline::{Captures, Pending, What};

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
    if let Some(previous) = global.as_ref() {
        previous.set_installed(0);
    }
    let generation = installed_queue::INSTALLED.load(Ordering::Relaxed) + 1;
    ctx.set_installed(generation);
    *global = Some(ctx.clone());
    installed_queue::INSTALLED.store(generation, Ordering::Release);
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
            ctx.set_installed(0);
            *global = None;
            installed_queue::INSTALLED.fetch_add(1, Ordering::Release);
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
///
/// The recording thread only reads the clock and moves a small record into the queue:
/// the worker looks up the name and literal attributes in `spec` and turns the two
/// clock readings into a duration and a timestamp.
#[inline]
pub(crate) fn record_call(
    spec: &'static EventSpec,
    start: Start,
    outcome: Outcome,
    error_kind: Option<ErrorKind>,
    captured: Captures,
) {
    if !COMPILED_IN {
        return;
    }
    let end = clock::end_of(start.tick());
    let pending = Pending {
        what: What::Call {
            spec,
            start: start.tick(),
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
        tracing::debug!(error = %e, event = spec.name, "telemetry: event not recorded");
    }
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

/// The monotonic clock of tracked calls: two reads per call, so its cost is a large
/// share of the enabled path (`Instant::now` is ~23 ns on the benchmark machine, a raw
/// counter read ~9 ns; see BENCHMARKS.md).
///
/// A call is timed with `std::time::Instant` until its thread has made
/// `CALIBRATE_AFTER` (20 000) tracked calls, then with a `quanta::Clock`
/// read raw. Calibrating that clock costs about 0.6 ms of CPU once per process: a
/// command-line run that records a few events would lose more than it gains (the
/// cheaper read saves ~30 ns a call, so it pays after some 20 000 calls), while a tool
/// that tracks a hot loop gets the cheap clock after the first few milliseconds. The
/// calibration happens on an enabled path only, before the clock of the call that
/// triggers it starts (that call's duration is unaffected), never when disabled.
///
/// The raw read is, on x86-64, the time-stamp counter, used only where `quanta` finds
/// (CPUID) an *invariant* TSC — constant rate whatever the P-state, running in deep
/// C-states, synchronised across cores — and `RDTSCP`; on aarch64 the architected
/// system counter; anywhere else the OS monotonic clock. Both ends of a call are read
/// from the same clock. Durations saturate at zero should a call start on one core and
/// end on another whose counter lags (a broken hypervisor): never a panic, never a
/// wrapped subtraction. The end of a raw-timed call is mapped to a `std::time::Instant`
/// through an anchor pair read together at calibration, so the worker still dates
/// events from a standard `Instant`, to the calibration's accuracy (parts per million:
/// well under the millisecond the timestamp carries).
pub(crate) mod clock {
    #[cfg(feature = "collect")]
    mod imp {
        use std::cell::Cell;
        use std::sync::OnceLock;
        use std::time::{Duration, Instant};

        /// Tracked calls a thread times with `Instant` before it calibrates the raw
        /// clock (and times every later call with it).
        pub(crate) const CALIBRATE_AFTER: u32 = 20_000;

        /// Marks a reading of the raw counter (a counter that reaches 2^63 would need
        /// a century of uptime).
        const RAW: u64 = 1 << 63;

        /// One reading, in one word (the hot path's record carries two): the raw
        /// counter (TSC cycles, or nanoseconds on the fallback) with [`RAW`] set, or
        /// nanoseconds of the standard clock since [`std_origin`]. Only meaningful to
        /// [`duration`] and [`to_instant`].
        #[derive(Debug, Clone, Copy)]
        pub(crate) struct Tick(u64);

        impl Tick {
            fn raw(counter: u64) -> Self {
                Self(counter | RAW)
            }

            fn as_raw(self) -> Option<u64> {
                (self.0 & RAW != 0).then_some(self.0 & !RAW)
            }

            /// Whether this is a reading of the standard clock.
            #[cfg(test)]
            pub(crate) fn is_std(self) -> bool {
                self.as_raw().is_none()
            }
        }

        /// The origin of standard-clock readings: the first one of the process.
        fn std_origin() -> Instant {
            static ORIGIN: OnceLock<Instant> = OnceLock::new();
            *ORIGIN.get_or_init(Instant::now)
        }

        /// A reading of the standard clock (taken after the origin exists, so never
        /// before it).
        fn std_tick() -> Tick {
            let origin = std_origin();
            let since = Instant::now().saturating_duration_since(origin);
            Tick(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX) & !RAW)
        }

        /// The calibrated clock, and one reading of it taken together with the
        /// standard clock's.
        struct Anchored {
            clock: quanta::Clock,
            raw: u64,
            instant: Instant,
        }

        static CLOCK: OnceLock<Anchored> = OnceLock::new();

        thread_local! {
            /// Calls this thread timed with `Instant` so far.
            static STD_CALLS: Cell<u32> = const { Cell::new(0) };
        }

        fn clock() -> &'static Anchored {
            CLOCK.get_or_init(|| {
                let clock = quanta::Clock::new();
                Anchored {
                    // Compared with the readings' counter part (without the marker bit).
                    raw: clock.raw() & !RAW,
                    instant: Instant::now(),
                    clock,
                }
            })
        }

        /// The start of a call.
        #[inline]
        pub(crate) fn now() -> Tick {
            match CLOCK.get() {
                Some(anchored) => Tick::raw(anchored.clock.raw()),
                None => std_now(),
            }
        }

        fn std_now() -> Tick {
            let calls = STD_CALLS
                .try_with(|n| {
                    let calls = n.get().saturating_add(1);
                    n.set(calls);
                    calls
                })
                .unwrap_or(0);
            if calls > CALIBRATE_AFTER {
                Tick::raw(clock().clock.raw())
            } else {
                std_tick()
            }
        }

        /// A reading of the standard clock (an explicit event's time).
        pub(crate) fn now_std() -> Tick {
            std_tick()
        }

        /// The end of a call that started at `start`, read from the same clock.
        #[inline]
        pub(crate) fn end_of(start: Tick) -> Tick {
            match start.as_raw() {
                Some(_) => Tick::raw(clock().clock.raw()),
                None => std_tick(),
            }
        }

        /// The time from `start` to `end`; zero if `end` reads earlier (or, which
        /// never happens, the two come from different clocks).
        pub(crate) fn duration(start: Tick, end: Tick) -> Duration {
            Duration::from_nanos(match (start.as_raw(), end.as_raw()) {
                (None, None) => end.0.saturating_sub(start.0),
                (Some(start), Some(end)) => clock().clock.delta_as_nanos(start, end),
                _ => 0,
            })
        }

        /// The standard `Instant` of a reading.
        pub(crate) fn to_instant(tick: Tick) -> Instant {
            let Some(raw) = tick.as_raw() else {
                let origin = std_origin();
                return origin
                    .checked_add(Duration::from_nanos(tick.0))
                    .unwrap_or(origin);
            };
            let anchor = clock();
            if raw >= anchor.raw {
                anchor
                    .instant
                    .checked_add(duration(Tick::raw(anchor.raw), tick))
            } else {
                anchor
                    .instant
                    .checked_sub(duration(tick, Tick::raw(anchor.raw)))
            }
            .unwrap_or(anchor.instant)
        }
    }

    #[cfg(not(feature = "collect"))]
    mod imp {
        use std::time::Instant;

        /// A reading of the hot path's clock (compiled out: never read).
        pub(crate) type Tick = Instant;

        #[inline]
        pub(crate) fn now() -> Tick {
            Instant::now()
        }

        pub(crate) fn now_std() -> Tick {
            Instant::now()
        }

        pub(crate) fn end_of(_start: Tick) -> Tick {
            Instant::now()
        }

        pub(crate) fn duration(start: Tick, end: Tick) -> std::time::Duration {
            end.saturating_duration_since(start)
        }

        pub(crate) fn to_instant(tick: Tick) -> Instant {
            tick
        }
    }

    pub(crate) use imp::{Tick, duration, end_of, now, now_std, to_instant};

    #[cfg(all(test, feature = "collect"))]
    mod tests {
        use super::imp::CALIBRATE_AFTER;
        use super::*;
        use std::time::Duration;

        #[test]
        fn a_thread_switches_to_the_raw_clock_and_both_measure_time() {
            // A fresh thread: its count starts at zero.
            std::thread::spawn(|| {
                let start = now();
                assert!(start.is_std());
                std::thread::sleep(Duration::from_millis(2));
                let took = duration(start, end_of(start));
                assert!(took >= Duration::from_millis(2), "{took:?}");
                for _ in 0..CALIBRATE_AFTER {
                    let _ = now();
                }
                let start = now();
                assert!(!start.is_std());
                std::thread::sleep(Duration::from_millis(2));
                let end = end_of(start);
                assert!(!end.is_std());
                let took = duration(start, end);
                assert!(took >= Duration::from_millis(1), "{took:?}");
                assert!(took < Duration::from_secs(5), "{took:?}");
                // Backwards and mixed readings give zero, never a panic.
                assert_eq!(duration(end, start), Duration::ZERO);
                let std = now_std();
                assert!(std.is_std());
                assert_eq!(duration(std, end), Duration::ZERO);
                // The raw end maps close to the standard clock.
                let mapped = to_instant(end);
                let gap = std::time::Instant::now().saturating_duration_since(mapped);
                assert!(gap < Duration::from_secs(1), "{gap:?}");
            })
            .join()
            .unwrap();
        }
    }
}
