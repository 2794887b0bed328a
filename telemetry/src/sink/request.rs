//! One request on the wire (`ureq`, blocking): the body that an abandoned request does
//! not send, the response read within a cap, and transport errors described without the
//! URL.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use ureq::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use ureq::http::{StatusCode, Uri};

use crate::sink::client::{RESPONSE_BODY_CAP, retry_after};

/// Set when the caller stops waiting for the request (its future was dropped).
#[derive(Default)]
pub(super) struct Abandoned(Arc<AtomicBool>);

impl Drop for Abandoned {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// A request body that `ureq` reads only after the connection (TCP, proxy, TLS) is up,
/// a slice at a time: each read first checks that the caller still waits, so events
/// withdrawn by a purge while the connection was being made are never sent.
pub(super) struct Body {
    bytes: Vec<u8>,
    sent: usize,
    abandoned: Arc<AtomicBool>,
}

/// At most this much per read: a purge during a large body stops it within a slice.
const SLICE: usize = 16 * 1024;

impl Body {
    pub(super) fn new(bytes: Vec<u8>, abandoned: &Abandoned) -> Self {
        Self {
            bytes,
            sent: 0,
            abandoned: Arc::clone(&abandoned.0),
        }
    }
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.abandoned.load(Ordering::Acquire) {
            return Err(std::io::Error::other("the request was abandoned"));
        }
        let rest = &self.bytes[self.sent..];
        let n = rest.len().min(buf.len()).min(SLICE);
        buf[..n].copy_from_slice(&rest[..n]);
        self.sent += n;
        Ok(n)
    }
}

/// One POST: the status and the `Retry-After` it carried.
pub(super) fn post(
    agent: &ureq::Agent,
    url: Uri,
    headers: &[(HeaderName, HeaderValue)],
    content_type: &'static str,
    body: Body,
) -> Result<(StatusCode, Option<Duration>), ureq::Error> {
    // The length up front: a reader body would otherwise go out chunked.
    let mut request = agent
        .post(url)
        .header(CONTENT_TYPE, content_type)
        .header(CONTENT_LENGTH, body.bytes.len());
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let mut response = request.send(ureq::SendBody::from_owned_reader(body))?;
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry_after(v, SystemTime::now()));
    // Read (and discard) at most a capped part of the body, so a well-behaved
    // connection can be reused and a huge body costs nothing.
    let _ = std::io::copy(
        &mut response
            .body_mut()
            .as_reader()
            .take(RESPONSE_BODY_CAP as u64),
        &mut std::io::sink(),
    );
    Ok((response.status(), retry_after))
}

/// What kind of transport failure this was, without the URL (which may carry a key):
/// only variants whose text cannot hold it are shown in full.
pub(super) fn describe_error(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "the request timed out".to_owned(),
        ureq::Error::HostNotFound => "could not connect: host not found".to_owned(),
        ureq::Error::ConnectionFailed => "could not connect".to_owned(),
        ureq::Error::Io(io) if is_connect_error(io.kind()) => format!("could not connect: {io}"),
        ureq::Error::Io(io) => format!("the request failed: {io}"),
        ureq::Error::Tls(what) => format!("TLS failed: {what}"),
        #[cfg(feature = "rustls")]
        ureq::Error::Rustls(tls) => format!("TLS failed: {tls}"),
        #[cfg(feature = "native-tls")]
        ureq::Error::NativeTls(tls) => format!("TLS failed: {tls}"),
        ureq::Error::Protocol(_) | ureq::Error::BodyStalled => "the response broke off".to_owned(),
        _ => "the request failed".to_owned(),
    }
}

fn is_connect_error(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind::{
        AddrNotAvailable, ConnectionRefused, HostUnreachable, NetworkUnreachable,
    };
    matches!(
        kind,
        ConnectionRefused | HostUnreachable | NetworkUnreachable | AddrNotAvailable
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_abandoned_body_gives_nothing_and_a_live_one_everything_in_slices() {
        let live = Abandoned::default();
        let mut body = Body::new(vec![7; SLICE + 10], &live);
        let mut out = Vec::new();
        body.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), SLICE + 10);

        let gone = Abandoned::default();
        let mut body = Body::new(vec![7; 10], &gone);
        drop(gone);
        let mut buf = [0; 10];
        assert!(body.read(&mut buf).is_err());
        assert_eq!(buf, [0; 10], "no byte of the body");
    }
}
