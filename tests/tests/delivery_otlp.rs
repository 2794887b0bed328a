//! `OtlpSink` against a test collector on 127.0.0.1 that decodes every request with the
//! official OpenTelemetry definitions (`opentelemetry-proto`: prost for protobuf, its
//! `serde` mapping for JSON): every field the library writes, checked against the
//! events it recorded, so that the library's own encoder cannot drift from them.
#![cfg(all(feature = "collect", feature = "otlp"))]

mod delivery_support;
mod otlp_support;

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use delivery_support::{Reply, Server, recording};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::logs::v1::SeverityNumber;
use otlp_support::{attrs, expected_value, s};
use prost::Message;
use telemetry::SendMode;
use telemetry::sink::{OtlpEncoding, OtlpSink};

/// The tracked call installs its context globally: one export at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn unix_nanos(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        .try_into()
        .unwrap()
}

#[derive(telemetry::SafeValue)]
enum Profile {
    Ci,
}

#[derive(Debug)]
struct BuildError;

#[telemetry::track("cmd.build", attrs(target = "x86_64", ratio = 0.25), capture(jobs))]
fn build(jobs: u16) -> Result<(), BuildError> {
    let _ = jobs;
    Err(BuildError)
}

/// What one export carried, and the wall-clock window it was recorded and sent in.
struct Export {
    requests: Vec<delivery_support::Request>,
    sent: Vec<telemetry::Event>,
    before: u64,
    after: u64,
}

/// A failed tracked call (duration, error kind) and two `record!`s with an attribute
/// of every kind, zero and negative values among them, through one `OtlpSink`.
fn export(encoding: OtlpEncoding) -> Export {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    // Timestamps have milliseconds: the window starts at the millisecond.
    let before = unix_nanos(SystemTime::now()) / 1_000_000 * 1_000_000;
    let server = Server::start(Reply::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let local = telemetry::sink::MemorySink::new();
    let sink = OtlpSink::builder(&server.url(""))
        .allow_insecure_http(true)
        .encoding(encoding)
        .build()
        .unwrap();
    let ctx = recording(telemetry::tool!("mytool", "2.0.1"), sink, dir.path())
        .sink(local.clone())
        // The exit waits for the sender instead of starting an uploader.
        .send_mode(SendMode::AtExit)
        .build()
        .unwrap();
    let guard = telemetry::init(ctx.clone());
    build(8).unwrap_err();
    telemetry::record!(ctx, "cmd.test", profile = Profile::Ci, release = true).unwrap();
    telemetry::record!(
        ctx,
        "cmd.sizes",
        big = u64::MAX,
        small = -7_i64,
        zero = 0_i64,
        off = false,
        nothing = 0.0
    )
    .unwrap();
    ctx.flush_blocking(Duration::from_secs(20)).unwrap();
    drop(guard);
    Export {
        requests: server.requests(),
        sent: local.snapshot(),
        before,
        after: unix_nanos(SystemTime::now()),
    }
}

/// An event's attributes as the OTLP mapping documented on `OtlpSink` makes them.
fn expected_attrs(event: &telemetry::Event) -> BTreeMap<String, Value> {
    let mut map = BTreeMap::from([
        ("event_id".to_owned(), s(event.event_id())),
        ("tool".to_owned(), s(event.tool())),
        ("tool_version".to_owned(), s(event.tool_version())),
        ("machine_id".to_owned(), s(event.machine_id())),
        ("session_id".to_owned(), s(event.session_id())),
        ("timestamp_utc".to_owned(), s(event.timestamp_utc())),
        ("os".to_owned(), s(event.os())),
        ("arch".to_owned(), s(event.arch())),
        ("outcome".to_owned(), s(event.outcome().as_str())),
    ]);
    if let Some(ms) = event.duration_ms() {
        map.insert("duration_ms".into(), Value::DoubleValue(ms));
    }
    if let Some(kind) = event.error_kind() {
        map.insert("error_kind".into(), s(kind));
    }
    for (key, value) in event.attrs() {
        map.insert(format!("attrs.{key}"), expected_value(value));
    }
    map
}

/// `HH:MM:SS.mmm` of a time in nanoseconds since the epoch: the time of day its
/// `timestamp_utc` must show.
fn time_of_day(nanos: u64) -> String {
    let ms = nanos / 1_000_000;
    let secs = ms / 1000 % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        ms % 1000
    )
}

/// Every field of the export against the events recorded.
fn check(request: &ExportLogsServiceRequest, export: &Export) {
    let sent = &export.sent;
    assert_eq!(sent.len(), 3);
    assert_eq!(request.resource_logs.len(), 1, "one tool, one version");
    let rl = &request.resource_logs[0];
    assert_eq!(rl.schema_url, "");
    let resource = rl.resource.as_ref().unwrap();
    assert_eq!(
        attrs(&resource.attributes),
        BTreeMap::from([
            ("service.name".to_owned(), s("mytool")),
            ("service.version".to_owned(), s("2.0.1")),
        ])
    );
    assert_eq!(resource.dropped_attributes_count, 0);
    assert_eq!(rl.scope_logs.len(), 1);
    let scope = rl.scope_logs[0].scope.as_ref().unwrap();
    // The workspace's crates share one version.
    assert_eq!(
        (&*scope.name, &*scope.version),
        ("telemetry", env!("CARGO_PKG_VERSION"))
    );
    assert!(scope.attributes.is_empty());
    let records = &rl.scope_logs[0].log_records;
    assert_eq!(records.len(), sent.len());
    for record in records {
        let a = attrs(&record.attributes);
        let Some(Value::StringValue(id)) = a.get("event_id") else {
            panic!("no event_id: {a:?}")
        };
        let event = sent.iter().find(|e| e.event_id() == id).unwrap();
        assert_eq!(a, expected_attrs(event), "{}", event.name());
        assert_eq!(record.event_name, event.name());
        assert_eq!(
            record.body.as_ref().and_then(|b| b.value.clone()),
            Some(s(event.name()))
        );
        assert_eq!(record.severity_number, SeverityNumber::Info as i32);
        assert_eq!(record.severity_text, "INFO");
        // The event's timestamp, to the millisecond: inside the window, and the time of
        // day its text shows.
        let time = record.time_unix_nano;
        assert!(
            (export.before..=export.after).contains(&time),
            "{time} not in {}..={}",
            export.before,
            export.after
        );
        assert_eq!(time % 1_000_000, 0, "milliseconds: {time}");
        assert_eq!(time_of_day(time), event.timestamp_utc()[11..23]);
        // Observed when the batch was encoded: after the event, before the flush returned.
        assert!(
            (time..=export.after).contains(&record.observed_time_unix_nano),
            "observed {} not in {time}..={}",
            record.observed_time_unix_nano,
            export.after
        );
        assert_eq!(
            (record.dropped_attributes_count, record.flags),
            (0, 0),
            "nothing dropped, no flags"
        );
        assert!(record.trace_id.is_empty() && record.span_id.is_empty());
    }
}

/// A few values written out by hand, so that `check` cannot agree with a wrong mapping
/// by sharing it.
fn spot_check(request: &ExportLogsServiceRequest) {
    let records = &request.resource_logs[0].scope_logs[0].log_records;
    let by_name = |name: &str| {
        let record = records.iter().find(|r| r.event_name == name).unwrap();
        attrs(&record.attributes)
    };
    let build = by_name("cmd.build");
    assert_eq!(build["outcome"], s("error"));
    assert_eq!(build["error_kind"], s("delivery_otlp::BuildError"));
    assert_eq!(build["tool"], s("mytool"));
    assert_eq!(build["os"], s(std::env::consts::OS));
    assert_eq!(build["arch"], s(std::env::consts::ARCH));
    assert_eq!(build["attrs.jobs"], Value::IntValue(8));
    assert_eq!(build["attrs.target"], s("x86_64"));
    assert_eq!(build["attrs.ratio"], Value::DoubleValue(0.25));
    let Value::DoubleValue(ms) = build["duration_ms"] else {
        panic!("duration_ms is not a double: {build:?}")
    };
    assert!(ms >= 0.0);
    let test = by_name("cmd.test");
    assert_eq!(test["outcome"], s("ok"));
    assert_eq!(test["attrs.profile"], s("ci"));
    assert_eq!(test["attrs.release"], Value::BoolValue(true));
    assert!(!test.contains_key("duration_ms"), "record! has no duration");
    assert!(!test.contains_key("error_kind"));
    let sizes = by_name("cmd.sizes");
    assert_eq!(sizes["attrs.big"], s("18446744073709551615"));
    assert_eq!(sizes["attrs.small"], Value::IntValue(-7));
    assert_eq!(sizes["attrs.zero"], Value::IntValue(0));
    assert_eq!(sizes["attrs.off"], Value::BoolValue(false));
    assert_eq!(sizes["attrs.nothing"], Value::DoubleValue(0.0));
}

#[test]
fn protobuf_export_decodes_with_the_official_definitions() {
    let export = export(OtlpEncoding::Protobuf);
    assert_eq!(export.requests.len(), 1);
    let r = &export.requests[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/v1/logs"));
    assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
    let decoded = ExportLogsServiceRequest::decode(&*r.body).unwrap();
    check(&decoded, &export);
    spot_check(&decoded);
    // The official encoder writes the same message to the same bytes (proto3 rules,
    // field order): nothing more, nothing less.
    assert_eq!(decoded.encode_to_vec(), r.body);
}

#[test]
fn json_export_follows_the_otlp_json_mapping() {
    let export = export(OtlpEncoding::Json);
    assert_eq!(export.requests.len(), 1);
    let r = &export.requests[0];
    assert_eq!(r.path, "/v1/logs");
    assert_eq!(r.header("content-type"), Some("application/json"));
    let decoded: ExportLogsServiceRequest = serde_json::from_slice(&r.body).unwrap();
    check(&decoded, &export);
    spot_check(&decoded);
    // The same JSON the official mapping writes for what was decoded.
    assert_eq!(
        r.json(),
        serde_json::to_value(&decoded).unwrap(),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    // OTLP/JSON: lowerCamelCase names, enums as integers, 64-bit integers as strings.
    let json = r.json();
    let record = &json["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
    assert_eq!(record["severityNumber"], 9);
    assert!(record["timeUnixNano"].is_string(), "{record}");
    assert!(record["observedTimeUnixNano"].is_string(), "{record}");
    let text = String::from_utf8_lossy(&r.body);
    assert!(
        text.contains(r#"{"key":"attrs.small","value":{"intValue":"-7"}}"#),
        "{text}"
    );
    assert!(text.contains(r#""eventName":"cmd.sizes""#), "{text}");
}

/// A batch of a few hundred events, each with a value longer than 127 bytes: lengths
/// that take two and three bytes as varints (a 300-byte value, a record of ~1 KB, a
/// body past 16 KB), decoded with the official definitions and re-encoded to the same
/// bytes.
#[test]
fn a_large_batch_with_long_values_decodes_with_the_official_definitions() {
    use telemetry::sink::TelemetrySink;
    let server = Server::start(Reply::Status(200));
    let sink = OtlpSink::builder(&server.url(""))
        .allow_insecure_http(true)
        .build()
        .unwrap();
    let long: &'static str = Box::leak("m".repeat(300).into_boxed_str());
    let events: Vec<telemetry::Event> = (0..200)
        .map(|i| telemetry::Event::new("cmd.build", "mytool", "2.0.1", long).with_attr("i", i))
        .collect();
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(sink.emit_batch(&events))
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let body = &requests[0].body;
    assert!(body.len() > 16_384, "{} bytes", body.len());
    let decoded = ExportLogsServiceRequest::decode(&**body).unwrap();
    assert_eq!(decoded.encode_to_vec(), *body);
    let records = &decoded.resource_logs[0].scope_logs[0].log_records;
    assert_eq!(records.len(), events.len());
    for (i, (record, event)) in records.iter().zip(&events).enumerate() {
        let attrs = attrs(&record.attributes);
        assert_eq!(attrs["machine_id"], s(long));
        assert_eq!(attrs["event_id"], s(event.event_id()));
        assert_eq!(attrs["attrs.i"], Value::IntValue(i64::try_from(i).unwrap()));
    }
}
