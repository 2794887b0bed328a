//! `#[telemetry::track]` at run time: real calls of tracked functions, observed as the
//! events that reach a `MemorySink` through the globally installed context. (With
//! collection compiled out nothing is recorded: see `track_disabled.rs`.)
#![cfg(feature = "collect")]

use std::future::Future;
use std::pin::pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use telemetry::sink::MemorySink;
use telemetry::{
    AttrValue, CollectionPolicy, Event, Outcome, SafeValue, TelemetryContext, TelemetryGuard,
};

const WAIT: Duration = Duration::from_secs(10);

/// The global context is process-wide: one test at a time installs it.
static SERIAL: Mutex<()> = Mutex::new(());

/// An installed context writing to `sink`; uninstalled (after a flush) on drop, before
/// the next test may take the lock (fields drop in declaration order).
struct Installed {
    guard: Option<TelemetryGuard>,
    sink: MemorySink,
    _serial: MutexGuard<'static, ()>,
}

impl Installed {
    fn new(policy: CollectionPolicy) -> Self {
        let serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
        let sink = MemorySink::new();
        let ctx = TelemetryContext::builder()
            .tool(telemetry::tool!("tracktool", "1.0.0"))
            .salt("track-tests")
            .sink(sink.clone())
            .policy(policy)
            .build()
            .unwrap();
        Self {
            guard: Some(telemetry::init(ctx)),
            sink,
            _serial: serial,
        }
    }

    /// Everything recorded so far, once it reached the sink.
    fn events(&self) -> Vec<Event> {
        if let Some(ctx) = telemetry::global() {
            ctx.flush_blocking(WAIT).unwrap();
        }
        self.sink.snapshot()
    }

    fn only_event(&self, name: &str) -> Event {
        let events: Vec<Event> = self
            .events()
            .into_iter()
            .filter(|e| e.name() == name)
            .collect();
        assert_eq!(events.len(), 1, "{events:#?}");
        events.into_iter().next().unwrap()
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        drop(self.guard.take());
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

#[derive(Clone, Copy, SafeValue)]
enum Profile {
    Debug,
    ReleaseLto,
}

#[derive(Debug)]
struct BuildError;

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("secret message: /home/alice/project")
    }
}

impl std::error::Error for BuildError {}

#[telemetry::track("track.build", attrs(kind = "full", level = -2, ratio = 0.5, fast = true), capture(jobs, profile, target))]
fn build(jobs: u16, profile: Profile, target: Option<u8>, fail: bool) -> Result<u16, BuildError> {
    if fail { Err(BuildError) } else { Ok(jobs) }
}

#[telemetry::track("track.io")]
fn io_call(fail: bool) -> std::io::Result<()> {
    if fail {
        return Err(std::io::Error::other("/home/alice/secret.txt"));
    }
    Ok(())
}

#[telemetry::track("track.boxed")]
fn boxed(input: &str) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    Ok(input.parse::<u32>()?)
}

#[telemetry::track("track.plain", capture(n))]
fn plain(n: u64) -> u64 {
    n * 2
}

#[telemetry::track("track.panics")]
fn panics(message: &str) -> u8 {
    panic!("{message}")
}

#[telemetry::track("track.async", capture(id))]
async fn fetch(id: u32, fail: bool) -> Result<u32, std::fmt::Error> {
    std::thread::sleep(Duration::from_millis(20));
    if fail { Err(std::fmt::Error) } else { Ok(id) }
}

#[telemetry::track("track.pending")]
async fn never_finishes() {
    std::future::pending::<()>().await;
}

#[telemetry::track("track.async_panic")]
async fn async_panics() -> u8 {
    panic!("async boom")
}

#[telemetry::track("track.future_block", capture(parts))]
fn download(parts: u8) -> impl Future<Output = Result<u8, std::fmt::Error>> {
    async move {
        if parts == 0 {
            Err(std::fmt::Error)
        } else {
            Ok(parts)
        }
    }
}

#[async_trait::async_trait]
trait Runner {
    async fn run(&self, jobs: u32) -> Result<u32, std::fmt::Error>;
}

struct Local;

#[async_trait::async_trait]
impl Runner for Local {
    #[telemetry::track("track.async_trait", capture(jobs))]
    async fn run(&self, jobs: u32) -> Result<u32, std::fmt::Error> {
        Ok(jobs)
    }
}

fn attr(event: &Event, key: &str) -> Option<AttrValue> {
    event.attrs().get(key).cloned()
}

#[test]
fn sync_ok_records_literal_and_captured_attrs() {
    let t = Installed::new(CollectionPolicy::Enabled);
    assert_eq!(build(4, Profile::ReleaseLto, Some(7), false).unwrap(), 4);
    let e = t.only_event("track.build");
    assert_eq!(e.outcome(), Outcome::Ok);
    assert_eq!(e.error_kind(), None);
    assert!(e.duration_ms().is_some());
    assert_eq!(
        attr(&e, "kind").as_ref().and_then(AttrValue::as_str),
        Some("full")
    );
    assert_eq!(attr(&e, "level"), Some(AttrValue::Int(-2)));
    assert_eq!(attr(&e, "ratio"), Some(AttrValue::Float(0.5)));
    assert_eq!(attr(&e, "fast"), Some(AttrValue::Bool(true)));
    assert_eq!(attr(&e, "jobs"), Some(AttrValue::Int(4)));
    assert_eq!(
        attr(&e, "profile").as_ref().and_then(AttrValue::as_str),
        Some("release_lto")
    );
    assert_eq!(attr(&e, "target"), Some(AttrValue::Int(7)));
    assert_eq!(e.attrs().len(), 7, "{:?}", e.attrs());
}

#[test]
fn sync_error_records_the_error_type_never_its_message() {
    let t = Installed::new(CollectionPolicy::Enabled);
    assert!(build(1, Profile::Debug, None, true).is_err());
    let e = t.only_event("track.build");
    assert_eq!(e.outcome(), Outcome::Error);
    assert_eq!(e.error_kind(), Some(std::any::type_name::<BuildError>()));
    // `None` leaves the attribute out; nothing of the message appears anywhere.
    assert_eq!(attr(&e, "target"), None);
    assert!(!e.to_json().contains("alice"));
}

#[test]
fn io_errors_report_their_kind_and_other_errors_their_type() {
    let t = Installed::new(CollectionPolicy::Enabled);
    io_call(false).unwrap();
    io_call(true).unwrap_err();
    boxed("x").unwrap_err();
    let events = t.events();
    let io: Vec<_> = events.iter().filter(|e| e.name() == "track.io").collect();
    assert_eq!(io.len(), 2);
    assert_eq!((io[0].outcome(), io[0].error_kind()), (Outcome::Ok, None));
    assert_eq!(io[1].outcome(), Outcome::Error);
    // `io::Error::other("/home/alice/secret.txt")`: its kind, never its message.
    assert_eq!(io[1].error_kind(), Some("other"));
    let boxed = events.iter().find(|e| e.name() == "track.boxed").unwrap();
    assert_eq!(boxed.outcome(), Outcome::Error);
    assert_eq!(
        boxed.error_kind(),
        Some(std::any::type_name::<
            Box<dyn std::error::Error + Send + Sync>,
        >())
    );
}

/// An error type whose name would carry a value: a const-generic argument and an array
/// length (`pack` turns a name into a number at compile time).
#[derive(Debug)]
struct Tagged<const N: u64, T>(std::marker::PhantomData<T>);

const fn pack(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let mut packed = 0_u64;
    let mut i = 0;
    while i < bytes.len() {
        packed = packed << 8 | bytes[i] as u64;
        i += 1;
    }
    packed
}

#[telemetry::track("track.tagged")]
fn tagged() -> Result<(), Tagged<{ pack("alice") }, [u8; 1_633_904_995]>> {
    Err(Tagged(std::marker::PhantomData))
}

#[test]
fn error_kind_names_a_type_never_a_value() {
    let t = Installed::new(CollectionPolicy::Enabled);
    tagged().unwrap_err();
    let e = t.only_event("track.tagged");
    assert_eq!(e.outcome(), Outcome::Error);
    let kind = e.error_kind().unwrap();
    assert!(
        std::any::type_name::<Tagged<{ pack("alice") }, [u8; 1_633_904_995]>>()
            .contains(&pack("alice").to_string()),
        "the raw type name carries the value"
    );
    assert_eq!(kind, "track_runtime::Tagged<_, [u8; _]>");
}

#[test]
fn non_result_return_types_record_ok() {
    let t = Installed::new(CollectionPolicy::Enabled);
    assert_eq!(plain(21), 42);
    let e = t.only_event("track.plain");
    assert_eq!(e.outcome(), Outcome::Ok);
    assert_eq!(attr(&e, "n"), Some(AttrValue::Int(21)));
}

#[test]
fn a_panic_is_recorded_and_keeps_unwinding() {
    let t = Installed::new(CollectionPolicy::Enabled);
    let caught = std::panic::catch_unwind(|| panics("boom"));
    assert_eq!(*caught.unwrap_err().downcast::<String>().unwrap(), "boom");
    let e = t.only_event("track.panics");
    assert_eq!(e.outcome(), Outcome::Panic);
    assert_eq!(e.error_kind(), None);
}

#[test]
fn async_fn_is_timed_while_it_runs_not_from_construction() {
    let t = Installed::new(CollectionPolicy::Enabled);
    let future = fetch(9, false);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(block_on(future), Ok(9));
    assert_eq!(block_on(fetch(1, true)), Err(std::fmt::Error));
    let events: Vec<Event> = t
        .events()
        .into_iter()
        .filter(|e| e.name() == "track.async")
        .collect();
    assert_eq!(events.len(), 2);
    let ok = &events[0];
    assert_eq!(ok.outcome(), Outcome::Ok);
    assert_eq!(attr(ok, "id"), Some(AttrValue::Int(9)));
    let ms = ok.duration_ms().unwrap();
    assert!((20.0..300.0).contains(&ms), "duration {ms} ms");
    assert_eq!(events[1].outcome(), Outcome::Error);
    assert_eq!(events[1].error_kind(), Some("core::fmt::Error"));
}

#[test]
fn a_future_dropped_after_its_first_poll_is_cancelled_and_one_never_polled_records_nothing() {
    let t = Installed::new(CollectionPolicy::Enabled);
    drop(never_finishes());
    let mut future = Box::pin(never_finishes());
    let mut cx = Context::from_waker(Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_pending());
    drop(future);
    let e = t.only_event("track.pending");
    assert_eq!(e.outcome(), Outcome::Cancelled);
}

#[test]
fn a_panic_inside_a_polled_future_is_recorded_as_panic() {
    let t = Installed::new(CollectionPolicy::Enabled);
    let mut future = Box::pin(async_panics());
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut cx = Context::from_waker(Waker::noop());
        let _ = future.as_mut().poll(&mut cx);
    }));
    assert!(caught.is_err());
    // Dropping the poisoned future afterwards must not record a second event.
    drop(future);
    let e = t.only_event("track.async_panic");
    assert_eq!(e.outcome(), Outcome::Panic);
}

#[test]
fn futures_from_async_blocks_and_async_trait_methods_are_recorded() {
    let t = Installed::new(CollectionPolicy::Enabled);
    assert_eq!(block_on(download(3)), Ok(3));
    assert!(block_on(download(0)).is_err());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(Local.run(5)), Ok(5));
    let events = t.events();
    let blocks: Vec<_> = events
        .iter()
        .filter(|e| e.name() == "track.future_block")
        .collect();
    assert_eq!(blocks.len(), 2);
    assert_eq!(
        (blocks[0].outcome(), attr(blocks[0], "parts")),
        (Outcome::Ok, Some(AttrValue::Int(3)))
    );
    assert_eq!(blocks[1].outcome(), Outcome::Error);
    let run = events
        .iter()
        .find(|e| e.name() == "track.async_trait")
        .unwrap();
    assert_eq!(
        (run.outcome(), attr(run, "jobs")),
        (Outcome::Ok, Some(AttrValue::Int(5)))
    );
}

/// The values of `n` that `track.plain` recorded into `t`'s sink, sorted.
fn plain_values(t: &Installed) -> Vec<i64> {
    let mut values: Vec<i64> = t
        .events()
        .iter()
        .filter(|e| e.name() == "track.plain")
        .filter_map(|e| match attr(e, "n") {
            Some(AttrValue::Int(n)) => Some(n),
            _ => None,
        })
        .collect();
    values.sort_unstable();
    values
}

#[test]
fn threads_that_recorded_before_follow_the_next_installed_context() {
    // A thread that keeps running across both contexts, as a tool's worker pool would.
    let (go, calls) = std::sync::mpsc::channel::<u64>();
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let pool = std::thread::spawn(move || {
        for n in calls {
            plain(n);
            done.send(()).unwrap();
        }
    });
    let call_on_both = |n: u64| {
        plain(n);
        go.send(n + 100).unwrap();
        finished.recv_timeout(WAIT).unwrap();
    };

    let first = Installed::new(CollectionPolicy::Enabled);
    call_on_both(1);
    let first_values = plain_values(&first);
    drop(first);
    // Nothing installed: nothing recorded, nowhere.
    call_on_both(2);
    let second = Installed::new(CollectionPolicy::Enabled);
    call_on_both(3);
    let second_values = plain_values(&second);
    drop(second);
    drop(go);
    pool.join().unwrap();

    assert_eq!(first_values, [1, 101]);
    assert_eq!(second_values, [3, 103]);
}

#[test]
fn disabling_the_installed_context_stops_a_thread_that_already_recorded() {
    let t = Installed::new(CollectionPolicy::Enabled);
    plain(1);
    assert_eq!(plain_values(&t), [1]);
    let ctx = telemetry::global().unwrap();
    ctx.set_policy(CollectionPolicy::Disabled);
    plain(2);
    ctx.set_policy(CollectionPolicy::Enabled);
    plain(3);
    assert_eq!(plain_values(&t), [1, 3]);
}

// ---- computed captures (`capture(key = expr)`) --------------------------------------

/// A host's own enum with no `SafeValue` (a stand-in for `clap_complete::Shell`).
#[derive(Clone, Copy)]
enum ForeignShell {
    Bash,
    Zsh,
    Fish,
}

/// The author's mapping of the foreign enum to a sendable one.
#[derive(Clone, Copy, SafeValue)]
enum ShellKind {
    Bash,
    Zsh,
    #[safe_value(rename = "other-shell")]
    Other,
}

fn shell_kind(shell: &ForeignShell) -> ShellKind {
    match shell {
        ForeignShell::Bash => ShellKind::Bash,
        ForeignShell::Zsh => ShellKind::Zsh,
        ForeignShell::Fish => ShellKind::Other,
    }
}

/// A stand-in for clap's `ArgMatches`: what a builder-API handler has.
struct Matches {
    flags: Vec<&'static str>,
    jobs: Option<u16>,
    home: std::path::PathBuf,
}

impl Matches {
    fn get_flag(&self, name: &str) -> bool {
        self.flags.contains(&name)
    }
}

static EVALUATED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn counted(value: bool) -> bool {
    EVALUATED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    value
}

#[telemetry::track(
    "track.completions",
    capture(
        shell: ShellKind = shell_kind(&shell),
        open_browser = open,
        jobs: u16 = matches.jobs.unwrap_or(1),
        verbose = counted(matches.get_flag("verbose")),
    )
)]
fn completions(shell: ForeignShell, open: bool, matches: Matches) -> usize {
    // The body moves every parameter: the captures were read before it ran.
    let Matches { flags, home, .. } = matches;
    let _ = (shell, open, home);
    flags.len()
}

fn matches(flags: &[&'static str], jobs: Option<u16>) -> Matches {
    Matches {
        flags: flags.to_vec(),
        jobs,
        home: "/home/alice".into(),
    }
}

#[test]
fn computed_and_renamed_captures_are_read_when_the_call_starts() {
    let t = Installed::new(CollectionPolicy::Enabled);
    assert_eq!(
        completions(ForeignShell::Fish, true, matches(&["verbose"], Some(6))),
        1
    );
    let e = t.only_event("track.completions");
    assert_eq!(
        attr(&e, "shell").as_ref().and_then(AttrValue::as_str),
        Some("other-shell")
    );
    assert_eq!(attr(&e, "open_browser"), Some(AttrValue::Bool(true)));
    assert_eq!(attr(&e, "jobs"), Some(AttrValue::Int(6)));
    assert_eq!(attr(&e, "verbose"), Some(AttrValue::Bool(true)));
    // Renamed: the parameter's own name is not a key.
    assert_eq!(attr(&e, "open"), None);
    assert_eq!(e.attrs().len(), 4, "{:?}", e.attrs());
    assert!(!e.to_json().contains("alice"));
}

#[test]
fn the_catalog_knows_the_kind_of_a_typed_or_renamed_capture() {
    let spec = telemetry::catalog::events()
        .into_iter()
        .find(|s| s.name() == "track.completions")
        .unwrap();
    let captures: Vec<_> = spec
        .captures()
        .iter()
        .map(|c| (c.key(), c.kind(), c.values()))
        .collect();
    assert_eq!(
        captures,
        [
            ("shell", "string", &["bash", "zsh", "other-shell"][..]),
            ("open_browser", "bool", &[][..]),
            ("jobs", "int", &[][..]),
            // An expression of unwritten type: any `SafeValue`, kind unknown here.
            ("verbose", "any", &[][..]),
        ]
    );
}

#[test]
fn capture_expressions_are_not_evaluated_when_telemetry_is_off() {
    use std::sync::atomic::Ordering;
    {
        let t = Installed::new(CollectionPolicy::Disabled);
        // Read under the installed context's lock: another test evaluates too.
        let before = EVALUATED.load(Ordering::SeqCst);
        completions(ForeignShell::Bash, false, matches(&[], None));
        assert!(t.events().is_empty());
        assert_eq!(EVALUATED.load(Ordering::SeqCst), before);
    }
    let t = Installed::new(CollectionPolicy::Enabled);
    let before = EVALUATED.load(Ordering::SeqCst);
    completions(ForeignShell::Bash, false, matches(&[], None));
    assert_eq!(EVALUATED.load(Ordering::SeqCst), before + 1);
    let e = t.only_event("track.completions");
    assert_eq!(attr(&e, "jobs"), Some(AttrValue::Int(1)));
    assert_eq!(attr(&e, "verbose"), Some(AttrValue::Bool(false)));
}

#[telemetry::track("track.async_computed", capture(zsh = matches!(shell, ForeignShell::Zsh)))]
async fn async_completions(shell: ForeignShell) -> u8 {
    let moved = shell;
    let _ = moved;
    3
}

#[test]
fn an_async_fn_reads_computed_captures_too() {
    let t = Installed::new(CollectionPolicy::Enabled);
    assert_eq!(block_on(async_completions(ForeignShell::Zsh)), 3);
    let e = t.only_event("track.async_computed");
    assert_eq!(attr(&e, "zsh"), Some(AttrValue::Bool(true)));
}

// ---- error classification (`error = classify`) --------------------------------------

#[derive(Clone, Copy, SafeValue)]
enum BuildFailure {
    Config,
    #[safe_value(rename = "io-error.v2")]
    Io,
}

#[derive(Debug)]
#[expect(
    dead_code,
    reason = "what a real error holds: the classifier must not read it"
)]
enum StepError {
    Config(String),
    Io(std::io::Error),
    Unknown,
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("step failed in /home/alice/project")
    }
}

impl std::error::Error for StepError {}

fn classify_step(error: &StepError) -> BuildFailure {
    match error {
        StepError::Config(_) | StepError::Unknown => BuildFailure::Config,
        StepError::Io(_) => BuildFailure::Io,
    }
}

fn classify_known(error: &StepError) -> Option<BuildFailure> {
    match error {
        StepError::Unknown => None,
        known => Some(classify_step(known)),
    }
}

#[telemetry::track("track.step", error = classify_step)]
fn step(fail: Option<StepError>) -> Result<u8, StepError> {
    fail.map_or(Ok(1), Err)
}

#[telemetry::track("track.step_known", error = classify_known)]
fn step_known(fail: StepError) -> Result<u8, StepError> {
    Err(fail)
}

#[telemetry::track("track.step_async", error = classify_step)]
async fn step_async(fail: bool) -> Result<u8, StepError> {
    if fail {
        Err(StepError::Io(std::io::ErrorKind::NotFound.into()))
    } else {
        Ok(2)
    }
}

#[test]
fn a_classifier_gives_the_error_kind_and_never_the_message() {
    let t = Installed::new(CollectionPolicy::Enabled);
    step(None).unwrap();
    step(Some(StepError::Config("/home/alice/book.toml".into()))).unwrap_err();
    step(Some(StepError::Io(std::io::Error::other("/home/alice")))).unwrap_err();
    let events: Vec<Event> = t
        .events()
        .into_iter()
        .filter(|e| e.name() == "track.step")
        .collect();
    let kinds: Vec<_> = events
        .iter()
        .map(|e| (e.outcome(), e.error_kind()))
        .collect();
    assert_eq!(
        kinds,
        [
            (Outcome::Ok, None),
            (Outcome::Error, Some("config")),
            // A renamed value is sent as written, dots and dashes included.
            (Outcome::Error, Some("io-error.v2")),
        ]
    );
    for e in &events {
        assert!(!e.to_json().contains("alice"));
    }
}

#[test]
fn a_classifier_returning_none_leaves_the_error_kind_out() {
    let t = Installed::new(CollectionPolicy::Enabled);
    step_known(StepError::Unknown).unwrap_err();
    step_known(StepError::Config(String::new())).unwrap_err();
    let events = t.events();
    let kinds: Vec<_> = events
        .iter()
        .filter(|e| e.name() == "track.step_known")
        .map(|e| (e.outcome(), e.error_kind()))
        .collect();
    assert_eq!(
        kinds,
        [(Outcome::Error, None), (Outcome::Error, Some("config"))]
    );
}

#[test]
fn an_async_fn_classifies_its_error() {
    let t = Installed::new(CollectionPolicy::Enabled);
    block_on(step_async(true)).unwrap_err();
    let e = t.only_event("track.step_async");
    assert_eq!(
        (e.outcome(), e.error_kind()),
        (Outcome::Error, Some("io-error.v2"))
    );
}

/// A classifier with a bug: the tracked call ends in its panic.
fn classify_panicking(_: &StepError) -> BuildFailure {
    panic!("classifier bug")
}

#[telemetry::track("track.classifier_panics", error = classify_panicking)]
fn step_classifier_panics() -> Result<u8, StepError> {
    Err(StepError::Unknown)
}

#[telemetry::track("track.classifier_panics_async", error = classify_panicking)]
async fn step_classifier_panics_async() -> Result<u8, StepError> {
    Err(StepError::Unknown)
}

// The guard stays armed while the outcome is classified: to the caller, the call
// panicked. (Before, the guard was disarmed first and nothing was recorded; with
// `track_open_calls` the call then stayed in the registry of running calls.)
#[test]
fn a_classifier_that_panics_makes_the_call_a_panic() {
    let t = Installed::new(CollectionPolicy::Enabled);
    assert!(std::panic::catch_unwind(step_classifier_panics).is_err());
    assert!(std::panic::catch_unwind(|| block_on(step_classifier_panics_async())).is_err());
    for name in ["track.classifier_panics", "track.classifier_panics_async"] {
        let e = t.only_event(name);
        assert_eq!((e.outcome(), e.error_kind()), (Outcome::Panic, None));
    }
}

#[test]
fn the_catalog_lists_a_classifiers_error_kinds() {
    let kinds = |name: &str| {
        telemetry::catalog::events()
            .into_iter()
            .find(|s| s.name() == name)
            .unwrap()
            .error_kinds()
    };
    assert_eq!(kinds("track.step"), Some(&["config", "io-error.v2"][..]));
    assert_eq!(
        kinds("track.step_known"),
        Some(&["config", "io-error.v2"][..])
    );
    // Not classified: the type's name, or an io error's kind.
    assert_eq!(kinds("track.io"), None);
    let json = serde_json::Value::Array(
        telemetry::catalog::events()
            .iter()
            .map(|spec| serde_json::from_str(&spec.to_json()).unwrap())
            .collect(),
    );
    let step = json
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "track.step")
        .unwrap();
    assert_eq!(
        step["error_kinds"],
        serde_json::json!(["config", "io-error.v2"])
    );
}

#[telemetry::track("track.io_kinds")]
fn open_missing(dir: &std::path::Path) -> std::io::Result<String> {
    std::fs::read_to_string(dir.join("alice-secret.txt"))
}

#[test]
fn a_real_io_error_reports_its_kind() {
    let t = Installed::new(CollectionPolicy::Enabled);
    let dir = std::env::temp_dir().join(format!("track-io-kinds-{}", std::process::id()));
    open_missing(&dir).unwrap_err();
    let e = t.only_event("track.io_kinds");
    assert_eq!(
        (e.outcome(), e.error_kind()),
        (Outcome::Error, Some("not_found"))
    );
    assert!(!e.to_json().contains("alice"));
}

#[cfg(feature = "anyhow")]
mod anyhow_chain {
    use super::*;

    #[telemetry::track("track.anyhow")]
    fn load(io: bool) -> anyhow::Result<()> {
        if io {
            let cause = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
            Err(anyhow::Error::from(cause).context("reading /home/alice/book.toml"))
        } else {
            anyhow::bail!("bad value in /home/alice/book.toml")
        }
    }

    #[test]
    fn an_anyhow_error_caused_by_io_reports_the_io_kind() {
        let t = Installed::new(CollectionPolicy::Enabled);
        load(true).unwrap_err();
        load(false).unwrap_err();
        let kinds: Vec<_> = t
            .events()
            .into_iter()
            .filter(|e| e.name() == "track.anyhow")
            .map(|e| e.error_kind().map(str::to_owned))
            .collect();
        assert_eq!(
            kinds,
            [
                Some("permission_denied".to_owned()),
                Some("anyhow::Error".to_owned())
            ]
        );
    }
}

#[cfg(feature = "eyre")]
mod eyre_chain {
    use super::*;
    use eyre::WrapErr as _;

    #[telemetry::track("track.eyre")]
    fn load(io: bool) -> eyre::Result<()> {
        if io {
            Err(std::io::Error::from(std::io::ErrorKind::TimedOut))
                .wrap_err("fetching https://example.invalid/alice")
        } else {
            Err(eyre::eyre!("bad value for alice"))
        }
    }

    #[test]
    fn an_eyre_report_caused_by_io_reports_the_io_kind() {
        let t = Installed::new(CollectionPolicy::Enabled);
        assert!(load(true).is_err());
        assert!(load(false).is_err());
        let kinds: Vec<_> = t
            .events()
            .into_iter()
            .filter(|e| e.name() == "track.eyre")
            .map(|e| e.error_kind().map(str::to_owned))
            .collect();
        assert_eq!(
            kinds,
            [
                Some("timed_out".to_owned()),
                Some("eyre::Report".to_owned())
            ]
        );
    }
}
