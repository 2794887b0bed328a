//! `telemetry report [--json]`: the reports kept on this machine, newest period
//! first: a table per period (one line per event: runs, error rate, p50 and p95
//! duration), or each report's JSON exactly as `HttpSink` would upload it.

use std::collections::BTreeMap;
use std::io::Write;

use crate::context::TelemetryContext;
use crate::error::TelemetryError;
use crate::event::Outcome;
use crate::report::{DurationHistogram, Report, StoredReport};

fn io(e: std::io::Error) -> TelemetryError {
    TelemetryError::io("write to", "stdout", e)
}

pub(super) fn run(
    ctx: &TelemetryContext,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), TelemetryError> {
    let reports = ctx.reports()?;
    if json {
        for stored in reports.iter().flatten() {
            out.write_all(&stored.report.to_json()).map_err(io)?;
            out.write_all(b"\n").map_err(io)?;
        }
        return out.flush().map_err(io);
    }
    if reports.is_empty() {
        writeln!(
            out,
            "No report kept on this machine{}.",
            match ctx.level() {
                crate::consent::Level::Off => " (telemetry is off: nothing is recorded)",
                _ => " yet",
            }
        )
        .map_err(io)?;
        return out.flush().map_err(io);
    }
    let now = ctx.report_now();
    for (i, entry) in reports.iter().enumerate() {
        if i > 0 {
            writeln!(out).map_err(io)?;
        }
        match entry {
            Ok(stored) => table(stored, now, out)?,
            Err(reason) => writeln!(out, "unreadable report: {reason}").map_err(io)?,
        }
    }
    out.flush().map_err(io)
}

/// One event's line: its rows added up.
#[derive(Default)]
struct Line {
    runs: u64,
    errors: u64,
    durations: Option<DurationHistogram>,
}

fn add(into: &mut Option<DurationHistogram>, h: &DurationHistogram) {
    match into {
        None => *into = Some(h.clone()),
        Some(a) => {
            a.sum += h.sum;
            a.min = a.min.min(h.min);
            a.max = a.max.max(h.max);
            for (x, y) in a.buckets.iter_mut().zip(&h.buckets) {
                *x = x.saturating_add(*y);
            }
        }
    }
}

fn lines(report: &Report) -> BTreeMap<&str, Line> {
    let mut lines: BTreeMap<&str, Line> = BTreeMap::new();
    for row in &report.rows {
        let line = lines.entry(&row.event).or_default();
        line.runs = line.runs.saturating_add(row.count);
        if row.outcome != Outcome::Ok {
            line.errors = line.errors.saturating_add(row.count);
        }
        if let Some(h) = &row.duration_ms {
            add(&mut line.durations, h);
        }
    }
    lines
}

fn ms(value: f64) -> String {
    if value >= 1000.0 {
        format!("{:.1} s", value / 1000.0)
    } else if value >= 10.0 {
        format!("{value:.0} ms")
    } else {
        format!("{value:.1} ms")
    }
}

fn table(
    stored: &StoredReport,
    now: std::time::SystemTime,
    out: &mut dyn Write,
) -> Result<(), TelemetryError> {
    let r = &stored.report;
    writeln!(
        out,
        "{} {} from {} to {} (exclusive), level {}: {}",
        r.tool,
        r.period,
        r.period_start,
        r.period_end,
        stored.level,
        stored.upload_state(now)
    )
    .map_err(io)?;
    let header = ["event", "runs", "not ok", "p50", "p95"];
    let rows: Vec<[String; 5]> = lines(r)
        .into_iter()
        .map(|(event, line)| {
            let rate = if line.runs == 0 {
                0.0
            } else {
                line.errors as f64 * 100.0 / line.runs as f64
            };
            let (p50, p95) = line
                .durations
                .as_ref()
                .map_or(("-".into(), "-".into()), |h| {
                    (ms(h.quantile(0.5)), ms(h.quantile(0.95)))
                });
            [
                event.to_owned(),
                line.runs.to_string(),
                format!("{rate:.1}%"),
                p50,
                p95,
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let print = |out: &mut dyn Write, cells: [&str; 5]| -> Result<(), TelemetryError> {
        let mut text = format!("  {:<w$}", cells[0], w = widths[0]);
        for (cell, w) in cells[1..].iter().zip(&widths[1..]) {
            text.push_str(&format!("  {cell:>w$}"));
        }
        writeln!(out, "{}", text.trim_end()).map_err(io)
    };
    print(out, header)?;
    for row in &rows {
        print(out, [&row[0], &row[1], &row[2], &row[3], &row[4]])?;
    }
    let other: u64 = r
        .rows
        .iter()
        .filter(|row| row.other)
        .map(|row| row.count)
        .sum();
    if other > 0 {
        writeln!(
            out,
            "  ({other} run(s) with attribute values past the report's limit are counted in `_other` rows)"
        )
        .map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_lists_each_event_with_its_runs_and_quantiles() {
        let stored = StoredReport::example();
        let mut out = Vec::new();
        table(&stored, std::time::SystemTime::UNIX_EPOCH, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("mytool week from 2026-11-23 to 2026-11-30"),
            "{text}"
        );
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("cmd.build"))
            .unwrap();
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&cells[..3], ["cmd.build", "3", "0.0%"], "{line}");
    }
}
