//! `TelemetryContext`: recording, delivery order, attributes, the bounded queue and
//! flush errors, observed through real sinks.
#![cfg(feature = "collect")]

use std::time::Duration;

use telemetry::sink::{FileSink, MemorySink};
use telemetry::{AttrValue, CollectionPolicy, TelemetryContext, TelemetryError};
use telemetry_tests::HangingSink;

const WAIT: Duration = Duration::from_secs(10);

fn enabled(sink: impl telemetry::sink::TelemetrySink) -> TelemetryContext {
    TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1.2.3"))
        .salt("test-salt")
        .data_dir(std::env::temp_dir().join("telemetry-tests-data"))
        .sink(sink)
        .policy(CollectionPolicy::Enabled)
        .build()
        .unwrap()
}

#[test]
fn context_is_clone_send_sync() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<TelemetryContext>();
}

#[tokio::test]
async fn record_emits_when_enabled() {
    let sink = MemorySink::new();
    let ctx = enabled(sink.clone());
    telemetry::record!(ctx, "cmd.build").unwrap();
    ctx.flush().await.unwrap();
    let events = sink.snapshot();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(
        (e.name(), e.tool(), e.tool_version()),
        ("cmd.build", "mytool", "1.2.3")
    );
    assert_eq!(
        e.machine_id(),
        telemetry::MachineId::derive_in("test-salt", ctx.data_dir().unwrap())
    );
    assert_eq!(e.duration_ms(), None);
}

#[tokio::test]
async fn record_does_nothing_when_disabled() {
    let sink = MemorySink::new();
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1"))
        .sink(sink.clone())
        .policy(CollectionPolicy::Disabled)
        .build()
        .unwrap();
    telemetry::record!(ctx, "cmd.build").unwrap();
    telemetry::record!(ctx, "cmd.test", k = 1).unwrap();
    ctx.flush().await.unwrap();
    assert!(sink.snapshot().is_empty());
    assert_eq!(ctx.stats().queued, 0);
}

#[derive(telemetry::SafeValue, Clone, Copy)]
enum Profile {
    Debug,
    Release,
}

#[tokio::test]
async fn recorded_attrs_beat_defaults() {
    let sink = MemorySink::new();
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1"))
        .sink(sink.clone())
        .policy(CollectionPolicy::Enabled)
        .data_dir(std::env::temp_dir().join("telemetry-tests-data"))
        .default_attrs(telemetry::attrs!(
            channel = Channel::Beta,
            profile = Profile::Debug
        ))
        .build()
        .unwrap();
    telemetry::record!(ctx, "cmd.build", profile = Profile::Release, jobs = 8).unwrap();
    ctx.flush().await.unwrap();
    let events = sink.snapshot();
    let attrs = events[0].attrs();
    let text = |key: &str| attrs[key].as_str().map(str::to_owned);
    assert_eq!(
        text("profile").as_deref(),
        Some("release"),
        "per-event attr wins"
    );
    assert_eq!(
        text("channel").as_deref(),
        Some("beta"),
        "default attr kept"
    );
    assert_eq!(attrs["jobs"], AttrValue::Int(8));
    let _ = Profile::Debug;
}

#[tokio::test]
async fn records_arrive_in_order() {
    let sink = MemorySink::new();
    let ctx = enabled(sink.clone());
    for i in 0..250 {
        telemetry::record!(ctx, "cmd.step", i = i).unwrap();
    }
    ctx.flush().await.unwrap();
    let order: Vec<_> = sink
        .snapshot()
        .into_iter()
        .map(|e| e.attrs()["i"].clone())
        .collect();
    let expected: Vec<_> = (0..250).map(AttrValue::Int).collect();
    assert_eq!(order, expected);
    assert_eq!(ctx.stats().delivered, 250);
}

#[test]
fn sync_recording_works_without_any_runtime() {
    let sink = MemorySink::new();
    let ctx = enabled(sink.clone());
    telemetry::record!(ctx, "cmd.build", jobs = 2).unwrap();
    ctx.flush_blocking(WAIT).unwrap();
    assert_eq!(sink.snapshot().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_inside_a_multi_thread_runtime() {
    let sink = MemorySink::new();
    let ctx = enabled(sink.clone());
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                for _ in 0..25 {
                    telemetry::record!(ctx, "cmd.task").unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    ctx.flush().await.unwrap();
    assert_eq!(sink.snapshot().len(), 100);
}

#[test]
fn a_full_queue_drops_the_newest_and_counts_every_drop() {
    let data = tempfile::tempdir().unwrap();
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1"))
        .data_dir(data.path())
        // No spool: the worker is stuck in the sink, so only the queue holds events.
        .delivery_mode(telemetry::DeliveryMode::AtMostOnce)
        .sink(HangingSink)
        .policy(CollectionPolicy::Enabled)
        .queue_capacity(10)
        .batch_size(1)
        .build()
        .unwrap();
    let mut refused = 0;
    for i in 0..100 {
        match telemetry::record!(ctx, "cmd.step", i = i) {
            Ok(()) => {}
            Err(TelemetryError::QueueFull { capacity: 10 }) => refused += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(ctx.stats().dropped, refused);
    // The worker holds at most one batch (of 1) in the hanging sink; the queue holds 10.
    assert!(refused >= 89, "refused {refused}");
    assert!(ctx.stats().queued <= 10);
}

#[test]
fn an_unwritable_file_sink_surfaces_its_error_from_flush() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("blocker"), "").unwrap();
    let ctx = enabled(FileSink::new(dir.path().join("blocker/events.jsonl")));
    telemetry::record!(ctx, "cmd.build", jobs = 1).unwrap();
    let err = ctx.flush_blocking(WAIT).unwrap_err();
    assert!(matches!(err, TelemetryError::Io { .. }), "{err:?}");
    assert_eq!(ctx.stats().failed, 1);
    // The error was reported once; the next flush has nothing new to report.
    ctx.flush_blocking(WAIT).unwrap();
}

#[test]
fn disabling_at_run_time_drops_what_is_queued() {
    let sink = MemorySink::new();
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1"))
        .sink(sink.clone())
        .policy(CollectionPolicy::Enabled)
        .data_dir(std::env::temp_dir().join("telemetry-tests-data"))
        .linger(Duration::from_secs(30))
        .batch_size(1000)
        .build()
        .unwrap();
    for _ in 0..5 {
        telemetry::record!(ctx, "cmd.step", i = 1).unwrap();
    }
    ctx.set_policy(CollectionPolicy::Disabled);
    telemetry::record!(ctx, "cmd.after", i = 2).unwrap();
    ctx.flush_blocking(WAIT).unwrap();
    // The worker may have taken the first event before the policy changed (it waits
    // for a batch of 1000 or 30 s, so in practice none): nothing recorded later arrives.
    assert!(sink.snapshot().iter().all(|e| e.name() != "cmd.after"));
    assert_eq!(ctx.stats().queued, 0);
}

#[test]
fn builder_errors_are_errors_not_panics() {
    let cases = [
        TelemetryContext::builder().sink(MemorySink::new()).build(),
        TelemetryContext::builder()
            .tool(telemetry::tool!("t", "1"))
            .build(),
        TelemetryContext::builder()
            .tool(telemetry::tool!("t", "1"))
            .sink(MemorySink::new())
            .queue_capacity(0)
            .build(),
    ];
    for (i, case) in cases.into_iter().enumerate() {
        let err = case.unwrap_err();
        assert!(
            matches!(err, TelemetryError::Config(_)),
            "case {i}: {err:?}"
        );
        let code = miette::Diagnostic::code(&err).unwrap().to_string();
        assert_eq!(code, "telemetry::config");
    }
}

#[derive(telemetry::SafeValue, Clone, Copy)]
enum Channel {
    Beta,
}

#[tokio::test]
async fn the_run_time_api_takes_safe_values_of_every_kind() {
    let sink = MemorySink::new();
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1.2.3-beta.1+build.5"))
        .sink(sink.clone())
        .policy(CollectionPolicy::Enabled)
        .default_attrs(telemetry::attrs!(
            channel = Channel::Beta,
            left_out = None::<u8>
        ))
        .build()
        .unwrap();
    telemetry::record!(ctx, "cmd.a", shell = Channel::Beta).unwrap();
    telemetry::record!(ctx, "cmd.b", jobs = Some(3_u16), none = None::<u16>).unwrap();
    telemetry::record!(
        ctx,
        "cmd.c",
        ratio = 0.5,
        id = telemetry::Hashed::new("id", "x")
    )
    .unwrap();
    ctx.flush().await.unwrap();
    let events = sink.snapshot();
    let keys: Vec<Vec<&str>> = events
        .iter()
        .map(|e| e.attrs().keys().map(|k| &**k).collect())
        .collect();
    // `Hashed` computes nothing while no context is installed: left out.
    assert_eq!(
        keys,
        [
            vec!["channel", "shell"],
            vec!["channel", "jobs"],
            vec!["channel", "ratio"],
        ]
    );
    assert_eq!(
        events[0].attr("shell").and_then(AttrValue::as_str),
        Some("beta")
    );
    assert_eq!(events[1].attr("jobs"), Some(&AttrValue::Int(3)));
    assert_eq!(events[0].tool_version(), "1.2.3-beta.1+build.5");
}

#[test]
fn record_events_are_in_the_catalog() {
    let ctx = enabled(MemorySink::new());
    telemetry::record!(ctx, "cmd.catalogued", count = 1_u32).unwrap();
    let spec = telemetry::catalog::events()
        .into_iter()
        .find(|s| s.name() == "cmd.catalogued")
        .expect("a record! site is in the catalog, called or not");
    assert_eq!(spec.keys().collect::<Vec<_>>(), [("count", "any")]);
}

#[derive(telemetry::SafeValue, Clone, Copy)]
enum Kind {
    Full,
}

/// A shared `const` name and a keyword key (`r#type` is the key `type`).
#[test]
fn record_takes_a_const_name_and_raw_identifier_keys() {
    const CMD: &str = "cmd.const_name";
    let sink = MemorySink::new();
    let ctx = enabled(sink.clone());
    telemetry::record!(ctx, CMD, r#type = Kind::Full).unwrap();
    telemetry::record!(ctx, CMD, r#type = Kind::Full,).unwrap();
    ctx.flush_blocking(WAIT).unwrap();
    let events = sink.snapshot();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].name(), "cmd.const_name");
    assert_eq!(
        events[0].attr("type").and_then(AttrValue::as_str),
        Some("full")
    );
}

/// `record!` reads its values only when the context records: off, nothing is evaluated.
#[test]
fn record_reads_no_value_when_telemetry_is_off() {
    let reads = std::cell::Cell::new(0_u32);
    let read = || {
        reads.set(reads.get() + 1);
        1_u8
    };
    let off = TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1"))
        .sink(MemorySink::new())
        .policy(CollectionPolicy::Disabled)
        .build()
        .unwrap();
    telemetry::record!(off, "cmd.off", n = read()).unwrap();
    telemetry::record!("cmd.off", n = read()).unwrap();
    assert_eq!(reads.get(), 0);
    let on = enabled(MemorySink::new());
    telemetry::record!(on, "cmd.off", n = read()).unwrap();
    assert_eq!(reads.get(), 1);
}
