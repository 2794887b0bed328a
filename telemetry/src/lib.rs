//! Opt-in, anonymous usage telemetry for Rust command-line tools, private by
//! construction.
//!
//! What a tool author needs, in the order a tool uses it:
//!
//! 1. [`#[track("cmd.build")]`](macro@track) on the functions to count: every call
//!    becomes one [`Event`] (name, duration, outcome, literal and captured
//!    attributes). Anything that could carry personal data does not compile.
//! 2. [`#[derive(SafeValue)]`](derive@SafeValue) on a fieldless enum or a newtype, to
//!    capture a value of your own (or to classify errors, [`classify`]); [`Hashed`] to
//!    correlate an identifier without sending it.
//! 3. [`TelemetryContext::builder()`] — tool name and version, where events go
//!    ([`sink`]: the local log, [`HttpSink`](sink::HttpSink),
//!    [`OtlpSink`](sink::OtlpSink), [`PostHogSink`](sink::PostHogSink)) — and
//!    [`init`], first thing in `main`, whose guard writes out what was recorded at
//!    exit (a detached uploader sends it; see [`SendMode`]).
//!    Consent is resolved from the environment and the user's config file
//!    ([`consent`]). Leave `main` by returning or through [`exit`], never
//!    `std::process::exit`; [`signals`] records the commands Ctrl-C, `SIGTERM` or a
//!    panic hook ends.
//! 4. [`cli::TelemetryCommand`] (feature `clap`): `mytool telemetry
//!    status|enable|disable|reset|schema` for your users; without clap, the same
//!    through [`TelemetryContext::enable`], [`disable`](TelemetryContext::disable) and
//!    [`reset`](TelemetryContext::reset).
//! 5. `telemetry schema` ([`TelemetryContext::schema`], `--markdown` for your docs):
//!    every event the binary can send, with every field and attribute.
//!
//! ```
//! use telemetry::{CollectionPolicy, TelemetryContext, sink::FileSink};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let ctx = TelemetryContext::builder()
//!     .tool(telemetry::tool!("mytool", "1.0.0"))
//!     .sink(FileSink::new(dir.path().join("events.jsonl")))
//!     .policy(CollectionPolicy::Enabled)
//!     .build()?;
//! let guard = telemetry::init(ctx);
//! telemetry::record!("update.checked", newer = true)?;
//! drop(guard); // writes out what was recorded (here: the local file)
//! # #[cfg(feature = "collect")]
//! assert!(std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap().contains("update.checked"));
//! # Ok::<(), telemetry::TelemetryError>(())
//! ```
//!
//! Guarantees: recording never blocks, never panics and never prints to stdout; with
//! collection off (compiled out or no consent) no machine id is derived, no thread is
//! started and no file is created; the exit writes out everything accepted (whatever
//! its deadline) and by default opens no connection: a detached, single, time-limited
//! uploader sends in the background. The
//! privacy guard stops accidents and makes a deliberate way around it conspicuous (it
//! has to name `__private`); an author who wants to leak data controls their own
//! binary, which no library can prevent.
#![forbid(unsafe_code)]
// The library never writes to the terminal by itself: its messages go through
// `util::log` (feature `tracing`) or, where a tool asked for output (the CLI, the
// notice, show mode), through an explicit writer. A stray `eprintln!` fails clippy.
#![deny(clippy::print_stderr, clippy::print_stdout)]

pub mod catalog;
pub mod classify;
#[cfg(feature = "clap")]
pub mod cli;
mod clock;
pub mod consent;
mod context;
pub mod deletion;
mod error;
mod error_kind;
mod event;
mod global;
mod hashed;
mod identity;
mod layout;
mod macros;
mod naming;
mod open_calls;
mod pipeline;
pub mod report;
mod safe_value;
pub mod signals;
pub mod sink;
mod switch;
#[cfg(feature = "spool")]
mod uploader;
mod util;
mod value;

#[doc(hidden)]
#[path = "private/mod.rs"]
pub mod __private;

pub use classify::ErrorCategory;
pub use consent::policy::CollectionPolicy;
pub use context::{
    ConsentChange, DEFAULT_BATCH_SIZE, DEFAULT_DEADLINE, DEFAULT_LINGER, DEFAULT_QUEUE_CAPACITY,
    DefaultAttrs, DeletionOutcome, LOCAL_LOG_FILE, PERSIST_LIMIT, Removal, ResetReport, Schema,
    SchemaField, TelemetryContext, TelemetryContextBuilder, Tool,
};
pub use error::TelemetryError;
pub use event::{Event, Outcome, UnknownOutcome};
pub use global::{TelemetryGuard, exit, global, init, shutdown};
pub use hashed::Hashed;
pub use identity::MachineId;
pub use report::{DurationHistogram, REPORT_DURATION_BOUNDS_MS, REPORT_SCHEMA, Report, ReportRow};
#[cfg(feature = "reports")]
pub use report::{ReportPeriod, ReportSettings};
pub use safe_value::SafeValue;
pub use value::{AttrValue, Text};

/// Records every call of a function as one event: `#[telemetry::track("cmd.build")]`.
///
/// The grammar, the privacy rules (checked at compile time) and the outcome of each call
/// are described on the macro; in short: `#[track("name", attrs(key = literal, ..),
/// capture(param, key = expr, key: Type = expr, ..), error = classify, crate = path)]`.
/// Capture expressions are evaluated when the call starts, and only when telemetry is
/// on; `error = classify` turns the returned error into one variant of your enum
/// ([`ErrorCategory`]), see [`classify`].
///
/// ```
/// use telemetry::{SafeValue, track};
///
/// #[derive(SafeValue, Clone, Copy)]
/// enum Shell { Bash, Other }
///
/// #[derive(SafeValue, Clone, Copy)]
/// enum Failure { NotFound, Other }
///
/// fn classify(error: &std::io::Error) -> Failure {
///     match error.kind() {
///         std::io::ErrorKind::NotFound => Failure::NotFound,
///         _ => Failure::Other,
///     }
/// }
///
/// #[track(
///     "cmd.completions",
///     capture(shell: Shell = if shell == "bash" { Shell::Bash } else { Shell::Other }, open_browser = open),
///     error = classify,
/// )]
/// fn completions(shell: String, open: bool) -> std::io::Result<()> {
///     let _ = (shell, open); // the body may move what the captures read
///     Ok(())
/// }
///
/// completions("zsh".to_owned(), true)?;
/// let spec = telemetry::catalog::events().into_iter().find(|s| s.name() == "cmd.completions").unwrap();
/// assert_eq!(spec.captures()[0].values(), ["bash", "other"]);
/// assert_eq!(spec.error_kinds(), Some(&["not_found", "other"][..]));
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// ```
/// use telemetry::{SafeValue, track};
///
/// #[derive(SafeValue, Clone, Copy)]
/// enum Mode { Debug, Release }
///
/// #[track("cmd.build", attrs(profile = "default"), capture(jobs, mode))]
/// fn build(jobs: u16, mode: Mode, out_dir: &std::path::Path) -> std::io::Result<()> {
///     let _ = (jobs, mode, out_dir);
///     Ok(())
/// }
///
/// build(4, Mode::Release, std::path::Path::new("target"))?;
/// assert!(telemetry::catalog::events().iter().any(|s| s.name() == "cmd.build"));
/// # let _ = Mode::Debug;
/// # Ok::<(), std::io::Error>(())
/// ```
pub use telemetry_macros::track;

/// Derives [`SafeValue`](trait@SafeValue), the one way to implement it: for a fieldless
/// enum (each variant is sent as its snake_case name, or `#[safe_value(rename = "..")]`)
/// or a newtype over a `SafeValue` type (`struct Jobs(u16)`, sent as its field).
///
/// ```
/// #[derive(telemetry::SafeValue)]
/// enum Shell { Bash, #[safe_value(rename = "pwsh")] PowerShell }
///
/// use telemetry::SafeValue as _;
/// assert_eq!(Shell::PowerShell.to_attr_value().as_ref().and_then(telemetry::AttrValue::as_str), Some("pwsh"));
/// # let _ = Shell::Bash;
/// ```
pub use telemetry_macros::SafeValue;

pub use pipeline::{
    DEFAULT_SPOOL_MAX_BYTES, DEFAULT_SPOOL_MAX_FILES, DeliveryMode, DeliveryStats, SendMode,
};
pub use pipeline::{DEFAULT_UPLOAD_INTERVAL, DEFAULT_UPLOAD_TIME_LIMIT, UPLOADER_ARG};

/// Introspection for this workspace's tests (feature `test-internals`, which CI turns
/// on and no tool should): not a stable API.
#[cfg(feature = "test-internals")]
#[doc(hidden)]
pub mod __diagnostics {
    /// How many machine ids this process derived.
    pub fn machine_id_derivations() -> usize {
        crate::identity::derivations()
    }
    /// The delivery worker thread's name.
    pub const WORKER_THREAD_NAME: &str = crate::pipeline::WORKER_THREAD_NAME;
    /// The sender thread's name (only with a spool).
    #[cfg(feature = "spool")]
    pub const SENDER_THREAD_NAME: &str = crate::pipeline::SENDER_THREAD_NAME;

    #[cfg(feature = "reports")]
    pub use reports::{QueuedCalls, ReportFold, queued_calls};

    /// Prepares the spool's next file of `ctx` as the worker of an installed context
    /// does after each batch, so that the next write out costs one sync, as at a real
    /// exit (`benches/exit_persist.rs`, whose contexts are not installed).
    #[cfg(feature = "spool")]
    pub fn prepare_spool_ahead(ctx: &crate::TelemetryContext) {
        ctx.prepare_spool_ahead();
    }

    /// Report mode's fold, for `benches/report_fold.rs` (feature `reports`).
    #[cfg(feature = "reports")]
    mod reports {
        use crate::catalog::EventSpec;
        use crate::pipeline::{Captures, Pending, What};
        use crate::value::AttrValue;

        /// Tracked calls as the hot path queues them (`record_call`: the site's spec, two
        /// clock readings, the captured values), not yet folded.
        #[derive(Debug)]
        pub struct QueuedCalls(Vec<Pending>);

        /// `n` finished calls of the site `spec`, outcome `ok`; call `i` captured
        /// `values(i)` (in the order of `spec`'s `capture(..)` list). Each call's clock is
        /// read as the hot path reads it.
        pub fn queued_calls<const N: usize>(
            spec: &'static EventSpec,
            n: usize,
            mut values: impl FnMut(usize) -> [Option<AttrValue>; N],
        ) -> QueuedCalls {
            QueuedCalls(
                (0..n)
                    .map(|i| {
                        let start = crate::clock::now();
                        Pending {
                            what: What::Call {
                                spec,
                                start,
                                captured: Captures::from_values(values(i)),
                                error_kind: None,
                            },
                            end: crate::clock::end_of(start),
                            outcome: crate::event::Outcome::Ok,
                        }
                    })
                    .collect(),
            )
        }

        /// Report mode's counters in memory, fed by the worker's own per-call code
        /// (`benches/report_fold.rs`).
        #[derive(Debug)]
        pub struct ReportFold(crate::report::Fold);

        impl ReportFold {
            /// An empty fold; `limit`: the most combinations of captured values kept per
            /// site and outcome (`ReportSettings::max_combinations`).
            pub fn new(limit: usize) -> Self {
                Self(crate::report::Fold::new(limit))
            }

            /// Folds every call as the report worker folds a batch taken from the queue;
            /// returns how many calls the fold holds since it was last drained.
            pub fn fold(&mut self, calls: QueuedCalls) -> u64 {
                for pending in calls.0 {
                    crate::pipeline::fold_pending(&mut self.0, pending);
                }
                self.0.folded()
            }

            /// The rows folded so far, as a report write takes them (the fold is left
            /// empty).
            pub fn drain_rows(&mut self) -> Vec<crate::ReportRow> {
                self.0.drain_rows("0", &std::collections::BTreeMap::new())
            }
        }
    }
}
