//! The attribute grammar of `#[track]`:
//!
//! ```text
//! #[track("event.name" [, attrs(key = literal, ..)] [, capture(entry, ..)] [, error = path]
//!        [, crate = path])]
//!
//! entry: param | key = expr | key: Type = expr
//! ```
//!
//! Parsing is deliberately lenient: the arguments are split on top-level commas and each
//! one is parsed on its own, so one malformed argument produces one error and the others
//! are still checked (every mistake of an attribute is reported in one compile). Parsing
//! only recognises the *shape*; whether a name or a value is allowed is `check`'s job.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::Parser;

use crate::errors::Errors;

/// The arguments of one `#[track(..)]`, as written.
#[derive(Default)]
pub(crate) struct TrackArgs {
    /// The first, positional argument (should be a string literal).
    pub(crate) name: Option<syn::Expr>,
    /// The entries of `attrs(..)`.
    pub(crate) attrs: Vec<AttrEntry>,
    /// The entries of `capture(..)` (may include `self`, which `check` rejects).
    pub(crate) captures: Vec<CaptureEntry>,
    /// `error = path`: the `error` token and the classifier.
    pub(crate) error: Option<(syn::Ident, syn::Expr)>,
    /// `crate = path`.
    pub(crate) krate: Option<syn::Path>,
}

/// One entry of `capture(..)`.
pub(crate) enum CaptureEntry {
    /// `param`: a parameter, under its own name.
    Param(syn::Ident),
    /// `key = expr` or `key: Type = expr`: a value computed when the call starts.
    Computed {
        key: syn::Ident,
        ty: Option<Box<syn::Type>>,
        expr: Box<syn::Expr>,
    },
}

/// One `key = value` of `attrs(..)`.
pub(crate) struct AttrEntry {
    pub(crate) key: syn::Ident,
    pub(crate) value: syn::Expr,
}

/// Parses the attribute's arguments, recording every malformed argument in `errors`.
pub(crate) fn parse_args(tokens: TokenStream, errors: &mut Errors) -> TrackArgs {
    let mut args = TrackArgs::default();
    let mut seen_attrs = false;
    let mut seen_capture = false;
    for (index, chunk) in split_on_commas(tokens, errors).into_iter().enumerate() {
        match classify(&chunk) {
            Arg::Crate => match parse_crate.parse2(chunk.clone()) {
                Ok(path) if args.krate.is_none() => args.krate = Some(path),
                Ok(_) => errors.spanned(&chunk, "`crate = ..` is given twice"),
                Err(e) => errors.push(e),
            },
            Arg::Error(ident, value) => {
                if args.error.is_some() {
                    errors.spanned(&chunk, "`error = ..` is given twice");
                    continue;
                }
                if value.is_empty() {
                    errors.spanned(
                        &chunk,
                        "missing classifier: write `error = classify`, naming a function \
                         `fn(&E) -> C` where `C` is a fieldless enum with `#[derive(telemetry::SafeValue)]`",
                    );
                    continue;
                }
                match syn::parse2::<syn::Expr>(value) {
                    Ok(expr) => args.error = Some((ident, expr)),
                    Err(e) => errors.push(e),
                }
            }
            Arg::Group(kind, ident, group) => {
                let seen = match kind {
                    Group::Attrs => &mut seen_attrs,
                    Group::Capture => &mut seen_capture,
                };
                if std::mem::replace(seen, true) {
                    errors.spanned(&ident, format!("`{ident}(..)` is given twice; list everything in one `{ident}(..)`"));
                    continue;
                }
                match kind {
                    Group::Attrs => args.attrs = parse_attrs(group, errors),
                    Group::Capture => args.captures = parse_captures(group, errors),
                }
            }
            Arg::Unknown(ident) => errors.spanned(
                &ident,
                format!("unknown `#[track]` option `{ident}`: the options are `attrs(key = literal, ..)`, `capture(param, ..)`, `error = classify` and `crate = path`"),
            ),
            Arg::MisusedGroup(ident) => errors.spanned(
                &chunk,
                format!("`{ident}` takes a parenthesised list: `{ident}(..)`"),
            ),
            Arg::Positional => {
                if args.name.is_some() {
                    errors.spanned(
                        &chunk,
                        "unexpected argument: after the event name come only `attrs(..)`, `capture(..)`, `error = classify` and `crate = path`",
                    );
                    continue;
                }
                if index != 0 {
                    errors.spanned(
                        &chunk,
                        "the event name must be the first argument: `#[track(\"cmd.build\", attrs(..), capture(..))]`",
                    );
                }
                match syn::parse2::<syn::Expr>(chunk) {
                    Ok(expr) => args.name = Some(expr),
                    Err(e) => errors.push(e),
                }
            }
        }
    }
    args
}

enum Group {
    Attrs,
    Capture,
}

enum Arg {
    Crate,
    Error(syn::Ident, TokenStream),
    Group(Group, syn::Ident, TokenStream),
    Unknown(syn::Ident),
    MisusedGroup(syn::Ident),
    Positional,
}

/// Recognises which kind of argument a comma-separated chunk is, by its first tokens.
fn classify(chunk: &TokenStream) -> Arg {
    let mut tokens = chunk.clone().into_iter();
    let (Some(TokenTree::Ident(first)), second) = (tokens.next(), tokens.next()) else {
        return Arg::Positional;
    };
    let rest: TokenStream = tokens.collect();
    let rest_is_empty = rest.is_empty();
    let name = first.to_string();
    match (name.as_str(), &second) {
        ("crate", _) => Arg::Crate,
        ("error", Some(TokenTree::Punct(p))) if p.as_char() == '=' => Arg::Error(first, rest),
        ("attrs" | "capture", Some(TokenTree::Group(g)))
            if g.delimiter() == Delimiter::Parenthesis && rest_is_empty =>
        {
            let kind = if name == "attrs" {
                Group::Attrs
            } else {
                Group::Capture
            };
            Arg::Group(kind, first, g.stream())
        }
        ("attrs" | "capture", _) => Arg::MisusedGroup(first),
        (_, Some(TokenTree::Group(g))) if g.delimiter() == Delimiter::Parenthesis => {
            Arg::Unknown(first)
        }
        (_, Some(TokenTree::Punct(p))) if p.as_char() == '=' => Arg::Unknown(first),
        _ => Arg::Positional,
    }
}

fn parse_crate(input: syn::parse::ParseStream<'_>) -> syn::Result<syn::Path> {
    input.parse::<syn::Token![crate]>()?;
    input.parse::<syn::Token![=]>()?;
    let path = input.call(syn::Path::parse_mod_style)?;
    if !input.is_empty() {
        return Err(input.error("expected a path, e.g. `crate = ::my_telemetry`"));
    }
    Ok(path)
}

/// `key = value, ..`: each entry parsed on its own.
fn parse_attrs(tokens: TokenStream, errors: &mut Errors) -> Vec<AttrEntry> {
    let mut entries = Vec::new();
    for chunk in split_on_commas(tokens, errors) {
        let Some((key_tokens, value_tokens)) = split_on_eq(&chunk) else {
            errors.spanned(
                &chunk,
                "expected `key = literal` in `attrs(..)`, e.g. `attrs(profile = \"release\")`",
            );
            continue;
        };
        let key = match syn::Ident::parse_any.parse2(key_tokens.clone()) {
            Ok(key) => key,
            Err(_) => {
                errors.spanned(
                    &key_tokens,
                    "attribute keys are snake_case identifiers, e.g. `attrs(dry_run = true)`",
                );
                continue;
            }
        };
        if value_tokens.is_empty() {
            errors.spanned(
                &chunk,
                format!("missing value for `{key}`: write `{key} = <literal>`"),
            );
            continue;
        }
        match syn::parse2::<syn::Expr>(value_tokens) {
            Ok(value) => entries.push(AttrEntry { key, value }),
            Err(e) => errors.push(e),
        }
    }
    entries
}

/// `param, key = expr, key: Type = expr, ..`, each entry parsed on its own.
fn parse_captures(tokens: TokenStream, errors: &mut Errors) -> Vec<CaptureEntry> {
    let mut entries = Vec::new();
    for chunk in split_on_commas(tokens, errors) {
        if let Some((key_tokens, value_tokens)) = split_on_eq(&chunk) {
            let Ok((key, ty)) = parse_capture_key.parse2(key_tokens.clone()) else {
                errors.spanned(
                    &key_tokens,
                    "expected `key = expr` (or `key: Type = expr`) in `capture(..)`, with a \
                     snake_case key, e.g. `capture(open_browser = open)`",
                );
                continue;
            };
            if value_tokens.is_empty() {
                errors.spanned(
                    &chunk,
                    format!("missing value for `{key}`: write `{key} = <expression>`"),
                );
                continue;
            }
            match syn::parse2::<syn::Expr>(value_tokens) {
                Ok(expr) => entries.push(CaptureEntry::Computed {
                    key,
                    ty: ty.map(Box::new),
                    expr: Box::new(expr),
                }),
                Err(e) => errors.push(e),
            }
            continue;
        }
        match syn::Ident::parse_any.parse2(chunk.clone()) {
            Ok(ident) => entries.push(CaptureEntry::Param(ident)),
            Err(_) => {
                // `open as open_browser` reads as a rename: say how to write one.
                let message = match syn::parse2::<syn::Expr>(chunk.clone()) {
                    Ok(syn::Expr::Cast(cast)) => format!(
                        "to send `{}` under another key, write `capture({} = {})`",
                        render(&cast.expr),
                        render(&cast.ty),
                        render(&cast.expr),
                    ),
                    Ok(syn::Expr::Field(syn::ExprField {
                        member: syn::Member::Named(field),
                        ..
                    })) => format!(
                        "`capture(..)` takes parameter names; to send a value computed from them, \
                         give it a key: `capture({} = {})`",
                        field.unraw(),
                        render(&chunk),
                    ),
                    _ => "`capture(..)` takes parameter names, or `key = expr` for a value \
                          computed from them, e.g. `capture(jobs, open_browser = open)`"
                        .to_owned(),
                };
                errors.spanned(&chunk, message);
            }
        }
    }
    entries
}

/// `key` or `key: Type`, the left side of a capture's `=`.
fn parse_capture_key(
    input: syn::parse::ParseStream<'_>,
) -> syn::Result<(syn::Ident, Option<syn::Type>)> {
    let key = input.call(syn::Ident::parse_any)?;
    if input.is_empty() {
        return Ok((key, None));
    }
    input.parse::<syn::Token![:]>()?;
    let ty: syn::Type = input.parse()?;
    if !input.is_empty() {
        return Err(input.error("expected `=` after the type"));
    }
    Ok((key, Some(ty)))
}

/// Splits at top-level commas (commas inside groups belong to the group). A trailing
/// comma is fine; an empty argument (`a,,b`) is an error.
fn split_on_commas(tokens: TokenStream, errors: &mut Errors) -> Vec<TokenStream> {
    let mut chunks = Vec::new();
    let mut current = TokenStream::new();
    for token in tokens {
        match &token {
            TokenTree::Punct(p) if p.as_char() == ',' => {
                if current.is_empty() {
                    errors.at(p.span(), "unexpected `,`");
                }
                chunks.push(std::mem::take(&mut current));
            }
            _ => current.extend([token]),
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks.retain(|c| !c.is_empty());
    chunks
}

/// Splits `key = value` at the first lone `=` (not part of `==`, `=>`, `<=` ..).
fn split_on_eq(chunk: &TokenStream) -> Option<(TokenStream, TokenStream)> {
    let tokens: Vec<TokenTree> = chunk.clone().into_iter().collect();
    let at = tokens.iter().enumerate().position(|(i, t)| {
        let is_lone_eq = matches!(t, TokenTree::Punct(p) if p.as_char() == '=' && p.spacing() == proc_macro2::Spacing::Alone);
        let joined_before = i > 0
            && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.spacing() == proc_macro2::Spacing::Joint);
        is_lone_eq && !joined_before
    })?;
    let key = tokens[..at].iter().cloned().collect();
    let value = tokens[at + 1..].iter().cloned().collect();
    Some((key, value))
}

/// A function whose signature parses but whose body does not: the body's tokens are
/// kept as they are, as the block's only (verbatim) statement, so that the expansion
/// wraps them untouched. `None` if the item is not `attrs vis signature { .. }`.
pub(crate) fn fn_with_opaque_body(item: TokenStream) -> Option<syn::ItemFn> {
    let parser = |input: syn::parse::ParseStream<'_>| -> syn::Result<syn::ItemFn> {
        let attrs = input.call(syn::Attribute::parse_outer)?;
        let vis: syn::Visibility = input.parse()?;
        let sig: syn::Signature = input.parse()?;
        let body: proc_macro2::Group = input.parse()?;
        if body.delimiter() != Delimiter::Brace || !input.is_empty() {
            return Err(input.error("expected a function body"));
        }
        let block = syn::Block {
            brace_token: syn::token::Brace {
                span: body.delim_span(),
            },
            stmts: vec![syn::Stmt::Item(syn::Item::Verbatim(body.stream()))],
        };
        Ok(syn::ItemFn {
            attrs,
            vis,
            modifiers: syn::FnModifiers::default(),
            sig,
            block: Box::new(block),
        })
    };
    parser.parse2(item).ok()
}

/// Whether the item has a top-level `fn` token (a function whose signature has a
/// syntax error, rather than some other item).
pub(crate) fn mentions_fn(item: &TokenStream) -> bool {
    item.clone()
        .into_iter()
        .any(|t| matches!(&t, TokenTree::Ident(i) if i == "fn"))
}

/// The span to report "missing event name" at: the whole attribute.
pub(crate) fn attribute_span() -> Span {
    Span::call_site()
}

/// A short source-like rendering of tokens for messages (`std::env::consts::OS`, not
/// the token printer's `std :: env :: consts :: OS`).
pub(crate) fn render(tokens: &impl quote::ToTokens) -> String {
    let mut text = tokens.to_token_stream().to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" < ", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
        (" . ", "."),
        (" (", "("),
        ("( ", "("),
        (" )", ")"),
        ("! (", "!("),
        ("& ", "&"),
    ] {
        text = text.replace(from, to);
    }
    if let Some(rest) = text.strip_prefix("- ") {
        text = format!("-{rest}");
    }
    if text.len() > 40 {
        format!("{}..", text.chars().take(37).collect::<String>())
    } else {
        text
    }
}
