//! A batch of events as one OTLP logs export (`OtlpSink::emit_batch`): the mapping
//! from an [`Event`] to a log record, documented on `OtlpSink`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::wire::common::{AnyValue, InstrumentationScope, KeyValue, Resource};
use super::wire::logs::{
    ExportLogsServiceRequest, LogRecord, ResourceLogs, SEVERITY_NUMBER_INFO, ScopeLogs,
};
use crate::event::Event;
use crate::util::time::parse_rfc3339_millis;

/// Nanoseconds since the Unix epoch of milliseconds since it, saturated at `u64::MAX`
/// (past the year 2554, which `u64` nanoseconds cannot hold).
pub(super) fn millis_to_nanos(millis: u64) -> u64 {
    millis.saturating_mul(1_000_000)
}

fn log_record(event: &Event, observed: u64) -> LogRecord<'_> {
    let mut attributes: Vec<KeyValue<'_>> = [
        ("event_id", &*event.event_id),
        ("tool", &*event.tool),
        ("tool_version", &*event.tool_version),
        ("machine_id", &*event.machine_id),
        ("session_id", &*event.session_id),
        ("timestamp_utc", &*event.timestamp_utc),
        ("os", &*event.os),
        ("arch", &*event.arch),
        ("outcome", event.outcome.as_str()),
    ]
    .into_iter()
    .map(|(key, value)| KeyValue::new(key, AnyValue::str(value)))
    .collect();
    if let Some(ms) = event.duration_ms {
        attributes.push(KeyValue::new("duration_ms", AnyValue::Double(ms)));
    }
    if let Some(kind) = &event.error_kind {
        attributes.push(KeyValue::new("error_kind", AnyValue::str(kind)));
    }
    for (key, value) in &event.attrs {
        attributes.push(KeyValue::new(
            format!("attrs.{key}"),
            AnyValue::from_attr(value),
        ));
    }
    LogRecord {
        // 0 (unknown, left out of the protobuf) for a timestamp this crate did not write.
        time_unix_nano: parse_rfc3339_millis(&event.timestamp_utc).map_or(0, millis_to_nanos),
        observed_time_unix_nano: observed,
        severity_number: SEVERITY_NUMBER_INFO,
        severity_text: "INFO",
        body: AnyValue::String(Cow::Borrowed(&event.name)),
        attributes,
        event_name: &event.name,
    }
}

/// One export request for a batch: one resource per (tool, version), its events in
/// batch order; `observed` is every record's observed time, in ns since the epoch.
pub(super) fn export_request(events: &[Event], observed: u64) -> ExportLogsServiceRequest<'_> {
    let mut by_tool: BTreeMap<(&str, &str), Vec<LogRecord<'_>>> = BTreeMap::new();
    for event in events {
        by_tool
            .entry((&event.tool, &event.tool_version))
            .or_default()
            .push(log_record(event, observed));
    }
    let resource_logs = by_tool
        .into_iter()
        .map(|((tool, version), log_records)| ResourceLogs {
            resource: Resource {
                attributes: vec![
                    KeyValue::new("service.name", AnyValue::str(tool)),
                    KeyValue::new("service.version", AnyValue::str(version)),
                ],
            },
            scope_logs: vec![ScopeLogs {
                scope: InstrumentationScope::TELEMETRY,
                log_records,
            }],
        })
        .collect();
    ExportLogsServiceRequest { resource_logs }
}
