//! The event: what one tracked call, or one explicit `record`, turns into.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::value::AttrValue;

/// One telemetry event, exactly as it is written to a sink.
///
/// Sinks read it; nothing outside this crate can change it. Every string in an event
/// was fixed when the tool was compiled (the event name, attribute keys, literal
/// values, enum variant names, the tool's name and version) or made by this crate (ids,
/// the timestamp, `Hashed` digests, the error *type*'s name): there is no way to put a
/// runtime `String` into an event, so no path, argument or message a user typed can
/// end up in one. Hence the fields are private and read through methods, and no public
/// API makes an event out of text.
///
/// The JSON field names are part of the wire format and fixed by a snapshot test;
/// fields may be added, never renamed. The fields that are the same for every event of
/// a process (tool, version, ids, platform) are `Arc<str>`, shared rather than copied
/// into each event.
///
/// ```
/// use telemetry::{AttrValue, Event};
///
/// let event = Event::example();
/// assert_eq!(event.attrs()["jobs"], AttrValue::Int(4));
/// assert_eq!(event.attr("profile").and_then(AttrValue::as_str), None);
/// assert_eq!(event.name(), "example.event");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub(crate) event_id: String,
    pub(crate) name: Cow<'static, str>,
    pub(crate) tool: Arc<str>,
    pub(crate) tool_version: Arc<str>,
    pub(crate) machine_id: Arc<str>,
    pub(crate) session_id: Arc<str>,
    pub(crate) timestamp_utc: String,
    pub(crate) os: Arc<str>,
    pub(crate) arch: Arc<str>,
    pub(crate) duration_ms: Option<f64>,
    pub(crate) outcome: Outcome,
    pub(crate) error_kind: Option<String>,
    pub(crate) attrs: BTreeMap<Cow<'static, str>, AttrValue>,
}

impl Event {
    /// A sample event (`example.event` of the tool `example`, with one attribute), for
    /// testing a sink of one's own. Events are otherwise made only by this crate, from
    /// what was fixed when the tool was compiled.
    ///
    /// ```
    /// let event = telemetry::Event::example();
    /// assert_eq!(event.name(), "example.event");
    /// assert_eq!(event.event_id().len(), 36);
    /// assert!(event.timestamp_utc().ends_with('Z'));
    /// ```
    pub fn example() -> Self {
        let mut event = Self::now(
            Cow::Borrowed("example.event"),
            "example".into(),
            "0.0.0".into(),
            "0000000000000000000000000000000000000000000000000000000000000000".into(),
        );
        event.attrs.insert(Cow::Borrowed("jobs"), AttrValue::Int(4));
        event
    }

    /// An event with the given name and tool metadata (this workspace's tests only:
    /// feature `test-internals`).
    #[cfg(any(test, feature = "test-internals"))]
    #[doc(hidden)]
    pub fn new(
        name: &'static str,
        tool: &'static str,
        tool_version: &'static str,
        machine_id: &'static str,
    ) -> Self {
        Self::now(
            Cow::Borrowed(name),
            tool.into(),
            tool_version.into(),
            machine_id.into(),
        )
    }

    /// An event recorded now, for this crate: the tool's metadata is shared.
    pub(crate) fn now(
        name: Cow<'static, str>,
        tool: Arc<str>,
        tool_version: Arc<str>,
        machine_id: Arc<str>,
    ) -> Self {
        Self {
            event_id: crate::util::random::uuid_v4().to_string(),
            name,
            tool,
            tool_version,
            machine_id,
            session_id: crate::identity::session_id(),
            timestamp_utc: crate::util::time::rfc3339_millis(std::time::SystemTime::now()),
            os: platform().0,
            arch: platform().1,
            duration_ms: None,
            outcome: Outcome::Ok,
            error_kind: None,
            attrs: BTreeMap::new(),
        }
    }

    /// Adds (or replaces) one attribute (this workspace's tests only: feature
    /// `test-internals`).
    #[cfg(any(test, feature = "test-internals"))]
    #[doc(hidden)]
    #[must_use]
    pub fn with_attr(
        mut self,
        key: &'static str,
        value: impl crate::safe_value::SafeValue,
    ) -> Self {
        match value.to_attr_value() {
            Some(value) => self.attrs.insert(Cow::Borrowed(key), value),
            None => self.attrs.remove(key),
        };
        self
    }

    /// Random UUID v4, unique per event: the key a backend deduplicates on.
    ///
    /// ```
    /// # let e = telemetry::Event::example();
    /// assert_eq!(e.event_id().len(), 36);
    /// ```
    pub fn event_id(&self) -> &str {
        &self.event_id
    }

    /// Lowercase dotted event name, e.g. `cmd.build`.
    ///
    /// ```
    /// # let e = telemetry::Event::example();
    /// assert_eq!(e.name(), "example.event");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tool that sent the event.
    ///
    /// ```
    /// # let e = telemetry::Event::example();
    /// assert_eq!(e.tool(), "example");
    /// ```
    pub fn tool(&self) -> &str {
        &self.tool
    }

    /// The tool's version.
    ///
    /// ```
    /// # let e = telemetry::Event::example();
    /// assert_eq!(e.tool_version(), "0.0.0");
    /// ```
    pub fn tool_version(&self) -> &str {
        &self.tool_version
    }

    /// Salted SHA-256 of the machine id (64 hex chars), never the raw id.
    ///
    /// ```
    /// # let e = telemetry::Event::example();
    /// assert_eq!(e.machine_id().len(), 64);
    /// ```
    pub fn machine_id(&self) -> &str {
        &self.machine_id
    }

    /// Random UUID v4, one per process.
    ///
    /// ```
    /// # let e = telemetry::Event::example();
    /// assert_eq!(e.session_id().len(), 36);
    /// ```
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// When the event happened: RFC 3339, UTC, millisecond precision.
    ///
    /// ```
    /// # let e = telemetry::Event::example();
    /// assert_eq!(e.timestamp_utc().len(), "2026-11-21T05:43:56.281Z".len());
    /// ```
    pub fn timestamp_utc(&self) -> &str {
        &self.timestamp_utc
    }

    /// Operating system family (`std::env::consts::OS`).
    ///
    /// ```
    /// # let e = telemetry::Event::example();
    /// assert_eq!(e.os(), std::env::consts::OS);
    /// ```
    pub fn os(&self) -> &str {
        &self.os
    }

    /// CPU architecture (`std::env::consts::ARCH`).
    ///
    /// ```
    /// # let e = telemetry::Event::example();
    /// assert_eq!(e.arch(), std::env::consts::ARCH);
    /// ```
    pub fn arch(&self) -> &str {
        &self.arch
    }

    /// How long the tracked call ran, in milliseconds (microsecond resolution);
    /// `None` for an event recorded through the run-time API.
    ///
    /// ```
    /// # let e = telemetry::Event::example();
    /// assert_eq!(e.duration_ms(), None);
    /// ```
    pub fn duration_ms(&self) -> Option<f64> {
        self.duration_ms
    }

    /// How the tracked call ended.
    ///
    /// ```
    /// # let e = telemetry::Event::example();
    /// assert_eq!(e.outcome(), telemetry::Outcome::Ok);
    /// ```
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// For `outcome = error`: the name of the error *type* (never its message), with
    /// every value in it (a const-generic argument, an array length) replaced by `_`.
    ///
    /// ```
    /// # let e = telemetry::Event::example();
    /// assert_eq!(e.error_kind(), None);
    /// ```
    pub fn error_kind(&self) -> Option<&str> {
        self.error_kind.as_deref()
    }

    /// Literal and captured attributes, sorted by key.
    ///
    /// ```
    /// # let e = telemetry::Event::example();
    /// assert_eq!(e.attrs().len(), 1);
    /// ```
    pub fn attrs(&self) -> &BTreeMap<Cow<'static, str>, AttrValue> {
        &self.attrs
    }

    /// One attribute's value.
    ///
    /// ```
    /// # let e = telemetry::Event::example();
    /// assert_eq!(e.attr("jobs"), Some(&telemetry::AttrValue::Int(4)));
    /// assert_eq!(e.attr("other"), None);
    /// ```
    pub fn attr(&self, key: &str) -> Option<&AttrValue> {
        self.attrs.get(key)
    }
}

/// `std::env::consts::{OS, ARCH}`, allocated once per process.
pub(crate) fn platform() -> (Arc<str>, Arc<str>) {
    static PLATFORM: std::sync::OnceLock<(Arc<str>, Arc<str>)> = std::sync::OnceLock::new();
    PLATFORM
        .get_or_init(|| (std::env::consts::OS.into(), std::env::consts::ARCH.into()))
        .clone()
}

/// How a tracked call ended.
///
/// ```
/// assert_eq!(telemetry::Outcome::Cancelled.to_string(), "cancelled");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Returned normally (for a `Result`: returned `Ok`).
    Ok,
    /// Returned an `Err`.
    Error,
    /// Panicked; the panic kept unwinding after it was recorded.
    Panic,
    /// A future dropped before it completed.
    Cancelled,
    /// Still running when the process was ended by `SIGINT` (Ctrl-C) or `SIGTERM`, or
    /// by a panic hook that exits: recorded only where the tool opted in (see
    /// [`signals`](crate::signals)).
    Interrupted,
}

impl Outcome {
    /// The lowercase wire name (`ok`, `error`, `panic`, `cancelled`, `interrupted`).
    ///
    /// ```
    /// assert_eq!(telemetry::Outcome::Panic.as_str(), "panic");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Panic => "panic",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }
}

/// An outcome by its wire name ([`Outcome::as_str`]), for a reader of the events'
/// JSON.
///
/// ```
/// assert_eq!("panic".parse(), Ok(telemetry::Outcome::Panic));
/// assert!("Panic".parse::<telemetry::Outcome>().is_err());
/// ```
impl std::str::FromStr for Outcome {
    type Err = UnknownOutcome;

    fn from_str(name: &str) -> Result<Self, UnknownOutcome> {
        [
            Self::Ok,
            Self::Error,
            Self::Panic,
            Self::Cancelled,
            Self::Interrupted,
        ]
        .into_iter()
        .find(|o| o.as_str() == name)
        .ok_or(UnknownOutcome)
    }
}

/// A name that is not an [`Outcome`]'s wire name.
///
/// ```
/// let err = "fine".parse::<telemetry::Outcome>().unwrap_err();
/// assert_eq!(err.to_string(), "not an outcome (ok, error, panic, cancelled, interrupted)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnknownOutcome;

impl fmt::Display for UnknownOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not an outcome (ok, error, panic, cancelled, interrupted)")
    }
}

impl std::error::Error for UnknownOutcome {}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The start of a spool file's process line (`{"spool":<format>,` then the
/// process's fields, which the event lines after it leave out: `sink::SpoolLines`).
/// A line that starts otherwise is an event.
pub(crate) const SPOOL_PROCESS_LINE: &[u8] = b"{\"spool\":";

/// The format of the spool's lines this version writes, in each process line.
#[cfg(feature = "spool")]
pub(crate) const SPOOL_FORMAT: u32 = 2;

#[cfg(feature = "spool")]
/// Reading events back from this crate's own files (the spool). Private on purpose:
/// a public `Deserialize` would be a way to make an `Event` (or an `AttrValue`) out of
/// any text. A line whose name, keys or string values break the rules an event was
/// made under is refused like a corrupt one.
pub(crate) mod wire {
    use std::borrow::Cow;
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::{AttrValue, Event};
    use crate::naming;
    use crate::util::json::read::ParseError;
    use crate::util::json::{self, Json};

    /// A spool file's process line (`sink::SpoolLines`): the fields of the events
    /// after it.
    #[derive(Clone)]
    struct Process {
        tool: Arc<str>,
        tool_version: Arc<str>,
        machine_id: Arc<str>,
        session_id: Arc<str>,
        os: Arc<str>,
        arch: Arc<str>,
    }

    /// Why a line was refused.
    #[derive(Debug)]
    pub(crate) enum Refused {
        /// Not JSON.
        Json(ParseError),
        /// JSON, but not an event: a field missing or of the wrong type.
        Shape(&'static str),
        Rule(&'static str),
        /// An event line without the process's fields and no process line before it.
        NoProcess,
        /// A process line of a spool format this version does not know.
        Format(u64),
    }

    impl std::fmt::Display for Refused {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                Self::Json(e) => write!(f, "not an event: {e}"),
                Self::Shape(field) => write!(f, "not an event: `{field}` missing or not valid"),
                Self::Rule(what) => write!(f, "{what} breaks the naming rules"),
                Self::NoProcess => f.write_str("an event without its process's fields"),
                Self::Format(v) => write!(f, "spool format {v} is not known to this version"),
            }
        }
    }

    /// Reads the lines of a spool file (full events, or events under a process line):
    /// each event, or why a line was refused. Blank lines are skipped; a refused
    /// process line leaves the lines after it without one (refused too, until the
    /// next).
    pub(crate) fn spool_events(bytes: &[u8], mut each: impl FnMut(Result<Event, Refused>)) {
        let mut process: Option<Process> = None;
        for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            // A JSON error names the line of the file, not of the one line parsed.
            let on_line = |refused| match refused {
                Refused::Json(e) => Refused::Json(e.on_line(n + 1)),
                other => other,
            };
            // As `spool_files::EventCount` tells them apart: after any leading blanks.
            if line
                .trim_ascii_start()
                .starts_with(super::SPOOL_PROCESS_LINE)
            {
                process = None;
                match process_from_json(line) {
                    Ok(p) => process = Some(p),
                    Err(refused) => each(Err(on_line(refused))),
                }
                continue;
            }
            each(event_from_json(line, process.as_ref()).map_err(on_line));
        }
    }

    /// A required string field.
    fn string<'j>(doc: &'j Json, field: &'static str) -> Result<&'j str, Refused> {
        doc.field(field, Json::as_str).map_err(Refused::Shape)
    }

    /// An optional string field: absent or `null` is `None`.
    fn optional_string<'j>(doc: &'j Json, field: &'static str) -> Result<Option<&'j str>, Refused> {
        doc.optional_field(field, Json::as_str)
            .map_err(Refused::Shape)
    }

    fn process_from_json(line: &[u8]) -> Result<Process, Refused> {
        let doc = json::parse(line).map_err(Refused::Json)?;
        let format = doc
            .get("spool")
            .and_then(Json::as_u64)
            .ok_or(Refused::Shape("spool"))?;
        if format != u64::from(super::SPOOL_FORMAT) {
            return Err(Refused::Format(format));
        }
        let field = |name| string(&doc, name).map(Arc::from);
        Ok(Process {
            tool: field("tool")?,
            tool_version: field("tool_version")?,
            machine_id: field("machine_id")?,
            session_id: field("session_id")?,
            os: field("os")?,
            arch: field("arch")?,
        })
    }

    /// One event of a JSON line written by this crate; `process` fills the fields a
    /// spool line leaves to its process line.
    fn event_from_json(line: &[u8], process: Option<&Process>) -> Result<Event, Refused> {
        let doc = json::parse(line).map_err(Refused::Json)?;
        let name = string(&doc, "name")?;
        if !naming::is_valid_event_name(name) {
            return Err(Refused::Rule("event name"));
        }
        let from_process = |field: &'static str, of: fn(&Process) -> &Arc<str>| {
            match optional_string(&doc, field)? {
                Some(own) => Ok(Arc::from(own)),
                None => process.map(|p| Arc::clone(of(p))).ok_or(Refused::NoProcess),
            }
        };
        let tool = from_process("tool", |p| &p.tool)?;
        let tool_version = from_process("tool_version", |p| &p.tool_version)?;
        let machine_id = from_process("machine_id", |p| &p.machine_id)?;
        let session_id = from_process("session_id", |p| &p.session_id)?;
        let os = from_process("os", |p| &p.os)?;
        let arch = from_process("arch", |p| &p.arch)?;
        let duration_ms = match doc.get("duration_ms") {
            None | Some(Json::Null) => None,
            Some(d) => Some(d.as_f64().ok_or(Refused::Shape("duration_ms"))?),
        };
        let outcome = string(&doc, "outcome")?
            .parse()
            .map_err(|_| Refused::Shape("outcome"))?;
        let attrs: BTreeMap<Cow<'static, str>, AttrValue> = match doc.get("attrs") {
            None => BTreeMap::new(),
            Some(attrs) => crate::value::stored::checked(attrs)
                .map_err(|rule| match rule {
                    "attributes" => Refused::Shape("attrs"),
                    rule => Refused::Rule(rule),
                })?
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k), v))
                .collect(),
        };
        Ok(Event {
            event_id: string(&doc, "event_id")?.to_owned(),
            name: Cow::Owned(name.to_owned()),
            tool,
            tool_version,
            machine_id,
            session_id,
            timestamp_utc: string(&doc, "timestamp_utc")?.to_owned(),
            os,
            arch,
            duration_ms,
            outcome,
            error_kind: optional_string(&doc, "error_kind")?.map(str::to_owned),
            attrs,
        })
    }

    /// One event of a full JSON line (a sink's form).
    #[cfg(test)]
    pub(crate) fn full_event_from_json(line: &[u8]) -> Result<Event, Refused> {
        event_from_json(line, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "spool")]
    #[test]
    fn attr_values_round_trip_as_plain_json() {
        let values = [
            AttrValue::Bool(true),
            AttrValue::Int(-7),
            AttrValue::UInt(u64::MAX),
            AttrValue::Float(0.25),
            AttrValue::literal("x"),
        ];
        let mut json = Vec::new();
        for v in &values {
            json.extend(crate::util::json::Json::from(v).to_vec());
            json.push(b' ');
        }
        assert_eq!(json, br#"true -7 18446744073709551615 0.25 "x" "#);
        let event = values.iter().zip(["a", "b", "c", "d", "e"]).fold(
            Event::new("cmd.x", "t", "1", "m"),
            |mut e, (v, k)| {
                e.attrs.insert(Cow::Borrowed(k), v.clone());
                e
            },
        );
        let line = event.to_json();
        let back = wire::full_event_from_json(line.as_bytes()).unwrap();
        assert_eq!(back, event);
    }

    #[cfg(feature = "spool")]
    #[test]
    fn lines_that_break_the_rules_are_refused_when_read_back() {
        let event = Event::new("cmd.x", "t", "1", "m").with_attr("jobs", 1);
        let json = event.to_json();
        for (from, to) in [
            ("\"cmd.x\"", "\"/home/alice\""),
            ("\"jobs\"", "\"Home Dir\""),
            ("\"jobs\":1", "\"jobs\":\"a\\u202eb\""),
            ("\"jobs\":1", "\"jobs\":\"line\\nbreak\""),
        ] {
            let bad = json.replace(from, to);
            assert_ne!(bad, json, "{from}");
            assert!(wire::full_event_from_json(bad.as_bytes()).is_err(), "{bad}");
        }
        let long = json.replace("\"jobs\":1", &format!("\"jobs\":\"{}\"", "x".repeat(129)));
        assert!(wire::full_event_from_json(long.as_bytes()).is_err());
        assert!(wire::full_event_from_json(json.as_bytes()).is_ok());
        for (from, to, why) in [
            (
                "\"attrs\":{\"jobs\":1}",
                "\"attrs\":null",
                "not an event: `attrs` missing or not valid",
            ),
            (
                "\"outcome\":\"ok\"",
                "\"outcome\":\"fine\"",
                "not an event: `outcome` missing or not valid",
            ),
            (
                "\"jobs\":1",
                "\"jobs\":[1]",
                "attribute value breaks the naming rules",
            ),
        ] {
            let bad = json.replace(from, to);
            assert_ne!(bad, json, "{from}");
            let refused = wire::full_event_from_json(bad.as_bytes()).unwrap_err();
            assert_eq!(refused.to_string(), why, "{bad}");
        }
    }

    #[cfg(feature = "spool")]
    #[test]
    fn a_corrupt_spool_line_is_refused_naming_its_line_in_the_file() {
        let line = Event::new("cmd.x", "t", "1", "m").to_json();
        let text = format!("{line}\n\n{}\n{line}\n", &line[..30]);
        let mut read = Vec::new();
        wire::spool_events(text.as_bytes(), |e| read.push(e.map_err(|r| r.to_string())));
        assert_eq!(read.len(), 3, "the blank line is skipped");
        assert!(read[0].is_ok() && read[2].is_ok());
        let refused = read[1].clone().unwrap_err();
        assert!(refused.starts_with("not an event: "), "{refused}");
        assert!(refused.ends_with("at line 3 column 31"), "{refused}");
    }

    #[cfg(feature = "spool")]
    #[test]
    fn every_outcome_is_written_and_read_back_by_its_wire_name() {
        for outcome in [
            Outcome::Ok,
            Outcome::Error,
            Outcome::Panic,
            Outcome::Cancelled,
            Outcome::Interrupted,
        ] {
            let mut event = Event::new("cmd.x", "t", "1", "m");
            event.outcome = outcome;
            let text = event.to_json();
            assert!(
                text.contains(&format!("\"outcome\":\"{}\"", outcome.as_str())),
                "{text}"
            );
            assert_eq!(
                wire::full_event_from_json(text.as_bytes()).unwrap().outcome,
                outcome
            );
        }
    }

    #[test]
    fn large_integers_keep_their_value() {
        assert_eq!(AttrValue::from(5_u64), AttrValue::Int(5));
        assert_eq!(AttrValue::from(u64::MAX), AttrValue::UInt(u64::MAX));
        assert_eq!(AttrValue::from(-1_i128), AttrValue::Int(-1));
    }
}
