use super::{BoxFuture, TelemetrySink};
use crate::error::TelemetryError;
use crate::event::Event;

/// Accepts every event and does nothing with it.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use telemetry::Event;
/// use telemetry::sink::{NoopSink, TelemetrySink};
/// NoopSink.emit(&Event::new("a", "t", "1", "m")).await.unwrap();
/// # });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopSink;

impl TelemetrySink for NoopSink {
    fn emit<'life0, 'life1, 'async_trait>(
        &'life0 self,
        _event: &'life1 Event,
    ) -> BoxFuture<'async_trait, Result<(), TelemetryError>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move { Ok(()) })
    }
    fn emit_batch<'life0, 'life1, 'async_trait>(
        &'life0 self,
        _events: &'life1 [Event],
    ) -> BoxFuture<'async_trait, Result<(), TelemetryError>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move { Ok(()) })
    }

    fn is_local(&self) -> bool {
        true
    }
}
