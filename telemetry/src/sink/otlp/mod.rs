//! `OtlpSink`: events as OpenTelemetry log records over OTLP/HTTP (`/v1/logs`), and
//! reports as one metrics export (`/v1/metrics`).
//!
//! `logs.rs` and `metrics.rs` map events and reports to OTLP messages; `wire/` holds
//! those messages and writes them as protobuf or OTLP/JSON.

use std::time::SystemTime;

use super::client::{ClientConfig, Transport};
use super::{TelemetrySink, boxed_async};
use crate::error::TelemetryError;
use crate::event::Event;
#[cfg(feature = "reports")]
use crate::report::Report;

mod logs;
#[cfg(feature = "reports")]
mod metrics;
mod wire;

/// The OTLP/HTTP path of the logs signal, appended to the endpoint.
const LOGS_PATH: &str = "v1/logs";
/// The OTLP/HTTP path of the metrics signal: the logs path's `v1/logs` replaced.
const METRICS_PATH: &str = "v1/metrics";

/// The body encoding of an [`OtlpSink`].
///
/// ```
/// assert_eq!(telemetry::sink::OtlpEncoding::default(), telemetry::sink::OtlpEncoding::Protobuf);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OtlpEncoding {
    /// Binary protobuf, `application/x-protobuf` (the OTLP default).
    #[default]
    Protobuf,
    /// The OTLP JSON mapping, `application/json`.
    Json,
}

/// Sends each batch as one OTLP/HTTP logs export (`POST <endpoint>/v1/logs`), in the
/// messages and field numbers of the official OpenTelemetry definitions. Feature `otlp`.
///
/// One resource per tool (`service.name` = tool name, `service.version` = tool
/// version), one instrumentation scope `telemetry`, one log record per event:
/// `event_name` and the body are the event's name, `time_unix_nano` its timestamp,
/// severity `INFO`, and the attributes carry every field of the event — `event_id`,
/// `tool`, `tool_version`, `machine_id`, `session_id`, `timestamp_utc`, `os`, `arch`,
/// `outcome`, `duration_ms` and `error_kind` when present — and each event attribute
/// as `attrs.<key>`.
///
/// Transport behaviour (https only unless allowed, timeouts, proxies, retry
/// classification, secret headers) is the same as [`HttpSink`](crate::sink)'s.
///
/// ```
/// let sink = telemetry::sink::OtlpSink::builder("https://otel.example.com:4318")
///     .api_key("authorization", "Bearer k-123")
///     .build()?;
/// assert_eq!(sink.endpoint(), "https://otel.example.com:4318/v1/logs");
/// # Ok::<(), telemetry::TelemetryError>(())
/// ```
///
/// # Reports
///
/// With feature `reports`, the sink takes reports
/// ([`takes_reports`](TelemetrySink::takes_reports) is `true`).
/// [`emit_report`](TelemetrySink::emit_report) sends one period's [`Report`] as ONE
/// OTLP/HTTP metrics export, `POST` to [`metrics_endpoint`](Self::metrics_endpoint)
/// (the logs URL with `/v1/logs` replaced by `/v1/metrics`), in the sink's
/// [`OtlpEncoding`], with the same headers, timeouts and answers as a batch:
///
/// - one resource per tool version in the report: `service.name` = tool,
///   `service.version` = version, `os.type` and `host.arch` = `os` and `arch` in OpenTelemetry's values (`darwin`, `amd64`, `arm64`, ...); scope
///   `telemetry` with this crate's version;
/// - a monotonic delta `Sum` named `telemetry.calls` (unit `{call}`) with one integer
///   point per row (its `count`), and a delta `Histogram` named `telemetry.duration`
///   (unit `ms`) with one point per row that has durations: count (the sum of the
///   buckets), sum, min, max, the bounds
///   [`REPORT_DURATION_BOUNDS_MS`](crate::REPORT_DURATION_BOUNDS_MS) and the row's
///   bucket counts;
/// - the attributes of each point: `event`, `outcome`, `error_kind` (when the row has
///   one), `attrs.<key>` per attribute (bool, int, double or string; an unsigned value
///   above `i64::MAX` as a string) and `_other = true` on the overflow row;
/// - every point spans the period: `start_time_unix_nano` is 00:00 UTC of
///   `period_start`, `time_unix_nano` 00:00 UTC of `period_end`.
///
/// A report without rows sends nothing. `docs/delivery.md` ("Reports over OTLP
/// metrics") has the table.
///
/// ```no_run
/// use telemetry::sink::{OtlpSink, TelemetrySink};
///
/// # async fn upload() -> Result<(), telemetry::TelemetryError> {
/// let sink = OtlpSink::builder("https://otel.example.com:4318").build()?;
/// assert!(sink.takes_reports());
/// assert_eq!(sink.metrics_endpoint(), "https://otel.example.com:4318/v1/metrics");
/// // What the library's uploader does once a period is over:
/// sink.emit_report(&telemetry::Report::example()).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct OtlpSink {
    transport: Transport,
    /// The same settings, to the metrics path (reports).
    metrics: Transport,
    encoding: OtlpEncoding,
}

/// Configures an [`OtlpSink`]; every mistake is reported by [`build`](Self::build).
///
/// ```
/// let b = telemetry::sink::OtlpSink::builder("https://otel.example.com:4318");
/// assert!(b.build().is_ok());
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct OtlpSinkBuilder {
    config: ClientConfig,
    encoding: OtlpEncoding,
}

impl OtlpSink {
    /// Starts configuring a sink for the collector at `endpoint` (its base URL, e.g.
    /// `https://collector:4318`; `/v1/logs` is appended unless the path already ends
    /// with it).
    ///
    /// ```
    /// let b = telemetry::sink::OtlpSink::builder("https://otel.example.com:4318/");
    /// assert_eq!(b.build()?.endpoint(), "https://otel.example.com:4318/v1/logs");
    /// # Ok::<(), telemetry::TelemetryError>(())
    /// ```
    pub fn builder(endpoint: &str) -> OtlpSinkBuilder {
        let mut config = ClientConfig::new(endpoint);
        config.map_path(|path| {
            if path.ends_with(LOGS_PATH) {
                path.to_owned()
            } else {
                format!("{}/{LOGS_PATH}", path.trim_end_matches('/'))
            }
        });
        OtlpSinkBuilder {
            config,
            encoding: OtlpEncoding::Protobuf,
        }
    }

    /// The logs URL, without credentials or query string.
    ///
    /// ```
    /// let sink = telemetry::sink::OtlpSink::builder("https://otel.example.com/v1/logs").build()?;
    /// assert_eq!(sink.endpoint(), "https://otel.example.com/v1/logs");
    /// # Ok::<(), telemetry::TelemetryError>(())
    /// ```
    pub fn endpoint(&self) -> &str {
        self.transport.endpoint()
    }

    /// The metrics URL that reports go to, without credentials or query string: the
    /// logs URL with its final `v1/logs` replaced by `v1/metrics`.
    ///
    /// ```
    /// let sink = telemetry::sink::OtlpSink::builder("https://otel.example.com:4318").build()?;
    /// assert_eq!(sink.metrics_endpoint(), "https://otel.example.com:4318/v1/metrics");
    /// let sink = telemetry::sink::OtlpSink::builder("https://o.example.com/otlp/v1/logs?t=1").build()?;
    /// assert_eq!(sink.metrics_endpoint(), "https://o.example.com/otlp/v1/metrics");
    /// # Ok::<(), telemetry::TelemetryError>(())
    /// ```
    pub fn metrics_endpoint(&self) -> &str {
        self.metrics.endpoint()
    }

    /// The body encoding.
    ///
    /// ```
    /// let sink = telemetry::sink::OtlpSink::builder("https://otel.example.com").build()?;
    /// assert_eq!(sink.encoding(), telemetry::sink::OtlpEncoding::Protobuf);
    /// # Ok::<(), telemetry::TelemetryError>(())
    /// ```
    pub fn encoding(&self) -> OtlpEncoding {
        self.encoding
    }
}

crate::sink::client::client_settings!(
    OtlpSinkBuilder,
    "telemetry::sink::OtlpSink::builder(\"https://o.example.com\")"
);

impl OtlpSinkBuilder {
    /// The body encoding (default protobuf).
    ///
    /// ```
    /// let b = telemetry::sink::OtlpSink::builder("https://o.example.com").encoding(telemetry::sink::OtlpEncoding::Json);
    /// # drop(b);
    /// ```
    pub fn encoding(mut self, encoding: OtlpEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Checks the settings and builds the sink (no network work happens here).
    ///
    /// ```
    /// assert!(telemetry::sink::OtlpSink::builder("http://o.example.com").build().is_err());
    /// ```
    pub fn build(self) -> Result<OtlpSink, TelemetryError> {
        let mut metrics = self.config.clone();
        // `builder` made the path end with `v1/logs`.
        metrics.map_path(|path| match path.strip_suffix(LOGS_PATH) {
            Some(base) => format!("{base}{METRICS_PATH}"),
            None => format!("{}/{METRICS_PATH}", path.trim_end_matches('/')),
        });
        Ok(OtlpSink {
            transport: self.config.build("OtlpSink")?,
            metrics: metrics.build("OtlpSink")?,
            encoding: self.encoding,
        })
    }
}

/// Now, in nanoseconds since the Unix epoch: a batch's observed time.
fn now_unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The request's body in `encoding`, with its content type. Infallible: every value
/// the messages hold has an encoding in both (a non-finite double is the JSON string
/// `"NaN"`, `"Infinity"` or `"-Infinity"`).
fn encode(encoding: OtlpEncoding, request: &impl wire::Message) -> (&'static str, Vec<u8>) {
    match encoding {
        OtlpEncoding::Protobuf => ("application/x-protobuf", wire::to_protobuf(request)),
        OtlpEncoding::Json => ("application/json", wire::to_json(request)),
    }
}

impl TelemetrySink for OtlpSink {
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
            // The messages borrow the events; only the body is kept across the request.
            let request = logs::export_request(events, now_unix_nanos());
            let (content_type, body) = encode(self.encoding, &request);
            drop(request);
            self.transport.post(content_type, body).await
        }
    }

    boxed_async! {
        #[cfg(feature = "reports")]
        /// One metrics export for the whole report, to the metrics path (see the type's
        /// documentation, "Reports"); nothing for a report without rows.
        fn emit_report(&self, report: &Report) -> Result<(), TelemetryError> {
            if report.rows.is_empty() {
                return Ok(());
            }
            let (content_type, body) = encode(self.encoding, &metrics::export_request(report)?);
            self.metrics.post(content_type, body).await
        }
    }

    #[cfg(feature = "reports")]
    fn takes_reports(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!("otlp {}", self.transport.endpoint())
    }

    fn is_local(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod golden;
#[cfg(test)]
mod tests;
