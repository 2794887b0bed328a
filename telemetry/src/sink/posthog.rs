//! `PostHogSink`: events into PostHog through its public batch capture API
//! (`POST <host>/batch/`), on the same HTTP client, spool and retry rules as
//! [`HttpSink`](super::HttpSink).
//!
//! What this relies on, from PostHog's documentation:
//!
//! - the batch endpoint, its body (`api_key`, `batch: [{event, distinct_id,
//!   properties, timestamp, uuid}]`), the hosts of the US and EU clouds, the 20 MB bound
//!   on a request, `$process_person_profile: false` for events without person
//!   profiles, and that an event without a name or `distinct_id` is answered `200` but
//!   dropped: <https://posthog.com/docs/api/capture>;
//! - `timestamp` without `sent_at` is stored as sent (no clock-skew correction):
//!   <https://posthog.com/docs/data/timestamps>;
//! - the client IP address: a project setting (capture or discard), EU organisations
//!   discard by default: <https://posthog.com/docs/privacy/data-collection#ip-data-capture>;
//!   `$geoip_disable`, the property PostHog's server SDKs send so that no location is
//!   derived from the sender's address (posthog-node 3.0.0 changelog,
//!   <https://github.com/PostHog/posthog-js-lite/blob/main/posthog-node/CHANGELOG.md>;
//!   <https://github.com/PostHog/posthog-ios/releases/tag/3.88.0>), and the GeoIP
//!   transformation's use of the connection's address when no `$ip` is sent:
//!   <https://posthog.com/docs/cdp/geoip-enrichment>;
//! - `$session_id` must be a UUID v7 whose time is the session's start:
//!   <https://posthog.com/docs/references/posthog-js/types/BootstrapConfig>;
//! - how far a re-sent `uuid` is deduplicated (the events table is a
//!   `ReplacingMergeTree` ordered by day, event, `distinct_id` and `uuid`, collapsed
//!   only by background merges, which are not guaranteed, and queries do not
//!   deduplicate): <https://posthog.com/handbook/engineering/clickhouse/schema/sharded-events>.

use super::client::{ClientConfig, Transport};
use super::json::write_value;
use super::{TelemetrySink, boxed_async};
use crate::error::TelemetryError;
use crate::event::Event;
use crate::util::json::write;

/// The batch capture path, appended to the host.
const BATCH_PATH: &str = "batch/";

/// The properties this sink adds to every event: constant PostHog controls, nothing
/// taken from the machine or the event. `$process_person_profile: false` makes the
/// event anonymous (no person profile is created or updated);
/// `$geoip_disable: true` keeps PostHog from deriving a location from the address the
/// request came from.
pub(crate) const CONTROL_PROPERTIES: &[(&str, bool)] =
    &[("$process_person_profile", false), ("$geoip_disable", true)];

/// The prefix of an event attribute's property name (`attrs.jobs`): attributes can
/// never collide with the event's own fields or PostHog's `$` properties.
pub(crate) const ATTR_PREFIX: &str = "attrs.";

/// The end of every request body, after the last event.
const BODY_END: &[u8] = b"]}";

/// Sends each batch to PostHog's public batch capture API: `POST <host>/batch/`, body
/// `{"api_key": <project key>, "batch": [..]}` (`Content-Type: application/json`).
/// Feature `posthog`.
///
/// The key is the project's public, write-only API key (`phc_…`): it can only add
/// events to the project, never read them, and goes in the request body as PostHog's
/// API requires. It is a `&'static str`, usually baked in with `option_env!`
/// ([`from_build_env`](Self::from_build_env)), and never appears in `Debug` output,
/// [`describe`](TelemetrySink::describe) or an error.
///
/// # What is sent
///
/// One entry per event; every field of the [`Event`] appears exactly once, and nothing
/// else but two constant PostHog control properties:
///
/// | event | PostHog |
/// |---|---|
/// | `name` | `event` |
/// | `machine_id` (salted SHA-256) | `distinct_id` |
/// | `event_id` (UUID v4) | `uuid` |
/// | `timestamp_utc` | `timestamp` (no `sent_at`: stored as recorded, not corrected for the machine's clock) |
/// | `tool`, `tool_version`, `session_id`, `os`, `arch`, `outcome` | `properties.tool`, `.tool_version`, `.session_id`, `.os`, `.arch`, `.outcome` |
/// | `duration_ms`, `error_kind` (when the event has them) | `properties.duration_ms`, `properties.error_kind` |
/// | each attribute `<key>` | `properties["attrs.<key>"]` (bool, number or string, as in the event) |
/// | — | `properties.$process_person_profile = false`: anonymous events, no person profiles |
/// | — | `properties.$geoip_disable = true`: no location derived from the sender's address |
///
/// - `$ip` is never sent. PostHog still sees the address the request comes from (as
///   any server does) and, unless the project's "IP data capture" setting discards it
///   (the default for EU organisations), stores it with the event. Turn it off in the
///   project's settings.
/// - `session_id` is a plain property, not PostHog's `$session_id`: PostHog expects a
///   UUID v7 whose time is the session's start, ours is a random v4 per process. It
///   still groups the events of one run.
/// - Attributes carry the `attrs.` prefix, so no attribute can shadow a field or a
///   PostHog `$` property.
///
/// # Duplicates
///
/// Delivery is at least once: a batch whose answer was lost is sent again, with the
/// same `uuid`, `event`, `distinct_id` and `timestamp`. PostHog stores events in a
/// ClickHouse `ReplacingMergeTree` keyed by day, event, `distinct_id` and `uuid`, so the
/// copies *may* be collapsed by a background merge, but merges are not guaranteed and
/// PostHog's insights do not deduplicate: a re-sent event can be counted twice. Where
/// exact counts matter, count `DISTINCT uuid` in SQL.
///
/// # Size
///
/// PostHog accepts request bodies under 20 MB. A batch is split into several requests
/// of at most [`max_request_bytes`](PostHogSinkBuilder::max_request_bytes) (default
/// [`DEFAULT_MAX_REQUEST_BYTES`](Self::DEFAULT_MAX_REQUEST_BYTES), 5 MiB), in order; an
/// event larger than that on its own is sent alone. With the default batch size (100
/// events of a few hundred bytes) a batch is one request. If a later part fails, the
/// whole batch is retried (or refused) as one: parts already accepted are sent again.
///
/// # Answers
///
/// Like [`HttpSink`](super::HttpSink): 2xx acknowledges the batch; connect errors,
/// timeouts, 408, 429 and 5xx are retried with backoff, and a `Retry-After` holds every
/// request of every run of the tool until it ends; any other status (400, 401, 413, …)
/// drops the batch, counted in `failed`. `https` only unless
/// [`allow_insecure_http`](PostHogSinkBuilder::allow_insecure_http); no redirects;
/// proxies from `HTTPS_PROXY`/`NO_PROXY`; the client is built lazily on the sender
/// thread.
///
/// Reports (report mode) are refused: [`emit_report`](TelemetrySink::emit_report) keeps the trait's default.
///
/// ```
/// use telemetry::sink::{PostHogSink, TelemetrySink};
///
/// let sink = PostHogSink::builder("phc_example", PostHogSink::EU_CLOUD).build()?;
/// assert_eq!(sink.endpoint(), "https://eu.i.posthog.com/batch/");
/// assert!(!format!("{sink:?}").contains("phc_example"));
/// assert!(!sink.takes_reports());
/// # Ok::<(), telemetry::TelemetryError>(())
/// ```
#[derive(Debug)]
pub struct PostHogSink {
    transport: Transport,
    api_key: ProjectKey,
    max_request_bytes: usize,
}

/// Configures a [`PostHogSink`]; every mistake is reported by [`build`](Self::build)
/// as a [`TelemetryError::Config`] (which never contains the key).
///
/// The connection settings (`header`, `api_key`, timeouts, `allow_insecure_http`) are
/// [`HttpSink`](super::HttpSink)'s. The project key is the first argument of
/// [`PostHogSink::builder`]; [`api_key`](Self::api_key) here adds a secret *header*,
/// for a proxy in front of a self-hosted instance.
///
/// ```
/// let b = telemetry::sink::PostHogSink::builder("phc_example", "https://posthog.example.com");
/// assert!(b.build().is_ok());
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct PostHogSinkBuilder {
    config: ClientConfig,
    api_key: ProjectKey,
    max_request_bytes: usize,
}

/// The project API key: shown as `<redacted>`.
#[derive(Clone, Copy)]
struct ProjectKey(&'static str);

impl std::fmt::Debug for ProjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl PostHogSink {
    /// PostHog Cloud US.
    ///
    /// ```
    /// assert_eq!(telemetry::sink::PostHogSink::US_CLOUD, "https://us.i.posthog.com");
    /// ```
    pub const US_CLOUD: &'static str = "https://us.i.posthog.com";

    /// PostHog Cloud EU.
    ///
    /// ```
    /// assert_eq!(telemetry::sink::PostHogSink::EU_CLOUD, "https://eu.i.posthog.com");
    /// ```
    pub const EU_CLOUD: &'static str = "https://eu.i.posthog.com";

    /// The default bound on one request's body: 5 MiB, a quarter of PostHog's 20 MB
    /// (the batch bound of PostHog's Python SDK too:
    /// <https://github.com/PostHog/posthog-python/pull/108>).
    ///
    /// ```
    /// assert_eq!(telemetry::sink::PostHogSink::DEFAULT_MAX_REQUEST_BYTES, 5 * 1024 * 1024);
    /// ```
    pub const DEFAULT_MAX_REQUEST_BYTES: usize = 5 * 1024 * 1024;

    /// The largest [`max_request_bytes`](PostHogSinkBuilder::max_request_bytes)
    /// accepted: PostHog's documented bound, 20 MB.
    ///
    /// ```
    /// assert_eq!(telemetry::sink::PostHogSink::MAX_REQUEST_BYTES, 20_000_000);
    /// ```
    pub const MAX_REQUEST_BYTES: usize = 20_000_000;

    /// The smallest `max_request_bytes` accepted.
    const MIN_REQUEST_BYTES: usize = 1024;

    /// Starts configuring a sink for the project whose public API key is `api_key`, on
    /// the PostHog instance at `host`: [`US_CLOUD`](Self::US_CLOUD),
    /// [`EU_CLOUD`](Self::EU_CLOUD), or a self-hosted instance's URL. `/batch/` is
    /// appended to the host's path unless it already ends with it.
    ///
    /// ```
    /// use telemetry::sink::PostHogSink;
    ///
    /// let sink = PostHogSink::builder("phc_example", "https://ph.example.com/analytics").build()?;
    /// assert_eq!(sink.endpoint(), "https://ph.example.com/analytics/batch/");
    /// # Ok::<(), telemetry::TelemetryError>(())
    /// ```
    pub fn builder(api_key: &'static str, host: &str) -> PostHogSinkBuilder {
        let mut config = ClientConfig::new(host);
        config.map_path(|path| {
            let base = path.trim_end_matches('/');
            let base = base.strip_suffix("/batch").unwrap_or(base);
            format!("{base}/{BATCH_PATH}")
        });
        PostHogSinkBuilder {
            config,
            api_key: ProjectKey(api_key),
            max_request_bytes: Self::DEFAULT_MAX_REQUEST_BYTES,
        }
    }

    /// A sink with the default settings.
    ///
    /// ```
    /// use telemetry::sink::PostHogSink;
    ///
    /// assert!(PostHogSink::new("phc_example", PostHogSink::US_CLOUD).is_ok());
    /// assert!(PostHogSink::new("", PostHogSink::US_CLOUD).is_err());
    /// assert!(PostHogSink::new("phc_example", "http://posthog.example.com").is_err());
    /// ```
    pub fn new(api_key: &'static str, host: &str) -> Result<Self, TelemetryError> {
        Self::builder(api_key, host).build()
    }

    /// A sink only if a project key was baked in at build time: pass
    /// `option_env!("MYTOOL_POSTHOG_KEY")`. Without the key (a binary built from source
    /// by anyone else) this returns `None` and the tool sends nothing over the network.
    /// An empty key, or a `host` that is not valid `https`, also gives `None` (logged at
    /// `debug`, without the key).
    ///
    /// ```
    /// use telemetry::sink::PostHogSink;
    ///
    /// let mut builder = telemetry::TelemetryContext::builder().tool(telemetry::tool!("mytool", "1"));
    /// if let Some(sink) = PostHogSink::from_build_env(option_env!("MYTOOL_POSTHOG_KEY"), PostHogSink::EU_CLOUD) {
    ///     builder = builder.sink(sink);
    /// }
    /// # drop(builder);
    /// assert!(PostHogSink::from_build_env(None, PostHogSink::EU_CLOUD).is_none());
    /// assert!(PostHogSink::from_build_env(Some(" "), PostHogSink::EU_CLOUD).is_none());
    /// assert!(PostHogSink::from_build_env(Some("phc_k"), "http://ph.example.com").is_none());
    /// assert!(PostHogSink::from_build_env(Some("phc_k"), PostHogSink::EU_CLOUD).is_some());
    /// ```
    pub fn from_build_env(key: Option<&'static str>, host: &str) -> Option<Self> {
        let key = key.map(str::trim).filter(|k| !k.is_empty())?;
        match Self::builder(key, host).build() {
            Ok(sink) => Some(sink),
            Err(e) => {
                crate::util::log::debug!(error = %e, "telemetry: no PostHog sink");
                None
            }
        }
    }

    /// The batch URL, without credentials or query string.
    ///
    /// ```
    /// use telemetry::sink::PostHogSink;
    ///
    /// let sink = PostHogSink::new("phc_example", PostHogSink::US_CLOUD)?;
    /// assert_eq!(sink.endpoint(), "https://us.i.posthog.com/batch/");
    /// # Ok::<(), telemetry::TelemetryError>(())
    /// ```
    pub fn endpoint(&self) -> &str {
        self.transport.endpoint()
    }

    /// The request bodies for `events`, in order: each at most `max_request_bytes`,
    /// unless a single event is larger on its own.
    fn request_bodies(&self, events: &[Event]) -> Vec<Vec<u8>> {
        request_bodies(self.api_key.0, events, self.max_request_bytes)
    }
}

crate::sink::client::client_settings!(
    PostHogSinkBuilder,
    "telemetry::sink::PostHogSink::builder(\"phc_example\", telemetry::sink::PostHogSink::US_CLOUD)"
);

impl PostHogSinkBuilder {
    /// The most bytes one request body may have (default
    /// [`PostHogSink::DEFAULT_MAX_REQUEST_BYTES`]); a larger batch is split into several
    /// requests. Between 1 KiB and [`PostHogSink::MAX_REQUEST_BYTES`] (PostHog's 20 MB);
    /// lower it for a self-hosted instance or proxy with a smaller limit (a 413 answer).
    ///
    /// ```
    /// use telemetry::sink::PostHogSink;
    ///
    /// let b = PostHogSink::builder("phc_example", PostHogSink::US_CLOUD);
    /// assert!(b.clone().max_request_bytes(1 << 20).build().is_ok());
    /// assert!(b.max_request_bytes(30_000_000).build().is_err());
    /// ```
    pub fn max_request_bytes(mut self, bytes: usize) -> Self {
        self.max_request_bytes = bytes;
        self
    }

    /// Checks the settings and builds the sink (no network work happens here).
    ///
    /// ```
    /// use telemetry::sink::PostHogSink;
    ///
    /// let err = PostHogSink::builder("  ", PostHogSink::US_CLOUD).build().unwrap_err();
    /// assert!(err.to_string().contains("API key"));
    /// assert!(PostHogSink::builder("phc_example", "not a url").build().is_err());
    /// ```
    pub fn build(self) -> Result<PostHogSink, TelemetryError> {
        let config = |msg: &str| TelemetryError::Config(format!("PostHogSink: {msg}"));
        let api_key = self.api_key.0.trim();
        if api_key.is_empty() {
            return Err(config("the project API key is empty"));
        }
        let range = PostHogSink::MIN_REQUEST_BYTES..=PostHogSink::MAX_REQUEST_BYTES;
        if !range.contains(&self.max_request_bytes) {
            return Err(config(&format!(
                "`max_request_bytes` must be between {} and {} (PostHog's limit)",
                range.start(),
                range.end()
            )));
        }
        Ok(PostHogSink {
            transport: self.config.build("PostHogSink")?,
            api_key: ProjectKey(api_key),
            max_request_bytes: self.max_request_bytes,
        })
    }
}

/// The request bodies for `events`: `{"api_key":..,"batch":[..]}`, each at most
/// `limit` bytes unless one event alone is larger.
fn request_bodies(api_key: &str, events: &[Event], limit: usize) -> Vec<Vec<u8>> {
    let mut start = Vec::with_capacity(api_key.len() + 24);
    start.extend_from_slice(b"{\"api_key\":");
    write::str(&mut start, api_key);
    start.extend_from_slice(b",\"batch\":[");

    let mut bodies = Vec::new();
    let mut body = start.clone();
    let mut in_body = 0usize;
    let mut entry = Vec::new();
    for event in events {
        entry.clear();
        write_entry(&mut entry, event);
        if in_body > 0 && body.len() + 1 + entry.len() + BODY_END.len() > limit {
            body.extend_from_slice(BODY_END);
            bodies.push(std::mem::replace(&mut body, start.clone()));
            in_body = 0;
        }
        if in_body > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&entry);
        in_body += 1;
    }
    if in_body > 0 {
        body.extend_from_slice(BODY_END);
        bodies.push(body);
    }
    bodies
}

/// One entry of `batch`: the mapping documented on [`PostHogSink`], read through the
/// event's public accessors only.
fn write_entry(out: &mut Vec<u8>, e: &Event) {
    let top: [(&[u8], &str); 4] = [
        (b"{\"event\":", e.name()),
        (b",\"distinct_id\":", e.machine_id()),
        (b",\"uuid\":", e.event_id()),
        (b",\"timestamp\":", e.timestamp_utc()),
    ];
    for (key, value) in top {
        out.extend_from_slice(key);
        write::str(out, value);
    }
    out.extend_from_slice(b",\"properties\":{");
    for (i, (key, value)) in CONTROL_PROPERTIES.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write::str(out, key);
        out.extend_from_slice(if *value { b":true" } else { b":false" });
    }
    let fields = [
        ("tool", e.tool()),
        ("tool_version", e.tool_version()),
        ("session_id", e.session_id()),
        ("os", e.os()),
        ("arch", e.arch()),
        ("outcome", e.outcome().as_str()),
    ];
    for (key, value) in fields {
        property(out, key);
        write::str(out, value);
    }
    if let Some(ms) = e.duration_ms() {
        property(out, "duration_ms");
        // `null` for a non-finite value.
        crate::util::json::write::f64(out, ms);
    }
    if let Some(kind) = e.error_kind() {
        property(out, "error_kind");
        write::str(out, kind);
    }
    let mut name = String::new();
    for (key, value) in e.attrs() {
        name.clear();
        name.push_str(ATTR_PREFIX);
        name.push_str(key);
        property(out, &name);
        write_value(out, value);
    }
    out.extend_from_slice(b"}}");
}

/// `,"<name>":` (a property after the control properties).
fn property(out: &mut Vec<u8>, name: &str) {
    out.push(b',');
    write::str(out, name);
    out.push(b':');
}

impl TelemetrySink for PostHogSink {
    boxed_async! {
        fn emit(&self, event: &Event) -> Result<(), TelemetryError> {
            self.emit_batch(std::slice::from_ref(event)).await
        }
    }

    boxed_async! {
        /// One request per part of at most `max_request_bytes`, in order; the first
        /// failure ends the batch and is returned (the sender retries or refuses the whole
        /// batch).
        fn emit_batch(&self, events: &[Event]) -> Result<(), TelemetryError> {
            for body in self.request_bodies(events) {
                let size = body.len();
                self.transport
                    .post("application/json", body)
                    .await
                    .map_err(|e| too_large_hint(e, size))?;
            }
            Ok(())
        }
    }

    fn describe(&self) -> String {
        format!("posthog {}", self.transport.endpoint())
    }

    fn is_local(&self) -> bool {
        false
    }
}

/// Adds to a 413 answer what to do about it.
fn too_large_hint(mut error: TelemetryError, size: usize) -> TelemetryError {
    if let TelemetryError::Http {
        status: Some(413),
        message,
        ..
    } = &mut error
    {
        message.push_str(&format!(
            " (a request of {size} bytes; lower `max_request_bytes` below the server's limit)"
        ));
    }
    error
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::collections::BTreeMap;

    use serde_json::{Map, Value, json};

    use super::*;
    use crate::event::Outcome;
    use crate::value::AttrValue;

    /// An event with every optional field set and one attribute of each kind.
    fn full_event() -> Event {
        let mut e = Event::new("cmd.build", "mytool", "1.2.3", "m-0123")
            .with_attr("jobs", 8)
            .with_attr("big", u64::MAX)
            .with_attr("release", true)
            .with_attr("ratio", 0.5)
            .with_attr("nan", f64::NAN);
        e.attrs
            .insert(Cow::Borrowed("profile"), AttrValue::literal("release_lto"));
        e.duration_ms = Some(12.5);
        e.outcome = Outcome::Error;
        e.error_kind = Some("mytool::BuildError".into());
        e
    }

    fn parse(body: &[u8]) -> Map<String, Value> {
        match serde_json::from_slice(body).unwrap() {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    fn entries(body: &[u8]) -> Vec<Map<String, Value>> {
        let body = parse(body);
        body["batch"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_object().unwrap().clone())
            .collect()
    }

    /// The exact entry an event maps to. The destructuring names every field of
    /// `Event` without `..`: a field added to `Event` does not compile here until the
    /// mapping (and this test) covers it.
    fn expected_entry(event: &Event) -> Value {
        let Event {
            event_id,
            name,
            tool,
            tool_version,
            machine_id,
            session_id,
            timestamp_utc,
            os,
            arch,
            duration_ms,
            outcome,
            error_kind,
            attrs,
        } = event;
        let mut properties = Map::new();
        for (key, value) in CONTROL_PROPERTIES {
            properties.insert((*key).into(), json!(value));
        }
        properties.insert("tool".into(), json!(&**tool));
        properties.insert("tool_version".into(), json!(&**tool_version));
        properties.insert("session_id".into(), json!(&**session_id));
        properties.insert("os".into(), json!(&**os));
        properties.insert("arch".into(), json!(&**arch));
        properties.insert("outcome".into(), json!(outcome.as_str()));
        if let Some(ms) = duration_ms {
            properties.insert("duration_ms".into(), json!(ms));
        }
        if let Some(kind) = error_kind {
            properties.insert("error_kind".into(), json!(kind));
        }
        for (key, value) in attrs {
            properties.insert(format!("attrs.{key}"), crate::value::to_serde(value));
        }
        json!({
            "event": &**name,
            "distinct_id": &**machine_id,
            "uuid": event_id,
            "timestamp": timestamp_utc,
            "properties": properties,
        })
    }

    #[test]
    fn every_event_field_is_mapped_exactly_as_documented() {
        let events = [
            full_event(),
            Event::new("cmd.test", "mytool", "1.2.3", "m-0123"),
        ];
        let bodies = request_bodies("phc_key", &events, PostHogSink::DEFAULT_MAX_REQUEST_BYTES);
        assert_eq!(bodies.len(), 1);
        let body = parse(&bodies[0]);
        assert_eq!(
            body.keys().collect::<Vec<_>>(),
            ["api_key", "batch"],
            "nothing else at the top level"
        );
        assert_eq!(body["api_key"], "phc_key");
        let sent = entries(&bodies[0]);
        assert_eq!(sent.len(), 2);
        for (entry, event) in sent.iter().zip(&events) {
            assert_eq!(Value::Object(entry.clone()), expected_entry(event));
        }
        let properties = sent[0]["properties"].as_object().unwrap();
        assert_eq!(properties["attrs.big"], json!(u64::MAX));
        assert_eq!(properties["attrs.nan"], Value::Null);
        assert_eq!(properties["attrs.profile"], "release_lto");
        assert!(!properties.contains_key("$ip"));
        assert_eq!(properties["$process_person_profile"], json!(false));
        assert_eq!(properties["$geoip_disable"], json!(true));
        // The event without duration or error kind has no such properties.
        let plain = sent[1]["properties"].as_object().unwrap();
        assert!(!plain.contains_key("duration_ms") && !plain.contains_key("error_kind"));
    }

    /// The general rule: every value sent is a value of the event, or one of the
    /// constant control properties. Nothing from the machine, the clock or the sink.
    #[test]
    fn no_value_is_sent_that_the_event_does_not_hold() {
        let event = full_event();
        let mut allowed: Vec<Value> = vec![
            json!(event.event_id()),
            json!(event.name()),
            json!(event.tool()),
            json!(event.tool_version()),
            json!(event.machine_id()),
            json!(event.session_id()),
            json!(event.timestamp_utc()),
            json!(event.os()),
            json!(event.arch()),
            json!(event.outcome().as_str()),
            json!(event.duration_ms()),
            json!(event.error_kind()),
        ];
        allowed.extend(event.attrs().values().map(crate::value::to_serde));
        let controls: BTreeMap<&str, bool> = CONTROL_PROPERTIES.iter().copied().collect();
        let bodies = request_bodies("phc_key", std::slice::from_ref(&event), 1 << 20);
        for entry in entries(&bodies[0]) {
            for (key, value) in &entry {
                if key == "properties" {
                    for (key, value) in value.as_object().unwrap() {
                        match controls.get(key.as_str()) {
                            Some(control) => assert_eq!(value, &json!(control), "{key}"),
                            None => assert!(allowed.contains(value), "{key}: {value}"),
                        }
                        assert!(
                            !key.starts_with('$') || controls.contains_key(key.as_str()),
                            "{key}"
                        );
                    }
                } else {
                    assert!(allowed.contains(value), "{key}: {value}");
                }
            }
        }
    }

    #[test]
    fn batches_are_split_under_the_limit_in_order_and_a_large_event_goes_alone() {
        let events: Vec<Event> = (0..50)
            .map(|i| Event::new("cmd.step", "mytool", "1", "m").with_attr("i", i))
            .collect();
        let one = request_bodies("k", &events[..1], usize::MAX)[0].len();
        let limit = one * 5;
        let bodies = request_bodies("k", &events, limit);
        assert!(bodies.len() >= 10, "{} bodies", bodies.len());
        let mut uuids = Vec::new();
        for body in &bodies {
            assert!(body.len() <= limit, "{} > {limit}", body.len());
            assert_eq!(parse(body)["api_key"], "k");
            uuids.extend(
                entries(body)
                    .iter()
                    .map(|e| e["uuid"].as_str().unwrap().to_owned()),
            );
        }
        let expected: Vec<String> = events.iter().map(|e| e.event_id().to_owned()).collect();
        assert_eq!(uuids, expected, "every event once, in order");
        // Below the size of one event: one event per request, none dropped.
        let bodies = request_bodies("k", &events[..3], 10);
        assert_eq!(bodies.len(), 3);
        assert!(request_bodies("k", &[], 10).is_empty());
    }

    #[test]
    fn the_host_gets_the_batch_path_once() {
        for (host, endpoint) in [
            (
                "https://us.i.posthog.com",
                "https://us.i.posthog.com/batch/",
            ),
            (
                "https://us.i.posthog.com/",
                "https://us.i.posthog.com/batch/",
            ),
            (
                "https://ph.example.com/batch",
                "https://ph.example.com/batch/",
            ),
            (
                "https://ph.example.com/batch/",
                "https://ph.example.com/batch/",
            ),
            (
                "https://ph.example.com/x/?q=secret",
                "https://ph.example.com/x/batch/",
            ),
        ] {
            let sink = PostHogSink::new("phc_k", host).unwrap();
            assert_eq!(sink.endpoint(), endpoint, "{host}");
        }
    }

    #[test]
    fn the_key_stays_out_of_debug_describe_and_errors() {
        let key: &'static str = "phc_secret_key_123";
        let builder = PostHogSink::builder(key, PostHogSink::US_CLOUD);
        let sink = builder.clone().build().unwrap();
        let shown = format!("{builder:?} {sink:?} {}", sink.describe());
        assert!(!shown.contains(key), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        for bad in [
            PostHogSink::builder(key, "http://ph.example.com"),
            PostHogSink::builder(key, "not a url"),
            PostHogSink::builder(key, PostHogSink::US_CLOUD).max_request_bytes(1),
        ] {
            let err = bad.build().unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(!text.contains(key), "{text}");
        }
        let too_large = too_large_hint(
            TelemetryError::Http {
                endpoint: sink.endpoint().into(),
                status: Some(413),
                message: "the server answered 413 Payload Too Large".into(),
                retryable: false,
                retry_after: None,
            },
            7,
        );
        assert!(
            too_large.to_string().contains("max_request_bytes"),
            "{too_large}"
        );
    }
}
