//! Every resolution rule and its precedence, table-driven.

use super::CollectionPolicy::{Disabled, Enabled};
use super::*;

fn opt_out() -> ToolInfo {
    ToolInfo::new("my-tool").with_mode(ConsentMode::OptOut {
        notice: "notice".into(),
    })
}

fn config(dir: &std::path::Path, json: &str) {
    std::fs::write(dir.join(CONFIG_FILE), json).unwrap();
}

#[cfg(feature = "collect")]
#[test]
fn rules_and_precedence() {
    // The table's parts live here: they are used only where collection is compiled in.
    const ON: &str = r#"{"version":1,"enabled":true}"#;
    const OFF: &str = r#"{"version":1,"enabled":false}"#;
    const NOTICE_SHOWN: &str = r#"{"version":1,"notice_shown_at":"2026-01-01T00:00:00.000Z"}"#;

    // Decisions with a time, for the shared file's rule: the later decision counts.
    const ON_EARLY: &str =
        r#"{"version":1,"enabled":true,"decided_at":"2026-01-01T00:00:00.000Z"}"#;
    const OFF_EARLY: &str =
        r#"{"version":1,"enabled":false,"decided_at":"2026-01-01T00:00:00.000Z"}"#;
    const ON_LATE: &str = r#"{"version":1,"enabled":true,"decided_at":"2026-02-01T00:00:00.000Z"}"#;
    const OFF_LATE: &str =
        r#"{"version":1,"enabled":false,"decided_at":"2026-02-01T00:00:00.000Z"}"#;

    struct Case {
        name: &'static str,
        vars: &'static [(&'static str, &'static str)],
        file: Option<&'static str>,
        /// The consent file shared by every tool.
        shared: Option<&'static str>,
        opt_out: bool,
        terminal: bool,
        expect: (CollectionPolicy, DecisionSource),
    }

    const fn case(
        name: &'static str,
        vars: &'static [(&'static str, &'static str)],
        file: Option<&'static str>,
        expect: (CollectionPolicy, DecisionSource),
    ) -> Case {
        Case {
            name,
            vars,
            file,
            shared: None,
            opt_out: false,
            terminal: false,
            expect,
        }
    }

    use DecisionSource as S;
    let cases = [
        case(
            "nothing set: opt-in default",
            &[],
            None,
            (Disabled, S::Default),
        ),
        case(
            "DO_NOT_TRACK=1",
            &[("DO_NOT_TRACK", "1")],
            Some(ON),
            (Disabled, S::DoNotTrack),
        ),
        case(
            "DO_NOT_TRACK=yes",
            &[("DO_NOT_TRACK", "yes")],
            None,
            (Disabled, S::DoNotTrack),
        ),
        case(
            "DO_NOT_TRACK beats env opt-in",
            &[("DO_NOT_TRACK", "1"), ("MY_TOOL_TELEMETRY", "1")],
            None,
            (Disabled, S::DoNotTrack),
        ),
        case(
            "DO_NOT_TRACK=0 is not set",
            &[("DO_NOT_TRACK", "0")],
            Some(ON),
            (Enabled, S::ConfigFile),
        ),
        case(
            "DO_NOT_TRACK=false is not set",
            &[("DO_NOT_TRACK", "FALSE")],
            Some(ON),
            (Enabled, S::ConfigFile),
        ),
        case(
            "DO_NOT_TRACK empty is not set",
            &[("DO_NOT_TRACK", "")],
            Some(ON),
            (Enabled, S::ConfigFile),
        ),
        case(
            "TOOL_TELEMETRY_DISABLED=1",
            &[("MY_TOOL_TELEMETRY_DISABLED", "1")],
            Some(ON),
            (Disabled, S::EnvDisabled),
        ),
        case(
            "TOOL_TELEMETRY_DISABLED=true beats TOOL_TELEMETRY=1",
            &[
                ("MY_TOOL_TELEMETRY_DISABLED", "true"),
                ("MY_TOOL_TELEMETRY", "1"),
            ],
            None,
            (Disabled, S::EnvDisabled),
        ),
        case(
            "TOOL_TELEMETRY=off",
            &[("MY_TOOL_TELEMETRY", "off")],
            Some(ON),
            (Disabled, S::EnvDisabled),
        ),
        case(
            "TOOL_TELEMETRY=No",
            &[("MY_TOOL_TELEMETRY", "No")],
            Some(ON),
            (Disabled, S::EnvDisabled),
        ),
        case(
            "TOOL_TELEMETRY=1",
            &[("MY_TOOL_TELEMETRY", "1")],
            Some(OFF),
            (Enabled, S::EnvEnabled),
        ),
        case(
            "TOOL_TELEMETRY=YES wins over CI",
            &[("MY_TOOL_TELEMETRY", "YES"), ("CI", "true")],
            None,
            (Enabled, S::EnvEnabled),
        ),
        case(
            "TOOL_TELEMETRY=maybe is ignored",
            &[("MY_TOOL_TELEMETRY", "maybe")],
            Some(ON),
            (Enabled, S::ConfigFile),
        ),
        case("CI=true", &[("CI", "true")], Some(ON), (Disabled, S::Ci)),
        case(
            "GITHUB_ACTIONS",
            &[("GITHUB_ACTIONS", "true")],
            Some(ON),
            (Disabled, S::Ci),
        ),
        case(
            "JENKINS_URL",
            &[("JENKINS_URL", "http://ci")],
            Some(ON),
            (Disabled, S::Ci),
        ),
        case(
            "CI=false is not CI",
            &[("CI", "false")],
            Some(ON),
            (Enabled, S::ConfigFile),
        ),
        case("config enabled", &[], Some(ON), (Enabled, S::ConfigFile)),
        case("config disabled", &[], Some(OFF), (Disabled, S::ConfigFile)),
        case(
            "config corrupt",
            &[],
            Some("{oops"),
            (Disabled, S::ConfigFile),
        ),
        case(
            "config from the future",
            &[],
            Some(r#"{"version":9,"enabled":true}"#),
            (Disabled, S::ConfigFile),
        ),
        case(
            "config without a decision",
            &[],
            Some(NOTICE_SHOWN),
            (Disabled, S::Default),
        ),
        Case {
            opt_out: true,
            ..case(
                "opt-out, notice not shown",
                &[],
                None,
                (Disabled, S::NoticePending),
            )
        },
        Case {
            opt_out: true,
            terminal: true,
            ..case(
                "opt-out on a terminal, notice not shown",
                &[],
                None,
                (Disabled, S::NoticePending),
            )
        },
        Case {
            opt_out: true,
            ..case(
                "opt-out, notice shown earlier",
                &[],
                Some(NOTICE_SHOWN),
                (Enabled, S::Default),
            )
        },
        Case {
            opt_out: true,
            ..case(
                "opt-out, user disabled",
                &[],
                Some(OFF),
                (Disabled, S::ConfigFile),
            )
        },
        Case {
            opt_out: true,
            ..case(
                "opt-out in CI",
                &[("CI", "1")],
                Some(NOTICE_SHOWN),
                (Disabled, S::Ci),
            )
        },
        Case {
            opt_out: true,
            ..case(
                "opt-out, corrupt file",
                &[],
                Some("[]"),
                (Disabled, S::ConfigFile),
            )
        },
        // The consent file shared by every tool (`--all-tools`).
        Case {
            shared: Some(OFF_EARLY),
            ..case(
                "shared off, no decision of the tool",
                &[],
                None,
                (Disabled, S::SharedConfig),
            )
        },
        Case {
            shared: Some(ON_EARLY),
            ..case(
                "shared on enables an opt-in tool",
                &[],
                None,
                (Enabled, S::SharedConfig),
            )
        },
        Case {
            shared: Some(ON_EARLY),
            opt_out: true,
            ..case(
                "shared on: no notice needed",
                &[],
                None,
                (Enabled, S::SharedConfig),
            )
        },
        Case {
            shared: Some(OFF_LATE),
            ..case(
                "shared off, later than the tool's enable",
                &[],
                Some(ON_EARLY),
                (Disabled, S::SharedConfig),
            )
        },
        Case {
            shared: Some(OFF_EARLY),
            ..case(
                "the tool's enable, later than shared off",
                &[],
                Some(ON_LATE),
                (Enabled, S::ConfigFile),
            )
        },
        Case {
            shared: Some(ON_LATE),
            ..case(
                "shared on, later than the tool's disable",
                &[],
                Some(OFF_EARLY),
                (Enabled, S::SharedConfig),
            )
        },
        Case {
            shared: Some(ON_EARLY),
            ..case(
                "the tool's disable, later than shared on",
                &[],
                Some(OFF_LATE),
                (Disabled, S::ConfigFile),
            )
        },
        Case {
            shared: Some(ON_EARLY),
            ..case(
                "same time, different decisions: off wins",
                &[],
                Some(OFF_EARLY),
                (Disabled, S::ConfigFile),
            )
        },
        Case {
            shared: Some(OFF_EARLY),
            ..case(
                "a decision without a time is older",
                &[],
                Some(ON),
                (Disabled, S::SharedConfig),
            )
        },
        Case {
            shared: Some(ON_EARLY),
            ..case(
                "the tool's file without a decision",
                &[],
                Some(NOTICE_SHOWN),
                (Enabled, S::SharedConfig),
            )
        },
        Case {
            shared: Some("{oops"),
            ..case(
                "shared corrupt: off",
                &[],
                Some(ON_LATE),
                (Disabled, S::SharedConfig),
            )
        },
        Case {
            shared: Some(r#"{"version":9,"enabled":true}"#),
            ..case(
                "shared from the future: off",
                &[],
                None,
                (Disabled, S::SharedConfig),
            )
        },
        Case {
            shared: Some(ON_LATE),
            ..case(
                "the tool's file corrupt: off",
                &[],
                Some("[]"),
                (Disabled, S::ConfigFile),
            )
        },
        Case {
            shared: Some(ON_LATE),
            ..case(
                "the environment wins over shared on",
                &[("MY_TOOL_TELEMETRY", "0")],
                None,
                (Disabled, S::EnvDisabled),
            )
        },
        Case {
            shared: Some(OFF_LATE),
            ..case(
                "TOOL_TELEMETRY=1 wins over shared off",
                &[("MY_TOOL_TELEMETRY", "1")],
                None,
                (Enabled, S::EnvEnabled),
            )
        },
        Case {
            shared: Some(ON_LATE),
            ..case(
                "CI wins over shared on",
                &[("CI", "1")],
                None,
                (Disabled, S::Ci),
            )
        },
        // Generic names some build scripts export outside CI: not CI.
        case(
            "BUILD_ID is not CI",
            &[("BUILD_ID", "42")],
            Some(ON),
            (Enabled, S::ConfigFile),
        ),
        case(
            "BUILD_NUMBER is not CI",
            &[("BUILD_NUMBER", "7")],
            Some(ON),
            (Enabled, S::ConfigFile),
        ),
        case(
            "RUN_ID is not CI",
            &[("RUN_ID", "abc")],
            Some(ON),
            (Enabled, S::ConfigFile),
        ),
        case(
            "TEAMCITY_VERSION is CI",
            &[("TEAMCITY_VERSION", "2024.1"), ("BUILD_NUMBER", "7")],
            Some(ON),
            (Disabled, S::Ci),
        ),
    ];
    for c in cases {
        let dir = tempfile::tempdir().unwrap();
        if let Some(json) = c.file {
            config(dir.path(), json);
        }
        let shared = tempfile::tempdir().unwrap();
        if let Some(json) = c.shared {
            std::fs::write(shared.path().join(SHARED_CONSENT_FILE), json).unwrap();
        }
        let mut env = Env::empty()
            .with_config_dir(dir.path())
            .with_shared_config_dir(shared.path())
            .with_terminal(c.terminal);
        for (k, v) in c.vars {
            env = env.with_var(*k, *v);
        }
        let tool = if c.opt_out {
            opt_out()
        } else {
            ToolInfo::new("my-tool")
        };
        let d = resolve(&tool, &env);
        assert_eq!((d.policy, d.source), c.expect, "case: {}", c.name);
        assert_eq!(
            d.notice_due,
            c.name == "opt-out on a terminal, notice not shown",
            "case: {}",
            c.name
        );
    }
}

#[cfg(feature = "collect")]
#[test]
fn unrecognised_values_warn_and_count_as_unset() {
    let env = Env::empty()
        .with_var("MY_TOOL_TELEMETRY", "sure")
        .with_var("MY_TOOL_TELEMETRY_SHOW", "please");
    let d = resolve(&ToolInfo::new("my-tool"), &env);
    assert_eq!((d.policy, d.source), (Disabled, DecisionSource::Default));
    assert_eq!(d.warnings.len(), 2, "{:?}", d.warnings);
    assert!(d.warnings[0].contains("MY_TOOL_TELEMETRY=\"sure\""));
    assert!(!d.show);
}

#[test]
fn show_dry_run_and_local_flags() {
    let env = Env::empty()
        .with_var("MY_TOOL_TELEMETRY_SHOW", "1")
        .with_var("MY_TOOL_TELEMETRY_DRY_RUN", "true")
        .with_var("MY_TOOL_TELEMETRY_LOCAL", "on");
    let d = resolve(&ToolInfo::new("my-tool"), &env);
    assert!(d.show && d.dry_run && d.local_only);
    let d = resolve(&ToolInfo::new("my-tool"), &Env::empty());
    assert!(!d.show && !d.dry_run && !d.local_only);
}

#[test]
fn a_corrupt_config_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "not json");
    let d = resolve(
        &ToolInfo::new("t"),
        &Env::empty().with_config_dir(dir.path()),
    );
    assert_eq!(d.policy, Disabled);
    assert!(matches!(d.config, ConfigState::Invalid { .. }));
    assert!(
        d.warnings.iter().any(|w| w.contains("telemetry.json")),
        "{:?}",
        d.warnings
    );
}

#[test]
fn notice_is_shown_once_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let tool = opt_out();
    let env = Env::empty().with_config_dir(dir.path()).with_terminal(true);
    let mut out = Vec::new();
    let first = resolve(&tool, &env);
    let shown = show_notice(&tool, &first, &mut out).unwrap();
    let second = resolve(&tool, &env);
    let shown_again = show_notice(&tool, &second, &mut out).unwrap();
    if cfg!(feature = "collect") {
        assert!(shown && !shown_again);
        assert_eq!(String::from_utf8(out).unwrap().matches("notice").count(), 1);
        assert_eq!(
            second.policy, Enabled,
            "enabled on the run after the notice"
        );
    } else {
        assert!(!shown && out.is_empty());
    }
}

#[test]
fn resolution_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let tool = opt_out();
    let env = Env::empty()
        .with_config_dir(dir.path().join("cfg"))
        .with_terminal(true);
    let _ = resolve(&tool, &env);
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

#[test]
fn generic_build_variables_are_not_ci() {
    for generic in ["BUILD_ID", "BUILD_NUMBER", "RUN_ID", "TASK_ID"] {
        assert!(!CI_VARS.contains(&generic), "{generic}");
        assert!(!Env::empty().with_var(generic, "1").is_ci(), "{generic}");
    }
    for name in CI_VARS {
        assert!(Env::empty().with_var(*name, "true").is_ci(), "{name}");
        assert!(
            !Env::empty().with_var(*name, "false").is_ci(),
            "{name}=false"
        );
    }
}

#[test]
fn env_prefix_rule() {
    assert_eq!(env_prefix("my-tool"), "MY_TOOL");
    assert_eq!(env_prefix("a.b c"), "A_B_C");
    assert_eq!(env_prefix("x9"), "X9");
}
