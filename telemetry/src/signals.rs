//! Recording the tracked calls that a process ends without running their guards: Ctrl-C
//! (`SIGINT`), `SIGTERM`, an exit from inside a call, a panic hook that exits.
//!
//! A tracked call is recorded when its guard runs: when it returns, fails, panics
//! (while unwinding) or, for a future, is dropped. Some ends run no guard at all: a
//! signal's default action kills the process where it stands, and
//! [`std::process::exit`] (or [`crate::exit`]) skips every destructor. Nothing in this
//! module happens unless the tool asks for it, in code:
//!
//! - [`record_interruptions`] (feature `signals`, Unix): for a tool that leaves
//!   `SIGINT` and `SIGTERM` at their default (the process just dies). On the signal,
//!   every tracked call still running is recorded as
//!   [`interrupted`](crate::Outcome::Interrupted), the run is written out as at the
//!   end of `main`, and the process then ends **by the same signal**, as it would have
//!   without telemetry (a shell shows exit status 130 for `SIGINT`, 143 for `SIGTERM`;
//!   a parent sees "killed by signal"). A second signal while that runs ends the
//!   process at once.
//! - [`track_open_calls`]: for a tool with a signal handler of its own (`ctrlc`,
//!   `tokio::signal`, `signal-hook`) or a panic hook that exits. The library only notes
//!   which tracked calls are running; [`crate::exit`] then records them (as `panic`
//!   the calls of a thread that is panicking, as `interrupted` the others) before it
//!   writes the run out and exits.
//!
//! ```no_run
//! // With a handler of the tool's own (here the `ctrlc` crate):
//! // telemetry::signals::track_open_calls();
//! // ctrlc::set_handler(|| telemetry::exit(130))?;
//!
//! // A panic hook that ends the process:
//! telemetry::signals::track_open_calls();
//! std::panic::set_hook(Box::new(|info| {
//!     eprintln!("mytool: internal error: {info}");
//!     telemetry::exit(101);
//! }));
//! ```
//!
//! Both are no-ops, returning `false`, unless an enabled context is installed (call
//! them after [`crate::init`]): with telemetry off, no handler is installed, nothing
//! is kept, and the tool's behaviour is untouched.
//!
//! **Cost.** Until one of them is called, an enabled tracked call pays one relaxed
//! atomic load for this; a disabled call nothing. Afterwards, an enabled call also
//! locks its thread's shard of a registry twice, uncontended (BENCHMARKS.md).

use crate::global;

/// Keeps track of the tracked calls that are running, so that [`crate::exit`] records
/// them (as `interrupted`, or `panic` on a panicking thread) rather than lose them:
/// for a tool that ends the process from a signal handler of its own, a panic hook or
/// from inside a tracked call. Returns whether it is on: only while an enabled context
/// is installed (after [`crate::init`], with the user's consent).
///
/// ```
/// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
/// let _guard = telemetry::init(ctx); // no consent here: nothing to keep
/// assert!(!telemetry::signals::track_open_calls());
/// ```
pub fn track_open_calls() -> bool {
    if !crate::switch::enabled() || global::global().is_none_or(|ctx| !ctx.is_enabled()) {
        return false;
    }
    crate::open_calls::arm();
    true
}

/// Opt-in: on `SIGINT` (Ctrl-C) or `SIGTERM`, records every tracked call still running
/// as `interrupted`, writes the run out as the end of `main` would, then ends the
/// process by that signal, as it would have ended without telemetry (feature
/// `signals`). Returns whether a handler was installed.
///
/// For a tool that leaves these signals at their default action. Nothing is installed
/// (and `false` returned) when telemetry is off, on a platform other than Unix, or
/// for a signal the process ignores (`nohup`, a background job) or, on Linux, already
/// handles: the library never takes a signal away from the tool. A tool that installs
/// its own handler *later* (`ctrlc`, `tokio::signal`) should not call this: the
/// library's handler would end the process beside the tool's; call
/// [`track_open_calls`] and end with [`crate::exit`] from the tool's handler instead.
///
/// A second signal while the run is written out ends the process at once. The handler
/// runs the signal on a thread of its own (no `unsafe` in this crate: the
/// `signal-hook` crate installs it, chaining to any handler installed before).
///
/// ```no_run
/// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
/// let _guard = telemetry::init(ctx);
/// telemetry::signals::record_interruptions();
/// ```
#[cfg(feature = "signals")]
pub fn record_interruptions() -> bool {
    if !track_open_calls() {
        return false;
    }
    handler::install()
}

#[cfg(all(feature = "signals", not(unix)))]
mod handler {
    pub(super) fn install() -> bool {
        false
    }
}

#[cfg(all(feature = "signals", unix))]
mod handler {
    use std::sync::Arc;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, Ordering};

    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;

    /// Whether the handler is installed (the first call decides).
    static INSTALLED: OnceLock<bool> = OnceLock::new();

    pub(super) fn install() -> bool {
        *INSTALLED.get_or_init(|| {
            let wanted: Vec<i32> = [SIGINT, SIGTERM]
                .into_iter()
                .filter(|&signal| !disposition::taken(signal))
                .collect();
            if wanted.is_empty() {
                return false;
            }
            match start(&wanted) {
                Ok(()) => true,
                Err(e) => {
                    crate::util::log::debug!(error = %e, "telemetry: no signal handler");
                    false
                }
            }
        })
    }

    fn start(signals: &[i32]) -> std::io::Result<()> {
        // Registered first, so it runs first: once the first signal is being handled,
        // another one takes the default action at once (an impatient second Ctrl-C).
        let second = Arc::new(AtomicBool::new(false));
        for &signal in signals {
            signal_hook::flag::register_conditional_default(signal, Arc::clone(&second))?;
        }
        let mut incoming = Signals::new(signals)?;
        std::thread::Builder::new()
            .name("telemetry-signals".into())
            .spawn(move || {
                if let Some(signal) = incoming.forever().next() {
                    second.store(true, Ordering::SeqCst);
                    super::interrupted();
                    // Resets the default action and raises the signal again: the
                    // process ends as it would have without the handler.
                    if let Err(e) = signal_hook::low_level::emulate_default_handler(signal) {
                        crate::util::log::debug!(error = %e, "telemetry: could not re-raise the signal");
                        std::process::exit(128 + signal);
                    }
                }
            })?;
        Ok(())
    }

    /// What the process does with a signal before the library is asked to handle it.
    mod disposition {
        /// Whether `signal` is ignored (then it must stay ignored) or, on Linux,
        /// caught by a handler of the tool's own (then the tool decides what it does).
        /// Read from `/proc/self/status` (`SigIgn`, `SigCgt`): no `unsafe`, no
        /// `sigaction` call. Elsewhere this cannot be known without `unsafe`, and
        /// the signal counts as free.
        pub(super) fn taken(signal: i32) -> bool {
            let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
                return false;
            };
            ["SigIgn:", "SigCgt:"]
                .iter()
                .any(|field| mask(&status, field).is_some_and(|m| has(m, signal)))
        }

        fn mask(status: &str, field: &str) -> Option<u64> {
            let line = status.lines().find(|l| l.starts_with(field))?;
            u64::from_str_radix(line[field.len()..].trim(), 16).ok()
        }

        fn has(mask: u64, signal: i32) -> bool {
            (1..=64).contains(&signal) && mask & (1 << (signal - 1)) != 0
        }

        #[cfg(test)]
        mod tests {
            #[test]
            fn masks_are_read_from_the_status_file_format() {
                let status = "Name:\tx\nSigIgn:\t0000000000001000\nSigCgt:\t0000000000000002\n";
                assert_eq!(super::mask(status, "SigIgn:"), Some(0x1000));
                assert!(super::has(0x1000, 13), "SIGPIPE is bit 12");
                assert!(super::has(0x2, 2), "SIGINT is bit 1");
                assert!(!super::has(0x2, 15));
                assert!(!super::has(u64::MAX, 0));
            }
        }
    }
}

/// The process is about to end from a signal: records every tracked call still
/// running as `interrupted` and writes the run out (what the guard does at the end of
/// `main`).
#[cfg(all(feature = "signals", unix))]
fn interrupted() {
    let count = global::end_open_calls();
    crate::util::log::debug!(calls = count, "telemetry: interrupted");
    if let Err(e) = global::shutdown() {
        crate::util::log::debug!(error = %e, "telemetry: exit flush incomplete");
    }
}
