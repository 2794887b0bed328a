//! Opt-in, anonymous usage telemetry for Rust command-line tools, private by
//! construction.
//!
//! A tool installs one [`TelemetryContext`] with [`init`]; every call of a function
//! marked `#[telemetry::track("cmd.build")]` then becomes one [`Event`] (name,
//! duration, outcome, literal and captured attributes), delivered in the background by
//! one worker thread to the configured [sinks](TelemetrySink) — but only when the
//! author compiled collection in (feature `collect`) **and** the user consented.
//!
//! ```
//! use telemetry::{CollectionPolicy, FileSink, TelemetryContext};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let ctx = TelemetryContext::builder()
//!     .tool("mytool")
//!     .tool_version("1.0.0")
//!     .sink(FileSink::new(dir.path().join("events.jsonl")))
//!     .policy(CollectionPolicy::Enabled)
//!     .build()?;
//! let guard = telemetry::init(ctx);
//! telemetry::global().unwrap().record_sync("cmd.build", [("jobs", 4)])?;
//! drop(guard); // delivers within the deadline (100 ms by default)
//! # #[cfg(feature = "collect")]
//! assert!(std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap().contains("cmd.build"));
//! # Ok::<(), telemetry::TelemetryError>(())
//! ```
//!
//! Guarantees: recording never blocks, never panics and never prints to stdout; with
//! collection off (compiled out or no consent) no machine id is derived, no thread is
//! started and no file is created; the exit flush returns within its deadline.
#![forbid(unsafe_code)]

pub mod catalog;
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
mod naming;
mod pipeline;
mod safe_value;
pub mod sink;
mod switch;
mod util;

#[doc(hidden)]
#[path = "private/mod.rs"]
pub mod __private;

pub use consent::CollectionPolicy;
pub use context::{
    DEFAULT_BATCH_SIZE, DEFAULT_DEADLINE, DEFAULT_LINGER, DEFAULT_QUEUE_CAPACITY, LOCAL_LOG_FILE,
    TelemetryContext, TelemetryContextBuilder,
};
pub use error::TelemetryError;
pub use event::{AttrValue, Event, IntoAttrValue, Outcome};
pub use global::{TelemetryGuard, global, init, shutdown};
pub use hashed::Hashed;
pub use identity::MachineId;
pub use safe_value::SafeValue;

/// Records every call of a function as one event: `#[telemetry::track("cmd.build")]`.
///
/// The grammar, the privacy rules (checked at compile time) and the outcome of each call
/// are described on the macro; in short: `#[track("name", attrs(key = literal, ..),
/// capture(param, ..), crate = path)]`.
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
/// assert!(telemetry::catalog().iter().any(|s| s.name() == "cmd.build"));
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
/// assert_eq!(Shell::PowerShell.to_attr_value(), Some(telemetry::AttrValue::from("pwsh")));
/// # let _ = Shell::Bash;
/// ```
pub use telemetry_macros::SafeValue;

pub use catalog::catalog;
pub use pipeline::{DEFAULT_SPOOL_MAX_BYTES, DEFAULT_SPOOL_MAX_FILES, DeliveryMode, DeliveryStats};
pub use sink::{FileSink, MemorySink, NoopSink, TeeSink, TelemetrySink, WriterSink};
#[cfg(feature = "http")]
pub use sink::{HttpSink, HttpSinkBuilder};
#[cfg(feature = "otlp")]
pub use sink::{OtlpEncoding, OtlpSink, OtlpSinkBuilder};

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
    pub const SENDER_THREAD_NAME: &str = crate::pipeline::SENDER_THREAD_NAME;
}
