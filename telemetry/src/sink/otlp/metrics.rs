//! A [`Report`] as one OTLP metrics export (`OtlpSink::emit_report`). The mapping is
//! written down in `docs/delivery.md`, "Reports over OTLP metrics", and on `OtlpSink`.

use std::collections::BTreeMap;

use super::logs::millis_to_nanos;
use super::wire::common::{AnyValue, InstrumentationScope, KeyValue, Resource};
use super::wire::metrics::{
    ExportMetricsServiceRequest, Histogram, HistogramDataPoint, Metric, MetricData,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, TEMPORALITY_DELTA,
};
use crate::error::TelemetryError;
use crate::report::{REPORT_DURATION_BOUNDS_MS, Report, ReportRow};
use crate::util::time::days_of_date;

/// The count of calls per row.
pub(super) const CALLS_METRIC: &str = "telemetry.calls";
/// The duration histogram per row.
pub(super) const DURATION_METRIC: &str = "telemetry.duration";
/// Before each attribute's key on a data point.
const ATTR_PREFIX: &str = "attrs.";

/// OpenTelemetry's `os.type` value for Rust's `std::env::consts::OS` (the semantic
/// conventions' well-known values; any other name passes unchanged).
pub(crate) fn semconv_os(os: &str) -> &str {
    match os {
        "macos" | "ios" => "darwin",
        "dragonfly" => "dragonflybsd",
        "illumos" => "solaris",
        other => other,
    }
}

/// OpenTelemetry's `host.arch` value for Rust's `std::env::consts::ARCH`.
pub(crate) fn semconv_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "arm" => "arm32",
        "powerpc" => "ppc32",
        "powerpc64" => "ppc64",
        other => other,
    }
}

/// 00:00 UTC of a `YYYY-MM-DD` date (exactly that form, from 1970 on), in
/// nanoseconds since the Unix epoch.
fn midnight_utc(date: &str) -> Option<u64> {
    days_of_date(date).map(|days| millis_to_nanos(days.saturating_mul(86_400_000)))
}

/// The period's start and end, or an error naming them (a report the library made
/// always has two valid dates, the end after the start).
fn period_nanos(report: &Report) -> Result<(u64, u64), TelemetryError> {
    match (
        midnight_utc(&report.period_start),
        midnight_utc(&report.period_end),
    ) {
        (Some(start), Some(end)) if start < end => Ok((start, end)),
        _ => Err(TelemetryError::Serde {
            what: "the report's period",
            reason: format!(
                "period_start {:?} and period_end {:?} are not two dates YYYY-MM-DD, the end after the start",
                report.period_start, report.period_end
            ),
        }),
    }
}

/// The attributes of a row's data points.
fn row_attributes(row: &ReportRow) -> Vec<KeyValue<'_>> {
    let mut attributes = vec![
        KeyValue::new("event", AnyValue::str(&row.event)),
        KeyValue::new("outcome", AnyValue::str(row.outcome.as_str())),
    ];
    if let Some(kind) = &row.error_kind {
        attributes.push(KeyValue::new("error_kind", AnyValue::str(kind)));
    }
    for (key, value) in &row.attrs {
        attributes.push(KeyValue::new(
            format!("{ATTR_PREFIX}{key}"),
            AnyValue::from_attr(value),
        ));
    }
    if row.other {
        attributes.push(KeyValue::new("_other", AnyValue::Bool(true)));
    }
    attributes
}

/// The histogram point of a row with durations; `None` without, or if its bucket
/// counts do not match the bounds (a report the library made always does).
fn histogram_point(row: &ReportRow, start: u64, end: u64) -> Option<HistogramDataPoint<'_>> {
    let durations = row.duration_ms.as_ref()?;
    if durations.buckets.len() != REPORT_DURATION_BOUNDS_MS.len() + 1 {
        return None;
    }
    let count = durations
        .buckets
        .iter()
        .fold(0_u64, |total, &n| total.saturating_add(n));
    Some(HistogramDataPoint {
        attributes: row_attributes(row),
        start_time_unix_nano: start,
        time_unix_nano: end,
        count,
        sum: Some(durations.sum),
        // Min and max mean nothing for an empty histogram.
        min: (count > 0).then_some(durations.min),
        max: (count > 0).then_some(durations.max),
        bucket_counts: &durations.buckets,
        explicit_bounds: &REPORT_DURATION_BOUNDS_MS,
    })
}

/// The metrics of the rows of one tool version.
fn metrics<'r>(rows: &[&'r ReportRow], start: u64, end: u64) -> Vec<Metric<'r>> {
    let calls = rows
        .iter()
        .map(|row| NumberDataPoint {
            attributes: row_attributes(row),
            start_time_unix_nano: start,
            time_unix_nano: end,
            // A count past `i64::MAX` calls in one period does not happen; saturate.
            as_int: i64::try_from(row.count).unwrap_or(i64::MAX),
        })
        .collect();
    let mut metrics = vec![Metric {
        name: CALLS_METRIC,
        description: "Tracked calls in the period, per event, outcome, error kind and attributes",
        unit: "{call}",
        data: MetricData::Sum(Sum {
            data_points: calls,
            aggregation_temporality: TEMPORALITY_DELTA,
            is_monotonic: true,
        }),
    }];
    let durations: Vec<_> = rows
        .iter()
        .filter_map(|row| histogram_point(row, start, end))
        .collect();
    // Point events only (no durations): no histogram rather than an empty one.
    if !durations.is_empty() {
        metrics.push(Metric {
            name: DURATION_METRIC,
            description: "Durations of the tracked calls in the period",
            unit: "ms",
            data: MetricData::Histogram(Histogram {
                data_points: durations,
                aggregation_temporality: TEMPORALITY_DELTA,
            }),
        });
    }
    metrics
}

/// The export request of a report: one resource per tool version (ordered by the string),
/// its rows in report order.
pub(super) fn export_request(
    report: &Report,
) -> Result<ExportMetricsServiceRequest<'_>, TelemetryError> {
    let (start, end) = period_nanos(report)?;
    let mut by_version: BTreeMap<&str, Vec<&ReportRow>> = BTreeMap::new();
    for row in &report.rows {
        by_version.entry(&row.tool_version).or_default().push(row);
    }
    let resource_metrics = by_version
        .into_iter()
        .map(|(version, rows)| ResourceMetrics {
            resource: Resource {
                attributes: vec![
                    KeyValue::new("service.name", AnyValue::str(&report.tool)),
                    KeyValue::new("service.version", AnyValue::str(version)),
                    KeyValue::new("os.type", AnyValue::str(semconv_os(&report.os))),
                    KeyValue::new("host.arch", AnyValue::str(semconv_arch(&report.arch))),
                ],
            },
            scope_metrics: vec![ScopeMetrics {
                scope: InstrumentationScope::TELEMETRY,
                metrics: metrics(&rows, start, end),
            }],
        })
        .collect();
    Ok(ExportMetricsServiceRequest { resource_metrics })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_and_arch_take_opentelemetry_values() {
        assert_eq!(semconv_os("macos"), "darwin");
        assert_eq!(semconv_os("linux"), "linux");
        assert_eq!(semconv_os("windows"), "windows");
        assert_eq!(semconv_arch("x86_64"), "amd64");
        assert_eq!(semconv_arch("aarch64"), "arm64");
        assert_eq!(
            semconv_arch("riscv64"),
            "riscv64",
            "no well-known value: unchanged"
        );
    }

    fn attr<'a>(attributes: &'a [KeyValue<'a>], key: &str) -> Option<&'a AnyValue<'a>> {
        attributes
            .iter()
            .find(|kv| kv.key == key)
            .map(|kv| &kv.value)
    }

    #[test]
    fn dates_are_midnight_utc_and_nonsense_is_refused() {
        assert_eq!(midnight_utc("1970-01-01"), Some(0));
        // 2026-11-23: 20 780 days after the epoch.
        assert_eq!(
            midnight_utc("2026-11-23"),
            Some(20_780 * 86_400 * 1_000_000_000)
        );
        // Past what `u64` nanoseconds hold: saturated, as the period check then refuses.
        assert_eq!(midnight_utc("9999-12-31"), Some(u64::MAX));
        for bad in [
            "",
            "2026-11-3",
            "2026-02-30",
            "2026-13-01",
            "2026-11-23T01:00:00Z",
            "yesterday!",
            "1969-12-31",
        ] {
            assert_eq!(midnight_utc(bad), None, "{bad:?}");
        }
        let mut report = Report::example();
        report.period_end = report.period_start.clone();
        let err = export_request(&report).unwrap_err();
        assert!(!err.is_retryable(), "{err:?}");
        report.period_end = "2026-11-99".into();
        assert!(export_request(&report).is_err());
    }

    #[test]
    fn one_resource_per_version_with_calls_and_durations() {
        let report = crate::sink::otlp::golden::report();
        let request = export_request(&report).unwrap();
        let versions: Vec<_> = request
            .resource_metrics
            .iter()
            .map(|rm| attr(&rm.resource.attributes, "service.version"))
            .collect();
        assert_eq!(
            versions,
            [Some(&AnyValue::str("1.0.0")), Some(&AnyValue::str("1.1.0"))]
        );
        let second = &request.resource_metrics[1].scope_metrics[0].metrics;
        let MetricData::Sum(calls) = &second[0].data else {
            panic!("{second:?}")
        };
        assert_eq!(calls.data_points.len(), 3);
        let error = &calls.data_points[0].attributes;
        assert_eq!(attr(error, "error_kind"), Some(&AnyValue::str("not_found")));
        assert_eq!(attr(error, "attrs.jobs"), Some(&AnyValue::Int(-4)));
        assert_eq!(
            attr(error, "attrs.big"),
            Some(&AnyValue::String(u64::MAX.to_string().into()))
        );
        assert_eq!(attr(error, "attrs.ratio"), Some(&AnyValue::Double(0.5)));
        assert_eq!(attr(error, "_other"), None);
        assert_eq!(
            attr(&calls.data_points[1].attributes, "_other"),
            Some(&AnyValue::Bool(true))
        );
        assert_eq!(calls.data_points[2].as_int, 5);
        let MetricData::Histogram(durations) = &second[1].data else {
            panic!("{second:?}")
        };
        assert_eq!(
            durations.data_points.len(),
            2,
            "the point event has no histogram point"
        );
    }

    #[test]
    fn a_report_of_point_events_has_no_histogram_and_bad_buckets_are_left_out() {
        let mut report = Report::example();
        report.rows[0].duration_ms = None;
        let request = export_request(&report).unwrap();
        let metrics = &request.resource_metrics[0].scope_metrics[0].metrics;
        assert_eq!(metrics.len(), 1);
        assert_eq!(metrics[0].name, CALLS_METRIC);

        let mut report = Report::example();
        if let Some(h) = report.rows[0].duration_ms.as_mut() {
            h.buckets.pop();
        }
        let request = export_request(&report).unwrap();
        assert_eq!(
            request.resource_metrics[0].scope_metrics[0].metrics.len(),
            1
        );
    }

    #[test]
    fn an_empty_histogram_has_a_sum_but_no_min_or_max() {
        let report = crate::sink::otlp::golden::report();
        let request = export_request(&report).unwrap();
        let MetricData::Histogram(durations) =
            &request.resource_metrics[0].scope_metrics[0].metrics[1].data
        else {
            panic!("{request:?}")
        };
        let empty = &durations.data_points[1];
        assert_eq!(
            attr(&empty.attributes, "event"),
            Some(&AnyValue::str("cmd.idle"))
        );
        assert_eq!(
            (empty.count, empty.sum, empty.min, empty.max),
            (0, Some(0.0), None, None)
        );
    }
}
