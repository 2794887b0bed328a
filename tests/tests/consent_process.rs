//! Consent as a user meets it: the example tool run as a real process with a temporary
//! `HOME`, real environment variables, and a real pseudo-terminal for the notice.
// Most cases need collection compiled in; without it their helpers are left unused.
#![cfg_attr(not(feature = "collect"), allow(dead_code, unused_imports))]

use std::io::Read;
use std::path::Path;
use std::process::Output;

use telemetry_tests::{
    assert_no_files, demo_config_dir as config_dir, demo_data_dir as data_dir,
    demo_events as recorded, files_below, run_demo,
};

const DEMO: &str = env!("CARGO_BIN_EXE_demo");

fn demo(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    run_demo(DEMO, home, args, env)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn config_json(home: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(config_dir(home).join("telemetry.json")).unwrap())
        .unwrap()
}

fn status(home: &Path, env: &[(&str, &str)]) -> serde_json::Value {
    let out = demo(home, &["telemetry", "status", "--json"], env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[cfg(feature = "collect")]
#[test]
fn do_not_track_and_ci_leave_every_directory_untouched() {
    for env in [
        &[("DO_NOT_TRACK", "1")][..],
        &[("CI", "true")],
        &[("GITHUB_ACTIONS", "true")],
    ] {
        // Even with the user's earlier consent on file.
        let home = tempfile::tempdir().unwrap();
        assert!(
            demo(home.path(), &["telemetry", "enable"], &[])
                .status
                .success()
        );
        let before = files_below(home.path());
        for cmd in ["build", "test", "fail"] {
            let out = demo(home.path(), &[cmd], env);
            assert!(out.stdout.is_empty());
        }
        assert_eq!(files_below(home.path()), before, "{env:?}");
        assert!(!data_dir(home.path()).exists(), "{env:?}");
        let decided_by = status(home.path(), env)["decided_by"].clone();
        let expected = if env[0].0 == "DO_NOT_TRACK" {
            "do_not_track"
        } else {
            "ci"
        };
        assert_eq!(decided_by, expected);
    }
    // And in a fresh home nothing at all is created.
    let home = tempfile::tempdir().unwrap();
    demo(home.path(), &["build"], &[("DO_NOT_TRACK", "1")]);
    demo(home.path(), &["build"], &[("CI", "1")]);
    assert_no_files(home.path());
}

#[cfg(feature = "collect")]
#[test]
fn enable_then_a_command_records_and_disable_stops_it() {
    let home = tempfile::tempdir().unwrap();
    demo(home.path(), &["build"], &[]);
    assert!(
        recorded(home.path()).is_empty(),
        "opt-in: nothing before enable"
    );

    let out = demo(home.path(), &["telemetry", "enable"], &[]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("telemetry enabled"));
    assert_eq!(config_json(home.path())["enabled"], true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(config_dir(home.path()).join("telemetry.json")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }

    assert!(
        demo(home.path(), &["build", "--jobs", "2"], &[])
            .status
            .success()
    );
    let events = recorded(home.path());
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].name, "cmd.build");
    let project = events[0].attrs["project"].clone();
    let digest = project.as_str().unwrap();
    assert_eq!(digest.len(), 32, "a keyed digest, not the path");
    assert!(!digest.contains("tmp"));
    assert_eq!(status(home.path(), &[])["decided_by"], "config_file");

    let out = demo(home.path(), &["telemetry", "disable"], &[]);
    assert!(out.status.success());
    assert_eq!(config_json(home.path())["enabled"], false);
    demo(home.path(), &["build"], &[]);
    assert_eq!(recorded(home.path()).len(), 1, "nothing after disable");
}

#[cfg(feature = "collect")]
#[test]
fn reset_deletes_identity_key_and_log_and_reports_each_step() {
    let home = tempfile::tempdir().unwrap();
    demo(home.path(), &["telemetry", "enable"], &[]);
    demo(home.path(), &["build"], &[]);
    let key = config_dir(home.path()).join("telemetry.key");
    assert!(
        key.exists(),
        "the build hashed the project with the local key"
    );
    // Where the OS has a machine id no install id is needed; plant one to see it go.
    let install_id = data_dir(home.path()).join("install_id");
    std::fs::write(&install_id, "00000000-0000-4000-8000-000000000000").unwrap();

    let out = demo(home.path(), &["telemetry", "reset"], &[]);
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}\n{}", text(&out.stderr));
    for line in [
        "ok: dropped 0 unsent event(s)",
        "ok: deletion request event sent to",
        "ok: deleted the install id",
        "ok: deleted the local key",
        "ok: deleted the local event log",
        "ok: telemetry disabled",
    ] {
        assert!(report.contains(line), "missing {line:?} in:\n{report}");
    }
    assert!(!key.exists() && !install_id.exists());
    assert!(!data_dir(home.path()).join("events.jsonl").exists());
    assert_eq!(config_json(home.path())["enabled"], false);
}

#[cfg(feature = "collect")]
#[test]
fn reset_reports_a_failed_step_and_still_completes() {
    let home = tempfile::tempdir().unwrap();
    demo(home.path(), &["telemetry", "enable"], &[]);
    demo(home.path(), &["build"], &[]);
    // The local log's directory is replaced by a file: the deletion event cannot be
    // written there, so the request fails; the rest of the reset must still happen.
    let data = data_dir(home.path());
    std::fs::remove_dir_all(&data).unwrap();
    std::fs::write(&data, "not a directory").unwrap();
    let out = demo(home.path(), &["telemetry", "reset"], &[]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("failed: deletion request"), "{report}");
    assert!(report.contains("ok: deleted the local key"), "{report}");
    assert!(
        text(&out.stderr).contains("error[telemetry::"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(config_json(home.path())["enabled"], false);
}

#[test]
fn status_json_names_the_deciding_rule() {
    let home = tempfile::tempdir().unwrap();
    let cases: &[(&[(&str, &str)], &str)] = if cfg!(feature = "collect") {
        &[
            (&[], "default"),
            (&[("DO_NOT_TRACK", "1")], "do_not_track"),
            (&[("DEMO_TELEMETRY", "0")], "env_disabled"),
            (&[("DEMO_TELEMETRY_DISABLED", "true")], "env_disabled"),
            (&[("DEMO_TELEMETRY", "1")], "env_enabled"),
            (&[("DEMO_TELEMETRY", "1"), ("CI", "true")], "env_enabled"),
            (&[("CI", "true")], "ci"),
        ]
    } else {
        &[(&[("DEMO_TELEMETRY", "1")], "compiled_out")]
    };
    for (env, rule) in cases {
        let s = status(home.path(), env);
        assert_eq!(s["decided_by"], *rule, "{env:?}");
        assert_eq!(s["enabled"], *rule == "env_enabled", "{env:?}");
        assert_eq!(s["tool"], "demo");
        if *rule == "env_enabled" {
            assert_eq!(s["machine_id_prefix"].as_str().unwrap().len(), 8);
        } else {
            assert!(s["machine_id_prefix"].is_null());
        }
    }
    // A corrupt config file is reported, counts as "no consent", and is left alone.
    std::fs::create_dir_all(config_dir(home.path())).unwrap();
    std::fs::write(config_dir(home.path()).join("telemetry.json"), "{ corrupt").unwrap();
    let s = status(home.path(), &[]);
    assert_eq!(s["enabled"], false);
    assert_eq!(s["config_state"], "invalid");
    assert_eq!(
        std::fs::read_to_string(config_dir(home.path()).join("telemetry.json")).unwrap(),
        "{ corrupt"
    );
}

#[test]
fn an_unrecognised_value_warns_on_stderr_and_counts_as_unset() {
    let home = tempfile::tempdir().unwrap();
    let out = demo(home.path(), &["build"], &[("DEMO_TELEMETRY", "maybe")]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    if cfg!(feature = "collect") {
        assert!(
            stderr.contains("warning: DEMO_TELEMETRY=\"maybe\""),
            "{stderr}"
        );
    }
    assert_no_files(home.path());
}

#[cfg(feature = "collect")]
#[test]
fn show_mode_prints_to_stderr_and_still_records() {
    let home = tempfile::tempdir().unwrap();
    let out = demo(
        home.path(),
        &["build"],
        &[("DEMO_TELEMETRY", "1"), ("DEMO_TELEMETRY_SHOW", "1")],
    );
    assert!(out.stdout.is_empty(), "never stdout");
    let shown: Vec<telemetry_tests::LoggedEvent> = text(&out.stderr)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(shown.len(), 1);
    assert_eq!(
        recorded(home.path()),
        shown,
        "the payload shown is the payload recorded"
    );
}

#[cfg(feature = "collect")]
#[test]
fn dry_run_prints_and_keeps_nothing() {
    let home = tempfile::tempdir().unwrap();
    let out = demo(
        home.path(),
        &["build"],
        &[("DEMO_TELEMETRY", "1"), ("DEMO_TELEMETRY_DRY_RUN", "1")],
    );
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    let line = stderr.lines().find(|l| l.starts_with('{')).unwrap();
    assert_eq!(
        serde_json::from_str::<telemetry_tests::LoggedEvent>(line)
            .unwrap()
            .name,
        "cmd.build"
    );
    assert!(!data_dir(home.path()).join("events.jsonl").exists());
}

/// Runs the demo on a real pseudo-terminal and returns what the terminal showed.
fn demo_on_a_terminal(home: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 200,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(DEMO);
    cmd.args(args);
    cmd.env_clear();
    cmd.env("HOME", home);
    cmd.env("PATH", "/usr/bin:/bin");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let mut screen = Vec::new();
    // Linux reports EIO once the child side is closed: that is the end of output.
    let mut buf = [0_u8; 4096];
    loop {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => screen.extend_from_slice(&buf[..n]),
        }
    }
    assert!(child.wait().unwrap().success());
    String::from_utf8_lossy(&screen).into_owned()
}

#[cfg(all(feature = "collect", target_os = "linux"))]
#[test]
fn opt_out_notice_shows_once_on_a_terminal_and_that_run_sends_nothing() {
    let home = tempfile::tempdir().unwrap();
    let args = ["build"];
    let opt_out = [("DEMO_CONSENT", "opt-out")];

    // Not a terminal: no notice, nothing written, nothing recorded.
    let piped = demo(home.path(), &args, &opt_out);
    assert!(!text(&piped.stderr).contains("anonymous usage data"));
    assert_no_files(home.path());

    let first = demo_on_a_terminal(home.path(), &args, &opt_out);
    assert!(
        first.contains("demo collects anonymous usage data"),
        "{first}"
    );
    assert!(first.contains("Nothing is sent during this run"), "{first}");
    assert!(
        first.contains("`demo telemetry schema` lists everything that can be sent"),
        "the notice points to the schema: {first}"
    );
    assert!(
        recorded(home.path()).is_empty(),
        "the run that shows the notice sends nothing"
    );
    assert!(config_json(home.path())["notice_shown_at"].is_string());

    let second = demo_on_a_terminal(home.path(), &args, &opt_out);
    assert!(
        !second.contains("anonymous usage data"),
        "shown once: {second}"
    );
    assert_eq!(
        recorded(home.path()).len(),
        1,
        "recorded from the next run on"
    );

    // And piped runs of the same install now record too, without any prompt.
    demo(home.path(), &args, &opt_out);
    assert_eq!(recorded(home.path()).len(), 2);
}

#[cfg(feature = "collect")]
#[test]
fn enable_says_when_the_environment_still_keeps_telemetry_off() {
    let home = tempfile::tempdir().unwrap();
    let out = demo(
        home.path(),
        &["telemetry", "enable"],
        &[("DO_NOT_TRACK", "1")],
    );
    assert!(out.status.success());
    let report = text(&out.stdout);
    assert!(report.contains("telemetry enabled"), "{report}");
    assert!(
        report.contains("note: telemetry stays off in this environment (decided by do_not_track)"),
        "{report}"
    );
    // Without an overruling variable there is no note.
    let out = demo(home.path(), &["telemetry", "enable"], &[]);
    assert!(!text(&out.stdout).contains("note:"));
}

#[cfg(feature = "collect")]
#[test]
fn the_config_dir_variable_moves_the_consent_file_and_the_key() {
    let home = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let dir = elsewhere.path().to_str().unwrap();
    demo(
        home.path(),
        &["telemetry", "enable"],
        &[("DEMO_CONFIG_DIR", dir)],
    );
    demo(home.path(), &["build"], &[("DEMO_CONFIG_DIR", dir)]);
    assert!(elsewhere.path().join("telemetry.json").exists());
    assert!(
        elsewhere.path().join("telemetry.key").exists(),
        "Hashed's key sits beside it"
    );
    assert!(!config_dir(home.path()).exists());
    assert_eq!(
        recorded(home.path()).len(),
        1,
        "the moved file's consent applies"
    );
}

/// `<TOOL>_CONFIG_DIR` moves the consent and key files for every tool, also one that
/// sets its policy in code.
#[cfg(feature = "collect")]
#[test]
fn the_config_dir_variable_holds_with_a_policy_set_in_code() {
    let home = tempfile::tempdir().unwrap();
    let moved = home.path().join("moved-config");
    let mut cmd = telemetry_tests::command_in_home(env!("CARGO_BIN_EXE_config-probe"), home.path());
    cmd.env("PROBE_CONFIG_DIR", &moved);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(text(&out.stdout).trim(), moved.display().to_string());
    assert!(
        moved.join("telemetry.key").is_file(),
        "the key is in the moved dir"
    );
    telemetry_tests::assert_no_files(&home.path().join(".config"));
}

/// The XDG Base Directory rules on Linux: `XDG_CONFIG_HOME` and `XDG_DATA_HOME` are
/// where the consent file and the local log go when they hold absolute paths; a
/// relative value is ignored (`~/.config`, `~/.local/share`), as the spec says.
#[cfg(all(feature = "collect", target_os = "linux"))]
#[test]
fn the_xdg_variables_choose_the_directories_when_they_are_absolute() {
    let home = tempfile::tempdir().unwrap();
    let xdg = tempfile::tempdir().unwrap();
    let (config, data) = (xdg.path().join("cfg"), xdg.path().join("share"));
    let absolute = [
        ("XDG_CONFIG_HOME", config.to_str().unwrap()),
        ("XDG_DATA_HOME", data.to_str().unwrap()),
    ];
    for args in [&["telemetry", "enable"][..], &["build"]] {
        let out = demo(home.path(), args, &absolute);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    assert!(config.join("demo/telemetry.json").is_file());
    assert!(data.join("demo/telemetry/events.jsonl").is_file());
    assert!(!config_dir(home.path()).exists(), "nothing under ~/.config");

    let other = tempfile::tempdir().unwrap();
    let relative = [("XDG_CONFIG_HOME", "cfg"), ("XDG_DATA_HOME", "share")];
    for args in [&["telemetry", "enable"][..], &["build"]] {
        let out = demo(other.path(), args, &relative);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    assert!(config_dir(other.path()).join("telemetry.json").is_file());
    assert!(telemetry_tests::demo_log(other.path()).is_file());
}
