//! What a spooled event must look like to be sent again.
//!
//! The spool is a directory of files on disk: anything that can write there (another
//! program of the user, a file planted in a checked-out repository when the data dir
//! is inside one, a batch left by an older build of the tool) could put text in it. So
//! a replayed event must be one this binary could have made, field by field, or it is
//! refused (counted as corrupt) and never sent:
//!
//! - the tool and its version are this build's (a batch left by another version is
//!   dropped, counted: its events were made under other rules); `os`/`arch` are this
//!   machine's; the machine id is this machine's; the event and session ids are
//!   version-4 UUIDs; the timestamp is `YYYY-MM-DDTHH:MM:SS.mmmZ`;
//! - the name is one of this binary's catalog, and every attribute is one that event
//!   declares (a literal with its exact value, a capture with a value of its kind) or a
//!   default attribute of this context (a value of the same type);
//! - a string value of an enum is shaped like a variant's (`a-z 0-9 _ - .`, at most
//!   64), of a `Hashed` like a digest (32 lowercase hex digits);
//! - `error_kind` is shaped like a Rust type name: `::`-separated identifiers, generic
//!   and tuple brackets, `&`, `dyn A + B`, `_` for values, at most 256 bytes.
//!
//! What this cannot tell: an identifier chosen as an enum value or a type name, and
//! the random parts of ids. That is the most a file written in this exact format by
//! someone else could carry.

use crate::catalog::{ANY_KIND, EventSpec};
use crate::error_kind;
use crate::event::Event;
use crate::naming;
use crate::pipeline::worker::EventFactory;
use crate::value::AttrValue;

/// `Ok` when `event` is one this binary could have made for `factory`'s context, or
/// which field is wrong.
pub(crate) fn check(
    event: &Event,
    factory: &EventFactory,
    catalog: &[&'static EventSpec],
) -> Result<(), &'static str> {
    let rules: [(bool, &'static str); 10] = [
        (event.tool() == &*factory.tool, "another tool"),
        (
            event.tool_version() == &*factory.tool_version,
            "another version of the tool",
        ),
        (event.os() == std::env::consts::OS, "os"),
        (event.arch() == std::env::consts::ARCH, "arch"),
        (is_uuid_v4(event.event_id()), "event id"),
        (is_uuid_v4(event.session_id()), "session id"),
        (is_timestamp(event.timestamp_utc()), "timestamp"),
        (naming::is_valid_event_name(event.name()), "event name"),
        (event.error_kind().is_none_or(is_type_name), "error kind"),
        (
            event.machine_id() == &**factory.machine_id(),
            "another machine id",
        ),
    ];
    if let Some((_, what)) = rules.iter().find(|(ok, _)| !ok) {
        return Err(what);
    }
    let specs: Vec<&'static EventSpec> = catalog
        .iter()
        .copied()
        .filter(|spec| spec.name() == event.name())
        .collect();
    if specs.is_empty() {
        return Err("an event this binary does not declare");
    }
    for (key, value) in event.attrs() {
        let declared = specs.iter().any(|spec| declares(spec, key, value));
        let default = factory
            .default_attrs
            .get(&**key)
            .is_some_and(|ours| same_type(ours, value));
        if !declared && !default {
            return Err("an attribute the event does not declare");
        }
    }
    Ok(())
}

/// Whether `spec` declares `key` with a value like `value`.
fn declares(spec: &EventSpec, key: &str, value: &AttrValue) -> bool {
    let literal = spec.attrs().iter().any(|(k, v)| *k == key && v == value);
    let captured = spec
        .captures()
        .iter()
        .any(|c| c.key() == key && of_kind(value, c.kind()));
    literal || captured
}

/// Whether `value` can be a captured value of `kind`.
fn of_kind(value: &AttrValue, kind: &str) -> bool {
    match (value, kind) {
        (AttrValue::Bool(_), "bool")
        | (AttrValue::Int(_) | AttrValue::UInt(_), "int")
        | (AttrValue::Float(_), "float") => true,
        (AttrValue::Str(_), "string") => value.as_str().is_some_and(is_variant_value),
        (AttrValue::Str(_), "hashed") => value.as_str().is_some_and(is_digest),
        (AttrValue::Str(_), k) if k == ANY_KIND => value
            .as_str()
            .is_some_and(|s| is_variant_value(s) || is_digest(s)),
        (_, k) => k == ANY_KIND,
    }
}

/// Same variant, and for text, the same shape as a `SafeValue`'s.
fn same_type(ours: &AttrValue, theirs: &AttrValue) -> bool {
    match (ours, theirs) {
        (AttrValue::Bool(_), AttrValue::Bool(_))
        | (AttrValue::Int(_) | AttrValue::UInt(_), AttrValue::Int(_) | AttrValue::UInt(_))
        | (AttrValue::Float(_), AttrValue::Float(_)) => true,
        (AttrValue::Str(_), AttrValue::Str(_)) => theirs
            .as_str()
            .is_some_and(|s| is_variant_value(s) || is_digest(s)),
        _ => false,
    }
}

fn is_variant_value(text: &str) -> bool {
    naming::is_valid_variant_value(text)
}

/// A `Hashed` digest: 32 lowercase hex digits.
fn is_digest(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`, lowercase hex.
fn is_uuid_v4(text: &str) -> bool {
    let bytes = text.as_bytes();
    text.len() == 36
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => matches!(b, b'0'..=b'9' | b'a'..=b'f'),
        })
        && bytes[14] == b'4'
        && matches!(bytes[19], b'8' | b'9' | b'a' | b'b')
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn is_timestamp(text: &str) -> bool {
    const SHAPE: &[u8; 24] = b"0000-00-00T00:00:00.000Z";
    text.len() == SHAPE.len()
        && text.bytes().zip(SHAPE).all(|(b, &s)| {
            if s == b'0' {
                b.is_ascii_digit()
            } else {
                b == s
            }
        })
}

/// Shaped like what `std::any::type_name` prints, values removed: identifiers joined by
/// `::`, brackets, `&`, `*`, `,`, `;`, `+`, and a space only after `,`, `;`, `dyn`,
/// `mut`, `const` or around `+` — so words cannot be strung into a sentence.
fn is_type_name(text: &str) -> bool {
    if text.is_empty() || text.len() > 256 || error_kind::without_values(text) != text {
        return false;
    }
    let bytes = text.as_bytes();
    if !bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || b" _:<>,&()[];*+".contains(b))
    {
        return false;
    }
    bytes.iter().enumerate().all(|(i, &b)| {
        if b != b' ' {
            return true;
        }
        let before = &text[..i];
        let after = bytes.get(i + 1).copied();
        before.ends_with([',', ';', '+'])
            || after == Some(b'+')
            || ["dyn", "mut", "const"]
                .iter()
                .any(|word| before.ends_with(word) && ends_a_word(before, word.len()))
    })
}

/// Whether the last `len` bytes of `text` are a whole word (not the end of a longer
/// identifier).
fn ends_a_word(text: &str, len: usize) -> bool {
    text[..text.len() - len]
        .bytes()
        .next_back()
        .is_none_or(|b| !(b.is_ascii_alphanumeric() || b == b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(is_uuid_v4("0b8e6c4e-3f5a-4c1d-9a7b-2e4f6a8c0d1e"));
        assert!(
            !is_uuid_v4("0b8e6c4e-3f5a-1c1d-9a7b-2e4f6a8c0d1e"),
            "not v4"
        );
        assert!(!is_uuid_v4("/home/alice/secret/0000000000000000000"));
        assert!(is_timestamp("2026-11-27T13:16:35.123Z"));
        assert!(!is_timestamp("2026-11-27T13:16:35.123Z/alice"));
        assert!(!is_timestamp("alice-11-27T13:16:35.123Z"));
        assert!(is_digest(&"ab".repeat(16)));
        assert!(!is_digest(&"AB".repeat(16)));
    }

    #[test]
    fn type_names_pass_and_prose_does_not() {
        for ok in [
            "std::io::error::Error",
            "alloc::boxed::Box<dyn core::error::Error + core::marker::Send + core::marker::Sync>",
            "probe::Tagged<_, [u8; _]>",
            "(u8, i64)",
            "&mut my_crate::E",
            "*const u8",
        ] {
            assert!(is_type_name(ok), "{ok}");
        }
        for bad in [
            "probe::Tagged<435459550305>",
            "/home/alice",
            "Password of alice is hunter two and she lives in Baker Street",
            "alice dyn",
            "a.b",
            "",
            &"a".repeat(257),
        ] {
            assert!(!is_type_name(bad), "{bad}");
        }
    }
}
