//! `telemetry reset` sends a deletion request (which carries the machine id) only when
//! sending is allowed and something may have been sent: no environment veto
//! (`DO_NOT_TRACK`, `<TOOL>_TELEMETRY=0`, `<TOOL>_TELEMETRY_DISABLED`, CI), and telemetry
//! was enabled on this machine. Otherwise it does the local steps, sends nothing,
//! derives no machine id, and says why and how to send one.
//!
//! The real-process cases run the example tool against a loopback server and check
//! what the server received; the in-process cases check the machine-id derivation
//! counter (nothing else in this test binary derives one).
#![cfg(feature = "collect")]

use std::path::Path;
#[cfg(feature = "http")]
use std::process::Output;

use telemetry::cli::TelemetryCommand;
use telemetry::consent::Env;
use telemetry::sink::MemorySink;
use telemetry::{CollectionPolicy, TelemetryContext};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn config_json(config_dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(config_dir.join("telemetry.json")).unwrap())
        .unwrap()
}

/// A context whose only sink is `sink`, consent resolved from `env` (config dir `dir`).
fn context(dir: &Path, sink: MemorySink, env: Env) -> TelemetryContext {
    TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1"))
        .data_dir(dir.join("data"))
        .sink(sink)
        .env(env.with_config_dir(dir))
        .build()
        .unwrap()
}

fn reset(ctx: &TelemetryContext) -> (Result<(), telemetry::TelemetryError>, String) {
    let mut out = Vec::new();
    let result = TelemetryCommand::Reset.run_with_output(ctx, &mut out);
    (result, text(&out))
}

#[test]
fn in_process_a_vetoed_or_never_enabled_reset_sends_nothing_and_derives_no_id() {
    let derivations = telemetry::__diagnostics::machine_id_derivations();
    /// (environment, config file, what the report must say)
    type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>, &'a str);
    let cases: &[Case<'_>] = &[
        (&[], None, "telemetry was never enabled on this machine"),
        (
            &[("DO_NOT_TRACK", "1")],
            Some(r#"{"version":1,"enabled":true,"ever_enabled":true}"#),
            "without DO_NOT_TRACK set",
        ),
        (
            &[("MYTOOL_TELEMETRY", "0")],
            Some(r#"{"version":1,"enabled":true}"#),
            "without MYTOOL_TELEMETRY_DISABLED or MYTOOL_TELEMETRY=0 set",
        ),
        (
            &[("MYTOOL_TELEMETRY_DISABLED", "yes")],
            Some(r#"{"version":1,"enabled":true}"#),
            "MYTOOL_TELEMETRY_DISABLED",
        ),
        (
            &[("CI", "true")],
            Some(r#"{"version":1,"enabled":true}"#),
            "the CI variables",
        ),
        // A file written before `ever_enabled` existed, saying "disabled": unknown.
        (
            &[],
            Some(r#"{"version":1,"enabled":false,"decided_at":"2025-01-01T00:00:00.000Z"}"#),
            "run `mytool telemetry enable`, then `mytool telemetry reset`",
        ),
        // Disabled after being enabled, but the record was cleared by an earlier reset.
        (
            &[],
            Some(r#"{"version":1,"enabled":false,"ever_enabled":false}"#),
            "never enabled",
        ),
    ];
    for (vars, file, says) in cases {
        let dir = tempfile::tempdir().unwrap();
        if let Some(file) = file {
            std::fs::write(dir.path().join("telemetry.json"), file).unwrap();
        }
        let env = vars
            .iter()
            .fold(Env::empty(), |env, (k, v)| env.with_var(*k, *v));
        let sink = MemorySink::new();
        let ctx = context(dir.path(), sink.clone(), env);
        let (result, report) = reset(&ctx);
        assert!(result.is_ok(), "{vars:?}: {result:?}\n{report}");
        assert!(
            report.contains("skipped: no deletion request sent"),
            "{vars:?}: {report}"
        );
        assert!(
            report.contains(says),
            "{vars:?}: missing {says:?} in\n{report}"
        );
        assert!(report.contains("ok: telemetry disabled"), "{report}");
        assert!(
            sink.snapshot().is_empty(),
            "{vars:?}: {:?}",
            sink.snapshot()
        );
        // The library call says the same (the command only prints its report).
        let again = ctx.reset();
        assert!(
            matches!(again.deletion, telemetry::DeletionOutcome::NotSent(_)),
            "{:?}",
            again.deletion
        );
        assert!(sink.snapshot().is_empty());
    }
    // A policy chosen in code does not lift the environment's veto.
    let dir = tempfile::tempdir().unwrap();
    let sink = MemorySink::new();
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1"))
        .data_dir(dir.path().join("data"))
        .config_dir(dir.path())
        .sink(sink.clone())
        .policy(CollectionPolicy::Enabled)
        .env(Env::empty().with_var("DO_NOT_TRACK", "1"))
        .build()
        .unwrap();
    let (result, report) = reset(&ctx);
    assert!(result.is_ok(), "{report}");
    assert!(report.contains("without DO_NOT_TRACK set"), "{report}");
    assert!(sink.snapshot().is_empty());
    assert_eq!(
        telemetry::__diagnostics::machine_id_derivations(),
        derivations,
        "no machine id was derived for a request that is not sent"
    );
}

#[test]
fn in_process_the_record_survives_a_vetoed_reset() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("telemetry.json"),
        r#"{"version":1,"enabled":true,"ever_enabled":true,"theme":"dark"}"#,
    )
    .unwrap();
    let sink = MemorySink::new();
    let ctx = context(
        dir.path(),
        sink.clone(),
        Env::empty().with_var("DO_NOT_TRACK", "true"),
    );
    let (result, report) = reset(&ctx);
    assert!(result.is_ok(), "{report}");
    assert!(sink.snapshot().is_empty());
    let file = config_json(dir.path());
    assert_eq!(file["enabled"], false);
    assert_eq!(
        file["ever_enabled"], true,
        "kept, so a reset without DO_NOT_TRACK still sends"
    );
    assert_eq!(file["theme"], "dark");
}

#[cfg(feature = "http")]
mod delivery_support;

/// The real-process cases: the demo with an HTTP sink to a loopback server.
#[cfg(feature = "http")]
mod process {
    use super::*;

    use super::delivery_support::{Reply, Server};

    use telemetry_tests::{demo_config_dir, run_demo};

    const DEMO: &str = env!("CARGO_BIN_EXE_demo");

    fn demo(home: &Path, server: &Server, args: &[&str], env: &[(&str, &str)]) -> Output {
        let url = server.url("/v1/events");
        let mut all = vec![("DEMO_TELEMETRY_ENDPOINT", url.as_str())];
        all.extend_from_slice(env);
        run_demo(DEMO, home, args, &all)
    }

    fn deletion_requests(server: &Server) -> Vec<telemetry_tests::LoggedEvent> {
        server
            .requests()
            .iter()
            .flat_map(|r| {
                serde_json::from_slice::<Vec<telemetry_tests::LoggedEvent>>(&r.body).unwrap()
            })
            .filter(|e| e.name == "data.deletion_request")
            .collect()
    }

    #[test]
    fn an_environment_veto_wins_over_reset_and_a_later_reset_sends_once() {
        for veto in [
            ("DO_NOT_TRACK", "1"),
            ("DEMO_TELEMETRY", "0"),
            ("DEMO_TELEMETRY_DISABLED", "1"),
            ("CI", "true"),
            ("GITHUB_ACTIONS", "true"),
        ] {
            let home = tempfile::tempdir().unwrap();
            let server = Server::start(Reply::Status(200));
            assert!(
                demo(home.path(), &server, &["telemetry", "enable"], &[])
                    .status
                    .success()
            );
            assert_eq!(
                config_json(&demo_config_dir(home.path()))["ever_enabled"],
                true
            );
            // DO_NOT_TRACK also beats an explicit per-process opt-in.
            let mut env = vec![veto];
            if veto.0 == "DO_NOT_TRACK" {
                env.push(("DEMO_TELEMETRY", "1"));
            }
            let out = demo(home.path(), &server, &["telemetry", "reset"], &env);
            let report = text(&out.stdout);
            assert!(
                out.status.success(),
                "{veto:?}: {report}\n{}",
                text(&out.stderr)
            );
            assert!(
                report.contains("skipped: no deletion request sent"),
                "{veto:?}: {report}"
            );
            assert!(report.contains("without"), "says how to send one: {report}");
            assert!(report.contains("ok: telemetry disabled"), "{report}");
            assert!(
                server.requests().is_empty(),
                "{veto:?}: the server received {:?}",
                server.requests()
            );
            let file = config_json(&demo_config_dir(home.path()));
            assert_eq!(
                (file["enabled"].clone(), file["ever_enabled"].clone()),
                (false.into(), true.into())
            );

            // Without the veto the request is sent, exactly once, with the machine id.
            let out = demo(home.path(), &server, &["telemetry", "reset"], &[]);
            let report = text(&out.stdout);
            assert!(out.status.success(), "{report}\n{}", text(&out.stderr));
            assert!(
                report.contains("ok: deletion request event sent"),
                "{report}"
            );
            let sent = deletion_requests(&server);
            assert_eq!(sent.len(), 1, "{veto:?}");
            assert_eq!(sent[0].machine_id.len(), 64);
            assert_eq!(
                config_json(&demo_config_dir(home.path()))["ever_enabled"],
                false
            );

            // Nothing enabled since: a third reset has nothing to ask for.
            let out = demo(home.path(), &server, &["telemetry", "reset"], &[]);
            assert!(
                text(&out.stdout).contains("never enabled"),
                "{}",
                text(&out.stdout)
            );
            assert_eq!(deletion_requests(&server).len(), 1);
        }
    }

    #[test]
    fn a_machine_that_never_enabled_telemetry_sends_nothing() {
        let home = tempfile::tempdir().unwrap();
        let server = Server::start(Reply::Status(200));
        // Used, but never enabled.
        assert!(demo(home.path(), &server, &["build"], &[]).status.success());
        let out = demo(home.path(), &server, &["telemetry", "reset"], &[]);
        let report = text(&out.stdout);
        assert!(out.status.success(), "{report}");
        assert!(
            report.contains("telemetry was never enabled on this machine"),
            "{report}"
        );
        assert!(
            report.contains("run `demo telemetry enable`, then `demo telemetry reset`"),
            "{report}"
        );
        assert!(server.requests().is_empty(), "{:?}", server.requests());
        // No install id was created to derive an id for nothing.
        assert!(
            !telemetry_tests::demo_data_dir(home.path())
                .join("install_id")
                .exists()
        );
    }

    #[test]
    fn a_per_process_opt_in_is_recorded_and_a_later_reset_sends_the_request() {
        let home = tempfile::tempdir().unwrap();
        let server = Server::start(Reply::Status(200));
        let out = demo(home.path(), &server, &["build"], &[("DEMO_TELEMETRY", "1")]);
        assert!(out.status.success());
        let file = config_json(&demo_config_dir(home.path()));
        assert_eq!(file["ever_enabled"], true, "{file}");
        assert!(
            file.get("enabled").is_none_or(serde_json::Value::is_null),
            "no decision was made for the user: {file}"
        );
        // A dry run or a local-only run sends nothing, so it records nothing.
        for mode in ["DEMO_TELEMETRY_DRY_RUN", "DEMO_TELEMETRY_LOCAL"] {
            let home = tempfile::tempdir().unwrap();
            demo(
                home.path(),
                &server,
                &["build"],
                &[("DEMO_TELEMETRY", "1"), (mode, "1")],
            );
            assert!(
                !demo_config_dir(home.path()).join("telemetry.json").exists(),
                "{mode}"
            );
        }
        let before = deletion_requests(&server).len();
        let out = demo(home.path(), &server, &["telemetry", "reset"], &[]);
        assert!(out.status.success(), "{}", text(&out.stdout));
        assert_eq!(deletion_requests(&server).len(), before + 1);
    }

    #[test]
    fn a_legacy_config_file_saying_enabled_still_gets_its_request() {
        let home = tempfile::tempdir().unwrap();
        let server = Server::start(Reply::Status(200));
        let dir = demo_config_dir(home.path());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("telemetry.json"),
            r#"{"version":1,"enabled":true,"decided_at":"2025-01-01T00:00:00.000Z"}"#,
        )
        .unwrap();
        #[cfg(unix)]
        telemetry_tests::chmod(&dir.join("telemetry.json"), 0o600);
        let out = demo(home.path(), &server, &["telemetry", "reset"], &[]);
        assert!(out.status.success(), "{}", text(&out.stdout));
        assert_eq!(deletion_requests(&server).len(), 1);
    }
}
