//! Reading report files back. Private on purpose, like the spool's reader: there is
//! no public `Deserialize` for a report (nor for `AttrValue`), so a report can only be
//! made by the library. A file whose names, keys or values break the rules an event is
//! made under, or whose histograms do not have the library's buckets, is refused.

use super::model::{
    DurationHistogram, REPORT_DURATION_BOUNDS_MS, REPORT_SCHEMA, Report, ReportRow,
};
use super::store::{StoredReport, well_formed};
use crate::consent::Level;
use crate::event::Outcome;
use crate::naming;
use crate::util::json::read::ParseError;
use crate::util::json::{self, Json, ObjectBuilder};

/// Rows a process could not fold into the report file (the lock was busy).
pub(super) struct Pending {
    pub(super) period_start: String,
    pub(super) period_end: String,
    pub(super) level: Level,
    pub(super) rows: Vec<ReportRow>,
}

impl Pending {
    pub(super) fn to_json(&self) -> Vec<u8> {
        ObjectBuilder::new()
            .field("period_start", self.period_start.as_str())
            .field("period_end", self.period_end.as_str())
            .field("level", self.level.as_str())
            .field("rows", rows_document(&self.rows))
            .build()
            .to_vec()
    }
}

impl StoredReport {
    /// The report file's text: `format`, `level`, `sent_at`, `not_sent`, `report`.
    pub(super) fn to_json(&self) -> Vec<u8> {
        ObjectBuilder::new()
            .field("format", self.format)
            .field("level", self.level.as_str())
            .field("sent_at", self.sent_at.as_deref())
            .field("not_sent", self.not_sent.as_deref())
            .field("report", self.report.to_document())
            .build()
            .to_vec()
    }
}

fn rows_document(rows: &[ReportRow]) -> Json {
    Json::Array(rows.iter().map(ReportRow::to_document).collect())
}

/// Why a file was refused.
#[derive(Debug)]
pub(super) enum Refused {
    Json(ParseError),
    /// JSON, but a field is missing or of the wrong type.
    Shape(&'static str),
    Rule(&'static str),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Json(e) => write!(f, "not a report file: {e}"),
            Self::Shape(field) => write!(f, "not a report file: `{field}` missing or not valid"),
            Self::Rule(what) => write!(f, "not a report file: {what}"),
        }
    }
}

/// A required field, read by `read`.
fn field<'j, T>(
    doc: &'j Json,
    name: &'static str,
    read: impl FnOnce(&'j Json) -> Option<T>,
) -> Result<T, Refused> {
    doc.field(name, read).map_err(Refused::Shape)
}

fn string(doc: &Json, name: &'static str) -> Result<String, Refused> {
    field(doc, name, Json::as_str).map(str::to_owned)
}

/// An optional field: absent or `null` is `None`.
fn optional<'j, T>(
    doc: &'j Json,
    name: &'static str,
    read: impl FnOnce(&'j Json) -> Option<T>,
) -> Result<Option<T>, Refused> {
    doc.optional_field(name, read).map_err(Refused::Shape)
}

fn level(doc: &Json) -> Result<Level, Refused> {
    field(doc, "level", |v| v.as_str().and_then(Level::from_name))
}

fn is_plain_word(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b))
}

fn row(w: &Json) -> Result<ReportRow, Refused> {
    let event = string(w, "event")?;
    if !naming::is_valid_event_name(&event) {
        return Err(Refused::Rule("an event name breaks the naming rules"));
    }
    let tool_version = string(w, "tool_version")?;
    if !is_plain_word(&tool_version) {
        return Err(Refused::Rule("a tool version breaks the rules"));
    }
    let outcome = field(w, "outcome", |v| v.as_str()?.parse::<Outcome>().ok())?;
    let error_kind = optional(w, "error_kind", |v| v.as_str().map(str::to_owned))?;
    if error_kind
        .as_deref()
        .is_some_and(|k| !naming::is_valid_str_value(k))
    {
        return Err(Refused::Rule("an error kind breaks the rules"));
    }
    let other = optional(w, "_other", Json::as_bool)?.unwrap_or(false);
    let attrs = match w.get("attrs") {
        None => Default::default(),
        Some(attrs) => crate::value::stored::checked(attrs).map_err(|rule| {
            Refused::Rule(match rule {
                "attribute key" => "an attribute key breaks the naming rules",
                "attributes" => "the attributes are not an object",
                _ => "an attribute value breaks the rules",
            })
        })?,
    };
    if other && !attrs.is_empty() {
        return Err(Refused::Rule("an `_other` row has attributes"));
    }
    let count = field(w, "count", Json::as_u64)?;
    let duration_ms = match optional(w, "duration_ms", Some)? {
        None => None,
        Some(h) => {
            let h = DurationHistogram {
                sum: field(h, "sum", Json::as_f64)?,
                min: field(h, "min", Json::as_f64)?,
                max: field(h, "max", Json::as_f64)?,
                buckets: field(h, "buckets", |b| {
                    b.as_array()?
                        .iter()
                        .map(Json::as_u64)
                        .collect::<Option<Vec<u64>>>()
                })?,
            };
            if !well_formed(&h) {
                return Err(Refused::Rule(
                    "a histogram does not have the library's buckets",
                ));
            }
            if h.min > h.max {
                return Err(Refused::Rule("a histogram's min is above its max"));
            }
            Some(h)
        }
    };
    Ok(ReportRow {
        event,
        tool_version,
        outcome,
        error_kind,
        attrs,
        other,
        count,
        duration_ms,
    })
}

fn rows(doc: &Json) -> Result<Vec<ReportRow>, Refused> {
    field(doc, "rows", Json::as_array)?
        .iter()
        .map(row)
        .collect()
}

/// A report file written by this library.
pub(super) fn stored_from_json(bytes: &[u8]) -> Result<StoredReport, Refused> {
    let w = json::parse(bytes).map_err(Refused::Json)?;
    let format = field(&w, "format", Json::as_u64)?;
    if format != 1 {
        return Err(Refused::Rule("a file format this version does not know"));
    }
    let level = level(&w)?;
    let sent_at = optional(&w, "sent_at", |v| v.as_str().map(str::to_owned))?;
    let not_sent = optional(&w, "not_sent", |v| v.as_str().map(str::to_owned))?;
    let r = field(&w, "report", Some)?;
    if string(r, "schema")? != REPORT_SCHEMA {
        return Err(Refused::Rule("a report schema this version does not know"));
    }
    let [tool, period, os, arch] = [
        string(r, "tool")?,
        string(r, "period")?,
        string(r, "os")?,
        string(r, "arch")?,
    ];
    for word in [&tool, &period, &os, &arch] {
        if !is_plain_word(word) {
            return Err(Refused::Rule("a header field breaks the rules"));
        }
    }
    let period_start = string(r, "period_start")?;
    let period_end = string(r, "period_end")?;
    if super::period::Span::parse(&period_start, &period_end).is_none() {
        return Err(Refused::Rule("the period is not a day or a week"));
    }
    if sent_at
        .as_deref()
        .is_some_and(|t| !crate::util::time::is_rfc3339_millis(t))
        || not_sent.as_deref().is_some_and(|t| !is_plain_word(t))
    {
        return Err(Refused::Rule("the upload state breaks the rules"));
    }
    Ok(StoredReport {
        format,
        level,
        sent_at,
        not_sent,
        report: Report {
            schema: REPORT_SCHEMA,
            tool,
            period,
            period_start,
            period_end,
            os,
            arch,
            duration_bounds_ms: REPORT_DURATION_BOUNDS_MS.to_vec(),
            rows: rows(r)?,
        },
    })
}

/// A pending-rows file written by this library.
pub(super) fn pending_from_json(bytes: &[u8]) -> Result<Pending, Refused> {
    let w = json::parse(bytes).map_err(Refused::Json)?;
    Ok(Pending {
        period_start: string(&w, "period_start")?,
        period_end: string(&w, "period_end")?,
        level: level(&w)?,
        rows: rows(&w)?,
    })
}
