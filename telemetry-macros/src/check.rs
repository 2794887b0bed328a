//! Every grammar and privacy rule of `#[track]`, applied to the parsed arguments and the
//! function's signature. Each violation is recorded in the error collector, spanned on
//! the offending token, with a message that names the rule and the way out; checking
//! goes on after an error so that one compile shows every mistake.

use std::collections::BTreeSet;

use syn::ext::IdentExt;

use crate::errors::Errors;
use crate::parse::{AttrEntry, TrackArgs, render};
use crate::types::{self, Category};

/// Longest event name, in bytes.
const MAX_NAME_LEN: usize = 64;
/// Longest attribute key, in bytes.
const MAX_KEY_LEN: usize = 64;

/// The alternatives offered by every rejected capture.
const WAY_OUT: &str = "capture what you want to learn instead: a bool or a number, a fieldless \
     enum with `#[derive(telemetry::SafeValue)]`, a fixed value in `attrs(..)`, or \
     `telemetry::Hashed` to tell values apart without sending them";

/// A `#[track]` site that passed every rule.
pub(crate) struct Model {
    pub(crate) name: String,
    pub(crate) attrs: Vec<LiteralAttr>,
    pub(crate) captures: Vec<Capture>,
    pub(crate) krate: syn::Path,
}

/// One `key = literal` of `attrs(..)`.
pub(crate) struct LiteralAttr {
    pub(crate) key: String,
    pub(crate) value: LitValue,
}

/// A literal attribute value, already range-checked.
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

/// One `capture(param)`, resolved against the signature.
pub(crate) struct Capture {
    /// The attribute key: the parameter's name.
    pub(crate) key: String,
    /// The parameter's binding, with the user's span.
    pub(crate) ident: syn::Ident,
    /// The declared type, with the user's span.
    pub(crate) ty: syn::Type,
    /// The type to name from the catalog `static`, if it can be named there.
    pub(crate) static_ty: Option<syn::Type>,
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
        .filter_map(|ident| check_capture(ident, sig, &mut keys, errors))
        .collect();
    if errors.count() != before {
        return None;
    }
    Some(Model {
        name: name?,
        attrs,
        captures,
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
    let value = lit.value();
    if value.len() > MAX_NAME_LEN {
        errors.spanned(
            lit,
            format!(
                "event name is {} bytes long; the limit is {MAX_NAME_LEN}",
                value.len()
            ),
        );
        return None;
    }
    if !is_dotted_name(&value) {
        errors.spanned(
            lit,
            format!(
                "invalid event name `{value}`: use lowercase words of `a-z`, `0-9` and `_`, each \
                 starting with a letter, separated by dots, e.g. `cmd.build`"
            ),
        );
        return None;
    }
    Some(value)
}

/// `[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*`
fn is_dotted_name(name: &str) -> bool {
    name.split('.').all(is_snake_word)
}

/// `[a-z][a-z0-9_]*`
fn is_snake_word(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks a key of `attrs(..)` or `capture(..)`: snake_case, short, unique.
fn check_key(
    ident: &syn::Ident,
    keys: &mut BTreeSet<String>,
    errors: &mut Errors,
) -> Option<String> {
    let key = ident.unraw().to_string();
    if !is_snake_word(&key) {
        errors.spanned(
            ident,
            format!(
                "attribute key `{key}` is not snake_case: keys are lowercase words of `a-z`, \
                 `0-9` and `_` starting with a letter, e.g. `dry_run`"
            ),
        );
        return None;
    }
    if key.len() > MAX_KEY_LEN {
        errors.spanned(
            ident,
            format!(
                "attribute key is {} bytes long; the limit is {MAX_KEY_LEN}",
                key.len()
            ),
        );
        return None;
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
            }) => {
                let magnitude = int_magnitude(int)?;
                if magnitude > i64::MIN.unsigned_abs() {
                    return Err(format!(
                        "`-{int}` is out of range: integer attributes must fit in an i64"
                    ));
                }
                Ok(LitValue::Int {
                    negative: magnitude != 0,
                    magnitude,
                })
            }
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Float(float),
                ..
            }) => Ok(LitValue::Float(-float_value(float)?)),
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
                        .is_some_and(|i| is_snake_word(&i.to_string())) =>
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
        syn::Lit::Str(s) => Ok(LitValue::Str(s.value())),
        syn::Lit::Bool(b) => Ok(LitValue::Bool(b.value)),
        syn::Lit::Float(f) => Ok(LitValue::Float(float_value(f)?)),
        syn::Lit::Int(int) => {
            let magnitude = int_magnitude(int)?;
            Ok(match i64::try_from(magnitude) {
                Ok(_) => LitValue::Int {
                    negative: false,
                    magnitude,
                },
                Err(_) => LitValue::UInt(magnitude),
            })
        }
        other => Err(format!(
            "`{}` is not allowed: attribute values are string, integer, float or bool literals \
             (no byte strings, chars or C strings)",
            render(other)
        )),
    }
}

fn int_magnitude(int: &syn::LitInt) -> Result<u64, String> {
    int.base10_parse::<u64>().map_err(|_| {
        format!("`{int}` is out of range: integer attributes must fit in an i64 or u64")
    })
}

fn float_value(float: &syn::LitFloat) -> Result<f64, String> {
    match float.base10_parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("`{float}` is not a finite float")),
    }
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
        let why = match finding.category {
            Category::Path => format!(
                "`{}` is a file system path, and paths reveal user names, project names and \
                 directory layouts",
                finding.culprit
            ),
            Category::Text => format!(
                "`{}` is free text, which can hold anything a user typed or a file contained \
                 (names, paths, secrets)",
                finding.culprit
            ),
            Category::Format => format!(
                "a value known only through `{}` can render to any text",
                finding.culprit
            ),
        };
        errors.spanned(
            ident,
            format!("`{ident}: {declared}` cannot be captured: {why}; {WAY_OUT}"),
        );
        return None;
    }
    let key = check_key(ident, keys, errors)?;
    Some(Capture {
        key,
        ident: binding.clone(),
        ty: ty.clone(),
        static_ty: types::nameable_outside(ty, &sig.generics),
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
