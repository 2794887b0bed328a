//! The JSON form of events, as the file, writer and HTTP sinks and the spool write it
//! (and the string and value primitives the PostHog sink writes its own shape with).
//!
//! Written field by field rather than through `serde_json::to_writer(&event)`: the
//! output is byte for byte the same (a test compares the two over thousands of
//! generated events, including every character that needs escaping), but
//! `serde_json` escapes each string one byte at a time, which was a third of the
//! delivery worker's time. Here a string is first checked with a loop the compiler
//! vectorises and copied whole when nothing in it needs escaping (the common case:
//! ids, names, keys and timestamps never do); only the rare string that does, and the
//! numbers, go through `serde_json`.

use std::collections::BTreeMap;

use crate::error::TelemetryError;
use crate::event::Event;
use crate::value::AttrValue;

/// Serialises events as JSON lines (one `\n`-terminated line per event) into `out`.
pub(crate) fn write_json_lines(out: &mut Vec<u8>, events: &[Event]) -> Result<(), TelemetryError> {
    for event in events {
        write_event(out, event).map_err(serde_error)?;
        out.push(b'\n');
    }
    Ok(())
}

/// Serialises events as one JSON array (`[{..},{..}]`) into `out`.
#[cfg(feature = "http")]
pub(crate) fn write_json_array(out: &mut Vec<u8>, events: &[Event]) -> Result<(), TelemetryError> {
    out.push(b'[');
    for (i, event) in events.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_event(out, event).map_err(serde_error)?;
    }
    out.push(b']');
    Ok(())
}

fn serde_error(source: serde_json::Error) -> TelemetryError {
    TelemetryError::Serde {
        what: "event",
        source,
    }
}

/// One event, in the field order and with the omissions of `Event`'s `Serialize`.
fn write_event(out: &mut Vec<u8>, e: &Event) -> Result<(), serde_json::Error> {
    let fields: [(&[u8], &str); 9] = [
        (b"{\"event_id\":", &e.event_id),
        (b",\"name\":", &e.name),
        (b",\"tool\":", &e.tool),
        (b",\"tool_version\":", &e.tool_version),
        (b",\"machine_id\":", &e.machine_id),
        (b",\"session_id\":", &e.session_id),
        (b",\"timestamp_utc\":", &e.timestamp_utc),
        (b",\"os\":", &e.os),
        (b",\"arch\":", &e.arch),
    ];
    for (key, value) in fields {
        out.extend_from_slice(key);
        write_str(out, value)?;
    }
    if let Some(duration) = e.duration_ms {
        out.extend_from_slice(b",\"duration_ms\":");
        serde_json::to_writer(&mut *out, &duration)?;
    }
    out.extend_from_slice(b",\"outcome\":");
    write_str(out, e.outcome.as_str())?;
    if let Some(kind) = &e.error_kind {
        out.extend_from_slice(b",\"error_kind\":");
        write_str(out, kind)?;
    }
    out.extend_from_slice(b",\"attrs\":");
    write_attrs(out, &e.attrs)?;
    out.push(b'}');
    Ok(())
}

fn write_attrs(
    out: &mut Vec<u8>,
    attrs: &BTreeMap<std::borrow::Cow<'static, str>, AttrValue>,
) -> Result<(), serde_json::Error> {
    out.push(b'{');
    for (i, (key, value)) in attrs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, key)?;
        out.push(b':');
        write_value(out, value)?;
    }
    out.push(b'}');
    Ok(())
}

/// One attribute value as a plain JSON value (`true`, `4`, `0.5`, `"x"`), as
/// `AttrValue`'s `Serialize` writes it.
pub(crate) fn write_value(out: &mut Vec<u8>, value: &AttrValue) -> Result<(), serde_json::Error> {
    match value {
        AttrValue::Bool(true) => out.extend_from_slice(b"true"),
        AttrValue::Bool(false) => out.extend_from_slice(b"false"),
        AttrValue::Int(n) => serde_json::to_writer(&mut *out, n)?,
        AttrValue::UInt(n) => serde_json::to_writer(&mut *out, n)?,
        // `null` for a non-finite value, like serde_json.
        AttrValue::Float(f) => serde_json::to_writer(&mut *out, f)?,
        AttrValue::Str(s) => write_str(out, s)?,
    }
    Ok(())
}

/// A JSON string: copied whole when no byte needs escaping, else escaped by
/// `serde_json` (which escapes `"`, `\` and the control characters below U+0020, and
/// nothing else).
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) -> Result<(), serde_json::Error> {
    if needs_escaping(s.as_bytes()) {
        return serde_json::to_writer(&mut *out, s);
    }
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
    Ok(())
}

/// Whether any byte is `"`, `\` or a control character. No early exit, so the loop
/// is vectorised (the strings are short: scanning all of one costs less than a branch
/// per byte).
fn needs_escaping(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
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

    #[test]
    fn lines_are_byte_for_byte_what_serde_json_writes() {
        let mut generator = Gen(0x9e37_79b9_7f4a_7c15);
        for round in 0..5_000 {
            let event = generator.event();
            let mut ours = Vec::new();
            write_json_lines(&mut ours, std::slice::from_ref(&event)).unwrap();
            let mut reference = serde_json::to_vec(&event).unwrap();
            reference.push(b'\n');
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&reference),
                "round {round}: {event:?}"
            );
        }
    }

    #[cfg(feature = "http")]
    #[test]
    fn arrays_are_what_serde_json_writes_for_a_slice() {
        let mut generator = Gen(7);
        for len in 0..6 {
            let events: Vec<Event> = (0..len).map(|_| generator.event()).collect();
            let mut ours = Vec::new();
            write_json_array(&mut ours, &events).unwrap();
            assert_eq!(ours, serde_json::to_vec(&events).unwrap(), "{events:?}");
        }
    }

    #[test]
    fn only_quotes_backslashes_and_control_characters_need_escaping() {
        for b in 0..=255u8 {
            let expected = b < 0x20 || b == b'"' || b == b'\\';
            assert_eq!(needs_escaping(&[b'a', b, b'z']), expected, "byte {b:#x}");
        }
        assert!(!needs_escaping(b""));
    }
}
