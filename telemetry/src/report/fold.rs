//! The worker's side of report mode: tracked calls folded into counters in memory,
//! keyed by what the hot path stored (the site's static spec, the outcome, the error
//! kind's function, the captured values), so that folding a call allocates nothing
//! and formats nothing. [`Fold::drain_rows`] turns the counters into [`ReportRow`]s
//! when the report file is written.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use super::model::{BUCKETS, DurationHistogram, ReportRow, bucket_of_micros};
use crate::catalog::EventSpec;
use crate::error_kind::ErrorKind;
use crate::event::Outcome;
use crate::value::AttrValue;

/// The catalog kind of a `Hashed` value: never in a report (a stable pseudonym of an
/// identifier is an identifier).
const HASHED_KIND: &str = "hashed";

/// Counters of one row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cell {
    pub(crate) count: u64,
    /// Calls with a duration (all of a `#[track]` site's; none of a point event's).
    pub(crate) timed: u64,
    pub(crate) sum_micros: u64,
    pub(crate) min_micros: u64,
    pub(crate) max_micros: u64,
    pub(crate) buckets: [u64; BUCKETS],
}

impl Default for Cell {
    fn default() -> Self {
        Self {
            count: 0,
            timed: 0,
            sum_micros: 0,
            min_micros: u64::MAX,
            max_micros: 0,
            buckets: [0; BUCKETS],
        }
    }
}

impl Cell {
    #[inline]
    fn add(&mut self, micros: Option<u64>) {
        self.count += 1;
        if let Some(us) = micros {
            self.timed += 1;
            self.sum_micros = self.sum_micros.saturating_add(us);
            self.min_micros = self.min_micros.min(us);
            self.max_micros = self.max_micros.max(us);
            self.buckets[bucket_of_micros(us)] += 1;
        }
    }

    fn histogram(&self) -> Option<DurationHistogram> {
        (self.timed > 0).then(|| DurationHistogram {
            sum: self.sum_micros as f64 / 1000.0,
            min: self.min_micros as f64 / 1000.0,
            max: self.max_micros as f64 / 1000.0,
            buckets: self.buckets.to_vec(),
        })
    }
}

/// A fast hasher for keys made of pointers and small integers (FNV-1a over words):
/// the standard library's SipHash costs more than the rest of a fold.
#[derive(Default)]
struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n)
            .wrapping_mul(0x0000_0100_0000_01b3)
            .rotate_left(29);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
}

type Fast = BuildHasherDefault<WordHasher>;

/// The combinations of captured values that share one hash, each with its counters.
type Combinations = Vec<(Box<[Option<AttrValue>]>, Cell)>;

/// One site × outcome × error kind.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct SiteKey {
    spec: usize,
    outcome: u8,
    error_kind: usize,
}

struct SiteRows {
    spec: &'static EventSpec,
    outcome: Outcome,
    error_kind: Option<ErrorKind>,
    /// The calls with no captured value to tell apart (most sites).
    plain: Option<Cell>,
    /// Per combination of captured values (by hash, then by value).
    valued: HashMap<u64, Combinations, Fast>,
    combinations: usize,
    other: Option<Cell>,
}

/// The counters folded since the report file was last written.
pub(crate) struct Fold {
    limit: usize,
    sites: HashMap<SiteKey, SiteRows, Fast>,
    folded: u64,
}

impl std::fmt::Debug for Fold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fold")
            .field("sites", &self.sites.len())
            .field("folded", &self.folded)
            .finish()
    }
}

/// Whether two captured values are the same for a report (floats by their bits, so
/// that a NaN finds its own row).
fn same(a: &Option<AttrValue>, b: &Option<AttrValue>) -> bool {
    match (a, b) {
        (Some(AttrValue::Float(x)), Some(AttrValue::Float(y))) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

fn hash_value(h: &mut WordHasher, v: &Option<AttrValue>) {
    match v {
        None => h.write_u8(0),
        Some(AttrValue::Bool(b)) => h.write_u64(1 + u64::from(*b)),
        Some(AttrValue::Int(i)) => h.write_u64(*i as u64 ^ 0x1111),
        Some(AttrValue::UInt(u)) => h.write_u64(*u ^ 0x2222),
        Some(AttrValue::Float(f)) => h.write_u64(f.to_bits() ^ 0x3333),
        Some(AttrValue::Str(s)) => h.write(s.as_bytes()),
    }
}

impl Fold {
    /// `limit`: the most distinct combinations of captured values kept per site and
    /// outcome; further ones are counted in the site's `_other` row.
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            sites: HashMap::default(),
            folded: 0,
        }
    }

    /// Calls folded since the last drain.
    pub(crate) fn folded(&self) -> u64 {
        self.folded
    }

    /// Folds one call (`micros`: its duration; `None` for a point event). `captured`
    /// are the values in the order of `spec.captures` (`None`: left out).
    #[inline]
    pub(crate) fn add<'v>(
        &mut self,
        spec: &'static EventSpec,
        outcome: Outcome,
        error_kind: Option<ErrorKind>,
        captured: impl Iterator<Item = &'v Option<AttrValue>> + Clone,
        micros: Option<u64>,
    ) {
        self.folded += 1;
        let key = SiteKey {
            spec: std::ptr::from_ref(spec) as usize,
            outcome: outcome as u8,
            error_kind: error_kind.map_or(0, |f| f as usize),
        };
        let limit = self.limit;
        let site = self.sites.entry(key).or_insert_with(|| SiteRows {
            spec,
            outcome,
            error_kind,
            plain: None,
            valued: HashMap::default(),
            combinations: 0,
            other: None,
        });
        // A `Hashed` value is left out by its catalog kind, or, where the kind is
        // `any` (`record!`, a generic or expression capture), by being the only
        // string a call can make at run time.
        let kept = spec.captures.iter().zip(captured).map(|(c, v)| {
            if c.kind == HASHED_KIND || v.as_ref().is_some_and(AttrValue::is_run_time_str) {
                &None
            } else {
                v
            }
        });
        let mut any = false;
        let mut hasher = WordHasher::default();
        for v in kept.clone() {
            any |= v.is_some();
            hash_value(&mut hasher, v);
        }
        if !any {
            site.plain.get_or_insert_with(Cell::default).add(micros);
            return;
        }
        let hash = hasher.finish();
        let found = site.valued.get_mut(&hash).and_then(|bucket| {
            bucket
                .iter_mut()
                .find(|(values, _)| values.iter().zip(kept.clone()).all(|(a, b)| same(a, b)))
        });
        if let Some((_, cell)) = found {
            cell.add(micros);
        } else if site.combinations < limit {
            site.combinations += 1;
            let mut cell = Cell::default();
            cell.add(micros);
            site.valued
                .entry(hash)
                .or_default()
                .push((kept.cloned().collect(), cell));
        } else {
            // Past the limit nothing new is kept, not even an empty bucket: a value
            // that never repeats (a counter) must not grow the map call by call.
            site.other.get_or_insert_with(Cell::default).add(micros);
        }
    }

    /// The folded counters as rows (attributes: `defaults`, then the site's literals,
    /// then its captured values), leaving the fold empty.
    pub(crate) fn drain_rows(
        &mut self,
        tool_version: &str,
        defaults: &BTreeMap<std::borrow::Cow<'static, str>, AttrValue>,
    ) -> Vec<ReportRow> {
        self.folded = 0;
        let mut rows = Vec::new();
        for (_, site) in self.sites.drain() {
            let base = |attrs: BTreeMap<String, AttrValue>, other: bool, cell: &Cell| ReportRow {
                event: site.spec.name.to_owned(),
                tool_version: tool_version.to_owned(),
                outcome: site.outcome,
                error_kind: site.error_kind.map(|kind| kind().to_wire()),
                attrs,
                other,
                count: cell.count,
                duration_ms: cell.histogram(),
            };
            // A default attribute made at run time is a `Hashed` digest: left out.
            let mut literal: BTreeMap<String, AttrValue> = defaults
                .iter()
                .filter(|(_, v)| !v.is_run_time_str())
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            for (k, v) in site.spec.attrs {
                literal.insert((*k).to_owned(), v.clone());
            }
            if let Some(cell) = &site.plain {
                rows.push(base(literal.clone(), false, cell));
            }
            for (values, cell) in site.valued.values().flatten() {
                let mut attrs = literal.clone();
                for (c, v) in site.spec.captures.iter().zip(values.iter()) {
                    if let Some(v) = v {
                        attrs.insert(c.key.to_owned(), v.clone());
                    }
                }
                rows.push(base(attrs, false, cell));
            }
            if let Some(cell) = &site.other {
                rows.push(base(BTreeMap::new(), true, cell));
            }
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CaptureSpec;

    static PLAIN: EventSpec = EventSpec::new("cmd.plain", &[], &[], "m");
    static CAPTURING: EventSpec = EventSpec::new(
        "cmd.capturing",
        &[],
        &[
            CaptureSpec::new("jobs", "int"),
            CaptureSpec::new("project", HASHED_KIND),
        ],
        "m",
    );

    fn ms(n: u64) -> Option<u64> {
        Some(n * 1000)
    }

    #[test]
    fn calls_of_one_site_and_outcome_fold_into_one_row() {
        let mut fold = Fold::new(10);
        for d in [1, 3, 900] {
            fold.add(&PLAIN, Outcome::Ok, None, std::iter::empty(), ms(d));
        }
        fold.add(&PLAIN, Outcome::Error, None, std::iter::empty(), ms(2));
        let mut rows = fold.drain_rows("1.0", &BTreeMap::new());
        rows.sort_by_key(|r| r.outcome.as_str());
        assert_eq!(rows.len(), 2);
        let ok = rows.iter().find(|r| r.outcome == Outcome::Ok).unwrap();
        assert_eq!(ok.count, 3);
        let h = ok.duration_ms.as_ref().unwrap();
        assert_eq!((h.min, h.max, h.sum), (1.0, 900.0, 904.0));
        assert_eq!(h.buckets.iter().sum::<u64>(), 3);
        assert_eq!(fold.folded(), 0, "drained");
        assert!(fold.drain_rows("1.0", &BTreeMap::new()).is_empty());
    }

    #[test]
    fn combinations_past_the_limit_go_to_other_and_hashed_values_never_count() {
        let mut fold = Fold::new(3);
        let secret = Some(AttrValue::owned_str("0123abcd".into()));
        for jobs in 0..10_i64 {
            let values = [Some(AttrValue::Int(jobs % 5)), secret.clone()];
            fold.add(&CAPTURING, Outcome::Ok, None, values.iter(), ms(1));
        }
        let rows = fold.drain_rows("1.0", &BTreeMap::new());
        let other: Vec<_> = rows.iter().filter(|r| r.other).collect();
        assert_eq!(other.len(), 1);
        assert_eq!(other[0].count, 4, "jobs 3 and 4, twice each");
        assert!(other[0].attrs.is_empty());
        let kept: Vec<_> = rows.iter().filter(|r| !r.other).collect();
        assert_eq!(kept.len(), 3);
        assert!(
            kept.iter()
                .all(|r| r.count == 2 && !r.attrs.contains_key("project"))
        );
        assert_eq!(rows.iter().map(|r| r.count).sum::<u64>(), 10);
    }

    #[test]
    fn values_past_the_limit_keep_no_memory() {
        let mut fold = Fold::new(2);
        for jobs in 0..10_000_i64 {
            let values = [Some(AttrValue::Int(jobs)), None];
            fold.add(&CAPTURING, Outcome::Ok, None, values.iter(), None);
        }
        let site = fold.sites.values().next().unwrap();
        assert_eq!(site.valued.values().map(Vec::len).sum::<usize>(), 2);
        assert!(site.valued.len() <= 2, "{} buckets", site.valued.len());
        assert_eq!(site.other.as_ref().unwrap().count, 9_998);
    }

    #[test]
    fn a_hashed_default_attribute_never_enters_a_row() {
        // `attrs!(project = Hashed::new(..))` built while another context is installed
        // holds a digest.
        let defaults = BTreeMap::from([
            (
                std::borrow::Cow::Borrowed("project"),
                AttrValue::owned_str("0123456789abcdef0123456789abcdef".into()),
            ),
            (std::borrow::Cow::Borrowed("ci"), AttrValue::Bool(false)),
        ]);
        let mut fold = Fold::new(5);
        fold.add(&PLAIN, Outcome::Ok, None, std::iter::empty(), ms(1));
        let rows = fold.drain_rows("1", &defaults);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].attrs,
            BTreeMap::from([("ci".to_owned(), AttrValue::Bool(false))])
        );
    }

    #[test]
    fn a_nan_finds_its_own_row() {
        static FLOATY: EventSpec = EventSpec::new(
            "cmd.floaty",
            &[],
            &[CaptureSpec::new("ratio", "float")],
            "m",
        );
        let mut fold = Fold::new(5);
        for _ in 0..3 {
            fold.add(
                &FLOATY,
                Outcome::Ok,
                None,
                [Some(AttrValue::Float(f64::NAN))].iter(),
                None,
            );
        }
        let rows = fold.drain_rows("1", &BTreeMap::new());
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].count, 3);
        assert!(
            rows[0].duration_ms.is_none(),
            "point events have no duration"
        );
    }
}
