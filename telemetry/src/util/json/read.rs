//! Reading JSON text (RFC 8259) into [`Json`]: the whole input must be one value
//! (surrounded by whitespace at most), valid UTF-8, nested at most [`MAX_DEPTH`]
//! deep, each object's keys distinct. Whatever breaks a rule is an error naming the
//! line and column where it was found: the files it reads are the user's, and may be
//! anything.

use std::collections::BinaryHeap;
use std::fmt;

use super::{Json, Object};

/// Deepest nesting of arrays and objects accepted (this crate's files nest three
/// deep): a file of a million `[` is an error, not a stack overflow.
pub(crate) const MAX_DEPTH: usize = 64;

/// Why a text is not JSON this crate reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    /// What is wrong.
    what: &'static str,
    /// The byte offset where it was found.
    at: usize,
    /// Where that is for a reader: 1-based line, and column in bytes.
    line: usize,
    column: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.what, self.line, self.column
        )
    }
}

impl ParseError {
    fn new(what: &'static str, at: usize) -> Self {
        Self {
            what,
            at,
            line: 0,
            column: 0,
        }
    }

    /// The same error, said to be on line `line` of a file whose lines are parsed one
    /// by one (the spool's).
    #[cfg(feature = "spool")]
    pub(crate) fn on_line(mut self, line: usize) -> Self {
        self.line = line;
        self
    }

    /// The error with its line and column in `bytes`.
    fn located(mut self, bytes: &[u8]) -> Self {
        let before = &bytes[..self.at.min(bytes.len())];
        self.line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        self.column = 1 + before.len() - line_start;
        self
    }
}

impl std::error::Error for ParseError {}

/// The JSON value `bytes` hold.
pub(crate) fn parse(bytes: &[u8]) -> Result<Json, ParseError> {
    parse_text(bytes).map_err(|e| e.located(bytes))
}

fn parse_text(bytes: &[u8]) -> Result<Json, ParseError> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| ParseError::new("not UTF-8", e.valid_up_to()))?;
    let mut parser = Parser {
        bytes: text.as_bytes(),
        text,
        at: 0,
        depth: 0,
    };
    let value = parser.value()?;
    parser.skip_whitespace();
    if parser.at != parser.bytes.len() {
        return Err(parser.error("text after the value"));
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, what: &'static str) -> ParseError {
        ParseError::new(what, self.at)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn expect_word(&mut self, word: &'static [u8], value: Json) -> Result<Json, ParseError> {
        if self.bytes[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(self.error("not a JSON value"))
        }
    }

    fn value(&mut self) -> Result<Json, ParseError> {
        self.skip_whitespace();
        match self.peek() {
            None => Err(self.error("end of text where a value was expected")),
            Some(b'n') => self.expect_word(b"null", Json::Null),
            Some(b't') => self.expect_word(b"true", Json::Bool(true)),
            Some(b'f') => self.expect_word(b"false", Json::Bool(false)),
            Some(b'"') => self.string().map(Json::Str),
            Some(b'[') => self.nested(Self::array),
            Some(b'{') => self.nested(Self::object),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("not a JSON value")),
        }
    }

    fn nested(
        &mut self,
        inner: fn(&mut Self) -> Result<Json, ParseError>,
    ) -> Result<Json, ParseError> {
        if self.depth == MAX_DEPTH {
            return Err(self.error("nested too deep"));
        }
        self.depth += 1;
        self.at += 1; // the `[` or `{`
        let value = inner(self);
        self.depth -= 1;
        value
    }

    fn array(&mut self) -> Result<Json, ParseError> {
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self) -> Result<Json, ParseError> {
        let mut members: Object = Vec::new();
        let mut key_ats = Vec::new();
        let read = self.members(&mut members, &mut key_ats);
        // Repeated keys are looked for once the object is read; the first one is
        // reported unless the object met an error before it, so the error is the one
        // reading stopped at first, as when each key was checked as it came.
        if let Some(at) = first_repeated_key(&members, &key_ats)
            && read.as_ref().err().is_none_or(|e| at < e.at)
        {
            return Err(ParseError::new("a key repeated in one object", at));
        }
        read.map(|()| Json::Object(members))
    }

    /// An object's members, after its `{`, up to its `}`; where each key starts in
    /// `key_ats`.
    fn members(
        &mut self,
        members: &mut Object,
        key_ats: &mut Vec<usize>,
    ) -> Result<(), ParseError> {
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(());
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a key"));
            }
            key_ats.push(self.at);
            // In `members` before the rest of its member is read: a repeated key is
            // reported even when what follows it is not valid, as it comes first.
            let i = members.len();
            members.push((self.string()?, Json::Null));
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error("expected `:`"));
            }
            self.at += 1;
            members[i].1 = self.value()?;
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    /// A string, from its opening quote.
    fn string(&mut self) -> Result<String, ParseError> {
        self.at += 1; // the `"`
        let mut out = String::new();
        let mut run = self.at; // start of the characters not yet copied
        loop {
            match self.peek() {
                None => return Err(self.error("a string without its closing quote")),
                Some(b'"') => {
                    out.push_str(&self.text[run..self.at]);
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(&self.text[run..self.at]);
                    self.at += 1;
                    self.escape(&mut out)?;
                    run = self.at;
                }
                Some(0x00..=0x1f) => return Err(self.error("a control character in a string")),
                // Any other byte: the text is valid UTF-8, so a multi-byte character's
                // bytes pass here one by one and are copied whole.
                Some(_) => self.at += 1,
            }
        }
    }

    /// One escape, after its `\`.
    fn escape(&mut self, out: &mut String) -> Result<(), ParseError> {
        let Some(c) = self.peek() else {
            return Err(self.error("a string without its closing quote"));
        };
        self.at += 1;
        let plain = match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(out),
            _ => return Err(self.error("an unknown escape")),
        };
        out.push(plain);
        Ok(())
    }

    /// `\uXXXX` (after the `u`), or a surrogate pair `\uD83E\uDD80`.
    fn unicode_escape(&mut self, out: &mut String) -> Result<(), ParseError> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !self.bytes[self.at..].starts_with(b"\\u") {
                    return Err(self.error("a lone surrogate in a string"));
                }
                self.at += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error("a lone surrogate in a string"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.error("a lone surrogate in a string")),
            _ => first,
        };
        out.push(char::from_u32(code).ok_or_else(|| self.error("an invalid character"))?);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let digits = self
            .text
            .get(self.at..self.at + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("`\\u` without four hex digits"))?;
        self.at += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.error("`\\u` without four hex digits"))
    }

    /// A number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Result<Json, ParseError> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("a number without digits")),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            integer = false;
            self.at += 1;
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return Err(self.error("a number without digits after `.`"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            integer = false;
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return Err(self.error("a number without digits in its exponent"));
            }
            self.digits();
        }
        let text = &self.text[start..self.at];
        // `-0` is kept as written (serde_json reads it as the float -0.0).
        if integer && text != "-0" {
            let exact = if text.starts_with('-') {
                text.parse::<i64>().ok().map(Json::from)
            } else {
                text.parse::<u64>().ok().map(Json::UInt)
            };
            if let Some(value) = exact {
                return Ok(value);
            }
        }
        // A fraction, an exponent, or an integer beyond 64 bits: kept as text.
        Ok(Json::Number(text.to_owned()))
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
    }
}

/// Where the first key that repeats an earlier one of `members` starts (`key_ats`: where
/// each key starts). A small object compares each key with those before it; a larger
/// one sorts its keys, so that a file of a million keys costs no more than sorting
/// them.
///
/// Sorted, not hashed: a `HashSet` of keys brought hashbrown, SipHash and the standard
/// library's random keys into every tool's binary for this one check (with the check
/// made once the object is read: -8 KB). Sorted by `BinaryHeap::into_sorted_vec`, a
/// heapsort, whose code is a fraction of `sort_unstable`'s (-5 KB): a config file is
/// read once per process, a large object in it is an oddity.
fn first_repeated_key(members: &Object, key_ats: &[usize]) -> Option<usize> {
    if members.len() <= 16 {
        return (1..members.len())
            .find(|&i| members[..i].iter().any(|(k, _)| *k == members[i].0))
            .and_then(|i| key_ats.get(i).copied());
    }
    let keys: BinaryHeap<(&str, usize)> = members
        .iter()
        .map(|(k, _)| k.as_str())
        .zip(key_ats.iter().copied())
        .collect();
    // By key, then position: in each run of equal keys, every one after the first
    // repeats it.
    keys.into_sorted_vec()
        .windows(2)
        .filter(|pair| pair[0].0 == pair[1].0)
        .map(|pair| pair[1].1)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_of_every_kind_are_read() {
        let doc = r#" {"a": [1, -2, 0.5, 1e3, -0, 18446744073709551615, 18446744073709551616],
            "s": "x\"\\\/\b\f\n\r\t\u00e9\ud83e\udd80 é", "t": true, "f": false, "n": null,
            "o": {}, "e": []} "#;
        let value = parse(doc.as_bytes()).unwrap();
        let a = value.get("a").and_then(Json::as_array).unwrap();
        assert_eq!(a[0], Json::UInt(1));
        assert_eq!(a[1], Json::Int(-2));
        assert_eq!(a[2].as_f64(), Some(0.5));
        assert_eq!(a[3].as_f64(), Some(1000.0));
        assert_eq!(a[4], Json::Number("-0".into()));
        assert_eq!(a[5], Json::UInt(u64::MAX));
        assert_eq!(a[6].as_f64(), Some(18_446_744_073_709_551_616.0));
        assert_eq!(
            a[6],
            Json::Number("18446744073709551616".into()),
            "kept as written"
        );
        assert_eq!(
            value.get("s").and_then(Json::as_str),
            Some("x\"\\/\u{8}\u{c}\n\r\té🦀 é")
        );
        assert_eq!(value.get("t"), Some(&Json::Bool(true)));
        assert_eq!(value.get("f"), Some(&Json::Bool(false)));
        assert_eq!(value.get("n"), Some(&Json::Null));
        assert_eq!(value.get("o"), Some(&Json::Object(vec![])));
        assert_eq!(value.get("e"), Some(&Json::Array(vec![])));
        assert_eq!(value.get("missing"), None);
    }

    #[test]
    fn what_serde_json_reads_reads_the_same_and_what_it_refuses_is_refused() {
        let good = [
            "0",
            "-1",
            "1.5e-7",
            "1E+2",
            "\"\"",
            "[]",
            "{}",
            "[[[]]]",
            "{\"a\":{\"b\":[1,{}]}}",
            "\"\\u0000\"",
            " \t\r\n1 ",
        ];
        for text in good {
            let ours = parse(text.as_bytes()).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            let back: serde_json::Value = serde_json::from_slice(&ours.to_vec()).unwrap();
            assert_eq!(back, theirs, "{text}");
        }
        let bad: &[&[u8]] = &[
            b"",
            b" ",
            b"nul",
            b"tru",
            b"01",
            b"-",
            b"1.",
            b".5",
            b"1e",
            b"+1",
            b"0x10",
            b"[1,]",
            b"[1 2]",
            b"{\"a\":1,}",
            b"{\"a\" 1}",
            b"{a:1}",
            b"{\"a\":1",
            b"[",
            b"\"abc",
            b"\"\\x\"",
            b"\"\\u12\"",
            b"\"\\ud83e\"",
            b"\"\\udd80\"",
            b"\"a\nb\"",
            b"\"\xff\"",
            b"1 2",
            b"{} x",
            b"NaN",
            b"Infinity",
            b"'a'",
        ];
        for text in bad {
            assert!(parse(text).is_err(), "{:?}", String::from_utf8_lossy(text));
            assert!(
                serde_json::from_slice::<serde_json::Value>(text).is_err(),
                "serde_json agrees: {:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn a_number_beyond_f64_reads_but_is_no_float() {
        let value = parse(b"[1e999, -1E400, 1.5]").unwrap();
        let items = value.as_array().unwrap();
        assert_eq!(items[0].as_f64(), None);
        assert_eq!(items[1].as_f64(), None);
        assert_eq!(items[2].as_f64(), Some(1.5));
        assert_eq!(
            value.to_vec(),
            b"[1e999,-1E400,1.5]",
            "written back as read"
        );
    }

    #[test]
    fn repeated_keys_are_refused_in_small_and_large_objects() {
        assert!(parse(br#"{"a":1,"a":2}"#).is_err());
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        let ok = format!("{{{}}}", many.join(","));
        assert_eq!(parse(ok.as_bytes()).unwrap().as_object().unwrap().len(), 40);
        let repeated = format!("{{{},\"k3\":0}}", many.join(","));
        let err = parse(repeated.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "a key repeated in one object at line 1 column {}",
                repeated.len() - 6
            )
        );
    }

    #[test]
    fn a_repeated_key_is_reported_where_it_comes_before_any_later_error() {
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        for size in [3, 40] {
            let members = many[..size].join(",");
            // The repeat, then something wrong: in its value, after its key, later on.
            for tail in [":x}", " 1}", ":1, \"z\" 2}", ":1, \"k2\":[1,}"] {
                let text = format!("{{{members},\"k1\"{tail}");
                let err = parse(text.as_bytes()).unwrap_err();
                assert_eq!(
                    err.to_string(),
                    format!(
                        "a key repeated in one object at line 1 column {}",
                        members.len() + 3
                    ),
                    "{text}"
                );
            }
            // Something wrong before the repeat.
            let text = format!("{{{members},\"z\":x,\"k1\":1}}");
            assert!(
                parse(text.as_bytes())
                    .unwrap_err()
                    .to_string()
                    .starts_with("not a JSON value")
            );
            // A repeat in a nested object before the outer one's.
            let text = format!("{{{members},\"o\":{{\"a\":1,\"a\":2}},\"k1\":1}}");
            assert_eq!(
                parse(text.as_bytes()).unwrap_err().to_string(),
                format!(
                    "a key repeated in one object at line 1 column {}",
                    members.len() + 14
                )
            );
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes()).is_ok());
        let deep = "[".repeat(1_000_000);
        let err = parse(deep.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("nested too deep at line 1 column {}", MAX_DEPTH + 1)
        );
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let err = |text: &[u8]| parse(text).unwrap_err().to_string();
        assert_eq!(err(b"{\"a\":tru}"), "not a JSON value at line 1 column 6");
        assert_eq!(err(b"[1,2"), "expected `,` or `]` at line 1 column 5");
        assert_eq!(err(b"\"\xc3\""), "not UTF-8 at line 1 column 2");
        assert_eq!(
            err(b"{\n  \"version\": 1,\n  \"enabled\": tru\n}"),
            "not a JSON value at line 3 column 14"
        );
    }

    #[test]
    fn minus_zero_is_kept_as_written() {
        let value = parse(b"[-0, 0, -0.0]").unwrap();
        assert_eq!(value.to_vec(), b"[-0,0,-0.0]");
        let items = value.as_array().unwrap();
        assert_eq!(items[0].as_u64(), None, "not the integer 0");
        assert_eq!(
            items[0].as_f64().map(f64::to_bits),
            Some((-0.0_f64).to_bits())
        );
    }
}

#[cfg(test)]
mod repeated_key_tests {
    use super::*;

    /// The same key spelled with an escape (`"a"` and `"\u0061"`) is a repeat, in a
    /// small object and in one past 16 members (sorted, not compared pairwise), with
    /// the repeat far from the first: reported at the second spelling.
    #[test]
    fn a_key_repeated_under_another_spelling_is_found_in_small_and_large_objects() {
        for filler in [0, 2, 40, 5_000] {
            let middle: String = (0..filler).map(|i| format!("\"k{i}\":{i},")).collect();
            let text = format!("{{\"a\":1,{middle}\"\\u0061\":2}}");
            let err = parse(text.as_bytes()).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "a key repeated in one object at line 1 column {}",
                    text.find("\"\\u0061\"").unwrap() + 1
                ),
                "{filler} members between"
            );
            // Without the repeat, the same object reads.
            let text = format!("{{\"a\":1,{middle}\"b\":2}}");
            assert!(parse(text.as_bytes()).is_ok(), "{filler}");
        }
    }
}
