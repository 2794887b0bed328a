//! The library's debug messages: `tracing` events with feature `tracing`, nothing
//! without it.
//!
//! A tool that uses `tracing` can turn the feature on to see why an event was not sent
//! (a refused spool file, a failed request); the messages are never printed otherwise.
//! Off by default: the `tracing` call sites cost about 70 KB of a tool's binary
//! (BENCHMARKS.md, footprint), which the default build does not spend on messages
//! nobody sees.
//!
//! The syntax is `tracing`'s: `debug!(error = %e, events = n, "message")`. Without the
//! feature, every value named is still borrowed (and so type-checked and counted as
//! used), but nothing is formatted.

macro_rules! debug {
    (@uses) => {};
    (@uses $message:literal $(,)?) => {};
    (@uses $key:ident = % $value:expr $(, $($rest:tt)*)?) => {
        let _ = &$value;
        $crate::util::log::debug!(@uses $($($rest)*)?);
    };
    (@uses $key:ident = ? $value:expr $(, $($rest:tt)*)?) => {
        let _ = &$value;
        $crate::util::log::debug!(@uses $($($rest)*)?);
    };
    (@uses $key:ident = $value:expr $(, $($rest:tt)*)?) => {
        let _ = &$value;
        $crate::util::log::debug!(@uses $($($rest)*)?);
    };
    (@uses % $value:ident $(, $($rest:tt)*)?) => {
        let _ = &$value;
        $crate::util::log::debug!(@uses $($($rest)*)?);
    };
    (@uses $value:ident $(, $($rest:tt)*)?) => {
        let _ = &$value;
        $crate::util::log::debug!(@uses $($($rest)*)?);
    };
    ($($arg:tt)*) => {{
        #[cfg(feature = "tracing")]
        ::tracing::debug!($($arg)*);
        #[cfg(not(feature = "tracing"))]
        $crate::util::log::debug!(@uses $($arg)*);
    }};
}
pub(crate) use debug;
