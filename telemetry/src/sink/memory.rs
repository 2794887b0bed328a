use std::sync::{Arc, Mutex, PoisonError};

use super::{BoxFuture, TelemetrySink};
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
    fn emit<'life0, 'life1, 'async_trait>(
        &'life0 self,
        event: &'life1 Event,
    ) -> BoxFuture<'async_trait, Result<(), TelemetryError>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move { self.emit_batch(std::slice::from_ref(event)).await })
    }

    fn emit_batch<'life0, 'life1, 'async_trait>(
        &'life0 self,
        events: &'life1 [Event],
    ) -> BoxFuture<'async_trait, Result<(), TelemetryError>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            self.events
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(events);
            Ok(())
        })
    }

    #[cfg(feature = "reports")]
    fn emit_report<'life0, 'life1, 'async_trait>(
        &'life0 self,
        report: &'life1 crate::report::Report,
    ) -> BoxFuture<'async_trait, Result<(), TelemetryError>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            self.reports
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(report.clone());
            Ok(())
        })
    }

    #[cfg(feature = "reports")]
    fn takes_reports(&self) -> bool {
        true
    }

    fn is_local(&self) -> bool {
        true
    }
}
