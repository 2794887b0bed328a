//! The `telemetry` subcommand against a live context: withdrawing consent drops what is
//! buffered, and nothing collected before is delivered afterwards.
#![cfg(feature = "collect")]

use std::time::Duration;

use telemetry::TelemetryContext;
use telemetry::cli::TelemetryCommand;
use telemetry::consent::Env;
use telemetry::sink::MemorySink;

fn context(config: &std::path::Path, sink: MemorySink) -> TelemetryContext {
    TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1"))
        .data_dir(config.join("data"))
        .sink(sink)
        // Hold events in the queue: a batch of 1000 or 60 s, whichever comes first.
        .batch_size(1000)
        .linger(Duration::from_secs(60))
        .env(
            Env::empty()
                .with_config_dir(config)
                .with_var("MYTOOL_TELEMETRY", "1"),
        )
        .build()
        .unwrap()
}

#[test]
fn disable_drops_buffered_events_and_none_is_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let sink = MemorySink::new();
    let ctx = context(dir.path(), sink.clone());
    assert!(ctx.is_enabled());
    for i in 0..5 {
        telemetry::record!(ctx, "cmd.step", i = i).unwrap();
    }
    assert_eq!(ctx.stats().queued, 5);

    let mut out = Vec::new();
    TelemetryCommand::Disable { all_tools: false }
        .run_with_output(&ctx, &mut out)
        .unwrap();
    let report = String::from_utf8(out).unwrap();
    assert!(report.contains("dropped 5 unsent event(s)"), "{report}");

    telemetry::record!(ctx, "cmd.after", i = 9).unwrap();
    ctx.flush_blocking(Duration::from_secs(10)).unwrap();
    assert!(sink.snapshot().is_empty(), "{:?}", sink.snapshot());
    assert!(!ctx.is_enabled());
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("telemetry.json")).unwrap())
            .unwrap();
    assert_eq!(file["enabled"], false);
}

#[test]
fn reset_sends_a_deletion_request_with_the_machine_id() {
    let dir = tempfile::tempdir().unwrap();
    let sink = MemorySink::new();
    let ctx = context(dir.path(), sink.clone());
    telemetry::record!(ctx, "cmd.step", i = 1).unwrap();

    let mut out = Vec::new();
    TelemetryCommand::Reset
        .run_with_output(&ctx, &mut out)
        .unwrap();
    let events = sink.snapshot();
    let names: Vec<_> = events.iter().map(|e| e.name()).collect();
    assert_eq!(
        names,
        ["data.deletion_request"],
        "the buffered event was dropped, the request sent"
    );
    assert_eq!(events[0].machine_id(), ctx.machine_id());
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("ok: deletion request event sent")
    );
}

#[test]
fn schema_lists_the_catalog_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path(), MemorySink::new());
    let mut out = Vec::new();
    TelemetryCommand::Schema { markdown: false }
        .run_with_output(&ctx, &mut out)
        .unwrap();
    let schema: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let listed = schema["events"].as_array().unwrap();
    // The catalog, and the deletion request `reset` sends through the sinks.
    assert_eq!(listed.len(), telemetry::catalog::events().len() + 1);
    assert!(listed.iter().any(|e| e["name"] == "data.deletion_request"));
}

#[test]
fn reset_with_a_mailto_requestor_prints_a_link_without_injection() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1"))
        .data_dir(dir.path().join("data"))
        .sink(MemorySink::new())
        .deletion_requestor(
            telemetry::deletion::MailtoDeletionRequestor::new("privacy@example.com").unwrap(),
        )
        .env(
            Env::empty()
                .with_config_dir(dir.path())
                .with_var("MYTOOL_TELEMETRY", "1"),
        )
        .build()
        .unwrap();
    let mut out = Vec::new();
    TelemetryCommand::Reset
        .run_with_output(&ctx, &mut out)
        .unwrap();
    let report = String::from_utf8(out).unwrap();
    let link = report
        .split_whitespace()
        .find(|w| w.starts_with("mailto:"))
        .unwrap_or_else(|| panic!("no link in {report}"));
    assert!(link.starts_with("mailto:privacy@example.com?subject=Telemetry%20data%20deletion"));
    assert!(link.contains(&ctx.machine_id()[..16]), "{link}");
}

#[cfg(feature = "http")]
mod delivery_support;

#[cfg(feature = "http")]
mod with_a_loopback_server {
    use super::*;

    use super::delivery_support::{Reply, Server};

    fn context_with(server: &Server, dir: &std::path::Path) -> TelemetryContext {
        let requestor =
            telemetry::deletion::HttpDeletionRequestor::builder(&server.url("/v1/delete"))
                .allow_insecure_http(true)
                .api_key("x-api-key", "k-secret")
                .build()
                .unwrap();
        TelemetryContext::builder()
            .tool(telemetry::tool!("mytool", "1"))
            .data_dir(dir.join("data"))
            .sink(MemorySink::new())
            .deletion_requestor(requestor)
            .env(
                Env::empty()
                    .with_config_dir(dir)
                    .with_var("MYTOOL_TELEMETRY", "1"),
            )
            .build()
            .unwrap()
    }

    #[test]
    fn reset_posts_the_machine_id_to_the_deletion_endpoint() {
        let server = Server::start(Reply::Status(202));
        let dir = tempfile::tempdir().unwrap();
        let ctx = context_with(&server, dir.path());
        let mut out = Vec::new();
        TelemetryCommand::Reset
            .run_with_output(&ctx, &mut out)
            .unwrap();
        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("POST", "/v1/delete")
        );
        assert_eq!(request.header("x-api-key"), Some("k-secret"));
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body, serde_json::json!({ "machine_id": ctx.machine_id() }));
        let report = String::from_utf8(out).unwrap();
        assert!(
            report.contains("ok: deletion request accepted by http://127.0.0.1:"),
            "{report}"
        );
        assert!(!report.contains("k-secret"));
    }

    #[test]
    fn local_only_mode_keeps_events_in_the_local_log_and_transmits_nothing() {
        let server = Server::start(Reply::Status(200));
        let dir = tempfile::tempdir().unwrap();
        let sink = telemetry::sink::HttpSink::builder(&server.url("/v1/events"))
            .allow_insecure_http(true)
            .build()
            .unwrap();
        let ctx = TelemetryContext::builder()
            .tool(telemetry::tool!("mytool", "1"))
            .data_dir(dir.path().join("data"))
            .sink(sink)
            .env(
                Env::empty()
                    .with_config_dir(dir.path())
                    .with_var("MYTOOL_TELEMETRY", "1")
                    .with_var("MYTOOL_TELEMETRY_LOCAL", "1"),
            )
            .build()
            .unwrap();
        assert!(ctx.decision().local_only);
        telemetry::record!(ctx, "cmd.build", jobs = 2).unwrap();
        ctx.flush_blocking(Duration::from_secs(10)).unwrap();
        drop(ctx);
        let log = std::fs::read_to_string(dir.path().join("data/events.jsonl")).unwrap();
        assert_eq!(log.lines().count(), 1, "{log}");
        assert!(log.contains("cmd.build"));
        assert!(server.requests().is_empty(), "nothing transmitted");
        assert!(
            !dir.path().join("data/spool").exists(),
            "no journal for a local sink"
        );
    }

    #[test]
    fn a_refused_deletion_request_is_reported_and_the_local_reset_completes() {
        let server = Server::start(Reply::Status(500));
        let dir = tempfile::tempdir().unwrap();
        let ctx = context_with(&server, dir.path());
        let mut out = Vec::new();
        let err = TelemetryCommand::Reset
            .run_with_output(&ctx, &mut out)
            .unwrap_err();
        assert!(
            matches!(
                err,
                telemetry::TelemetryError::Http {
                    status: Some(500),
                    ..
                }
            ),
            "{err:?}"
        );
        let report = String::from_utf8(out).unwrap();
        assert!(report.contains("failed: deletion request"), "{report}");
        assert!(report.contains("ok: telemetry disabled"), "{report}");
        let file: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("telemetry.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(file["enabled"], false);
    }
}
