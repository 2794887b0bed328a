//! `opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest` and
//! `opentelemetry.proto.logs.v1` (`ResourceLogs`, `ScopeLogs`, `LogRecord`).

use super::common::{AnyValue, InstrumentationScope, KeyValue, Resource};
use super::{Message, int64_json, json_array, nested, repeated};
use crate::util::json::{Json, ObjectBuilder};
use crate::util::protobuf::{Scalar, Writer};

/// `SeverityNumber.SEVERITY_NUMBER_INFO`: every record this crate sends is
/// informational.
pub(crate) const SEVERITY_NUMBER_INFO: i32 = 9;

/// `ExportLogsServiceRequest`: `resource_logs = 1`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExportLogsServiceRequest<'a> {
    pub(crate) resource_logs: Vec<ResourceLogs<'a>>,
}

impl Message for ExportLogsServiceRequest<'_> {
    fn write_fields(&self, out: &mut Writer) {
        repeated(out, 1, &self.resource_logs);
    }

    fn to_json(&self) -> Json {
        ObjectBuilder::new()
            .field("resourceLogs", json_array(&self.resource_logs))
            .build()
    }
}

/// `ResourceLogs`: `resource = 1`, `scope_logs = 2` (no schema URL).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResourceLogs<'a> {
    pub(crate) resource: Resource<'a>,
    pub(crate) scope_logs: Vec<ScopeLogs<'a>>,
}

impl Message for ResourceLogs<'_> {
    fn write_fields(&self, out: &mut Writer) {
        nested(out, 1, &self.resource);
        repeated(out, 2, &self.scope_logs);
    }

    fn to_json(&self) -> Json {
        ObjectBuilder::new()
            .field("resource", self.resource.to_json())
            .field("scopeLogs", json_array(&self.scope_logs))
            .field("schemaUrl", "")
            .build()
    }
}

/// `ScopeLogs`: `scope = 1`, `log_records = 2` (no schema URL).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScopeLogs<'a> {
    pub(crate) scope: InstrumentationScope<'a>,
    pub(crate) log_records: Vec<LogRecord<'a>>,
}

impl Message for ScopeLogs<'_> {
    fn write_fields(&self, out: &mut Writer) {
        nested(out, 1, &self.scope);
        repeated(out, 2, &self.log_records);
    }

    fn to_json(&self) -> Json {
        ObjectBuilder::new()
            .field("scope", self.scope.to_json())
            .field("logRecords", json_array(&self.log_records))
            .field("schemaUrl", "")
            .build()
    }
}

/// `LogRecord`, the fields this crate sets: `time_unix_nano = 1` and
/// `observed_time_unix_nano = 11` (`fixed64`), `severity_number = 2`,
/// `severity_text = 3`, `body = 5`, `attributes = 6`, `event_name = 12`. No trace
/// context, flags or dropped count.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogRecord<'a> {
    pub(crate) time_unix_nano: u64,
    pub(crate) observed_time_unix_nano: u64,
    pub(crate) severity_number: i32,
    pub(crate) severity_text: &'a str,
    pub(crate) body: AnyValue<'a>,
    pub(crate) attributes: Vec<KeyValue<'a>>,
    pub(crate) event_name: &'a str,
}

impl Message for LogRecord<'_> {
    fn write_fields(&self, out: &mut Writer) {
        out.field(1, Scalar::Fixed64(self.time_unix_nano));
        out.field(2, Scalar::Enum(self.severity_number));
        out.field(3, Scalar::Str(self.severity_text));
        nested(out, 5, &self.body);
        repeated(out, 6, &self.attributes);
        out.field(11, Scalar::Fixed64(self.observed_time_unix_nano));
        out.field(12, Scalar::Str(self.event_name));
    }

    fn to_json(&self) -> Json {
        ObjectBuilder::new()
            .field("timeUnixNano", int64_json(self.time_unix_nano))
            .field(
                "observedTimeUnixNano",
                int64_json(self.observed_time_unix_nano),
            )
            .field("severityNumber", i64::from(self.severity_number))
            .field("severityText", self.severity_text)
            .field("body", self.body.to_json())
            .field("attributes", json_array(&self.attributes))
            .field("droppedAttributesCount", 0_u64)
            .field("flags", 0_u64)
            // Bytes in OTLP/JSON are hex: empty, as the official mapping wrote them.
            .field("traceId", "")
            .field("spanId", "")
            .field("eventName", self.event_name)
            .build()
    }
}
