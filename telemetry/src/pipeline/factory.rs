//! From a queued call to what a sink reads: an [`Event`], or, for the spool at an
//! exit, its JSON line written straight from the queued call with no `Event` made.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use crate::clock;
use crate::event::Event;
use crate::identity::MachineId;
use crate::pipeline::{Pending, What};
#[cfg(feature = "spool")]
use crate::sink::{EventFields, ProcessFields, SpoolLines};
use crate::util::time::Rfc3339Millis;
use crate::value::AttrValue;

/// Everything the worker needs to turn a [`Pending`] into an [`Event`].
pub(crate) struct EventFactory {
    pub(crate) tool: Arc<str>,
    pub(crate) tool_version: Arc<str>,
    pub(crate) salt: String,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) default_attrs: BTreeMap<Cow<'static, str>, AttrValue>,
    machine_id: OnceLock<Arc<str>>,
    /// Wall-clock and monotonic time read together, to date events from their
    /// monotonic timestamp without a second clock read on the hot path.
    anchor: (SystemTime, Instant),
    platform: (Arc<str>, Arc<str>),
}

impl std::fmt::Debug for EventFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventFactory")
            .field("tool", &self.tool)
            .field("tool_version", &self.tool_version)
            .finish_non_exhaustive()
    }
}

/// What differs between the events of one process, read from a queued call.
struct Variable {
    name: &'static str,
    wall: SystemTime,
    duration_ms: Option<f64>,
    error_kind: Option<String>,
}

impl EventFactory {
    pub(crate) fn new(
        tool: &'static str,
        tool_version: &'static str,
        salt: String,
        data_dir: Option<PathBuf>,
        default_attrs: BTreeMap<Cow<'static, str>, AttrValue>,
    ) -> Self {
        Self {
            tool: tool.into(),
            tool_version: tool_version.into(),
            salt,
            data_dir,
            default_attrs,
            machine_id: OnceLock::new(),
            anchor: (SystemTime::now(), Instant::now()),
            platform: crate::event::platform(),
        }
    }

    /// The salted machine id, derived on first use (on the worker thread, never on
    /// the recording path, and never when disabled).
    pub(crate) fn machine_id(&self) -> &Arc<str> {
        self.machine_id.get_or_init(|| {
            match &self.data_dir {
                Some(dir) => MachineId::derive_in(&self.salt, dir),
                None => MachineId::derive(&self.salt),
            }
            .into()
        })
    }

    /// The parts of `p` that are not the same for every event of this process.
    fn variable(&self, p: &Pending) -> Variable {
        let at = clock::to_instant(p.end);
        let wall = self.anchor.0 + at.saturating_duration_since(self.anchor.1);
        let (name, duration_ms, error_kind) = match &p.what {
            What::Call {
                spec,
                start,
                error_kind,
                ..
            } => (
                spec.name,
                Some(duration_ms(clock::duration(*start, p.end))),
                error_kind.map(|kind| kind().to_wire()),
            ),
            What::Point { spec, .. } => (spec.name, None, None),
        };
        Variable {
            name,
            wall,
            duration_ms,
            error_kind,
        }
    }

    /// Every attribute of a queued event, lowest precedence first: the tool's
    /// defaults, the site's literals, the captured values. A later value of a key
    /// replaces an earlier one. The one statement of that order.
    fn attrs_by_precedence<'a>(
        &'a self,
        what: &'a What,
    ) -> impl Iterator<Item = (Cow<'static, str>, &'a AttrValue)> + 'a {
        let (spec, captured) = match what {
            What::Call { spec, captured, .. } | What::Point { spec, captured } => (*spec, captured),
        };
        // The defaults' keys are `&'static str`s too (`attrs!`): cloning one copies a
        // pointer.
        let defaults = self.default_attrs.iter().map(|(k, v)| (k.clone(), v));
        let literals = spec.attrs.iter().map(|(k, v)| (Cow::Borrowed(*k), v));
        let captures = spec
            .captures
            .iter()
            .zip(captured.iter())
            .filter_map(|(c, v)| Some((Cow::Borrowed(c.key), v.as_ref()?)));
        defaults.chain(literals).chain(captures)
    }

    pub(crate) fn build(&self, p: Pending) -> Event {
        let v = self.variable(&p);
        // Inserted one by one (a later value of a key replaces an earlier one), not
        // collected: the map's bulk build is code of its own in every tool.
        let mut attrs = BTreeMap::new();
        for (k, value) in self.attrs_by_precedence(&p.what) {
            attrs.insert(k, value.clone());
        }
        // Built field by field rather than through `Event::new`, which would read the
        // clock and format a timestamp only for it to be replaced.
        Event {
            event_id: crate::util::random::uuid_v4().to_string(),
            name: Cow::Borrowed(v.name),
            tool: self.tool.clone(),
            tool_version: self.tool_version.clone(),
            machine_id: Arc::clone(self.machine_id()),
            session_id: crate::identity::session_id(),
            timestamp_utc: Rfc3339Millis::of(v.wall).as_str().to_owned(),
            os: Arc::clone(&self.platform.0),
            arch: Arc::clone(&self.platform.1),
            duration_ms: v.duration_ms,
            outcome: p.outcome,
            error_kind: v.error_kind,
            attrs,
        }
    }

    /// Appends the spool's lines of `batch` to `out` ([`SpoolLines`]), byte for
    /// byte what [`build`](Self::build) then `write_spool_lines` would write (but for
    /// the random ids), without making an `Event`: the spool's file at an exit.
    /// Making a thousand events (their ids, timestamps and attribute maps, a
    /// megabyte of fresh memory) was half of that exit's cost.
    #[cfg(feature = "spool")]
    pub(crate) fn write_spool_lines<'p>(
        &self,
        batch: impl IntoIterator<Item = &'p Pending>,
        out: &mut Vec<u8>,
    ) {
        let session_id = crate::identity::session_id();
        let process = ProcessFields {
            tool: &self.tool,
            tool_version: &self.tool_version,
            machine_id: self.machine_id(),
            session_id: &session_id,
            os: &self.platform.0,
            arch: &self.platform.1,
        };
        let mut lines = SpoolLines::new(out);
        let mut attrs: Vec<(Cow<'static, str>, &AttrValue)> = Vec::new();
        for p in batch {
            let v = self.variable(p);
            attrs.clear();
            for (k, value) in self.attrs_by_precedence(&p.what) {
                insert_last_wins(&mut attrs, k, value);
            }
            let id = crate::util::random::uuid_v4().hyphenated();
            // Hex digits and hyphens only: never the empty fallback.
            let event_id = std::str::from_utf8(&id).unwrap_or_default();
            let timestamp = Rfc3339Millis::of(v.wall);
            let fields = EventFields {
                event_id,
                name: v.name,
                timestamp_utc: timestamp.as_str(),
                duration_ms: v.duration_ms,
                outcome: p.outcome,
                error_kind: v.error_kind.as_deref(),
            };
            lines.push(process, &fields, attrs.iter().map(|(k, v)| (&**k, *v)));
        }
    }
}

/// Inserts `(key, value)` into `pairs`, kept in key order with each key once, a
/// later value of a key replacing the earlier one: what inserting into a `BTreeMap`
/// does, without the map (a site has a handful of attributes). No sort: a sort's
/// code, instantiated for this pair type, is kilobytes in every tool.
#[cfg(feature = "spool")]
fn insert_last_wins<K: Ord, V>(pairs: &mut Vec<(K, V)>, key: K, value: V) {
    match pairs.binary_search_by(|(k, _)| k.cmp(&key)) {
        Ok(i) => pairs[i].1 = value,
        Err(i) => pairs.insert(i, (key, value)),
    }
}

/// Milliseconds with microsecond resolution.
fn duration_ms(d: Duration) -> f64 {
    let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    micros as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_is_milliseconds_with_microsecond_resolution() {
        assert_eq!(duration_ms(Duration::from_nanos(1_234_567)), 1.234);
        assert_eq!(duration_ms(Duration::from_secs(2)), 2000.0);
    }

    #[cfg(feature = "spool")]
    mod lines {
        use super::super::*;
        use crate::catalog::{CaptureSpec, EventSpec};
        use crate::event::Outcome;
        use crate::pipeline::Captures;

        // The tool's defaults share keys with a site's literals and captures (a
        // site's own keys are distinct, checked at compile time), so that the
        // precedence decides what is written; more captures than fit inline.
        const LITERALS: &[(&str, AttrValue)] =
            &[("b", AttrValue::Int(1)), ("ci", AttrValue::Bool(false))];
        const CAPTURES: &[CaptureSpec] = &[
            CaptureSpec::new("mode", "any"),
            CaptureSpec::new("a", "int"),
            CaptureSpec::new("zz", "float"),
            CaptureSpec::new("c", "int"),
        ];
        static CALL: EventSpec = EventSpec::new("t.call", LITERALS, CAPTURES, "factory::tests");
        const POINT_CAPTURES: &[CaptureSpec] = &[
            CaptureSpec::new("a", "int"),
            CaptureSpec::new("zz", "float"),
        ];
        static POINT: EventSpec = EventSpec::new("t.point", &[], POINT_CAPTURES, "factory::tests");
        static BARE: EventSpec = EventSpec::new("t.bare", &[], &[], "factory::tests");

        fn factory(defaults: bool) -> EventFactory {
            let defaults = if defaults {
                [
                    ("mode", AttrValue::literal("default")),
                    ("ci", AttrValue::Bool(true)),
                    ("x_default", AttrValue::Float(0.5)),
                ]
                .into_iter()
                .map(|(k, v)| (Cow::Borrowed(k), v))
                .collect()
            } else {
                BTreeMap::new()
            };
            EventFactory::new("tool", "1.2.3", "salt".into(), None, defaults)
        }

        /// Call `i` of a varied batch: every kind of event, captured values present
        /// and left out, errors with a kind.
        fn pending(i: u64) -> Pending {
            let value = |n: u64| match n % 5 {
                0 => None,
                1 => Some(AttrValue::Int(i as i64 - 7)),
                2 => Some(AttrValue::owned_str(format!("v\"{i}\\\n"))),
                3 => Some(AttrValue::Float(i as f64 / 3.0)),
                _ => Some(AttrValue::Bool(i.is_multiple_of(2))),
            };
            let start = crate::clock::now();
            let what = match i % 4 {
                0 | 1 => What::Call {
                    spec: &CALL,
                    start,
                    captured: Captures::from_values([
                        value(i),
                        value(i + 1),
                        value(i + 2),
                        value(i + 3),
                    ]),
                    error_kind: (i % 4 == 1).then_some(
                        crate::error_kind::type_name_of::<std::io::Error>
                            as crate::error_kind::ErrorKind,
                    ),
                },
                2 => What::Point {
                    spec: &POINT,
                    captured: Captures::from_values([value(i), value(i + 2)]),
                },
                _ => What::Call {
                    spec: &BARE,
                    start,
                    captured: Captures::default(),
                    error_kind: None,
                },
            };
            Pending {
                what,
                end: crate::clock::end_of(start),
                outcome: [
                    Outcome::Ok,
                    Outcome::Error,
                    Outcome::Panic,
                    Outcome::Interrupted,
                ][(i % 4) as usize],
            }
        }

        /// The line without its event id (random, and the first field).
        fn without_id(line: &[u8]) -> (&[u8], &[u8]) {
            const PREFIX: &[u8] = b"{\"event_id\":\"";
            assert!(
                line.starts_with(PREFIX),
                "{}",
                String::from_utf8_lossy(line)
            );
            let rest = &line[PREFIX.len()..];
            (&rest[..36], &rest[36..])
        }

        #[test]
        fn lines_from_queued_calls_are_what_the_events_would_write() {
            for defaults in [false, true] {
                let factory = factory(defaults);
                let batch: Vec<Pending> = (0..400).map(pending).collect();
                let mut direct = Vec::new();
                factory.write_spool_lines(&batch, &mut direct);
                let events: Vec<Event> = batch.into_iter().map(|p| factory.build(p)).collect();
                let mut via_events = Vec::new();
                crate::sink::write_spool_lines(&mut via_events, &events);
                let direct: Vec<&[u8]> = direct.split(|&b| b == b'\n').collect();
                let via_events: Vec<&[u8]> = via_events.split(|&b| b == b'\n').collect();
                // One process line, 400 events, the empty rest after the last newline.
                assert_eq!(direct.len(), 402);
                assert_eq!(direct.len(), via_events.len());
                assert!(direct[0].starts_with(crate::event::SPOOL_PROCESS_LINE));
                assert_eq!(direct[0], via_events[0]);
                let mut ids = std::collections::HashSet::new();
                for (a, b) in direct
                    .iter()
                    .zip(&via_events)
                    .skip(1)
                    .filter(|(a, _)| !a.is_empty())
                {
                    let (id, rest) = without_id(a);
                    assert!(uuid::Uuid::parse_str(std::str::from_utf8(id).unwrap()).is_ok());
                    assert!(ids.insert(id.to_vec()), "ids are unique");
                    assert_eq!(
                        String::from_utf8_lossy(rest),
                        String::from_utf8_lossy(without_id(b).1)
                    );
                }
            }
        }

        #[test]
        fn a_sites_literal_or_captured_value_beats_the_tools_default() {
            let factory = factory(true);
            let batch = [Pending {
                what: What::Call {
                    spec: &CALL,
                    start: crate::clock::now(),
                    captured: Captures::from_values([
                        Some(AttrValue::literal("captured")),
                        None,
                        None,
                        None,
                    ]),
                    error_kind: None,
                },
                end: crate::clock::now(),
                outcome: Outcome::Ok,
            }];
            let mut out = Vec::new();
            factory.write_spool_lines(&batch, &mut out);
            let mut read = Vec::new();
            crate::event::wire::spool_events(&out, |e| read.push(e.unwrap()));
            let line: serde_json::Value = serde_json::from_str(&read[0].to_json()).unwrap();
            assert_eq!(
                line["attrs"],
                serde_json::json!({"b": 1, "ci": false, "mode": "captured", "x_default": 0.5})
            );
        }

        #[test]
        fn inserting_keeps_key_order_and_the_last_of_each_key_as_a_map_would() {
            let mut state = 0x2545_f491_4f6c_dd1d_u64;
            for _ in 0..2_000 {
                let mut pairs = Vec::new();
                let mut map = BTreeMap::new();
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                for i in 0..(state % 12) {
                    let key = ["a", "b", "c", "ab", ""][((state >> (i * 3)) % 5) as usize];
                    insert_last_wins(&mut pairs, key, i);
                    map.insert(key, i);
                }
                assert_eq!(pairs, map.into_iter().collect::<Vec<_>>());
            }
        }
    }
}
