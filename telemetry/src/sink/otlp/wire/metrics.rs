//! `opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest` and
//! `opentelemetry.proto.metrics.v1` (`ResourceMetrics`, `ScopeMetrics`, `Metric`,
//! `Sum`, `Histogram` and their data points).

use super::common::{InstrumentationScope, KeyValue, Resource};
use super::{Message, double_json, empty_array, int64_json, json_array, nested, repeated};
use crate::util::json::{Json, ObjectBuilder};
use crate::util::protobuf::{Scalar, Writer};

/// `AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA`: each report counts its own
/// period only.
pub(crate) const TEMPORALITY_DELTA: i32 = 1;

/// `ExportMetricsServiceRequest`: `resource_metrics = 1`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExportMetricsServiceRequest<'a> {
    pub(crate) resource_metrics: Vec<ResourceMetrics<'a>>,
}

impl Message for ExportMetricsServiceRequest<'_> {
    fn write_fields(&self, out: &mut Writer) {
        repeated(out, 1, &self.resource_metrics);
    }

    fn to_json(&self) -> Json {
        ObjectBuilder::new()
            .field("resourceMetrics", json_array(&self.resource_metrics))
            .build()
    }
}

/// `ResourceMetrics`: `resource = 1`, `scope_metrics = 2` (no schema URL).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResourceMetrics<'a> {
    pub(crate) resource: Resource<'a>,
    pub(crate) scope_metrics: Vec<ScopeMetrics<'a>>,
}

impl Message for ResourceMetrics<'_> {
    fn write_fields(&self, out: &mut Writer) {
        nested(out, 1, &self.resource);
        repeated(out, 2, &self.scope_metrics);
    }

    fn to_json(&self) -> Json {
        ObjectBuilder::new()
            .field("resource", self.resource.to_json())
            .field("scopeMetrics", json_array(&self.scope_metrics))
            .field("schemaUrl", "")
            .build()
    }
}

/// `ScopeMetrics`: `scope = 1`, `metrics = 2` (no schema URL).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScopeMetrics<'a> {
    pub(crate) scope: InstrumentationScope<'a>,
    pub(crate) metrics: Vec<Metric<'a>>,
}

impl Message for ScopeMetrics<'_> {
    fn write_fields(&self, out: &mut Writer) {
        nested(out, 1, &self.scope);
        repeated(out, 2, &self.metrics);
    }

    fn to_json(&self) -> Json {
        ObjectBuilder::new()
            .field("scope", self.scope.to_json())
            .field("metrics", json_array(&self.metrics))
            .field("schemaUrl", "")
            .build()
    }
}

/// `Metric`: `name = 1`, `description = 2`, `unit = 3`, and its `data` oneof (no
/// metadata).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Metric<'a> {
    pub(crate) name: &'a str,
    pub(crate) description: &'a str,
    pub(crate) unit: &'a str,
    pub(crate) data: MetricData<'a>,
}

/// `Metric.data`, the two kinds this crate sends: `sum = 7`, `histogram = 9`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MetricData<'a> {
    Sum(Sum<'a>),
    Histogram(Histogram<'a>),
}

impl Message for Metric<'_> {
    fn write_fields(&self, out: &mut Writer) {
        out.field(1, Scalar::Str(self.name));
        out.field(2, Scalar::Str(self.description));
        out.field(3, Scalar::Str(self.unit));
        match &self.data {
            MetricData::Sum(sum) => nested(out, 7, sum),
            MetricData::Histogram(histogram) => nested(out, 9, histogram),
        }
    }

    fn to_json(&self) -> Json {
        let object = ObjectBuilder::new()
            .field("name", self.name)
            .field("description", self.description)
            .field("unit", self.unit)
            .field("metadata", empty_array());
        match &self.data {
            MetricData::Sum(sum) => object.field("sum", sum.to_json()),
            MetricData::Histogram(histogram) => object.field("histogram", histogram.to_json()),
        }
        .build()
    }
}

/// `Sum`: `data_points = 1`, `aggregation_temporality = 2`, `is_monotonic = 3`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sum<'a> {
    pub(crate) data_points: Vec<NumberDataPoint<'a>>,
    pub(crate) aggregation_temporality: i32,
    pub(crate) is_monotonic: bool,
}

impl Message for Sum<'_> {
    fn write_fields(&self, out: &mut Writer) {
        repeated(out, 1, &self.data_points);
        out.field(2, Scalar::Enum(self.aggregation_temporality));
        out.field(3, Scalar::Bool(self.is_monotonic));
    }

    fn to_json(&self) -> Json {
        ObjectBuilder::new()
            .field("dataPoints", json_array(&self.data_points))
            .field(
                "aggregationTemporality",
                i64::from(self.aggregation_temporality),
            )
            .field("isMonotonic", self.is_monotonic)
            .build()
    }
}

/// `Histogram`: `data_points = 1`, `aggregation_temporality = 2`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Histogram<'a> {
    pub(crate) data_points: Vec<HistogramDataPoint<'a>>,
    pub(crate) aggregation_temporality: i32,
}

impl Message for Histogram<'_> {
    fn write_fields(&self, out: &mut Writer) {
        repeated(out, 1, &self.data_points);
        out.field(2, Scalar::Enum(self.aggregation_temporality));
    }

    fn to_json(&self) -> Json {
        ObjectBuilder::new()
            .field("dataPoints", json_array(&self.data_points))
            .field(
                "aggregationTemporality",
                i64::from(self.aggregation_temporality),
            )
            .build()
    }
}

/// `NumberDataPoint` with an integer value: `start_time_unix_nano = 2`,
/// `time_unix_nano = 3` (`fixed64`), `as_int = 6` (`sfixed64`, in the `value` oneof),
/// `attributes = 7`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NumberDataPoint<'a> {
    pub(crate) attributes: Vec<KeyValue<'a>>,
    pub(crate) start_time_unix_nano: u64,
    pub(crate) time_unix_nano: u64,
    pub(crate) as_int: i64,
}

impl Message for NumberDataPoint<'_> {
    fn write_fields(&self, out: &mut Writer) {
        out.field(2, Scalar::Fixed64(self.start_time_unix_nano));
        out.field(3, Scalar::Fixed64(self.time_unix_nano));
        // A oneof member: written even when 0 (a row of no calls says so).
        out.set_field(6, Scalar::SFixed64(self.as_int));
        repeated(out, 7, &self.attributes);
    }

    fn to_json(&self) -> Json {
        ObjectBuilder::new()
            .field("attributes", json_array(&self.attributes))
            .field("startTimeUnixNano", int64_json(self.start_time_unix_nano))
            .field("timeUnixNano", int64_json(self.time_unix_nano))
            .field("exemplars", empty_array())
            .field("flags", 0_u64)
            .field("asInt", int64_json(self.as_int))
            .build()
    }
}

/// `HistogramDataPoint`: `start_time_unix_nano = 2`, `time_unix_nano = 3`,
/// `count = 4` (`fixed64`), `sum = 5` (`optional double`), `bucket_counts = 6`
/// (packed `fixed64`), `explicit_bounds = 7` (packed `double`), `attributes = 9`,
/// `min = 11`, `max = 12` (`optional double`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HistogramDataPoint<'a> {
    pub(crate) attributes: Vec<KeyValue<'a>>,
    pub(crate) start_time_unix_nano: u64,
    pub(crate) time_unix_nano: u64,
    pub(crate) count: u64,
    pub(crate) sum: Option<f64>,
    pub(crate) bucket_counts: &'a [u64],
    pub(crate) explicit_bounds: &'a [f64],
    pub(crate) min: Option<f64>,
    pub(crate) max: Option<f64>,
}

impl Message for HistogramDataPoint<'_> {
    fn write_fields(&self, out: &mut Writer) {
        out.field(2, Scalar::Fixed64(self.start_time_unix_nano));
        out.field(3, Scalar::Fixed64(self.time_unix_nano));
        out.field(4, Scalar::Fixed64(self.count));
        // `optional`: written whenever set, 0.0 included (a sum of zero is not "no sum").
        let optional = |out: &mut Writer, number, value: Option<f64>| {
            if let Some(f) = value {
                out.set_field(number, Scalar::Double(f));
            }
        };
        optional(out, 5, self.sum);
        out.packed_fixed64(6, self.bucket_counts);
        out.packed_double(7, self.explicit_bounds);
        repeated(out, 9, &self.attributes);
        optional(out, 11, self.min);
        optional(out, 12, self.max);
    }

    fn to_json(&self) -> Json {
        let counts = self.bucket_counts.iter().map(|&n| int64_json(n)).collect();
        let bounds = self
            .explicit_bounds
            .iter()
            .map(|&f| double_json(f))
            .collect();
        ObjectBuilder::new()
            .field("attributes", json_array(&self.attributes))
            .field("startTimeUnixNano", int64_json(self.start_time_unix_nano))
            .field("timeUnixNano", int64_json(self.time_unix_nano))
            .field("count", int64_json(self.count))
            // Left out when unset (proto3's JSON for a field not set), where the
            // official mapping wrote `null`: both mean "not set" to a proto3 reader,
            // but not every OTLP receiver's JSON reader takes a `null` for a number.
            .field_if("sum", self.sum.map(double_json))
            .field("bucketCounts", Json::Array(counts))
            .field("explicitBounds", Json::Array(bounds))
            .field("exemplars", empty_array())
            .field("flags", 0_u64)
            .field_if("min", self.min.map(double_json))
            .field_if("max", self.max.map(double_json))
            .build()
    }
}
