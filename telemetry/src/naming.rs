//! Rules for what leaves the process by name: event names, attribute keys and the
//! string values fixed in the source. `#[track]` enforces the same rules at compile
//! time with errors on the user's tokens; the `const fn`s here are the runtime crate's
//! one copy of them, used by the runtime API and, in const evaluation, by
//! [`EventSpec::new`](crate::catalog::EventSpec::new) and
//! [`CaptureSpec::new`](crate::catalog::CaptureSpec::new), so a hand-built `static`
//! spec that breaks them does not compile.
//!
//! (The macro crate has its own copy in `telemetry-macros/src/check.rs`: a proc-macro
//! crate cannot share items with the crate it expands for, and a `#[path]` include of
//! this file across packages would not survive `cargo package`.)

/// Longest event name accepted, in bytes.
pub(crate) const MAX_EVENT_NAME: usize = 64;

/// Longest attribute key accepted, in bytes.
pub(crate) const MAX_ATTR_KEY: usize = 64;

/// Longest string attribute value fixed in the source, in bytes.
pub(crate) const MAX_STR_VALUE: usize = 128;

/// `[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*`, at most 64 bytes.
pub(crate) const fn is_valid_event_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_EVENT_NAME {
        return false;
    }
    // At the start of a dot-separated word.
    let mut word_start = true;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let ok = if word_start {
            b.is_ascii_lowercase()
        } else {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.'
        };
        if !ok {
            return false;
        }
        word_start = b == b'.';
        i += 1;
    }
    !word_start
}

/// `[a-z][a-z0-9_]*`, at most 64 bytes.
pub(crate) const fn is_valid_attr_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_ATTR_KEY || !bytes[0].is_ascii_lowercase() {
        return false;
    }
    let mut i = 1;
    while i < bytes.len() {
        let b = bytes[i];
        if !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            return false;
        }
        i += 1;
    }
    true
}

/// A string value fixed in the source: at most 128 bytes, and no control characters
/// (C0, DEL, C1) or bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E,
/// U+2066–U+2069), which could hide what a value says from whoever reads it.
pub(crate) const fn is_valid_str_value(value: &str) -> bool {
    value.len() <= MAX_STR_VALUE && !has_forbidden_char(value)
}

/// What `module_path!()` gives: `::`-separated identifiers (ASCII letters, digits, `_`,
/// `#` of raw identifiers, or non-ASCII identifier characters), nothing a path or free
/// text needs.
pub(crate) const fn is_valid_module_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    if bytes.is_empty() || has_forbidden_char(path) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !(b >= 0x80 || b.is_ascii_alphanumeric() || b == b'_' || b == b':' || b == b'#') {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether `value` holds a control character (C0, DEL, C1) or a bidirectional control.
const fn has_forbidden_char(value: &str) -> bool {
    let bytes = value.as_bytes();
    // `value` is UTF-8, so matching the encodings of the forbidden characters is exact.
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let next = if i + 1 < bytes.len() { bytes[i + 1] } else { 0 };
        let third = if i + 2 < bytes.len() { bytes[i + 2] } else { 0 };
        let forbidden = b < 0x20
            || b == 0x7f
            // C1: U+0080..=U+009F
            || (b == 0xc2 && next >= 0x80 && next <= 0x9f)
            // U+061C ARABIC LETTER MARK
            || (b == 0xd8 && next == 0x9c)
            // U+200E, U+200F, U+202A..=U+202E
            || (b == 0xe2
                && next == 0x80
                && (third == 0x8e || third == 0x8f || (third >= 0xaa && third <= 0xae)))
            // U+2066..=U+2069
            || (b == 0xe2 && next == 0x81 && third >= 0xa6 && third <= 0xa9);
        if forbidden {
            return true;
        }
        i += 1;
    }
    false
}

/// A tool name usable in directory names and environment variables.
pub(crate) fn is_valid_tool_name(tool: &str) -> bool {
    !tool.is_empty()
        && tool.len() <= MAX_EVENT_NAME
        && tool
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !tool.starts_with('.')
}

/// A tool version: 1-64 ASCII letters, digits, `.`, `-`, `+` (SemVer's alphabet).
pub(crate) fn is_valid_tool_version(version: &str) -> bool {
    (1..=MAX_EVENT_NAME).contains(&version.len())
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'))
}

/// `a == b`, in const evaluation.
pub(crate) const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names() {
        for ok in ["cmd", "cmd.build", "a1.b_2.c", &"a".repeat(64)] {
            assert!(is_valid_event_name(ok), "{ok}");
        }
        for bad in [
            "",
            "Cmd",
            "cmd.",
            ".cmd",
            "cmd..x",
            "1cmd",
            "cmd.1x",
            "cmd._x",
            "cmd-build",
            "cmd.Build",
            &"a".repeat(65),
            "/home/me",
            "cmd.bü",
        ] {
            assert!(!is_valid_event_name(bad), "{bad}");
        }
    }

    #[test]
    fn attr_keys_and_tools() {
        assert!(is_valid_attr_key("dry_run"));
        assert!(is_valid_attr_key(&"k".repeat(64)));
        assert!(!is_valid_attr_key(&"k".repeat(65)));
        assert!(!is_valid_attr_key("dry.run"));
        assert!(!is_valid_attr_key("Dry"));
        assert!(!is_valid_attr_key("_dry"));
        assert!(!is_valid_attr_key("Home Dir"));
        assert!(!is_valid_attr_key(""));
        assert!(is_valid_tool_name("my-tool_2.x"));
        assert!(!is_valid_tool_name("../etc"));
        assert!(!is_valid_tool_name("a b"));
        assert!(!is_valid_tool_name(""));
    }

    #[test]
    fn string_values() {
        for ok in [
            "",
            "release",
            "Ünïcode ok",
            "tab-free",
            &"x".repeat(128),
            "\u{00a0}",
            "\u{2010}",
            "\u{202f}",
        ] {
            assert!(is_valid_str_value(ok), "{ok:?}");
        }
        for bad in [
            "a\tb",
            "a\nb",
            "\0",
            "\u{7f}",
            "\u{80}",
            "\u{9f}",
            "\u{61c}",
            "\u{200e}",
            "\u{200f}",
            "\u{202a}",
            "\u{202e}",
            "\u{2066}",
            "\u{2069}",
            &"x".repeat(129),
        ] {
            assert!(!is_valid_str_value(bad), "{bad:?}");
        }
        assert!(str_eq("ab", "ab") && !str_eq("ab", "abc") && !str_eq("ab", "ac"));
    }

    #[test]
    fn module_paths() {
        for ok in [
            module_path!(),
            "my_tool::commands",
            "r#try::x",
            "crate_ünï::m",
        ] {
            assert!(is_valid_module_path(ok), "{ok}");
        }
        for bad in ["", "/home/alice", "a b", "a::b\u{202e}", "a.b"] {
            assert!(!is_valid_module_path(bad), "{bad}");
        }
    }
}
