//! The HTTP plumbing shared by the network sinks (`HttpSink`, `OtlpSink`,
//! `PostHogSink`) and the HTTP deletion requestor: endpoint checks, headers kept out of
//! logs, bounded timeouts, a lazily built client, status classification and a capped
//! response body.
//!
//! The client is `ureq`, blocking. Requests are made by the library's own threads, one
//! at a time (the sender, the detached uploader; the worker for an at-most-once network
//! sink; `reset`'s deletion request), each request on a short-lived thread of its own
//! so that a purge need not wait for a hanging server (`sink/request.rs`). No async
//! runtime. TLS is the platform's library (feature `native-tls`, a default one) or rustls
//! with the `ring` provider (feature `rustls`, which wins when both are on); either
//! verifies with the platform's certificate store (the system roots, a corporate CA
//! included), read on the first https connection, never when a sink is built. Proxies
//! come from the environment, per scheme, with `NO_PROXY` (`sink/proxy.rs`).

// A network sink without a TLS library could send nothing over https: say so when the
// tool is compiled, not when its first batch fails. A build without `collect` sends
// nothing at all, so it needs none (a tool's not-collecting variant often turns the
// default features off).
#[cfg(all(
    feature = "collect",
    not(any(feature = "native-tls", feature = "rustls"))
))]
compile_error!(
    "the network sinks (features `http`, `otlp`, `posthog`) need a TLS library: turn on \
     `native-tls` (the platform's; a default feature) or `rustls` (all Rust, linked statically)"
);

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use ureq::http::Uri;
use ureq::http::header::{HeaderName, HeaderValue};

use crate::error::TelemetryError;
use crate::sink::MAX_RETRY_AFTER;
use crate::sink::{proxy, request};
use crate::util::executor::on_own_thread;

/// Default time to establish a connection (TCP and TLS).
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Default time for a whole request, response body included.
pub(crate) const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// At most this much of a response body is read (and then discarded).
pub(crate) const RESPONSE_BODY_CAP: usize = 64 * 1024;

/// Generates the connection settings every HTTP builder offers (`header`, `api_key`,
/// `connect_timeout`, `request_timeout`, `allow_insecure_http`) on a builder with a
/// `config: ClientConfig` field, so the builders cannot drift apart. `$example` is the
/// expression that makes such a builder in the doc examples.
macro_rules! client_settings {
    ($builder:ty, $example:literal) => {
        impl $builder {
            /// Adds a header sent with every request (e.g. a tenant id). Use
            /// [`api_key`](Self::api_key) for secrets. Name and value are
            /// `&'static str`s, fixed when the tool is compiled: a header goes with every
            /// request, so it must not be able to carry anything read at run time.
            ///
            /// ```
            #[doc = concat!("let b = ", $example, ".header(\"x-tenant\", \"tools\");")]
            /// # drop(b);
            /// ```
            ///
            /// A value read at run time does not compile:
            ///
            /// ```compile_fail
            /// let user = std::env::var("USER").unwrap_or_default();
            #[doc = concat!("let b = ", $example, ".header(\"x-user\", &user);")]
            /// ```
            pub fn header(mut self, name: &'static str, value: &'static str) -> Self {
                self.config.header(name, value, false);
                self
            }

            /// Adds a secret header (an ingestion key): marked sensitive, never shown in
            /// `Debug`, `describe()`, logs or errors. A `&'static str`, usually from
            /// `option_env!` at build time, like every header.
            ///
            /// ```
            #[doc = concat!("let b = ", $example, ".api_key(\"x-api-key\", \"secret\");")]
            /// assert!(!format!("{b:?}").contains("secret"));
            /// ```
            pub fn api_key(mut self, header: &'static str, key: &'static str) -> Self {
                self.config.header(header, key, true);
                self
            }

            /// Time allowed to connect, TLS included (default 3 s).
            ///
            /// ```
            #[doc = concat!("let b = ", $example, ".connect_timeout(std::time::Duration::from_secs(1));")]
            /// # drop(b);
            /// ```
            pub fn connect_timeout(mut self, timeout: std::time::Duration) -> Self {
                self.config.connect_timeout(timeout);
                self
            }

            /// Time allowed for a whole request, response included.
            ///
            /// ```
            #[doc = concat!("let b = ", $example, ".request_timeout(std::time::Duration::from_secs(5));")]
            /// # drop(b);
            /// ```
            pub fn request_timeout(mut self, timeout: std::time::Duration) -> Self {
                self.config.request_timeout(timeout);
                self
            }

            /// Permits a plain `http://` endpoint (default: refused). Meant for a server
            /// on this machine and for tests: over a network, plain HTTP exposes what is
            /// sent.
            ///
            /// ```
            #[doc = concat!("let b = ", $example, ".allow_insecure_http(true);")]
            /// # drop(b);
            /// ```
            pub fn allow_insecure_http(mut self, allow: bool) -> Self {
                self.config.allow_insecure_http(allow);
                self
            }
        }
    };
}
pub(crate) use client_settings;

/// The settings every network sink shares; its builder methods are forwarded by the
/// sinks' builders.
#[derive(Clone)]
pub(crate) struct ClientConfig {
    url: Result<Uri, String>,
    headers: Vec<(HeaderName, HeaderValue)>,
    header_error: Option<String>,
    connect_timeout: Duration,
    request_timeout: Duration,
    allow_insecure_http: bool,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header names only: a value may be an API key.
        f.debug_struct("ClientConfig")
            .field("endpoint", &self.url.as_ref().map(redacted))
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}

/// `scheme://host[:port]/path`: no credentials, no query (either could hold a key).
fn redacted(url: &Uri) -> String {
    let mut shown = format!(
        "{}://{}",
        url.scheme_str().unwrap_or(""),
        url.host().unwrap_or("")
    );
    if let Some(port) = url.port_u16() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    shown
}

/// Parses an endpoint: an absolute `scheme://host...` URL.
fn parse_endpoint(url: &str) -> Result<Uri, String> {
    let uri: Uri = url
        .trim()
        .parse()
        .map_err(|e| format!("invalid endpoint URL: {e}"))?;
    let Some(authority) = uri.authority() else {
        return Err("invalid endpoint URL: it must be absolute (scheme://host/path)".into());
    };
    if uri.scheme().is_none() {
        return Err("invalid endpoint URL: it must be absolute (scheme://host/path)".into());
    }
    // The text after the host's last `:` (past an IPv6 literal's `]`), if any, must be
    // a port number: the URL type alone lets `:99999` through as "no port".
    let host_port = authority.as_str().rsplit('@').next().unwrap_or_default();
    let after_host = host_port.rsplit(']').next().unwrap_or_default();
    if let Some((_, port)) = after_host.rsplit_once(':')
        && !port.is_empty()
        && port.parse::<u16>().is_err()
    {
        return Err("invalid endpoint URL: the port is not a number from 0 to 65535".into());
    }
    if !authority.host().is_ascii() {
        return Err(
            "invalid endpoint URL: the host must be ASCII (write an international name in its punycode form, xn--...)".into(),
        );
    }
    Ok(uri)
}

/// Moves `user:password@` out of the URL into a sensitive `Authorization: Basic`
/// header, percent-decoded (a client would otherwise send the encoded form, and the
/// credentials would stay in every copy of the URL).
fn take_credentials(uri: Uri) -> Result<(Uri, Option<HeaderValue>), String> {
    let Some(authority) = uri.authority() else {
        return Ok((uri, None));
    };
    let Some((userinfo, host_port)) = authority.as_str().rsplit_once('@') else {
        return Ok((uri, None));
    };
    let (userinfo, host_port) = (userinfo.to_owned(), host_port.to_owned());
    let (user, password) = userinfo.split_once(':').unwrap_or((&userinfo, ""));
    let credentials = format!("{}:{}", percent_decode(user)?, percent_decode(password)?);
    let mut value = HeaderValue::try_from(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    ))
    .map_err(|_| "invalid credentials in the endpoint URL".to_owned())?;
    value.set_sensitive(true);
    let mut parts = uri.into_parts();
    parts.authority = Some(
        host_port
            .parse()
            .map_err(|_| "invalid host in the endpoint URL".to_owned())?,
    );
    let uri = Uri::from_parts(parts).map_err(|_| "invalid endpoint URL".to_owned())?;
    Ok((uri, Some(value)))
}

/// `%XX` sequences decoded (RFC 3986); anything else as it is. The text is never put in
/// an error: it is a user name or a password.
fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| "a bad %-escape in the endpoint's credentials".to_owned())?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| "credentials in the endpoint URL that are not UTF-8".to_owned())
}

impl ClientConfig {
    pub(crate) fn new(url: &str) -> Self {
        Self {
            url: parse_endpoint(url),
            headers: Vec::new(),
            header_error: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            allow_insecure_http: false,
        }
    }

    /// Replaces the endpoint's path by `path(current path)`, keeping the query.
    #[cfg(any(feature = "otlp", feature = "posthog"))]
    pub(crate) fn map_path(&mut self, path: impl FnOnce(&str) -> String) {
        let Ok(url) = &self.url else {
            return;
        };
        let mut path_and_query = path(url.path());
        if let Some(query) = url.query() {
            path_and_query.push('?');
            path_and_query.push_str(query);
        }
        let mut parts = url.clone().into_parts();
        self.url = path_and_query
            .parse()
            .map_err(|e| format!("invalid endpoint path: {e}"))
            .and_then(|pq| {
                parts.path_and_query = Some(pq);
                Uri::from_parts(parts).map_err(|e| format!("invalid endpoint URL: {e}"))
            });
    }

    pub(crate) fn header(&mut self, name: &str, value: &str, sensitive: bool) {
        let parsed = HeaderName::try_from(name)
            .map_err(|_| format!("invalid header name {name:?}"))
            .and_then(|name| {
                // The value is never put in a message: it may be a key.
                let mut value = HeaderValue::try_from(value)
                    .map_err(|_| format!("invalid value for header {name}"))?;
                value.set_sensitive(sensitive);
                Ok((name, value))
            });
        match parsed {
            Ok((name, value)) => {
                // A header set twice keeps the last value.
                self.headers.retain(|(existing, _)| *existing != name);
                self.headers.push((name, value));
            }
            Err(e) => {
                self.header_error.get_or_insert(e);
            }
        }
    }

    pub(crate) fn connect_timeout(&mut self, timeout: Duration) {
        self.connect_timeout = timeout;
    }

    pub(crate) fn request_timeout(&mut self, timeout: Duration) {
        self.request_timeout = timeout;
    }

    pub(crate) fn allow_insecure_http(&mut self, allow: bool) {
        self.allow_insecure_http = allow;
    }

    /// Checks everything the builder collected and makes the transport.
    pub(crate) fn build(self, sink: &'static str) -> Result<Transport, TelemetryError> {
        let config = |msg: String| TelemetryError::Config(format!("{sink}: {msg}"));
        let url = self.url.clone().map_err(config)?;
        match url.scheme_str() {
            Some("https") => {}
            Some("http") if self.allow_insecure_http => {}
            Some("http") => {
                return Err(config(
                    "the endpoint must use https (`allow_insecure_http(true)` permits http, for a local collector or tests)".into(),
                ));
            }
            other => {
                return Err(config(format!(
                    "unsupported URL scheme {:?}",
                    other.unwrap_or("")
                )));
            }
        }
        if url.host().is_none_or(str::is_empty) {
            return Err(config("the endpoint URL has no host".into()));
        }
        if let Some(e) = &self.header_error {
            return Err(config(e.clone()));
        }
        if self.connect_timeout.is_zero() || self.request_timeout.is_zero() {
            return Err(config("timeouts must be greater than zero".into()));
        }
        let (url, credentials) = take_credentials(url).map_err(config)?;
        let mut config = self;
        if let Some(value) = credentials
            && !config
                .headers
                .iter()
                .any(|(name, _)| *name == ureq::http::header::AUTHORIZATION)
        {
            config
                .headers
                .push((ureq::http::header::AUTHORIZATION, value));
        }
        Ok(Transport {
            endpoint: redacted(&url),
            url,
            config,
            agent: OnceLock::new(),
        })
    }
}

/// The TLS settings: the library the features chose, the platform's certificate store
/// (`PlatformVerifier`: for rustls `rustls-platform-verifier`, for the platform's library
/// its own default roots), TLS 1.2 at least: rustls has nothing older; `native-tls`
/// asks for 1.2 from 0.2.15 on, but ureq accepts 0.2.14, whose floor was TLS 1.0 (kept
/// off only by the platform: OpenSSL 3's default security level), so a host whose
/// lockfile holds 0.2.14 gets the older floor (`cargo update -p native-tls`).
#[cfg(any(feature = "native-tls", feature = "rustls"))]
fn tls_config() -> ureq::tls::TlsConfig {
    let tls = ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::PlatformVerifier);
    // rustls wins when both features are on: a tool that asks for it wants it, and only
    // turning the default features off leaves OpenSSL out of the build.
    #[cfg(feature = "rustls")]
    let tls = tls
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ));
    #[cfg(all(feature = "native-tls", not(feature = "rustls")))]
    let tls = tls.provider(ureq::tls::TlsProvider::NativeTls);
    tls.build()
}

/// A configured endpoint and its (lazily built) client.
pub(crate) struct Transport {
    url: Uri,
    endpoint: String,
    config: ClientConfig,
    agent: OnceLock<ureq::Agent>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.config.fmt(f)
    }
}

impl Transport {
    /// The endpoint without credentials or query, for `describe` and errors.
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The client, made on the first request (on the sender thread): building it reads
    /// no certificate and opens nothing; the TLS set-up waits for the first https
    /// connection.
    fn agent(&self) -> &ureq::Agent {
        self.agent.get_or_init(|| {
            let config = ureq::Agent::config_builder();
            // Without a TLS library the build stops at the `compile_error!` above; the
            // `cfg` keeps that the only error.
            #[cfg(any(feature = "native-tls", feature = "rustls"))]
            let config = config.tls_config(tls_config());
            let mut config = config
                // A status is an answer to classify, not a transport error.
                .http_status_as_error(false)
                // A redirect could downgrade to http or leave the configured host: a
                // 3xx is returned as it is, and refused.
                .max_redirects(0)
                .user_agent(concat!("telemetry/", env!("CARGO_PKG_VERSION")))
                // The connect timeout covers the name lookup too.
                .timeout_resolve(Some(self.config.connect_timeout))
                .timeout_connect(Some(self.config.connect_timeout))
                .timeout_global(Some(self.config.request_timeout));
            // The environment's proxy for this endpoint (`sink/proxy.rs`), chosen here
            // rather than by the client, which took the first variable set for every
            // scheme. A proxy URL it cannot use means none.
            let proxy = proxy::for_endpoint(&self.url, |name| std::env::var(name).ok())
                .and_then(|url| ureq::Proxy::new(&url).ok());
            config = config.proxy(proxy);
            config.build().new_agent()
        })
    }

    fn error(&self, status: Option<u16>, message: String, retryable: bool) -> TelemetryError {
        TelemetryError::Http {
            endpoint: self.endpoint.clone(),
            status,
            message,
            retryable,
            retry_after: None,
        }
    }

    /// POSTs `body`; `Ok` on a 2xx status. Connect errors, timeouts, 408, 429 and 5xx
    /// are retryable; every other status is a permanent refusal.
    ///
    /// The blocking request runs on a thread of its own, within the request timeout, and
    /// this future waits for it: the sender can drop the wait (a purge does) without
    /// waiting for a hanging server. An abandoned request sends no byte of the body
    /// from then on (the body is read only once the connection is up, and every read
    /// asks first), and ends at its timeout.
    pub(crate) async fn post(
        &self,
        content_type: &'static str,
        body: Vec<u8>,
    ) -> Result<(), TelemetryError> {
        let agent = self.agent().clone();
        let url = self.url.clone();
        let headers = self.config.headers.clone();
        // Dropped with this future (a purge abandons the wait): the request thread then
        // sends no byte of the body, even once its connection is up.
        let abandoned = request::Abandoned::default();
        let body = request::Body::new(body, &abandoned);
        let answer = on_own_thread("telemetry-request", move || {
            request::post(&agent, url, &headers, content_type, body)
        })
        .await;
        drop(abandoned);
        let (status, retry_after) = match answer {
            Some(Ok(answer)) => answer,
            Some(Err(e)) => return Err(self.error(None, request::describe_error(&e), true)),
            None => {
                return Err(self.error(None, "the request could not be made".into(), true));
            }
        };
        if status.is_success() {
            return Ok(());
        }
        let code = status.as_u16();
        let retryable = matches!(code, 408 | 429) || status.is_server_error();
        let mut error = self.error(
            Some(code),
            format!("the server answered {status}"),
            retryable,
        );
        if let TelemetryError::Http {
            retry_after: wait, ..
        } = &mut error
        {
            // Only a retryable answer asks for a later attempt.
            *wait = retry_after.filter(|_| retryable);
        }
        Err(error)
    }
}

/// A `Retry-After` value: delay-seconds, or an HTTP-date (in any of the three formats
/// HTTP/1.1 recipients must accept) counted from `now`; a date already past is zero.
/// `None` for anything else. Capped at [`MAX_RETRY_AFTER`].
pub(super) fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits only: seconds (saturating, so a huge number is simply "very long").
        Duration::from_secs(value.parse().unwrap_or(u64::MAX))
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TLS library the features chose: rustls whenever its feature is on (CI's
    /// `--all-features` run), the platform's otherwise; the platform's roots either way.
    #[cfg(any(feature = "native-tls", feature = "rustls"))]
    #[test]
    fn the_tls_library_is_the_one_the_features_chose() {
        let tls = tls_config();
        let expected = if cfg!(feature = "rustls") {
            ureq::tls::TlsProvider::Rustls
        } else {
            ureq::tls::TlsProvider::NativeTls
        };
        assert_eq!(tls.provider(), expected);
        assert!(matches!(
            tls.root_certs(),
            ureq::tls::RootCerts::PlatformVerifier
        ));
    }

    #[test]
    fn http_needs_an_explicit_opt_in_and_https_is_fine() {
        assert!(
            ClientConfig::new("http://127.0.0.1:1/x")
                .build("t")
                .is_err()
        );
        let mut c = ClientConfig::new("http://127.0.0.1:1/x");
        c.allow_insecure_http(true);
        assert!(c.build("t").is_ok());
        assert!(
            ClientConfig::new("https://example.invalid/x")
                .build("t")
                .is_ok()
        );
        assert!(
            ClientConfig::new("ftp://example.invalid/x")
                .build("t")
                .is_err()
        );
        assert!(ClientConfig::new("not a url").build("t").is_err());
    }

    #[test]
    fn keys_stay_out_of_debug_and_describe() {
        let mut c = ClientConfig::new("https://user:pw@example.invalid/v1?key=secret-q");
        c.header("x-api-key", "secret-h", true);
        let t = c.build("t").unwrap();
        let shown = format!("{t:?} {}", t.endpoint());
        for secret in ["secret-q", "secret-h", "pw"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("x-api-key"));
        assert_eq!(t.endpoint(), "https://example.invalid/v1");
    }

    #[test]
    fn credentials_in_the_url_become_a_decoded_basic_header_and_leave_the_url() {
        let t = ClientConfig::new("http://user:p%40ss@127.0.0.1:9/x?k=1")
            .build("t")
            .map_err(|e| e.to_string());
        let mut c = ClientConfig::new("http://user:p%40ss@127.0.0.1:9/x?k=1");
        c.allow_insecure_http(true);
        let t2 = c.build("t").unwrap();
        assert!(t.is_err(), "http without the opt-in");
        assert_eq!(t2.url.to_string(), "http://127.0.0.1:9/x?k=1");
        let (_, auth) = t2
            .config
            .headers
            .iter()
            .find(|(n, _)| *n == ureq::http::header::AUTHORIZATION)
            .unwrap();
        // base64("user:p@ss")
        assert_eq!(auth.to_str().unwrap(), "Basic dXNlcjpwQHNz");
        assert!(auth.is_sensitive());
        assert!(!format!("{t2:?}").contains("dXNlcjpwQHNz"));
    }

    #[test]
    fn a_port_out_of_range_or_a_non_ascii_host_is_refused_at_build() {
        for url in ["https://127.0.0.1:99999/x", "https://bücher.example/x"] {
            let err = ClientConfig::new(url).build("t").unwrap_err().to_string();
            assert!(err.contains("invalid endpoint URL"), "{url}: {err}");
        }
        assert!(
            ClientConfig::new("https://xn--bcher-kva.example:8443/x")
                .build("t")
                .is_ok()
        );
    }

    #[test]
    fn a_bad_header_is_reported_without_its_value() {
        let mut c = ClientConfig::new("https://example.invalid/");
        c.header("x-key", "bad\nvalue-secret", true);
        let err = c.build("t").unwrap_err().to_string();
        assert!(
            err.contains("x-key") && !err.contains("value-secret"),
            "{err}"
        );
    }

    #[test]
    fn retry_after_takes_seconds_or_any_http_date_and_is_capped() {
        // 2026-11-21T08:00:00Z.
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_248_000);
        let secs = Duration::from_secs;
        assert_eq!(retry_after("120", now), Some(secs(120)));
        assert_eq!(retry_after(" 0 ", now), Some(secs(0)));
        // The three formats of an HTTP-date, 90 s after `now`.
        for date in [
            "Sat, 21 Nov 2026 08:01:30 GMT",
            "Saturday, 21-Nov-26 08:01:30 GMT",
            "Sat Nov 21 08:01:30 2026",
        ] {
            assert_eq!(retry_after(date, now), Some(secs(90)), "{date}");
        }
        // Past dates mean now; more than a day (or an overflowing number) means a day.
        assert_eq!(
            retry_after("Sat, 21 Nov 2026 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("999999999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(
            retry_after("99999999999999999999999", now),
            Some(MAX_RETRY_AFTER)
        );
        for junk in ["", "-5", "1.5", "soon", "Sat, 21 Nov 2026", "12 s"] {
            assert_eq!(retry_after(junk, now), None, "{junk:?}");
        }
    }
}
