//! Report mode: tracked calls folded, on this machine, into one report per period
//! (counts and duration histograms, no identifier of any kind), kept as files the
//! user can read (`telemetry report`), and uploaded only once a period is over and
//! only at level `on`.
//!
//! Feature `reports` (off by default: a tool that sends events does not carry it).
//! The tool author turns it on with
//! [`TelemetryContextBuilder::reports`](crate::TelemetryContextBuilder::reports):
//!
//! ```
//! # #[cfg(feature = "reports")] {
//! use telemetry::{ReportSettings, TelemetryContext};
//! let ctx = TelemetryContext::builder()
//!     .tool(telemetry::tool!("mytool", "1.0.0"))
//!     .reports(ReportSettings::weekly().upload_rate(0.1).local_by_default())
//!     .build()?;
//! # drop(ctx);
//! # }
//! # Ok::<(), telemetry::TelemetryError>(())
//! ```
//!
//! - The hot path is the same as in event mode; the worker folds each call into
//!   counters keyed by the call site, outcome, error kind and captured values,
//!   and writes the period's file (`<data dir>/reports/<first day>.json`, 0600,
//!   replaced atomically) a second after the first call it has not written, when the
//!   period changes, and at exit.
//! - A report holds only catalogued events and keys; `Hashed` values (any string made
//!   at run time) are left out; at
//!   most [`ReportSettings::max_combinations`] distinct attribute combinations per
//!   event, the rest counted in an `_other` row.
//! - Levels (see [`consent::Level`](crate::consent::Level)): `off` records nothing and writes
//!   nothing; `local` keeps reports, marked `local`, which are never uploaded, even
//!   after the user switches to `on`; `on` uploads each complete report once.
//! - Sampling: each install draws `x` in [0, 1) once (kept in `reports/sample`) and
//!   uploads only if `x < upload_rate`.

#[cfg(feature = "reports")]
mod fold;
#[cfg(feature = "reports")]
mod mode;
mod model;
#[cfg(feature = "reports")]
mod period;
#[cfg(feature = "reports")]
mod store;
#[cfg(feature = "reports")]
mod wire;

#[cfg(feature = "reports")]
pub(crate) use fold::Fold;
#[cfg(feature = "reports")]
pub use mode::{DEFAULT_MAX_COMBINATIONS, ReportSettings};
#[cfg(feature = "reports")]
pub(crate) use mode::{ReportMode, WRITE_EVERY};
pub use model::{DurationHistogram, REPORT_DURATION_BOUNDS_MS, REPORT_SCHEMA, Report, ReportRow};
#[cfg(feature = "reports")]
pub use period::ReportPeriod;
#[cfg(feature = "reports")]
pub use store::{KEEP_REPORTS, StoredReport};
#[cfg(feature = "reports")]
pub(crate) use store::{REPORTS_DIR, ReportStore};
