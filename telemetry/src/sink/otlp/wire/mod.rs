//! The OTLP messages this crate sends, and their two encodings: protobuf
//! (`application/x-protobuf`) and OTLP/JSON (`application/json`).
//!
//! Only the messages and fields the sink fills in, with the field numbers and types of
//! the official definitions (opentelemetry-proto v1: `collector/logs/v1`, `logs/v1`,
//! `collector/metrics/v1`, `metrics/v1`, `common/v1`, `resource/v1`). One file per
//! proto package; each message's field numbers and JSON names side by side.
//!
//! Written here rather than generated: `opentelemetry-proto` 0.33 depends on the
//! OpenTelemetry API and SDK crates whatever its features, and its `with-serde` mapping
//! on `serde_derive`, `const-hex` and a second `base64`; with `prost`, `serde_json` and
//! `humantime` that was 28 crates and ~29 s of a host's clean build CPU for a handful
//! of message types (bench/footprint.sh, `telemetry-otlp`: +96.6 s before, +67.4 s
//! after). The tests decode what is written here with those
//! official types (tests/tests/delivery_otlp.rs, reports_sinks.rs) and compare it
//! byte for byte with what they wrote (sink/otlp/testdata).
//!
//! The JSON is what the official types' `serde` mapping wrote, field for field and in
//! the same order: lowerCamelCase names, enums as integers, 64-bit integers (times,
//! counts, `intValue`, `asInt`) as decimal strings, and, unlike protobuf, the fields at
//! their default value written too (`"schemaUrl":""`, `"flags":0`, empty lists).
//! Three differences: a float's spelling (`1e300` where `serde_json` wrote `1e+300`;
//! `1e-5` for `0.00001`: the same number); a NaN or infinite double, which `serde_json`
//! wrote as `null` (a value not set, to a proto3 JSON reader) and this crate as
//! proto3's JSON mapping requires: `"NaN"`, `"Infinity"`, `"-Infinity"`
//! (`double_json`); and an unset `optional` double (a histogram point's `sum`, `min`,
//! `max`), which the official mapping wrote as `null` and this crate leaves out, as
//! proto3's JSON does for a field not set (a receiver's reader need not take `null`
//! for a number).

pub(crate) mod common;
pub(crate) mod logs;
#[cfg(feature = "reports")]
pub(crate) mod metrics;

use crate::util::json::Json;
use crate::util::protobuf::Writer;

/// An OTLP message, in either encoding.
pub(crate) trait Message {
    /// Appends the message's fields, in field number order.
    fn write_fields(&self, out: &mut Writer);

    /// The message as an OTLP/JSON object.
    fn to_json(&self) -> Json;
}

/// A top-level message (an export request) as protobuf bytes.
pub(crate) fn to_protobuf(message: &impl Message) -> Vec<u8> {
    let mut out = Writer::new();
    message.write_fields(&mut out);
    out.into_bytes()
}

/// A top-level message as compact OTLP/JSON text.
pub(crate) fn to_json(message: &impl Message) -> Vec<u8> {
    message.to_json().to_vec()
}

/// A message-typed field (a nested message is always written: its presence is
/// explicit).
fn nested(out: &mut Writer, number: u32, message: &impl Message) {
    out.message(number, |out| message.write_fields(out));
}

/// A repeated message field: one length-delimited field per element.
fn repeated<M: Message>(out: &mut Writer, number: u32, messages: &[M]) {
    for message in messages {
        nested(out, number, message);
    }
}

/// A repeated message field in JSON: an array of objects.
fn json_array<M: Message>(messages: &[M]) -> Json {
    Json::Array(messages.iter().map(Message::to_json).collect())
}

/// A 64-bit integer in OTLP/JSON: a decimal string (JSON numbers lose precision past
/// 2^53 in many readers).
fn int64_json(n: impl ToString) -> Json {
    Json::Str(n.to_string())
}

/// A `double` in OTLP/JSON: a JSON number when finite, else the string proto3's JSON
/// mapping gives it (`"NaN"`, `"Infinity"`, `"-Infinity"`). Not `null`, which JSON
/// writers such as `serde_json` put there: to a proto3 JSON reader `null` is a field
/// that is not set (the value is lost), and the Collector's reader refuses a `null`
/// double, and with it the whole request.
fn double_json(f: f64) -> Json {
    if f.is_nan() {
        Json::from("NaN")
    } else if f.is_infinite() {
        Json::from(if f > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        Json::Float(f)
    }
}

/// An empty repeated field in JSON (`[]`): the fields this crate never fills in, as
/// the official mapping wrote them.
fn empty_array() -> Json {
    Json::Array(Vec::new())
}
