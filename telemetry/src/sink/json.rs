//! The JSON form of events, as the file, writer and HTTP sinks and the spool write it
//! (and the string and value primitives the PostHog sink writes its own shape with).
//!
//! Written field by field into one buffer, with the crate's JSON writer
//! (`util::json::write`): a string is first checked with a loop the compiler
//! vectorises and copied whole when nothing in it needs escaping (the common case:
//! ids, names, keys and timestamps never do). Nothing here can fail: the buffer is a
//! `Vec`.

use crate::event::Event;
#[cfg(feature = "spool")]
use crate::event::{SPOOL_FORMAT, SPOOL_PROCESS_LINE};
use crate::util::json::write;
use crate::value::AttrValue;

/// About the length of one event's line in the spool (150–250 bytes with a few
/// attributes, without the process's fields): a buffer for `n` lines starts at `n`
/// times this, so it is seldom grown.
#[cfg(feature = "spool")]
pub(crate) const TYPICAL_SPOOL_LINE: usize = 256;

/// Serialises events as JSON lines (one `\n`-terminated line per event) into `out`.
pub(crate) fn write_json_lines(out: &mut Vec<u8>, events: &[Event]) {
    for event in events {
        write_event(out, event);
        out.push(b'\n');
    }
}

/// Serialises events as one JSON array (`[{..},{..}]`) into `out`.
#[cfg(feature = "http")]
pub(crate) fn write_json_array(out: &mut Vec<u8>, events: &[Event]) {
    out.push(b'[');
    for (i, event) in events.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_event(out, event);
    }
    out.push(b']');
}

/// The fields every event of one process shares: written into each event's line for
/// a sink, once per run of lines in the spool ([`SpoolLines`]).
#[derive(Clone, Copy)]
pub(crate) struct ProcessFields<'a> {
    pub(crate) tool: &'a str,
    pub(crate) tool_version: &'a str,
    pub(crate) machine_id: &'a str,
    pub(crate) session_id: &'a str,
    pub(crate) os: &'a str,
    pub(crate) arch: &'a str,
}

/// One event's fields, borrowed: what a JSON line is written from, whether an
/// [`Event`] holds them or the worker reads them straight from a queued call (the
/// spool's lines at an exit, with no `Event` made: `EventFactory::write_spool_lines`).
/// One writer for both, so the two cannot drift apart.
pub(crate) struct EventFields<'a> {
    pub(crate) event_id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) timestamp_utc: &'a str,
    pub(crate) duration_ms: Option<f64>,
    pub(crate) outcome: crate::event::Outcome,
    pub(crate) error_kind: Option<&'a str>,
}

impl<'a> From<&'a Event> for EventFields<'a> {
    fn from(e: &'a Event) -> Self {
        Self {
            event_id: &e.event_id,
            name: &e.name,
            timestamp_utc: &e.timestamp_utc,
            duration_ms: e.duration_ms,
            outcome: e.outcome,
            error_kind: e.error_kind.as_deref(),
        }
    }
}

impl PartialEq for ProcessFields<'_> {
    /// Compared for every spool line: the events of one process share their strings
    /// (`Arc`s, or the worker's own), so the same address and length settle it
    /// before any byte is compared.
    fn eq(&self, other: &Self) -> bool {
        let same = |a: &str, b: &str| std::ptr::eq(a, b) || a == b;
        same(self.tool, other.tool)
            && same(self.tool_version, other.tool_version)
            && same(self.machine_id, other.machine_id)
            && same(self.session_id, other.session_id)
            && same(self.os, other.os)
            && same(self.arch, other.arch)
    }
}

impl<'a> From<&'a Event> for ProcessFields<'a> {
    fn from(e: &'a Event) -> Self {
        Self {
            tool: &e.tool,
            tool_version: &e.tool_version,
            machine_id: &e.machine_id,
            session_id: &e.session_id,
            os: &e.os,
            arch: &e.arch,
        }
    }
}

// Here rather than in `event`, which the sinks' layer sits above.
impl Event {
    /// The event as one line of JSON, exactly as the built-in sinks write it: the
    /// fields in the order above, `duration_ms` and `error_kind` only when present,
    /// `attrs` an object sorted by key, a float that is not finite as `null`. For a
    /// sink of one's own that sends JSON.
    ///
    /// ```
    /// let line = telemetry::Event::example().to_json();
    /// assert!(line.starts_with(r#"{"event_id":""#));
    /// assert!(line.ends_with(r#","outcome":"ok","attrs":{"jobs":4}}"#));
    /// ```
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(384);
        write_event(&mut out, self);
        // The writer writes UTF-8 only: the fallback is never taken.
        String::from_utf8(out).unwrap_or_default()
    }
}

/// One event: its fields in the documented order (`event_id`, `name`, `tool`,
/// `tool_version`, `machine_id`, `session_id`, `timestamp_utc`, `os`, `arch`,
/// `duration_ms` if any, `outcome`, `error_kind` if any, `attrs`).
pub(crate) fn write_event(out: &mut Vec<u8>, e: &Event) {
    let attrs = e.attrs.iter().map(|(k, v)| (&**k, v));
    write_fields(out, &e.into(), Some(&e.into()), attrs)
}

/// Writes `fields`, with the process's fields in their places if `process` is given
/// (an event's full form) or without them (the spool's form, under a process line).
fn write_fields<'v>(
    out: &mut Vec<u8>,
    e: &EventFields<'_>,
    process: Option<&ProcessFields<'_>>,
    attrs: impl IntoIterator<Item = (&'v str, &'v AttrValue)>,
) {
    out.extend_from_slice(b"{\"event_id\":");
    write::str(out, e.event_id);
    out.extend_from_slice(b",\"name\":");
    write::str(out, e.name);
    if let Some(p) = process {
        for (key, value) in [
            (&b",\"tool\":"[..], p.tool),
            (b",\"tool_version\":", p.tool_version),
            (b",\"machine_id\":", p.machine_id),
            (b",\"session_id\":", p.session_id),
        ] {
            out.extend_from_slice(key);
            write::str(out, value);
        }
    }
    out.extend_from_slice(b",\"timestamp_utc\":");
    write::str(out, e.timestamp_utc);
    if let Some(p) = process {
        out.extend_from_slice(b",\"os\":");
        write::str(out, p.os);
        out.extend_from_slice(b",\"arch\":");
        write::str(out, p.arch);
    }
    if let Some(duration) = e.duration_ms {
        out.extend_from_slice(b",\"duration_ms\":");
        write::f64(out, duration);
    }
    out.extend_from_slice(b",\"outcome\":");
    write::str(out, e.outcome.as_str());
    if let Some(kind) = e.error_kind {
        out.extend_from_slice(b",\"error_kind\":");
        write::str(out, kind);
    }
    out.extend_from_slice(b",\"attrs\":");
    write_attrs(out, attrs);
    out.push(b'}');
}

/// The spool's form of a batch: a process line (`{"spool":2,"tool":..,"arch":..}`),
/// then each event of that process without those six fields, one per line; another
/// process line where the process changes (a rewritten rest can join the batches
/// of several runs). Half the bytes of full events, so half the writing and less
/// to sync at an exit (`event::wire` reads both forms back; files of full events,
/// from earlier versions, stay readable).
#[cfg(feature = "spool")]
pub(crate) struct SpoolLines<'o, 'p> {
    out: &'o mut Vec<u8>,
    process: Option<ProcessFields<'p>>,
}

#[cfg(feature = "spool")]
impl<'o, 'p> SpoolLines<'o, 'p> {
    pub(crate) fn new(out: &'o mut Vec<u8>) -> Self {
        Self { out, process: None }
    }

    /// Appends one event's line (after a process line if `process` is not the
    /// previous line's).
    pub(crate) fn push<'v>(
        &mut self,
        process: ProcessFields<'p>,
        fields: &EventFields<'_>,
        attrs: impl IntoIterator<Item = (&'v str, &'v AttrValue)>,
    ) {
        if self.process != Some(process) {
            self.write_process(&process);
            self.process = Some(process);
        }
        write_fields(self.out, fields, None, attrs);
        self.out.push(b'\n');
    }

    /// Appends every event of `events`.
    pub(crate) fn extend(&mut self, events: &'p [Event]) {
        for e in events {
            let attrs = e.attrs.iter().map(|(k, v)| (&**k, v));
            self.push(e.into(), &e.into(), attrs);
        }
    }

    fn write_process(&mut self, p: &ProcessFields<'_>) {
        let out = &mut *self.out;
        out.extend_from_slice(SPOOL_PROCESS_LINE);
        write::u64(out, u64::from(SPOOL_FORMAT));
        for (key, value) in [
            (&b"\"tool\":"[..], p.tool),
            (b"\"tool_version\":", p.tool_version),
            (b"\"machine_id\":", p.machine_id),
            (b"\"session_id\":", p.session_id),
            (b"\"os\":", p.os),
            (b"\"arch\":", p.arch),
        ] {
            out.push(b',');
            out.extend_from_slice(key);
            write::str(out, value);
        }
        out.extend_from_slice(b"}\n");
    }
}

/// Every event of `events` in the spool's form ([`SpoolLines`]).
#[cfg(feature = "spool")]
pub(crate) fn write_spool_lines(out: &mut Vec<u8>, events: &[Event]) {
    SpoolLines::new(out).extend(events);
}

fn write_attrs<'v>(out: &mut Vec<u8>, attrs: impl IntoIterator<Item = (&'v str, &'v AttrValue)>) {
    out.push(b'{');
    for (i, (key, value)) in attrs.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write::str(out, key);
        out.push(b':');
        write_value(out, value);
    }
    out.push(b'}');
}

/// One attribute value as a plain JSON value (`true`, `4`, `0.5`, `"x"`; `null` for a
/// float that is not finite).
pub(crate) fn write_value(out: &mut Vec<u8>, value: &AttrValue) {
    match value {
        AttrValue::Bool(true) => out.extend_from_slice(b"true"),
        AttrValue::Bool(false) => out.extend_from_slice(b"false"),
        AttrValue::Int(n) => write::i64(out, *n),
        AttrValue::UInt(n) => write::u64(out, *n),
        AttrValue::Float(f) => write::f64(out, *f),
        AttrValue::Str(s) => write::str(out, s),
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::sync::Arc;

    use super::*;
    use crate::event::Outcome;

    /// A small deterministic generator (xorshift), so a failure names its seed.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn pick<T: Copy>(&mut self, items: &[T]) -> T {
            items[(self.next() % items.len() as u64) as usize]
        }

        /// A string mixing plain text with every kind of character JSON treats
        /// specially, and multi-byte UTF-8.
        fn string(&mut self) -> String {
            const PIECES: &[&str] = &[
                "cmd.build",
                "a",
                "release",
                "\"",
                "\\",
                "\n",
                "\t",
                "\r",
                "\u{0}",
                "\u{1f}",
                "\u{7f}",
                "/",
                "é",
                "日本",
                "😀",
                "\u{2028}",
                " ",
                "{}",
                "'",
                "-",
            ];
            let len = self.next() % 6;
            (0..len).map(|_| self.pick(PIECES)).collect()
        }

        fn value(&mut self) -> AttrValue {
            match self.next() % 6 {
                0 => AttrValue::Bool(self.next().is_multiple_of(2)),
                1 => AttrValue::Int(self.pick(&[0, -1, 42, i64::MIN, i64::MAX])),
                2 => AttrValue::UInt(self.pick(&[u64::MAX, 1 << 63])),
                3 => AttrValue::Float(self.pick(&[
                    0.0,
                    -0.0,
                    0.1,
                    1.5e300,
                    -2.25e-300,
                    f64::NAN,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    f64::MAX,
                    f64::MIN_POSITIVE,
                ])),
                4 => AttrValue::owned_str(self.string()),
                _ => AttrValue::literal("release_lto"),
            }
        }

        fn event(&mut self) -> Event {
            let mut e = Event::now(
                Cow::Owned(self.string()),
                Arc::from(self.string()),
                Arc::from(self.string()),
                Arc::from(self.string()),
            );
            e.session_id = Arc::from(self.string());
            e.os = Arc::from(self.string());
            if self.next().is_multiple_of(4) {
                e.event_id = self.string();
                e.timestamp_utc = self.string();
                e.arch = Arc::from(self.string());
            }
            e.duration_ms = match self.next() % 3 {
                0 => None,
                1 => Some(self.pick(&[0.0, 0.001, 12.345, 1e21, f64::NAN, f64::INFINITY])),
                _ => Some((self.next() % 10_000_000) as f64 / 1000.0),
            };
            e.outcome = self.pick(&[
                Outcome::Ok,
                Outcome::Error,
                Outcome::Panic,
                Outcome::Cancelled,
                Outcome::Interrupted,
            ]);
            e.error_kind = (self.next().is_multiple_of(2)).then(|| self.string());
            for _ in 0..self.next() % 5 {
                let key = self.string();
                let value = self.value();
                e.attrs.insert(Cow::Owned(key), value);
            }
            e
        }
    }

    /// What a line must say, built from the event's accessors with `serde_json` (an
    /// independent writer and reader): numbers compare by value, a float that is not
    /// finite is `null`.
    fn reference(e: &Event) -> serde_json::Value {
        use serde_json::{Value, json};
        let value = crate::value::to_serde;
        let mut line = json!({
            "event_id": e.event_id(), "name": e.name(), "tool": e.tool(),
            "tool_version": e.tool_version(), "machine_id": e.machine_id(),
            "session_id": e.session_id(), "timestamp_utc": e.timestamp_utc(), "os": e.os(),
            "arch": e.arch(), "outcome": e.outcome().as_str(),
            "attrs": e.attrs().iter().map(|(k, v)| (k.to_string(), value(v)))
                .collect::<serde_json::Map<String, Value>>(),
        });
        if let Some(d) = e.duration_ms() {
            line["duration_ms"] = json!(d);
        }
        if let Some(kind) = e.error_kind() {
            line["error_kind"] = json!(kind);
        }
        line
    }

    /// The keys of a JSON object's text, in order (serde_json's `Value` sorts them).
    fn top_level_keys(line: &[u8]) -> Vec<String> {
        let mut keys = Vec::new();
        // Each top-level key is a string followed by `:` at depth 1.
        let text = std::str::from_utf8(line).unwrap();
        let (mut depth, mut in_str, mut esc, mut start) = (0, false, false, 0);
        for (i, c) in text.char_indices() {
            match (in_str, esc, c) {
                (true, true, _) => esc = false,
                (true, false, '\\') => esc = true,
                (true, false, '"') => {
                    in_str = false;
                    if depth == 1 && text[i + 1..].starts_with(':') {
                        keys.push(serde_json::from_str(&text[start..=i]).unwrap());
                    }
                }
                (false, _, '"') => {
                    in_str = true;
                    start = i;
                }
                (false, _, '{' | '[') => depth += 1,
                (false, _, '}' | ']') => depth -= 1,
                _ => {}
            }
        }
        keys
    }

    #[test]
    fn lines_read_back_with_serde_json_as_every_field_of_the_event_in_order() {
        let mut generator = Gen(0x9e37_79b9_7f4a_7c15);
        for round in 0..5_000 {
            let event = generator.event();
            let mut ours = Vec::new();
            write_json_lines(&mut ours, std::slice::from_ref(&event));
            assert_eq!(ours.pop(), Some(b'\n'));
            assert!(!ours.contains(&b'\n'), "one line");
            let read: serde_json::Value = serde_json::from_slice(&ours).unwrap_or_else(|e| {
                panic!("round {round}: {e}: {}", String::from_utf8_lossy(&ours))
            });
            assert_eq!(read, reference(&event), "round {round}: {event:?}");
            let mut order = vec!["event_id", "name", "tool", "tool_version", "machine_id"];
            order.extend(["session_id", "timestamp_utc", "os", "arch"]);
            order.extend(event.duration_ms().map(|_| "duration_ms"));
            order.push("outcome");
            order.extend(event.error_kind().map(|_| "error_kind"));
            order.push("attrs");
            assert_eq!(top_level_keys(&ours), order, "round {round}");
        }
    }

    #[cfg(feature = "http")]
    #[test]
    fn arrays_hold_each_event_as_its_line_says() {
        let mut generator = Gen(7);
        for len in 0..6 {
            let events: Vec<Event> = (0..len).map(|_| generator.event()).collect();
            let mut ours = Vec::new();
            write_json_array(&mut ours, &events);
            let read: serde_json::Value = serde_json::from_slice(&ours).unwrap();
            let expected: Vec<serde_json::Value> = events.iter().map(reference).collect();
            assert_eq!(read, serde_json::Value::Array(expected), "{events:?}");
        }
    }

    /// Events as the worker makes them (valid names, keys and values), from
    /// `processes` processes in turn: what a spool file holds.
    #[cfg(feature = "spool")]
    fn spoolable(generator: &mut Gen, n: usize, processes: u64) -> Vec<Event> {
        (0..n)
            .map(|i| {
                let p = generator.next() % processes;
                let mut e = Event::now(
                    Cow::Borrowed("cmd.build"),
                    Arc::from(format!("tool{p}")),
                    Arc::from("1.0.0"),
                    Arc::from(format!("{p:064x}")),
                );
                e.session_id = Arc::from(format!("00000000-0000-4000-8000-{p:012}"));
                e.duration_ms = (i % 2 == 0).then_some(i as f64 / 8.0);
                e.error_kind = (i % 3 == 0).then(|| "std::io::Error".to_owned());
                e.attrs
                    .insert(Cow::Borrowed("jobs"), AttrValue::Int(i as i64));
                e.attrs
                    .insert(Cow::Borrowed("mode"), AttrValue::literal("release"));
                e
            })
            .collect()
    }

    #[cfg(feature = "spool")]
    #[test]
    fn the_spool_form_reads_back_as_the_same_events_with_half_the_bytes() {
        let mut generator = Gen(11);
        for processes in [1, 2, 3] {
            let events = spoolable(&mut generator, 300, processes);
            let mut spool = Vec::new();
            write_spool_lines(&mut spool, &events);
            let mut back = Vec::new();
            crate::event::wire::spool_events(&spool, |e| back.push(e.unwrap()));
            assert_eq!(back, events, "{processes} processes");
            let process_lines = spool
                .split(|&b| b == b'\n')
                .filter(|l| l.starts_with(SPOOL_PROCESS_LINE))
                .count();
            let changes = 1 + events
                .windows(2)
                .filter(|w| ProcessFields::from(&w[0]) != ProcessFields::from(&w[1]))
                .count();
            assert_eq!(process_lines, changes);
            if processes == 1 {
                let mut full = Vec::new();
                write_json_lines(&mut full, &events);
                assert!(
                    spool.len() * 2 < full.len(),
                    "{} vs {}",
                    spool.len(),
                    full.len()
                );
            }
        }
    }

    #[cfg(feature = "spool")]
    #[test]
    fn spool_lines_without_a_known_process_line_are_refused_and_full_lines_still_read() {
        let events = spoolable(&mut Gen(5), 3, 1);
        let mut spool = Vec::new();
        write_spool_lines(&mut spool, &events);
        let text = String::from_utf8(spool).unwrap();
        let (process, rest) = text.split_once('\n').unwrap();
        let read = |text: &str| {
            let mut out = Vec::new();
            crate::event::wire::spool_events(text.as_bytes(), |e| out.push(e));
            out
        };
        // No process line: every event line is refused.
        assert!(
            read(rest)
                .iter()
                .all(|e| matches!(e, Err(crate::event::wire::Refused::NoProcess)))
        );
        // A later format's process line: refused, and the lines it heads too.
        let later = process.replace("\"spool\":2", "\"spool\":3");
        let refused = read(&format!("{later}\n{rest}"));
        assert_eq!(refused.len(), 4);
        assert!(matches!(
            refused[0],
            Err(crate::event::wire::Refused::Format(3))
        ));
        assert!(refused[1..].iter().all(Result::is_err));
        // A broken process line ends the one before it.
        let broken = read(&format!("{process}\n{rest}{{\"spool\":2,\"tool\"\n{rest}"));
        assert_eq!(broken.iter().filter(|e| e.is_ok()).count(), 3);
        assert_eq!(broken.len(), 7);
        // Blanks before a process line, blank lines and CRLF endings change nothing
        // (as `spool_files::EventCount` counts them); the process is the new one.
        let crlf = rest.replace('\n', "\r\n");
        let spaced = read(&format!("{rest}\n  {process}\r\n \r\n{crlf}"));
        assert_eq!(spaced.len(), 6);
        assert!(
            spaced[..3].iter().all(Result::is_err),
            "no process line yet"
        );
        assert!(spaced[3..].iter().all(Result::is_ok));
        // Full lines (a file of an earlier version) need none, before or after one.
        let mut full = Vec::new();
        write_json_lines(&mut full, &events);
        let full = String::from_utf8(full).unwrap();
        let mixed = read(&format!("{full}{process}\n{rest}{full}"));
        assert_eq!(mixed.len(), 9);
        assert!(mixed.iter().all(Result::is_ok));
    }
}
