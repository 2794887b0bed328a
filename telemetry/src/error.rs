//! `TelemetryError`: every error the library reports, each with a stable code.
//!
//! Telemetry never turns a tool's success into a failure: errors on the recording path
//! are counted and logged at `debug`, and surface only where the caller asked for them
//! (`flush`, builder, `telemetry` subcommand).

use std::path::PathBuf;
use std::time::Duration;

/// An error from the telemetry library.
///
/// The diagnostic codes (`telemetry::io`, `telemetry::serde`, ...) are stable.
///
/// ```
/// use miette::Diagnostic;
///
/// let err = telemetry::TelemetryContext::builder().build().unwrap_err();
/// assert_eq!(err.code().unwrap().to_string(), "telemetry::config");
/// ```
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum TelemetryError {
    /// Reading or writing a file failed.
    #[error("telemetry could not {action} {}", path.display())]
    #[diagnostic(
        code(telemetry::io),
        help("check that the directory exists and is writable, and that the disk is not full")
    )]
    Io {
        /// What was being done (`write events to`, `create directory`, ...).
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// An event or a file could not be (de)serialised.
    #[error("telemetry could not serialise or parse {what}")]
    #[diagnostic(code(telemetry::serde))]
    Serde {
        /// What was being (de)serialised.
        what: &'static str,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },

    /// The context was configured wrongly (a missing or invalid builder setting).
    #[error("invalid telemetry configuration: {0}")]
    #[diagnostic(
        code(telemetry::config),
        help("see `TelemetryContext::builder()` for the required settings")
    )]
    Config(String),

    /// A file or directory failed the trust rules (a symbolic link, someone else's,
    /// writable by group or others): it was neither read nor replaced.
    ///
    /// ```
    /// let err = telemetry::TelemetryError::Untrusted {
    ///     path: "/home/me/.config/mytool/telemetry.json".into(),
    ///     reason: "is writable by group or others (mode 666)".into(),
    /// };
    /// assert!(err.to_string().contains("telemetry.json"));
    /// assert!(err.to_string().contains("mode 666"));
    /// ```
    #[error("telemetry refused {}: it {reason}", path.display())]
    #[diagnostic(
        code(telemetry::untrusted_file),
        help(
            "telemetry only uses files and directories owned by you and writable by no one else, never through a symbolic link; fix the ownership or permissions (`chown`, `chmod go-w`) or remove it"
        )
    )]
    Untrusted {
        /// The file or directory refused.
        path: PathBuf,
        /// Why.
        reason: String,
    },

    /// A file telemetry keeps (the config file, the local key, the install id) holds
    /// something it cannot read. Where the user's command asked to write it, the file
    /// is left as it is.
    ///
    /// ```
    /// let err = telemetry::TelemetryError::CorruptFile {
    ///     path: "/home/me/.config/mytool/telemetry.json".into(),
    ///     reason: "expected value at line 1 column 1".into(),
    /// };
    /// assert!(err.to_string().contains("telemetry.json"));
    /// ```
    #[error("telemetry could not read {}: {reason}", path.display())]
    #[diagnostic(
        code(telemetry::corrupt_file),
        help(
            "remove the file: it is made again when needed (the config file by `telemetry enable` or `disable`)"
        )
    )]
    CorruptFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// No config dir is known (no home directory), so a choice cannot be saved.
    ///
    /// ```
    /// let err = telemetry::TelemetryError::NoConfigDir { variable: "MYTOOL_CONFIG_DIR".into() };
    /// assert!(err.to_string().contains("MYTOOL_CONFIG_DIR"));
    /// ```
    #[error("no config directory is known: set {variable}")]
    #[diagnostic(code(telemetry::no_config_dir))]
    NoConfigDir {
        /// The variable that names one.
        variable: String,
    },

    /// The operating system gave no randomness (for the local key or the install id).
    ///
    /// ```
    /// let err = telemetry::TelemetryError::NoRandomness { purpose: "the local key", message: "unavailable".into() };
    /// assert!(err.to_string().contains("local key"));
    /// ```
    #[error("no randomness for {purpose}: {message}")]
    #[diagnostic(code(telemetry::no_randomness))]
    NoRandomness {
        /// What it was for.
        purpose: &'static str,
        /// The operating system's error.
        message: String,
    },

    /// `reset` could not complete several of its steps (each one's error was reported
    /// as it happened); the other steps were done.
    ///
    /// ```
    /// let err = telemetry::TelemetryError::ResetIncomplete { failed: vec!["delete the local key".into(), "save the decision".into()] };
    /// assert!(err.to_string().contains("2 reset steps failed"));
    /// ```
    #[error("{} reset steps failed: {}", failed.len(), failed.join(", "))]
    #[diagnostic(
        code(telemetry::reset_incomplete),
        help("the local reset completed as far as it could; run it again once the cause is fixed")
    )]
    ResetIncomplete {
        /// The steps that failed.
        failed: Vec<String>,
    },

    /// A server asked for no requests until a later time (`Retry-After`): the batch was
    /// not sent and waits in the spool.
    ///
    /// ```
    /// let until = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
    /// let err = telemetry::TelemetryError::Paused { sink: "http https://t.example.com".into(), until };
    /// assert!(err.is_retryable());
    /// ```
    #[error("not sent to {sink}: the server asked for no request for another {} s (Retry-After); the batch waits in the spool", until.duration_since(std::time::SystemTime::now()).unwrap_or_default().as_secs_f64().ceil())]
    #[diagnostic(code(telemetry::paused))]
    Paused {
        /// The sink.
        sink: String,
        /// When requests may resume.
        until: std::time::SystemTime,
    },

    /// A sink failed to deliver events.
    #[error("telemetry sink `{sink}` failed: {message}")]
    #[diagnostic(code(telemetry::sink))]
    Sink {
        /// The sink that failed.
        sink: String,
        /// What went wrong (never event content).
        message: String,
    },

    /// A sink panicked. The batch is dropped and counted, not retried: a bug in a sink
    /// would only panic again.
    #[error("telemetry sink panicked; its batch was dropped")]
    #[diagnostic(
        code(telemetry::sink_panic),
        help("a `TelemetrySink` must report failures as errors, not panic")
    )]
    SinkPanicked,

    /// The bounded queue was full; the event was dropped and counted.
    #[error("telemetry queue is full (capacity {capacity}); the event was dropped")]
    #[diagnostic(
        code(telemetry::queue_full),
        help("raise `queue_capacity`, or record fewer events")
    )]
    QueueFull {
        /// The queue's capacity.
        capacity: usize,
    },

    /// A flush did not finish before its deadline.
    #[error("telemetry flush did not finish within {deadline:?}")]
    #[diagnostic(code(telemetry::timeout))]
    Timeout {
        /// The deadline that passed.
        deadline: Duration,
    },

    /// The delivery worker is gone (it could not start, or it stopped).
    #[error("telemetry delivery worker is not running: {0}")]
    #[diagnostic(code(telemetry::worker))]
    Worker(String),

    /// A network sink's request failed: no connection, a timeout, or an HTTP status
    /// other than 2xx. [`is_retryable`](Self::is_retryable) tells whether sending the
    /// same batch again later can succeed (connect errors, timeouts, 408, 429, 5xx) or
    /// never will (any other status: the batch is dropped and counted).
    #[error("telemetry could not deliver to {endpoint}: {message}")]
    #[diagnostic(
        code(telemetry::http),
        help(
            "undelivered events stay in the spool and are sent by a later run, unless the server refused them"
        )
    )]
    Http {
        /// The endpoint, without query string or credentials.
        endpoint: String,
        /// The HTTP status, if a response arrived.
        status: Option<u16>,
        /// What went wrong (never event content, never a header value).
        message: String,
        /// Whether a later attempt can succeed.
        retryable: bool,
        /// How long the server asked the client to wait before trying again (its
        /// `Retry-After` header on a retryable status), if it said.
        retry_after: Option<Duration>,
    },
}

impl TelemetryError {
    /// Whether delivering the same events again later can succeed. `false` for a
    /// refusal that will never change (an HTTP 4xx other than 408/429, a
    /// serialisation or configuration error); `true` for everything transient
    /// (connect errors, timeouts, 429, 5xx, I/O errors, a custom sink's failure).
    ///
    /// ```
    /// let err = telemetry::TelemetryError::Timeout { deadline: std::time::Duration::from_millis(5) };
    /// assert!(err.is_retryable());
    /// let err = telemetry::TelemetryError::Config("bad".into());
    /// assert!(!err.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Http { retryable, .. } => *retryable,
            Self::Serde { .. }
            | Self::Config(_)
            | Self::CorruptFile { .. }
            | Self::NoConfigDir { .. }
            | Self::NoRandomness { .. }
            | Self::ResetIncomplete { .. }
            | Self::Untrusted { .. }
            | Self::QueueFull { .. }
            | Self::SinkPanicked => false,
            Self::Io { .. }
            | Self::Sink { .. }
            | Self::Paused { .. }
            | Self::Timeout { .. }
            | Self::Worker(_) => true,
        }
    }

    /// How long the server asked to wait before the next attempt (an HTTP
    /// `Retry-After`), if it did. The delivery honours it: no batch goes to that
    /// endpoint before then, from this process or (through the spool) any other run
    /// of the tool.
    ///
    /// ```
    /// let err = telemetry::TelemetryError::Http {
    ///     endpoint: "https://telemetry.example.com/v1/events".into(),
    ///     status: Some(429),
    ///     message: "the server answered 429 Too Many Requests".into(),
    ///     retryable: true,
    ///     retry_after: Some(std::time::Duration::from_secs(30)),
    /// };
    /// assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(30)));
    /// assert_eq!(telemetry::TelemetryError::Config("bad".into()).retry_after(), None);
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn sink(sink: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Self::Sink {
            sink: sink.into(),
            message: message.to_string(),
        }
    }
}
