//! The exit and the detached uploader with real processes, real files and real HTTP
//! on 127.0.0.1:
//!
//! - the exit keeps every accepted event in the spool whatever the deadline (zero
//!   included), in both send modes;
//! - after a server's `Retry-After` pause an earlier run's batch is delivered before a
//!   later run's;
//! - fifty quick runs never have two uploaders alive at once, and lose nothing;
//! - an uploader against a hanging server ends at its time limit and hands its batch
//!   back;
//! - `telemetry disable` in another process stops a running upload and empties the
//!   spool; consent withdrawn in the config file alone (no purge) stops it too;
//! - the uploader never holds the tool's pipes nor writes to them;
//! - no uploader starts in CI or under `DO_NOT_TRACK`;
//! - the tool's exit code is its own while an uploader starts;
//! - a tool that parses its arguments before `init` (its uploader dies) falls back to
//!   sending within the exit deadline after the grace period.
//!
//! Two tests guard fixed bugs: a second uploader after `disable` + `enable` during an
//! upload, and a pipe the tool inherited on fd 3 held by the uploader.
//!
//! The tools are the example `demo` and the test bin `recorder` (tests/src/bin, knobs
//! in its doc). Every wait is bounded; no duration is asserted as a performance figure.
//! The processes are found through `/proc` (Linux only) and through the uploader's
//! lock.
#![cfg(all(feature = "collect", feature = "http"))]

mod delivery_support;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, SystemTime};

use delivery_support::{BlackHole, Reply, Request, Server, spooled, uploaders, wait_until};
use telemetry_tests::{command_in_home, demo_events};

const DEMO: &str = env!("CARGO_BIN_EXE_demo");
const RECORDER: &str = env!("CARGO_BIN_EXE_recorder");

/// The bound of every wait for something that should take well under a second.
const WAIT: Duration = Duration::from_secs(20);

/// The uploader's grace to reach `init` (`START_GRACE` in telemetry/src/uploader).
const START_GRACE: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------
// Running the tools
// ---------------------------------------------------------------------------------

/// Runs `demo` with `HOME` = `home`, consent for the run, events sent to `endpoint`,
/// and `env`; waits for it (standard output and error piped).
fn demo(home: &Path, args: &[&str], endpoint: &str, env: &[(&str, &str)]) -> Output {
    command_in_home(DEMO, home)
        .args(args)
        .env("DEMO_TELEMETRY", "1")
        .env("DEMO_TELEMETRY_ENDPOINT", endpoint)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn demo_spool(home: &Path) -> PathBuf {
    home.join(".local/share/demo/telemetry/spool")
}

/// Runs `recorder` with `HOME` = `home`, its data dir below it, and `env`.
fn recorder(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    command_in_home(RECORDER, home)
        .args(args)
        .env("REC_DATA_DIR", home.join("data"))
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn recorder_spool(home: &Path) -> PathBuf {
    home.join("data/spool")
}

#[track_caller]
fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------
// Looking at the spool and the uploader
// ---------------------------------------------------------------------------------

/// The batch files of `spool`: (waiting `*.jsonl`, claimed `*.jsonl.claim-*`).
fn batch_files(spool: &Path) -> (Vec<String>, Vec<String>) {
    let mut names: Vec<String> = std::fs::read_dir(spool)
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let (claimed, rest): (Vec<String>, Vec<String>) =
        names.into_iter().partition(|n| n.contains(".jsonl.claim-"));
    let ready = rest.into_iter().filter(|n| n.ends_with(".jsonl")).collect();
    (ready, claimed)
}

/// The event ids in the spool's batch files, waiting or claimed.
fn spooled_ids(spool: &Path) -> Vec<String> {
    spooled(spool).into_iter().map(|e| e.event_id).collect()
}

/// Whether some process holds the uploader's lock in `spool` (takes it for an instant
/// when free: not for use while runs that might spawn an uploader are going on).
fn lock_held(spool: &Path) -> bool {
    std::fs::OpenOptions::new()
        .write(true)
        .open(spool.join("upload.lock"))
        .is_ok_and(|f| match f.try_lock() {
            Ok(()) => {
                release(&f);
                false
            }
            Err(_) => true,
        })
}

/// Lets go of a lock this process took, explicitly: closing the file is not enough
/// while a child that another test thread is starting still holds a copy of the
/// descriptor (between its fork and its exec), and the next run would find the lock
/// taken.
fn release(lock: &std::fs::File) {
    lock.unlock().unwrap();
}

fn stamp_exists(spool: &Path, stamp: &str) -> bool {
    spool.join(stamp).exists()
}

/// Waits (bounded) until an uploader of `home` is seen; all those seen then. (Just
/// after its parent's `spawn` returned, an uploader may still be inside `execve`,
/// with an empty command line.)
#[cfg(target_os = "linux")]
fn wait_for_uploaders(home: &Path) -> Vec<u32> {
    let mut pids = Vec::new();
    wait_until(WAIT, || {
        pids = uploaders(home);
        !pids.is_empty()
    });
    pids
}

/// Waits (bounded by `limit`) until no uploader of `home` is alive and none holds the
/// lock in `spool`.
#[track_caller]
fn wait_for_no_uploader(home: &Path, spool: &Path, limit: Duration) {
    let gone = wait_until(limit, || {
        #[cfg(target_os = "linux")]
        if !uploaders(home).is_empty() {
            return false;
        }
        let _ = home;
        !lock_held(spool)
    });
    assert!(gone, "an uploader still runs after {limit:?}");
}

/// Fails unless no uploader was started for `spool` and none runs.
#[track_caller]
fn assert_no_uploader(home: &Path, spool: &Path) {
    assert!(
        !stamp_exists(spool, "upload-started"),
        "an uploader was started"
    );
    assert!(!lock_held(spool), "the uploader's lock is held");
    #[cfg(target_os = "linux")]
    assert_eq!(uploaders(home), Vec::<u32>::new(), "an uploader runs");
    let _ = home;
}

/// The ids of the events in `requests` that the server accepted.
fn accepted(requests: &[Request]) -> HashSet<String> {
    requests
        .iter()
        .filter(|r| r.accepted())
        .flat_map(Request::event_ids)
        .collect()
}

/// How many times each id appears in `ids`, for those that appear more than once.
fn duplicates(ids: &[String]) -> HashMap<&String, usize> {
    let mut seen: HashMap<&String, usize> = HashMap::new();
    for id in ids {
        *seen.entry(id).or_default() += 1;
    }
    seen.retain(|_, n| *n > 1);
    seen
}

// ---------------------------------------------------------------------------------
// 1. The exit persists whatever the deadline
// ---------------------------------------------------------------------------------

#[test]
fn a_zero_or_tiny_deadline_keeps_every_event_in_the_spool() {
    let hole = BlackHole::start();
    let url = hole.url("/v1/events");
    for at_exit in [false, true] {
        for deadline in ["0", "1", "2"] {
            let home = tempfile::tempdir().unwrap();
            let spool = recorder_spool(home.path());
            let mut env = vec![
                ("RECORDER_TELEMETRY", "1"),
                ("REC_ENDPOINT", url.as_str()),
                ("REC_COUNT", "200"),
                ("REC_DEADLINE_MS", deadline),
                // The uploader a background run starts tries the black hole this long.
                ("REC_LIMIT_MS", "1000"),
            ];
            if at_exit {
                env.push(("REC_AT_EXIT", "1"));
            }
            assert_ok(&recorder(home.path(), &[], &env));
            // Counted once no process renames files any more.
            wait_for_no_uploader(home.path(), &spool, WAIT);
            let mode = if at_exit { "AtExit" } else { "Background" };
            let numbers: Vec<i64> = spooled(&spool)
                .iter()
                .map(|e| e.attrs["i"].as_i64().unwrap())
                .collect();
            let kept: HashSet<i64> = numbers.iter().copied().collect();
            let missing: Vec<i64> = (0..200).filter(|i| !kept.contains(i)).collect();
            assert!(
                missing.is_empty() && numbers.len() == 200,
                "{mode}, deadline {deadline} ms: {} events in the spool, {} missing \
                 (first: {:?}); files: {:?}",
                numbers.len(),
                missing.len(),
                missing.first(),
                batch_files(&spool)
            );
        }
    }
}

// ---------------------------------------------------------------------------------
// 2. Order after a server's pause
// ---------------------------------------------------------------------------------

/// Waits (bounded) until the pause recorded in `spool/retry-after` is over.
fn wait_for_pause_end(spool: &Path) {
    let text = std::fs::read_to_string(spool.join("retry-after")).unwrap();
    let until = SystemTime::UNIX_EPOCH + Duration::from_secs(text.trim().parse().unwrap());
    let over = wait_until(WAIT, || {
        SystemTime::now() > until + Duration::from_millis(100)
    });
    assert!(over, "the recorded pause ends within a few seconds: {text}");
}

#[test]
fn after_a_retry_after_pause_the_earlier_run_is_delivered_first() {
    let home = tempfile::tempdir().unwrap();
    let spool = recorder_spool(home.path());
    let server = Server::start(Reply::Status(200));
    server.script([Reply::RetryAfter(429, "1")]);
    let url = server.url("/v1/events");
    let env = |deadline| {
        [
            ("RECORDER_TELEMETRY", "1"),
            ("REC_ENDPOINT", url.as_str()),
            ("REC_AT_EXIT", "1"),
            ("REC_DEADLINE_MS", deadline),
        ]
    };

    // Run 1 is told to wait (its deadline is shorter than the pause): its batch stays.
    assert_ok(&recorder(home.path(), &[], &env("800")));
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "run 1 sent once: {requests:?}");
    assert_eq!(requests[0].reply, Reply::RetryAfter(429, "1"));
    let first = spooled_ids(&spool);
    assert_eq!(first.len(), 1, "run 1's event waits in the spool");
    wait_for_pause_end(&spool);

    // Run 2 records a new event; its exit sends (generous deadline: it returns as soon
    // as everything is delivered).
    assert_ok(&recorder(home.path(), &[], &env("20000")));
    let delivered = server.accepted_ids();
    assert_eq!(delivered.len(), 2, "both runs' events: {delivered:?}");
    assert_eq!(
        delivered[0], first[0],
        "run 1's event reaches the server before run 2's"
    );
    assert!(spooled(&spool).is_empty());
}

// ---------------------------------------------------------------------------------
// 3. One uploader at a time
// ---------------------------------------------------------------------------------

/// Samples `home`'s live uploaders every ~10 ms on a thread until stopped.
#[cfg(target_os = "linux")]
struct Sampler {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Samples>,
}

#[cfg(target_os = "linux")]
#[derive(Debug, Default)]
struct Samples {
    taken: usize,
    /// How many samples saw more than one uploader, and the most seen at once.
    crowded: usize,
    most: Vec<u32>,
    seen: HashSet<u32>,
}

#[cfg(target_os = "linux")]
impl Sampler {
    fn start(home: &Path) -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let (home, flag) = (home.to_owned(), std::sync::Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let mut samples = Samples::default();
            while !flag.load(Ordering::SeqCst) {
                let pids = uploaders(&home);
                samples.taken += 1;
                samples.seen.extend(&pids);
                if pids.len() > 1 {
                    samples.crowded += 1;
                }
                if pids.len() > samples.most.len() {
                    samples.most = pids;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            samples
        });
        Self { stop, thread }
    }

    fn finish(self) -> Samples {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.thread.join().unwrap()
    }
}

/// The pause after run `run` (0-based) of the fifty: bursts of five runs, then a pause
/// of 0 to 900 ms, so that runs land while an uploader starts, sends, drains the spool
/// and ends, and several uploaders come and go.
fn gap_after(run: u64) -> Duration {
    if run % 5 == 4 {
        Duration::from_millis(run / 5 * 7 % 10 * 100)
    } else {
        Duration::ZERO
    }
}

/// How many requests carried the first delivery of an event that was delivered again.
fn repeated_requests(requests: &[Request]) -> usize {
    let mut first: HashMap<String, usize> = HashMap::new();
    let mut repeated = HashSet::new();
    for (n, request) in requests.iter().enumerate().filter(|(_, r)| r.accepted()) {
        for id in request.event_ids() {
            if let Some(&earlier) = first.get(&id) {
                repeated.insert(earlier);
            } else {
                first.insert(id, n);
            }
        }
    }
    repeated.len()
}

#[cfg(target_os = "linux")]
#[test]
fn fifty_quick_runs_never_have_two_uploaders_alive_and_lose_nothing() {
    let home = tempfile::tempdir().unwrap();
    let spool = demo_spool(home.path());
    let server = Server::start(Reply::Slow(200, Duration::from_millis(300)));
    let url = server.url("/v1/events");
    let limit = Duration::from_millis(3000);
    let knobs = [
        ("DEMO_UPLOAD_INTERVAL_MS", "0"),
        ("DEMO_UPLOAD_LIMIT_MS", "3000"),
    ];
    let sampler = Sampler::start(home.path());
    for run in 0..50 {
        assert_ok(&demo(home.path(), &["build"], &url, &knobs));
        std::thread::sleep(gap_after(run));
    }
    // The last uploader ends by its time limit at the latest (its lock is released
    // a moment after its command line disappears).
    let gone = wait_until(limit + WAIT, || {
        uploaders(home.path()).is_empty() && !lock_held(&spool)
    });
    let samples = sampler.finish();
    assert!(gone, "an uploader outlived its time limit");
    eprintln!(
        "{} samples, {} uploaders seen",
        samples.taken,
        samples.seen.len()
    );
    assert!(!samples.seen.is_empty(), "uploaders ran");
    assert_eq!(
        samples.crowded, 0,
        "samples with more than one uploader alive (at most {:?})",
        samples.most
    );

    let recorded: Vec<String> = demo_events(home.path())
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    assert_eq!(recorded.len(), 50, "one event per run (local log)");
    // An event spooled after the last uploader's final look at the spool, by a run
    // that found the lock still held, waits for the next run: in the spool, not lost.
    let delivered: HashSet<String> = server.accepted_ids().into_iter().collect();
    let waiting: HashSet<String> = spooled_ids(&spool).into_iter().collect();
    for id in &recorded {
        assert!(
            delivered.contains(id) || waiting.contains(id),
            "event {id} neither delivered nor in the spool"
        );
    }
    let left = recorded
        .iter()
        .filter(|id| !delivered.contains(*id))
        .count();
    eprintln!("{left} event(s) left for the next run");
    // The next run's uploader takes them.
    assert_ok(&demo(home.path(), &["test"], &url, &knobs));
    let all: HashSet<String> = demo_events(home.path())
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    let delivered_all = server.wait_until(WAIT, |r| all.is_subset(&accepted(r)));
    assert!(delivered_all, "every recorded event is delivered");
    wait_for_no_uploader(home.path(), &spool, limit + WAIT);
    assert!(spooled(&spool).is_empty());

    // At least once: an uploader cut by its time limit in the middle of a request the
    // server accepted sends that batch again with the next uploader. At most that
    // one request per uploader, and usually none (most end by draining the spool).
    let requests = server.requests();
    let ids = server.accepted_ids();
    let dups = duplicates(&ids);
    let repeated = repeated_requests(&requests);
    eprintln!(
        "{} events delivered in {} requests; {repeated} request(s) repeated; duplicates: \
         {dups:?}",
        ids.len(),
        requests.len()
    );
    assert!(
        repeated <= samples.seen.len(),
        "{repeated} requests repeated by {} uploaders: {dups:?}",
        samples.seen.len()
    );
}

// ---------------------------------------------------------------------------------
// 4. The time limit
// ---------------------------------------------------------------------------------

#[cfg(target_os = "linux")]
#[test]
fn an_uploader_against_a_hanging_server_ends_at_its_limit_and_hands_its_batch_back() {
    let home = tempfile::tempdir().unwrap();
    let spool = demo_spool(home.path());
    let server = Server::start(Reply::Hang);
    let limit = Duration::from_millis(3000);
    let knobs = [
        ("DEMO_UPLOAD_INTERVAL_MS", "0"),
        ("DEMO_UPLOAD_LIMIT_MS", "3000"),
    ];
    assert_ok(&demo(
        home.path(),
        &["build"],
        &server.url("/v1/events"),
        &knobs,
    ));
    let recorded: Vec<String> = demo_events(home.path())
        .into_iter()
        .map(|e| e.event_id)
        .collect();

    // It runs, and its request hangs with the batch claimed.
    let pids = wait_for_uploaders(home.path());
    assert_eq!(pids.len(), 1, "one uploader was started and runs");
    assert!(
        server.wait_until(WAIT, |r| !r.is_empty()),
        "the uploader sent its request"
    );
    let (_, claimed) = batch_files(&spool);
    assert_eq!(claimed.len(), 1, "the batch is claimed while it is sent");

    // Gone after its limit (the request timeout alone, 10 s, then retries, would keep
    // it far longer than the bound).
    wait_for_no_uploader(home.path(), &spool, limit + WAIT);
    let (ready, claimed) = batch_files(&spool);
    assert!(claimed.is_empty(), "its claim was released: {claimed:?}");
    assert_eq!(ready.len(), 1, "the batch waits again: {ready:?}");
    assert_eq!(spooled_ids(&spool), recorded, "nothing lost");
}

// ---------------------------------------------------------------------------------
// 5. `disable` in another process stops an upload
// ---------------------------------------------------------------------------------

/// Takes the uploader's lock in `spool` (creating the directory as the library
/// would), so that no run starts an uploader while it is held.
#[cfg(unix)]
fn hold_upload_lock(spool: &Path) -> std::fs::File {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(spool)
        .unwrap();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(spool.join("upload.lock"))
        .unwrap();
    file.try_lock().unwrap();
    file
}

/// The recorder's settings for the disable tests: one event per request, and a time
/// limit long enough to send everything if nothing stops the uploader.
fn one_per_request(url: &str) -> [(&str, &str); 3] {
    [
        ("REC_ENDPOINT", url),
        ("REC_BATCH", "1"),
        ("REC_LIMIT_MS", "20000"),
    ]
}

/// Enables telemetry in `home`'s config file, leaves 20 events (batch size 1) in the
/// spool (no uploader meanwhile: the lock is taken), then starts the uploader with one
/// more run and waits until `server` (slow) got its first request.
#[cfg(unix)]
fn start_a_long_upload(home: &Path, server: &Server, env: &[(&str, &str)]) {
    let spool = recorder_spool(home);
    // Consent from the config file, which the uploader reads again before every
    // request (`RECORDER_TELEMETRY=1`, inherited, would outlast `disable`).
    assert_ok(&recorder(home, &["enable"], env));
    let lock = hold_upload_lock(&spool);
    assert_ok(&recorder(
        home,
        &[],
        &[env, &[("REC_COUNT", "20")]].concat(),
    ));
    // One file (an exit writes what it holds at once), sent one event per request.
    assert_eq!(spooled_ids(&spool).len(), 20);
    assert!(!stamp_exists(&spool, "upload-started"));
    release(&lock);
    drop(lock);
    assert_ok(&recorder(home, &[], env));
    assert!(stamp_exists(&spool, "upload-started"));
    assert!(
        server.wait_until(WAIT, |r| !r.is_empty()),
        "the uploader sends"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn disable_in_another_process_stops_a_running_upload_and_empties_the_spool() {
    let home = tempfile::tempdir().unwrap();
    let spool = recorder_spool(home.path());
    let server = Server::start(Reply::Slow(200, Duration::from_millis(500)));
    let url = server.url("/v1/events");
    let env = one_per_request(&url);
    start_a_long_upload(home.path(), &server, &env);

    assert_ok(&recorder(home.path(), &["disable"], &env));
    let before = server.requests().len();
    assert!(before < 21, "the upload was not over when disable ran");
    wait_for_no_uploader(home.path(), &spool, WAIT);
    let after = server.requests().len();
    assert!(
        after <= before + 1,
        "at most one request after disable returned: {before} then {after}"
    );
    assert_eq!(batch_files(&spool), (vec![], vec![]), "the spool is empty");
}

/// The uploader's own check: consent withdrawn in the config file by a process that
/// could not purge this spool (another data dir) still stops it between requests.
#[cfg(target_os = "linux")]
#[test]
fn consent_withdrawn_in_the_config_file_alone_stops_a_running_upload() {
    let home = tempfile::tempdir().unwrap();
    let spool = recorder_spool(home.path());
    let server = Server::start(Reply::Slow(200, Duration::from_millis(500)));
    let url = server.url("/v1/events");
    let env = one_per_request(&url);
    start_a_long_upload(home.path(), &server, &env);

    let elsewhere = home.path().join("other-data");
    let elsewhere = [("REC_DATA_DIR", elsewhere.to_str().unwrap())];
    assert_ok(&recorder(
        home.path(),
        &["disable"],
        &[&env[..], &elsewhere].concat(),
    ));
    let before = server.requests().len();
    assert!(before < 21, "the upload was not over when disable ran");
    assert!(
        !batch_files(&spool).0.is_empty(),
        "batches still wait: nothing but the uploader's check can stop it"
    );
    wait_for_no_uploader(home.path(), &spool, WAIT);
    let after = server.requests().len();
    assert!(
        after <= before + 1,
        "at most one request after consent was withdrawn: {before} then {after}"
    );
}

/// `disable` while an uploader sends, then `enable`: the next run must still find the
/// running uploader's lock taken and start no second one.
#[cfg(target_os = "linux")]
#[test]
fn disable_and_enable_during_an_upload_leave_one_uploader() {
    let home = tempfile::tempdir().unwrap();
    let spool = recorder_spool(home.path());
    let server = Server::start(Reply::Hang);
    let url = server.url("/v1/events");
    let env = [
        ("REC_ENDPOINT", url.as_str()),
        ("REC_INTERVAL_MS", "0"),
        ("REC_LIMIT_MS", "8000"),
    ];
    assert_ok(&recorder(home.path(), &["enable"], &env));
    assert_ok(&recorder(home.path(), &[], &env));
    let first = wait_for_uploaders(home.path());
    assert_eq!(first.len(), 1, "the first run started an uploader");
    assert!(
        server.wait_until(WAIT, |r| !r.is_empty()),
        "its request hangs"
    );

    assert_ok(&recorder(home.path(), &["disable"], &env));
    assert_ok(&recorder(home.path(), &["enable"], &env));
    assert_ok(&recorder(home.path(), &[], &env));
    // A second uploader would show within moments; look for a while (bounded).
    let mut alive = Vec::new();
    wait_until(Duration::from_secs(2), || {
        alive = uploaders(home.path());
        alive.len() > 1
    });
    assert!(
        alive.len() <= 1,
        "two uploaders alive at once: {alive:?} (the first was {first:?}); lock file now: {:?}",
        std::fs::metadata(spool.join("upload.lock")).is_ok()
    );
    wait_for_no_uploader(home.path(), &spool, Duration::from_secs(8) + WAIT);
}

// ---------------------------------------------------------------------------------
// 6. Silent and detached
// ---------------------------------------------------------------------------------

#[cfg(target_os = "linux")]
#[test]
fn the_uploader_neither_holds_nor_writes_to_the_tools_pipes() {
    let home = tempfile::tempdir().unwrap();
    let spool = demo_spool(home.path());
    let server = Server::start(Reply::Hang);
    let knobs = [
        ("DEMO_UPLOAD_INTERVAL_MS", "0"),
        ("DEMO_UPLOAD_LIMIT_MS", "5000"),
    ];
    // `output()` reads both pipes to their end: it returns only when every process
    // holding them has closed them.
    let out = demo(home.path(), &["build"], &server.url("/v1/events"), &knobs);
    assert_ok(&out);
    assert!(
        out.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        lock_held(&spool),
        "output() returned while the uploader still runs (it holds neither pipe)"
    );
    let pids = wait_for_uploaders(home.path());
    assert_eq!(pids.len(), 1, "one uploader runs");
    let pid = pids[0];
    let fd = |n: u32| std::fs::read_link(format!("/proc/{pid}/fd/{n}")).unwrap();
    assert_eq!(fd(0), spool.join("upload.lock"), "its stdin is the lock");
    assert_eq!(fd(1), Path::new("/dev/null"));
    assert_eq!(fd(2), Path::new("/dev/null"));
    // Its own process group: a Ctrl-C at the terminal is not for it.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let pgrp: u32 = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(pgrp, pid, "the uploader leads its own process group");
    wait_for_no_uploader(home.path(), &spool, Duration::from_secs(5) + WAIT);
}

/// The tool may inherit more than its standard streams: `bats` gives every test's
/// commands its output pipe as fd 3 too, and waits until every holder closed it.
#[cfg(target_os = "linux")]
#[test]
fn the_uploader_holds_no_pipe_the_tool_inherited() {
    let home = tempfile::tempdir().unwrap();
    let spool = demo_spool(home.path());
    let server = Server::start(Reply::Hang);
    // `sh` starts the tool with fd 3 = its standard output's pipe (not close-on-exec).
    let out = command_in_home("sh", home.path())
        .args(["-c", r#"exec "$0" build 3>&1"#, DEMO])
        .env("DEMO_TELEMETRY", "1")
        .env("DEMO_TELEMETRY_ENDPOINT", server.url("/v1/events"))
        .env("DEMO_UPLOAD_INTERVAL_MS", "0")
        .env("DEMO_UPLOAD_LIMIT_MS", "5000")
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(
        stamp_exists(&spool, "upload-started"),
        "an uploader was started"
    );
    assert!(
        lock_held(&spool),
        "output() returned only once the uploader had ended: it held fd 3"
    );
    wait_for_no_uploader(home.path(), &spool, Duration::from_secs(5) + WAIT);
}

// ---------------------------------------------------------------------------------
// 7. Never in CI, never under DO_NOT_TRACK
// ---------------------------------------------------------------------------------

#[test]
fn no_uploader_in_ci_nor_under_do_not_track() {
    let home = tempfile::tempdir().unwrap();
    let spool = demo_spool(home.path());
    let server = Server::start(Reply::Status(200));
    let url = server.url("/v1/events");

    // CI, telemetry explicitly on: the run sends its own event within its deadline
    // (generous: the exit returns as soon as it is delivered).
    let ci = [
        ("CI", "true"),
        ("DEMO_UPLOAD_INTERVAL_MS", "0"),
        ("DEMO_DEADLINE_MS", "20000"),
    ];
    assert_ok(&demo(home.path(), &["build"], &url, &ci));
    let recorded: Vec<String> = demo_events(home.path())
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    assert_eq!(server.accepted_ids(), recorded, "sent by the run itself");
    assert_no_uploader(home.path(), &spool);

    // A CI run against a hanging server leaves its batch: work an uploader could do.
    let hang = Server::start(Reply::Hang);
    let ci_short = [
        ("CI", "true"),
        ("DEMO_UPLOAD_INTERVAL_MS", "0"),
        ("DEMO_DEADLINE_MS", "300"),
    ];
    assert_ok(&demo(
        home.path(),
        &["build"],
        &hang.url("/v1/events"),
        &ci_short,
    ));
    assert_eq!(spooled(&spool).len(), 1, "a batch waits");
    assert_no_uploader(home.path(), &spool);

    // DO_NOT_TRACK (it wins over DEMO_TELEMETRY=1): nothing starts, nothing is sent.
    let dnt = [("DO_NOT_TRACK", "1"), ("DEMO_UPLOAD_INTERVAL_MS", "0")];
    assert_ok(&demo(home.path(), &["build"], &url, &dnt));
    assert_no_uploader(home.path(), &spool);
    assert_eq!(server.requests().len(), 1, "nothing more was sent");
    assert_eq!(spooled(&spool).len(), 1, "the batch still waits");
}

// ---------------------------------------------------------------------------------
// 8. The exit code is the tool's
// ---------------------------------------------------------------------------------

#[test]
fn the_exit_code_is_the_tools_while_an_uploader_starts() {
    let server = Server::start(Reply::Status(200));
    let url = server.url("/v1/events");
    let knobs = [("DEMO_UPLOAD_INTERVAL_MS", "0")];
    for (args, code) in [(&["fail"][..], 1), (&["fail", "--exit", "3"][..], 3)] {
        let home = tempfile::tempdir().unwrap();
        let spool = demo_spool(home.path());
        let out = demo(home.path(), args, &url, &knobs);
        assert_eq!(out.status.code(), Some(code), "demo {args:?}: {out:?}");
        assert!(
            stamp_exists(&spool, "upload-started"),
            "demo {args:?} started an uploader"
        );
        let recorded = demo_events(home.path());
        assert_eq!(recorded.len(), 1);
        assert!(
            server.wait_until(WAIT, |r| accepted(r).contains(&recorded[0].event_id)),
            "the uploader delivered demo {args:?}'s event"
        );
        wait_for_no_uploader(home.path(), &spool, WAIT);
    }
}

// ---------------------------------------------------------------------------------
// 9. A tool that parses its arguments before `init`
// ---------------------------------------------------------------------------------

/// How long ago `spool`'s `upload-started` stamp was set.
fn started_ago(spool: &Path) -> Duration {
    let set = std::fs::metadata(spool.join("upload-started"))
        .and_then(|m| m.modified())
        .unwrap();
    SystemTime::now()
        .duration_since(set)
        .unwrap_or(Duration::ZERO)
}

#[test]
fn a_tool_that_parses_first_sends_at_exit_once_its_uploader_failed() {
    let home = tempfile::tempdir().unwrap();
    let spool = recorder_spool(home.path());
    let server = Server::start(Reply::Status(200));
    let url = server.url("/v1/events");
    // The default interval (10 min): one uploader, then no other for a while.
    let env = [
        ("RECORDER_TELEMETRY", "1"),
        ("REC_ENDPOINT", url.as_str()),
        ("REC_PARSE_FIRST", "1"),
        ("REC_DEADLINE_MS", "20000"),
    ];

    // Run 1 starts an uploader, which rejects `--telemetry-uploader` and exits.
    assert_ok(&recorder(home.path(), &["run"], &env));
    assert!(
        stamp_exists(&spool, "upload-started"),
        "an uploader started"
    );
    let first = spooled_ids(&spool);
    assert_eq!(first.len(), 1);
    wait_for_no_uploader(home.path(), &spool, WAIT);
    assert!(!stamp_exists(&spool, "upload-ran"), "it never reached init");
    assert!(server.requests().is_empty(), "and sent nothing");

    // Within the grace the next run leaves its event to an uploader as usual.
    assert_ok(&recorder(home.path(), &["run"], &env));
    if started_ago(&spool) < START_GRACE {
        assert!(server.requests().is_empty(), "no fallback within the grace");
    }

    // After the grace the next run sends everything within its deadline.
    let waited = wait_until(START_GRACE + WAIT, || {
        started_ago(&spool) > START_GRACE + Duration::from_millis(200)
    });
    assert!(waited);
    assert_ok(&recorder(home.path(), &["run"], &env));
    let delivered = server.accepted_ids();
    assert_eq!(delivered.len(), 3, "the three runs' events: {delivered:?}");
    assert!(delivered.contains(&first[0]));
    assert!(spooled(&spool).is_empty());
}
