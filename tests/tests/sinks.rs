//! The built-in sinks, driven directly and through real files and processes.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use telemetry::sink::{FileSink, MemorySink, NoopSink, TeeSink, TelemetrySink, WriterSink};
use telemetry::{Event, TelemetryError};
use telemetry_tests::LoggedEvent;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

const MACHINE_ID: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn event(name: &'static str) -> Event {
    Event::new(name, "tool", "1.0.0", MACHINE_ID)
}

#[test]
fn sink_trait_is_object_safe() {
    let sinks: Vec<Arc<dyn TelemetrySink>> = vec![
        Arc::new(NoopSink),
        Arc::new(MemorySink::new()),
        Arc::new(FileSink::new("unused.jsonl")),
        Arc::new(WriterSink::new(std::io::sink())),
        Arc::new(TeeSink::new()),
    ];
    assert_eq!(sinks.len(), 5);
    rt().block_on(async {
        for sink in &sinks[..2] {
            sink.emit(&event("a")).await.unwrap();
        }
    });
}

#[test]
fn noop_sink_accepts_and_keeps_nothing() {
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        NoopSink.emit(&event("a")).await.unwrap();
        NoopSink
            .emit_batch(&[event("b"), event("c")])
            .await
            .unwrap();
        NoopSink.flush().await.unwrap();
    });
    telemetry_tests::assert_no_files(dir.path());
}

#[test]
fn memory_sink_records_in_order() {
    let sink = MemorySink::new();
    let clone = sink.clone();
    rt().block_on(async {
        sink.emit(&event("first")).await.unwrap();
        sink.emit_batch(&[event("second"), event("third")])
            .await
            .unwrap();
    });
    let names: Vec<_> = clone
        .snapshot()
        .into_iter()
        .map(|e| e.name().to_owned())
        .collect();
    assert_eq!(names, ["first", "second", "third"]);
    clone.clear();
    assert!(sink.snapshot().is_empty());
}

#[test]
fn file_sink_appends_two_json_lines_and_creates_parent_dirs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("does/not/exist/yet/events.jsonl");
    let sink = FileSink::new(&path);
    rt().block_on(async {
        sink.emit(&event("one").with_attr("n", 1)).await.unwrap();
        sink.emit(&event("two").with_attr("n", 2)).await.unwrap();
    });
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with('\n'));
    let events: Vec<LoggedEvent> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].name, "one");
    assert_eq!(events[1].attrs["n"], 2);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the log holds the machine id: owner-only");
    }
}

/// Parses every line and returns the `(writer, seq)` pairs, failing on a torn line.
fn writer_seq_pairs(text: &str) -> Vec<(i64, i64)> {
    text.lines()
        .map(|line| {
            let e: LoggedEvent = serde_json::from_str(line)
                .unwrap_or_else(|err| panic!("torn or interleaved line {line:?}: {err}"));
            let get = |k: &str| {
                e.attrs[k]
                    .as_i64()
                    .unwrap_or_else(|| panic!("{k} = {:?}", e.attrs[k]))
            };
            (get("writer"), get("seq"))
        })
        .collect()
}

fn assert_exactly_every_line(pairs: &[(i64, i64)], writers: i64, per_writer: i64) {
    assert_eq!(pairs.len() as i64, writers * per_writer);
    let unique: BTreeSet<_> = pairs.iter().copied().collect();
    let expected: BTreeSet<_> = (0..writers)
        .flat_map(|w| (0..per_writer).map(move |s| (w, s)))
        .collect();
    assert_eq!(unique, expected);
}

#[test]
fn file_sink_under_eight_threads_keeps_every_line_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let sink = Arc::new(FileSink::new(&path));
    std::thread::scope(|scope| {
        for writer in 0..8_i64 {
            let sink = Arc::clone(&sink);
            scope.spawn(move || {
                let rt = rt();
                for seq in 0..1000_i64 {
                    let e = event("test.append")
                        .with_attr("writer", writer)
                        .with_attr("seq", seq);
                    rt.block_on(sink.emit(&e)).unwrap();
                }
            });
        }
    });
    let pairs = writer_seq_pairs(&std::fs::read_to_string(&path).unwrap());
    assert_exactly_every_line(&pairs, 8, 1000);
}

#[test]
fn file_sink_under_four_processes_keeps_every_line_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let children: Vec<_> = (0..4)
        .map(|writer| {
            std::process::Command::new(env!("CARGO_BIN_EXE_file-writer"))
                .arg(&path)
                .arg(writer.to_string())
                .arg("1000")
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let pairs = writer_seq_pairs(&std::fs::read_to_string(&path).unwrap());
    assert_exactly_every_line(&pairs, 4, 1000);
}

#[test]
fn file_sink_reports_an_unwritable_path() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "a file, not a directory").unwrap();
    let sink = FileSink::new(blocker.join("events.jsonl"));
    let err = rt().block_on(sink.emit(&event("a"))).unwrap_err();
    assert!(err.to_string().contains("blocker"), "{err}");
}

// A device (here `/dev/full`, which would report a full disk) is not a regular file of
// the user's: the sink refuses it before writing, and says so.
#[cfg(target_os = "linux")]
#[test]
fn file_sink_refuses_a_device_and_names_it() {
    let sink = FileSink::new("/dev/full");
    let err = rt().block_on(sink.emit(&event("a"))).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("/dev/full"), "{text}");
    assert!(
        matches!(err, telemetry::TelemetryError::Untrusted { .. }),
        "{err:?}"
    );
}

#[test]
fn writer_sink_writes_one_json_line_per_event() {
    #[derive(Clone, Default)]
    struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let out = Shared::default();
    let sink = WriterSink::new(out.clone());
    rt().block_on(sink.emit_batch(&[event("a"), event("b")]))
        .unwrap();
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    let names: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<LoggedEvent>(l).unwrap().name)
        .collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn tee_sink_keeps_feeding_the_others_when_one_fails() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("blocker"), "").unwrap();
    let (before, after) = (MemorySink::new(), MemorySink::new());
    let tee = TeeSink::new()
        .with(before.clone())
        .with(FileSink::new(dir.path().join("blocker/events.jsonl")))
        .with(after.clone());
    let err = rt().block_on(tee.emit(&event("a"))).unwrap_err();
    assert!(err.to_string().contains("blocker"), "{err}");
    assert_eq!(before.snapshot().len(), 1);
    assert_eq!(after.snapshot().len(), 1);
}

/// A sink that always fails as a server asking for a pause would.
struct Paused(u64);

#[async_trait::async_trait]
impl TelemetrySink for Paused {
    async fn emit(&self, _event: &Event) -> Result<(), TelemetryError> {
        Err(TelemetryError::Http {
            endpoint: format!("https://paused-{}.example", self.0),
            status: Some(503),
            message: "the server answered 503".into(),
            retryable: true,
            retry_after: Some(Duration::from_secs(self.0)),
        })
    }
    fn describe(&self) -> String {
        format!("paused {}", self.0)
    }
}

#[test]
fn tee_sink_keeps_a_servers_pause_in_its_error() {
    let ok = MemorySink::new();
    let one = TeeSink::new().with(ok.clone()).with(Paused(10));
    let err = rt().block_on(one.emit(&event("a"))).unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(10)), "{err:?}");
    assert!(err.is_retryable());

    let two = TeeSink::new()
        .with(Paused(10))
        .with(ok.clone())
        .with(Paused(30));
    let err = rt().block_on(two.emit(&event("b"))).unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("paused 10") && text.contains("paused 30"),
        "{text}"
    );
    assert_eq!(ok.snapshot().len(), 2);
}
