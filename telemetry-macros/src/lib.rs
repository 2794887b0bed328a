//! Procedural macros of the [`telemetry`](https://docs.rs/telemetry) crate. Use them
//! through `telemetry` (`#[telemetry::track]`, `#[derive(telemetry::SafeValue)]`): the
//! code they generate calls `telemetry::__private`, which only that crate provides.
//!
//! Layout: `parse` reads the attribute grammar, `check` applies every grammar and
//! privacy rule (with `types` for the declared types of captured parameters), `expand`
//! generates the code, `derive_safe_value` implements the derive and `errors` collects
//! every problem of one item so that they are all reported in one compile.

mod check;
mod derive_safe_value;
mod errors;
mod expand;
mod parse;
mod types;

use proc_macro::TokenStream;

/// Records every call of the function as one telemetry event.
///
/// ```text
/// #[track("<event.name>" [, attrs(key = <literal>, ..)] [, capture(<entry>, ..)]
///        [, error = <path>] [, crate = path])]
///
/// <entry>: param | key = <expr> | key: Type = <expr>
/// ```
///
/// * The event name is a string literal of lowercase dotted words
///   (`[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*`), at most 64 bytes.
/// * `attrs(..)` adds fixed attributes: snake_case keys, values that are string,
///   integer, float or bool literals (a leading `-` is allowed). Names, constants,
///   calls and macros (`env!`, `concat!` ..) are rejected: everything an event can
///   contain must be visible at the call site.
/// * `capture(..)` adds values known when the call starts, whose types must implement
///   `telemetry::SafeValue` (bool, integers, floats, `Option` of those, `Hashed`, and
///   fieldless enums and newtypes with `#[derive(SafeValue)]`):
///   - `param`: a parameter, under its own name;
///   - `key = param`: a parameter under another key (`open_browser = open`);
///   - `key = expr`: a value computed from what the function has (`verbose =
///     matches.get_flag("verbose")`, `shell = shell_kind(&shell)` to map a foreign enum
///     to your own); `key: Type = expr` also names its type, so that the catalog lists
///     its kind and, for an enum, its values (otherwise its kind is `any`).
///
///   Every expression is evaluated before the body runs (so the body may move what it
///   reads), **only when telemetry is on**, and is not recorded if it panics: keep it
///   cheap, free of side effects and of `unwrap`. `?`, `.await` and `return` are
///   rejected (the function would behave differently with telemetry on). Paths,
///   strings, `format!(..)`, `.to_string()`, `.display()` and literals (which belong in
///   `attrs`) are rejected with a targeted error; the `SafeValue` bound catches the
///   rest, with the same message as for a parameter.
/// * `error = classify` names a function `fn(&E) -> C`, where `E` is the error type of
///   the returned `Result` and `C` a fieldless enum with `#[derive(SafeValue)]` (or an
///   `Option` of one): the variant is the event's `error_kind` (`None` leaves it out),
///   and the catalog lists every variant. A path (`AppError::kind`,
///   `classify::<MyError>`), not a closure, and not through `Self`: the catalog entry
///   names it from outside the function. A classifier returning text, a number or
///   anything else does not compile.
/// * Literals are read whole: a suffix on a string is an error, a number's suffix must
///   be a number type the value fits (`300u8` is an error), and a string value is at
///   most 128 bytes without control or bidirectional-control characters.
/// * `crate = path` names the `telemetry` crate when it is renamed or re-exported.
///
/// Each call records its duration, the outcome — `ok`, or for any `Result` return type
/// `ok`/`error` with `error_kind`: the classifier's variant; without one, the kind of
/// an `io::Error` (`not_found`; also of an `anyhow::Error` or `eyre::Report` caused by
/// one, with the `telemetry` features of those names), else the error type's name;
/// never its message — `panic` when it panics (the panic keeps unwinding); `cancelled`
/// when a future is dropped before it finished — and the attributes. Works on
/// functions, methods, `async fn`, functions returning `impl Future` built by a
/// trailing `async move` block, and `#[async_trait]` methods; an `async` call is timed
/// while it runs (from its first poll), not when its future is built, and a future
/// that is never polled records nothing. When telemetry is off, a call costs one
/// relaxed atomic load.
///
/// Limitation: a captured parameter whose type is a generic parameter of the enclosing
/// `impl` is recognised by its conventional spelling (`T`, `M`, `K2`: one or two capital
/// letters or digits); such captures appear in the catalog with kind `any`.
///
/// ```ignore
/// #[telemetry::track("cmd.build", attrs(profile = "release"), capture(jobs))]
/// fn build(jobs: u16) -> Result<(), std::io::Error> { Ok(()) }
///
/// #[telemetry::track("cmd.serve", capture(open_browser = open, port: u16 = args.port), error = classify)]
/// fn serve(open: bool, args: ServeArgs) -> anyhow::Result<()> { Ok(()) }
/// ```
#[proc_macro_attribute]
pub fn track(args: TokenStream, item: TokenStream) -> TokenStream {
    track_impl(args.into(), item.into()).into()
}

/// Implements the sealed `telemetry::SafeValue` (the one way to implement it):
///
/// * for a fieldless enum, each variant is sent as its name in snake_case, or as
///   `#[safe_value(rename = "..")]` (1 to 64 characters of `a-z`, `0-9`, `_`, `-`, `.`,
///   starting with a letter or digit); kind `string`; `SafeValue::VALUES` lists them
///   (for `telemetry schema`), and the enum is also an `ErrorCategory` (the return
///   type of a classifier, `#[track(.., error = classify)]`);
/// * for a newtype over a `SafeValue` type (`struct Jobs(u16)`, `struct Jobs { n: u16 }`,
///   `struct Wrapper<T>(T)` when `T: SafeValue`), the value and kind of its field.
///
/// `#[safe_value(crate = path)]` on the type names a renamed `telemetry` crate. Enums
/// with fields, other structs and unions are rejected: they could carry free text.
///
/// ```ignore
/// #[derive(telemetry::SafeValue)]
/// enum Mode { Debug, Release, #[safe_value(rename = "rel_lto")] ReleaseLto }
///
/// #[derive(telemetry::SafeValue)]
/// struct Jobs(u16);
/// ```
#[proc_macro_derive(SafeValue, attributes(safe_value))]
pub fn derive_safe_value(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive_safe_value::derive(input).into()
}

/// parse → check → expand; on any error, the errors plus the function as written.
fn track_impl(
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let mut errors = errors::Errors::default();
    let parsed = parse::parse_args(args, &mut errors);
    // A body syn cannot read (a syntax error, or syntax newer than syn) is kept as
    // opaque tokens, as `tracing`'s `#[instrument]` does: the function is still
    // tracked, and a syntax error is reported once, by rustc, at the user's token.
    let (func, opaque_body) = match syn::parse2::<syn::ItemFn>(item.clone()) {
        Ok(func) => (func, false),
        Err(_) => match parse::fn_with_opaque_body(item.clone()) {
            Some(func) => (func, true),
            None => {
                errors.at(proc_macro2::Span::call_site(), not_a_function(&item));
                let error = errors.finish().err();
                return error.map_or(item.clone(), |e| errors::with_original(&e, item));
            }
        },
    };
    // Only a plain function's unreadable body is wrapped as it is: an `async` one would
    // add errors of the expansion to rustc's syntax error, and only a readable body
    // tells a future built by a trailing `async` block from any other. Those are
    // emitted as written, and rustc's syntax error is the only one.
    let shape = match (expand::shape(&func), opaque_body) {
        (Ok(shape @ (expand::Shape::Sync | expand::Shape::Never)), _) | (Ok(shape), false) => {
            Some(shape)
        }
        (_, true) => None,
        (Err(e), false) => {
            errors.push(e);
            None
        }
    };
    let model = check::check(parsed, &func.sig, &mut errors);
    match (errors.finish(), model, shape) {
        (Ok(()), Some(model), Some(shape)) => expand::expand(func, &model, shape),
        (Err(error), ..) => errors::with_original(&error, item),
        // `check` and `shape` report an error whenever they return nothing, except
        // for an unreadable body, which rustc reports.
        (Ok(()), ..) => item,
    }
}

/// The message for an item that is not a function with a body.
fn not_a_function(item: &proc_macro2::TokenStream) -> &'static str {
    match syn::parse2::<syn::TraitItemFn>(item.clone()) {
        Ok(f) if f.default.is_none() => {
            "#[track] needs a function body: put it on the implementations of this trait \
             method, not on its declaration"
        }
        _ if parse::mentions_fn(item) => {
            "#[track] cannot read this function's signature: fix the syntax error there \
             (rustc reports it), then the function is tracked"
        }
        _ => "#[track] applies to functions: free functions, methods and associated functions",
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    /// A body syn cannot read is still wrapped (so a plain function is tracked whatever
    /// syntax its body uses), as written: rustc reports its syntax errors.
    #[test]
    fn an_unreadable_body_is_wrapped_as_written() {
        let out = super::track_impl(
            quote!("cmd.build", capture(jobs)),
            quote!(fn build(jobs: u16) -> u16 { let doubled = jobs * ; doubled }),
        )
        .to_string();
        assert!(out.contains("run_enabled"), "{out}");
        assert!(out.contains("let doubled = jobs * ;"), "{out}");
        assert!(!out.contains("compile_error"), "{out}");

        let out = super::track_impl(
            quote!("cmd.fetch"),
            quote!(async fn fetch() -> u8 { let x = 1 +; x }),
        );
        assert_eq!(
            out.to_string(),
            quote!(async fn fetch() -> u8 { let x = 1 +; x }).to_string()
        );
    }
}
