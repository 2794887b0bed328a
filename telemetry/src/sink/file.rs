use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::{TelemetrySink, write_json_lines};
use crate::error::TelemetryError;
use crate::event::Event;
use crate::fsutil;

/// Appends events as JSON lines to a local file (mode 0600), creating missing parent
/// directories.
///
/// A batch is serialised first and then written with a single `write_all` while an
/// exclusive advisory lock (`flock`) is held, on a file opened in append mode: threads
/// and separate processes writing one file never interleave or tear lines.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use telemetry::{Event, FileSink, TelemetrySink};
/// let dir = tempfile::tempdir().unwrap();
/// let sink = FileSink::new(dir.path().join("logs/events.jsonl"));
/// sink.emit(&Event::new("cmd.build", "t", "1", "m")).await.unwrap();
/// let text = std::fs::read_to_string(sink.path()).unwrap();
/// assert_eq!(text.lines().count(), 1);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct FileSink {
    path: PathBuf,
}

impl FileSink {
    /// A sink appending to `path`. Nothing is touched until the first event.
    ///
    /// ```
    /// let sink = telemetry::FileSink::new("/tmp/events.jsonl");
    /// assert_eq!(sink.path(), std::path::Path::new("/tmp/events.jsonl"));
    /// ```
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file events are appended to.
    ///
    /// ```
    /// assert!(telemetry::FileSink::new("e.jsonl").path().ends_with("e.jsonl"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn append(&self, bytes: &[u8]) -> Result<(), TelemetryError> {
        if let Some(parent) = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty() && !p.is_dir())
        {
            fsutil::create_private_dir(parent)?;
        }
        let file = fsutil::private_options()
            .append(true)
            .create(true)
            .open(&self.path)
            .map_err(|e| TelemetryError::io("open", &self.path, e))?;
        file.lock()
            .map_err(|e| TelemetryError::io("lock", &self.path, e))?;
        let mut writer = &file;
        let written = writer.write_all(bytes);
        // Closing the file releases the lock as well; unlocking first keeps the
        // critical section as short as the write.
        let _ = file.unlock();
        written.map_err(|e| TelemetryError::io("write events to", &self.path, e))
    }
}

#[async_trait]
impl TelemetrySink for FileSink {
    async fn emit(&self, event: &Event) -> Result<(), TelemetryError> {
        self.emit_batch(std::slice::from_ref(event)).await
    }

    async fn emit_batch(&self, events: &[Event]) -> Result<(), TelemetryError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(events.len() * 384);
        write_json_lines(&mut buf, events)?;
        self.append(&buf)
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }

    fn is_local(&self) -> bool {
        true
    }
}
