//! Version-4 UUIDs: the 16 random bytes `random` draws, marked with the version and
//! variant bits, written as 36 lowercase hex digits and hyphens (RFC 9562).
//!
//! The library only makes random ids, writes them and reads back its own install id:
//! a dozen lines, where the `uuid` crate cost a unit of build time and its parser's
//! errors in every binary (BENCHMARKS.md, footprint). The tests check the output
//! against that crate.

use std::fmt;

/// Characters of the hyphenated form.
pub(crate) const HYPHENATED_LEN: usize = 36;

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Where the hyphens go in the hyphenated form.
fn is_hyphen_at(i: usize) -> bool {
    matches!(i, 8 | 13 | 18 | 23)
}

/// A version-4 (random) UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Uuid([u8; 16]);

impl Uuid {
    /// The UUID of 16 random bytes: six of their bits become the version (4) and the
    /// variant (RFC 9562's `10`), 122 stay random.
    pub(crate) fn from_random_bytes(mut bytes: [u8; 16]) -> Self {
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Self(bytes)
    }

    /// The 16 bytes.
    #[cfg_attr(not(feature = "reports"), allow(dead_code))]
    pub(crate) fn into_bytes(self) -> [u8; 16] {
        self.0
    }

    /// `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`, lowercase, as ASCII bytes.
    pub(crate) fn hyphenated(self) -> [u8; HYPHENATED_LEN] {
        let mut out = [b'-'; HYPHENATED_LEN];
        let mut digits = self.0.iter().flat_map(|b| [b >> 4, b & 0x0f]);
        for (i, slot) in out.iter_mut().enumerate() {
            if !is_hyphen_at(i) {
                *slot = DIGITS[usize::from(digits.next().unwrap_or(0))];
            }
        }
        out
    }

    /// 32 lowercase hex digits, no hyphens (for file names).
    pub(crate) fn simple(self) -> String {
        crate::util::hex::encode(&self.0)
    }

    /// The UUID written in `text`, of any version, in any of the forms RFC 9562 and
    /// common tools write (hyphenated, 32 hex digits, in braces, or as a
    /// `urn:uuid:` URN; either case; surrounding whitespace allowed): what an install
    /// id file may hold, written by this library or by hand. `None` for anything else.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        // A URN or braces hold the hyphenated form only.
        let wrapped = match text.get(..9) {
            Some(prefix) if prefix.eq_ignore_ascii_case("urn:uuid:") => Some(&text[9..]),
            _ => text.strip_prefix('{').and_then(|t| t.strip_suffix('}')),
        };
        let (text, hyphenated) = match (wrapped, text.len()) {
            (Some(inner), _) => (inner, true),
            (None, 32) => (text, false),
            (None, _) => (text, true),
        };
        if text.len() != if hyphenated { HYPHENATED_LEN } else { 32 } {
            return None;
        }
        let mut bytes = [0_u8; 16];
        let mut nibbles = 0;
        for (i, c) in text.bytes().enumerate() {
            if hyphenated && is_hyphen_at(i) {
                if c != b'-' {
                    return None;
                }
                continue;
            }
            let value = u8::try_from(char::from(c).to_digit(16)?).ok()?;
            let byte = &mut bytes[nibbles / 2];
            *byte = (*byte << 4) | value;
            nibbles += 1;
        }
        Some(Self(bytes))
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.hyphenated();
        // Only ASCII hex digits and hyphens were written.
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_what_the_uuid_crate_writes_and_reads() {
        for seed in 0..=255_u8 {
            let bytes: [u8; 16] = std::array::from_fn(|i| seed.wrapping_mul(31) ^ (i as u8 * 17));
            let ours = Uuid::from_random_bytes(bytes);
            let theirs = uuid::Builder::from_random_bytes(bytes).into_uuid();
            assert_eq!(ours.to_string(), theirs.to_string());
            assert_eq!(ours.simple(), theirs.simple().to_string());
            assert_eq!(ours.into_bytes(), theirs.into_bytes());
            assert_eq!(Uuid::parse(&theirs.to_string()), Some(ours));
        }
    }

    #[test]
    fn every_form_the_uuid_crate_reads_is_read_alike_and_nothing_else() {
        for text in [
            "0b8e6c4e-3f5a-4c1d-9a7b-2e4f6a8c0d1e",
            "0B8E6C4E-3F5A-4C1D-9A7B-2E4F6A8C0D1E",
            "0b8e6c4e-3f5a-1c1d-9a7b-2e4f6a8c0d1e", // version 1
            "0b8e6c4e-3f5a-4c1d-7a7b-2e4f6a8c0d1e", // another variant
            "0b8e6c4e3f5a4c1d9a7b2e4f6a8c0d1e",     // 32 digits
            "{0b8e6c4e-3f5a-4c1d-9a7b-2e4f6a8c0d1e}",
            "urn:uuid:0b8e6c4e-3f5a-4c1d-9a7b-2e4f6a8c0d1e",
            "URN:UUID:0b8e6c4e-3f5a-4c1d-9a7b-2e4f6a8c0d1e",
        ] {
            let theirs = uuid::Uuid::parse_str(text).unwrap();
            let ours = Uuid::parse(&format!(" {text}\n")).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(ours.to_string(), theirs.to_string(), "{text}");
        }
        for text in [
            "",
            "not a uuid",
            "0b8e6c4e-3f5a-4c1d-9a7b-2e4f6a8c0d1g",  // not hex
            "0b8e6c4e+3f5a-4c1d-9a7b-2e4f6a8c0d1e",  // not a hyphen
            "0b8e6c4e-3f5a-4c1d-9a7b-2e4f6a8c0d1e0", // too long
            "0b8e6c4e3f5a4c1d9a7b2e4f6a8c0d1",       // too short
            "{0b8e6c4e-3f5a-4c1d-9a7b-2e4f6a8c0d1e",
            "0b8e6c4e-3f5a-4c1d-9a7b-2e4f6a8c0d1é",
            "+b8e6c4e3f5a4c1d9a7b2e4f6a8c0d1e",
            "{0b8e6c4e3f5a4c1d9a7b2e4f6a8c0d1e}", // a wrapper holds the hyphenated form
            "urn:uuid:0b8e6c4e3f5a4c1d9a7b2e4f6a8c0d1e",
        ] {
            assert_eq!(Uuid::parse(text), None, "{text}");
            assert!(
                uuid::Uuid::parse_str(text).is_err(),
                "the uuid crate agrees: {text}"
            );
        }
    }
}
