//! Test fixtures (see tests.rs and testdata/): a batch of events and a report that exercise every field and value
//! kind the OTLP encodings write, with fixed ids and times so that their encodings are
//! reproducible byte for byte.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::event::{Event, Outcome};
#[cfg(feature = "reports")]
use crate::report::{DurationHistogram, REPORT_DURATION_BOUNDS_MS, Report, ReportRow};
use crate::value::AttrValue;

/// The observed time given to every log record of [`events`].
pub(crate) const OBSERVED: u64 = 1_795_400_000_123_456_789;

fn event(name: &'static str, tool: &str, version: &str, n: u32, timestamp: &str) -> Event {
    let mut event = Event::new(name, "x", "x", "x");
    event.event_id = format!("00000000-0000-4000-8000-{n:012}");
    event.tool = tool.into();
    event.tool_version = version.into();
    event.machine_id = "ab".repeat(32).into();
    event.session_id = "0191e1f0-0000-7000-8000-000000000001".into();
    event.timestamp_utc = timestamp.to_owned();
    event.os = "linux".into();
    event.arch = "x86_64".into();
    event
}

/// Three events of two tools (two resources): every outcome field, every attribute
/// value kind (with zero, negative, huge, non-finite and escaped values), and a
/// timestamp that does not parse.
pub(crate) fn events() -> Vec<Event> {
    let mut build = event(
        "cmd.build",
        "mytool",
        "2.0.1",
        1,
        "2026-11-23T10:20:30.456Z",
    );
    build.duration_ms = Some(12.5);
    build.attrs = BTreeMap::from([
        (Cow::Borrowed("jobs"), AttrValue::Int(8)),
        (Cow::Borrowed("zero"), AttrValue::Int(0)),
        (Cow::Borrowed("neg"), AttrValue::Int(-4)),
        (Cow::Borrowed("min"), AttrValue::Int(i64::MIN)),
        (Cow::Borrowed("big"), AttrValue::UInt(u64::MAX)),
        (Cow::Borrowed("release"), AttrValue::Bool(true)),
        (Cow::Borrowed("dry"), AttrValue::Bool(false)),
        (Cow::Borrowed("ratio"), AttrValue::Float(0.25)),
        (Cow::Borrowed("nothing"), AttrValue::Float(0.0)),
        (Cow::Borrowed("tiny"), AttrValue::Float(-1.5e-7)),
        (Cow::Borrowed("huge"), AttrValue::Float(1e300)),
        (Cow::Borrowed("nan"), AttrValue::Float(f64::NAN)),
        (Cow::Borrowed("inf"), AttrValue::Float(f64::INFINITY)),
        (Cow::Borrowed("profile"), AttrValue::literal("ci")),
        (Cow::Borrowed("empty"), AttrValue::literal("")),
        (
            Cow::Borrowed("quoted"),
            AttrValue::owned_str("a \"b\" \\ c\n\u{1} é 🦀".to_owned()),
        ),
    ]);
    let mut failed = event("cmd.test", "mytool", "2.0.1", 2, "2026-11-23T10:20:31.000Z");
    failed.outcome = Outcome::Error;
    failed.error_kind = Some("not_found".to_owned());
    failed.duration_ms = Some(0.0);
    let other = event("cmd.run", "othertool", "0.1.0", 3, "not a time");
    vec![build, failed, other]
}

/// `Report::example()` plus a second version with an error row (every attribute kind),
/// an overflow row, a point event (no histogram) and a row whose histogram is empty
/// (no min or max).
#[cfg(feature = "reports")]
pub(crate) fn report() -> Report {
    let mut report = Report::example();
    let mut error = report.rows[0].clone();
    error.tool_version = "1.1.0".into();
    error.outcome = Outcome::Error;
    error.error_kind = Some("not_found".into());
    error.attrs = BTreeMap::from([
        ("jobs".to_owned(), AttrValue::Int(-4)),
        ("zero".to_owned(), AttrValue::Int(0)),
        ("big".to_owned(), AttrValue::UInt(u64::MAX)),
        ("ratio".to_owned(), AttrValue::Float(0.5)),
        ("dry".to_owned(), AttrValue::Bool(false)),
        ("profile".to_owned(), AttrValue::literal("ci")),
    ]);
    let mut other = report.rows[0].clone();
    other.tool_version = "1.1.0".into();
    other.attrs.clear();
    other.other = true;
    let mut point = report.rows[0].clone();
    point.tool_version = "1.1.0".into();
    point.event = "cmd.note".into();
    point.duration_ms = None;
    point.count = 5;
    let empty = ReportRow {
        event: "cmd.idle".into(),
        count: 0,
        duration_ms: Some(DurationHistogram {
            sum: 0.0,
            min: 0.0,
            max: 0.0,
            buckets: vec![0; REPORT_DURATION_BOUNDS_MS.len() + 1],
        }),
        ..report.rows[0].clone()
    };
    report.rows.extend([error, other, point, empty]);
    report
}
