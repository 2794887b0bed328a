use std::io::Write;
use std::sync::{Mutex, PoisonError};

use super::{TelemetrySink, boxed_async, write_json_lines};
use crate::error::TelemetryError;
use crate::event::Event;

/// Writes each event as one JSON line to any writer: standard error by default (the
/// show mode). Never standard output, unless a caller passes it explicitly.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use telemetry::Event;
/// use telemetry::sink::{TelemetrySink, WriterSink};
/// let sink = WriterSink::stderr();
/// sink.emit(&Event::new("cmd.build", "t", "1", "m")).await.unwrap();
/// # });
/// ```
pub struct WriterSink {
    writer: Mutex<Box<dyn Write + Send>>,
    label: &'static str,
}

impl WriterSink {
    /// A sink writing to `writer`.
    ///
    /// ```
    /// let sink = telemetry::sink::WriterSink::new(std::io::sink());
    /// # drop(sink);
    /// ```
    pub fn new(writer: impl Write + Send + 'static) -> Self {
        Self {
            writer: Mutex::new(Box::new(writer)),
            label: "writer",
        }
    }

    /// A sink writing to standard error.
    ///
    /// ```
    /// let sink = telemetry::sink::WriterSink::stderr();
    /// # drop(sink);
    /// ```
    pub fn stderr() -> Self {
        Self {
            writer: Mutex::new(Box::new(std::io::stderr())),
            label: "stderr",
        }
    }
}

impl WriterSink {
    /// Writes `buf` whole and flushes, one caller at a time.
    fn write_out(&self, buf: &[u8]) -> Result<(), TelemetryError> {
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        writer
            .write_all(buf)
            .and_then(|()| writer.flush())
            .map_err(|e| TelemetryError::sink(self.label, e))
    }
}

impl Default for WriterSink {
    fn default() -> Self {
        Self::stderr()
    }
}

impl std::fmt::Debug for WriterSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterSink")
            .field("to", &self.label)
            .finish()
    }
}

impl TelemetrySink for WriterSink {
    boxed_async! {
        fn emit(&self, event: &Event) -> Result<(), TelemetryError> {
            self.emit_batch(std::slice::from_ref(event)).await
        }
    }

    boxed_async! {
        fn emit_batch(&self, events: &[Event]) -> Result<(), TelemetryError> {
            let mut buf = Vec::new();
            write_json_lines(&mut buf, events);
            self.write_out(&buf)
        }
    }

    boxed_async! {
        #[cfg(feature = "reports")]
        /// The report's JSON on one line (what `HttpSink` sends).
        fn emit_report(&self, report: &crate::report::Report) -> Result<(), TelemetryError> {
            let mut buf = report.to_json();
            buf.push(b'\n');
            self.write_out(&buf)
        }
    }

    #[cfg(feature = "reports")]
    fn takes_reports(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        self.label.to_owned()
    }

    fn is_local(&self) -> bool {
        true
    }
}
