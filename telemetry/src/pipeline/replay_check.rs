//! What a spooled event must look like to be sent again.
//!
//! The spool is a directory of files on disk: anything that can write there (another
//! program of the user, a file planted in a checked-out repository when the data dir
//! is inside one) could put text in it. So a replayed event is held to the shape of an
//! event this crate makes, field by field, and refused (counted as corrupt) otherwise:
//!
//! - the tool is this tool; the version is a version (`A-Za-z0-9.+-`); `os`/`arch` are
//!   this machine's; the machine id is 64 lowercase hex digits; the event and session
//!   ids are UUIDs; the timestamp is `YYYY-MM-DDTHH:MM:SS.mmmZ`;
//! - the name and keys follow the naming rules;
//! - a string value is either shaped like an enum variant's value or a `Hashed` digest
//!   (`a-z 0-9 _ - .`, at most 64), or it is the literal that the catalog holds for that
//!   event and key: a literal of `#[track(attrs(..))]` is the only place longer or
//!   freer text comes from;
//! - `error_kind` is shaped like a Rust type name (identifiers, `::`, brackets, `_`)
//!   with no value left in it.
//!
//! What this cannot tell: an identifier-shaped word planted where a type name or an
//! enum value stands. Those are as short as the rules above allow.

use crate::catalog;
use crate::error_kind;
use crate::event::Event;
use crate::naming;
use crate::value::AttrValue;

/// Why a spooled event is refused, or `Ok` when it has the shape of one this crate made
/// for `tool`.
pub(crate) fn check(event: &Event, tool: &str) -> Result<(), &'static str> {
    let rules: [(bool, &'static str); 10] = [
        (event.tool() == tool, "another tool"),
        (
            naming::is_valid_tool_version(event.tool_version()),
            "tool version",
        ),
        (event.os() == std::env::consts::OS, "os"),
        (event.arch() == std::env::consts::ARCH, "arch"),
        (is_lower_hex(event.machine_id(), 64), "machine id"),
        (is_uuid(event.event_id()), "event id"),
        (is_uuid(event.session_id()), "session id"),
        (is_timestamp(event.timestamp_utc()), "timestamp"),
        (naming::is_valid_event_name(event.name()), "event name"),
        (event.error_kind().is_none_or(is_type_name), "error kind"),
    ];
    if let Some((_, what)) = rules.iter().find(|(ok, _)| !ok) {
        return Err(what);
    }
    for (key, value) in event.attrs() {
        if !naming::is_valid_attr_key(key) {
            return Err("attribute key");
        }
        if let AttrValue::Str(text) = value
            && !naming::is_valid_variant_value(text)
            && !is_catalog_literal(event.name(), key, text)
        {
            return Err("attribute value");
        }
    }
    Ok(())
}

fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lowercase hex.
fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => matches!(b, b'0'..=b'9' | b'a'..=b'f'),
        })
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

/// Identifiers, `::`, generic and tuple brackets, references, `dyn` bounds and `_` for
/// the values `error_kind` removes: nothing else, and no value left.
fn is_type_name(text: &str) -> bool {
    text.len() <= 512
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" _:<>,&()[];*+'".contains(&b))
        && error_kind::without_values(text) == text
}

fn is_catalog_literal(name: &str, key: &str, text: &str) -> bool {
    catalog::events().iter().any(|spec| {
        spec.name() == name
            && spec
                .attrs()
                .iter()
                .any(|(k, v)| *k == key && v.as_str() == Some(text))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(is_uuid("0b8e6c4e-3f5a-4c1d-9a7b-2e4f6a8c0d1e"));
        assert!(!is_uuid("/home/alice/secret/0000000000000000000"));
        assert!(is_timestamp("2026-11-27T13:16:35.123Z"));
        assert!(!is_timestamp("2026-11-27T13:16:35.123Z/alice"));
        assert!(!is_timestamp("alice-11-27T13:16:35.123Z"));
        assert!(is_type_name(
            "alloc::boxed::Box<dyn core::error::Error + core::marker::Send>"
        ));
        assert!(is_type_name("probe::Tagged<_, [u8; _]>"));
        assert!(!is_type_name("probe::Tagged<435459550305>"));
        assert!(!is_type_name("/home/alice"));
        assert!(is_lower_hex(&"ab".repeat(32), 64));
        assert!(!is_lower_hex(&"AB".repeat(32), 64));
    }
}
