use std::sync::Arc;

use super::{BoxFuture, TelemetrySink, boxed_async};
use crate::error::TelemetryError;
use crate::event::Event;

/// Sends every event to several sinks. A failing sink does not stop the others; the
/// failures are reported together.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use telemetry::Event;
/// use telemetry::sink::{MemorySink, TeeSink, TelemetrySink};
/// let (a, b) = (MemorySink::new(), MemorySink::new());
/// let tee = TeeSink::new().with(a.clone()).with(b.clone());
/// tee.emit(&Event::new("x", "t", "1", "m")).await.unwrap();
/// assert_eq!((a.snapshot().len(), b.snapshot().len()), (1, 1));
/// # });
/// ```
#[derive(Clone, Default)]
pub struct TeeSink {
    sinks: Vec<Arc<dyn TelemetrySink>>,
}

impl TeeSink {
    /// A tee with no sinks yet.
    ///
    /// ```
    /// let tee = telemetry::sink::TeeSink::new();
    /// assert!(tee.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a sink.
    ///
    /// ```
    /// let tee = telemetry::sink::TeeSink::new().with(telemetry::sink::NoopSink);
    /// assert_eq!(tee.len(), 1);
    /// ```
    #[must_use]
    pub fn with(mut self, sink: impl TelemetrySink) -> Self {
        self.sinks.push(Arc::new(sink));
        self
    }

    /// One sink for several: `None` for none, the sink itself for one, a tee for more.
    pub(crate) fn combine(
        mut sinks: Vec<Arc<dyn TelemetrySink>>,
    ) -> Option<Arc<dyn TelemetrySink>> {
        match sinks.len() {
            0 => None,
            1 => sinks.pop(),
            _ => Some(Arc::new(
                sinks.into_iter().fold(Self::new(), Self::with_shared),
            )),
        }
    }

    /// Adds a shared sink.
    ///
    /// ```
    /// let shared: std::sync::Arc<dyn telemetry::sink::TelemetrySink> = std::sync::Arc::new(telemetry::sink::NoopSink);
    /// let tee = telemetry::sink::TeeSink::new().with_shared(shared);
    /// assert_eq!(tee.len(), 1);
    /// ```
    #[must_use]
    pub fn with_shared(mut self, sink: Arc<dyn TelemetrySink>) -> Self {
        self.sinks.push(sink);
        self
    }

    /// How many sinks this tee feeds.
    ///
    /// ```
    /// assert_eq!(telemetry::sink::TeeSink::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.sinks.len()
    }

    /// Whether this tee feeds no sink.
    ///
    /// ```
    /// assert!(telemetry::sink::TeeSink::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.sinks.is_empty()
    }

    /// Calls every sink in turn, then reports the failures together. One future for
    /// `emit_batch`, `flush` and `prepare` (the call a `&dyn Fn`), not one each.
    async fn each<'a>(
        &'a self,
        call: &(dyn Fn(&'a dyn TelemetrySink) -> BoxFuture<'a, Result<(), TelemetryError>> + Sync),
    ) -> Result<(), TelemetryError> {
        let mut results = Vec::with_capacity(self.sinks.len());
        for sink in &self.sinks {
            results.push(call(&**sink).await);
        }
        self.combine_results(results)
    }

    /// One sink's failure is reported as that sink's own error (its status,
    /// retryability and `Retry-After` intact); several are joined into one message,
    /// keeping the longest `Retry-After` any of them carries.
    ///
    /// One pass over the results, not iterator chains collected into vectors of
    /// `(String, TelemetryError)` and joined: the same errors, in ~3 KB less code.
    fn combine_results(
        &self,
        results: Vec<Result<(), TelemetryError>>,
    ) -> Result<(), TelemetryError> {
        let mut failures = 0_usize;
        let mut joined = String::new();
        // The failure with the longest `Retry-After` (the last of equals), and any
        // other: together they hold the only failure when there is one.
        let mut paused: Option<TelemetryError> = None;
        let mut other = None;
        for (result, sink) in results.into_iter().zip(&self.sinks) {
            let Err(e) = result else { continue };
            if failures > 0 {
                joined.push_str("; ");
            }
            failures += 1;
            joined.push_str(&format!("{}: {e}", sink.describe()));
            if e.retry_after().is_some()
                && e.retry_after() >= paused.as_ref().and_then(TelemetryError::retry_after)
            {
                paused = Some(e);
            } else {
                other = Some(e);
            }
        }
        if failures <= 1 {
            return paused.or(other).map_or(Ok(()), Err);
        }
        Err(match paused {
            Some(TelemetryError::Http {
                endpoint,
                status,
                retry_after,
                ..
            }) => TelemetryError::Http {
                endpoint,
                status,
                message: joined,
                retryable: true,
                retry_after,
            },
            _ => TelemetryError::sink("tee", joined),
        })
    }
}

impl std::fmt::Debug for TeeSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.sinks.iter().map(|s| s.describe()))
            .finish()
    }
}

impl TelemetrySink for TeeSink {
    boxed_async! {
        fn emit(&self, event: &Event) -> Result<(), TelemetryError> {
            self.emit_batch(std::slice::from_ref(event)).await
        }
    }

    boxed_async! {
        fn emit_batch(&self, events: &[Event]) -> Result<(), TelemetryError> {
            self.each(&|sink| sink.emit_batch(events)).await
        }
    }

    boxed_async! {
        fn flush(&self) -> Result<(), TelemetryError> {
            self.each(&|sink| sink.flush()).await
        }
    }

    boxed_async! {
        fn prepare(&self) -> Result<(), TelemetryError> {
            self.each(&|sink| sink.prepare()).await
        }
    }

    boxed_async! {
        #[cfg(feature = "reports")]
        /// Every sink that takes reports receives it; the others are skipped.
        fn emit_report(&self, report: &crate::report::Report) -> Result<(), TelemetryError> {
            let mut results = Vec::with_capacity(self.sinks.len());
            for sink in &self.sinks {
                results.push(if sink.takes_reports() {
                    sink.emit_report(report).await
                } else {
                    Ok(())
                });
            }
            self.combine_results(results)
        }
    }

    #[cfg(feature = "reports")]
    fn takes_reports(&self) -> bool {
        self.sinks.iter().any(|s| s.takes_reports())
    }

    fn is_local(&self) -> bool {
        self.sinks.iter().all(|s| s.is_local())
    }

    fn describe(&self) -> String {
        let mut text = String::new();
        for (i, sink) in self.sinks.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str(&sink.describe());
        }
        text
    }
}
