//! The trust rules for files, as a user meets them: the example tool run as a real
//! process with a temporary `HOME` in which the config file, the key, the local log,
//! the data dir or the spool is a symbolic link, someone else's, or writable by others.
//! Cases that need a second user `chown` files to uid 4242, which only root can: they
//! print why they are skipped otherwise.
#![cfg(all(unix, feature = "collect"))]

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Output;

use telemetry_tests::{
    chmod, chown, demo_config_dir as config_dir, demo_data_dir as data_dir,
    demo_events as recorded, demo_log, files_below, mode_of, other_uid_or_skip, run_demo,
};

const DEMO: &str = env!("CARGO_BIN_EXE_demo");

fn demo(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    run_demo(DEMO, home, args, env)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn status(home: &Path) -> serde_json::Value {
    let out = demo(home, &["telemetry", "status", "--json"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

const ENABLED: &str = r#"{"version":1,"enabled":true}"#;
const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// Asserts that a tracked command ran as if telemetry were off: exit 0, nothing on
/// stdout, nothing recorded; returns its stderr.
#[track_caller]
fn assert_build_records_nothing(home: &Path) -> String {
    let out = demo(home, &["build"], &[]);
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty(), "never stdout: {}", text(&out.stdout));
    assert!(recorded(home).is_empty(), "nothing recorded");
    text(&out.stderr)
}

/// `telemetry enable` must fail, naming `path` and `reason`, and leave `path` as it was.
#[track_caller]
fn assert_enable_refused(home: &Path, path: &Path, reason: &str) {
    let before = std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.len(), m.modified().unwrap()));
    let bytes = std::fs::read(path).ok();
    let out = demo(home, &["telemetry", "enable"], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "enable must fail: {out:?}");
    assert!(
        stderr.contains(&path.display().to_string()) && stderr.contains(reason),
        "the error names {} and {reason:?}: {stderr}",
        path.display()
    );
    assert!(
        stderr.contains("error[telemetry::untrusted_file]"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(path).ok(), bytes, "not overwritten");
    assert_eq!(
        std::fs::symlink_metadata(path)
            .ok()
            .map(|m| (m.len(), m.modified().unwrap())),
        before
    );
}

/// A directory of the second user, outside `HOME`, holding `{"enabled":true}` and a key
/// anyone can read: what an attacker would offer.
fn foreign_config(other: u32) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    chmod(root.path(), 0o755);
    let dir = root.path().join("demo");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("telemetry.json"), ENABLED).unwrap();
    std::fs::write(dir.join("telemetry.key"), KEY).unwrap();
    for path in [dir.join("telemetry.json"), dir.join("telemetry.key")] {
        chmod(&path, 0o644);
        chown(&path, other);
    }
    chmod(&dir, 0o755);
    chown(&dir, other);
    chown(root.path(), other);
    (root, dir)
}

#[test]
fn a_config_dir_linked_into_another_users_directory_turns_nothing_on() {
    let Some(other) = other_uid_or_skip("a_config_dir_linked_into_another_users_directory") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let (_root, foreign) = foreign_config(other);
    std::fs::create_dir_all(home.path().join(".config")).unwrap();
    symlink(&foreign, config_dir(home.path())).unwrap();

    let stderr = assert_build_records_nothing(home.path());
    assert!(
        stderr.contains("warning:") && stderr.contains(&format!("owned by uid {other}")),
        "the refusal is a warning on stderr: {stderr}"
    );
    let s = status(home.path());
    assert_eq!(s["enabled"], false);
    assert_eq!(s["decided_by"], "config_file");
    assert_eq!(s["config_state"], "refused");
    assert!(
        s["config_error"]
            .as_str()
            .unwrap()
            .contains(&format!("owned by uid {other}")),
        "{s}"
    );
    // With consent from the environment, the foreign key is still never used: the
    // project attribute (a `Hashed`) is left out rather than made reversible.
    let out = demo(home.path(), &["build"], &[("DEMO_TELEMETRY", "1")]);
    assert!(out.status.success());
    let events = recorded(home.path());
    assert_eq!(events.len(), 1);
    assert!(
        !events[0].attrs.contains_key("project"),
        "{:?}",
        events[0].attrs
    );
    // Nothing was written into the other user's directory, nothing replaced.
    let config = config_dir(home.path()).join("telemetry.json");
    assert_enable_refused(home.path(), &config, &format!("owned by uid {other}"));
    assert_eq!(
        files_below(&foreign),
        ["telemetry.json", "telemetry.key"],
        "no file added"
    );
    assert_eq!(
        std::fs::read_to_string(foreign.join("telemetry.json")).unwrap(),
        ENABLED
    );
    assert_eq!(
        std::fs::read_to_string(foreign.join("telemetry.key")).unwrap(),
        KEY
    );
}

#[test]
fn a_config_file_of_another_user_in_ones_own_dir_is_ignored_and_kept() {
    let Some(other) = other_uid_or_skip("a_config_file_of_another_user") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let dir = config_dir(home.path());
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("telemetry.json");
    std::fs::write(&config, ENABLED).unwrap();
    chmod(&config, 0o600);
    chown(&config, other);
    assert_build_records_nothing(home.path());
    assert_eq!(status(home.path())["config_state"], "refused");
    assert_enable_refused(home.path(), &config, &format!("is owned by uid {other}"));
    let out = demo(home.path(), &["telemetry", "disable"], &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "disable does not overwrite it either"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), ENABLED);
}

#[test]
fn a_config_dir_owned_by_another_user_is_not_written_into() {
    let Some(other) = other_uid_or_skip("a_config_dir_owned_by_another_user") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let dir = config_dir(home.path());
    std::fs::create_dir_all(&dir).unwrap();
    chmod(&dir, 0o755);
    chown(&dir, other);
    let config = dir.join("telemetry.json");
    let out = demo(home.path(), &["telemetry", "enable"], &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&config.display().to_string())
            && stderr.contains(&format!("owned by uid {other}")),
        "{stderr}"
    );
    // An enabled run neither records "ever enabled" nor creates the key there.
    let out = demo(home.path(), &["build"], &[("DEMO_TELEMETRY", "1")]);
    assert!(out.status.success());
    assert!(files_below(&dir).is_empty(), "{:?}", files_below(&dir));
}

#[test]
fn a_world_writable_config_file_of_ones_own_is_ignored_and_never_overwritten() {
    let home = tempfile::tempdir().unwrap();
    let dir = config_dir(home.path());
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("telemetry.json");
    std::fs::write(&config, ENABLED).unwrap();
    chmod(&config, 0o666);

    let stderr = assert_build_records_nothing(home.path());
    assert!(stderr.contains("writable by group or others"), "{stderr}");
    let s = status(home.path());
    assert_eq!(
        (s["enabled"].clone(), s["config_state"].clone()),
        (false.into(), "refused".into())
    );
    assert!(
        s["refused"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["what"] == "config file"),
        "{s}"
    );
    assert_enable_refused(home.path(), &config, "writable by group or others");
    assert_eq!(
        mode_of(&config),
        0o666,
        "not repaired behind the user's back"
    );

    // Group-writable is refused too; once the user tightens it, it is trusted again.
    chmod(&config, 0o620);
    assert_build_records_nothing(home.path());
    chmod(&config, 0o600);
    assert!(demo(home.path(), &["build"], &[]).status.success());
    assert_eq!(
        recorded(home.path()).len(),
        1,
        "the file's consent applies again"
    );
}

#[test]
fn a_config_file_that_is_a_symlink_is_not_followed() {
    let home = tempfile::tempdir().unwrap();
    let dir = config_dir(home.path());
    std::fs::create_dir_all(&dir).unwrap();
    let target = home.path().join("elsewhere.json");
    std::fs::write(&target, ENABLED).unwrap();
    chmod(&target, 0o600);
    let config = dir.join("telemetry.json");
    symlink(&target, &config).unwrap();

    let stderr = assert_build_records_nothing(home.path());
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(status(home.path())["config_state"], "refused");
    assert_enable_refused(home.path(), &config, "symbolic link");
    assert!(
        std::fs::symlink_metadata(&config)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), ENABLED);
}

#[test]
fn a_config_dir_linked_to_ones_own_dotfiles_keeps_working() {
    let home = tempfile::tempdir().unwrap();
    let dotfiles = home.path().join("dotfiles/config");
    std::fs::create_dir_all(&dotfiles).unwrap();
    symlink(&dotfiles, home.path().join(".config")).unwrap();
    // And `~/.local` too: linked ancestors of the data dir are fine.
    let local = home.path().join("dotfiles/local");
    std::fs::create_dir_all(&local).unwrap();
    symlink(&local, home.path().join(".local")).unwrap();

    let out = demo(home.path(), &["telemetry", "enable"], &[]);
    assert!(out.status.success(), "{out:?}");
    assert!(dotfiles.join("demo/telemetry.json").is_file());
    assert!(demo(home.path(), &["build"], &[]).status.success());
    let events = recorded(home.path());
    assert_eq!(events.len(), 1, "consent read through the linked ~/.config");
    assert!(events[0].attrs.contains_key("project"), "the key works too");
    assert_eq!(mode_of(&dotfiles.join("demo/telemetry.key")), 0o600);
    assert!(local.join("share/demo/telemetry/events.jsonl").is_file());
    let s = status(home.path());
    assert_eq!(s["config_state"], "valid");
    assert_eq!(s["refused"], serde_json::json!([]));

    // A tool config dir that is itself a link to one's own directory works as well.
    let home = tempfile::tempdir().unwrap();
    let mine = home.path().join("dotfiles/demo");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::create_dir_all(home.path().join(".config")).unwrap();
    symlink(&mine, config_dir(home.path())).unwrap();
    assert!(
        demo(home.path(), &["telemetry", "enable"], &[])
            .status
            .success()
    );
    assert!(demo(home.path(), &["build"], &[]).status.success());
    assert_eq!(recorded(home.path()).len(), 1);
    assert!(mine.join("telemetry.json").is_file());
}

#[test]
fn a_key_file_anyone_could_have_written_is_not_used() {
    let home = tempfile::tempdir().unwrap();
    assert!(
        demo(home.path(), &["telemetry", "enable"], &[])
            .status
            .success()
    );
    let key = config_dir(home.path()).join("telemetry.key");
    std::fs::write(&key, KEY).unwrap();
    chmod(&key, 0o666);

    let out = demo(home.path(), &["build"], &[]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("telemetry.key") && stderr.contains("Hashed"),
        "warned on stderr: {stderr}"
    );
    let events = recorded(home.path());
    assert_eq!(events.len(), 1);
    assert!(
        !events[0].attrs.contains_key("project"),
        "{:?}",
        events[0].attrs
    );
    assert_eq!(std::fs::read_to_string(&key).unwrap(), KEY, "not replaced");
    let s = status(home.path());
    assert!(
        s["refused"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["what"] == "local key"),
        "{s}"
    );
    // A key that is a link is not followed either.
    std::fs::remove_file(&key).unwrap();
    let target = home.path().join("key");
    std::fs::write(&target, KEY).unwrap();
    chmod(&target, 0o600);
    symlink(&target, &key).unwrap();
    assert!(demo(home.path(), &["build"], &[]).status.success());
    let events = recorded(home.path());
    assert!(
        !events[1].attrs.contains_key("project"),
        "{:?}",
        events[1].attrs
    );
}

#[test]
fn a_key_file_of_another_user_is_not_used() {
    let Some(other) = other_uid_or_skip("a_key_file_of_another_user") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    assert!(
        demo(home.path(), &["telemetry", "enable"], &[])
            .status
            .success()
    );
    let key = config_dir(home.path()).join("telemetry.key");
    std::fs::write(&key, KEY).unwrap();
    chmod(&key, 0o600);
    chown(&key, other);
    assert!(demo(home.path(), &["build"], &[]).status.success());
    let events = recorded(home.path());
    assert_eq!(events.len(), 1);
    assert!(
        !events[0].attrs.contains_key("project"),
        "{:?}",
        events[0].attrs
    );
    assert_eq!(std::fs::read_to_string(&key).unwrap(), KEY);
}

#[test]
fn the_event_log_is_never_followed_through_a_symlink_and_is_tightened_to_0600() {
    let home = tempfile::tempdir().unwrap();
    assert!(
        demo(home.path(), &["telemetry", "enable"], &[])
            .status
            .success()
    );
    std::fs::create_dir_all(data_dir(home.path())).unwrap();
    let victim = home.path().join("victim.txt");
    std::fs::write(&victim, b"precious\n").unwrap();
    symlink(&victim, demo_log(home.path())).unwrap();

    let out = demo(home.path(), &["build"], &[]);
    assert!(out.status.success(), "the tool never fails: {out:?}");
    assert!(out.stdout.is_empty());
    assert_eq!(
        std::fs::read(&victim).unwrap(),
        b"precious\n",
        "not appended to"
    );
    assert!(
        std::fs::symlink_metadata(demo_log(home.path()))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let s = status(home.path());
    assert!(
        s["refused"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["what"] == "local event log"),
        "{s}"
    );

    // A real log created 0644 (by an older version, or by hand) is tightened on the next
    // write.
    std::fs::remove_file(demo_log(home.path())).unwrap();
    std::fs::write(demo_log(home.path()), b"").unwrap();
    chmod(&demo_log(home.path()), 0o644);
    assert!(demo(home.path(), &["build"], &[]).status.success());
    assert_eq!(recorded(home.path()).len(), 1);
    assert_eq!(mode_of(&demo_log(home.path())), 0o600);
}

#[test]
fn a_data_dir_that_is_a_symlink_is_not_used() {
    let home = tempfile::tempdir().unwrap();
    let elsewhere = home.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    chmod(&elsewhere, 0o700);
    std::fs::create_dir_all(data_dir(home.path()).parent().unwrap()).unwrap();
    symlink(&elsewhere, data_dir(home.path())).unwrap();

    let out = demo(home.path(), &["build"], &[("DEMO_TELEMETRY", "1")]);
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert!(
        files_below(&elsewhere).is_empty(),
        "{:?}",
        files_below(&elsewhere)
    );
    let out = demo(
        home.path(),
        &["telemetry", "status", "--json"],
        &[("DEMO_TELEMETRY", "1")],
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        s["refused"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["what"] == "data dir"),
        "{s}"
    );
}

#[test]
fn a_data_dir_of_another_user_is_not_used() {
    let Some(other) = other_uid_or_skip("a_data_dir_of_another_user") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let data = data_dir(home.path());
    std::fs::create_dir_all(&data).unwrap();
    chmod(&data, 0o755);
    chown(&data, other);
    let out = demo(home.path(), &["build"], &[("DEMO_TELEMETRY", "1")]);
    assert!(out.status.success(), "{out:?}");
    assert!(files_below(&data).is_empty(), "{:?}", files_below(&data));
}

#[cfg(feature = "http")]
mod delivery_support;

/// The spool cases need a network sink (the demo's is built with `http`).
#[cfg(feature = "http")]
mod spool {
    use super::*;

    use super::delivery_support::{Reply, Server, jsonl, write_ready_file};

    fn demo_to(home: &Path, args: &[&str], server: &Server) -> Output {
        demo(
            home,
            args,
            &[
                ("DEMO_TELEMETRY", "1"),
                ("DEMO_TELEMETRY_ENDPOINT", &server.url("/v1/events")),
            ],
        )
    }

    #[test]
    fn a_symlinked_spool_is_neither_written_nor_replayed_nor_purged() {
        let home = tempfile::tempdir().unwrap();
        let server = Server::start(Reply::Status(200));
        let elsewhere = home.path().join("elsewhere");
        std::fs::create_dir_all(&elsewhere).unwrap();
        chmod(&elsewhere, 0o700);
        let planted = telemetry::Event::new(
            "cmd.planted",
            "demo",
            "1",
            telemetry_tests::SAMPLE_MACHINE_ID,
        );
        write_ready_file(&elsewhere, 1, &jsonl(std::slice::from_ref(&planted)));
        let before = files_below(&elsewhere);
        std::fs::create_dir_all(data_dir(home.path())).unwrap();
        symlink(&elsewhere, data_dir(home.path()).join("spool")).unwrap();

        let out = demo_to(home.path(), &["build"], &server);
        assert!(out.status.success(), "{out:?}");
        assert!(out.stdout.is_empty());
        assert!(
            !server
                .accepted_ids()
                .contains(&planted.event_id().to_owned()),
            "a batch behind the link is never sent"
        );
        assert_eq!(files_below(&elsewhere), before, "nothing written there");
        // Withdrawing consent purges the spool: not through the link.
        let out = demo_to(home.path(), &["telemetry", "disable"], &server);
        assert!(out.status.success(), "{out:?}");
        assert_eq!(files_below(&elsewhere), before, "nothing deleted there");
    }

    #[test]
    fn a_world_writable_retry_after_file_is_ignored() {
        let home = tempfile::tempdir().unwrap();
        let server = Server::start(Reply::Status(200));
        let spool = data_dir(home.path()).join("spool");
        std::fs::create_dir_all(&spool).unwrap();
        chmod(&spool, 0o700);
        chmod(&data_dir(home.path()), 0o700);
        // A pause of ~5 minutes that someone else could have written: not honoured.
        let until = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 300;
        let pause = spool.join("retry-after");
        std::fs::write(&pause, format!("{until}\n")).unwrap();
        chmod(&pause, 0o666);
        let out = demo_to(home.path(), &["build"], &server);
        assert!(out.status.success(), "{out:?}");
        assert!(
            server.wait_until(std::time::Duration::from_secs(5), |r| !r.is_empty()),
            "sent despite the untrusted pause"
        );
        // The same pause, trusted, holds the next run.
        chmod(&pause, 0o600);
        let sent = server.requests().len();
        let out = demo_to(home.path(), &["test"], &server);
        assert!(out.status.success());
        assert_eq!(server.requests().len(), sent, "a trusted pause is honoured");
    }
}
