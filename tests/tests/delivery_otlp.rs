//! `OtlpSink` against a test collector on 127.0.0.1 that decodes every request with the
//! official OpenTelemetry protobuf definitions.
#![cfg(all(feature = "collect", feature = "otlp"))]

mod delivery_support;

use std::collections::HashMap;
use std::time::Duration;

use delivery_support::{Reply, Server, recording};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use prost::Message;
use telemetry::sink::{OtlpEncoding, OtlpSink};

fn attrs(list: &[KeyValue]) -> HashMap<String, Option<Value>> {
    list.iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().and_then(|v: &AnyValue| v.value.clone()),
            )
        })
        .collect()
}

fn s(v: &str) -> Option<Value> {
    Some(Value::StringValue(v.to_owned()))
}

fn export(encoding: OtlpEncoding) -> (Vec<delivery_support::Request>, Vec<telemetry::Event>) {
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
        .build()
        .unwrap();
    telemetry::record!(ctx, "cmd.build", jobs = 8, release = true).unwrap();
    telemetry::record!(ctx, "cmd.test", profile = Profile::Ci).unwrap();
    ctx.flush_blocking(Duration::from_secs(20)).unwrap();
    (server.requests(), local.snapshot())
}

#[derive(telemetry::SafeValue)]
enum Profile {
    Ci,
}

fn check(request: &ExportLogsServiceRequest, sent: &[telemetry::Event]) {
    assert_eq!(request.resource_logs.len(), 1);
    let rl = &request.resource_logs[0];
    let resource = attrs(&rl.resource.as_ref().unwrap().attributes);
    assert_eq!(resource["service.name"], s("mytool"));
    assert_eq!(resource["service.version"], s("2.0.1"));
    let records = &rl.scope_logs[0].log_records;
    assert_eq!(records.len(), 2);
    for (record, event) in records.iter().zip(sent) {
        assert_eq!(record.event_name, event.name());
        assert!(record.time_unix_nano > 1_600_000_000_000_000_000);
        let a = attrs(&record.attributes);
        assert_eq!(a["event_id"], s(event.event_id()));
        assert_eq!(a["machine_id"], s(event.machine_id()));
        assert_eq!(a["session_id"], s(event.session_id()));
        assert_eq!(a["tool"], s("mytool"));
        assert_eq!(a["outcome"], s("ok"));
        assert_eq!(a["os"], s(std::env::consts::OS));
        assert_eq!(a["timestamp_utc"], s(event.timestamp_utc()));
    }
    let build = attrs(&records[0].attributes);
    assert_eq!(build["attrs.jobs"], Some(Value::IntValue(8)));
    assert_eq!(build["attrs.release"], Some(Value::BoolValue(true)));
    assert_eq!(attrs(&records[1].attributes)["attrs.profile"], s("ci"));
}

#[test]
fn protobuf_export_decodes_with_the_official_definitions() {
    let (requests, sent) = export(OtlpEncoding::Protobuf);
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.path, "/v1/logs");
    assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
    let decoded = ExportLogsServiceRequest::decode(&*r.body).unwrap();
    check(&decoded, &sent);
}

#[test]
fn json_export_follows_the_otlp_json_mapping() {
    let (requests, sent) = export(OtlpEncoding::Json);
    let r = &requests[0];
    assert_eq!(r.header("content-type"), Some("application/json"));
    let decoded: ExportLogsServiceRequest = serde_json::from_slice(&r.body).unwrap();
    check(&decoded, &sent);
    // The OTLP JSON mapping uses lowerCamelCase field names.
    let text = String::from_utf8_lossy(&r.body);
    assert!(
        text.contains("\"resourceLogs\"") && text.contains("\"eventName\""),
        "{text}"
    );
}
