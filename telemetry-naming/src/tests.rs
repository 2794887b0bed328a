//! Every rule with accepted and rejected examples, the edge cases included.

use std::string::String;

use super::*;

fn rep(s: &str, n: usize) -> String {
    s.repeat(n)
}

// Rules usable where they are meant to be: in const evaluation.
const _: () = assert!(is_valid_event_name("cmd.build") && !is_valid_event_name("cmd."));
const _: () = assert!(is_valid_attr_key("dry_run") && !is_valid_attr_key("Dry"));
const _: () = assert!(is_valid_str_value("ok") && !is_valid_str_value("\u{202e}"));
const _: () = assert!(is_valid_module_path(module_path!()));

#[test]
fn event_names() {
    for ok in [
        "cmd",
        "cmd.build",
        "a1.b_2.c",
        "a",
        "a.b.c.d",
        "cmd_",
        &rep("a", 64),
        &(rep("a", 62) + ".b"),
    ] {
        assert_eq!(check_event_name(ok), Ok(()), "{ok}");
        assert!(is_valid_event_name(ok), "{ok}");
    }
    let bad: &[(&str, NameError)] = &[
        ("", NameError::Empty),
        (&rep("a", 65), NameError::TooLong { len: 65, max: 64 }),
        // Too long wins over any character problem.
        (&rep("A", 65), NameError::TooLong { len: 65, max: 64 }),
        ("Cmd", NameError::BadChar { at: 0, ch: 'C' }),
        ("cmd.Build", NameError::BadChar { at: 4, ch: 'B' }),
        ("cmd-build", NameError::BadChar { at: 3, ch: '-' }),
        ("cmd build", NameError::BadChar { at: 3, ch: ' ' }),
        ("/home/me", NameError::BadChar { at: 0, ch: '/' }),
        ("cmd.bü", NameError::BadChar { at: 5, ch: 'ü' }),
        ("é", NameError::BadChar { at: 0, ch: 'é' }),
        (
            "cmd\u{202e}",
            NameError::BadChar {
                at: 3,
                ch: '\u{202e}',
            },
        ),
        (
            "cmd\u{85}",
            NameError::BadChar {
                at: 3,
                ch: '\u{85}',
            },
        ),
        (
            "cmd\u{7f}",
            NameError::BadChar {
                at: 3,
                ch: '\u{7f}',
            },
        ),
        ("1cmd", NameError::BadStart { at: 0, ch: '1' }),
        ("cmd.1x", NameError::BadStart { at: 4, ch: '1' }),
        ("_cmd", NameError::BadStart { at: 0, ch: '_' }),
        ("cmd._x", NameError::BadStart { at: 4, ch: '_' }),
        (".cmd", NameError::EmptySegment { at: 0 }),
        ("cmd.", NameError::EmptySegment { at: 4 }),
        ("cmd..x", NameError::EmptySegment { at: 4 }),
        (".", NameError::EmptySegment { at: 0 }),
    ];
    for (name, error) in bad {
        assert_eq!(check_event_name(name), Err(*error), "{name:?}");
        assert!(!is_valid_event_name(name), "{name:?}");
    }
}

#[test]
fn attr_keys() {
    for ok in ["dry_run", "k", "k9", "a_", &rep("k", 64)] {
        assert_eq!(check_attr_key(ok), Ok(()), "{ok}");
        assert!(is_valid_attr_key(ok), "{ok}");
    }
    let bad: &[(&str, NameError)] = &[
        ("", NameError::Empty),
        (&rep("k", 65), NameError::TooLong { len: 65, max: 64 }),
        ("Dry", NameError::BadChar { at: 0, ch: 'D' }),
        ("dry.run", NameError::BadChar { at: 3, ch: '.' }),
        ("Home Dir", NameError::BadChar { at: 0, ch: 'H' }),
        ("home dir", NameError::BadChar { at: 4, ch: ' ' }),
        ("café", NameError::BadChar { at: 3, ch: 'é' }),
        (
            "k\u{202e}",
            NameError::BadChar {
                at: 1,
                ch: '\u{202e}',
            },
        ),
        (
            "k\u{85}",
            NameError::BadChar {
                at: 1,
                ch: '\u{85}',
            },
        ),
        (
            "k\u{7f}",
            NameError::BadChar {
                at: 1,
                ch: '\u{7f}',
            },
        ),
        ("_dry", NameError::BadStart { at: 0, ch: '_' }),
        ("1st", NameError::BadStart { at: 0, ch: '1' }),
    ];
    for (key, error) in bad {
        assert_eq!(check_attr_key(key), Err(*error), "{key:?}");
        assert!(!is_valid_attr_key(key), "{key:?}");
    }
}

#[test]
fn string_values() {
    for ok in [
        "",
        "release",
        "Ünïcode ok",
        "a b.c/d",
        &rep("x", 128),
        &rep("é", 64),
        "\u{a0}",
        "\u{a0}\u{2010}\u{202f}\u{2065}\u{206a}\u{61b}\u{61d}",
        "\u{1f600}",
    ] {
        assert_eq!(check_str_value(ok), Ok(()), "{ok:?}");
        assert!(is_valid_str_value(ok), "{ok:?}");
    }
    for ch in [
        '\0', '\t', '\n', '\r', '\u{1b}', '\u{1f}', '\u{7f}', '\u{80}', '\u{85}', '\u{9f}',
        '\u{61c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202c}', '\u{202e}', '\u{2066}',
        '\u{2069}',
    ] {
        assert!(is_forbidden_char(ch), "{ch:?}");
        let value = std::format!("ok{ch}");
        assert_eq!(
            check_str_value(&value),
            Err(NameError::BadChar { at: 2, ch }),
            "{value:?}"
        );
        assert!(!is_valid_str_value(&value), "{value:?}");
    }
    for ch in [' ', '~', 'é', '\u{a0}', '\u{2010}', '\u{202f}', '\u{2065}'] {
        assert!(!is_forbidden_char(ch), "{ch:?}");
    }
    assert_eq!(
        check_str_value(&rep("x", 129)),
        Err(NameError::TooLong { len: 129, max: 128 })
    );
    // Bytes, not characters: 65 two-byte characters are 130 bytes.
    assert_eq!(
        check_str_value(&rep("é", 65)),
        Err(NameError::TooLong { len: 130, max: 128 })
    );
    // The first forbidden character, at its byte offset.
    assert_eq!(
        check_str_value("é\u{202e}\n"),
        Err(NameError::BadChar {
            at: 2,
            ch: '\u{202e}'
        })
    );
}

#[test]
fn module_paths() {
    for ok in [
        module_path!(),
        "my_tool",
        "my_tool::commands",
        "r#try::x",
        "crate_ünï::m",
        "Caps::X9",
    ] {
        assert_eq!(check_module_path(ok), Ok(()), "{ok}");
        assert!(is_valid_module_path(ok), "{ok}");
    }
    let bad: &[(&str, NameError)] = &[
        ("", NameError::Empty),
        ("/home/alice", NameError::BadChar { at: 0, ch: '/' }),
        ("a b", NameError::BadChar { at: 1, ch: ' ' }),
        ("a.b", NameError::BadChar { at: 1, ch: '.' }),
        ("a-b", NameError::BadChar { at: 1, ch: '-' }),
        (
            "a::b\u{202e}",
            NameError::BadChar {
                at: 4,
                ch: '\u{202e}',
            },
        ),
        (
            "a\u{85}",
            NameError::BadChar {
                at: 1,
                ch: '\u{85}',
            },
        ),
        (
            "a\u{7f}",
            NameError::BadChar {
                at: 1,
                ch: '\u{7f}',
            },
        ),
    ];
    for (path, error) in bad {
        assert_eq!(check_module_path(path), Err(*error), "{path:?}");
        assert!(!is_valid_module_path(path), "{path:?}");
    }
}

#[test]
fn tool_names() {
    for ok in [
        "mytool",
        "my-tool_2.x",
        "MyTool",
        "x.",
        "2fa",
        &rep("t", 64),
    ] {
        assert_eq!(check_tool_name(ok), Ok(()), "{ok}");
        assert!(is_valid_tool_name(ok), "{ok}");
    }
    let bad: &[(&str, NameError)] = &[
        ("", NameError::Empty),
        (&rep("t", 65), NameError::TooLong { len: 65, max: 64 }),
        ("../etc", NameError::BadChar { at: 2, ch: '/' }),
        ("a b", NameError::BadChar { at: 1, ch: ' ' }),
        ("tøol", NameError::BadChar { at: 1, ch: 'ø' }),
        (
            "t\u{202e}",
            NameError::BadChar {
                at: 1,
                ch: '\u{202e}',
            },
        ),
        (
            "t\u{7f}",
            NameError::BadChar {
                at: 1,
                ch: '\u{7f}',
            },
        ),
        (".hidden", NameError::BadStart { at: 0, ch: '.' }),
        ("..", NameError::BadStart { at: 0, ch: '.' }),
    ];
    for (tool, error) in bad {
        assert_eq!(check_tool_name(tool), Err(*error), "{tool:?}");
        assert!(!is_valid_tool_name(tool), "{tool:?}");
    }
}

#[test]
fn tool_versions() {
    for ok in ["0.1.0", "1.2.3-rc.1+build.5", "v2", "-", &rep("1", 64)] {
        assert_eq!(check_tool_version(ok), Ok(()), "{ok}");
        assert!(is_valid_tool_version(ok), "{ok}");
    }
    let bad: &[(&str, NameError)] = &[
        ("", NameError::Empty),
        (&rep("1", 65), NameError::TooLong { len: 65, max: 64 }),
        ("1.0 beta", NameError::BadChar { at: 3, ch: ' ' }),
        ("1_0", NameError::BadChar { at: 1, ch: '_' }),
        ("1/0", NameError::BadChar { at: 1, ch: '/' }),
        (
            "1.0\u{85}",
            NameError::BadChar {
                at: 3,
                ch: '\u{85}',
            },
        ),
    ];
    for (version, error) in bad {
        assert_eq!(check_tool_version(version), Err(*error), "{version:?}");
        assert!(!is_valid_tool_version(version), "{version:?}");
    }
}

#[test]
fn variant_values() {
    for ok in ["a", "zsh-5", "v1.2", "0day", "a_b", "a.", &rep("a", 64)] {
        assert_eq!(check_variant_value(ok), Ok(()), "{ok}");
        assert!(is_valid_variant_value(ok), "{ok}");
    }
    let bad: &[(&str, NameError)] = &[
        ("", NameError::Empty),
        (&rep("a", 65), NameError::TooLong { len: 65, max: 64 }),
        ("A", NameError::BadChar { at: 0, ch: 'A' }),
        ("a b", NameError::BadChar { at: 1, ch: ' ' }),
        ("ålice", NameError::BadChar { at: 0, ch: 'å' }),
        (
            "a\u{202e}",
            NameError::BadChar {
                at: 1,
                ch: '\u{202e}',
            },
        ),
        (
            "a\u{85}",
            NameError::BadChar {
                at: 1,
                ch: '\u{85}',
            },
        ),
        (
            "a\u{7f}",
            NameError::BadChar {
                at: 1,
                ch: '\u{7f}',
            },
        ),
        // A character outside the alphabet is reported before a bad start.
        ("_X", NameError::BadChar { at: 1, ch: 'X' }),
        ("_x", NameError::BadStart { at: 0, ch: '_' }),
        ("-x", NameError::BadStart { at: 0, ch: '-' }),
        (".x", NameError::BadStart { at: 0, ch: '.' }),
    ];
    for (value, error) in bad {
        assert_eq!(check_variant_value(value), Err(*error), "{value:?}");
        assert!(!is_valid_variant_value(value), "{value:?}");
    }
}

#[test]
fn characters_are_decoded_at_their_offset() {
    for s in ["a", "é", "\u{202e}", "\u{1f600}", "\u{85}"] {
        let ch = s.chars().next().unwrap();
        assert_eq!(char_at(s.as_bytes(), 0), (ch, s.len()), "{s:?}");
    }
    let s = "ab\u{1f600}c";
    assert_eq!(char_at(s.as_bytes(), 2), ('\u{1f600}', 4));
    assert_eq!(char_at(s.as_bytes(), 6), ('c', 1));
}
