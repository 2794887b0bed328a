//! The HTTP plumbing shared by the network sinks (`HttpSink`, `OtlpSink`,
//! `PostHogSink`): endpoint checks, headers kept out of logs, bounded
//! timeouts, a lazily built client, status classification and a capped response body.
//!
//! The `reqwest` client is built on first use, which is on the sender thread: building
//! a sink in the tool's `main` does no DNS, no TLS set-up and no socket work.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};

use crate::error::TelemetryError;
use crate::sink::MAX_RETRY_AFTER;

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
    url: Result<Url, String>,
    headers: HeaderMap,
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
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}

/// `scheme://host[:port]/path`: no credentials, no query (either could hold a key).
fn redacted(url: &Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    shown
}

fn is_loopback(url: &Url) -> bool {
    url.host_str().is_some_and(|host| {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .map_or_else(
                |_| host.eq_ignore_ascii_case("localhost"),
                |ip| ip.is_loopback(),
            )
    })
}

impl ClientConfig {
    pub(crate) fn new(url: &str) -> Self {
        Self {
            url: Url::parse(url).map_err(|e| format!("invalid endpoint URL: {e}")),
            headers: HeaderMap::new(),
            header_error: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            allow_insecure_http: false,
        }
    }

    #[cfg(any(feature = "otlp", feature = "posthog"))]
    pub(crate) fn url_mut(&mut self) -> Option<&mut Url> {
        self.url.as_mut().ok()
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
                self.headers.insert(name, value);
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
        match url.scheme() {
            "https" => {}
            "http" if self.allow_insecure_http => {}
            "http" => {
                return Err(config(
                    "the endpoint must use https (`allow_insecure_http(true)` permits http, for a local collector or tests)".into(),
                ));
            }
            other => return Err(config(format!("unsupported URL scheme {other:?}"))),
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(config("the endpoint URL has no host".into()));
        }
        if let Some(e) = &self.header_error {
            return Err(config(e.clone()));
        }
        if self.connect_timeout.is_zero() || self.request_timeout.is_zero() {
            return Err(config("timeouts must be greater than zero".into()));
        }
        Ok(Transport {
            endpoint: redacted(&url),
            url,
            config: self,
            client: OnceLock::new(),
        })
    }
}

/// A configured endpoint and its (lazily built) client.
pub(crate) struct Transport {
    url: Url,
    endpoint: String,
    config: ClientConfig,
    client: OnceLock<Result<reqwest::Client, String>>,
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

    fn client(&self) -> Result<&reqwest::Client, TelemetryError> {
        let built = self.client.get_or_init(|| {
            let mut builder = reqwest::Client::builder()
                .connect_timeout(self.config.connect_timeout)
                .timeout(self.config.request_timeout)
                // A redirect could downgrade to http or leave the configured host.
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("telemetry/", env!("CARGO_PKG_VERSION")))
                .default_headers(self.config.headers.clone());
            if is_loopback(&self.url) {
                // No proxy can reach this machine's loopback.
                builder = builder.no_proxy();
            }
            if self.url.scheme() == "http" {
                // Plain HTTP and no redirects: this client never does TLS, so it need
                // not load the platform's root certificates (most of its start-up).
                builder = builder.tls_certs_only([]);
            }
            builder
                .build()
                .map_err(|e| format!("could not build the HTTP client: {e}"))
        });
        built.as_ref().map_err(|message| TelemetryError::Http {
            endpoint: self.endpoint.clone(),
            status: None,
            message: message.clone(),
            retryable: false,
            retry_after: None,
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
    pub(crate) async fn post(
        &self,
        content_type: &'static str,
        body: Vec<u8>,
    ) -> Result<(), TelemetryError> {
        let client = self.client()?;
        let response = client
            .post(self.url.clone())
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .map_err(|e| self.error(None, describe_error(&e), true))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after(v, SystemTime::now()));
        drain(response).await;
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
fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
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

/// Reads (and discards) at most [`RESPONSE_BODY_CAP`] bytes of the body, so a
/// well-behaved connection can be reused and a huge body costs nothing.
async fn drain(mut response: reqwest::Response) {
    let mut read = 0;
    while read <= RESPONSE_BODY_CAP {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) | Err(_) => return,
        }
    }
}

/// What kind of transport failure this was, without the URL (which may carry a key).
fn describe_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "the request timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the response broke off"
    } else {
        "the request failed"
    };
    // The innermost cause (e.g. "connection refused"), never the URL.
    let mut source: &dyn std::error::Error = e;
    while let Some(next) = source.source() {
        source = next;
    }
    if std::ptr::addr_eq(source, e as &dyn std::error::Error) {
        kind.to_owned()
    } else {
        format!("{kind}: {source}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
