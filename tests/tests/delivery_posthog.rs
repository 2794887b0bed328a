//! `PostHogSink` against a loopback server standing in for PostHog's batch capture API:
//! the payload checked field by field against the documented shape
//! (<https://posthog.com/docs/api/capture>), refusals, `Retry-After`, splitting, the key.
#![cfg(all(feature = "collect", feature = "posthog"))]

mod delivery_support;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use delivery_support::{Reply, Server, recording, spooled};
use serde_json::{Map, Value, json};
use telemetry::sink::{MemorySink, PostHogSink, TelemetrySink};
use telemetry::{CollectionPolicy, Event, SendMode, TelemetryContext, TelemetryError};

const KEY: &str = "phc_loopback_project_key";
const WAIT: Duration = Duration::from_secs(20);

fn sink(server: &Server) -> PostHogSink {
    builder(server).build().unwrap()
}

fn builder(server: &Server) -> telemetry::sink::PostHogSinkBuilder {
    PostHogSink::builder(KEY, &server.url(""))
        .allow_insecure_http(true)
        .request_timeout(Duration::from_secs(2))
}

fn context(sink: PostHogSink, data_dir: &Path, batch_size: usize) -> TelemetryContext {
    recording(telemetry::tool!("mytool", "2.0.1"), sink, data_dir)
        .batch_size(batch_size)
        .build()
        .unwrap()
}

fn record(ctx: &TelemetryContext, n: i64) {
    for i in 0..n {
        telemetry::record!(ctx, "cmd.step", i = i).unwrap();
    }
}

fn spool(dir: &Path) -> PathBuf {
    dir.join("spool")
}

#[derive(telemetry::SafeValue)]
enum Profile {
    ReleaseLto,
}

#[derive(telemetry::SafeValue)]
enum Channel {
    Beta,
}

#[derive(Debug)]
struct BuildError;

#[telemetry::track("cmd.build", attrs(target = "x86_64", ratio = 0.25), capture(jobs))]
fn build(jobs: u16) -> Result<(), BuildError> {
    let _ = jobs;
    Err(BuildError)
}

/// What one event must become, written from the mapping table in the docs (not from
/// the sink's code): the four top-level fields, and as properties every other field of
/// the event, each attribute as `attrs.<key>`, and the two PostHog controls. Nothing
/// else, so no `$ip` and nothing the event does not hold.
fn expected_entry(event: &Event) -> Value {
    let mut properties = Map::new();
    properties.insert("$process_person_profile".into(), json!(false));
    properties.insert("$geoip_disable".into(), json!(true));
    properties.insert("tool".into(), json!(event.tool()));
    properties.insert("tool_version".into(), json!(event.tool_version()));
    properties.insert("session_id".into(), json!(event.session_id()));
    properties.insert("os".into(), json!(event.os()));
    properties.insert("arch".into(), json!(event.arch()));
    properties.insert("outcome".into(), json!(event.outcome().as_str()));
    if let Some(ms) = event.duration_ms() {
        properties.insert("duration_ms".into(), json!(ms));
    }
    if let Some(kind) = event.error_kind() {
        properties.insert("error_kind".into(), json!(kind));
    }
    for (key, value) in event.attrs() {
        let value = match value {
            telemetry::AttrValue::Bool(b) => json!(b),
            telemetry::AttrValue::Int(n) => json!(n),
            telemetry::AttrValue::UInt(n) => json!(n),
            telemetry::AttrValue::Float(f) => json!(f),
            telemetry::AttrValue::Str(s) => json!(s.as_str()),
            other => panic!("a value kind this test does not know: {other:?}"),
        };
        properties.insert(format!("attrs.{key}"), value);
    }
    json!({
        "event": event.name(),
        "distinct_id": event.machine_id(),
        "uuid": event.event_id(),
        "timestamp": event.timestamp_utc(),
        "properties": properties,
    })
}

#[test]
fn the_batch_is_posthogs_documented_payload_field_by_field() {
    let server = Server::start(Reply::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let local = MemorySink::new();
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "2.0.1"))
        .data_dir(dir.path())
        .sink(sink(&server))
        .sink(local.clone())
        .default_attrs(telemetry::attrs!(channel = Channel::Beta))
        // The exit waits for the sender instead of starting an uploader: this test
        // installs the context globally for the tracked call.
        .send_mode(SendMode::AtExit)
        .policy(CollectionPolicy::Enabled)
        .build()
        .unwrap();
    let guard = telemetry::init(ctx.clone());
    build(8).unwrap_err();
    telemetry::record!(
        ctx,
        "cmd.test",
        jobs = 3,
        release = true,
        profile = Profile::ReleaseLto
    )
    .unwrap();
    telemetry::record!(
        ctx,
        "cmd.sizes",
        big = u64::MAX,
        small = -7_i64,
        ratio = 0.5
    )
    .unwrap();
    ctx.flush_blocking(WAIT).unwrap();
    drop(guard);

    let sent = local.snapshot();
    assert_eq!(sent.len(), 3);
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "one batch, one request");
    let r = &requests[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/batch/"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(
        r.headers.iter().all(|(_, v)| !v.contains(KEY)),
        "the key travels in the body only: {:?}",
        r.headers
    );
    let body = r.json();
    let top: BTreeSet<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(top, BTreeSet::from(["api_key", "batch"]));
    assert_eq!(body["api_key"], KEY);

    let entries: HashMap<String, Value> = body["batch"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["uuid"].as_str().unwrap().to_owned(), e.clone()))
        .collect();
    assert_eq!(entries.len(), sent.len());
    for event in &sent {
        let entry = &entries[event.event_id()];
        assert_eq!(entry, &expected_entry(event), "{}", event.name());
        let properties = entry["properties"].as_object().unwrap();
        assert!(!properties.contains_key("$ip"));
        assert_eq!(properties["$process_person_profile"], json!(false));
        assert_eq!(entry["distinct_id"].as_str().unwrap().len(), 64);
        assert_eq!(
            properties["attrs.channel"], "beta",
            "default attributes too"
        );
    }

    // The tracked call: duration, outcome and error kind, literal and captured values.
    let build_event = sent.iter().find(|e| e.name() == "cmd.build").unwrap();
    let properties = &entries[build_event.event_id()]["properties"];
    assert_eq!(properties["outcome"], "error");
    assert_eq!(
        properties["error_kind"], "delivery_posthog::BuildError",
        "{properties}"
    );
    assert!(properties["duration_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(properties["attrs.jobs"], 8);
    assert_eq!(properties["attrs.target"], "x86_64");
    assert_eq!(properties["attrs.ratio"], 0.25);
    let sizes = sent.iter().find(|e| e.name() == "cmd.sizes").unwrap();
    let properties = &entries[sizes.event_id()]["properties"];
    assert_eq!(properties["attrs.big"], json!(u64::MAX));
    assert_eq!(properties["attrs.small"], -7);
    assert!(
        properties.get("duration_ms").is_none(),
        "record! has no duration"
    );
    let test = sent.iter().find(|e| e.name() == "cmd.test").unwrap();
    assert_eq!(
        entries[test.event_id()]["properties"]["attrs.profile"],
        "release_lto"
    );
}

#[test]
fn every_batch_is_delivered_once_and_the_spool_is_emptied() {
    let server = Server::start(Reply::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(sink(&server), dir.path(), 10);
    record(&ctx, 35);
    ctx.flush_blocking(WAIT).unwrap();

    let requests = server.requests();
    assert!(requests.len() >= 4, "{} requests", requests.len());
    assert!(
        requests
            .iter()
            .all(|r| r.path == "/batch/" && r.json()["api_key"] == KEY)
    );
    let uuids = server.accepted_posthog_uuids();
    assert_eq!(uuids.len(), 35);
    assert_eq!(uuids.iter().collect::<BTreeSet<_>>().len(), 35);
    let stats = ctx.stats();
    assert_eq!(
        (stats.delivered, stats.failed, stats.spooled_files),
        (35, 0, 0)
    );
    assert!(spooled(&spool(dir.path())).is_empty());
}

#[test]
fn a_400_or_413_drops_the_batch_counted_and_never_retries_it() {
    for status in [400, 413] {
        let server = Server::start(Reply::Status(status));
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(sink(&server), dir.path(), 100);
        record(&ctx, 3);
        let err = ctx.flush_blocking(WAIT).unwrap_err();
        assert!(
            matches!(
                err,
                TelemetryError::Http { status: Some(s), retryable: false, .. } if s == status
            ),
            "{err:?}"
        );
        assert_eq!(
            miette::Diagnostic::code(&err).unwrap().to_string(),
            "telemetry::http"
        );
        let text = format!("{err} {err:?}");
        assert!(!text.contains(KEY), "{text}");
        if status == 413 {
            assert!(text.contains("max_request_bytes"), "{text}");
        }
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(server.requests().len(), 1, "{status}: never retried");
        let stats = ctx.stats();
        assert_eq!(
            (
                stats.failed,
                stats.delivered,
                stats.retried,
                stats.spooled_events
            ),
            (3, 0, 0, 0),
            "{status}"
        );
    }
}

#[test]
fn a_429_or_503_is_retried_with_the_same_uuids_after_a_short_retry_after() {
    let server = Server::start(Reply::Status(200));
    server.script([Reply::RetryAfter(429, "1"), Reply::Status(503)]);
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(sink(&server), dir.path(), 100);
    record(&ctx, 3);
    ctx.flush_blocking(WAIT).unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), 3, "429 (Retry-After: 1), 503, then 200");
    let waited = requests[1].at.duration_since(requests[0].at);
    assert!(waited >= Duration::from_secs(1), "retried after {waited:?}");
    let first = requests[0].posthog_uuids();
    assert!(requests.iter().all(|r| r.posthog_uuids() == first));
    assert_eq!(server.accepted_posthog_uuids(), first, "accepted once");
    let stats = ctx.stats();
    assert_eq!((stats.retried, stats.delivered, stats.failed), (2, 3, 0));
    assert!(spooled(&spool(dir.path())).is_empty());
}

#[test]
fn a_429_with_a_long_retry_after_keeps_the_batch_in_the_spool_until_the_pause_ends() {
    let server = Server::start(Reply::Status(200));
    server.script([Reply::RetryAfter(429, "3600")]);
    let dir = tempfile::tempdir().unwrap();

    let first = context(sink(&server), dir.path(), 100);
    record(&first, 3);
    let err = first.flush_blocking(WAIT).unwrap_err();
    assert_eq!(
        err.retry_after(),
        Some(Duration::from_secs(3600)),
        "{err:?}"
    );
    drop(first);
    assert_eq!(server.requests().len(), 1, "no retry within the hour");
    assert_eq!(spooled(&spool(dir.path())).len(), 3, "kept for later");
    let refused = server.requests()[0].posthog_uuids();

    // A later run within the pause sends nothing.
    let second = context(sink(&server), dir.path(), 100);
    record(&second, 1);
    assert!(second.flush_blocking(WAIT).is_err());
    drop(second);
    assert_eq!(server.requests().len(), 1, "quiet during the pause");

    // Once the pause is over, everything goes out, with the original uuids.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    std::fs::write(
        spool(dir.path()).join("retry-after"),
        format!("{}\n", now - 1),
    )
    .unwrap();
    let third = context(sink(&server), dir.path(), 100);
    record(&third, 1);
    third.flush_blocking(WAIT).unwrap();
    let accepted = server.accepted_posthog_uuids();
    assert_eq!(
        accepted.len(),
        5,
        "both earlier runs' events and this one's"
    );
    assert_eq!(&accepted[..3], &refused[..], "oldest first, same uuids");
    assert!(spooled(&spool(dir.path())).is_empty());
}

#[test]
fn a_large_batch_is_split_into_requests_under_max_request_bytes() {
    let server = Server::start(Reply::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let limit = 2048;
    let sink = builder(&server).max_request_bytes(limit).build().unwrap();
    let ctx = context(sink, dir.path(), 200);
    record(&ctx, 60);
    ctx.flush_blocking(WAIT).unwrap();

    let requests = server.requests();
    assert!(requests.len() >= 5, "{} requests", requests.len());
    for r in &requests {
        assert!(r.body.len() <= limit, "{} bytes", r.body.len());
        assert_eq!(r.json()["api_key"], KEY);
        assert!(!r.posthog_uuids().is_empty());
    }
    let uuids = server.accepted_posthog_uuids();
    assert_eq!(uuids.len(), 60, "every event once");
    assert_eq!(uuids.iter().collect::<BTreeSet<_>>().len(), 60);
    let values: Vec<i64> = requests
        .iter()
        .flat_map(|r| {
            r.json()["batch"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["properties"]["attrs.i"].as_i64().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(values, (0..60).collect::<Vec<_>>(), "in order");
    let stats = ctx.stats();
    assert_eq!(
        (stats.delivered, stats.failed, stats.spooled_files),
        (60, 0, 0)
    );
}

/// A later part of a split batch fails: the whole batch is retried, so the parts the
/// server had accepted are sent again, with the same uuids (documented; PostHog may
/// count them twice, see the sink's docs). Nothing is lost.
#[test]
fn when_a_later_part_fails_the_whole_batch_is_sent_again() {
    let server = Server::start(Reply::Status(200));
    server.script([Reply::Status(200), Reply::Status(503)]);
    let dir = tempfile::tempdir().unwrap();
    let sink = builder(&server).max_request_bytes(2048).build().unwrap();
    let ctx = context(sink, dir.path(), 200);
    record(&ctx, 20);
    ctx.flush_blocking(WAIT).unwrap();

    let requests = server.requests();
    let first_part = requests[0].posthog_uuids();
    assert_eq!(
        requests[2].posthog_uuids(),
        first_part,
        "sent again from the start"
    );
    let accepted = server.accepted_posthog_uuids();
    assert_eq!(
        accepted.iter().collect::<BTreeSet<_>>().len(),
        20,
        "nothing lost"
    );
    assert_eq!(
        accepted.len(),
        20 + first_part.len(),
        "the first part twice"
    );
    let stats = ctx.stats();
    assert_eq!(
        (stats.delivered, stats.retried, stats.spooled_files),
        (20, 1, 0)
    );
}

#[test]
fn the_key_is_never_in_debug_describe_or_status_and_https_is_required() {
    let server = Server::start(Reply::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let sink = sink(&server);
    let shown = format!("{sink:?} {} {}", sink.describe(), sink.endpoint());
    assert!(!shown.contains(KEY), "{shown}");
    assert_eq!(
        sink.describe(),
        format!("posthog {}", server.url("/batch/"))
    );
    assert!(!sink.is_local());
    let ctx = context(sink, dir.path(), 10);
    assert!(!format!("{ctx:?}").contains(KEY));
    // What `telemetry status` prints for the sinks.
    assert!(ctx.describe_sinks().starts_with("posthog http://"));
    assert!(!ctx.describe_sinks().contains(KEY));

    // https unless allowed; no key, no sink (a binary built without it sends nothing).
    let err = PostHogSink::new(KEY, &server.url("")).unwrap_err();
    assert!(err.to_string().contains("https"), "{err}");
    assert!(!err.to_string().contains(KEY));
    assert!(PostHogSink::from_build_env(None, PostHogSink::US_CLOUD).is_none());
    assert!(PostHogSink::from_build_env(Some(""), PostHogSink::US_CLOUD).is_none());
    assert!(PostHogSink::from_build_env(Some(KEY), &server.url("")).is_none());
}
