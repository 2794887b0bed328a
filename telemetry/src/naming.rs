//! Rules for names that leave the process: event names and attribute keys.
//! (`#[track]` enforces the same rules at compile time.)

/// Longest event name accepted, in bytes.
pub(crate) const MAX_EVENT_NAME: usize = 64;

/// `[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*`, at most 64 bytes.
pub(crate) fn is_valid_event_name(name: &str) -> bool {
    name.len() <= MAX_EVENT_NAME && name.split('.').all(is_snake_segment)
}

/// `[a-z][a-z0-9_]*`, at most 64 bytes.
pub(crate) fn is_valid_attr_key(key: &str) -> bool {
    key.len() <= MAX_EVENT_NAME && is_snake_segment(key)
}

fn is_snake_segment(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
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

/// Longest string attribute value accepted, in bytes.
pub(crate) const MAX_ATTR_TEXT: usize = 128;

/// A string attribute value: at most 128 bytes, no control characters (C0, DEL, C1)
/// and no bidirectional formatting characters (which could make a value display as
/// something else than it is).
pub(crate) fn is_valid_attr_text(value: &str) -> bool {
    value.len() <= MAX_ATTR_TEXT
        && !value.chars().any(|c| {
            c.is_control()
                || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
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
            "cmd-build",
            "cmd.Build",
            &"a".repeat(65),
            "/home/me",
        ] {
            assert!(!is_valid_event_name(bad), "{bad}");
        }
    }

    #[test]
    fn attr_keys_and_tools() {
        assert!(is_valid_attr_key("dry_run"));
        assert!(!is_valid_attr_key("dry.run"));
        assert!(!is_valid_attr_key("Dry"));
        assert!(is_valid_tool_name("my-tool_2.x"));
        assert!(!is_valid_tool_name("../etc"));
        assert!(!is_valid_tool_name("a b"));
        assert!(!is_valid_tool_name(""));
    }
}
