use async_trait::async_trait;

use super::TelemetrySink;
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

#[async_trait]
impl TelemetrySink for NoopSink {
    async fn emit(&self, _event: &Event) -> Result<(), TelemetryError> {
        Ok(())
    }
    async fn emit_batch(&self, _events: &[Event]) -> Result<(), TelemetryError> {
        Ok(())
    }

    fn is_local(&self) -> bool {
        true
    }
}
