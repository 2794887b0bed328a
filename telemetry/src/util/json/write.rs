//! Writing JSON text: strings escaped as `serde_json` escapes them (`"`, `\` and the
//! control characters below U+0020, nothing else), integers in decimal, floats in
//! their shortest form that reads back to the same value, always with a `.` or an
//! exponent so that they read back as floats (`null` if not finite).

use super::Json;

/// A JSON string: copied whole when no byte needs escaping (the common case: ids,
/// names, keys and timestamps never do), else escaped byte by byte.
pub(crate) fn str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    if needs_escaping(s.as_bytes()) {
        escape_into(out, s.as_bytes());
    } else {
        out.extend_from_slice(s.as_bytes());
    }
    out.push(b'"');
}

/// Whether any byte is `"`, `\` or a control character. No early exit, so the loop
/// is vectorised (the strings are short: scanning all of one costs less than a branch
/// per byte).
fn needs_escaping(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

fn escape_into(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x08 => b'b',
            0x0c => b'f',
            0x00..=0x1f => 0,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if short == 0 {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0x0f)]);
        } else {
            out.extend_from_slice(&[b'\\', short]);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// A non-negative integer in decimal, by hand: with `write!` through `fmt` (and floats
/// through `{:?}`) event lines were ~40 % slower to write (BENCHMARKS.md, *Worker*).
pub(crate) fn u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0_u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        // `n % 10` is below 10: the cast cannot truncate.
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

pub(crate) fn i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    u64(out, n.unsigned_abs());
}

/// Below this many thousandths a float that is a whole number of thousandths is
/// written from its integer (at most 15 significant digits: a shorter text for the
/// same `f64` cannot exist, so this is the shortest form too).
const EXACT_THOUSANDTHS: f64 = 1e15;

/// A float: the shortest text that reads back as the same `f64`, with `.0` or an
/// exponent (`1.0`, `0.25`, `1e16`, `1.5e-7`); `null` for NaN and infinities, which
/// JSON cannot hold.
///
/// A whole number of thousandths (every `duration_ms`: microseconds / 1000) is
/// written from its integer, digit by digit; any other float (a captured `f64`) in
/// its shortest round-trip form by `ryu`, rather than the standard library's `{:?}`:
/// that formatter links its exact-precision path too, ~21 KB more in every tool.
pub(crate) fn f64(out: &mut Vec<u8>, f: f64) {
    if !f.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    let thousandths = (f.abs() * 1000.0).round();
    if thousandths < EXACT_THOUSANDTHS && thousandths / 1000.0 == f.abs() {
        if f.is_sign_negative() {
            out.push(b'-');
        }
        // Below 1e15 and whole: the cast is exact.
        let n = thousandths as u64;
        u64(out, n / 1000);
        out.push(b'.');
        let mut frac = n % 1000;
        if frac == 0 {
            out.push(b'0');
            return;
        }
        let mut width = 3;
        while frac.is_multiple_of(10) {
            frac /= 10;
            width -= 1;
        }
        let at = out.len();
        u64(out, frac);
        // Leading zeros of the fraction (`0.05`: `frac` 5, width 2).
        let written = out.len() - at;
        for _ in written..width {
            out.insert(at, b'0');
        }
        return;
    }
    // Writing into a Vec cannot fail.
    out.extend_from_slice(ryu::Buffer::new().format_finite(f).as_bytes());
}

/// `value`, compact (`indent` `None`) or indented by two spaces per level from
/// `indent` (as `serde_json`'s pretty printer: `"key": value`, empty containers `{}`
/// and `[]`).
pub(crate) fn value(out: &mut Vec<u8>, value: &Json, indent: Option<usize>) {
    match value {
        Json::Null => out.extend_from_slice(b"null"),
        Json::Bool(true) => out.extend_from_slice(b"true"),
        Json::Bool(false) => out.extend_from_slice(b"false"),
        Json::Int(n) => i64(out, *n),
        Json::UInt(n) => u64(out, *n),
        Json::Float(f) => f64(out, *f),
        // Checked against the grammar when it was read.
        Json::Number(text) => out.extend_from_slice(text.as_bytes()),
        Json::Str(s) => str(out, s),
        Json::Array(items) => container(out, b'[', b']', items, indent, |out, item, inner| {
            self::value(out, item, inner);
        }),
        Json::Object(members) => {
            container(out, b'{', b'}', members, indent, |out, (k, v), inner| {
                member(out, k, v, inner);
            });
        }
    }
}

/// An object from borrowed members, as [`value`] writes a `Json::Object`: for a
/// document assembled from parts that live elsewhere, without copying them into a
/// tree first.
pub(crate) fn object(out: &mut Vec<u8>, members: &[(&str, &Json)], indent: Option<usize>) {
    container(out, b'{', b'}', members, indent, |out, (k, v), inner| {
        member(out, k, v, inner);
    });
}

/// `"key": value` (`"key":value` compact).
fn member(out: &mut Vec<u8>, key: &str, value: &Json, indent: Option<usize>) {
    str(out, key);
    out.extend_from_slice(if indent.is_some() { b": " } else { b":" });
    self::value(out, value, indent);
}

fn container<T>(
    out: &mut Vec<u8>,
    open: u8,
    close: u8,
    items: &[T],
    indent: Option<usize>,
    mut each: impl FnMut(&mut Vec<u8>, &T, Option<usize>),
) {
    out.push(open);
    let inner = indent.map(|n| n + 1);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        newline(out, inner);
        each(out, item, inner);
    }
    if !items.is_empty() {
        newline(out, indent);
    }
    out.push(close);
}

fn newline(out: &mut Vec<u8>, indent: Option<usize>) {
    if let Some(level) = indent {
        out.push(b'\n');
        out.resize(out.len() + 2 * level, b' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn only_quotes_backslashes_and_control_characters_need_escaping() {
        for b in 0..=255u8 {
            let expected = b < 0x20 || b == b'"' || b == b'\\';
            assert_eq!(needs_escaping(&[b'a', b, b'z']), expected, "byte {b:#x}");
        }
        assert!(!needs_escaping(b""));
    }

    #[test]
    fn strings_are_escaped_exactly_as_serde_json_escapes_them() {
        // Every byte value that can start a character, alone and inside text.
        let mut samples: Vec<String> = (0_u32..0x80)
            .filter_map(char::from_u32)
            .map(|c| c.to_string())
            .collect();
        samples.extend(
            [
                "",
                "plain",
                "a\"b\\c",
                "tab\there\nnew\r\u{0}\u{1f}\u{7f}",
                "é 漢字 🦀",
                "\\\\\"\"",
            ]
            .map(String::from),
        );
        for s in samples {
            assert_eq!(
                text(|o| str(o, &s)),
                serde_json::to_string(&s).unwrap(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn numbers_read_back_as_the_same_number_and_kind() {
        for n in [0, 1, 42, u64::MAX] {
            assert_eq!(text(|o| u64(o, n)), serde_json::to_string(&n).unwrap());
        }
        for n in [i64::MIN, -1, 0, 7] {
            assert_eq!(text(|o| i64(o, n)), serde_json::to_string(&n).unwrap());
        }
        for f in [
            0.0,
            -0.0,
            1.0,
            0.5,
            12.345,
            1e-7,
            1.5e-7,
            1e16,
            1e300,
            -2.5e-300,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            0.1 + 0.2,
            123_456.789,
        ] {
            let ours = text(|o| f64(o, f));
            let read: serde_json::Value = serde_json::from_str(&ours).unwrap();
            assert!(read.is_f64(), "{ours} reads back as a float");
            assert_eq!(read.as_f64().unwrap().to_bits(), f.to_bits(), "{ours}");
        }
        for f in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(text(|o| f64(o, f)), "null");
        }
    }

    #[test]
    fn every_whole_number_of_microseconds_is_written_shortest_and_exact() {
        for (f, expected) in [
            (12.5, "12.5"),
            (0.001, "0.001"),
            (0.05, "0.05"),
            (3.0, "3.0"),
            (-0.0, "-0.0"),
            (-1.25, "-1.25"),
            (1234.567, "1234.567"),
        ] {
            assert_eq!(text(|o| f64(o, f)), expected);
        }
        // What `{:?}` (shortest round trip) writes, for durations over the range.
        let mut micros: u64 = 1;
        while micros < 1 << 52 {
            for us in [micros, micros + 1, micros * 7 / 3 + 11] {
                let f = us as f64 / 1000.0;
                let ours = text(|o| f64(o, f));
                if us < 1_000_000_000_000_000 {
                    assert_eq!(ours, format!("{f:?}"), "{us} µs");
                }
                assert_eq!(
                    ours.parse::<f64>().unwrap().to_bits(),
                    f.to_bits(),
                    "{ours}"
                );
            }
            micros = micros * 3 + 1;
        }
    }

    #[test]
    fn integers_are_written_as_fmt_writes_them() {
        for n in [0, 1, 9, 10, 99, 100, 12_345, u64::MAX / 7, u64::MAX] {
            assert_eq!(text(|o| u64(o, n)), n.to_string());
        }
        for n in [i64::MIN, i64::MIN + 1, -10, -1, 0, 1, i64::MAX] {
            assert_eq!(text(|o| i64(o, n)), n.to_string());
        }
    }

    #[test]
    fn values_are_written_compact_or_as_serde_json_pretty_prints_them() {
        let doc = Json::Object(vec![
            ("version".into(), Json::UInt(1)),
            ("enabled".into(), Json::Null),
            (
                "list".into(),
                Json::Array(vec![Json::Int(-1), Json::Bool(true)]),
            ),
            ("empty".into(), Json::Object(vec![])),
            ("none".into(), Json::Array(vec![])),
            (
                "nested".into(),
                Json::Object(vec![("k\"".into(), Json::Float(0.5))]),
            ),
        ]);
        assert_eq!(
            String::from_utf8(doc.to_vec()).unwrap(),
            r#"{"version":1,"enabled":null,"list":[-1,true],"empty":{},"none":[],"nested":{"k\"":0.5}}"#
        );
        // serde_json's pretty printer, with the members in this order.
        let pretty = "{\n  \"version\": 1,\n  \"enabled\": null,\n  \"list\": [\n    -1,\n    true\n  ],\n  \"empty\": {},\n  \"none\": [],\n  \"nested\": {\n    \"k\\\"\": 0.5\n  }\n}";
        assert_eq!(doc.to_string_pretty(), pretty);
        let reference: serde_json::Value = serde_json::from_str(pretty).unwrap();
        let ours: serde_json::Value = serde_json::from_slice(&doc.to_vec()).unwrap();
        assert_eq!(ours, reference);
    }
}
