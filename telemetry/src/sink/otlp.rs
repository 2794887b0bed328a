//! `OtlpSink`: events as OpenTelemetry log records over OTLP/HTTP (`/v1/logs`), and
//! reports as one metrics export (`/v1/metrics`, encoded in `otlp_metrics.rs`).

use std::collections::BTreeMap;
use std::time::SystemTime;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

use super::client::{ClientConfig, Transport};
use super::{TelemetrySink, boxed_async};
use crate::error::TelemetryError;
use crate::event::Event;
#[cfg(feature = "reports")]
use crate::report::Report;
use crate::value::AttrValue;

// A file next to this one rather than `otlp/metrics.rs`: the report encoding is a
// sibling of the logs encoding, kept apart only for size.
#[cfg(feature = "reports")]
#[path = "otlp_metrics.rs"]
mod metrics;

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

/// Sends each batch as one OTLP/HTTP logs export (`POST <endpoint>/v1/logs`), built
/// with the official OpenTelemetry protobuf types. Feature `otlp`.
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

fn string(value: impl Into<String>) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(value.into())),
    })
}

fn key_value(key: impl Into<String>, value: Option<AnyValue>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value,
        ..Default::default()
    }
}

fn attr_value(value: &AttrValue) -> Option<AnyValue> {
    let value = match value {
        AttrValue::Bool(b) => any_value::Value::BoolValue(*b),
        AttrValue::Int(i) => any_value::Value::IntValue(*i),
        AttrValue::UInt(u) => match i64::try_from(*u) {
            Ok(i) => any_value::Value::IntValue(i),
            Err(_) => any_value::Value::StringValue(u.to_string()),
        },
        AttrValue::Float(f) => any_value::Value::DoubleValue(*f),
        AttrValue::Str(s) => any_value::Value::StringValue(s.to_string()),
    };
    Some(AnyValue { value: Some(value) })
}

fn unix_nanos(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn log_record(event: &Event, observed: u64) -> LogRecord {
    let mut attributes = vec![
        key_value("event_id", string(&*event.event_id)),
        key_value("tool", string(&*event.tool)),
        key_value("tool_version", string(&*event.tool_version)),
        key_value("machine_id", string(&*event.machine_id)),
        key_value("session_id", string(&*event.session_id)),
        key_value("timestamp_utc", string(&*event.timestamp_utc)),
        key_value("os", string(&*event.os)),
        key_value("arch", string(&*event.arch)),
        key_value("outcome", string(event.outcome.as_str())),
    ];
    if let Some(ms) = event.duration_ms {
        attributes.push(key_value(
            "duration_ms",
            Some(AnyValue {
                value: Some(any_value::Value::DoubleValue(ms)),
            }),
        ));
    }
    if let Some(kind) = &event.error_kind {
        attributes.push(key_value("error_kind", string(&**kind)));
    }
    for (key, value) in &event.attrs {
        attributes.push(key_value(format!("attrs.{key}"), attr_value(value)));
    }
    let time = humantime::parse_rfc3339(&event.timestamp_utc).map_or(0, unix_nanos);
    LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: observed,
        severity_number: SeverityNumber::Info as i32,
        severity_text: "INFO".to_owned(),
        body: string(&*event.name),
        attributes,
        event_name: event.name.to_string(),
        ..Default::default()
    }
}

/// One export request for a batch: one resource per (tool, version).
pub(crate) fn export_request(events: &[Event]) -> ExportLogsServiceRequest {
    let observed = unix_nanos(SystemTime::now());
    let mut by_tool: BTreeMap<(&str, &str), Vec<LogRecord>> = BTreeMap::new();
    for event in events {
        by_tool
            .entry((&event.tool, &event.tool_version))
            .or_default()
            .push(log_record(event, observed));
    }
    let resource_logs = by_tool
        .into_iter()
        .map(|((tool, version), log_records)| ResourceLogs {
            resource: Some(Resource {
                attributes: vec![
                    key_value("service.name", string(tool)),
                    key_value("service.version", string(version)),
                ],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "telemetry".to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    ..Default::default()
                }),
                log_records,
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest { resource_logs }
}

/// The request's body in `encoding`, with its content type.
fn encode<M: Message + serde::Serialize>(
    encoding: OtlpEncoding,
    request: &M,
) -> Result<(&'static str, Vec<u8>), TelemetryError> {
    Ok(match encoding {
        OtlpEncoding::Protobuf => ("application/x-protobuf", request.encode_to_vec()),
        OtlpEncoding::Json => (
            "application/json",
            serde_json::to_vec(request).map_err(|e| TelemetryError::Serde {
                what: "OTLP request",
                reason: e.to_string(),
            })?,
        ),
    })
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
            let (content_type, body) = encode(self.encoding, &export_request(events))?;
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
            let (content_type, body) = encode(self.encoding, &metrics::export_request(report)?)?;
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
mod tests {
    use super::*;

    #[test]
    fn every_event_field_becomes_an_attribute() {
        let mut event = Event::new("cmd.build", "mytool", "1.2.3", "m1").with_attr("jobs", 4);
        event.duration_ms = Some(1.5);
        let request = export_request(&[event.clone()]);
        let bytes = request.encode_to_vec();
        let decoded = ExportLogsServiceRequest::decode(&*bytes).unwrap();
        let rl = &decoded.resource_logs[0];
        let resource: Vec<_> = rl
            .resource
            .as_ref()
            .unwrap()
            .attributes
            .iter()
            .map(|kv| kv.key.as_str())
            .collect();
        assert_eq!(resource, ["service.name", "service.version"]);
        let record = &rl.scope_logs[0].log_records[0];
        assert_eq!(record.event_name, "cmd.build");
        assert!(record.time_unix_nano > 0);
        let keys: Vec<_> = record.attributes.iter().map(|kv| kv.key.as_str()).collect();
        for key in [
            "event_id",
            "machine_id",
            "session_id",
            "outcome",
            "duration_ms",
            "attrs.jobs",
        ] {
            assert!(keys.contains(&key), "{key} in {keys:?}");
        }
    }
}

#[cfg(test)]
#[path = "otlp_golden.rs"]
pub(crate) mod golden;

#[cfg(test)]
mod capture {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Records what `opentelemetry-proto` 0.33.1 (prost for protobuf, its `with-serde`
    /// mapping through `serde_json` for JSON) makes of the fixtures of `otlp_golden.rs`,
    /// with a fixed observed time: the reference the library's own encoder is compared
    /// with once these types are gone. `cargo test -p telemetry --features otlp,reports
    /// --lib capture_the_official_encodings` at this commit writes them again.
    #[test]
    fn capture_the_official_encodings() {
        // Where the new encoder's tests read them (sink/otlp/testdata).
        let dir = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/sink/otlp/testdata"
        ));
        std::fs::create_dir_all(dir).unwrap();
        let mut logs = export_request(&golden::events());
        for rl in &mut logs.resource_logs {
            for sl in &mut rl.scope_logs {
                for r in &mut sl.log_records {
                    r.observed_time_unix_nano = golden::OBSERVED;
                }
            }
        }
        for (name, request) in [("logs", &logs)] {
            let (_, pb) = encode(OtlpEncoding::Protobuf, request).unwrap();
            let (_, json) = encode(OtlpEncoding::Json, request).unwrap();
            std::fs::write(dir.join(format!("{name}.pb.hex")), hex(&pb) + "\n").unwrap();
            std::fs::write(dir.join(format!("{name}.json")), json).unwrap();
        }
        #[cfg(feature = "reports")]
        {
            let metrics = metrics::export_request(&golden::report()).unwrap();
            let (_, pb) = encode(OtlpEncoding::Protobuf, &metrics).unwrap();
            let (_, json) = encode(OtlpEncoding::Json, &metrics).unwrap();
            std::fs::write(dir.join("metrics.pb.hex"), hex(&pb) + "\n").unwrap();
            std::fs::write(dir.join("metrics.json"), json).unwrap();
        }
    }
}
