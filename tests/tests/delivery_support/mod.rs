//! A small, scriptable HTTP/1.1 server on 127.0.0.1 for the delivery tests: it answers
//! a status, hangs, or closes the connection, and records every request it read.
//! Every wait is bounded; the server stops when dropped.
#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the server does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Answer with this status (empty body, keep-alive).
    Status(u16),
    /// Answer with this status after a pause.
    Slow(u16, Duration),
    /// Read the request and never answer (until the server is dropped).
    Hang,
    /// Read the request and close the connection without answering.
    Close,
    /// Answer with this status and a `Retry-After` header of this value.
    RetryAfter(u16, &'static str),
}

/// One request the server read in full.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// What the server did with it.
    pub reply: Reply,
    /// When the server had read it.
    pub at: Instant,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The event ids of a JSON-array body.
    pub fn event_ids(&self) -> Vec<String> {
        let events: Vec<telemetry_tests::LoggedEvent> = serde_json::from_slice(&self.body).unwrap();
        events.into_iter().map(|e| e.event_id).collect()
    }

    /// The body, parsed as JSON (a PostHog batch, an OTLP JSON export).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// The `uuid` of every entry of a PostHog batch body (`{"api_key":..,"batch":[..]}`).
    pub fn posthog_uuids(&self) -> Vec<String> {
        self.json()["batch"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["uuid"].as_str().unwrap().to_owned())
            .collect()
    }

    pub fn accepted(&self) -> bool {
        matches!(
            self.reply,
            Reply::Status(200..=299) | Reply::Slow(200..=299, _)
        )
    }
}

struct State {
    script: VecDeque<Reply>,
    default: Reply,
    requests: Vec<Request>,
}

pub struct Server {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// A server answering `default` to every request not covered by a script.
    pub fn start(default: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            script: VecDeque::new(),
            default,
            requests: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (Arc::clone(&state), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let (st, sp) = (Arc::clone(&st), Arc::clone(&sp));
                std::thread::spawn(move || serve(stream, &st, &sp));
            }
        });
        Self { addr, state, stop }
    }

    /// The next requests get these replies, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.lock().unwrap().script.extend(replies);
    }

    pub fn set_default(&self, reply: Reply) {
        self.state.lock().unwrap().default = reply;
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Event ids of every request answered with 2xx, in arrival order.
    pub fn accepted_ids(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter(|r| r.accepted())
            .flat_map(Request::event_ids)
            .collect()
    }

    /// `uuid`s of every PostHog batch answered with 2xx, in arrival order.
    pub fn accepted_posthog_uuids(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter(|r| r.accepted())
            .flat_map(Request::posthog_uuids)
            .collect()
    }

    /// Polls (at most `limit`) until `done` holds for the requests received.
    pub fn wait_until(&self, limit: Duration, done: impl Fn(&[Request]) -> bool) -> bool {
        let until = Instant::now() + limit;
        loop {
            if done(&self.requests()) {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// Method, path, headers, body.
type RawRequest = (String, String, Vec<(String, String)>, Vec<u8>);

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<RawRequest> {
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).ok().filter(|&n| n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = stream.read(&mut chunk).ok().filter(|&n| n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[head_end..head_end + len].to_vec();
    buf.drain(..head_end + len);
    Some((method, path, headers, body))
}

fn serve(mut stream: TcpStream, state: &Mutex<State>, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut buf = Vec::new();
    while let Some((method, path, headers, body)) = read_request(&mut stream, &mut buf) {
        let reply = {
            let mut st = state.lock().unwrap();
            let reply = st.script.pop_front().unwrap_or(st.default);
            st.requests.push(Request {
                method,
                path,
                headers,
                body,
                reply,
                at: Instant::now(),
            });
            reply
        };
        let mut extra = String::new();
        let status = match reply {
            Reply::Status(code) => code,
            Reply::RetryAfter(code, value) => {
                extra = format!("retry-after: {value}\r\n");
                code
            }
            Reply::Slow(code, pause) => {
                std::thread::sleep(pause);
                code
            }
            Reply::Hang => {
                let until = Instant::now() + Duration::from_secs(60);
                while !stop.load(Ordering::SeqCst) && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(20));
                }
                return;
            }
            Reply::Close => return,
        };
        let response = format!("HTTP/1.1 {status} Status\r\n{extra}content-length: 2\r\n\r\nok");
        if stream.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// A port where a listener exists but never accepts: connections complete in the
/// kernel and requests are never read.
pub struct BlackHole {
    listener: TcpListener,
}

impl BlackHole {
    pub fn start() -> Self {
        Self {
            listener: TcpListener::bind("127.0.0.1:0").unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.listener.local_addr().unwrap())
    }
}

/// Every event in the spool files below `dir` (any state), with the file names.
pub fn spooled(dir: &Path) -> Vec<telemetry_tests::LoggedEvent> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut events = Vec::new();
    for entry in entries.flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        events.extend(telemetry_tests::spool_file_events(&text));
    }
    events
}

/// Writes a waiting spool file (as an earlier run would have left it).
pub fn write_ready_file(spool: &Path, order: u64, content: &str) {
    std::fs::create_dir_all(spool).unwrap();
    std::fs::write(spool.join(format!("{order:020}-1-000000.jsonl")), content).unwrap();
}

/// `n` events of an earlier run, as JSON lines.
pub fn jsonl(events: &[telemetry::Event]) -> String {
    events.iter().map(|e| e.to_json() + "\n").collect()
}

/// The events the delivery tests write into spools themselves (`spooled_event`): declared
/// here, so every test binary that writes them has them in its catalog and replays them.
fn declared_spool_events() {
    let _ = telemetry::record!("cmd.old", i = 0_i64);
    let _ = telemetry::record!("cmd.planted");
}

/// The builder of a context that records (policy enabled) for `tool`, keeps its spool
/// below `data_dir` and delivers to `sink`; a test adds what it varies.
pub fn recording(
    tool: telemetry::Tool,
    sink: impl telemetry::sink::TelemetrySink,
    data_dir: &Path,
) -> telemetry::TelemetryContextBuilder {
    telemetry::TelemetryContext::builder()
        .tool(tool)
        .data_dir(data_dir)
        .sink(sink)
        .policy(telemetry::CollectionPolicy::Enabled)
}

/// Polls `done` every 10 ms for at most `limit`; whether it came true.
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The pids of the live detached uploaders (started with `--telemetry-uploader`) whose
/// `HOME` is `home`: one test's, not another's running at the same time. Read from
/// `/proc`; a zombie (empty command line) does not count. Just after its parent's
/// `spawn` returned, an uploader may still be inside `execve`: poll rather than look
/// once when it matters that one is seen.
#[cfg(target_os = "linux")]
pub fn uploaders(home: &Path) -> Vec<u32> {
    let home_var = format!("HOME={}", home.display()).into_bytes();
    let uploader = telemetry::UPLOADER_ARG.as_bytes();
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if !cmdline.split(|&b| b == 0).any(|arg| arg == uploader) {
            continue;
        }
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ.split(|&b| b == 0).any(|var| var == home_var) {
            pids.push(pid);
        }
    }
    pids
}
