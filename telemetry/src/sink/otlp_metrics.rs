//! A [`Report`] as one OTLP metrics export (`OtlpSink::emit_report`), built with the
//! generated types of `opentelemetry-proto`. The mapping is written down in
//! `docs/delivery.md`, "Reports over OTLP metrics", and on `OtlpSink`.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::{attr_value, key_value, string, unix_nanos};
use crate::error::TelemetryError;
use crate::report::{REPORT_DURATION_BOUNDS_MS, Report, ReportRow};

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

/// 00:00 UTC of a `YYYY-MM-DD` date, in nanoseconds since the Unix epoch.
fn midnight_utc(date: &str) -> Option<u64> {
    // The length first: humantime would take a time or a fraction after the date.
    if date.len() != 10 {
        return None;
    }
    humantime::parse_rfc3339(&format!("{date}T00:00:00Z"))
        .ok()
        .map(unix_nanos)
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

fn bool_value(b: bool) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::BoolValue(b)),
    })
}

/// The attributes of a row's data points.
fn row_attributes(row: &ReportRow) -> Vec<KeyValue> {
    let mut attributes = vec![
        key_value("event", string(&row.event)),
        key_value("outcome", string(row.outcome.as_str())),
    ];
    if let Some(kind) = &row.error_kind {
        attributes.push(key_value("error_kind", string(kind)));
    }
    for (key, value) in &row.attrs {
        attributes.push(key_value(format!("{ATTR_PREFIX}{key}"), attr_value(value)));
    }
    if row.other {
        attributes.push(key_value("_other", bool_value(true)));
    }
    attributes
}

/// The histogram point of a row with durations; `None` without, or if its bucket
/// counts do not match the bounds (a report the library made always does).
fn histogram_point(row: &ReportRow, start: u64, end: u64) -> Option<HistogramDataPoint> {
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
        bucket_counts: durations.buckets.clone(),
        explicit_bounds: REPORT_DURATION_BOUNDS_MS.to_vec(),
        ..Default::default()
    })
}

/// The metrics of the rows of one tool version.
fn metrics(rows: &[&ReportRow], start: u64, end: u64) -> Vec<Metric> {
    let calls = rows
        .iter()
        .map(|row| NumberDataPoint {
            attributes: row_attributes(row),
            start_time_unix_nano: start,
            time_unix_nano: end,
            // A count past `i64::MAX` calls in one period does not happen; saturate.
            value: Some(number_data_point::Value::AsInt(
                i64::try_from(row.count).unwrap_or(i64::MAX),
            )),
            ..Default::default()
        })
        .collect();
    let mut metrics = vec![Metric {
        name: CALLS_METRIC.to_owned(),
        description: "Tracked calls in the period, per event, outcome, error kind and attributes"
            .to_owned(),
        unit: "{call}".to_owned(),
        data: Some(metric::Data::Sum(Sum {
            data_points: calls,
            aggregation_temporality: AggregationTemporality::Delta as i32,
            is_monotonic: true,
        })),
        ..Default::default()
    }];
    let durations: Vec<_> = rows
        .iter()
        .filter_map(|row| histogram_point(row, start, end))
        .collect();
    // Point events only (no durations): no histogram rather than an empty one.
    if !durations.is_empty() {
        metrics.push(Metric {
            name: DURATION_METRIC.to_owned(),
            description: "Durations of the tracked calls in the period".to_owned(),
            unit: "ms".to_owned(),
            data: Some(metric::Data::Histogram(Histogram {
                data_points: durations,
                aggregation_temporality: AggregationTemporality::Delta as i32,
            })),
            ..Default::default()
        });
    }
    metrics
}

/// The export request of a report: one resource per tool version (ordered by the string),
/// its rows in report order.
pub(super) fn export_request(
    report: &Report,
) -> Result<ExportMetricsServiceRequest, TelemetryError> {
    let (start, end) = period_nanos(report)?;
    let mut by_version: BTreeMap<&str, Vec<&ReportRow>> = BTreeMap::new();
    for row in &report.rows {
        by_version.entry(&row.tool_version).or_default().push(row);
    }
    let resource_metrics = by_version
        .into_iter()
        .map(|(version, rows)| ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![
                    key_value("service.name", string(&report.tool)),
                    key_value("service.version", string(version)),
                    key_value("os.type", string(semconv_os(&report.os))),
                    key_value("host.arch", string(semconv_arch(&report.arch))),
                ],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "telemetry".to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    ..Default::default()
                }),
                metrics: metrics(&rows, start, end),
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    Ok(ExportMetricsServiceRequest { resource_metrics })
}

#[cfg(test)]
mod tests {
    use prost::Message;

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
    use crate::event::Outcome;
    use crate::value::AttrValue;

    /// `Report::example()` plus a second version with an error row, an overflow row and
    /// a point event.
    fn report() -> Report {
        let mut report = Report::example();
        let mut error = report.rows[0].clone();
        error.tool_version = "1.1.0".into();
        error.outcome = Outcome::Error;
        error.error_kind = Some("not_found".into());
        error.attrs = BTreeMap::from([
            ("jobs".to_owned(), AttrValue::Int(-4)),
            ("big".to_owned(), AttrValue::UInt(u64::MAX)),
            ("ratio".to_owned(), AttrValue::Float(0.5)),
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
        report.rows.extend([error, other, point]);
        report
    }

    fn attr<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
        attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref()?.value.as_ref())
    }

    #[test]
    fn dates_are_midnight_utc_and_nonsense_is_refused() {
        assert_eq!(midnight_utc("1970-01-01"), Some(0));
        // 2026-11-23: 20 780 days after the epoch.
        assert_eq!(
            midnight_utc("2026-11-23"),
            Some(20_780 * 86_400 * 1_000_000_000)
        );
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
        let request = export_request(&report()).unwrap();
        let decoded = ExportMetricsServiceRequest::decode(&*request.encode_to_vec()).unwrap();
        assert_eq!(decoded, request);
        let versions: Vec<_> = decoded
            .resource_metrics
            .iter()
            .map(|rm| attr(&rm.resource.as_ref().unwrap().attributes, "service.version").cloned())
            .collect();
        assert_eq!(
            versions,
            [
                Some(any_value::Value::StringValue("1.0.0".into())),
                Some(any_value::Value::StringValue("1.1.0".into()))
            ]
        );
        let second = &decoded.resource_metrics[1].scope_metrics[0].metrics;
        let Some(metric::Data::Sum(calls)) = &second[0].data else {
            panic!("{second:?}")
        };
        assert_eq!(calls.data_points.len(), 3);
        let error = &calls.data_points[0].attributes;
        assert_eq!(
            attr(error, "error_kind"),
            Some(&any_value::Value::StringValue("not_found".into()))
        );
        assert_eq!(
            attr(error, "attrs.jobs"),
            Some(&any_value::Value::IntValue(-4))
        );
        assert_eq!(
            attr(error, "attrs.big"),
            Some(&any_value::Value::StringValue(u64::MAX.to_string()))
        );
        assert_eq!(
            attr(error, "attrs.ratio"),
            Some(&any_value::Value::DoubleValue(0.5))
        );
        assert_eq!(attr(error, "_other"), None);
        assert_eq!(
            attr(&calls.data_points[1].attributes, "_other"),
            Some(&any_value::Value::BoolValue(true))
        );
        assert_eq!(
            calls.data_points[2].value,
            Some(number_data_point::Value::AsInt(5))
        );
        let Some(metric::Data::Histogram(durations)) = &second[1].data else {
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
}
