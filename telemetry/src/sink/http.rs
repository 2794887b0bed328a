//! `HttpSink`: each batch is one `POST` of a JSON array of events.

use super::client::{ClientConfig, Transport};
use super::{TelemetrySink, boxed_async};
use crate::error::TelemetryError;
use crate::event::Event;
#[cfg(feature = "reports")]
use crate::report::Report;

/// Sends each batch as one HTTPS `POST` whose body is a JSON array of [`Event`]s
/// (`Content-Type: application/json`). Feature `http`.
///
/// - `https` only, unless [`allow_insecure_http`](HttpSinkBuilder::allow_insecure_http)
///   (meant for a collector on loopback, and tests); redirects are not followed.
/// - Bounded: connect timeout 3 s, whole-request timeout 10 s (configurable); at most
///   64 KiB of a response body is read.
/// - Proxies: `HTTPS_PROXY` (https) or `HTTP_PROXY` (http), else `ALL_PROXY`, and
///   `NO_PROXY` (names, subdomains, addresses, CIDR blocks) are honoured; loopback
///   endpoints never go through a proxy (details in `docs/delivery.md`).
/// - An API key set with [`api_key`](HttpSinkBuilder::api_key) is marked sensitive
///   and never appears in `Debug` output, `describe()` or error messages.
/// - The client is built lazily on the delivery thread: constructing the sink does no
///   DNS, TLS or network work.
/// - A 2xx answer acknowledges the batch; connect errors, timeouts, 408, 429 and 5xx
///   are retried (the batch stays in the spool); any other status drops the batch
///   with a counted error.
///
/// A context with an `HttpSink` delivers at least once by default (see
/// [`DeliveryMode`](crate::DeliveryMode)): a backend should deduplicate on `event_id`.
///
/// # Reports
///
/// With feature `reports`, the sink takes reports
/// ([`takes_reports`](TelemetrySink::takes_reports) is `true`).
/// [`emit_report`](TelemetrySink::emit_report) sends one period's [`Report`] as one
/// `POST` to the same endpoint, body [`Report::to_json`] (a single JSON object, where a
/// batch is an array; its `schema` field, `telemetry-report/1`, tells the two apart),
/// `Content-Type: application/json`. Everything else is what a batch gets: the same
/// headers and key, timeouts, proxies, and the same answers — 2xx acknowledges the
/// report; connect errors, timeouts, 408, 429 and 5xx are retryable (with the server's
/// `Retry-After`, if any, in the error); any other status is a permanent refusal.
///
/// ```no_run
/// use telemetry::sink::{HttpSink, TelemetrySink};
///
/// # async fn upload() -> Result<(), telemetry::TelemetryError> {
/// let sink = HttpSink::new("https://telemetry.example.com/v1/events")?;
/// assert!(sink.takes_reports());
/// // What the library's uploader does once a period is over:
/// sink.emit_report(&telemetry::Report::example()).await?;
/// # Ok(())
/// # }
/// ```
///
/// The body, as a collector receives it:
///
/// ```
/// let body = telemetry::Report::example().to_json();
/// let json: serde_json::Value = serde_json::from_slice(&body)?;
/// assert_eq!(json["schema"], "telemetry-report/1");
/// assert_eq!(json["rows"][0]["count"], 3);
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// ```
/// let sink = telemetry::sink::HttpSink::builder("https://telemetry.example.com/v1/events")
///     .api_key("x-api-key", "k-123")
///     .request_timeout(std::time::Duration::from_secs(5))
///     .build()?;
/// assert!(!format!("{sink:?}").contains("k-123"));
/// # Ok::<(), telemetry::TelemetryError>(())
/// ```
#[derive(Debug)]
pub struct HttpSink {
    transport: Transport,
}

/// Configures an [`HttpSink`]; every mistake is reported by
/// [`build`](Self::build) as a [`TelemetryError::Config`].
///
/// ```
/// let b = telemetry::sink::HttpSink::builder("https://telemetry.example.com/v1/events");
/// assert!(b.build().is_ok());
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct HttpSinkBuilder {
    config: ClientConfig,
}

impl HttpSink {
    /// Starts configuring a sink posting to `url`.
    ///
    /// ```
    /// let b = telemetry::sink::HttpSink::builder("https://telemetry.example.com/v1/events");
    /// # drop(b);
    /// ```
    pub fn builder(url: &str) -> HttpSinkBuilder {
        HttpSinkBuilder {
            config: ClientConfig::new(url),
        }
    }

    /// A sink posting to `url` with the default settings.
    ///
    /// ```
    /// assert!(telemetry::sink::HttpSink::new("https://telemetry.example.com/v1/events").is_ok());
    /// assert!(telemetry::sink::HttpSink::new("http://telemetry.example.com/v1/events").is_err());
    /// ```
    pub fn new(url: &str) -> Result<Self, TelemetryError> {
        Self::builder(url).build()
    }

    /// A sink only if an ingestion key was baked in at build time: pass
    /// `option_env!("MYTOOL_TELEMETRY_KEY")`. Without the key (a binary built from
    /// source by anyone else) this returns `None` and the tool sends nothing over the
    /// network. The key travels as `Authorization: Bearer <key>`. An empty key, or a
    /// `url` that is not valid `https`, also gives `None` (logged at `debug`).
    ///
    /// ```
    /// let mut builder = telemetry::TelemetryContext::builder().tool(telemetry::tool!("mytool", "1"));
    /// if let Some(sink) = telemetry::sink::HttpSink::from_build_env(
    ///     option_env!("MYTOOL_TELEMETRY_KEY"),
    ///     "https://telemetry.example.com/v1/events",
    /// ) {
    ///     builder = builder.sink(sink);
    /// }
    /// # drop(builder);
    /// assert!(telemetry::sink::HttpSink::from_build_env(None, "https://telemetry.example.com/").is_none());
    /// assert!(telemetry::sink::HttpSink::from_build_env(Some("k"), "https://telemetry.example.com/").is_some());
    /// ```
    pub fn from_build_env(key: Option<&'static str>, url: &str) -> Option<Self> {
        let key = key.map(str::trim).filter(|k| !k.is_empty())?;
        let mut builder = Self::builder(url);
        builder
            .config
            .header("authorization", &format!("Bearer {key}"), true);
        match builder.build() {
            Ok(sink) => Some(sink),
            Err(e) => {
                crate::util::log::debug!(error = %e, "telemetry: no network sink");
                None
            }
        }
    }

    /// The endpoint, without credentials or query string.
    ///
    /// ```
    /// let sink = telemetry::sink::HttpSink::new("https://telemetry.example.com/v1/events?k=1")?;
    /// assert_eq!(sink.endpoint(), "https://telemetry.example.com/v1/events");
    /// # Ok::<(), telemetry::TelemetryError>(())
    /// ```
    pub fn endpoint(&self) -> &str {
        self.transport.endpoint()
    }
}

crate::sink::client::client_settings!(
    HttpSinkBuilder,
    "telemetry::sink::HttpSink::builder(\"https://t.example.com/\")"
);

impl HttpSinkBuilder {
    /// Checks the settings and builds the sink (no network work happens here).
    ///
    /// ```
    /// assert!(telemetry::sink::HttpSink::builder("not a url").build().is_err());
    /// ```
    pub fn build(self) -> Result<HttpSink, TelemetryError> {
        Ok(HttpSink {
            transport: self.config.build("HttpSink")?,
        })
    }
}

impl TelemetrySink for HttpSink {
    boxed_async! {
        fn emit(&self, event: &Event) -> Result<(), TelemetryError> {
            self.emit_batch(std::slice::from_ref(event)).await
        }
    }

    boxed_async! {
        fn emit_batch(&self, events: &[Event]) -> Result<(), TelemetryError> {
            if events.is_empty() {
                return Ok(());
            }
            let mut body = Vec::new();
            super::write_json_array(&mut body, events);
            self.transport.post("application/json", body).await
        }
    }

    boxed_async! {
        #[cfg(feature = "reports")]
        /// One `POST` of [`Report::to_json`], on the batches' transport (see the type's
        /// documentation, "Reports").
        fn emit_report(&self, report: &Report) -> Result<(), TelemetryError> {
            self.transport
                .post("application/json", report.to_json())
                .await
        }
    }

    #[cfg(feature = "reports")]
    fn takes_reports(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!("http {}", self.transport.endpoint())
    }

    fn is_local(&self) -> bool {
        false
    }
}
