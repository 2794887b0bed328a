//! The name rules of `telemetry`: what an event name, an attribute key, a string value
//! fixed in the source, a module path, a tool name and version, and a
//! `#[derive(SafeValue)]` variant value may contain.
//!
//! This crate is the one copy of these rules. `telemetry` applies them at run time and,
//! in const evaluation, to every `EventSpec`; `telemetry-macros` applies them at compile
//! time and turns a [`NameError`] into an error spanned on the user's token. A
//! proc-macro crate cannot export anything but macros, so the rules cannot live there,
//! and the macro crate cannot depend on the runtime crate (which depends on it).
//!
//! Every rule comes twice: `check_*` says why a name is refused, `is_valid_*` only
//! whether it is accepted. All are `const fn`s and all lengths are in bytes.
//!
//! ```
//! use telemetry_naming::{NameError, check_event_name, is_valid_event_name};
//!
//! assert!(is_valid_event_name("cmd.build"));
//! assert_eq!(
//!     check_event_name("cmd.Build"),
//!     Err(NameError::BadChar { at: 4, ch: 'B' })
//! );
//! ```

#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

#[cfg(test)]
mod tests;

/// Longest event name accepted, in bytes.
///
/// ```
/// use telemetry_naming::{MAX_EVENT_NAME_LEN, is_valid_event_name};
///
/// let name = "a".repeat(MAX_EVENT_NAME_LEN);
/// assert!(is_valid_event_name(&name));
/// assert!(!is_valid_event_name(&(name + "a")));
/// ```
pub const MAX_EVENT_NAME_LEN: usize = 64;

/// Longest attribute key accepted, in bytes.
///
/// ```
/// use telemetry_naming::{MAX_ATTR_KEY_LEN, is_valid_attr_key};
///
/// assert!(is_valid_attr_key(&"k".repeat(MAX_ATTR_KEY_LEN)));
/// assert!(!is_valid_attr_key(&"k".repeat(MAX_ATTR_KEY_LEN + 1)));
/// ```
pub const MAX_ATTR_KEY_LEN: usize = 64;

/// Longest string attribute value fixed in the source, in bytes.
///
/// ```
/// use telemetry_naming::{MAX_STR_VALUE_LEN, is_valid_str_value};
///
/// assert!(is_valid_str_value(&"x".repeat(MAX_STR_VALUE_LEN)));
/// assert!(!is_valid_str_value(&"x".repeat(MAX_STR_VALUE_LEN + 1)));
/// ```
pub const MAX_STR_VALUE_LEN: usize = 128;

/// Longest tool name accepted, in bytes.
///
/// ```
/// use telemetry_naming::{MAX_TOOL_NAME_LEN, is_valid_tool_name};
///
/// assert!(is_valid_tool_name(&"t".repeat(MAX_TOOL_NAME_LEN)));
/// assert!(!is_valid_tool_name(&"t".repeat(MAX_TOOL_NAME_LEN + 1)));
/// ```
pub const MAX_TOOL_NAME_LEN: usize = 64;

/// Longest tool version accepted, in bytes.
///
/// ```
/// use telemetry_naming::{MAX_TOOL_VERSION_LEN, is_valid_tool_version};
///
/// assert!(is_valid_tool_version(&"1".repeat(MAX_TOOL_VERSION_LEN)));
/// assert!(!is_valid_tool_version(&"1".repeat(MAX_TOOL_VERSION_LEN + 1)));
/// ```
pub const MAX_TOOL_VERSION_LEN: usize = 64;

/// Longest value a `#[derive(SafeValue)]` enum variant is sent as, in bytes.
///
/// ```
/// use telemetry_naming::{MAX_VARIANT_VALUE_LEN, is_valid_variant_value};
///
/// assert!(is_valid_variant_value(&"v".repeat(MAX_VARIANT_VALUE_LEN)));
/// assert!(!is_valid_variant_value(&"v".repeat(MAX_VARIANT_VALUE_LEN + 1)));
/// ```
pub const MAX_VARIANT_VALUE_LEN: usize = 64;

/// Why a name or value breaks its rule: the first problem found. Lengths are checked
/// before characters; characters are reported left to right, with their byte offset.
///
/// ```
/// use telemetry_naming::{NameError, check_attr_key};
///
/// match check_attr_key("dry-run") {
///     Err(NameError::BadChar { at, ch }) => assert_eq!((at, ch), (3, '-')),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameError {
    /// Empty, where at least one character is required.
    Empty,
    /// `len` bytes long, more than the `max` the rule allows.
    TooLong {
        /// The length, in bytes.
        len: usize,
        /// The limit, in bytes.
        max: usize,
    },
    /// `ch`, at byte offset `at`, is not allowed anywhere in this kind of name.
    BadChar {
        /// Byte offset of `ch`.
        at: usize,
        /// The character.
        ch: char,
    },
    /// `ch`, at byte offset `at`, is allowed in this kind of name but not where it is:
    /// at the start of the name or of a dot-separated word (a digit or `_` starting an
    /// event name's word, a `.` starting a tool name, a `_`, `-` or `.` starting a
    /// variant value).
    BadStart {
        /// Byte offset of `ch`.
        at: usize,
        /// The character.
        ch: char,
    },
    /// An empty dot-separated word in an event name: a leading, trailing or doubled
    /// `.`, whose position is `at` (the name's length for a trailing one).
    EmptySegment {
        /// Byte offset where the empty word is.
        at: usize,
    },
}

/// An event name: `[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*`, at most
/// [`MAX_EVENT_NAME_LEN`] bytes.
///
/// ```
/// use telemetry_naming::{NameError, check_event_name};
///
/// assert_eq!(check_event_name("cmd.build"), Ok(()));
/// assert_eq!(check_event_name(""), Err(NameError::Empty));
/// assert_eq!(check_event_name("cmd..x"), Err(NameError::EmptySegment { at: 4 }));
/// assert_eq!(check_event_name("cmd.1x"), Err(NameError::BadStart { at: 4, ch: '1' }));
/// assert_eq!(check_event_name("cmd-x"), Err(NameError::BadChar { at: 3, ch: '-' }));
/// ```
pub const fn check_event_name(name: &str) -> Result<(), NameError> {
    let bytes = name.as_bytes();
    if let Err(e) = check_len(bytes.len(), 1, MAX_EVENT_NAME_LEN) {
        return Err(e);
    }
    let mut start = 0;
    let mut i = 0;
    while i <= bytes.len() {
        if i == bytes.len() || bytes[i] == b'.' {
            if i == start {
                return Err(NameError::EmptySegment { at: i });
            }
            if let Err(e) = check_word(bytes, start, i) {
                return Err(e);
            }
            start = i + 1;
        }
        i += 1;
    }
    Ok(())
}

/// Whether `name` follows [`check_event_name`]'s rule.
///
/// ```
/// use telemetry_naming::is_valid_event_name;
///
/// const OK: bool = is_valid_event_name("cmd.build");
/// assert!(OK);
/// assert!(!is_valid_event_name("cmd."));
/// ```
pub const fn is_valid_event_name(name: &str) -> bool {
    check_event_name(name).is_ok()
}

/// An attribute key: `[a-z][a-z0-9_]*`, at most [`MAX_ATTR_KEY_LEN`] bytes.
///
/// ```
/// use telemetry_naming::{NameError, check_attr_key};
///
/// assert_eq!(check_attr_key("dry_run"), Ok(()));
/// assert_eq!(check_attr_key("_dry"), Err(NameError::BadStart { at: 0, ch: '_' }));
/// assert_eq!(check_attr_key("dry.run"), Err(NameError::BadChar { at: 3, ch: '.' }));
/// ```
pub const fn check_attr_key(key: &str) -> Result<(), NameError> {
    let bytes = key.as_bytes();
    if let Err(e) = check_len(bytes.len(), 1, MAX_ATTR_KEY_LEN) {
        return Err(e);
    }
    check_word(bytes, 0, bytes.len())
}

/// Whether `key` follows [`check_attr_key`]'s rule.
///
/// ```
/// use telemetry_naming::is_valid_attr_key;
///
/// assert!(is_valid_attr_key("dry_run"));
/// assert!(!is_valid_attr_key("Home Dir"));
/// ```
pub const fn is_valid_attr_key(key: &str) -> bool {
    check_attr_key(key).is_ok()
}

/// A string value fixed in the source: at most [`MAX_STR_VALUE_LEN`] bytes, possibly
/// empty, and no [forbidden character](is_forbidden_char) (reported as
/// [`NameError::BadChar`]).
///
/// ```
/// use telemetry_naming::{NameError, check_str_value};
///
/// assert_eq!(check_str_value("Ünïcode is fine"), Ok(()));
/// assert_eq!(
///     check_str_value("a\u{202E}b"),
///     Err(NameError::BadChar { at: 1, ch: '\u{202E}' })
/// );
/// ```
pub const fn check_str_value(value: &str) -> Result<(), NameError> {
    let bytes = value.as_bytes();
    if let Err(e) = check_len(bytes.len(), 0, MAX_STR_VALUE_LEN) {
        return Err(e);
    }
    let mut i = 0;
    while i < bytes.len() {
        let (ch, len) = char_at(bytes, i);
        if is_forbidden_char(ch) {
            return Err(NameError::BadChar { at: i, ch });
        }
        i += len;
    }
    Ok(())
}

/// Whether `value` follows [`check_str_value`]'s rule.
///
/// ```
/// use telemetry_naming::is_valid_str_value;
///
/// assert!(is_valid_str_value("release"));
/// assert!(!is_valid_str_value("a\tb"));
/// ```
pub const fn is_valid_str_value(value: &str) -> bool {
    check_str_value(value).is_ok()
}

/// A character no value fixed in the source may contain: a control character (C0,
/// DEL, C1: Unicode's `Cc`) or a bidirectional control (U+061C, U+200E, U+200F,
/// U+202A to U+202E, U+2066 to U+2069), which could hide what a value says from
/// whoever reads it.
///
/// ```
/// use telemetry_naming::is_forbidden_char;
///
/// assert!(is_forbidden_char('\n'));
/// assert!(is_forbidden_char('\u{85}'));
/// assert!(is_forbidden_char('\u{202E}'));
/// assert!(!is_forbidden_char('é'));
/// ```
pub const fn is_forbidden_char(ch: char) -> bool {
    matches!(
        ch,
        '\u{0}'..='\u{1F}'
            | '\u{7F}'..='\u{9F}'
            | '\u{61C}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// What `module_path!()` gives: `::`-separated identifiers made of ASCII letters,
/// digits, `_`, the `#` of raw identifiers, or non-ASCII characters that are not
/// [forbidden](is_forbidden_char); nothing a file path or free text needs.
///
/// ```
/// use telemetry_naming::{NameError, check_module_path};
///
/// assert_eq!(check_module_path(module_path!()), Ok(()));
/// assert_eq!(check_module_path("r#try::m"), Ok(()));
/// assert_eq!(
///     check_module_path("/home/alice"),
///     Err(NameError::BadChar { at: 0, ch: '/' })
/// );
/// ```
pub const fn check_module_path(path: &str) -> Result<(), NameError> {
    let bytes = path.as_bytes();
    if bytes.is_empty() {
        return Err(NameError::Empty);
    }
    let mut i = 0;
    while i < bytes.len() {
        let (ch, len) = char_at(bytes, i);
        let ok = if ch.is_ascii() {
            ch.is_ascii_alphanumeric() || matches!(ch, '_' | ':' | '#')
        } else {
            !is_forbidden_char(ch)
        };
        if !ok {
            return Err(NameError::BadChar { at: i, ch });
        }
        i += len;
    }
    Ok(())
}

/// Whether `path` follows [`check_module_path`]'s rule.
///
/// ```
/// use telemetry_naming::is_valid_module_path;
///
/// assert!(is_valid_module_path("my_tool::commands"));
/// assert!(!is_valid_module_path("a b"));
/// ```
pub const fn is_valid_module_path(path: &str) -> bool {
    check_module_path(path).is_ok()
}

/// A tool name, usable in directory names and environment variables: 1 to
/// [`MAX_TOOL_NAME_LEN`] bytes of ASCII letters, digits, `-`, `_` and `.`, not starting
/// with `.`.
///
/// ```
/// use telemetry_naming::{NameError, check_tool_name};
///
/// assert_eq!(check_tool_name("my-tool_2.x"), Ok(()));
/// assert_eq!(check_tool_name(".x"), Err(NameError::BadStart { at: 0, ch: '.' }));
/// assert_eq!(check_tool_name("../etc"), Err(NameError::BadChar { at: 2, ch: '/' }));
/// ```
pub const fn check_tool_name(tool: &str) -> Result<(), NameError> {
    let bytes = tool.as_bytes();
    if let Err(e) = check_len(bytes.len(), 1, MAX_TOOL_NAME_LEN) {
        return Err(e);
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
            return Err(bad_char(bytes, i));
        }
        i += 1;
    }
    if bytes[0] == b'.' {
        return Err(NameError::BadStart { at: 0, ch: '.' });
    }
    Ok(())
}

/// Whether `tool` follows [`check_tool_name`]'s rule.
///
/// ```
/// use telemetry_naming::is_valid_tool_name;
///
/// assert!(is_valid_tool_name("mytool"));
/// assert!(!is_valid_tool_name("a b"));
/// ```
pub const fn is_valid_tool_name(tool: &str) -> bool {
    check_tool_name(tool).is_ok()
}

/// A tool version: 1 to [`MAX_TOOL_VERSION_LEN`] bytes of ASCII letters, digits, `.`,
/// `-` and `+` (SemVer's alphabet).
///
/// ```
/// use telemetry_naming::{NameError, check_tool_version};
///
/// assert_eq!(check_tool_version("1.2.3-rc.1+build.5"), Ok(()));
/// assert_eq!(check_tool_version("1.0 beta"), Err(NameError::BadChar { at: 3, ch: ' ' }));
/// ```
pub const fn check_tool_version(version: &str) -> Result<(), NameError> {
    let bytes = version.as_bytes();
    if let Err(e) = check_len(bytes.len(), 1, MAX_TOOL_VERSION_LEN) {
        return Err(e);
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+')) {
            return Err(bad_char(bytes, i));
        }
        i += 1;
    }
    Ok(())
}

/// Whether `version` follows [`check_tool_version`]'s rule.
///
/// ```
/// use telemetry_naming::is_valid_tool_version;
///
/// assert!(is_valid_tool_version("0.1.0"));
/// assert!(!is_valid_tool_version(""));
/// ```
pub const fn is_valid_tool_version(version: &str) -> bool {
    check_tool_version(version).is_ok()
}

/// The value a `#[derive(SafeValue)]` enum variant is sent as (its snake_case name or
/// its `rename`): 1 to [`MAX_VARIANT_VALUE_LEN`] bytes of `a-z`, `0-9`, `_`, `-` and
/// `.`, starting with a letter or digit. A character outside that alphabet anywhere
/// is reported before a bad first character.
///
/// ```
/// use telemetry_naming::{NameError, check_variant_value};
///
/// assert_eq!(check_variant_value("release-lto"), Ok(()));
/// assert_eq!(check_variant_value("0day"), Ok(()));
/// assert_eq!(check_variant_value("-x"), Err(NameError::BadStart { at: 0, ch: '-' }));
/// assert_eq!(check_variant_value("ålice"), Err(NameError::BadChar { at: 0, ch: 'å' }));
/// ```
pub const fn check_variant_value(value: &str) -> Result<(), NameError> {
    let bytes = value.as_bytes();
    if let Err(e) = check_len(bytes.len(), 1, MAX_VARIANT_VALUE_LEN) {
        return Err(e);
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !(b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')) {
            return Err(bad_char(bytes, i));
        }
        i += 1;
    }
    if !(bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit()) {
        return Err(NameError::BadStart {
            at: 0,
            ch: bytes[0] as char,
        });
    }
    Ok(())
}

/// Whether `value` follows [`check_variant_value`]'s rule.
///
/// ```
/// use telemetry_naming::is_valid_variant_value;
///
/// assert!(is_valid_variant_value("v1.2"));
/// assert!(!is_valid_variant_value("_x"));
/// ```
pub const fn is_valid_variant_value(value: &str) -> bool {
    check_variant_value(value).is_ok()
}

/// `Empty` or `TooLong` when `len` is outside `min..=max`.
const fn check_len(len: usize, min: usize, max: usize) -> Result<(), NameError> {
    if len < min {
        Err(NameError::Empty)
    } else if len > max {
        Err(NameError::TooLong { len, max })
    } else {
        Ok(())
    }
}

/// `bytes[start..end]` is `[a-z][a-z0-9_]*` (and not empty).
const fn check_word(bytes: &[u8], start: usize, end: usize) -> Result<(), NameError> {
    let mut i = start;
    while i < end {
        let b = bytes[i];
        if b.is_ascii_lowercase() {
            // Allowed everywhere.
        } else if b.is_ascii_digit() || b == b'_' {
            if i == start {
                return Err(NameError::BadStart {
                    at: i,
                    ch: b as char,
                });
            }
        } else {
            return Err(bad_char(bytes, i));
        }
        i += 1;
    }
    Ok(())
}

/// `BadChar` for the character starting at byte `at` (a character boundary).
const fn bad_char(bytes: &[u8], at: usize) -> NameError {
    NameError::BadChar {
        at,
        ch: char_at(bytes, at).0,
    }
}

/// The character starting at byte `i` of the UTF-8 `bytes` (a character boundary),
/// and its length in bytes.
const fn char_at(bytes: &[u8], i: usize) -> (char, usize) {
    let first = bytes[i];
    let (len, mut code) = if first < 0x80 {
        (1, first as u32)
    } else if first < 0xE0 {
        (2, (first & 0x1F) as u32)
    } else if first < 0xF0 {
        (3, (first & 0x0F) as u32)
    } else {
        (4, (first & 0x07) as u32)
    };
    let mut k = 1;
    while k < len && i + k < bytes.len() {
        code = (code << 6) | (bytes[i + k] & 0x3F) as u32;
        k += 1;
    }
    match char::from_u32(code) {
        Some(ch) => (ch, len),
        // Unreachable for the bytes of a `str`.
        None => (char::REPLACEMENT_CHARACTER, len),
    }
}
