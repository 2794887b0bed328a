//! Reading report files back. Private on purpose, like the spool's reader: there is
//! no public `Deserialize` for a report (nor for `AttrValue`), so a report can only be
//! made by the library. A file whose names, keys or values break the rules an event is
//! made under, or whose histograms do not have the library's buckets, is refused.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::{
    DurationHistogram, REPORT_DURATION_BOUNDS_MS, REPORT_SCHEMA, Report, ReportRow,
};
use super::store::{StoredReport, well_formed};
use crate::consent::Level;
use crate::event::Outcome;
use crate::naming;
use crate::value::stored::StoredValue;

/// Rows a process could not fold into the report file (the lock was busy).
#[derive(Serialize)]
pub(super) struct Pending {
    pub(super) period_start: String,
    pub(super) period_end: String,
    pub(super) level: Level,
    pub(super) rows: Vec<ReportRow>,
}

#[derive(Deserialize)]
struct WirePending {
    period_start: String,
    period_end: String,
    level: Level,
    rows: Vec<WireRow>,
}

#[derive(Deserialize)]
struct WireStored {
    format: u64,
    level: Level,
    #[serde(default)]
    sent_at: Option<String>,
    #[serde(default)]
    not_sent: Option<String>,
    report: WireReport,
}

#[derive(Deserialize)]
struct WireReport {
    schema: String,
    tool: String,
    period: String,
    period_start: String,
    period_end: String,
    os: String,
    arch: String,
    rows: Vec<WireRow>,
}

#[derive(Deserialize)]
struct WireRow {
    event: String,
    tool_version: String,
    outcome: Outcome,
    #[serde(default)]
    error_kind: Option<String>,
    #[serde(default)]
    attrs: BTreeMap<String, StoredValue>,
    #[serde(default, rename = "_other")]
    other: bool,
    count: u64,
    #[serde(default)]
    duration_ms: Option<WireHistogram>,
}

#[derive(Deserialize)]
struct WireHistogram {
    sum: f64,
    min: f64,
    max: f64,
    buckets: Vec<u64>,
}

/// Why a file was refused.
#[derive(Debug)]
pub(super) enum Refused {
    Json(serde_json::Error),
    Rule(&'static str),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Json(e) => write!(f, "not a report file: {e}"),
            Self::Rule(what) => write!(f, "not a report file: {what}"),
        }
    }
}

fn is_plain_word(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b))
}

fn row(w: WireRow) -> Result<ReportRow, Refused> {
    if !naming::is_valid_event_name(&w.event) {
        return Err(Refused::Rule("an event name breaks the naming rules"));
    }
    if !is_plain_word(&w.tool_version) {
        return Err(Refused::Rule("a tool version breaks the rules"));
    }
    if w.error_kind
        .as_deref()
        .is_some_and(|k| !naming::is_valid_str_value(k))
    {
        return Err(Refused::Rule("an error kind breaks the rules"));
    }
    if w.other && !w.attrs.is_empty() {
        return Err(Refused::Rule("an `_other` row has attributes"));
    }
    let attrs = crate::value::stored::checked(w.attrs).map_err(|rule| {
        Refused::Rule(if rule == "attribute key" {
            "an attribute key breaks the naming rules"
        } else {
            "an attribute value breaks the rules"
        })
    })?;
    let duration_ms = match w.duration_ms {
        None => None,
        Some(h) => {
            let h = DurationHistogram {
                sum: h.sum,
                min: h.min,
                max: h.max,
                buckets: h.buckets,
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
        event: w.event,
        tool_version: w.tool_version,
        outcome: w.outcome,
        error_kind: w.error_kind,
        attrs,
        other: w.other,
        count: w.count,
        duration_ms,
    })
}

fn rows(rows: Vec<WireRow>) -> Result<Vec<ReportRow>, Refused> {
    rows.into_iter().map(row).collect()
}

/// A report file written by this library.
pub(super) fn stored_from_json(bytes: &[u8]) -> Result<StoredReport, Refused> {
    let w: WireStored = serde_json::from_slice(bytes).map_err(Refused::Json)?;
    if w.format != 1 {
        return Err(Refused::Rule("a file format this version does not know"));
    }
    if w.report.schema != REPORT_SCHEMA {
        return Err(Refused::Rule("a report schema this version does not know"));
    }
    let r = w.report;
    for word in [&r.tool, &r.period, &r.os, &r.arch] {
        if !is_plain_word(word) {
            return Err(Refused::Rule("a header field breaks the rules"));
        }
    }
    if super::period::Span::parse(&r.period_start, &r.period_end).is_none() {
        return Err(Refused::Rule("the period is not a day or a week"));
    }
    if w.sent_at
        .as_deref()
        .is_some_and(|t| !crate::util::time::is_rfc3339_millis(t))
        || w.not_sent.as_deref().is_some_and(|t| !is_plain_word(t))
    {
        return Err(Refused::Rule("the upload state breaks the rules"));
    }
    Ok(StoredReport {
        format: w.format,
        level: w.level,
        sent_at: w.sent_at,
        not_sent: w.not_sent,
        report: Report {
            schema: REPORT_SCHEMA,
            tool: r.tool,
            period: r.period,
            period_start: r.period_start,
            period_end: r.period_end,
            os: r.os,
            arch: r.arch,
            duration_bounds_ms: REPORT_DURATION_BOUNDS_MS.to_vec(),
            rows: rows(r.rows)?,
        },
    })
}

/// A pending-rows file written by this library.
pub(super) fn pending_from_json(bytes: &[u8]) -> Result<Pending, Refused> {
    let w: WirePending = serde_json::from_slice(bytes).map_err(Refused::Json)?;
    Ok(Pending {
        period_start: w.period_start,
        period_end: w.period_end,
        level: w.level,
        rows: rows(w.rows)?,
    })
}
