//! `error_kind`: a word from a list fixed in the source, or the name of an error
//! *type*; never a value.
//!
//! The hot path stores the error kind as a function ([`ErrorKind`], one word in the
//! queued record); the worker calls it and, for a type name, cleans the name. A
//! category (a classifier's enum variant, an `io::ErrorKind`) is sent as it is.
//!
//! `std::any::type_name` spells a type with its const-generic arguments and array
//! lengths written out (`probe::Tagged<435459550305>`, `[u8; 7]`), so a type can carry
//! a number chosen in code — for example a name packed into an integer. Every value in
//! a type name is replaced by `_` before it is sent: what is left are the paths of the
//! types involved, which the tool's own source fixes.

/// An event's error kind, as a function the worker calls: [`type_name_of::<E>`] or
/// a category's (made by `#[derive(SafeValue)]` for each variant of an enum).
pub type ErrorKind = fn() -> ErrorKindName;

/// What an [`ErrorKind`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKindName {
    /// `std::any::type_name` of the error type: sent with every value in it removed
    /// (`without_values`).
    TypeName(&'static str),
    /// A word of a closed list written in the source (an enum variant's value, checked
    /// by `#[derive(SafeValue)]`): sent as it is.
    Category(&'static str),
}

impl ErrorKindName {
    /// The text of `error_kind`.
    pub(crate) fn to_wire(self) -> String {
        match self {
            Self::TypeName(name) => without_values(name),
            Self::Category(word) => word.to_owned(),
        }
    }
}

/// The [`ErrorKind`] of an error type without a classification: its name.
pub fn type_name_of<E: ?Sized>() -> ErrorKindName {
    ErrorKindName::TypeName(std::any::type_name::<E>())
}

/// `type_name` with every literal value replaced by `_`: integers (with their sign),
/// `true`/`false` as a generic argument, char and string literals, and `{..}` blocks
/// (how const expressions are printed).
///
/// Identifiers keep their digits (`u8`, `Sha256`, `V2`): a digit is a value only where
/// an identifier cannot start.
pub(crate) fn without_values(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = String::with_capacity(name.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_alphabetic() || b == b'_' || !b.is_ascii() {
            // An identifier (or a non-ASCII one): copied whole, unless it is a bool
            // standing alone as an argument.
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || !bytes[i].is_ascii())
            {
                i += 1;
            }
            let word = &name[start..i];
            let standalone = is_argument_start(&out) && is_argument_end(&bytes[i..]);
            if standalone && (word == "true" || word == "false") {
                out.push('_');
            } else {
                out.push_str(word);
            }
        } else if b.is_ascii_digit() || (b == b'-' && next_is_digit(bytes, i)) {
            i += 1;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'.'))
            {
                i += 1;
            }
            out.push('_');
        } else if b == b'\'' || b == b'"' {
            i = skip_quoted(bytes, i);
            out.push('_');
        } else if b == b'{' {
            i = skip_braces(bytes, i);
            out.push('_');
        } else {
            out.push(char::from(b));
            i += 1;
        }
    }
    out
}

fn next_is_digit(bytes: &[u8], i: usize) -> bool {
    bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
}

/// Whether what was written so far ends where a generic argument can begin.
fn is_argument_start(out: &str) -> bool {
    matches!(
        out.trim_end().bytes().last(),
        Some(b'<' | b',' | b';' | b'[')
    )
}

/// Whether what follows ends a generic argument.
fn is_argument_end(rest: &[u8]) -> bool {
    matches!(
        rest.iter().find(|b| !b.is_ascii_whitespace()),
        None | Some(b'>' | b',' | b']')
    )
}

/// The index after a `'..'` or `".."` literal starting at `start` (escapes honoured);
/// the end of the text when it is not closed.
fn skip_quoted(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The index after the balanced `{..}` starting at `start`; the end of the text when
/// it is not closed.
fn skip_braces(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0_usize;
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn type_paths_are_kept() {
        for name in [
            "std::io::error::Error",
            "alloc::boxed::Box<dyn core::error::Error + core::marker::Send + core::marker::Sync>",
            "anyhow::Error",
            "my_crate::V2Error<u8, sha2::Sha256>",
            "&str",
            "(u8, i64)",
        ] {
            assert_eq!(without_values(name), name);
        }
    }

    #[test]
    fn values_become_underscores() {
        let cases = [
            ("probe::Tagged<435459550305>", "probe::Tagged<_>"),
            ("probe::Tagged<-42>", "probe::Tagged<_>"),
            ("probe::Flag<true>", "probe::Flag<_>"),
            ("probe::Pair<false, u8>", "probe::Pair<_, u8>"),
            ("probe::Ch<'a'>", "probe::Ch<_>"),
            ("probe::Ch<'\\''>", "probe::Ch<_>"),
            ("probe::S<\"alice\">", "probe::S<_>"),
            ("[u8; 435459550305]", "[u8; _]"),
            ("probe::E<{ probe::pack(\"alice\") }>", "probe::E<_>"),
            ("probe::E<{{ nested }}, 3>", "probe::E<_, _>"),
            ("probe::Hex<0x1f>", "probe::Hex<_>"),
            ("probe::Big<12_345u64>", "probe::Big<_>"),
        ];
        for (name, want) in cases {
            assert_eq!(without_values(name), want, "{name}");
        }
    }

    #[test]
    fn no_digit_survives_outside_an_identifier() {
        // Every digit that is left is inside an identifier (preceded by a letter, `_`
        // or another identifier digit).
        for name in [
            "a::B<1, 2, 3>",
            "a::B<[u8; 99], [[i32; 5]; 6]>",
            "a::C<-9223372036854775808>",
            "x<{", // unclosed: the rest is dropped
            "y<'",
        ] {
            let out = without_values(name);
            let bytes = out.as_bytes();
            for (i, b) in bytes.iter().enumerate() {
                if b.is_ascii_digit() {
                    let prev = bytes[..i].iter().rev().find(|c| !c.is_ascii_digit());
                    assert!(
                        prev.is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_'),
                        "{name} -> {out}"
                    );
                }
            }
        }
    }
}
