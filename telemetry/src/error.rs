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
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// Reading or writing a file failed.
    #[error("telemetry could not {action} {}", path.display())]
    Io {
        /// What was being done (`write events to`, `create directory`, ...).
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// An event, a report or a file could not be encoded or parsed (the name and the
    /// code `telemetry::serde` are those of the first versions, which used `serde`).
    #[error("telemetry could not encode or parse {what}: {reason}")]
    Serde {
        /// What was being encoded or parsed.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },

    /// The context was configured wrongly (a missing or invalid builder setting).
    #[error("invalid telemetry configuration: {0}")]
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
    #[error("not sent to {sink}: the server asked for no request for another {} s (Retry-After); the batch waits in the spool", seconds_until(*until))]
    Paused {
        /// The sink.
        sink: String,
        /// When requests may resume.
        until: std::time::SystemTime,
    },

    /// A sink failed to deliver events.
    #[error("telemetry sink `{sink}` failed: {message}")]
    Sink {
        /// The sink that failed.
        sink: String,
        /// What went wrong (never event content).
        message: String,
    },

    /// A sink panicked. The batch is dropped and counted, not retried: a bug in a sink
    /// would only panic again.
    #[error("telemetry sink panicked; its batch was dropped")]
    SinkPanicked,

    /// The bounded queue was full; the event was dropped and counted.
    #[error("telemetry queue is full (capacity {capacity}); the event was dropped")]
    QueueFull {
        /// The queue's capacity.
        capacity: usize,
    },

    /// A flush did not finish before its deadline.
    ///
    /// ```
    /// let err = telemetry::TelemetryError::Timeout { deadline: std::time::Duration::from_millis(1500) };
    /// assert_eq!(err.to_string(), "telemetry flush did not finish within 1500 ms");
    /// ```
    // In milliseconds rather than `{:?}`: `Duration`'s `Debug` would link its own
    // decimal formatter into every tool for this one message. As a `u64` (saturating,
    // past 500 million years), not `as_millis`'s `u128`: `u128`'s formatter is 1.4 KB.
    #[error("telemetry flush did not finish within {} ms", u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX))]
    Timeout {
        /// The deadline that passed.
        deadline: Duration,
    },

    /// The delivery worker is gone (it could not start, or it stopped).
    #[error("telemetry delivery worker is not running: {0}")]
    Worker(String),

    /// A network sink's request failed: no connection, a timeout, or an HTTP status
    /// other than 2xx. [`is_retryable`](Self::is_retryable) tells whether sending the
    /// same batch again later can succeed (connect errors, timeouts, 408, 429, 5xx) or
    /// never will (any other status: the batch is dropped and counted).
    #[error("telemetry could not deliver to {endpoint}: {message}")]
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

/// The stable code and the help of each error: one table, written out by hand rather
/// than derived, so that the default build compiles no second proc-macro stack
/// (`miette-derive` and its `syn`) for two strings per variant.
impl TelemetryError {
    fn code_and_help(&self) -> (&'static str, Option<&'static str>) {
        match self {
            Self::Io { .. } => (
                "telemetry::io",
                Some(
                    "check that the directory exists and is writable, and that the disk is not full",
                ),
            ),
            Self::Serde { .. } => ("telemetry::serde", None),
            Self::Config(_) => (
                "telemetry::config",
                Some("see `TelemetryContext::builder()` for the required settings"),
            ),
            Self::Untrusted { .. } => (
                "telemetry::untrusted_file",
                Some(
                    "telemetry only uses files and directories owned by you and writable by no one else, never through a symbolic link; fix the ownership or permissions (`chown`, `chmod go-w`) or remove it",
                ),
            ),
            Self::CorruptFile { .. } => (
                "telemetry::corrupt_file",
                Some(
                    "remove the file: it is made again when needed (the config file by `telemetry enable` or `disable`)",
                ),
            ),
            Self::NoConfigDir { .. } => ("telemetry::no_config_dir", None),
            Self::NoRandomness { .. } => ("telemetry::no_randomness", None),
            Self::ResetIncomplete { .. } => (
                "telemetry::reset_incomplete",
                Some(
                    "the local reset completed as far as it could; run it again once the cause is fixed",
                ),
            ),
            Self::Paused { .. } => ("telemetry::paused", None),
            Self::Sink { .. } => ("telemetry::sink", None),
            Self::SinkPanicked => (
                "telemetry::sink_panic",
                Some("a `TelemetrySink` must report failures as errors, not panic"),
            ),
            Self::QueueFull { .. } => (
                "telemetry::queue_full",
                Some("raise `queue_capacity`, or record fewer events"),
            ),
            Self::Timeout { .. } => ("telemetry::timeout", None),
            Self::Worker(_) => ("telemetry::worker", None),
            Self::Http { .. } => (
                "telemetry::http",
                Some(
                    "undelivered events stay in the spool and are sent by a later run, unless the server refused them",
                ),
            ),
        }
    }
}

impl miette::Diagnostic for TelemetryError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.code_and_help().0))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        let help = self.code_and_help().1?;
        Some(Box::new(help))
    }
}

/// Whole seconds from now to `until`, rounded up (0 once past).
fn seconds_until(until: std::time::SystemTime) -> u64 {
    let left = until
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    left.as_secs() + u64::from(left.subsec_nanos() > 0)
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

#[cfg(test)]
mod tests {
    use super::*;
    use miette::Diagnostic;

    /// The codes are a stable interface (a tool may match on them): each variant keeps
    /// its own, and the help texts stay attached to theirs.
    #[test]
    fn every_variant_keeps_its_stable_code() {
        let path = PathBuf::from("/x");
        let io = || std::io::Error::other("x");
        let errors = [
            (
                TelemetryError::io("read", &path, io()),
                "telemetry::io",
                true,
            ),
            (
                TelemetryError::Serde {
                    what: "x",
                    reason: "y".into(),
                },
                "telemetry::serde",
                false,
            ),
            (
                TelemetryError::Config("x".into()),
                "telemetry::config",
                true,
            ),
            (
                TelemetryError::Untrusted {
                    path: path.clone(),
                    reason: "x".into(),
                },
                "telemetry::untrusted_file",
                true,
            ),
            (
                TelemetryError::CorruptFile {
                    path: path.clone(),
                    reason: "x".into(),
                },
                "telemetry::corrupt_file",
                true,
            ),
            (
                TelemetryError::NoConfigDir {
                    variable: "X".into(),
                },
                "telemetry::no_config_dir",
                false,
            ),
            (
                TelemetryError::NoRandomness {
                    purpose: "x",
                    message: "x".into(),
                },
                "telemetry::no_randomness",
                false,
            ),
            (
                TelemetryError::ResetIncomplete { failed: vec![] },
                "telemetry::reset_incomplete",
                true,
            ),
            (
                TelemetryError::Paused {
                    sink: "x".into(),
                    until: std::time::SystemTime::now(),
                },
                "telemetry::paused",
                false,
            ),
            (TelemetryError::sink("x", "x"), "telemetry::sink", false),
            (TelemetryError::SinkPanicked, "telemetry::sink_panic", true),
            (
                TelemetryError::QueueFull { capacity: 1 },
                "telemetry::queue_full",
                true,
            ),
            (
                TelemetryError::Timeout {
                    deadline: Duration::ZERO,
                },
                "telemetry::timeout",
                false,
            ),
            (
                TelemetryError::Worker("x".into()),
                "telemetry::worker",
                false,
            ),
            (
                TelemetryError::Http {
                    endpoint: "x".into(),
                    status: None,
                    message: "x".into(),
                    retryable: true,
                    retry_after: None,
                },
                "telemetry::http",
                true,
            ),
        ];
        for (error, code, has_help) in &errors {
            let shown = error.code().map(|c| c.to_string());
            assert_eq!(shown.as_deref(), Some(*code), "{error:?}");
            assert_eq!(error.help().is_some(), *has_help, "{error:?}");
        }
    }
}
