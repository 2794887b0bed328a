use super::{TelemetrySink, boxed_async};
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
    boxed_async! {
        fn emit(&self, _event: &Event) -> Result<(), TelemetryError> { Ok(()) }
    }
    boxed_async! {
        fn emit_batch(&self, _events: &[Event]) -> Result<(), TelemetryError> { Ok(()) }
    }

    fn is_local(&self) -> bool {
        true
    }
}
