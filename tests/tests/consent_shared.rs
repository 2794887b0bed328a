//! One switch for every tool built with this library (`telemetry enable|disable
//! --all-tools`), with two real tools sharing a temporary `HOME`: the demo and
//! `other-tool` (tool `other`). And the CI variables: the documented list is the one
//! checked, and generic names do not turn telemetry off outside CI.

use std::path::Path;

/// Two real tools in one temporary `HOME`.
#[cfg(feature = "collect")]
mod two_tools {
    use std::path::{Path, PathBuf};
    use std::process::Output;

    use telemetry_tests::{command_in_home, demo_events, read_events, run_demo};

    const OTHER: &str = env!("CARGO_BIN_EXE_other-tool");

    fn demo(home: &Path, args: &[&str]) -> Output {
        run_demo(env!("CARGO_BIN_EXE_demo"), home, args, &[])
    }

    fn other(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        command_in_home(OTHER, home)
            .args(args)
            .envs(env.iter().copied())
            .output()
            .expect("other-tool runs")
    }

    /// Runs a command that must succeed; returns its stdout.
    #[track_caller]
    fn ok(out: Output) -> String {
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    fn shared_file(home: &Path) -> PathBuf {
        home.join(".config/telemetry-rs/consent.json")
    }

    fn other_events(home: &Path) -> usize {
        read_events(&home.join(".local/share/other/telemetry/events.jsonl")).len()
    }

    fn other_status(home: &Path) -> serde_json::Value {
        serde_json::from_str(&ok(other(home, &["telemetry", "status", "--json"], &[]))).unwrap()
    }

    #[test]
    fn disable_all_tools_in_one_tool_turns_another_off_until_its_own_later_enable() {
        let home = tempfile::tempdir().unwrap();
        let home = home.path();
        ok(other(home, &["telemetry", "enable"], &[]));
        ok(other(home, &["run"], &[]));
        assert_eq!(other_events(home), 1);

        // The demo turns every tool off.
        let said = ok(demo(home, &["telemetry", "disable", "--all-tools"]));
        assert!(said.contains("disabled for every tool"), "{said}");
        let file: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(shared_file(home)).unwrap()).unwrap();
        assert_eq!(file["enabled"], false);
        #[cfg(unix)]
        assert_eq!(telemetry_tests::mode_of(&shared_file(home)), 0o600);

        ok(other(home, &["run"], &[]));
        assert_eq!(other_events(home), 1, "the other tool is off too");
        let status = other_status(home);
        assert_eq!(status["enabled"], false);
        assert_eq!(status["decided_by"], "shared_config");
        assert_eq!(status["shared_decision"], false);
        assert_eq!(
            status["shared_config_file"],
            shared_file(home).display().to_string()
        );
        let human = ok(other(home, &["telemetry", "status"], &[]));
        assert!(
            human.contains("all tools:") && human.contains("disabled for every tool"),
            "{human}"
        );

        // The other tool's own decision, made later, counts for it alone.
        ok(other(home, &["telemetry", "enable"], &[]));
        ok(other(home, &["run"], &[]));
        assert_eq!(other_events(home), 2);
        assert_eq!(other_status(home)["decided_by"], "config_file");
        ok(demo(home, &["build"]));
        assert_eq!(demo_events(home), [], "the demo stays off");
    }

    #[test]
    fn enable_all_tools_turns_on_a_tool_never_enabled_on_its_own() {
        let home = tempfile::tempdir().unwrap();
        let home = home.path();
        ok(other(home, &["run"], &[]));
        assert_eq!(other_events(home), 0, "opt-in: off by default");

        let said = ok(demo(home, &["telemetry", "enable", "--all-tools"]));
        assert!(said.contains("enabled for every tool"), "{said}");
        ok(other(home, &["run"], &[]));
        assert_eq!(other_events(home), 1);
        assert_eq!(other_status(home)["decided_by"], "shared_config");
        ok(demo(home, &["build"]));
        assert_eq!(demo_events(home).len(), 1);

        // A tool's own `disable`, later, turns that tool off only.
        ok(other(home, &["telemetry", "disable"], &[]));
        ok(other(home, &["run"], &[]));
        assert_eq!(other_events(home), 1);
        ok(demo(home, &["test"]));
        assert_eq!(demo_events(home).len(), 2);
    }

    #[test]
    fn generic_build_variables_do_not_switch_telemetry_off_outside_ci() {
        let home = tempfile::tempdir().unwrap();
        let home = home.path();
        ok(other(home, &["telemetry", "enable"], &[]));
        for var in [("BUILD_ID", "42"), ("BUILD_NUMBER", "7"), ("RUN_ID", "x1")] {
            ok(other(home, &["run"], &[var]));
        }
        assert_eq!(other_events(home), 3);
        let out = other(
            home,
            &["telemetry", "status", "--json"],
            &[("BUILD_ID", "42")],
        );
        let status: serde_json::Value = serde_json::from_str(&ok(out)).unwrap();
        assert_eq!(status["decided_by"], "config_file");
        // A CI service's own variable does.
        ok(other(home, &["run"], &[("GITHUB_ACTIONS", "true")]));
        assert_eq!(other_events(home), 3);
    }
}

/// `docs/consent.md` lists exactly the variables the library checks, in order.
#[test]
fn the_documented_ci_variables_are_the_checked_ones() {
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/consent.md"))
            .unwrap();
    let section = docs
        .split("<!-- ci-variables -->")
        .nth(1)
        .expect("docs/consent.md marks its list of CI variables");
    let listed: Vec<&str> = section
        .lines()
        .take_while(|l| !l.starts_with("<!--"))
        .filter_map(|l| l.strip_prefix("- `")?.split('`').next())
        .collect();
    assert_eq!(listed, telemetry::consent::CI_VARS);
}
