//! Every grammar and privacy rule of `#[track]`, applied to the parsed arguments and the
//! function's signature. Each violation is recorded in the error collector, spanned on
//! the offending token, with a message that names the rule and the way out; checking
//! goes on after an error so that one compile shows every mistake.

use std::collections::BTreeSet;

use syn::ext::IdentExt;
use telemetry_naming::NameError;

use crate::errors::Errors;
use crate::parse::{AttrEntry, CaptureEntry, TrackArgs, render};
use crate::types;

/// The alternatives offered by every rejected capture.
const WAY_OUT: &str = "capture what you want to learn instead: a bool or a number, a fieldless \
     enum with `#[derive(telemetry::SafeValue)]`, a fixed value in `attrs(..)`, or \
     `telemetry::Hashed` to tell values apart without sending them";

/// A `#[track]` site that passed every rule.
pub(crate) struct Model {
    pub(crate) name: String,
    pub(crate) attrs: Vec<LiteralAttr>,
    pub(crate) captures: Vec<Capture>,
    pub(crate) error: Option<Classifier>,
    pub(crate) krate: syn::Path,
}

/// `error = path`: the function that classifies the error of a returned `Result`.
pub(crate) struct Classifier {
    /// The `error` token: a function that does not return a `Result` is reported there.
    pub(crate) token: syn::Ident,
    /// The user's path, with its span; nameable from the catalog `static`, which checks
    /// its return type and lists its values.
    pub(crate) path: syn::Expr,
}

/// One `key = literal` of `attrs(..)`.
pub(crate) struct LiteralAttr {
    pub(crate) key: String,
    pub(crate) value: LitValue,
}

/// A literal attribute value, already range-checked.
#[derive(Debug)]
pub(crate) enum LitValue {
    Str(String),
    /// Fits `i64`: magnitude and sign (so that `i64::MIN` needs no overflowing literal).
    Int {
        negative: bool,
        magnitude: u64,
    },
    /// Positive and above `i64::MAX`.
    UInt(u64),
    Float(f64),
    Bool(bool),
}

/// One entry of `capture(..)`, resolved against the signature.
pub(crate) struct Capture {
    /// The attribute key: the parameter's name, or the key written before `=`.
    pub(crate) key: String,
    /// What is read when the call starts: the parameter's binding or the user's
    /// expression, with the user's spans.
    pub(crate) value: Value,
    /// The value's type, with the user's span, when it is written somewhere: the
    /// parameter's declared type, or the type of `key: Type = expr`.
    pub(crate) ty: Option<syn::Type>,
    /// The type to name from the catalog `static`, if it can be named there.
    pub(crate) static_ty: Option<syn::Type>,
}

/// The value of a capture.
pub(crate) enum Value {
    /// A parameter, read through a reference to its binding.
    Param(syn::Ident),
    /// An expression, evaluated (only when telemetry is on) before the body runs.
    Expr(syn::Expr),
}

/// Applies every rule; `None` when at least one error was recorded.
pub(crate) fn check(args: TrackArgs, sig: &syn::Signature, errors: &mut Errors) -> Option<Model> {
    let before = errors.count();
    if let Some(constness) = &sig.constness {
        errors.spanned(
            constness,
            "#[track] cannot be used on a `const fn`: recording a call needs a clock and the \
             telemetry context, which do not exist at compile time; remove `const` or track the \
             non-const function that calls it",
        );
    }
    let name = check_name(args.name.as_ref(), errors);
    let mut keys = BTreeSet::new();
    let attrs = args
        .attrs
        .iter()
        .filter_map(|entry| check_attr(entry, &mut keys, errors))
        .collect();
    let captures = args
        .captures
        .iter()
        .filter_map(|entry| match entry {
            CaptureEntry::Param(ident) => check_capture(ident, sig, &mut keys, errors),
            CaptureEntry::Computed { key, ty, expr } => {
                check_computed(key, ty.as_deref(), expr, sig, &mut keys, errors)
            }
        })
        .collect();
    let error = args
        .error
        .as_ref()
        .and_then(|(token, path)| check_classifier(token, path, sig, errors));
    if errors.count() != before {
        return None;
    }
    Some(Model {
        name: name?,
        attrs,
        captures,
        error,
        krate: args.krate.unwrap_or_else(|| syn::parse_quote!(::telemetry)),
    })
}

fn check_name(name: Option<&syn::Expr>, errors: &mut Errors) -> Option<String> {
    let Some(expr) = name else {
        errors.at(
            crate::parse::attribute_span(),
            "missing event name: write `#[track(\"cmd.build\")]` (a lowercase dotted string literal)",
        );
        return None;
    };
    let lit = match unwrap_group(expr) {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        }) => lit,
        syn::Expr::Macro(m) => {
            errors.spanned(
                expr,
                format!(
                    "the event name must be a string literal, not a macro (`{}!`): every event \
                     name is fixed in the source so that `telemetry schema` can list it",
                    render(&m.mac.path)
                ),
            );
            return None;
        }
        _ => {
            errors.spanned(
                expr,
                format!(
                    "the event name must be a string literal, e.g. `#[track(\"cmd.build\")]`, not `{}`",
                    render(expr)
                ),
            );
            return None;
        }
    };
    if !lit.suffix().is_empty() {
        errors.spanned(
            lit,
            format!(
                "the event name has the suffix `{}`: a string literal takes no suffix; write \
                 the name alone, e.g. `#[track(\"cmd.build\")]`",
                lit.suffix()
            ),
        );
        return None;
    }
    let value = lit.value();
    match telemetry_naming::check_event_name(&value) {
        Ok(()) => Some(value),
        Err(NameError::TooLong { len, max }) => {
            errors.spanned(
                lit,
                format!("event name is {len} bytes long; the limit is {max}"),
            );
            None
        }
        Err(_) => {
            errors.spanned(
                lit,
                format!(
                    "invalid event name `{value}`: use lowercase words of `a-z`, `0-9` and `_`, \
                     each starting with a letter, separated by dots, e.g. `cmd.build`"
                ),
            );
            None
        }
    }
}

/// Checks a key of `attrs(..)` or `capture(..)`: snake_case, short, unique.
fn check_key(
    ident: &syn::Ident,
    keys: &mut BTreeSet<String>,
    errors: &mut Errors,
) -> Option<String> {
    let key = ident.unraw().to_string();
    match telemetry_naming::check_attr_key(&key) {
        Ok(()) => {}
        Err(NameError::TooLong { len, max }) => {
            errors.spanned(
                ident,
                format!("attribute key is {len} bytes long; the limit is {max}"),
            );
            return None;
        }
        Err(_) => {
            errors.spanned(
                ident,
                format!(
                    "attribute key `{key}` is not snake_case: keys are lowercase words of `a-z`, \
                     `0-9` and `_` starting with a letter, e.g. `dry_run`"
                ),
            );
            return None;
        }
    }
    if !keys.insert(key.clone()) {
        errors.spanned(
            ident,
            format!("duplicate attribute key `{key}`: each key may appear once across `attrs(..)` and `capture(..)`"),
        );
        return None;
    }
    Some(key)
}

fn check_attr(
    entry: &AttrEntry,
    keys: &mut BTreeSet<String>,
    errors: &mut Errors,
) -> Option<LiteralAttr> {
    let key = check_key(&entry.key, keys, errors);
    let value = match literal_value(&entry.value) {
        Ok(value) => Some(value),
        Err(message) => {
            errors.spanned(&entry.value, message);
            None
        }
    };
    Some(LiteralAttr {
        key: key?,
        value: value?,
    })
}

fn unwrap_group(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::Group(g) => unwrap_group(&g.expr),
        other => other,
    }
}

/// The literal an attribute value stands for, or the message explaining why it is not
/// allowed.
fn literal_value(expr: &syn::Expr) -> Result<LitValue, String> {
    match unwrap_group(expr) {
        syn::Expr::Lit(lit) => positive_literal(&lit.lit),
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr: inner,
            ..
        }) => match unwrap_group(inner) {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(int),
                ..
            }) => number(int.token(), true),
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Float(float),
                ..
            }) => number(float.token(), true),
            _ => Err(format!(
                "`{}` is not a literal: a leading `-` is allowed only before an integer or \
                     float literal, e.g. `offset = -1`",
                render(expr)
            )),
        },
        syn::Expr::Macro(m) => Err(format!(
            "macros are not allowed in `attrs(..)`: `{}!(..)` could put build-machine or user data \
             (paths, environment variables, file contents) into every event; write the literal \
             value itself, e.g. `profile = \"release\"`",
            render(&m.mac.path)
        )),
        other => {
            // `profile = release` most likely meant the text "release".
            let hint = match other {
                syn::Expr::Path(p)
                    if p.path
                        .get_ident()
                        .is_some_and(|i| telemetry_naming::is_valid_attr_key(&i.to_string())) =>
                {
                    format!(" (for the text, write `\"{}\"`)", render(p))
                }
                _ => String::new(),
            };
            Err(format!(
                "`{}` is {}, not a literal{hint}: attribute values must be string, integer, float \
                 or bool literals, so that everything an event can contain is visible in the \
                 source; to send a value known only at run time, make it a parameter of a \
                 `SafeValue` type and list it in `capture(..)`",
                render(other),
                describe(other)
            ))
        }
    }
}

fn positive_literal(lit: &syn::Lit) -> Result<LitValue, String> {
    match lit {
        syn::Lit::Str(s) => string_value(s),
        syn::Lit::Bool(b) => Ok(LitValue::Bool(b.value)),
        syn::Lit::Float(f) => number(f.token(), false),
        syn::Lit::Int(int) => number(int.token(), false),
        other => Err(format!(
            "`{}` is not allowed: attribute values are string, integer, float or bool literals \
             (no byte strings, chars or C strings)",
            render(other)
        )),
    }
}

/// The rule for string values (`telemetry_naming::check_str_value`), stated by every
/// message about one.
const STR_VALUE_RULE: &str = "string attribute values are at most 128 bytes and contain no \
     control characters (C0, DEL, C1) and no bidirectional controls (U+061C, U+200E, U+200F, \
     U+202A to U+202E, U+2066 to U+2069), which could hide what a value says";

fn string_value(lit: &syn::LitStr) -> Result<LitValue, String> {
    if !lit.suffix().is_empty() {
        return Err(format!(
            "this string literal has the suffix `{}`: a string literal takes no suffix, remove it",
            lit.suffix()
        ));
    }
    let value = lit.value();
    match telemetry_naming::check_str_value(&value) {
        Ok(()) => Ok(LitValue::Str(value)),
        Err(NameError::TooLong { len, .. }) => {
            Err(format!("this string is {len} bytes long: {STR_VALUE_RULE}"))
        }
        Err(NameError::BadChar { ch, .. }) => Err(format!(
            "this string contains U+{:04X}: {STR_VALUE_RULE}",
            u32::from(ch)
        )),
        // Not an outcome of this rule.
        Err(_) => Err(format!("this string is not allowed: {STR_VALUE_RULE}")),
    }
}

/// The integer suffixes and their ranges (`isize`/`usize` as 64 bits); `min` is the
/// magnitude of the most negative value.
const INT_SUFFIXES: [(&str, u128, u128); 12] = [
    ("i8", 1 << 7, (1 << 7) - 1),
    ("i16", 1 << 15, (1 << 15) - 1),
    ("i32", 1 << 31, (1 << 31) - 1),
    ("i64", 1 << 63, (1 << 63) - 1),
    ("i128", 1 << 127, (1 << 127) - 1),
    ("isize", 1 << 63, (1 << 63) - 1),
    ("u8", 0, u8::MAX as u128),
    ("u16", 0, u16::MAX as u128),
    ("u32", 0, u32::MAX as u128),
    ("u64", 0, u64::MAX as u128),
    ("u128", 0, u128::MAX),
    ("usize", 0, u64::MAX as u128),
];

/// A number literal (a `syn::LitInt` or `syn::LitFloat`, re-read from its token so that
/// `5f32` is a float whichever syn calls it), with its sign: the suffix must name a
/// number type, and the value must fit it and an attribute (i64 or u64; a finite f64).
fn number(token: proc_macro2::Literal, negative: bool) -> Result<LitValue, String> {
    let sign = if negative { "-" } else { "" };
    let written = format!("{sign}{token}");
    match syn::Lit::new(token) {
        syn::Lit::Int(int) if !matches!(int.suffix(), "f32" | "f64") => {
            let suffix = int.suffix();
            let Ok(magnitude) = int.base10_parse::<u128>() else {
                return Err(format!(
                    "`{written}` is out of range: integer attributes must fit in an i64 or u64"
                ));
            };
            if !suffix.is_empty() {
                let Some(&(_, min, max)) = INT_SUFFIXES.iter().find(|(s, ..)| *s == suffix) else {
                    return Err(format!(
                        "`{written}` has the suffix `{suffix}`, which is not an integer type: \
                         write the number alone or with one of `i8`, `i16`, `i32`, `i64`, \
                         `i128`, `isize`, `u8`, `u16`, `u32`, `u64`, `u128`, `usize`"
                    ));
                };
                if negative && min == 0 {
                    return Err(format!(
                        "`{written}` is negative, but `{suffix}` is unsigned: remove the `-` or \
                         the suffix"
                    ));
                }
                let limit = if negative { min } else { max };
                if magnitude > limit {
                    let range = if min == 0 {
                        format!("0 to {max}")
                    } else {
                        format!("-{min} to {max}")
                    };
                    return Err(format!(
                        "`{written}` is out of range for `{suffix}` ({range})"
                    ));
                }
            }
            if negative {
                if magnitude > u128::from(i64::MIN.unsigned_abs()) {
                    return Err(format!(
                        "`{written}` is out of range: integer attributes must fit in an i64"
                    ));
                }
                Ok(LitValue::Int {
                    negative: magnitude != 0,
                    magnitude: magnitude as u64,
                })
            } else {
                let Ok(magnitude) = u64::try_from(magnitude) else {
                    return Err(format!(
                        "`{written}` is out of range: integer attributes must fit in an i64 or u64"
                    ));
                };
                Ok(match i64::try_from(magnitude) {
                    Ok(_) => LitValue::Int {
                        negative: false,
                        magnitude,
                    },
                    Err(_) => LitValue::UInt(magnitude),
                })
            }
        }
        syn::Lit::Int(int) => float(&written, int.base10_digits(), int.suffix(), negative),
        syn::Lit::Float(f) => float(&written, f.base10_digits(), f.suffix(), negative),
        _ => Err(format!("`{written}` is not a number literal")),
    }
}

fn float(written: &str, digits: &str, suffix: &str, negative: bool) -> Result<LitValue, String> {
    let value: f64 = match (suffix, digits.parse::<f64>()) {
        ("" | "f64", Ok(v)) => v,
        ("f32", Ok(v)) => f64::from(v as f32),
        ("" | "f32" | "f64", Err(_)) => {
            return Err(format!("`{written}` is not a float literal"));
        }
        (other, _) => {
            return Err(format!(
                "`{written}` has the suffix `{other}`, which is not a float type: write the \
                 number alone or with `f32` or `f64`"
            ));
        }
    };
    if !value.is_finite() {
        let ty = if suffix.is_empty() { "f64" } else { suffix };
        return Err(format!(
            "`{written}` is out of range: it is not a finite `{ty}`"
        ));
    }
    Ok(LitValue::Float(if negative { -value } else { value }))
}

/// "a method call", "a path" .. for the messages.
fn describe(expr: &syn::Expr) -> &'static str {
    match expr {
        syn::Expr::Path(p) if p.path.get_ident().is_some() => "a name (a variable or a constant)",
        syn::Expr::Path(_) => "a path (a constant or a static)",
        syn::Expr::Field(_) => "a field access",
        syn::Expr::MethodCall(_) => "a method call",
        syn::Expr::Call(_) => "a function call",
        syn::Expr::Block(_) | syn::Expr::Unsafe(_) | syn::Expr::Const(_) => "a block",
        syn::Expr::Cast(_) => "a cast",
        syn::Expr::Reference(_) => "a reference",
        syn::Expr::Array(_) | syn::Expr::Repeat(_) => "an array",
        syn::Expr::Tuple(_) => "a tuple",
        syn::Expr::Paren(_) => "a parenthesised expression",
        syn::Expr::Binary(_) | syn::Expr::Unary(_) => "an operation",
        syn::Expr::Index(_) => "an index expression",
        syn::Expr::If(_) | syn::Expr::Match(_) => "a conditional",
        syn::Expr::Closure(_) => "a closure",
        syn::Expr::Struct(_) => "a struct expression",
        syn::Expr::Range(_) => "a range",
        _ => "an expression",
    }
}

/// Resolves `capture(ident)` against the signature and applies the type rules.
fn check_capture(
    ident: &syn::Ident,
    sig: &syn::Signature,
    keys: &mut BTreeSet<String>,
    errors: &mut Errors,
) -> Option<Capture> {
    if ident == "self" {
        errors.spanned(
            ident,
            "`self` cannot be captured: a whole receiver can hold anything; capture a parameter of \
             a `SafeValue` type instead, or put a fixed value in `attrs(..)`",
        );
        return None;
    }
    let (binding, ty) = match find_param(sig, ident) {
        Param::Plain(binding, ty) => (binding, ty),
        Param::InPattern(pattern) => {
            errors.spanned(
                ident,
                format!(
                    "`{ident}` is bound inside the pattern `{}`: `capture(..)` needs a parameter \
                     written as a plain name with its own type, e.g. `{ident}: u32`",
                    render(pattern)
                ),
            );
            return None;
        }
        Param::Missing => {
            let names = param_names(sig);
            let known = if names.is_empty() {
                "this function has no parameters".to_owned()
            } else {
                format!("the parameters are: {}", names.join(", "))
            };
            errors.spanned(
                ident,
                format!("no parameter named `{ident}` to capture; {known}"),
            );
            return None;
        }
    };
    if let Some(finding) = types::find_forbidden(ty, &sig.generics) {
        let declared = render(ty);
        let why = finding.why();
        errors.spanned(
            ident,
            format!("`{ident}: {declared}` cannot be captured: {why}; {WAY_OUT}"),
        );
        return None;
    }
    let key = check_key(ident, keys, errors)?;
    Some(Capture {
        key,
        value: Value::Param(binding.clone()),
        ty: Some(ty.clone()),
        static_ty: types::nameable_outside(ty, &sig.generics),
    })
}

/// The methods whose result is text or a path, whatever they are called on.
const TEXT_METHODS: &[&str] = &[
    "to_string",
    "to_string_lossy",
    "display",
    "to_str",
    "as_str",
    "into_string",
    "to_os_string",
    "as_os_str",
    "to_path_buf",
    "as_path",
    "file_name",
    "file_stem",
    "extension",
    "to_lowercase",
    "to_uppercase",
];

/// The standard macros that expand to text.
const TEXT_MACROS: &[&str] = &[
    "format",
    "env",
    "option_env",
    "concat",
    "stringify",
    "file",
    "include_str",
    "module_path",
];

/// Checks `key = expr` / `key: Type = expr`: the key's rules, the type's (when written)
/// and what can be seen of the expression's. The `SafeValue` bound in the generated code
/// catches the rest, with the same message as a parameter's.
fn check_computed(
    key_ident: &syn::Ident,
    ty: Option<&syn::Type>,
    expr: &syn::Expr,
    sig: &syn::Signature,
    keys: &mut BTreeSet<String>,
    errors: &mut Errors,
) -> Option<Capture> {
    let before = errors.count();
    let key = check_key(key_ident, keys, errors);
    if let Some(ty) = ty
        && let Some(finding) = types::find_forbidden(ty, &sig.generics)
    {
        let why = finding.why();
        errors.spanned(
            ty,
            format!(
                "`{key_ident}: {}` cannot be captured: {why}; {WAY_OUT}",
                render(ty)
            ),
        );
    } else if let Err(message) = check_expr(key_ident, expr, sig) {
        errors.spanned(expr, message);
    } else if let Some(found) = find_control_flow(expr) {
        errors.spanned(
            &found.0,
            format!(
                "{} in a captured value would leave `{}` before its body runs, and only when \
                 telemetry is on: compute the value without it (e.g. `.ok()`, \
                 `.unwrap_or(..)`, `.is_some()`), so the function behaves the same with \
                 telemetry on or off",
                found.1, sig.ident
            ),
        );
    }
    if errors.count() != before {
        return None;
    }
    let key = key?;
    // A parameter under another key is that parameter, declared type and all.
    if ty.is_none()
        && let Some(ident) = as_ident(expr)
        && let Param::Plain(binding, declared) = find_param(sig, ident)
    {
        return Some(Capture {
            key,
            value: Value::Param(binding.clone()),
            ty: Some(declared.clone()),
            static_ty: types::nameable_outside(declared, &sig.generics),
        });
    }
    // The written type, or a cast's (`n as u32`), is known to the catalog.
    let written = ty.cloned().or_else(|| match unwrap_group(expr) {
        syn::Expr::Cast(cast) => Some((*cast.ty).clone()),
        _ => None,
    });
    let static_ty = written
        .as_ref()
        .and_then(|ty| types::nameable_outside(ty, &sig.generics));
    Some(Capture {
        key,
        value: Value::Expr(expr.clone()),
        ty: ty.cloned(),
        static_ty,
    })
}

/// `name` as a plain identifier expression.
fn as_ident(expr: &syn::Expr) -> Option<&syn::Ident> {
    match unwrap_group(expr) {
        syn::Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => p.path.get_ident(),
        _ => None,
    }
}

/// The targeted message for an expression whose value is visibly text, a path, a
/// fixed value or the receiver; `Ok` when nothing is visible (the trait bound decides).
fn check_expr(key: &syn::Ident, expr: &syn::Expr, sig: &syn::Signature) -> Result<(), String> {
    match unwrap_group(expr) {
        syn::Expr::Lit(_)
        | syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            ..
        }) if literal_value(expr).is_ok() => Err(format!(
            "`{}` is a fixed value: put it in `attrs(..)`, which lists it in the catalog as \
             it is: `attrs({} = {})`",
            render(expr),
            key.unraw(),
            render(expr)
        )),
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(_) | syn::Lit::ByteStr(_) | syn::Lit::CStr(_),
            ..
        }) => Err(format!(
            "`{}` is text: captured values cannot be text; a fixed word belongs in \
                 `attrs(key = \"..\")`; {WAY_OUT}",
            render(expr)
        )),
        syn::Expr::Path(p) if p.path.is_ident("self") => Err(
            "`self` cannot be captured: a whole receiver can hold anything; capture one of its \
             bool or number fields (`self.verbose`) or a value computed from it"
                .to_owned(),
        ),
        syn::Expr::Macro(m)
            if m.mac
                .path
                .get_ident()
                .is_some_and(|i| TEXT_MACROS.contains(&i.to_string().as_str())) =>
        {
            Err(format!(
                "`{}!(..)` makes text, which can hold anything (paths, user names, secrets); {WAY_OUT}",
                render(&m.mac.path)
            ))
        }
        syn::Expr::MethodCall(call) if TEXT_METHODS.contains(&call.method.to_string().as_str()) => {
            Err(format!(
                "`.{}()` gives text or a path, which can hold anything a user typed or a file \
                 contained; {WAY_OUT}",
                call.method
            ))
        }
        // A parameter, through `&`, `*`, parentheses or `.clone()`: its declared type.
        syn::Expr::Reference(r) => check_expr(key, &r.expr, sig),
        syn::Expr::Paren(p) => check_expr(key, &p.expr, sig),
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Deref(_),
            expr: inner,
            ..
        }) => check_expr(key, inner, sig),
        syn::Expr::MethodCall(call) if call.method == "clone" && call.args.is_empty() => {
            check_expr(key, &call.receiver, sig)
        }
        other => match as_ident(other).map(|ident| (ident, find_param(sig, ident))) {
            Some((ident, Param::Plain(_, declared))) => {
                match types::find_forbidden(declared, &sig.generics) {
                    Some(finding) => Err(format!(
                        "`{ident}: {}` cannot be captured: {}; {WAY_OUT}",
                        render(declared),
                        finding.why()
                    )),
                    None => Ok(()),
                }
            }
            _ => Ok(()),
        },
    }
}

/// The first `?`, `return`, `break`, `continue`, `.await` or `yield` of an expression
/// that would leave the function (not those inside a closure, an `async` block or an
/// item, which stay there), with a description for the message.
fn find_control_flow(expr: &syn::Expr) -> Option<(proc_macro2::TokenStream, &'static str)> {
    struct Finder(Option<(proc_macro2::TokenStream, &'static str)>);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_expr(&mut self, node: &'ast syn::Expr) {
            if self.0.is_some() {
                return;
            }
            let found = match node {
                syn::Expr::Try(t) => Some((quote::quote!(#t), "`?`")),
                syn::Expr::Return(r) => Some((quote::quote!(#r), "`return`")),
                syn::Expr::Break(b) => Some((quote::quote!(#b), "`break`")),
                syn::Expr::Continue(c) => Some((quote::quote!(#c), "`continue`")),
                syn::Expr::Await(a) => Some((quote::quote!(#a), "`.await`")),
                syn::Expr::Yield(y) => Some((quote::quote!(#y), "`yield`")),
                syn::Expr::Closure(_) | syn::Expr::Async(_) => return,
                _ => None,
            };
            if found.is_some() {
                self.0 = found;
                return;
            }
            syn::visit::visit_expr(self, node);
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut finder = Finder(None);
    syn::visit::Visit::visit_expr(&mut finder, expr);
    finder.0
}

/// Checks `error = path`: a path to a function (generic arguments allowed), on a
/// function that can return a value.
fn check_classifier(
    token: &syn::Ident,
    expr: &syn::Expr,
    sig: &syn::Signature,
    errors: &mut Errors,
) -> Option<Classifier> {
    let syn::Expr::Path(path) = unwrap_group(expr) else {
        let what = match unwrap_group(expr) {
            syn::Expr::Closure(_) => "a closure",
            other => describe(other),
        };
        errors.spanned(
            expr,
            format!(
                "`error = ..` takes the path of a function, not {what}: write `fn classify(error: \
                 &E) -> C` (where `C` is a fieldless enum with `#[derive(telemetry::SafeValue)]`) \
                 and `error = classify`"
            ),
        );
        return None;
    };
    let never =
        matches!(&sig.output, syn::ReturnType::Type(_, ty) if matches!(**ty, syn::Type::Never(_)));
    if matches!(sig.output, syn::ReturnType::Default) || never {
        errors.spanned(
            token,
            format!(
                "`error = ..` classifies the error of a returned `Result`, but `{}` returns {}",
                sig.ident,
                if never { "`!`" } else { "nothing" }
            ),
        );
        return None;
    }
    // The catalog `static` names the classifier (to list the kinds it returns), and a
    // nested item sees neither `Self` nor the function's generic parameters.
    let probe = syn::Type::Path(syn::TypePath {
        attrs: Vec::new(),
        qself: path.qself.clone(),
        path: path.path.clone(),
    });
    if types::nameable_outside(&probe, &sig.generics).is_none() {
        errors.spanned(
            expr,
            format!(
                "`error = {}` names `Self` or a generic parameter, which the event's catalog entry \
                 (an item outside the function) cannot see: name the type instead, e.g. \
                 `error = BuildError::classify`, so that `telemetry schema` can list the kinds it \
                 returns",
                render(expr)
            ),
        );
        return None;
    }
    Some(Classifier {
        token: token.clone(),
        path: expr.clone(),
    })
}

enum Param<'a> {
    Plain(&'a syn::Ident, &'a syn::Type),
    InPattern(&'a syn::Pat),
    Missing,
}

fn find_param<'a>(sig: &'a syn::Signature, name: &syn::Ident) -> Param<'a> {
    for input in &sig.inputs {
        let syn::FnArg::Typed(pt) = input else {
            continue;
        };
        if let syn::Pat::Ident(pi) = &*pt.pat
            && pi.by_ref.is_none()
            && pi.subpat.is_none()
        {
            if pi.ident == *name {
                return Param::Plain(&pi.ident, &pt.ty);
            }
            continue;
        }
        let mut bound = Vec::new();
        collect_bindings(&pt.pat, &mut bound);
        if bound.contains(&name) {
            return Param::InPattern(&pt.pat);
        }
    }
    Param::Missing
}

fn collect_bindings<'a>(pat: &'a syn::Pat, out: &mut Vec<&'a syn::Ident>) {
    struct Bindings<'a, 'o>(&'o mut Vec<&'a syn::Ident>);
    impl<'a> syn::visit::Visit<'a> for Bindings<'a, '_> {
        fn visit_pat_ident(&mut self, node: &'a syn::PatIdent) {
            self.0.push(&node.ident);
            syn::visit::visit_pat_ident(self, node);
        }
    }
    syn::visit::Visit::visit_pat(&mut Bindings(out), pat);
}

fn param_names(sig: &syn::Signature) -> Vec<String> {
    let mut names = Vec::new();
    for input in &sig.inputs {
        match input {
            syn::FnArg::Receiver(_) => {}
            syn::FnArg::Typed(pt) => {
                let mut bound = Vec::new();
                collect_bindings(&pt.pat, &mut bound);
                names.extend(bound.into_iter().map(|i| format!("`{}`", i.unraw())));
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(source: &str) -> Result<LitValue, String> {
        literal_value(&syn::parse_str::<syn::Expr>(source).expect("an expression"))
    }

    fn int(source: &str) -> (bool, u64) {
        match value(source) {
            Ok(LitValue::Int {
                negative,
                magnitude,
            }) => (negative, magnitude),
            Ok(LitValue::UInt(v)) => (false, v),
            Ok(_) => panic!("{source}: not an integer"),
            Err(e) => panic!("{source}: {e}"),
        }
    }

    #[test]
    fn integer_suffixes_and_ranges() {
        assert_eq!(int("255u8"), (false, 255));
        assert_eq!(int("-128i8"), (true, 128));
        assert_eq!(int("0xFFu8"), (false, 255));
        assert_eq!(int("-9223372036854775808"), (true, 1 << 63));
        assert_eq!(int("18446744073709551615u64"), (false, u64::MAX));
        assert_eq!(int("5_usize"), (false, 5));
        assert_eq!(int("-0i8"), (false, 0));
        for bad in [
            "256u8",
            "300u8",
            "-129i8",
            "-1u8",
            "-0u8",
            "128i8",
            "5alice",
            "5u7",
            "5i256",
            "1u",
            "18446744073709551616u128",
            "-9223372036854775809i128",
            "18446744073709551616",
        ] {
            assert!(value(bad).is_err(), "{bad} was accepted");
        }
        assert!(
            value("300u8")
                .unwrap_err()
                .contains("out of range for `u8` (0 to 255)")
        );
        assert!(value("5alice").unwrap_err().contains("the suffix `alice`"));
    }

    #[test]
    fn float_suffixes_and_ranges() {
        let float = |s: &str| match value(s) {
            Ok(LitValue::Float(v)) => v,
            Ok(_) => panic!("{s}: not a float"),
            Err(e) => panic!("{s}: {e}"),
        };
        assert_eq!(float("1.5f32"), 1.5);
        assert_eq!(float("-2.5"), -2.5);
        assert_eq!(float("1e3f64"), 1000.0);
        assert_eq!(float("5f32"), 5.0);
        assert_eq!(float("0.1f32"), f64::from(0.1_f32));
        for bad in [
            "1.5f32x", "1.5f16", "1.5f128", "1e400", "1e39f32", "-1e39f32", "2.0e5x",
        ] {
            assert!(value(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn the_string_rule_states_the_shared_limit() {
        let limit = format!("at most {} bytes", telemetry_naming::MAX_STR_VALUE_LEN);
        assert!(STR_VALUE_RULE.contains(&limit), "{STR_VALUE_RULE}");
    }

    #[test]
    fn strings() {
        assert!(matches!(value(r#""release""#), Ok(LitValue::Str(s)) if s == "release"));
        assert!(matches!(value(r##"r#"a "b" c"#"##), Ok(LitValue::Str(_))));
        assert!(matches!(
            value(&format!("\"{}\"", "é".repeat(64))),
            Ok(LitValue::Str(_))
        ));
        for bad in [
            r#""release"alice"#,
            r#"r"x"y"#,
            r#""a\tb""#,
            r#""\u{202E}gpj.exe""#,
            r#""\u{2066}""#,
            r#""\u{85}""#,
            "\"a\u{7f}\"",
            "r#\"a\tb\"#",
        ] {
            assert!(value(bad).is_err(), "{bad} was accepted");
        }
        assert!(value(&format!("\"{}\"", "x".repeat(129))).is_err());
        assert!(value(&format!("\"{}\"", "é".repeat(65))).is_err());
        assert!(value(r#"b"bytes""#).is_err());
        assert!(value(r#"c"c string""#).is_err());
    }
}
