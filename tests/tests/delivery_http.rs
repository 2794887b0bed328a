//! `HttpSink` and the spool against a real HTTP server on 127.0.0.1: batching, retries,
//! refusals, hanging servers, replay of earlier runs, bounds, corrupt files, purge.
#![cfg(all(feature = "collect", feature = "http"))]

mod delivery_support;

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use delivery_support::{BlackHole, Reply, Server, jsonl, recording, spooled, write_ready_file};
use telemetry::sink::HttpSink;
use telemetry::{CollectionPolicy, DeliveryMode, Event, TelemetryContext, TelemetryError};

const WAIT: Duration = Duration::from_secs(20);

fn context(server: &Server, data_dir: &Path, batch_size: usize) -> TelemetryContext {
    let sink = HttpSink::builder(&server.url("/v1/events"))
        .allow_insecure_http(true)
        .api_key("x-api-key", "k-secret")
        .request_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    recording(telemetry::tool!("mytool", "1.2.3"), sink, data_dir)
        .batch_size(batch_size)
        .build()
        .unwrap()
}

fn record(ctx: &TelemetryContext, n: i64) {
    for i in 0..n {
        telemetry::record!(ctx, "cmd.step", i = i).unwrap();
    }
}

fn spool(dir: &Path) -> std::path::PathBuf {
    dir.join("spool")
}

#[test]
fn every_batch_arrives_as_a_json_array_and_the_spool_is_emptied() {
    let server = Server::start(Reply::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(&server, dir.path(), 10);
    assert_eq!(ctx.delivery_mode(), DeliveryMode::AtLeastOnce);
    assert_eq!(ctx.spool_dir(), Some(spool(dir.path()).as_path()));
    record(&ctx, 35);
    ctx.flush_blocking(WAIT).unwrap();

    let requests = server.requests();
    assert!(requests.len() >= 4, "{} requests", requests.len());
    assert!(
        requests
            .iter()
            .all(|r| r.body.len() > 2 && r.method == "POST")
    );
    assert!(requests.iter().all(|r| r.path == "/v1/events"));
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
    assert_eq!(requests[0].header("x-api-key"), Some("k-secret"));
    let ids = server.accepted_ids();
    assert_eq!(ids.len(), 35);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 35);
    let stats = ctx.stats();
    assert_eq!(
        (stats.delivered, stats.failed, stats.spooled_files),
        (35, 0, 0)
    );
    assert!(spooled(&spool(dir.path())).is_empty());
    assert!(!format!("{ctx:?}").contains("k-secret"));
}

#[test]
fn a_500_then_200_is_delivered_once_per_event_id_after_a_retry() {
    let server = Server::start(Reply::Status(200));
    server.script([Reply::Status(500), Reply::Status(429), Reply::Close]);
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(&server, dir.path(), 100);
    record(&ctx, 5);
    ctx.flush_blocking(WAIT).unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), 4, "500, 429, closed, then 200");
    let first = requests[0].event_ids();
    for r in &requests {
        assert_eq!(r.event_ids(), first, "a retry resends the same event ids");
    }
    assert_eq!(server.accepted_ids(), first, "accepted exactly once");
    let stats = ctx.stats();
    assert_eq!(
        (stats.retried, stats.delivered, stats.spooled_files),
        (3, 5, 0)
    );
}

#[test]
fn a_4xx_refusal_drops_the_batch_and_counts_it_without_retrying() {
    let server = Server::start(Reply::Status(400));
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(&server, dir.path(), 100);
    record(&ctx, 3);
    let err = ctx.flush_blocking(WAIT).unwrap_err();
    assert!(
        matches!(
            err,
            TelemetryError::Http {
                status: Some(400),
                retryable: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        miette::Diagnostic::code(&err).unwrap().to_string(),
        "telemetry::http"
    );
    assert_eq!(server.requests().len(), 1, "never retried");
    let stats = ctx.stats();
    assert_eq!(
        (stats.failed, stats.delivered, stats.spooled_events),
        (3, 0, 0)
    );
}

#[test]
fn a_hanging_server_leaves_every_event_on_disk_and_flush_returns_on_time() {
    let server = Server::start(Reply::Hang);
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(&server, dir.path(), 5);
    record(&ctx, 23);
    let started = Instant::now();
    let err = ctx.flush_blocking(Duration::from_millis(100)).unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, TelemetryError::Timeout { .. }), "{err:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    // Everything accepted is journaled although the first request still hangs.
    let on_disk = spooled(&spool(dir.path()));
    assert_eq!(on_disk.len(), 23, "all accepted events are on disk");
    assert_eq!(ctx.stats().spooled_events, 23);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&spool(dir.path())), 0o700);
        for entry in std::fs::read_dir(spool(dir.path())).unwrap() {
            assert_eq!(mode(&entry.unwrap().path()), 0o600);
        }
    }
}

#[test]
fn batches_left_by_an_earlier_run_are_replayed_oldest_first_with_their_event_ids() {
    let server = Server::start(Reply::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let old: Vec<Vec<Event>> = (0..3)
        .map(|f| {
            (0..2)
                .map(|i| {
                    telemetry_tests::spooled_event("cmd.old", "mytool", "1.2.3", dir.path())
                        .with_attr("i", f * 10 + i)
                })
                .collect()
        })
        .collect();
    // Written out of order: replay goes by age (the name), not by directory order.
    for f in [2, 0, 1] {
        write_ready_file(&spool(dir.path()), 100 + f as u64, &jsonl(&old[f]));
    }
    let ctx = context(&server, dir.path(), 100);
    record(&ctx, 1);
    ctx.flush_blocking(WAIT).unwrap();

    let ids = server.accepted_ids();
    let expected: Vec<String> = old
        .iter()
        .flatten()
        .map(|e| e.event_id().to_owned())
        .collect();
    assert_eq!(ids.len(), 7);
    assert_eq!(&ids[..6], &expected[..], "oldest first, ids kept");
    let stats = ctx.stats();
    assert_eq!(
        (stats.replayed, stats.delivered, stats.spooled_files),
        (6, 7, 0)
    );
}

#[test]
fn corrupt_and_truncated_lines_are_skipped_and_counted_the_rest_is_delivered() {
    let server = Server::start(Reply::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let good: Vec<Event> = (0..2)
        .map(|i| {
            telemetry_tests::spooled_event("cmd.old", "mytool", "1.2.3", dir.path())
                .with_attr("i", i)
        })
        .collect();
    let mut content = String::from("not json at all\n");
    content.push_str(&jsonl(&good));
    // A process killed mid-write leaves half a line.
    content.push_str(&good[0].to_json()[..40]);
    write_ready_file(&spool(dir.path()), 1, &content);
    write_ready_file(&spool(dir.path()), 2, "\u{0}\u{1}garbage");
    let ctx = context(&server, dir.path(), 100);
    record(&ctx, 1);
    ctx.flush_blocking(WAIT).unwrap();

    let ids = server.accepted_ids();
    assert_eq!(ids.len(), 3);
    assert_eq!(
        ids[..2],
        [good[0].event_id().to_owned(), good[1].event_id().to_owned()]
    );
    let stats = ctx.stats();
    assert_eq!(stats.corrupt_skipped, 3);
    assert_eq!(stats.spooled_files, 0, "the unreadable file is gone too");
}

/// A line written into the spool by something else than the library (valid JSON, valid
/// names) is held to what this binary could have made: run-time text in a field every
/// event carries refuses the line (counted like a corrupt one); in an attribute or
/// `error_kind` it is left out and the rest is sent. Nothing of it reaches the server.
#[test]
fn planted_spool_lines_with_free_text_are_refused_and_never_sent() {
    let server = Server::start(Reply::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let good =
        telemetry_tests::spooled_event("cmd.old", "mytool", "1.2.3", dir.path()).with_attr("i", 1);
    let line = good.to_json();
    let secret = "/home/alice/secret";
    let plant = |from: &str, to: String| {
        let changed = line.replacen(from, &to, 1);
        assert_ne!(changed, line, "{from}");
        changed
    };
    let q = |text: &str| format!("\"{text}\"");
    let refused = [
        plant("\"tool\":\"mytool\"", format!("\"tool\":\"{secret}\"")),
        plant(
            "\"tool_version\":\"1.2.3\"",
            format!("\"tool_version\":\"1.2.3{secret}\""),
        ),
        plant(&q(good.machine_id()), q(secret)),
        plant(&q(good.event_id()), q(secret)),
        plant(&q(good.session_id()), q(secret)),
        plant(&q(good.timestamp_utc()), q(secret)),
        plant(&q(std::env::consts::ARCH), q(secret)),
        plant(
            "\"name\":\"cmd.old\"",
            "\"name\":\"home.alice.documents\"".to_owned(),
        ),
    ];
    let cleaned = [
        plant("\"i\":1", format!("\"i\":\"{secret}\"")),
        plant(
            "\"i\":1",
            "\"i\":1,\"alice_home\":\"home-alice\"".to_owned(),
        ),
        plant(
            "\"outcome\":\"ok\"",
            "\"outcome\":\"error\",\"error_kind\":\"Password of alice is hunter\"".to_owned(),
        ),
    ];
    let mut content = refused.join("\n");
    content.push('\n');
    content.push_str(&cleaned.join("\n"));
    content.push('\n');
    content.push_str(&line);
    content.push('\n');
    write_ready_file(&spool(dir.path()), 1, &content);
    let ctx = context(&server, dir.path(), 100);
    record(&ctx, 1);
    ctx.flush_blocking(WAIT).unwrap();

    let bodies: Vec<String> = server
        .requests()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(bodies.iter().all(|b| !b.contains("alice")), "{bodies:?}");
    let ids = server.accepted_ids();
    assert_eq!(
        ids.len(),
        cleaned.len() + 2,
        "the cleaned lines, the good line and the new event"
    );
    assert!(ids.contains(&good.event_id().to_owned()));
    assert_eq!(ctx.stats().corrupt_skipped, refused.len() as u64);
}

/// What the library made is replayed even when this run would not make it the same
/// way: a default attribute another run had (the attribute is left out, the event
/// sent), a non-finite float (written as `null`).
#[test]
fn replay_keeps_events_the_library_made_in_another_run() {
    let server = Server::start(Reply::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let events = [
        telemetry_tests::spooled_event("cmd.old", "mytool", "1.2.3", dir.path())
            .with_attr("i", 1)
            .with_attr("ci_provider", true),
        telemetry_tests::spooled_event("cmd.old", "mytool", "1.2.3", dir.path())
            .with_attr("i", f64::NAN),
    ];
    write_ready_file(&spool(dir.path()), 1, &jsonl(&events));
    let ctx = context(&server, dir.path(), 100);
    record(&ctx, 1);
    ctx.flush_blocking(WAIT).unwrap();
    let ids = server.accepted_ids();
    assert_eq!(ids.len(), 3, "both replayed, then the new event");
    assert_eq!(
        ids[..2],
        [
            events[0].event_id().to_owned(),
            events[1].event_id().to_owned()
        ]
    );
    assert_eq!(ctx.stats().corrupt_skipped, 0);
    let body = String::from_utf8_lossy(&server.requests()[0].body).into_owned();
    assert!(
        !body.contains("ci_provider"),
        "an undeclared attribute is left out: {body}"
    );
}

#[test]
fn over_its_bounds_the_spool_prunes_the_oldest_batches_and_counts_them() {
    let server = Server::start(Reply::Hang);
    let dir = tempfile::tempdir().unwrap();
    for f in 0..5 {
        let events: Vec<Event> = (0..2)
            .map(|_| telemetry_tests::spooled_event("cmd.old", "mytool", "1", dir.path()))
            .collect();
        write_ready_file(&spool(dir.path()), f, &jsonl(&events));
    }
    let sink = HttpSink::builder(&server.url("/"))
        .allow_insecure_http(true)
        .build()
        .unwrap();
    let ctx = recording(telemetry::tool!("mytool", "1"), sink, dir.path())
        .spool_limits(3, 1 << 20)
        .build()
        .unwrap();
    record(&ctx, 1);
    let _ = ctx.flush_blocking(Duration::from_millis(200));
    let stats = ctx.stats();
    assert_eq!(stats.spooled_files, 3, "{stats:?}");
    assert_eq!(
        (stats.pruned_files, stats.pruned_events),
        (3, 6),
        "{stats:?}"
    );
}

#[test]
fn purge_deletes_the_spool_and_stops_sending() {
    let server = Server::start(Reply::Hang);
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(&server, dir.path(), 5);
    record(&ctx, 12);
    let _ = ctx.flush_blocking(Duration::from_millis(100));
    assert!(server.wait_until(WAIT, |r| !r.is_empty()));
    assert_eq!(spooled(&spool(dir.path())).len(), 12);

    assert_eq!(ctx.purge(), 12);
    assert!(spooled(&spool(dir.path())).is_empty());
    assert_eq!(ctx.stats().purged, 12);
    // The server recovers: nothing purged is sent any more.
    server.set_default(Reply::Status(200));
    std::thread::sleep(Duration::from_millis(500));
    assert!(server.accepted_ids().is_empty(), "purged events were sent");
    // New events after the purge still go out.
    record(&ctx, 1);
    ctx.flush_blocking(WAIT).unwrap();
    assert_eq!(server.accepted_ids().len(), 1);
}

#[test]
fn disabling_purges_the_spool() {
    let server = Server::start(Reply::Hang);
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(&server, dir.path(), 5);
    record(&ctx, 7);
    let _ = ctx.flush_blocking(Duration::from_millis(100));
    assert_eq!(spooled(&spool(dir.path())).len(), 7);
    ctx.set_policy(CollectionPolicy::Disabled);
    assert!(spooled(&spool(dir.path())).is_empty());
    assert_eq!(ctx.stats().queued, 0);
}

#[test]
fn an_unwritable_spool_counts_the_events_and_still_sends_them_from_memory() {
    let server = Server::start(Reply::Status(200));
    let dir = tempfile::tempdir().unwrap();
    // The data dir is a regular file: nothing can be created below it (even as root).
    let blocked = dir.path().join("blocked");
    std::fs::write(&blocked, b"").unwrap();
    let ctx = context(&server, &blocked, 100);
    record(&ctx, 4);
    ctx.flush_blocking(WAIT).unwrap();
    let stats = ctx.stats();
    assert_eq!((stats.spool_errors, stats.delivered), (4, 4), "{stats:?}");
    assert_eq!(server.accepted_ids().len(), 4);
}

#[test]
fn local_sinks_are_written_once_while_the_network_sink_retries() {
    let server = Server::start(Reply::Status(200));
    server.script([Reply::Status(503)]);
    let dir = tempfile::tempdir().unwrap();
    let memory = telemetry::sink::MemorySink::new();
    let sink = HttpSink::builder(&server.url("/"))
        .allow_insecure_http(true)
        .build()
        .unwrap();
    let ctx = recording(telemetry::tool!("mytool", "1"), sink, dir.path())
        .sink(memory.clone())
        .build()
        .unwrap();
    record(&ctx, 3);
    ctx.flush_blocking(WAIT).unwrap();
    assert_eq!(
        memory.snapshot().len(),
        3,
        "the local sink saw each event once"
    );
    assert_eq!(server.accepted_ids().len(), 3);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn without_a_network_sink_there_is_no_spool_unless_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let base = || {
        recording(
            telemetry::tool!("mytool", "1"),
            telemetry::sink::MemorySink::new(),
            dir.path(),
        )
    };
    let ctx = base().build().unwrap();
    assert_eq!(ctx.delivery_mode(), DeliveryMode::AtMostOnce);
    assert!(ctx.spool_dir().is_none());
    let ctx = base()
        .delivery_mode(DeliveryMode::AtLeastOnce)
        .build()
        .unwrap();
    assert_eq!(ctx.delivery_mode(), DeliveryMode::AtLeastOnce);
    record(&ctx, 2);
    ctx.flush_blocking(WAIT).unwrap();
    assert_eq!(ctx.stats().delivered, 2);
    assert_eq!(ctx.stats().spooled_files, 0);
}

#[test]
fn a_panicking_sink_is_an_error_not_a_dead_pipeline() {
    struct Panics;
    #[async_trait::async_trait]
    impl telemetry::sink::TelemetrySink for Panics {
        async fn emit(&self, _event: &Event) -> Result<(), TelemetryError> {
            panic!("sink bug");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let ctx = recording(telemetry::tool!("mytool", "1"), Panics, dir.path())
        .build()
        .unwrap();
    for round in 1..=2 {
        record(&ctx, 1);
        let err = ctx.flush_blocking(WAIT).unwrap_err();
        assert!(matches!(err, TelemetryError::SinkPanicked), "{err:?}");
        // Dropped and counted, not retried: a bug would only panic again.
        assert_eq!(ctx.stats().retried, 0);
        assert_eq!(ctx.stats().failed, round);
        assert_eq!(ctx.stats().spooled_files, 0);
    }
}

/// The end of the server's pause recorded in the spool, and the time now (unix
/// seconds).
fn recorded_pause(data_dir: &Path) -> (u64, u64) {
    let until = std::fs::read_to_string(spool(data_dir).join("retry-after"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    (until, now)
}

#[test]
fn a_short_retry_after_is_waited_for_before_the_next_attempt() {
    let server = Server::start(Reply::Status(200));
    // The backoff alone would retry after 100–200 ms.
    server.script([Reply::RetryAfter(503, "1")]);
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(&server, dir.path(), 100);
    record(&ctx, 3);
    ctx.flush_blocking(WAIT).unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), 2, "503 with Retry-After: 1, then 200");
    let waited = requests[1].at.duration_since(requests[0].at);
    assert!(waited >= Duration::from_secs(1), "retried after {waited:?}");
    assert_eq!(server.accepted_ids().len(), 3);
    assert!(spooled(&spool(dir.path())).is_empty());
}

#[test]
fn a_long_retry_after_keeps_every_run_quiet_until_it_ends() {
    let server = Server::start(Reply::Status(200));
    server.script([Reply::RetryAfter(429, "3600")]);
    let dir = tempfile::tempdir().unwrap();
    let pause_file = spool(dir.path()).join("retry-after");

    let first = context(&server, dir.path(), 100);
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
    let (until, now) = recorded_pause(dir.path());
    assert!(
        (now + 3500..=now + 3601).contains(&until),
        "{until} vs {now}"
    );

    // A later run records and flushes within the pause: nothing is sent, nothing lost.
    let second = context(&server, dir.path(), 100);
    record(&second, 2);
    let err = second.flush_blocking(WAIT).unwrap_err();
    assert!(err.to_string().contains("Retry-After"), "{err}");
    drop(second);
    assert_eq!(server.requests().len(), 1, "the second run sent nothing");
    assert_eq!(spooled(&spool(dir.path())).len(), 5);

    // Once the pause is over (its end moved into the past), a run sends everything.
    std::fs::write(&pause_file, format!("{}\n", now - 1)).unwrap();
    let third = context(&server, dir.path(), 100);
    record(&third, 1);
    third.flush_blocking(WAIT).unwrap();
    assert_eq!(server.accepted_ids().len(), 6);
    assert!(spooled(&spool(dir.path())).is_empty());
}

#[test]
fn a_corrupt_or_far_future_pause_file_is_ignored() {
    for content in ["not a time\n", "99999999999\n", ""] {
        let server = Server::start(Reply::Status(200));
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(spool(dir.path())).unwrap();
        std::fs::write(spool(dir.path()).join("retry-after"), content).unwrap();
        let ctx = context(&server, dir.path(), 100);
        record(&ctx, 2);
        ctx.flush_blocking(WAIT).unwrap();
        assert_eq!(server.accepted_ids().len(), 2, "{content:?}");
    }
}

#[test]
fn purge_also_forgets_the_servers_pause() {
    let server = Server::start(Reply::RetryAfter(503, "3600"));
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(&server, dir.path(), 100);
    record(&ctx, 2);
    assert!(ctx.flush_blocking(WAIT).is_err());
    assert!(spool(dir.path()).join("retry-after").exists());
    assert_eq!(ctx.purge(), 2);
    assert!(
        !spool(dir.path()).exists(),
        "the spool dir is gone entirely"
    );
}

/// A network sink of the tool's own that asks for a pause far longer than any server
/// may.
struct EndlessPause;

#[async_trait::async_trait]
impl telemetry::sink::TelemetrySink for EndlessPause {
    async fn emit(&self, _event: &Event) -> Result<(), TelemetryError> {
        Err(TelemetryError::Http {
            endpoint: "https://custom.example".into(),
            status: Some(429),
            message: "slow down".into(),
            retryable: true,
            retry_after: Some(Duration::MAX),
        })
    }
    fn describe(&self) -> String {
        "endless pause".into()
    }
}

#[test]
fn a_custom_sinks_pause_is_capped_and_the_sender_keeps_running() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = recording(
        telemetry::tool!("mytool", "1.2.3"),
        EndlessPause,
        dir.path(),
    )
    .build()
    .unwrap();
    record(&ctx, 2);
    assert!(ctx.flush_blocking(WAIT).is_err());
    let (until, now) = recorded_pause(dir.path());
    assert!(
        until <= now + 24 * 3600 + 1,
        "{until} vs {now}: capped at a day"
    );
    // The sender is alive: it answers the next flush, with the pause as the reason.
    record(&ctx, 1);
    let err = ctx.flush_blocking(WAIT).unwrap_err();
    assert!(err.to_string().contains("Retry-After"), "{err}");
    assert_eq!(spooled(&spool(dir.path())).len(), 3, "nothing lost");
}

/// `SendMode::Background`: a run that lasts a few seconds opens no connection (its
/// batches wait for the uploader); a process that keeps running sends them from its own
/// sender thread once it has run for 30 s, without any flush.
#[test]
fn a_long_running_process_sends_on_its_own_after_a_while_and_a_short_one_does_not() {
    let server = Server::start(Reply::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(&server, dir.path(), 2);
    assert_eq!(ctx.send_mode(), telemetry::SendMode::Background);
    record(&ctx, 3);
    // Two full batches are on disk at once, the third after the 1 s linger.
    let until = Instant::now() + WAIT;
    while spooled(&spool(dir.path())).len() < 3 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(spooled(&spool(dir.path())).len(), 3, "persisted");
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        server.requests().is_empty(),
        "no connection in the first seconds"
    );
    let until = Instant::now() + Duration::from_secs(60);
    while server.accepted_ids().len() < 3 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(server.accepted_ids().len(), 3, "sent by the process itself");
    assert_eq!(server.requests().len(), 2, "batches of at most 2");
    assert!(spooled(&spool(dir.path())).is_empty());
}

/// Whatever the deadline, zero included, every accepted event is in the spool when the
/// guard's drop returns, and when the last handle of a context used without `init` is
/// dropped.
#[test]
fn at_deadline_zero_every_accepted_event_is_on_disk_when_the_exit_returns() {
    let hole = BlackHole::start();
    let sink = || {
        HttpSink::builder(&hole.url("/v1/events"))
            .allow_insecure_http(true)
            .build()
            .unwrap()
    };
    for installed in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let ctx = recording(telemetry::tool!("mytool", "1.2.3"), sink(), dir.path())
            .send_mode(telemetry::SendMode::AtExit)
            .deadline(Duration::ZERO)
            .build()
            .unwrap();
        let kept = || -> HashSet<String> {
            spooled(&spool(dir.path()))
                .into_iter()
                .map(|e| e.event_id)
                .collect()
        };
        record(&ctx, 200);
        if installed {
            // `ctx` outlives the guard: the guard's drop alone must have persisted.
            drop(telemetry::init(ctx.clone()));
            assert_eq!(kept().len(), 200, "when the guard's drop returns");
        }
        drop(ctx);
        assert_eq!(kept().len(), 200, "when the last handle is dropped");
    }
}

/// An exit writes everything it holds into one spool file; the sender still sends at
/// most a batch per request, and when a later request of that file fails, what was
/// already delivered is taken out: nothing is sent twice, nothing is lost, the rest
/// keeps its place.
#[test]
fn a_file_larger_than_a_batch_goes_out_in_batches_and_a_partial_send_keeps_only_the_rest() {
    let server = Server::start(Reply::Status(200));
    server.script([
        Reply::Status(200),
        Reply::Status(500),
        Reply::Status(500),
        Reply::Status(500),
        Reply::Status(500),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let events: Vec<Event> = (0..25)
        .map(|i| {
            telemetry_tests::spooled_event("cmd.old", "mytool", "1.2.3", dir.path())
                .with_attr("i", i)
        })
        .collect();
    write_ready_file(&spool(dir.path()), 7, &jsonl(&events));
    let ctx = context(&server, dir.path(), 10);
    record(&ctx, 1);
    assert!(
        ctx.flush_blocking(WAIT).is_err(),
        "the second request failed"
    );
    let sizes: Vec<usize> = server
        .requests()
        .iter()
        .map(|r| r.event_ids().len())
        .collect();
    assert_eq!(
        sizes,
        [10, 10, 10, 10, 10],
        "batches of 10, the second retried"
    );
    let left: HashSet<String> = spooled(&spool(dir.path()))
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    let old_ids: Vec<String> = events.iter().map(|e| e.event_id().to_owned()).collect();
    assert_eq!(left.len(), 16, "the 15 not delivered and the new event");
    assert!(
        old_ids[10..].iter().all(|id| left.contains(id)),
        "only the 15 not delivered are kept"
    );

    ctx.flush_blocking(WAIT).unwrap();
    let ids = server.accepted_ids();
    assert_eq!(ids.len(), 26);
    assert_eq!(
        &ids[..25],
        &old_ids[..],
        "each event once, the rest still before the newer event"
    );
    assert!(left.contains(&ids[25]), "then the new one");
    assert!(spooled(&spool(dir.path())).is_empty());
}

/// In background mode the exit hands delivery over (to the uploader, or the next run):
/// the process's own sender sends nothing afterwards, even when asked to flush, so a
/// batch is not sent by both. (The uploader is kept from starting here by holding its
/// lock, as a running uploader would.)
#[cfg(unix)]
#[test]
fn after_a_background_exit_the_process_itself_sends_nothing_more() {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let server = Server::start(Reply::Status(200));
    let dir = tempfile::tempdir().unwrap();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(spool(dir.path()))
        .unwrap();
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(spool(dir.path()).join("upload.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1.2.3"))
        .data_dir(dir.path())
        .sink(
            HttpSink::builder(&server.url("/v1/events"))
                .allow_insecure_http(true)
                .build()
                .unwrap(),
        )
        .policy(CollectionPolicy::Enabled)
        // No CI detection from this test's own environment: background mode.
        .env(telemetry::consent::Env::empty())
        .build()
        .unwrap();
    assert_eq!(ctx.send_mode(), telemetry::SendMode::Background);
    let guard = telemetry::init(ctx.clone());
    record(&ctx, 2);
    telemetry::shutdown().unwrap();
    assert_eq!(spooled(&spool(dir.path())).len(), 2, "persisted");
    // Asked to deliver after the exit: the spool is no longer this process's to send.
    let _ = ctx.flush_blocking(Duration::from_secs(2));
    assert!(
        server.requests().is_empty(),
        "{} requests",
        server.requests().len()
    );
    assert_eq!(
        spooled(&spool(dir.path())).len(),
        2,
        "left for the uploader"
    );
    drop(guard);
    lock.unlock().unwrap();
}

#[test]
fn credentials_in_the_endpoint_go_as_a_decoded_basic_header() {
    let server = Server::start(Reply::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let url = server
        .url("/v1/events")
        .replacen("http://", "http://user:p%40ss@", 1);
    let sink = HttpSink::builder(&url)
        .allow_insecure_http(true)
        .build()
        .unwrap();
    let shown = telemetry::sink::TelemetrySink::describe(&sink);
    assert!(
        !shown.contains("p%40ss") && !shown.contains("user"),
        "{shown}"
    );
    let ctx = recording(telemetry::tool!("mytool", "1.2.3"), sink, dir.path())
        .build()
        .unwrap();
    record(&ctx, 1);
    ctx.flush_blocking(WAIT).unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    // base64("user:p@ss"): the password percent-decoded, as a browser or curl sends it.
    assert_eq!(
        requests[0].header("authorization"),
        Some("Basic dXNlcjpwQHNz")
    );
}
