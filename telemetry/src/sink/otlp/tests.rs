//! The encoder against what `opentelemetry-proto` 0.33.1 wrote for the same fixtures
//! (testdata/, recorded by the commit that introduced golden.rs), byte for byte.

use super::golden;
use super::wire::Message as _;
use super::wire::common::AnyValue;
use super::*;

/// A recorded JSON body, with the two differences the encoder is allowed: `serde_json`
/// spelled a float's positive exponent with a `+` (`1e+300`), this crate's JSON
/// writer without (`1e300`), the same number either way; and `serde_json` wrote a NaN
/// or infinite double as `null`, where proto3's JSON mapping has `"NaN"` and
/// `"Infinity"` (a `null` is a value not set).
fn official_json(recorded: &str) -> String {
    assert!(recorded.contains("1e+300"), "the fixture has a huge float");
    let (nan, inf) = (
        r#""key":"attrs.nan","value":{"doubleValue":null}"#,
        r#""key":"attrs.inf","value":{"doubleValue":null}"#,
    );
    assert!(
        recorded.contains(nan) && recorded.contains(inf),
        "non-finite floats"
    );
    recorded
        .trim_end()
        .replace("1e+300", "1e300")
        .replace(nan, r#""key":"attrs.nan","value":{"doubleValue":"NaN"}"#)
        .replace(
            inf,
            r#""key":"attrs.inf","value":{"doubleValue":"Infinity"}"#,
        )
}

#[test]
fn logs_are_encoded_byte_for_byte_as_the_official_types_encoded_them() {
    let events = golden::events();
    let request = logs::export_request(&events, golden::OBSERVED);
    assert_eq!(
        crate::util::hex::encode(&wire::to_protobuf(&request)),
        include_str!("testdata/logs.pb.hex").trim_end()
    );
    assert_eq!(
        String::from_utf8(wire::to_json(&request)).unwrap(),
        official_json(include_str!("testdata/logs.json"))
    );
}

#[cfg(feature = "reports")]
#[test]
fn metrics_are_encoded_byte_for_byte_as_the_official_types_encoded_them() {
    let report = golden::report();
    let request = metrics::export_request(&report).unwrap();
    assert_eq!(
        crate::util::hex::encode(&wire::to_protobuf(&request)),
        include_str!("testdata/metrics.pb.hex").trim_end()
    );
    // The third allowed difference: an unset `optional` double is left out, where the
    // official mapping wrote `null` (the fixture's empty histogram has no min or max).
    let recorded = include_str!("testdata/metrics.json").trim_end();
    assert!(
        recorded.contains(r#","min":null,"max":null"#),
        "an unset min and max"
    );
    assert_eq!(
        String::from_utf8(wire::to_json(&request)).unwrap(),
        recorded.replace(r#","min":null,"max":null"#, "")
    );
}

#[test]
fn the_content_type_follows_the_encoding() {
    let events = golden::events();
    let request = logs::export_request(&events, golden::OBSERVED);
    let (protobuf, body) = encode(OtlpEncoding::Protobuf, &request);
    assert_eq!(protobuf, "application/x-protobuf");
    assert_eq!(body, wire::to_protobuf(&request));
    let (json, body) = encode(OtlpEncoding::Json, &request);
    assert_eq!(json, "application/json");
    assert_eq!(body.first(), Some(&b'{'));
}

#[test]
fn every_event_field_becomes_an_attribute() {
    let mut event = Event::new("cmd.build", "mytool", "1.2.3", "m1").with_attr("jobs", 4);
    event.duration_ms = Some(1.5);
    let events = [event];
    let request = logs::export_request(&events, now_unix_nanos());
    let rl = &request.resource_logs[0];
    let resource: Vec<_> = rl.resource.attributes.iter().map(|kv| &*kv.key).collect();
    assert_eq!(resource, ["service.name", "service.version"]);
    let record = &rl.scope_logs[0].log_records[0];
    assert_eq!(record.event_name, "cmd.build");
    assert!(record.time_unix_nano > 0);
    assert!(record.observed_time_unix_nano >= record.time_unix_nano);
    let keys: Vec<_> = record.attributes.iter().map(|kv| &*kv.key).collect();
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
    let jobs = record.attributes.iter().find(|kv| kv.key == "attrs.jobs");
    assert_eq!(jobs.map(|kv| &kv.value), Some(&AnyValue::Int(4)));
}

#[test]
fn a_timestamp_this_crate_did_not_write_has_no_time() {
    let events = golden::events();
    let request = logs::export_request(&events, golden::OBSERVED);
    let times: Vec<u64> = request
        .resource_logs
        .iter()
        .flat_map(|rl| &rl.scope_logs[0].log_records)
        .map(|r| r.time_unix_nano)
        .collect();
    // 2026-11-23T10:20:30.456Z, 10:20:31.000Z, and "not a time".
    assert_eq!(
        times,
        [1_795_429_230_456_000_000, 1_795_429_231_000_000_000, 0]
    );
}

/// proto3's JSON mapping (and the OTLP/JSON spec with it) writes a NaN or infinite
/// double as a string; `null` would be a value not set, which the Collector refuses.
#[test]
fn non_finite_doubles_are_the_strings_of_the_proto3_json_mapping() {
    let json = |value: AnyValue<'_>| String::from_utf8(value.to_json().to_vec()).unwrap();
    assert_eq!(json(AnyValue::Double(f64::NAN)), r#"{"doubleValue":"NaN"}"#);
    assert_eq!(
        json(AnyValue::Double(f64::INFINITY)),
        r#"{"doubleValue":"Infinity"}"#
    );
    assert_eq!(
        json(AnyValue::Double(f64::NEG_INFINITY)),
        r#"{"doubleValue":"-Infinity"}"#
    );
    assert_eq!(json(AnyValue::Double(-0.0)), r#"{"doubleValue":-0.0}"#);
    assert_eq!(json(AnyValue::Double(0.25)), r#"{"doubleValue":0.25}"#);
}
