//! What a report holds, as a sink receives it and as `telemetry report --json`
//! prints it: counts and duration histograms per event × tool version × outcome ×
//! error kind × attribute values, for one period. No machine id, no session id, no
//! event id, no time finer than the period.

use std::collections::BTreeMap;

use crate::event::Outcome;
use crate::util::json::{Json, ObjectBuilder};
use crate::value::AttrValue;

/// The version of the report format (`schema` in every report).
pub const REPORT_SCHEMA: &str = "telemetry-report/1";

/// The upper bounds, in milliseconds, of the duration histogram's buckets: powers of
/// two from 1 ms to 1 048 576 ms (about 17 minutes), the same in every report, so
/// reports of any period or tool add up bucket by bucket. Bucket `i` counts durations
/// in `(bound[i-1], bound[i]]`; the last one everything longer.
///
/// ```
/// assert_eq!(telemetry::REPORT_DURATION_BOUNDS_MS[0], 1.0);
/// assert_eq!(telemetry::REPORT_DURATION_BOUNDS_MS.len(), 21);
/// ```
pub const REPORT_DURATION_BOUNDS_MS: [f64; 21] = {
    let mut bounds = [0.0; 21];
    let mut i = 0;
    while i < 21 {
        bounds[i] = (1_u64 << i) as f64;
        i += 1;
    }
    bounds
};

/// The number of histogram buckets (one more than bounds).
pub(crate) const BUCKETS: usize = REPORT_DURATION_BOUNDS_MS.len() + 1;

/// One period's report. Made by the library only (folded from tracked calls, or read
/// back from its own files); a [`TelemetrySink`](crate::sink::TelemetrySink) receives it
/// in [`emit_report`](crate::sink::TelemetrySink::emit_report) and may serialise it
/// (its JSON is what [`HttpSink`](crate::sink) sends).
///
/// ```
/// let report = telemetry::Report::example();
/// assert_eq!(report.rows[0].event, "cmd.build");
/// let json: serde_json::Value = serde_json::from_slice(&report.to_json()).unwrap();
/// assert_eq!(json["schema"], "telemetry-report/1");
/// assert!(json.get("machine_id").is_none());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Report {
    /// [`REPORT_SCHEMA`].
    pub schema: &'static str,
    /// The tool's name.
    pub tool: String,
    /// `day` or `week`.
    pub period: String,
    /// The period's first day, `YYYY-MM-DD` (UTC).
    pub period_start: String,
    /// The day after its last, `YYYY-MM-DD` (UTC): the end is exclusive.
    pub period_end: String,
    /// Operating system family (`linux`, `macos`, `windows`, ...).
    pub os: String,
    /// CPU architecture (`x86_64`, `aarch64`, ...).
    pub arch: String,
    /// [`REPORT_DURATION_BOUNDS_MS`], so that a reader needs nothing else.
    pub duration_bounds_ms: Vec<f64>,
    /// One row per distinct event × version × outcome × error kind × attributes,
    /// sorted.
    pub rows: Vec<ReportRow>,
}

/// One row of a [`Report`].
///
/// ```
/// let row = &telemetry::Report::example().rows[0];
/// assert_eq!((row.count, row.outcome), (3, telemetry::Outcome::Ok));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReportRow {
    /// The event name (from the catalog).
    pub event: String,
    /// The tool version that recorded it.
    pub tool_version: String,
    /// How the calls ended.
    pub outcome: Outcome,
    /// The error kind, for outcome `error`.
    pub error_kind: Option<String>,
    /// The attributes (catalogued keys only; never a `Hashed` value).
    pub attrs: BTreeMap<String, AttrValue>,
    /// The row that counts the calls whose attribute values were past the report's
    /// limit of distinct combinations for this event (`attrs` is then empty).
    /// Written as `"_other": true`, and only then.
    pub other: bool,
    /// How many calls.
    pub count: u64,
    /// Their durations (none for point events, `telemetry::record!`).
    pub duration_ms: Option<DurationHistogram>,
}

/// Durations of one row, in milliseconds: sum, min, max and the count per bucket of
/// [`REPORT_DURATION_BOUNDS_MS`].
///
/// ```
/// let h = telemetry::Report::example().rows[0].duration_ms.clone().unwrap();
/// assert_eq!(h.buckets.iter().sum::<u64>(), 3);
/// assert!(h.quantile(0.5) <= 4.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DurationHistogram {
    /// The sum of the durations.
    pub sum: f64,
    /// The shortest.
    pub min: f64,
    /// The longest.
    pub max: f64,
    /// One count per bucket (`REPORT_DURATION_BOUNDS_MS.len() + 1` of them).
    pub buckets: Vec<u64>,
}

impl ReportRow {
    /// The fields in the order they are written; `_other` only when set.
    pub(crate) fn to_document(&self) -> Json {
        ObjectBuilder::new()
            .field("event", self.event.as_str())
            .field("tool_version", self.tool_version.as_str())
            .field("outcome", self.outcome.as_str())
            .field("error_kind", self.error_kind.as_deref())
            .field("attrs", attrs_document(&self.attrs))
            .field_if("_other", self.other.then_some(true))
            .field("count", self.count)
            .field(
                "duration_ms",
                self.duration_ms
                    .as_ref()
                    .map_or(Json::Null, DurationHistogram::to_document),
            )
            .build()
    }
}

/// A row's attributes as a JSON object, in key order.
pub(crate) fn attrs_document(attrs: &BTreeMap<String, AttrValue>) -> Json {
    Json::Object(
        attrs
            .iter()
            .map(|(k, v)| (k.clone(), Json::from(v)))
            .collect(),
    )
}

impl DurationHistogram {
    fn to_document(&self) -> Json {
        ObjectBuilder::new()
            .field("sum", self.sum)
            .field("min", self.min)
            .field("max", self.max)
            .field(
                "buckets",
                Json::Array(self.buckets.iter().map(|&n| Json::UInt(n)).collect()),
            )
            .build()
    }

    /// An estimate of quantile `q` (0..=1): the bucket that holds it, interpolated
    /// within its bounds (clamped to the observed min and max).
    ///
    /// ```
    /// let h = telemetry::Report::example().rows[0].duration_ms.clone().unwrap();
    /// let p95 = h.quantile(0.95);
    /// assert!(p95 >= h.min && p95 <= h.max);
    /// ```
    pub fn quantile(&self, q: f64) -> f64 {
        let total = self
            .buckets
            .iter()
            .fold(0_u64, |total, &n| total.saturating_add(n));
        if total == 0 {
            return 0.0;
        }
        let rank = (q.clamp(0.0, 1.0) * total as f64).max(1.0);
        let mut seen = 0.0;
        for (i, &n) in self.buckets.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let next = seen + n as f64;
            if rank <= next {
                let lower = if i == 0 {
                    self.min
                } else {
                    REPORT_DURATION_BOUNDS_MS[i - 1].max(self.min)
                };
                let upper = REPORT_DURATION_BOUNDS_MS
                    .get(i)
                    .copied()
                    .unwrap_or(self.max)
                    .min(self.max);
                let within = (rank - seen) / n as f64;
                // Not `clamp`, which panics when min > max (a histogram made by hand).
                return (lower + (upper - lower) * within)
                    .max(self.min)
                    .min(self.max);
            }
            seen = next;
        }
        self.max
    }
}

impl Report {
    /// A small report, for documentation and tests.
    ///
    /// ```
    /// assert_eq!(telemetry::Report::example().period, "week");
    /// ```
    pub fn example() -> Self {
        let mut buckets = vec![0; BUCKETS];
        buckets[1] = 2;
        buckets[2] = 1;
        Self {
            schema: REPORT_SCHEMA,
            tool: "mytool".into(),
            period: "week".into(),
            period_start: "2026-11-23".into(),
            period_end: "2026-11-30".into(),
            os: "linux".into(),
            arch: "x86_64".into(),
            duration_bounds_ms: REPORT_DURATION_BOUNDS_MS.to_vec(),
            rows: vec![ReportRow {
                event: "cmd.build".into(),
                tool_version: "1.0.0".into(),
                outcome: Outcome::Ok,
                error_kind: None,
                attrs: BTreeMap::from([("release".to_owned(), AttrValue::Bool(true))]),
                other: false,
                count: 3,
                duration_ms: Some(DurationHistogram {
                    sum: 7.5,
                    min: 1.5,
                    max: 3.5,
                    buckets,
                }),
            }],
        }
    }

    /// The report as JSON: the body [`HttpSink`](crate::sink) sends, and what
    /// `telemetry report --json` prints.
    ///
    /// ```
    /// let bytes = telemetry::Report::example().to_json();
    /// assert!(bytes.starts_with(b"{\"schema\":"));
    /// ```
    pub fn to_json(&self) -> Vec<u8> {
        self.to_document().to_vec()
    }

    /// The fields in the order they are written (the order of the struct's fields).
    pub(crate) fn to_document(&self) -> Json {
        let floats = |list: &[f64]| Json::Array(list.iter().map(|&f| Json::Float(f)).collect());
        ObjectBuilder::new()
            .field("schema", self.schema)
            .field("tool", self.tool.as_str())
            .field("period", self.period.as_str())
            .field("period_start", self.period_start.as_str())
            .field("period_end", self.period_end.as_str())
            .field("os", self.os.as_str())
            .field("arch", self.arch.as_str())
            .field("duration_bounds_ms", floats(&self.duration_bounds_ms))
            .field(
                "rows",
                Json::Array(self.rows.iter().map(ReportRow::to_document).collect()),
            )
            .build()
    }

    /// The total number of calls in the report.
    ///
    /// ```
    /// assert_eq!(telemetry::Report::example().total_count(), 3);
    /// ```
    pub fn total_count(&self) -> u64 {
        self.rows
            .iter()
            .fold(0_u64, |total, r| total.saturating_add(r.count))
    }
}

/// The bucket of a duration in microseconds: how many bounds lie below it.
#[cfg(feature = "reports")]
#[inline]
pub(crate) fn bucket_of_micros(micros: u64) -> usize {
    // `bound[k] = 1000 * 2^k` µs lies below `micros` iff `2^k <= (micros - 1) / 1000`.
    let whole_ms_below = micros.saturating_sub(1) / 1000;
    ((u64::BITS - whole_ms_below.leading_zeros()) as usize).min(BUCKETS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "reports")]
    #[test]
    fn buckets_follow_their_bounds() {
        let bucket_by_bounds = |micros: u64| {
            let ms = micros as f64 / 1000.0;
            REPORT_DURATION_BOUNDS_MS
                .iter()
                .filter(|&&b| b < ms)
                .count()
        };
        for micros in (0..5000).chain([
            999_999,
            1_000_000,
            1_000_001,
            1_048_576_000,
            1_048_576_001,
            u64::MAX,
        ]) {
            assert_eq!(
                bucket_of_micros(micros),
                bucket_by_bounds(micros),
                "{micros}"
            );
        }
        for k in 0..21 {
            let bound = 1000 << k;
            assert_eq!(
                bucket_of_micros(bound),
                k,
                "a bound belongs to its own bucket"
            );
            assert_eq!(bucket_of_micros(bound + 1), k + 1);
        }
    }

    #[test]
    fn quantiles_stay_within_the_bucket_and_the_observed_range() {
        let mut buckets = vec![0; BUCKETS];
        buckets[3] = 90; // (4, 8] ms
        buckets[10] = 10; // (512, 1024] ms
        let h = DurationHistogram {
            sum: 0.0,
            min: 5.0,
            max: 900.0,
            buckets,
        };
        let p50 = h.quantile(0.5);
        assert!((5.0..=8.0).contains(&p50), "{p50}");
        let p95 = h.quantile(0.95);
        assert!((512.0..=900.0).contains(&p95), "{p95}");
        assert_eq!(h.quantile(1.0), 900.0);
    }
}
