use std::sync::{Arc, Mutex, PoisonError};

use super::{TelemetrySink, boxed_async};
use crate::error::TelemetryError;
use crate::event::Event;

/// Keeps events in memory; clones share one buffer. Meant for tests.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use telemetry::Event;
/// use telemetry::sink::{MemorySink, TelemetrySink};
/// let sink = MemorySink::new();
/// sink.emit(&Event::new("cmd.build", "t", "1", "m")).await.unwrap();
/// assert_eq!(sink.snapshot()[0].name(), "cmd.build");
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    events: Arc<Mutex<Vec<Event>>>,
    #[cfg(feature = "reports")]
    reports: Arc<Mutex<Vec<crate::report::Report>>>,
}

impl MemorySink {
    /// An empty sink.
    ///
    /// ```
    /// assert!(telemetry::sink::MemorySink::new().snapshot().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of every event received so far, in arrival order.
    ///
    /// ```
    /// let sink = telemetry::sink::MemorySink::new();
    /// assert_eq!(sink.snapshot().len(), 0);
    /// ```
    pub fn snapshot(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The reports received so far (report mode), in order.
    ///
    /// ```
    /// assert!(telemetry::sink::MemorySink::new().reports().is_empty());
    /// ```
    #[cfg(feature = "reports")]
    pub fn reports(&self) -> Vec<crate::report::Report> {
        self.reports
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Forgets every event received so far.
    ///
    /// ```
    /// telemetry::sink::MemorySink::new().clear();
    /// ```
    pub fn clear(&self) {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

impl TelemetrySink for MemorySink {
    boxed_async! {
        fn emit(&self, event: &Event) -> Result<(), TelemetryError> {
            self.emit_batch(std::slice::from_ref(event)).await
        }
    }

    boxed_async! {
        fn emit_batch(&self, events: &[Event]) -> Result<(), TelemetryError> {
            self.events
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(events);
            Ok(())
        }
    }

    boxed_async! {
        #[cfg(feature = "reports")]
        fn emit_report(&self, report: &crate::report::Report) -> Result<(), TelemetryError> {
            self.reports
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(report.clone());
            Ok(())
        }
    }

    #[cfg(feature = "reports")]
    fn takes_reports(&self) -> bool {
        true
    }

    fn is_local(&self) -> bool {
        true
    }
}
