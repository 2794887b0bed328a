//! The wire format of `Event` and the machine id.

use telemetry::{AttrValue, Event, MachineId, Outcome};

#[cfg(feature = "collect")]
#[derive(Debug)]
struct BuildError;

#[cfg(feature = "collect")]
#[telemetry::track(
    "cmd.build",
    attrs(profile = "release", ratio = 0.5),
    capture(jobs, dry_run)
)]
fn build(jobs: u16, dry_run: bool) -> Result<(), BuildError> {
    let _ = (jobs, dry_run);
    Err(BuildError)
}

#[cfg(feature = "collect")]
#[test]
fn event_json_field_names_are_fixed() {
    let sink = telemetry::sink::MemorySink::new();
    let ctx = telemetry::TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1.2.3"))
        .sink(sink.clone())
        .policy(telemetry::CollectionPolicy::Enabled)
        .build()
        .unwrap();
    let guard = telemetry::init(ctx.clone());
    build(8, false).unwrap_err();
    ctx.flush_blocking(std::time::Duration::from_secs(10))
        .unwrap();
    drop(guard);
    let events = sink.snapshot();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.error_kind(), Some("event_format::BuildError"));

    // The values that differ from run to run are replaced; the field names, their
    // order and every other value are as sent.
    let duration = event.duration_ms().unwrap();
    assert!(duration >= 0.0);
    let mut json = event.to_json();
    for (from, to) in [
        (event.event_id(), "00000000-0000-4000-8000-000000000001"),
        (event.session_id(), "00000000-0000-4000-8000-000000000002"),
        (event.machine_id(), &"ab".repeat(32)),
        (event.timestamp_utc(), "2026-01-02T03:04:05.678Z"),
        (event.os(), "linux"),
        (event.arch(), "x86_64"),
    ] {
        json = json.replacen(&format!("\"{from}\""), &format!("\"{to}\""), 1);
    }
    json = json.replacen(
        &format!(
            "\"duration_ms\":{}",
            serde_json::to_string(&duration).unwrap()
        ),
        "\"duration_ms\":12.5",
        1,
    );
    let expected = r#"{
  "event_id": "00000000-0000-4000-8000-000000000001",
  "name": "cmd.build",
  "tool": "mytool",
  "tool_version": "1.2.3",
  "machine_id": "abababababababababababababababababababababababababababababababab",
  "session_id": "00000000-0000-4000-8000-000000000002",
  "timestamp_utc": "2026-01-02T03:04:05.678Z",
  "os": "linux",
  "arch": "x86_64",
  "duration_ms": 12.5,
  "outcome": "error",
  "error_kind": "event_format::BuildError",
  "attrs": {
    "dry_run": false,
    "jobs": 8,
    "profile": "release",
    "ratio": 0.5
  }
}"#;
    // One line, as the sinks write it: the same text without the layout.
    let expected: String = expected
        .lines()
        .map(str::trim)
        .collect::<String>()
        .replace("\": ", "\":");
    assert_eq!(json, expected);
    let logged: telemetry_tests::LoggedEvent = serde_json::from_str(&json).unwrap();
    assert_eq!(logged.name, event.name());
}

#[test]
fn new_event_has_fresh_ids_and_a_utc_millisecond_timestamp() {
    let a = Event::new("a", "t", "1", "m");
    let b = Event::new("a", "t", "1", "m");
    assert_ne!(a.event_id(), b.event_id());
    assert_eq!(a.session_id(), b.session_id(), "one session per process");
    for id in [a.event_id(), a.session_id()] {
        let parsed = uuid::Uuid::parse_str(id).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
    }
    // 2026-11-21T05:43:56.281Z
    let ts = a.timestamp_utc().as_bytes();
    assert_eq!(ts.len(), 24, "{}", a.timestamp_utc());
    assert_eq!((ts[10], ts[19], ts[23]), (b'T', b'.', b'Z'));
    assert_eq!(a.os(), std::env::consts::OS);
    assert_eq!(a.outcome(), Outcome::Ok);
    assert!(a.attrs().is_empty());
    assert!(!a.to_json().contains("duration_ms"));
}

#[test]
fn with_attr_replaces_a_key() {
    let e = Event::new("a", "t", "1", "m")
        .with_attr("k", 1)
        .with_attr("k", true);
    assert_eq!(e.attrs()["k"], AttrValue::Bool(true));
}

#[test]
fn machine_id_is_64_hex_stable_and_salted() {
    let a = MachineId::derive("salt-a");
    assert_eq!(a.len(), 64);
    assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(a, MachineId::derive("salt-a"));
    assert_ne!(a, MachineId::derive("salt-b"));
    let raw = std::fs::read_to_string("/etc/machine-id").unwrap_or_default();
    if !raw.trim().is_empty() {
        assert!(!a.contains(raw.trim()), "the raw machine id never appears");
    }
}

#[test]
fn machine_id_in_a_data_dir_is_stable() {
    let dir = tempfile::tempdir().unwrap();
    let a = MachineId::derive_in("salt", dir.path());
    assert_eq!(a, MachineId::derive_in("salt", dir.path()));
    assert_eq!(a.len(), 64);
}
