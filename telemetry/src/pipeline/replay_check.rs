//! What a spooled event must look like to be sent again.
//!
//! The spool is a directory of files on disk: anything that can write there (another
//! program of the user, a file planted in a checked-out repository when the data dir
//! is inside one, a batch left by an older build of the tool) could put text in it. So
//! a replayed event must be one this binary could have made, field by field, or it is
//! refused (counted as corrupt) and never sent:
//!
//! - refused whole (counted as corrupt): another tool, a version outside the version
//!   alphabet, another `os`/`arch`, another machine id, event or session ids that are
//!   not version-4 UUIDs, a timestamp not shaped `YYYY-MM-DDTHH:MM:SS.mmmZ`, a name
//!   outside the naming rules or missing from this binary's catalog (a name could carry
//!   words; so a package whose several binaries send telemetry should give each its
//!   own tool name, `tool!("name", ..)`, and so its own spool);
//! - cleaned (the event is still sent): an attribute is kept when the event's entry
//!   in this binary's catalog declares it (a literal with its exact value, a capture
//!   with a value of its kind: an enum's one of the values the catalog lists for it
//!   (or, where the type was not known to the catalog, shaped like a variant,
//!   `a-z 0-9 _ - .` at most 64), a `Hashed` one like a digest), or when it is one of this context's default
//!   attributes with a value of such a safe shape; any other attribute is left out.
//!   `error_kind` is kept when it is shaped like a Rust type name (`::`-separated
//!   identifiers, brackets, `&`, `dyn A + B`, `fn() -> T`, `_`), at most 256 bytes.
//!
//! So the library does not lose an event it made for an attribute it cannot vouch for
//! (another run's default attributes, a batch of another version), and a line written
//! by someone else can carry no more than short identifier-shaped words and the random
//! parts of ids. On targets without a catalog (no `linkme`), names are held to the
//! naming rules only.

use crate::catalog::{ANY_KIND, EventSpec};
use crate::error_kind;
use crate::event::Event;
use crate::naming;
use crate::pipeline::EventFactory;
use crate::value::AttrValue;

/// The event as it may be sent again, or why it may not be sent at all.
///
/// The fields every event carries (tool, machine id, ids, timestamp, platform, name)
/// must be what this context makes, or the event is refused. What only some events
/// carry is cleaned instead, so that an event the library made is never lost for a
/// field it cannot vouch for: an attribute this binary does not declare for that event
/// (a default attribute set in another run, an event of another binary of the same
/// tool) is kept only with a value of a safe shape, and an `error_kind` that does not
/// look like a type name is left out.
pub(crate) fn check(
    mut event: Event,
    factory: &EventFactory,
    catalog: &[&'static EventSpec],
) -> Result<Event, &'static str> {
    let rules: [(bool, &'static str); 9] = [
        (event.tool() == &*factory.tool, "another tool"),
        (
            naming::is_valid_tool_version(event.tool_version()),
            "tool version",
        ),
        (event.os() == std::env::consts::OS, "os"),
        (event.arch() == std::env::consts::ARCH, "arch"),
        (is_uuid_v4(event.event_id()), "event id"),
        (is_uuid_v4(event.session_id()), "session id"),
        (
            crate::util::time::is_rfc3339_millis(event.timestamp_utc()),
            "timestamp",
        ),
        (naming::is_valid_event_name(event.name()), "event name"),
        (
            event.machine_id() == &**factory.machine_id(),
            "another machine id",
        ),
    ];
    if let Some((_, what)) = rules.iter().find(|(ok, _)| !ok) {
        return Err(what);
    }
    if event.error_kind().is_some_and(|kind| !is_type_name(kind)) {
        event.error_kind = None;
    }
    let specs: Vec<&'static EventSpec> = catalog
        .iter()
        .copied()
        .filter(|spec| spec.name() == event.name())
        .collect();
    // A name could carry words: it must be one this binary declares (where the target
    // has a catalog at all).
    if specs.is_empty() && !catalog.is_empty() {
        return Err("an event this binary does not declare");
    }
    event.attrs.retain(|key, value| {
        let declared = specs.iter().any(|spec| declares(spec, key, value));
        let default = factory.default_attrs.contains_key(&**key) && of_kind(value, ANY_KIND);
        declared || default
    });
    Ok(event)
}

/// Whether `spec` declares `key` with a value like `value`.
fn declares(spec: &EventSpec, key: &str, value: &AttrValue) -> bool {
    let literal = spec.attrs().iter().any(|(k, v)| *k == key && v == value);
    let captured = spec.captures().iter().any(|c| {
        c.key() == key
            && of_kind(value, c.kind())
            && (c.values().is_empty() || value.as_str().is_some_and(|v| c.values().contains(&v)))
    });
    literal || captured
}

/// Whether `value` can be a captured value of `kind`.
fn of_kind(value: &AttrValue, kind: &str) -> bool {
    match (value, kind) {
        (AttrValue::Bool(_), "bool")
        | (AttrValue::Int(_) | AttrValue::UInt(_) | AttrValue::Float(_), "int")
        | (AttrValue::Float(_), "float") => true,
        (AttrValue::Str(_), "string") => value.as_str().is_some_and(is_variant_value),
        (AttrValue::Str(_), "hashed") => value.as_str().is_some_and(is_digest),
        (AttrValue::Str(_), k) if k == ANY_KIND => value
            .as_str()
            .is_some_and(|s| is_variant_value(s) || is_digest(s)),
        (_, k) => k == ANY_KIND,
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
        .all(|b| b.is_ascii_alphanumeric() || b" _:<>,&()[];*+-=".contains(b))
    {
        return false;
    }
    bytes.iter().enumerate().all(|(i, &b)| {
        if b != b' ' {
            return true;
        }
        let before = &text[..i];
        let after = bytes.get(i + 1).copied();
        before.ends_with([',', ';', '+', '=', '>'])
            || matches!(after, Some(b'+' | b'=' | b'-'))
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
        assert!(crate::util::time::is_rfc3339_millis(
            "2026-11-27T13:16:35.123Z"
        ));
        assert!(!crate::util::time::is_rfc3339_millis(
            "2026-11-27T13:16:35.123Z/alice"
        ));
        assert!(!crate::util::time::is_rfc3339_millis(
            "alice-11-27T13:16:35.123Z"
        ));
        assert!(is_digest(&"ab".repeat(16)));
        assert!(!is_digest(&"AB".repeat(16)));
    }

    #[test]
    fn an_enum_capture_is_kept_only_with_a_listed_value() {
        use crate::catalog::CaptureSpec;
        const CAPTURES: &[CaptureSpec] = &[
            CaptureSpec::new("shell", "string").with_values(&["bash", "zsh"]),
            CaptureSpec::new("mode", "string"),
        ];
        static SPEC: EventSpec = EventSpec::new("cmd.x", &[], CAPTURES, "m");
        let text = |s: &str| AttrValue::owned_str(s.to_owned());
        assert!(declares(&SPEC, "shell", &text("zsh")));
        // Shaped like a variant, but not one this binary's enum has.
        assert!(!declares(&SPEC, "shell", &text("alice")));
        assert!(!declares(&SPEC, "shell", &AttrValue::Int(1)));
        // A capture whose values the catalog does not know: the shape decides.
        assert!(declares(&SPEC, "mode", &text("alice")));
        assert!(!declares(&SPEC, "mode", &text("Alice Smith")));
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
            "fn() -> u8",
            "alloc::boxed::Box<dyn core::iter::Iterator<Item = u8>>",
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
