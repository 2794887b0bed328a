//! The monotonic clock of tracked calls: two reads per call, so its cost is a large
//! share of the enabled path (`Instant::now` is ~23 ns on the benchmark machine, a raw
//! counter read ~9 ns; see BENCHMARKS.md).
//!
//! A call is timed with `std::time::Instant`. With feature `fast-clock` (off by
//! default: `quanta` and the crates it brings were ~4.3 s of the ~21 s of build CPU the
//! default features added, for a gain only a hot loop sees), a thread that has made
//! `CALIBRATE_AFTER` (20 000) tracked calls times the later ones with a
//! `quanta::Clock` read raw. Calibrating that clock costs about 0.6 ms of CPU once per
//! process: a command-line run that records a few events would lose more than it
//! gains (the cheaper read saves ~30 ns a call, so it pays after some 20 000 calls),
//! while a tool that tracks a hot loop gets the cheap clock after the first few
//! milliseconds. The calibration happens on an enabled path only, before the clock of
//! the call that triggers it starts (that call's duration is unaffected), never when
//! disabled.
//!
//! The raw read is, on x86-64, the time-stamp counter, used only where `quanta` finds
//! (CPUID) an *invariant* TSC — constant rate whatever the P-state, running in deep
//! C-states, synchronised across cores — and `RDTSCP`; on aarch64 the architected
//! system counter; anywhere else the OS monotonic clock. Both ends of a call are read
//! from the same clock. Durations saturate at zero should a call start on one core and
//! end on another whose counter lags (a broken hypervisor): never a panic, never a
//! wrapped subtraction. The end of a raw-timed call is mapped to a `std::time::Instant`
//! through an anchor pair read together at calibration, so the worker still dates
//! events from a standard `Instant`, to the calibration's accuracy (parts per million:
//! well under the millisecond the timestamp carries).

#[cfg(feature = "collect")]
mod imp {
    #[cfg(feature = "fast-clock")]
    use std::cell::Cell;
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    /// Tracked calls a thread times with `Instant` before it calibrates the raw
    /// clock (and times every later call with it).
    #[cfg(feature = "fast-clock")]
    pub(crate) const CALIBRATE_AFTER: u32 = 20_000;

    /// Marks a reading of the raw counter (a counter that reaches 2^63 would need
    /// a century of uptime); never set without `fast-clock`.
    const RAW: u64 = 1 << 63;

    /// One reading, in one word (the hot path's record carries two): the raw
    /// counter (TSC cycles, or nanoseconds on the fallback) with [`RAW`] set, or
    /// nanoseconds of the standard clock since [`std_origin`]. Only meaningful to
    /// [`duration`] and [`to_instant`].
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Tick(u64);

    #[cfg(feature = "fast-clock")]
    impl Tick {
        fn raw(counter: u64) -> Self {
            Self(counter | RAW)
        }

        /// Whether this is a reading of the standard clock.
        #[cfg(test)]
        pub(crate) fn is_std(self) -> bool {
            self.as_raw().is_none()
        }
    }

    impl Tick {
        /// The raw counter of a raw reading; `None` for the standard clock's (always,
        /// without `fast-clock`).
        #[inline]
        fn as_raw(self) -> Option<u64> {
            (self.0 & RAW != 0).then_some(self.0 & !RAW)
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
    #[cfg(feature = "fast-clock")]
    struct Anchored {
        clock: quanta::Clock,
        raw: u64,
        instant: Instant,
    }

    #[cfg(feature = "fast-clock")]
    static CLOCK: OnceLock<Anchored> = OnceLock::new();

    #[cfg(feature = "fast-clock")]
    thread_local! {
        /// Calls this thread timed with `Instant` so far.
        static STD_CALLS: Cell<u32> = const { Cell::new(0) };
    }

    #[cfg(feature = "fast-clock")]
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
    #[cfg(feature = "fast-clock")]
    #[inline]
    pub(crate) fn now() -> Tick {
        match CLOCK.get() {
            Some(anchored) => Tick::raw(anchored.clock.raw()),
            None => std_now(),
        }
    }

    /// The start of a call.
    #[cfg(not(feature = "fast-clock"))]
    #[inline]
    pub(crate) fn now() -> Tick {
        std_tick()
    }

    #[cfg(feature = "fast-clock")]
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
            #[cfg(feature = "fast-clock")]
            Some(_) => Tick::raw(clock().clock.raw()),
            _ => std_tick(),
        }
    }

    /// The time from `start` to `end`; zero if `end` reads earlier (or, which
    /// never happens, the two come from different clocks).
    pub(crate) fn duration(start: Tick, end: Tick) -> Duration {
        Duration::from_nanos(match (start.as_raw(), end.as_raw()) {
            (None, None) => end.0.saturating_sub(start.0),
            #[cfg(feature = "fast-clock")]
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
        raw_to_instant(raw)
    }

    #[cfg(not(feature = "fast-clock"))]
    fn raw_to_instant(_raw: u64) -> Instant {
        // No raw reading is ever made.
        std_origin()
    }

    #[cfg(feature = "fast-clock")]
    fn raw_to_instant(raw: u64) -> Instant {
        let anchor = clock();
        let tick = Tick::raw(raw);
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
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_call_is_timed_with_the_standard_clock() {
        let start = now();
        std::thread::sleep(Duration::from_millis(2));
        let end = end_of(start);
        let took = duration(start, end);
        assert!(took >= Duration::from_millis(2), "{took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
        assert_eq!(duration(end, start), Duration::ZERO, "backwards is zero");
        let gap = std::time::Instant::now().saturating_duration_since(to_instant(end));
        assert!(gap < Duration::from_secs(1), "{gap:?}");
    }
}

#[cfg(all(test, feature = "collect", feature = "fast-clock"))]
mod fast_clock_tests {
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
