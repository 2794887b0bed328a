use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::{TelemetrySink, boxed_async, write_json_lines};
use crate::error::TelemetryError;
use crate::event::Event;
use crate::util::fs::{self as fsutil, DirLink};

/// Appends events as JSON lines to a local file (mode 0600), creating missing parent
/// directories (0700).
///
/// On Unix the file is opened without following a symbolic link and checked on the
/// opened handle: a link, a file that is not regular or not the user's is refused (the
/// batch fails, counted, and nothing is written anywhere else); an existing log with
/// wider permissions is tightened to 0600. Its directory must be owned by the user and
/// writable by no one else, and so must every directory above it (root may own those;
/// a sticky one such as `/tmp` may be writable by all). See the README's "Where files
/// live".
///
/// A batch is serialised first and then written with a single `write_all` while an
/// exclusive advisory lock (`flock`) is held, on a file opened in append mode: threads
/// and separate processes writing one file never interleave or tear lines.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use telemetry::Event;
/// use telemetry::sink::{FileSink, TelemetrySink};
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
    /// Whether the file's directory may itself be a symbolic link (not for the local
    /// log in the data dir, which the library creates).
    link: DirLink,
    /// The directory, resolved and checked once (its whole chain is the user's or
    /// root's and writable by no one else, so it stays valid).
    checked_dir: Arc<OnceLock<PathBuf>>,
}

impl FileSink {
    /// A sink appending to `path`. Nothing is touched until the first event.
    ///
    /// ```
    /// let sink = telemetry::sink::FileSink::new("/tmp/events.jsonl");
    /// assert_eq!(sink.path(), std::path::Path::new("/tmp/events.jsonl"));
    /// ```
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            link: DirLink::Allowed,
            checked_dir: Arc::default(),
        }
    }

    /// The local log in the context's data dir: that directory must not be a link.
    pub(crate) fn local_log(path: impl Into<PathBuf>) -> Self {
        Self {
            link: DirLink::Refused,
            ..Self::new(path)
        }
    }

    /// The file events are appended to.
    ///
    /// ```
    /// assert!(telemetry::sink::FileSink::new("e.jsonl").path().ends_with("e.jsonl"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The log's directory, created if missing and checked under the trust rules
    /// once per sink (then reused).
    fn dir(&self) -> Result<&Path, TelemetryError> {
        if let Some(dir) = self.checked_dir.get() {
            return Ok(dir);
        }
        let parent = self.path.parent().unwrap_or(Path::new(""));
        let real = fsutil::prepare_dir_for(&self.path, parent, self.link)?;
        Ok(self.checked_dir.get_or_init(|| real))
    }

    fn open(&self) -> Result<std::fs::File, TelemetryError> {
        let name = self
            .path
            .file_name()
            .ok_or_else(|| TelemetryError::Untrusted {
                path: self.path.clone(),
                reason: "does not name a file".into(),
            })?;
        fsutil::open_append_in(self.dir()?, name, &self.path)
    }

    fn append(&self, bytes: &[u8]) -> Result<(), TelemetryError> {
        let file = self.open()?;
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

impl TelemetrySink for FileSink {
    boxed_async! {
        fn emit(&self, event: &Event) -> Result<(), TelemetryError> {
            self.emit_batch(std::slice::from_ref(event)).await
        }
    }

    boxed_async! {
        fn emit_batch(&self, events: &[Event]) -> Result<(), TelemetryError> {
            if events.is_empty() {
                return Ok(());
            }
            let mut buf = Vec::with_capacity(events.len() * 384);
            write_json_lines(&mut buf, events);
            self.append(&buf)
        }
    }

    boxed_async! {
        /// Checks (and creates) the log's directory, ahead of the first write.
        fn prepare(&self) -> Result<(), TelemetryError> { self.dir().map(drop) }
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }

    fn is_local(&self) -> bool {
        true
    }
}
