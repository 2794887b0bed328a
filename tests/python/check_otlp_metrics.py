#!/usr/bin/env python3
"""Decodes an OTLP/HTTP metrics export body (protobuf) that OtlpSink::emit_report sent,
with PyPI's `opentelemetry-proto` (the official generated Python classes), and checks
the structure that docs/delivery.md ("Reports over OTLP metrics") promises.

    check_otlp_metrics.py BODY [--resources N] [--calls N]

--resources / --calls: the number of resources (tool versions) and the total of
`telemetry.calls` the body must have. Exits 1, naming the failed check, on any
difference; prints a summary on success. Run by tests/python/run.sh.
"""

import argparse
import sys

from google.protobuf import unknown_fields
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1 import metrics_pb2

DAY_NS = 86_400 * 1_000_000_000
RESOURCE_KEYS = {"service.name", "service.version", "os.type", "host.arch"}
OUTCOMES = {"ok", "error", "panic", "cancelled", "interrupted"}
BOUNDS = [float(2**i) for i in range(21)]


class CheckFailed(Exception):
    pass


def require(condition, what):
    if not condition:
        raise CheckFailed(what)


def no_unknown_fields(message, where):
    """No field the official schema does not know, anywhere in the message."""
    require(
        len(unknown_fields.UnknownFieldSet(message)) == 0,
        f"{where}: fields unknown to the official schema",
    )
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.is_repeated:
            for i, item in enumerate(value):
                no_unknown_fields(item, f"{where}.{field.name}[{i}]")
        else:
            no_unknown_fields(value, f"{where}.{field.name}")


def attributes(key_values, where):
    """The attributes as {key: (type, value)}, each key once."""
    out = {}
    for kv in key_values:
        require(kv.key not in out, f"{where}: key {kv.key!r} twice")
        kind = kv.value.WhichOneof("value")
        require(kind is not None, f"{where}: {kv.key!r} has no value")
        out[kv.key] = (kind, getattr(kv.value, kind))
    return out


def check_point_attributes(attrs, where):
    require(attrs.get("event", ("",))[0] == "string_value", f"{where}: event is not a string")
    require(attrs["event"][1] != "", f"{where}: empty event")
    require(
        attrs.get("outcome") is not None
        and attrs["outcome"][0] == "string_value"
        and attrs["outcome"][1] in OUTCOMES,
        f"{where}: outcome {attrs.get('outcome')!r}",
    )
    if "error_kind" in attrs:
        require(attrs["error_kind"][0] == "string_value", f"{where}: error_kind is not a string")
    if "_other" in attrs:
        require(attrs["_other"] == ("bool_value", True), f"{where}: _other is {attrs['_other']!r}")
    for key, (kind, _) in attrs.items():
        if key in ("event", "outcome", "error_kind", "_other"):
            continue
        require(key.startswith("attrs.") and len(key) > 6, f"{where}: unexpected key {key!r}")
        require(
            kind in ("bool_value", "int_value", "double_value", "string_value"),
            f"{where}: {key!r} is a {kind}",
        )


def check_span(point, where):
    start, end = point.start_time_unix_nano, point.time_unix_nano
    require(start > 0 and start % DAY_NS == 0, f"{where}: start {start} is not 00:00 UTC")
    require(end % DAY_NS == 0, f"{where}: end {end} is not 00:00 UTC")
    require(end - start in (DAY_NS, 7 * DAY_NS), f"{where}: the period is not a day or a week")
    return start, end


def check(request, want_resources, want_calls):
    no_unknown_fields(request, "request")
    require(len(request.resource_metrics) > 0, "no resource_metrics")
    if want_resources is not None:
        require(
            len(request.resource_metrics) == want_resources,
            f"{len(request.resource_metrics)} resources, expected {want_resources}",
        )
    versions, shared, spans = set(), set(), set()
    total_calls = points = histogram_points = 0
    for r, rm in enumerate(request.resource_metrics):
        where = f"resource_metrics[{r}]"
        res = attributes(rm.resource.attributes, f"{where}.resource")
        require(set(res) == RESOURCE_KEYS, f"{where}: resource keys {sorted(res)}")
        for key, (kind, value) in res.items():
            require(kind == "string_value" and value, f"{where}: {key} = {value!r}")
        require(res["service.version"][1] not in versions, f"{where}: a version twice")
        versions.add(res["service.version"][1])
        shared.add((res["service.name"][1], res["os.type"][1], res["host.arch"][1]))

        require(len(rm.scope_metrics) == 1, f"{where}: {len(rm.scope_metrics)} scopes")
        sm = rm.scope_metrics[0]
        require(sm.scope.name == "telemetry" and sm.scope.version, f"{where}: scope {sm.scope}")
        names = [m.name for m in sm.metrics]
        require(
            names in (["telemetry.calls"], ["telemetry.calls", "telemetry.duration"]),
            f"{where}: metrics {names}",
        )

        calls = sm.metrics[0]
        require(calls.WhichOneof("data") == "sum", f"{where}: telemetry.calls is a {calls.WhichOneof('data')}")
        require(calls.unit == "{call}", f"{where}: telemetry.calls unit {calls.unit!r}")
        require(calls.sum.is_monotonic, f"{where}: telemetry.calls is not monotonic")
        require(
            calls.sum.aggregation_temporality == metrics_pb2.AGGREGATION_TEMPORALITY_DELTA,
            f"{where}: telemetry.calls temporality {calls.sum.aggregation_temporality}",
        )
        require(len(calls.sum.data_points) > 0, f"{where}: no calls")
        by_attributes = {}
        for p, point in enumerate(calls.sum.data_points):
            pwhere = f"{where} telemetry.calls[{p}]"
            require(point.WhichOneof("value") == "as_int", f"{pwhere}: not as_int")
            require(point.as_int >= 0, f"{pwhere}: negative count")
            spans.add(check_span(point, pwhere))
            attrs = attributes(point.attributes, pwhere)
            check_point_attributes(attrs, pwhere)
            key = tuple(sorted(attrs.items()))
            require(key not in by_attributes, f"{pwhere}: the same attributes as another point")
            by_attributes[key] = point.as_int
            total_calls += point.as_int
            points += 1

        if len(sm.metrics) == 1:
            continue
        duration = sm.metrics[1]
        require(duration.WhichOneof("data") == "histogram", f"{where}: telemetry.duration is a {duration.WhichOneof('data')}")
        require(duration.unit == "ms", f"{where}: telemetry.duration unit {duration.unit!r}")
        require(
            duration.histogram.aggregation_temporality == metrics_pb2.AGGREGATION_TEMPORALITY_DELTA,
            f"{where}: telemetry.duration temporality {duration.histogram.aggregation_temporality}",
        )
        require(len(duration.histogram.data_points) > 0, f"{where}: an empty histogram")
        for p, point in enumerate(duration.histogram.data_points):
            pwhere = f"{where} telemetry.duration[{p}]"
            require(
                len(point.explicit_bounds) + 1 == len(point.bucket_counts),
                f"{pwhere}: {len(point.explicit_bounds)} bounds, {len(point.bucket_counts)} buckets",
            )
            require(list(point.explicit_bounds) == BOUNDS, f"{pwhere}: bounds {list(point.explicit_bounds)}")
            require(sum(point.bucket_counts) == point.count, f"{pwhere}: buckets add up to {sum(point.bucket_counts)}, count {point.count}")
            require(point.count > 0, f"{pwhere}: count 0")
            for field in ("sum", "min", "max"):
                require(point.HasField(field), f"{pwhere}: no {field}")
            require(0 <= point.min <= point.max, f"{pwhere}: min {point.min}, max {point.max}")
            require(point.min * point.count <= point.sum * (1 + 1e-9) and point.sum <= point.max * point.count * (1 + 1e-9), f"{pwhere}: sum {point.sum} outside count x [min, max]")
            spans.add(check_span(point, pwhere))
            attrs = attributes(point.attributes, pwhere)
            key = tuple(sorted(attrs.items()))
            require(key in by_attributes, f"{pwhere}: no telemetry.calls point with its attributes")
            require(by_attributes[key] == point.count, f"{pwhere}: count {point.count}, calls {by_attributes[key]}")
            histogram_points += 1

    require(len(shared) == 1, f"service.name, os.type, host.arch differ: {shared}")
    require(len(spans) == 1, f"the points span different periods: {spans}")
    if want_calls is not None:
        require(total_calls == want_calls, f"{total_calls} calls in all, expected {want_calls}")
    (tool, os_type, arch), = shared
    (start, end), = spans
    return (
        f"ok: {len(request.resource_metrics)} resources (service.name={tool}, versions "
        f"{sorted(versions)}, os.type={os_type}, host.arch={arch}), {points} telemetry.calls points "
        f"({total_calls} calls), {histogram_points} telemetry.duration points, "
        f"period {start // DAY_NS}..{end // DAY_NS} (days since 1970-01-01)"
    )


def mutants(data):
    """Copies of the body with one promise broken each, for --self-test."""

    def mutant(what, change):
        request = ExportMetricsServiceRequest()
        request.ParseFromString(data)
        change(request)
        return what, request

    def metric(request, index):
        return request.resource_metrics[0].scope_metrics[0].metrics[index]

    def last_histogram_point(request):
        for rm in request.resource_metrics:
            metrics = rm.scope_metrics[0].metrics
            if len(metrics) == 2:
                point = metrics[1].histogram.data_points[0]
        return point

    cumulative = metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE
    return [
        mutant("cumulative calls", lambda r: setattr(metric(r, 0).sum, "aggregation_temporality", cumulative)),
        mutant("non-monotonic calls", lambda r: setattr(metric(r, 0).sum, "is_monotonic", False)),
        mutant("renamed metric", lambda r: setattr(metric(r, 0), "name", "telemetry.call")),
        mutant("a bucket less", lambda r: last_histogram_point(r).bucket_counts.pop()),
        mutant("count off by one", lambda r: setattr(last_histogram_point(r), "count", last_histogram_point(r).count + 1)),
        mutant("no service.version", lambda r: r.resource_metrics[0].resource.attributes.pop(1)),
        mutant("start not at midnight", lambda r: setattr(metric(r, 0).sum.data_points[0], "start_time_unix_nano", metric(r, 0).sum.data_points[0].start_time_unix_nano + 1)),
        mutant("a gauge for calls", lambda r: metric(r, 0).gauge.data_points.add()),
    ]


def self_test(data, want_resources, want_calls):
    """The checks can fail: each mutant of the body must be refused."""
    for what, request in mutants(data):
        try:
            check(request, want_resources, want_calls)
        except CheckFailed as e:
            print(f"self-test: {what}: refused ({e})")
            continue
        raise CheckFailed(f"self-test: the mutant {what!r} passed the checks")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("body", help="the protobuf body of one metrics export")
    parser.add_argument("--resources", type=int, help="expected number of resources")
    parser.add_argument("--calls", type=int, help="expected total of telemetry.calls")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="also check that broken copies of the body are refused",
    )
    args = parser.parse_args()
    with open(args.body, "rb") as f:
        data = f.read()
    request = ExportMetricsServiceRequest()
    try:
        request.ParseFromString(data)
        print(check(request, args.resources, args.calls))
        if args.self_test:
            self_test(data, args.resources, args.calls)
    except Exception as e:  # a decode error or a failed check: either is a failure
        print(f"check_otlp_metrics: FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
