//! Where events go: the [`TelemetrySink`] trait and the built-in sinks.
//!
//! Sinks are called only from the delivery worker thread (never from the thread that
//! recorded the event), so a slow sink slows delivery, never the host tool.

#[cfg(any(feature = "http", feature = "otlp", feature = "posthog"))]
pub(crate) mod client;
mod file;
#[cfg(feature = "http")]
pub(crate) use json::write_json_array;
pub(crate) use json::write_json_lines;
#[cfg(feature = "spool")]
pub(crate) use json::{
    EventFields, ProcessFields, SpoolLines, TYPICAL_SPOOL_LINE, write_spool_lines,
};
#[cfg(feature = "http")]
mod http;
pub(crate) mod json;
mod memory;
mod noop;
#[cfg(feature = "otlp")]
mod otlp;
#[cfg(feature = "posthog")]
mod posthog;
#[cfg(any(feature = "http", feature = "otlp", feature = "posthog"))]
mod proxy;
#[cfg(any(feature = "http", feature = "otlp", feature = "posthog"))]
mod request;
mod tee;
mod writer;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The future a sink's (or a deletion requestor's) method returns: boxed, `Send`,
/// borrowing the receiver and the arguments for `'a`.
///
/// The methods' signatures are those `#[async_trait::async_trait]` writes for an
/// `async fn`, so an implementation can use that attribute (as the examples do) or be
/// written by hand, returning `Box::pin(async move { .. })`. The library declares them
/// itself rather than through the attribute: one proc-macro crate less in every
/// tool's build (BENCHMARKS.md, footprint).
///
/// ```
/// use telemetry::sink::{BoxFuture, TelemetrySink};
/// use telemetry::{Event, TelemetryError};
///
/// struct Counting(std::sync::atomic::AtomicUsize);
///
/// impl TelemetrySink for Counting {
///     fn emit<'life0, 'life1, 'async_trait>(
///         &'life0 self,
///         _event: &'life1 Event,
///     ) -> BoxFuture<'async_trait, Result<(), TelemetryError>>
///     where
///         'life0: 'async_trait,
///         'life1: 'async_trait,
///         Self: 'async_trait,
///     {
///         Box::pin(async move {
///             self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///             Ok(())
///         })
///     }
/// }
/// ```
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Writes an async method of [`TelemetrySink`] or
/// [`DeletionRequestor`](crate::deletion::DeletionRequestor), its body boxed, with the
/// signature `#[async_trait::async_trait]` gives `async fn $name(&self[, $arg: &$ty])
/// -> $ret` (see [`BoxFuture`]). `self` is named by the caller (`&self`) so that the
/// body can use it. The traits' required methods are declared by hand.
macro_rules! boxed_async {
    ($(#[$attr:meta])* fn $name:ident(&$self:ident) -> $ret:ty $body:block) => {
        $(#[$attr])*
        fn $name<'life0, 'async_trait>(
            &'life0 $self,
        ) -> $crate::sink::BoxFuture<'async_trait, $ret>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            Box::pin(async move $body)
        }
    };
    ($(#[$attr:meta])* fn $name:ident(&$self:ident, $arg:ident: &$ty:ident<'_>) -> $ret:ty $body:block) => {
        $(#[$attr])*
        fn $name<'life0, 'life1, 'life2, 'async_trait>(
            &'life0 $self,
            $arg: &'life1 $ty<'life2>,
        ) -> $crate::sink::BoxFuture<'async_trait, $ret>
        where
            'life0: 'async_trait,
            'life1: 'async_trait,
            'life2: 'async_trait,
            Self: 'async_trait,
        {
            Box::pin(async move $body)
        }
    };
    ($(#[$attr:meta])* fn $name:ident(&$self:ident, $arg:ident: &$ty:ty) -> $ret:ty $body:block) => {
        $(#[$attr])*
        fn $name<'life0, 'life1, 'async_trait>(
            &'life0 $self,
            $arg: &'life1 $ty,
        ) -> $crate::sink::BoxFuture<'async_trait, $ret>
        where
            'life0: 'async_trait,
            'life1: 'async_trait,
            Self: 'async_trait,
        {
            Box::pin(async move $body)
        }
    };
}
pub(crate) use boxed_async;

pub use file::FileSink;
#[cfg(feature = "http")]
pub use http::{HttpSink, HttpSinkBuilder};
pub use memory::MemorySink;
pub use noop::NoopSink;
#[cfg(feature = "otlp")]
pub use otlp::{OtlpEncoding, OtlpSink, OtlpSinkBuilder};
#[cfg(feature = "posthog")]
pub use posthog::{PostHogSink, PostHogSinkBuilder};
pub use tee::TeeSink;
pub use writer::WriterSink;

use crate::error::TelemetryError;

#[cfg(feature = "spool")]
/// The longest pause a server's `Retry-After` can impose: a server asking for more (or
/// a clock far off) still gets no request for a day, and spooled events are not held
/// longer than that.
pub(crate) const MAX_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
use crate::event::Event;
use crate::report::Report;

/// A destination for events. Object safe: contexts hold `Arc<dyn TelemetrySink>`.
///
/// The async methods have the signatures `#[async_trait::async_trait]` gives an
/// `async fn`: implement them with that attribute (add `async-trait` to the tool's
/// dependencies), as below, or by hand with [`BoxFuture`].
///
/// ```
/// use std::sync::Arc;
/// use telemetry::{Event, TelemetryError};
/// use telemetry::sink::TelemetrySink;
///
/// struct CountingSink(std::sync::atomic::AtomicUsize);
///
/// #[async_trait::async_trait]
/// impl TelemetrySink for CountingSink {
///     async fn emit(&self, _event: &Event) -> Result<(), TelemetryError> {
///         self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///         Ok(())
///     }
/// }
///
/// let sink: Arc<dyn TelemetrySink> = Arc::new(CountingSink(Default::default()));
/// # drop(sink);
/// ```
///
/// # No runtime around the calls
///
/// The library calls sinks one at a time from its own threads (the worker, the sender)
/// and drives their futures with a minimal executor of its own: no reactor, no timers.
/// A sink may block in its call, within a bound of its own (while it blocks, the
/// thread does nothing else: a purge waits for it), and its future may await anything
/// that wakes its waker, but not I/O or timers that need an async runtime's reactor
/// (`tokio::net`, `tokio::time`). The built-in network sinks await each blocking
/// request on a thread of its own, so that a purge abandons it at once. A sink built on such a
/// client keeps a runtime of its own and blocks on it:
///
/// ```
/// use telemetry::{Event, TelemetryError};
/// use telemetry::sink::TelemetrySink;
///
/// struct TokioClientSink {
///     runtime: tokio::runtime::Runtime,
/// }
///
/// #[async_trait::async_trait]
/// impl TelemetrySink for TokioClientSink {
///     async fn emit(&self, _event: &Event) -> Result<(), TelemetryError> {
///         self.runtime.block_on(async {
///             // A tokio-based client's request would go here.
///             tokio::time::sleep(std::time::Duration::from_millis(1)).await;
///             Ok(())
///         })
///     }
/// }
///
/// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// let sink = TokioClientSink { runtime };
/// # drop(sink);
/// ```
pub trait TelemetrySink: Send + Sync + 'static {
    /// Delivers one event.
    fn emit<'life0, 'life1, 'async_trait>(
        &'life0 self,
        event: &'life1 Event,
    ) -> BoxFuture<'async_trait, Result<(), TelemetryError>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait;

    boxed_async! {
        /// Delivers a batch. The default emits each event in order and stops at the first
        /// error; sinks with a cheaper bulk path (one write, one request) override it.
        fn emit_batch(&self, events: &[Event]) -> Result<(), TelemetryError> {
            for event in events {
                self.emit(event).await?;
            }
            Ok(())
        }
    }

    boxed_async! {
        /// Makes everything emitted so far durable or delivered.
        fn flush(&self) -> Result<(), TelemetryError> { Ok(()) }
    }

    boxed_async! {
        /// Gets ready to take events, before the first: checks what it will write to.
        /// Called once by the worker of a context installed with `init` that has a spool
        /// (a network sink next to this one), as soon as `init` starts it, so that the
        /// tool's exit does not wait for it (the built-in [`FileSink`] checks its
        /// directory under the trust rules here). Not called for a sink fed through the
        /// spool, nor by a context that was not installed or has no spool (its worker
        /// starts with the first event). An error is not reported: the first write meets
        /// it again. The default does nothing.
        fn prepare(&self) -> Result<(), TelemetryError> { Ok(()) }
    }

    /// A short description for `telemetry status` (a file path, an endpoint); never a
    /// secret such as an API key.
    fn describe(&self) -> String {
        let name = std::any::type_name::<Self>();
        name.rsplit("::").next().unwrap_or(name).to_owned()
    }

    boxed_async! {
        /// Delivers one period's report (report mode, see [`crate::report`]): called once
        /// per complete report, by the thread that uploads, only at level `on`. The
        /// default refuses, for a sink that takes events only; a sink that overrides it
        /// says so in [`takes_reports`](Self::takes_reports).
        fn emit_report(&self, report: &Report) -> Result<(), TelemetryError> {
            let _ = report;
            Err(TelemetryError::Config(format!(
                "{} does not take reports",
                self.describe()
            )))
        }
    }

    /// Whether this sink takes reports ([`emit_report`](Self::emit_report)). A
    /// context in report mode needs at least one that does, unless it never uploads.
    fn takes_reports(&self) -> bool {
        false
    }

    /// Whether this sink keeps events on this machine (a file, memory, stderr). Sinks
    /// that are not local are removed in local-only mode (`<TOOL>_TELEMETRY_LOCAL=1`).
    /// The default, `false`, is the safe answer for a sink that might transmit.
    fn is_local(&self) -> bool {
        false
    }
}

impl<S: TelemetrySink + ?Sized> TelemetrySink for Arc<S> {
    boxed_async! {
        fn emit(&self, event: &Event) -> Result<(), TelemetryError> { (**self).emit(event).await }
    }
    boxed_async! {
        fn emit_batch(&self, events: &[Event]) -> Result<(), TelemetryError> {
            (**self).emit_batch(events).await
        }
    }
    boxed_async! {
        fn flush(&self) -> Result<(), TelemetryError> { (**self).flush().await }
    }
    boxed_async! {
        fn prepare(&self) -> Result<(), TelemetryError> { (**self).prepare().await }
    }
    boxed_async! {
        fn emit_report(&self, report: &Report) -> Result<(), TelemetryError> {
            (**self).emit_report(report).await
        }
    }
    fn takes_reports(&self) -> bool {
        (**self).takes_reports()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn is_local(&self) -> bool {
        (**self).is_local()
    }
}
