//! The event: what one tracked call, or one explicit `record`, turns into.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// One telemetry event, exactly as it is written to a sink.
///
/// The JSON field names are part of the wire format and fixed by a snapshot test;
/// fields may be added (the struct is `#[non_exhaustive]`), never renamed. The fields
/// that are the same for every event of a process (tool, version, ids, platform) are
/// `Arc<str>`, shared rather than copied into each event.
///
/// ```
/// use telemetry::{AttrValue, Event};
///
/// let event = Event::new("cmd.build", "mytool", "1.2.3", "ab12")
///     .with_attr("jobs", 4)
///     .with_attr("profile", "release");
/// assert_eq!(event.attrs["jobs"], AttrValue::Int(4));
/// assert_eq!(event.name, "cmd.build");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Event {
    /// Random UUID v4, unique per event: the key a backend deduplicates on.
    pub event_id: String,
    /// Lowercase dotted event name, e.g. `cmd.build`.
    pub name: String,
    /// The tool that sent the event.
    pub tool: Arc<str>,
    /// The tool's version.
    pub tool_version: Arc<str>,
    /// Salted SHA-256 of the machine id (64 hex chars), never the raw id.
    pub machine_id: Arc<str>,
    /// Random UUID v4, one per process.
    pub session_id: Arc<str>,
    /// When the event happened: RFC 3339, UTC, millisecond precision.
    pub timestamp_utc: String,
    /// Operating system family (`std::env::consts::OS`).
    pub os: Arc<str>,
    /// CPU architecture (`std::env::consts::ARCH`).
    pub arch: Arc<str>,
    /// How long the tracked call ran, in milliseconds (microsecond resolution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// How the tracked call ended.
    pub outcome: Outcome,
    /// For `outcome = error`: the static name of the error type, never its message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    /// Literal and captured attributes, sorted by key.
    #[serde(default)]
    pub attrs: BTreeMap<String, AttrValue>,
}

impl Event {
    /// A new event with a fresh `event_id`, a per-process `session_id`, the current
    /// time, this machine's `os`/`arch`, outcome `ok` and no attributes.
    ///
    /// ```
    /// let event = telemetry::Event::new("cmd.test", "mytool", "0.1.0", "ab12");
    /// assert_eq!(event.event_id.len(), 36);
    /// assert!(event.timestamp_utc.ends_with('Z'));
    /// ```
    pub fn new(
        name: impl Into<String>,
        tool: impl Into<Arc<str>>,
        tool_version: impl Into<Arc<str>>,
        machine_id: impl Into<Arc<str>>,
    ) -> Self {
        Self {
            event_id: uuid::Uuid::new_v4().to_string(),
            name: name.into(),
            tool: tool.into(),
            tool_version: tool_version.into(),
            machine_id: machine_id.into(),
            session_id: crate::identity::session_id(),
            timestamp_utc: rfc3339_millis(std::time::SystemTime::now()),
            os: platform().0,
            arch: platform().1,
            duration_ms: None,
            outcome: Outcome::Ok,
            error_kind: None,
            attrs: BTreeMap::new(),
        }
    }

    /// Adds (or replaces) one attribute.
    ///
    /// ```
    /// let event = telemetry::Event::new("a", "t", "1", "m").with_attr("dry_run", true);
    /// assert_eq!(event.attrs["dry_run"], telemetry::AttrValue::Bool(true));
    /// ```
    #[must_use]
    pub fn with_attr(mut self, key: impl Into<String>, value: impl Into<AttrValue>) -> Self {
        self.attrs.insert(key.into(), value.into());
        self
    }
}

/// `std::env::consts::{OS, ARCH}`, allocated once per process.
pub(crate) fn platform() -> (Arc<str>, Arc<str>) {
    static PLATFORM: std::sync::OnceLock<(Arc<str>, Arc<str>)> = std::sync::OnceLock::new();
    PLATFORM
        .get_or_init(|| (std::env::consts::OS.into(), std::env::consts::ARCH.into()))
        .clone()
}

/// Formats a wall-clock time as RFC 3339 in UTC with millisecond precision
/// (`2026-11-21T05:43:56.281Z`). Times before 1970 are clamped to the epoch.
///
/// Written out rather than through a formatting crate: the worker formats one timestamp
/// per event. The date and time of day (`2026-11-21T05:43:56`) are formatted once per
/// second and per thread; each call then only writes the milliseconds.
pub(crate) fn rfc3339_millis(time: std::time::SystemTime) -> String {
    thread_local! {
        /// The second last formatted on this thread, and its text.
        static LAST_SECOND: std::cell::Cell<(u64, [u8; 19])> =
            const { std::cell::Cell::new((u64::MAX, [0; 19])) };
    }
    let since_epoch = time
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since_epoch.as_secs();
    let prefix = LAST_SECOND.with(|last| {
        let (cached_secs, text) = last.get();
        if cached_secs == secs {
            return text;
        }
        let text = format_second(secs);
        last.set((secs, text));
        text
    });
    let mut out = String::with_capacity(24);
    out.extend(prefix.iter().map(|&b| char::from(b)));
    out.push('.');
    push_digits(&mut out, u64::from(since_epoch.subsec_millis()), 3);
    out.push('Z');
    out
}

/// `YYYY-MM-DDTHH:MM:SS` of a count of seconds since the epoch.
fn format_second(secs: u64) -> [u8; 19] {
    let (days, secs_of_day) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    let mut text = String::with_capacity(19);
    let fields = [
        (year, 4, "-"),
        (month, 2, "-"),
        (day, 2, "T"),
        (secs_of_day / 3600, 2, ":"),
        (secs_of_day / 60 % 60, 2, ":"),
        (secs_of_day % 60, 2, ""),
    ];
    for (value, width, separator) in fields {
        push_digits(&mut text, value, width);
        text.push_str(separator);
    }
    let mut out = [b'0'; 19];
    for (o, b) in out.iter_mut().zip(text.bytes()) {
        *o = b;
    }
    out
}

/// Appends the last `width` decimal digits of `value`, zero-padded.
fn push_digits(out: &mut String, value: u64, width: u32) {
    let mut divisor = 10_u64.pow(width - 1);
    while divisor > 0 {
        out.push(char::from(b'0' + (value / divisor % 10) as u8));
        divisor /= 10;
    }
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for non-negative day counts).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// How a tracked call ended.
///
/// ```
/// assert_eq!(serde_json::to_string(&telemetry::Outcome::Cancelled).unwrap(), "\"cancelled\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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
}

impl Outcome {
    /// The lowercase wire name (`ok`, `error`, `panic`, `cancelled`).
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
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An attribute value. Serialised as a plain JSON value (`"x"`, `4`, `true`, `0.5`).
///
/// Strings are `Cow<'static, str>` so that literal attributes and enum variant names
/// cost no allocation on the recording path.
///
/// ```
/// use telemetry::AttrValue;
/// assert_eq!(serde_json::to_string(&AttrValue::from("release")).unwrap(), "\"release\"");
/// assert_eq!(serde_json::to_string(&AttrValue::from(-3)).unwrap(), "-3");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum AttrValue {
    /// `true` / `false`.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer too large for `i64`.
    UInt(u64),
    /// A floating point number (non-finite values serialise as `null`).
    Float(f64),
    /// A string: a literal, a `SafeValue` enum variant name, or a `Hashed` digest.
    Str(Cow<'static, str>),
}

impl AttrValue {
    /// The kind of value, as shown by `telemetry schema`.
    ///
    /// ```
    /// assert_eq!(telemetry::AttrValue::from(1.5).kind(), "float");
    /// ```
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Bool(_) => "bool",
            Self::Int(_) | Self::UInt(_) => "int",
            Self::Float(_) => "float",
            Self::Str(_) => "string",
        }
    }
}

impl From<bool> for AttrValue {
    #[inline]
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

macro_rules! from_signed {
    ($($t:ty),*) => {$(
        impl From<$t> for AttrValue {
            #[inline]
            fn from(v: $t) -> Self {
                Self::Int(i64::from(v))
            }
        }
    )*};
}
from_signed!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for AttrValue {
    #[inline]
    fn from(v: u64) -> Self {
        i64::try_from(v).map_or(Self::UInt(v), Self::Int)
    }
}

impl From<usize> for AttrValue {
    #[inline]
    fn from(v: usize) -> Self {
        Self::from(v as u64)
    }
}

impl From<isize> for AttrValue {
    #[inline]
    fn from(v: isize) -> Self {
        Self::Int(v as i64)
    }
}

impl From<i128> for AttrValue {
    #[inline]
    fn from(v: i128) -> Self {
        i64::try_from(v).map_or_else(
            |_| u64::try_from(v).map_or(Self::Float(v as f64), Self::UInt),
            Self::Int,
        )
    }
}

impl From<u128> for AttrValue {
    #[inline]
    fn from(v: u128) -> Self {
        u64::try_from(v).map_or(Self::Float(v as f64), Self::from)
    }
}

impl From<f32> for AttrValue {
    #[inline]
    fn from(v: f32) -> Self {
        Self::Float(f64::from(v))
    }
}

impl From<f64> for AttrValue {
    #[inline]
    fn from(v: f64) -> Self {
        Self::Float(v)
    }
}

impl From<&'static str> for AttrValue {
    #[inline]
    fn from(v: &'static str) -> Self {
        Self::Str(Cow::Borrowed(v))
    }
}

impl From<String> for AttrValue {
    fn from(v: String) -> Self {
        Self::Str(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attr_values_round_trip_as_plain_json() {
        let values = [
            AttrValue::Bool(true),
            AttrValue::Int(-7),
            AttrValue::UInt(u64::MAX),
            AttrValue::Float(0.25),
            AttrValue::from("x"),
        ];
        let json = serde_json::to_string(&values).unwrap();
        assert_eq!(json, r#"[true,-7,18446744073709551615,0.25,"x"]"#);
        let back: Vec<AttrValue> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, values);
    }

    #[test]
    fn large_integers_keep_their_value() {
        assert_eq!(AttrValue::from(5_u64), AttrValue::Int(5));
        assert_eq!(AttrValue::from(u64::MAX), AttrValue::UInt(u64::MAX));
        assert_eq!(AttrValue::from(-1_i128), AttrValue::Int(-1));
    }

    #[test]
    fn timestamp_is_rfc3339_utc_millis() {
        let at =
            |ms: u64| rfc3339_millis(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms));
        assert_eq!(at(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            at(951_782_400_000),
            "2000-02-29T00:00:00.000Z",
            "leap day of a /400 year"
        );
        assert_eq!(
            at(4_107_542_399_999),
            "2100-02-28T23:59:59.999Z",
            "2100 is no leap year"
        );
        assert_eq!(at(4_107_542_400_000), "2100-03-01T00:00:00.000Z");
        assert_eq!(at(1_735_689_599_001), "2024-12-31T23:59:59.001Z");
        assert_eq!(at(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
        let before_epoch = std::time::UNIX_EPOCH - std::time::Duration::from_secs(5);
        assert_eq!(rfc3339_millis(before_epoch), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn every_day_of_four_centuries_is_a_valid_increasing_date() {
        let mut previous = (1969, 12, 31);
        for days in 0..146_097 {
            let date = civil_from_days(days);
            let (y, m, d) = date;
            assert!((1..=12).contains(&m) && (1..=31).contains(&d), "{date:?}");
            let next_day = (previous.0, previous.1, previous.2 + 1);
            let next_month = (previous.0, previous.1 + 1, 1);
            let next_year = (previous.0 + 1, 1, 1);
            assert!(
                date == next_day || date == next_month || date == next_year,
                "{previous:?} -> {date:?}"
            );
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            if m == 2 && d == 29 {
                assert!(leap, "{date:?}");
            }
            previous = date;
        }
        assert_eq!(previous, (2369, 12, 31));
    }
}
