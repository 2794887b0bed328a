//! Reports (report mode) through the network sinks, against a real HTTP server on
//! 127.0.0.1 (`delivery_support`): `HttpSink` posts the report's JSON to its endpoint,
//! `OtlpSink` one OTLP/HTTP metrics export to `/v1/metrics`, decoded here with the
//! official definitions (prost for protobuf, serde for the JSON encoding), and both
//! answer refusals exactly as they answer event batches. `PostHogSink` refuses reports.
//!
//! `OTLP_METRICS_CAPTURE=<path>`: the protobuf test also writes the body it received
//! to `<path>`, for the check with Python's `opentelemetry-proto` (tests/python/run.sh).
#![cfg(all(
    feature = "reports",
    feature = "collect",
    any(feature = "http", feature = "otlp", feature = "posthog")
))]

mod delivery_support;
#[cfg(feature = "otlp")]
mod otlp_support;

use std::future::Future;
use std::time::Duration;

use delivery_support::{Reply, Server};
use telemetry::sink::TelemetrySink;
use telemetry::{AttrValue, Event, Outcome, Report, TelemetryError};

/// Drives a sink's future to its end (the sinks need no reactor: each request runs on a
/// thread of its own).
fn run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

#[derive(telemetry::SafeValue)]
enum Profile {
    Ci,
}

/// A string attribute value (made by the library only: through an event).
fn text(value: Profile) -> AttrValue {
    Event::new("cmd.x", "mytool", "1.0.0", "m")
        .with_attr("v", value)
        .attr("v")
        .cloned()
        .unwrap()
}

/// `Report::example()` (one row of version 1.0.0, `release = true`, 3 calls with
/// durations) and three rows of version 1.1.0: an error with an error kind and one
/// attribute of every type (an unsigned one past `i64::MAX`), the overflow row, and a
/// point event without durations.
fn report() -> Report {
    let mut report = Report::example();
    let base = report.rows[0].clone();

    let mut error = base.clone();
    error.tool_version = "1.1.0".into();
    error.outcome = Outcome::Error;
    error.error_kind = Some("not_found".into());
    error.attrs = [
        ("jobs".to_owned(), AttrValue::from(8_i64)),
        ("big".to_owned(), AttrValue::from(u64::MAX)),
        ("ratio".to_owned(), AttrValue::from(0.25)),
        ("profile".to_owned(), text(Profile::Ci)),
    ]
    .into();
    error.count = 2;
    let mut durations = base.duration_ms.clone().unwrap();
    durations.buckets = vec![0; telemetry::REPORT_DURATION_BOUNDS_MS.len() + 1];
    durations.buckets[0] = 1;
    durations.buckets[21] = 1;
    (durations.sum, durations.min, durations.max) = (2_000_000.5, 0.5, 2_000_000.0);
    error.duration_ms = Some(durations);

    let mut other = base.clone();
    other.tool_version = "1.1.0".into();
    other.attrs.clear();
    other.other = true;
    other.count = 7;
    let mut durations = base.duration_ms.clone().unwrap();
    durations.buckets = vec![0; telemetry::REPORT_DURATION_BOUNDS_MS.len() + 1];
    durations.buckets[4] = 7;
    (durations.sum, durations.min, durations.max) = (80.0, 9.0, 15.5);
    other.duration_ms = Some(durations);

    let mut point = base;
    point.tool_version = "1.1.0".into();
    point.event = "cmd.note".into();
    point.attrs.clear();
    point.count = 4;
    point.duration_ms = None;

    report.rows.extend([error, other, point]);
    report
}

/// A report error's classification: status, retryable, Retry-After.
#[cfg(any(feature = "http", feature = "otlp"))]
fn classified(result: Result<(), TelemetryError>) -> (Option<u16>, bool, Option<Duration>) {
    match result {
        Err(TelemetryError::Http {
            status,
            retryable,
            retry_after,
            ..
        }) => (status, retryable, retry_after),
        other => panic!("not an HTTP error: {other:?}"),
    }
}

/// The answers whose classification is checked, and what each must give.
#[cfg(any(feature = "http", feature = "otlp"))]
const ANSWERS: [(Reply, Option<u16>, bool, Option<Duration>); 6] = [
    (Reply::Status(500), Some(500), true, None),
    (Reply::Status(400), Some(400), false, None),
    (Reply::Status(429), Some(429), true, None),
    (Reply::Status(408), Some(408), true, None),
    (
        Reply::RetryAfter(503, "120"),
        Some(503),
        true,
        Some(Duration::from_secs(120)),
    ),
    // A refusal asks for no later attempt, whatever its Retry-After.
    (Reply::RetryAfter(400, "120"), Some(400), false, None),
];

/// For each answer: the report and a batch of one event get the same error, and it is
/// the expected one; each got exactly one request.
#[cfg(any(feature = "http", feature = "otlp"))]
fn same_answers_as_batches(sink: &dyn TelemetrySink, server: &Server) {
    let event = Event::new("cmd.build", "mytool", "1.0.0", "m1");
    let report = report();
    for (reply, status, retryable, retry_after) in ANSWERS {
        let before = server.requests().len();
        server.set_default(reply);
        let for_report = classified(run(sink.emit_report(&report)));
        let for_batch = classified(run(sink.emit_batch(std::slice::from_ref(&event))));
        assert_eq!(for_report, (status, retryable, retry_after), "{reply:?}");
        assert_eq!(for_report, for_batch, "{reply:?}: report and batch differ");
        assert_eq!(
            server.requests().len(),
            before + 2,
            "{reply:?}: one request each"
        );
    }
    server.set_default(Reply::Status(200));
    run(sink.emit_report(&report)).unwrap();
}

#[cfg(feature = "http")]
mod http {
    use super::*;
    use telemetry::sink::HttpSink;

    fn sink(server: &Server) -> HttpSink {
        HttpSink::builder(&server.url("/v1/events"))
            .allow_insecure_http(true)
            .api_key("x-api-key", "k-secret")
            .header("x-tenant", "tools")
            .build()
            .unwrap()
    }

    #[test]
    fn a_report_is_one_post_of_its_json_to_the_endpoint_with_the_batches_headers() {
        let server = Server::start(Reply::Status(200));
        let sink = sink(&server);
        assert!(sink.takes_reports());
        let report = report();
        run(sink.emit_report(&report)).unwrap();
        run(sink.emit_batch(&[Event::new("cmd.build", "mytool", "1.0.0", "m1")])).unwrap();

        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        let (sent, batch) = (&requests[0], &requests[1]);
        assert_eq!(sent.method, "POST");
        assert_eq!(sent.path, "/v1/events");
        assert_eq!(sent.header("content-type"), Some("application/json"));
        assert_eq!(
            sent.header("content-length"),
            Some(sent.body.len().to_string().as_str())
        );
        for name in ["x-api-key", "x-tenant", "user-agent", "authorization"] {
            assert_eq!(sent.header(name), batch.header(name), "{name}");
        }
        assert_eq!(sent.header("x-api-key"), Some("k-secret"));
        assert_eq!(sent.header("x-tenant"), Some("tools"));

        let expected: serde_json::Value = serde_json::from_slice(&report.to_json()).unwrap();
        assert_eq!(sent.json(), expected);
        // One object, not a batch's array; every row, the overflow marker included.
        assert_eq!(sent.json()["schema"], "telemetry-report/1");
        assert_eq!(sent.json()["rows"].as_array().unwrap().len(), 4);
        assert_eq!(sent.json()["rows"][2]["_other"], true);
        assert!(batch.json().is_array());
    }

    #[test]
    fn a_refused_report_is_classified_as_a_batch_is() {
        let server = Server::start(Reply::Status(200));
        same_answers_as_batches(&sink(&server), &server);
    }
}

#[cfg(feature = "otlp")]
mod otlp {
    use std::collections::{BTreeMap, BTreeSet};

    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    use opentelemetry_proto::tonic::metrics::v1::{
        AggregationTemporality, metric::Data, number_data_point,
    };
    use prost::Message;
    use telemetry::ReportRow;

    use crate::otlp_support::{attrs, expected_value, s};
    use telemetry::sink::{OtlpEncoding, OtlpSink};

    use super::*;

    /// 2026-11-23 and 2026-11-30, 00:00 UTC (the example report's week), in ns.
    const START: u64 = 1_795_392_000 * 1_000_000_000;
    const END: u64 = 1_795_996_800 * 1_000_000_000;

    fn sink(server: &Server, path: &str, encoding: OtlpEncoding) -> OtlpSink {
        OtlpSink::builder(&server.url(path))
            .allow_insecure_http(true)
            .api_key("authorization", "Bearer k-otlp")
            .encoding(encoding)
            .build()
            .unwrap()
    }

    /// The attributes a row's points must have, from the report's own fields.
    fn expected_attrs(row: &ReportRow) -> BTreeMap<String, Value> {
        let mut map = BTreeMap::from([
            ("event".to_owned(), s(&row.event)),
            ("outcome".to_owned(), s(row.outcome.as_str())),
        ]);
        if let Some(kind) = &row.error_kind {
            map.insert("error_kind".into(), s(kind));
        }
        for (key, value) in &row.attrs {
            map.insert(format!("attrs.{key}"), expected_value(value));
        }
        if row.other {
            map.insert("_other".into(), Value::BoolValue(true));
        }
        map
    }

    /// Every mapped field of the export against the report.
    fn check(request: &ExportMetricsServiceRequest, report: &Report) {
        let versions: BTreeSet<&str> = report.rows.iter().map(|r| &*r.tool_version).collect();
        assert_eq!(request.resource_metrics.len(), versions.len());
        let mut calls_total = 0;
        for (rm, version) in request.resource_metrics.iter().zip(versions) {
            assert_eq!(
                attrs(&rm.resource.as_ref().unwrap().attributes),
                BTreeMap::from([
                    ("service.name".to_owned(), s(&report.tool)),
                    ("service.version".to_owned(), s(version)),
                    // OpenTelemetry's values, not Rust's (`Report::example` is linux/x86_64).
                    ("os.type".to_owned(), s("linux")),
                    ("host.arch".to_owned(), s("amd64")),
                ])
            );
            assert_eq!(rm.schema_url, "");
            assert_eq!(rm.scope_metrics.len(), 1);
            assert_eq!(rm.scope_metrics[0].schema_url, "");
            let scope = rm.scope_metrics[0].scope.as_ref().unwrap();
            assert!(scope.attributes.is_empty());
            // The workspace's crates share one version.
            assert_eq!(
                (&*scope.name, &*scope.version),
                ("telemetry", env!("CARGO_PKG_VERSION"))
            );
            let rows: Vec<&ReportRow> = report
                .rows
                .iter()
                .filter(|r| r.tool_version == version)
                .collect();
            let timed: Vec<&ReportRow> = rows
                .iter()
                .copied()
                .filter(|r| r.duration_ms.is_some())
                .collect();
            let metrics = &rm.scope_metrics[0].metrics;
            let names: Vec<&str> = metrics.iter().map(|m| &*m.name).collect();
            if timed.is_empty() {
                assert_eq!(names, ["telemetry.calls"]);
            } else {
                assert_eq!(names, ["telemetry.calls", "telemetry.duration"]);
            }

            assert_eq!(metrics[0].unit, "{call}");
            assert_eq!(
                metrics[0].description,
                "Tracked calls in the period, per event, outcome, error kind and attributes"
            );
            assert!(metrics.iter().all(|m| m.metadata.is_empty()));
            let Some(Data::Sum(sum)) = &metrics[0].data else {
                panic!("telemetry.calls is not a Sum: {:?}", metrics[0].data)
            };
            assert!(sum.is_monotonic);
            assert_eq!(
                sum.aggregation_temporality,
                AggregationTemporality::Delta as i32
            );
            assert_eq!(sum.data_points.len(), rows.len());
            for (point, row) in sum.data_points.iter().zip(&rows) {
                assert_eq!(
                    point.value,
                    Some(number_data_point::Value::AsInt(row.count as i64))
                );
                calls_total += row.count;
                assert!(point.exemplars.is_empty());
                assert_eq!(point.flags, 0);
                assert_eq!(
                    (point.start_time_unix_nano, point.time_unix_nano),
                    (START, END)
                );
                assert_eq!(attrs(&point.attributes), expected_attrs(row));
            }

            if timed.is_empty() {
                continue;
            }
            assert_eq!(metrics[1].unit, "ms");
            assert_eq!(
                metrics[1].description,
                "Durations of the tracked calls in the period"
            );
            let Some(Data::Histogram(histogram)) = &metrics[1].data else {
                panic!(
                    "telemetry.duration is not a Histogram: {:?}",
                    metrics[1].data
                )
            };
            assert_eq!(
                histogram.aggregation_temporality,
                AggregationTemporality::Delta as i32
            );
            assert_eq!(histogram.data_points.len(), timed.len());
            for (point, row) in histogram.data_points.iter().zip(&timed) {
                let durations = row.duration_ms.as_ref().unwrap();
                assert_eq!(point.bucket_counts, durations.buckets);
                assert_eq!(point.explicit_bounds, telemetry::REPORT_DURATION_BOUNDS_MS);
                assert_eq!(point.explicit_bounds.len() + 1, point.bucket_counts.len());
                assert_eq!(point.count, point.bucket_counts.iter().sum::<u64>());
                assert_eq!(point.count, row.count);
                assert!(point.exemplars.is_empty());
                assert_eq!(point.flags, 0);
                assert_eq!(
                    (point.sum, point.min, point.max),
                    (
                        Some(durations.sum),
                        Some(durations.min),
                        Some(durations.max)
                    )
                );
                assert_eq!(
                    (point.start_time_unix_nano, point.time_unix_nano),
                    (START, END)
                );
                assert_eq!(attrs(&point.attributes), expected_attrs(row));
            }
        }
        assert_eq!(calls_total, report.total_count());
    }

    /// A few values written out by hand, so the check above cannot agree with a wrong
    /// mapping by sharing it.
    fn spot_check(request: &ExportMetricsServiceRequest) {
        let newer = &request.resource_metrics[1].scope_metrics[0].metrics;
        let Some(Data::Sum(calls)) = &newer[0].data else {
            panic!()
        };
        let error = attrs(&calls.data_points[0].attributes);
        assert_eq!(error["event"], s("cmd.build"));
        assert_eq!(error["outcome"], s("error"));
        assert_eq!(error["error_kind"], s("not_found"));
        assert_eq!(error["attrs.jobs"], Value::IntValue(8));
        assert_eq!(error["attrs.big"], s("18446744073709551615"));
        assert_eq!(error["attrs.ratio"], Value::DoubleValue(0.25));
        assert_eq!(error["attrs.profile"], s("ci"));
        assert!(!error.contains_key("_other"));
        let other = attrs(&calls.data_points[1].attributes);
        assert_eq!(other["_other"], Value::BoolValue(true));
        assert_eq!(
            other.keys().collect::<Vec<_>>(),
            ["_other", "event", "outcome"]
        );
        let Some(Data::Histogram(durations)) = &newer[1].data else {
            panic!()
        };
        assert_eq!(durations.data_points[0].bucket_counts[0], 1);
        assert_eq!(durations.data_points[0].bucket_counts[21], 1);
        assert_eq!(durations.data_points[0].explicit_bounds[20], 1_048_576.0);
        assert_eq!(durations.data_points[1].count, 7);
        let older = &request.resource_metrics[0];
        assert_eq!(
            attrs(&older.resource.as_ref().unwrap().attributes)["service.version"],
            s("1.0.0")
        );
        let Some(Data::Sum(calls)) = &older.scope_metrics[0].metrics[0].data else {
            panic!()
        };
        assert_eq!(
            attrs(&calls.data_points[0].attributes)["attrs.release"],
            Value::BoolValue(true)
        );
    }

    #[test]
    fn protobuf_export_decodes_with_the_official_definitions() {
        let server = Server::start(Reply::Status(200));
        let sink = sink(&server, "", OtlpEncoding::Protobuf);
        assert!(sink.takes_reports());
        let report = report();
        run(sink.emit_report(&report)).unwrap();

        let requests = server.requests();
        assert_eq!(requests.len(), 1, "one export for the whole report");
        let sent = &requests[0];
        // For tests/python/run.sh: the body as received, for a second, independent decoder.
        if let Some(path) = std::env::var_os("OTLP_METRICS_CAPTURE") {
            std::fs::write(path, &sent.body).unwrap();
        }
        assert_eq!(sent.method, "POST");
        assert_eq!(sent.path, "/v1/metrics");
        assert_eq!(sent.header("content-type"), Some("application/x-protobuf"));
        assert_eq!(sent.header("authorization"), Some("Bearer k-otlp"));
        let decoded = ExportMetricsServiceRequest::decode(&*sent.body).unwrap();
        check(&decoded, &report);
        spot_check(&decoded);
        // The official encoder writes the same message to the same bytes.
        assert_eq!(decoded.encode_to_vec(), sent.body);
    }

    #[test]
    fn json_export_follows_the_otlp_json_mapping() {
        let server = Server::start(Reply::Status(200));
        let sink = sink(&server, "", OtlpEncoding::Json);
        let report = report();
        run(sink.emit_report(&report)).unwrap();

        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        let sent = &requests[0];
        assert_eq!(sent.path, "/v1/metrics");
        assert_eq!(sent.header("content-type"), Some("application/json"));
        let decoded: ExportMetricsServiceRequest = serde_json::from_slice(&sent.body).unwrap();
        check(&decoded, &report);
        spot_check(&decoded);
        // The same JSON the official mapping writes for what was decoded.
        assert_eq!(sent.json(), serde_json::to_value(&decoded).unwrap());
        // OTLP JSON: lowerCamelCase names, enums as integers (DELTA = 1), 64-bit
        // integers as decimal strings.
        let json = sent.json();
        let sum = &json["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["sum"];
        assert_eq!(sum["aggregationTemporality"], 1);
        assert_eq!(sum["isMonotonic"], true);
        assert_eq!(sum["dataPoints"][0]["asInt"], "3");
        assert_eq!(sum["dataPoints"][0]["startTimeUnixNano"], START.to_string());
        let histogram = &json["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][1]["histogram"];
        assert_eq!(histogram["dataPoints"][0]["count"], "3");
        assert_eq!(
            histogram["dataPoints"][0]["explicitBounds"]
                .as_array()
                .unwrap()
                .len(),
            21
        );
    }

    /// A row whose histogram counted nothing: a sum (0), no min or max (`optional`
    /// fields left unset, `null` in JSON), in both encodings.
    #[test]
    fn an_empty_histogram_has_a_sum_but_no_min_or_max() {
        let mut report = Report::example();
        let durations = report.rows[0].duration_ms.as_mut().unwrap();
        durations.buckets.fill(0);
        (durations.sum, durations.min, durations.max) = (0.0, 0.0, 0.0);
        report.rows[0].count = 0;
        for encoding in [OtlpEncoding::Protobuf, OtlpEncoding::Json] {
            let server = Server::start(Reply::Status(200));
            run(sink(&server, "", encoding).emit_report(&report)).unwrap();
            let requests = server.requests();
            let body = &requests[0].body;
            let decoded = match encoding {
                OtlpEncoding::Protobuf => ExportMetricsServiceRequest::decode(&**body).unwrap(),
                _ => serde_json::from_slice(body).unwrap(),
            };
            let metrics = &decoded.resource_metrics[0].scope_metrics[0].metrics;
            let Some(Data::Sum(calls)) = &metrics[0].data else {
                panic!("{metrics:?}")
            };
            assert_eq!(
                calls.data_points[0].value,
                Some(number_data_point::Value::AsInt(0)),
                "{encoding:?}: a count of zero is sent"
            );
            let Some(Data::Histogram(histogram)) = &metrics[1].data else {
                panic!("{metrics:?}")
            };
            let point = &histogram.data_points[0];
            assert_eq!(point.count, 0);
            assert_eq!(point.bucket_counts, vec![0; 22]);
            assert_eq!(
                (point.sum, point.min, point.max),
                (Some(0.0), None, None),
                "{encoding:?}"
            );
        }
    }

    #[test]
    fn reports_go_to_v1_metrics_next_to_the_logs_path_and_events_still_to_the_logs() {
        let server = Server::start(Reply::Status(200));
        let sink = sink(&server, "/otlp/v1/logs", OtlpEncoding::Protobuf);
        assert_eq!(sink.metrics_endpoint(), server.url("/otlp/v1/metrics"));
        run(sink.emit_report(&report())).unwrap();
        run(sink.emit_batch(&[Event::new("cmd.build", "mytool", "1.0.0", "m1")])).unwrap();
        let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
        assert_eq!(paths, ["/otlp/v1/metrics", "/otlp/v1/logs"]);
    }

    #[test]
    fn a_refused_report_is_classified_as_a_batch_is() {
        let server = Server::start(Reply::Status(200));
        same_answers_as_batches(&sink(&server, "", OtlpEncoding::Protobuf), &server);
    }

    #[test]
    fn a_report_without_rows_sends_nothing() {
        let server = Server::start(Reply::Status(200));
        let sink = sink(&server, "", OtlpEncoding::Protobuf);
        let mut report = report();
        report.rows.clear();
        run(sink.emit_report(&report)).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        assert!(server.requests().is_empty());
    }
}

#[cfg(feature = "posthog")]
mod posthog {
    use super::*;
    use telemetry::sink::PostHogSink;

    #[test]
    fn posthog_refuses_reports_without_a_request() {
        let server = Server::start(Reply::Status(200));
        let sink = PostHogSink::builder("phc_key", &server.url(""))
            .allow_insecure_http(true)
            .build()
            .unwrap();
        assert!(!sink.takes_reports());
        let err = run(sink.emit_report(&report())).unwrap_err();
        assert!(matches!(err, TelemetryError::Config(_)), "{err:?}");
        assert!(!err.is_retryable());
        std::thread::sleep(Duration::from_millis(100));
        assert!(server.requests().is_empty());
    }
}
