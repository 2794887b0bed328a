//! The network sinks over real TLS: the example tool sends to an https server on this
//! machine whose certificate a test CA signed. The tool trusts that CA only through
//! `SSL_CERT_FILE` (the platform's certificate store, as the library reads it), so
//! the same server is refused without it, and the events then stay in the spool. A
//! purge while the TLS handshake is under way sends nothing once it completes. An
//! `HTTPS_PROXY` is used through a CONNECT tunnel, and `NO_PROXY` keeps a host off it.
//! CI runs this file with each TLS library (features `native-tls` and `rustls`).
#![cfg(all(feature = "collect", feature = "http"))]

mod delivery_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use delivery_support::spooled;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use telemetry::sink::HttpSink;
use telemetry::{CollectionPolicy, TelemetryContext};
use telemetry_tests::{demo_data_dir, run_demo};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/tls")
        .join(name)
}

/// An HTTPS server on 127.0.0.1 that answers every request with 200 and keeps the
/// bodies; handshakes that fail are counted.
struct TlsServer {
    addr: SocketAddr,
    bodies: Arc<Mutex<Vec<String>>>,
    failed_handshakes: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
}

impl TlsServer {
    fn start() -> Self {
        Self::start_with(Duration::ZERO)
    }

    /// A server that lets each connection wait `delay` before it answers the handshake
    /// (a slow link, a proxy that takes its time).
    fn start_with(delay: Duration) -> Self {
        let certs = CertificateDer::pem_file_iter(fixture("localhost.crt"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(fixture("localhost.key")).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let failed_handshakes = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let (kept, failed) = (Arc::clone(&bodies), Arc::clone(&failed_handshakes));
        let connected = Arc::clone(&connections);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                connected.fetch_add(1, Ordering::SeqCst);
                let (config, kept, failed) =
                    (Arc::clone(&config), Arc::clone(&kept), Arc::clone(&failed));
                std::thread::spawn(move || {
                    std::thread::sleep(delay);
                    let conn = rustls::ServerConnection::new(config).unwrap();
                    let mut tls = rustls::StreamOwned::new(conn, stream);
                    match read_body(&mut tls) {
                        Some(body) => {
                            kept.lock().unwrap().push(body);
                            let _ = tls.write_all(
                                b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                            );
                            tls.conn.send_close_notify();
                            let _ = tls.flush();
                        }
                        None => {
                            failed.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                });
            }
        });
        Self {
            addr,
            bodies,
            failed_handshakes,
            connections,
        }
    }

    fn url(&self) -> String {
        format!("https://localhost:{}/v1/events", self.addr.port())
    }
}

/// The body of one HTTP/1.1 request with a `content-length` (what the library sends);
/// `None` if the handshake or the read fails.
fn read_body(stream: &mut impl Read) -> Option<String> {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    String::from_utf8(body).ok()
}

/// An HTTP proxy on 127.0.0.1 that records each request line and tunnels every
/// `CONNECT`, whatever its target, to `upstream`; anything else gets a 405.
struct ConnectProxy {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || tunnel(stream, upstream, &seen));
            }
        });
        Self { addr, requests }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn tunnel(client: TcpStream, upstream: SocketAddr, seen: &Mutex<Vec<String>>) {
    let Ok(mut to_client) = client.try_clone() else {
        return;
    };
    let mut from_client = BufReader::new(client);
    let mut request = String::new();
    if from_client.read_line(&mut request).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match from_client.read_line(&mut header) {
            Ok(0) | Err(_) => return,
            Ok(_) if header.trim().is_empty() => break,
            Ok(_) => {}
        }
    }
    seen.lock().unwrap().push(request.trim_end().to_owned());
    if !request.starts_with("CONNECT ") {
        let _ =
            to_client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n");
        return;
    }
    let Ok(mut to_server) = TcpStream::connect(upstream) else {
        return;
    };
    let Ok(mut from_server) = to_server.try_clone() else {
        return;
    };
    if to_client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let back = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Write);
    });
    // The reader's buffer (the client waits for the 200, so it holds nothing yet) and
    // then the rest of the client's bytes, to the server.
    let _ = std::io::copy(&mut from_client, &mut to_server);
    let _ = to_server.shutdown(Shutdown::Write);
    let _ = back.join();
}

/// The demo's one event reached `server`, once, and left the spool.
fn assert_delivered_once(server: &TlsServer, home: &Path) {
    let bodies = server.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert!(bodies[0].contains("\"cmd.build\""), "{}", bodies[0]);
    let spool = demo_data_dir(home).join("spool");
    assert!(spooled(&spool).is_empty(), "delivered events stay spooled");
}

fn demo_against(server: &TlsServer, home: &Path, extra: &[(&str, &str)]) -> std::process::Output {
    demo_to(&server.url(), home, extra)
}

fn demo_to(url: &str, home: &Path, extra: &[(&str, &str)]) -> std::process::Output {
    let mut env = vec![
        ("DEMO_TELEMETRY", "1"),
        ("DEMO_TELEMETRY_ENDPOINT", url),
        // Send within the exit, so the test sees the outcome when the tool has ended.
        ("DEMO_SEND_AT_EXIT", "1"),
        ("DEMO_DEADLINE_MS", "5000"),
    ];
    env.extend_from_slice(extra);
    run_demo(env!("CARGO_BIN_EXE_demo"), home, &["build"], &env)
}

#[test]
fn an_https_endpoint_signed_by_a_trusted_ca_gets_the_events() {
    let server = TlsServer::start();
    let home = tempfile::tempdir().unwrap();
    let ca = fixture("ca.crt");
    let out = demo_against(
        &server,
        home.path(),
        &[("SSL_CERT_FILE", ca.to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_delivered_once(&server, home.path());
}

#[test]
fn an_untrusted_certificate_is_refused_and_the_events_stay_in_the_spool() {
    let server = TlsServer::start();
    let home = tempfile::tempdir().unwrap();
    // The platform's store without the test CA: an empty directory of certificates.
    let no_roots = tempfile::tempdir().unwrap();
    let empty = no_roots.path().join("none.pem");
    std::fs::write(&empty, "").unwrap();
    let out = demo_against(
        &server,
        home.path(),
        &[
            ("SSL_CERT_FILE", empty.to_str().unwrap()),
            ("SSL_CERT_DIR", no_roots.path().to_str().unwrap()),
            ("DEMO_DEADLINE_MS", "2000"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(server.bodies.lock().unwrap().is_empty());
    assert!(server.failed_handshakes.load(Ordering::SeqCst) >= 1);
    let spool = demo_data_dir(home.path()).join("spool");
    let kept = spooled(&spool);
    assert_eq!(kept.len(), 1, "the event waits for a later run: {kept:?}");
}

/// The child of [`a_purge_during_the_handshake_sends_nothing`] (this test binary run
/// again with `HTTPS_CHILD_URL` set, so that `SSL_CERT_FILE` is its own): starts a
/// request, withdraws consent while the handshake waits, and stays until the server
/// has let the handshake complete.
#[test]
fn purge_child() {
    let Ok(url) = std::env::var("HTTPS_CHILD_URL") else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let sink = HttpSink::builder(&url).build().unwrap();
    let ctx = TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1"))
        .data_dir(data.path())
        .sink(sink)
        .send_mode(telemetry::SendMode::AtExit)
        .policy(CollectionPolicy::Enabled)
        .build()
        .unwrap();
    telemetry::record!(ctx, "cmd.build").unwrap();
    // The request starts; the handshake waits at the server.
    let _ = ctx.flush_blocking(Duration::from_millis(300));
    assert_eq!(ctx.purge(), 1, "the batch was withdrawn from the spool");
    // The server completes the handshake meanwhile: a request still going would send.
    std::thread::sleep(Duration::from_millis(1500));
}

#[test]
fn a_purge_during_the_handshake_sends_nothing() {
    let server = TlsServer::start_with(Duration::from_millis(700));
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "purge_child", "--test-threads=1"])
        .env("HTTPS_CHILD_URL", server.url())
        .env("SSL_CERT_FILE", fixture("ca.crt"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        server.connections.load(Ordering::SeqCst) >= 1,
        "the request had started"
    );
    // Give the server's reader its chance to see a body, had one been sent.
    std::thread::sleep(Duration::from_millis(300));
    let bodies = server.bodies.lock().unwrap().clone();
    assert!(bodies.is_empty(), "sent after the purge: {bodies:?}");
}

/// A name that never resolves (`.test` is reserved), which the certificate covers: only
/// a proxy can reach it.
const PROXIED_URL: &str = "https://telemetry.test/v1/events";

/// The demo sending to [`PROXIED_URL`] with `HTTPS_PROXY` set to `proxy` and the test
/// CA trusted.
fn demo_via(proxy: &ConnectProxy, home: &Path, extra: &[(&str, &str)]) -> std::process::Output {
    let ca = fixture("ca.crt");
    let proxy_url = proxy.url();
    let mut env = vec![
        ("SSL_CERT_FILE", ca.to_str().unwrap()),
        ("HTTPS_PROXY", proxy_url.as_str()),
    ];
    env.extend_from_slice(extra);
    demo_to(PROXIED_URL, home, &env)
}

#[test]
fn an_https_proxy_gets_a_connect_for_the_endpoint_and_the_events_go_through_it() {
    let server = TlsServer::start();
    let proxy = ConnectProxy::start(server.addr);
    let home = tempfile::tempdir().unwrap();
    let out = demo_via(&proxy, home.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let requests = proxy.requests.lock().unwrap().clone();
    assert_eq!(
        requests,
        ["CONNECT telemetry.test:443 HTTP/1.1"],
        "one tunnel to the endpoint's host and port"
    );
    assert_delivered_once(&server, home.path());
}

#[test]
fn no_proxy_keeps_the_endpoint_off_the_proxy() {
    let server = TlsServer::start();
    let proxy = ConnectProxy::start(server.addr);
    let home = tempfile::tempdir().unwrap();
    let out = demo_via(
        &proxy,
        home.path(),
        &[
            // A suffix entry: the endpoint's host is a subdomain of it.
            ("NO_PROXY", "localhost,.test"),
            ("DEMO_DEADLINE_MS", "2000"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        proxy.requests.lock().unwrap().is_empty(),
        "the proxy was used for a host NO_PROXY names"
    );
    // Straight to a name that does not resolve: nothing sent, the event kept.
    assert!(server.bodies.lock().unwrap().is_empty());
    let spool = demo_data_dir(home.path()).join("spool");
    assert_eq!(spooled(&spool).len(), 1, "the event waits for a later run");
}
