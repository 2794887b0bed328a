//! Code generation for `#[track]`.
//!
//! The user's signature, attributes and body tokens are re-emitted untouched (so errors
//! in the body point at the user's code and lints still fire on it); around the body the
//! expansion adds, in this order:
//!
//! 1. a `static` [`EventSpec`] registered in the catalog at link time;
//! 2. one relaxed atomic load (`enabled()`); only when it says yes are the captured
//!    values read — parameters, and `key = expr` expressions evaluated — before the
//!    body can move what they read;
//! 3. the body, as a closure (sync) or an inner `async move` block (async), so that
//!    every `return` and `?` of the body comes back through the expansion with its value.
//!    The user's block is that closure's or block's body as it is, and its type is the
//!    declared return type (see `output_type`).
//!    A plain function calls the closure in one of two places: right after the flag
//!    check when telemetry is off (nothing is kept across the body, so the function
//!    needs no frame of its own), or through the out-of-line `run_enabled`, which
//!    starts the clock and holds the guard. The body's tokens appear once, so an error
//!    in it is reported once. `async` shapes and `-> !` keep a guard across the body;
//! 4. the outcome, classified by the site's classifier (`error = classify`) or by the
//!    value's *type* (autoref specialization: any `Result`, whatever its spelling, gives
//!    `ok`/`error` + `error_kind`, an `io::Error`'s kind where it is known), handed to
//!    the guard. A guard dropped without an outcome records `panic` while unwinding and
//!    `cancelled` otherwise (a future dropped before it finished).
//!
//! Generated code names only `#krate::__private::..` (and `::core` macros), and its own
//! local variables use mixed-site hygiene so the body cannot see or shadow them.
//!
//! [`EventSpec`]: ../telemetry/catalog/struct.EventSpec.html

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;

use crate::check::{Capture, LitValue, Model, Value};
use crate::errors::respan;

/// How the function runs its body, which decides where timing starts and ends.
pub(crate) enum Shape {
    /// A plain function: timed around a closure holding the body.
    Sync,
    /// A function returning `!`: only a panic can end it (recorded by the guard).
    Never,
    /// `async fn`: timed from the first poll to completion.
    AsyncFn,
    /// A function returning a future built by a trailing `async` block, bare
    /// (`-> impl Future`) or as the single argument of a call (`Box::pin(async move {..})`,
    /// the shape `#[async_trait]` produces): timed from the block's first poll.
    FutureBlock { tail: usize, boxed: bool },
}

/// Recognises the function's shape, or explains why a future-returning function cannot
/// be tracked.
pub(crate) fn shape(func: &syn::ItemFn) -> syn::Result<Shape> {
    if func.sig.asyncness.is_some() {
        return Ok(Shape::AsyncFn);
    }
    let ret = match &func.sig.output {
        syn::ReturnType::Default => return Ok(Shape::Sync),
        syn::ReturnType::Type(_, ty) => ty,
    };
    if matches!(**ret, syn::Type::Never(_)) {
        return Ok(Shape::Never);
    }
    let stmts = &func.block.stmts;
    if let Some(syn::Stmt::Expr(tail, None)) = stmts.last() {
        let boxed = match tail {
            syn::Expr::Async(_) => Some(false),
            syn::Expr::Call(call)
                if call.args.len() == 1 && matches!(call.args[0], syn::Expr::Async(_)) =>
            {
                Some(true)
            }
            _ => None,
        };
        if let Some(boxed) = boxed {
            return Ok(Shape::FutureBlock {
                tail: stmts.len() - 1,
                boxed,
            });
        }
    }
    if returns_future(ret) {
        return Err(syn::Error::new_spanned(
            ret,
            "#[track] can time a future only while it runs: make this an `async fn`, or end its \
             body with the `async move { .. }` block (or `Box::pin(async move { .. })`) that \
             builds the returned future",
        ));
    }
    Ok(Shape::Sync)
}

/// Whether the return type is spelled as a future (`impl Future`, `dyn Future`,
/// `BoxFuture`, ..).
fn returns_future(ty: &syn::Type) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_path_segment(&mut self, seg: &'ast syn::PathSegment) {
            let name = seg.ident.to_string();
            if name == "Future" || name.ends_with("BoxFuture") {
                self.0 = true;
            }
            syn::visit::visit_path_segment(self, seg);
        }
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_type(&mut finder, ty);
    finder.0
}

/// Builds the tracked function.
pub(crate) fn expand(mut func: syn::ItemFn, model: &Model, shape: Shape) -> TokenStream {
    let krate = &model.krate;
    let (inner_attrs, outer_attrs): (Vec<_>, Vec<_>) = std::mem::take(&mut func.attrs)
        .into_iter()
        .partition(|a| matches!(a.style, syn::AttrStyle::Inner(_)));
    let vis = &func.vis;
    let sig = &func.sig;
    let spec = spec_static(model);
    let spec_ref = quote!(&__TELEMETRY_EVENT_SPEC);
    let captures = capture_values(model);
    // The captured values are read only in the enabled branch.
    let enter = quote! {
        if #krate::__private::enabled() {
            #krate::__private::CallGuard::enter_enabled(#spec_ref, #captures)
        } else {
            #krate::__private::CallGuard::disabled()
        }
    };
    let guard = format_ident!("__telemetry_guard", span = Span::mixed_site());
    let ret = format_ident!("__telemetry_ret", span = Span::mixed_site());
    let classified = outcome(model, &quote!(&#ret));
    let finish = quote! {
        #krate::__private::CallGuard::finish(#guard, || #classified);
    };
    let block = &func.block;
    let body = match shape {
        Shape::Sync => {
            // Two call sites of one closure: the disabled path calls the body right
            // after the flag check and carries nothing across it (no guard, no stack
            // frame of its own); the enabled path hands the body to an out-of-line
            // runner. The body's tokens appear once, so its errors are reported once.
            let output = output_type(&sig.output);
            let captured = format_ident!("__telemetry_captured", span = Span::mixed_site());
            let run = format_ident!("__telemetry_body", span = Span::mixed_site());
            let sync_outcome = outcome(model, &quote!(#ret));
            quote! {
                let #captured = if #krate::__private::enabled() {
                    #krate::__private::Some(#captures)
                } else {
                    #krate::__private::None
                };
                let #run = #krate::__private::body_once(move || -> #output #block);
                match #captured {
                    #krate::__private::Some(#captured) => #krate::__private::run_enabled(
                        #spec_ref,
                        #captured,
                        #run,
                        |#ret| #sync_outcome,
                    ),
                    #krate::__private::None => #run(),
                }
            }
        }
        Shape::Never => quote! {
            let #guard = #enter;
            #krate::__private::call_once(move || -> ! #block)
        },
        Shape::AsyncFn => {
            let output = output_type(&sig.output);
            quote! {
                let #guard = #enter;
                let #ret = #krate::__private::async_body::<#output, _>(async move #block).await;
                #finish
                #ret
            }
        }
        Shape::FutureBlock { tail, boxed } => {
            let pending = format_ident!("__telemetry_call", span = Span::mixed_site());
            let prefix = &block.stmts[..tail];
            let (call, user_future) = match &block.stmts[tail] {
                syn::Stmt::Expr(syn::Expr::Call(call), None) if boxed => {
                    (Some(call), &call.args[0])
                }
                syn::Stmt::Expr(expr, None) => (None, expr),
                // `shape` only reports a tail expression.
                other => return quote!(#other),
            };
            let wrapper = quote! {
                async move {
                    let #guard = #krate::__private::PendingCall::start(#pending);
                    let #ret = #user_future.await;
                    #finish
                    #ret
                }
            };
            let tail = match call {
                Some(call) => {
                    let attrs = &call.attrs;
                    let func = &call.func;
                    quote!(#(#attrs)* #func(#wrapper))
                }
                None => wrapper,
            };
            quote! {
                let #pending = if #krate::__private::enabled() {
                    #krate::__private::PendingCall::prepare_enabled(#spec_ref, #captures)
                } else {
                    #krate::__private::PendingCall::disabled()
                };
                #(#prefix)*
                #tail
            }
        }
    };
    // The new body's braces get the span of the user's braces: the item then spans
    // from the user's `fn` to the user's `}`, so rustc treats it as the user's code
    // (with braces of the macro's span, lints such as `dead_code` on the function
    // would be silenced as coming from a macro).
    let mut out = quote!(#(#outer_attrs)* #vis #sig);
    block.brace_token.surround(&mut out, |out| {
        out.extend(quote! {
            #(#inner_attrs)*
            #spec
            #body
        });
    });
    out
}

/// The catalog entry of this site. The `SafeValue` check of every capture whose type can
/// be named here lives in this `static` (`<T as SafeValue>::KIND`, spanned on the user's
/// type), so a wrong type is reported once, at the parameter.
fn spec_static(model: &Model) -> TokenStream {
    let krate = &model.krate;
    let name = &model.name;
    let attrs = model.attrs.iter().map(|a| {
        let key = &a.key;
        let value = literal(krate, &a.value);
        quote!((#key, #value))
    });
    let captures = model.captures.iter().map(|c| {
        let key = &c.key;
        match &c.static_ty {
            Some(ty) => {
                let span = c.ty.as_ref().map_or_else(|| ty.span(), Spanned::span);
                let safe_value = quote_spanned!(span=> <#ty as #krate::__private::SafeValue>);
                quote! {
                    #krate::__private::CaptureSpec::new(#key, #safe_value::KIND)
                        .with_values(#safe_value::VALUES)
                }
            }
            None => quote!(#krate::__private::CaptureSpec::new(#key, #krate::__private::ANY_KIND)),
        }
    });
    // A classifier's return type is checked here (its `ErrorCategory` bound, at the
    // user's path), and its values listed.
    let error_kinds = model.error.as_ref().map(|classifier| {
        let path = &classifier.path;
        let kinds = call_at(quote!(#krate::__private::error_kinds), quote!(&#path), path);
        quote!(.with_error_kinds(#kinds))
    });
    // `EventSpec::new` checks the rules `check` already enforced, in const evaluation:
    // a second line of defence for hand-built specs that a valid site never trips. The
    // slices are `const` items: a borrow passed to a `const fn` is not promoted to
    // `'static` when its elements have a destructor (`AttrValue`), a `const`'s is.
    quote! {
        #krate::__private::register_event! {
            static __TELEMETRY_EVENT_SPEC: #krate::__private::EventSpec = {
                const ATTRS: &[(&::core::primitive::str, #krate::__private::AttrValue)] = &[#(#attrs),*];
                const CAPTURES: &[#krate::__private::CaptureSpec] = &[#(#captures),*];
                #krate::__private::EventSpec::new(#name, ATTRS, CAPTURES, ::core::module_path!())
                    #error_kinds
            };
        }
    }
}

/// A const expression for a literal attribute value.
fn literal(krate: &syn::Path, value: &LitValue) -> TokenStream {
    match value {
        LitValue::Str(s) => quote!(#krate::__private::lit_str(#s)),
        LitValue::Int {
            negative,
            magnitude,
        } => {
            let magnitude = proc_macro2::Literal::u64_suffixed(*magnitude);
            quote!(#krate::__private::lit_int(#negative, #magnitude))
        }
        LitValue::UInt(v) => {
            let v = proc_macro2::Literal::u64_suffixed(*v);
            quote!(#krate::__private::lit_uint(#v))
        }
        LitValue::Float(v) => {
            let negative = v.is_sign_negative();
            let magnitude = proc_macro2::Literal::f64_suffixed(v.abs());
            quote!(#krate::__private::lit_float(#negative, #magnitude))
        }
        LitValue::Bool(b) => quote!(#krate::__private::lit_bool(#b)),
    }
}

/// `{ [capture, ..] }`, evaluated only in the enabled branch. Values are read at the
/// start of the call, before the body can move the parameters. An expression rather
/// than a closure handed to an out-of-line function: that would take the parameters'
/// addresses and spill them to the stack on the disabled path as well.
fn capture_values(model: &Model) -> TokenStream {
    let krate = &model.krate;
    if model.captures.is_empty() {
        return quote!([]);
    }
    // The keys are in the site's spec, in the same order.
    let items = model.captures.iter().map(|c| capture_value(krate, c));
    // The autoref-specialization traits are imported only where a capture uses them.
    let imports = model
        .captures
        .iter()
        .any(|c| c.static_ty.is_some())
        .then(|| quote!(use #krate::__private::{CaptureFallback as _, CaptureSafe as _};));
    quote! {
        {
            #imports
            [#(#items),*]
        }
    }
}

/// Reads one captured value. A parameter is read through a reference to it, an
/// expression through a reference to its value: nothing is moved before the body runs.
fn capture_value(krate: &syn::Path, c: &Capture) -> TokenStream {
    match (&c.static_ty, &c.value) {
        // Checked by the `static`; the fallback keeps this line from repeating the
        // error.
        (Some(_), Value::Param(ident)) => {
            let value = quote_spanned!(ident.span()=> &#ident);
            quote!((&#krate::__private::Capture(#value)).__telemetry_capture())
        }
        (Some(ty), Value::Expr(expr)) => {
            // The written type (`&'a Mode`), not the one the `static` names (`Mode`).
            let ty = c.ty.as_ref().unwrap_or(ty);
            let read = call_at(
                quote!(#krate::__private::Capture::<#ty>),
                borrowed(expr),
                expr,
            );
            quote!((&#read).__telemetry_capture())
        }
        // A type the `static` cannot name (generic, `impl Trait`, `Self`): the bound is
        // required here, on the parameter or the written type.
        (None, Value::Param(ident)) => {
            let ty = c.ty.as_ref().map_or_else(|| ident.span(), Spanned::span);
            let value = quote_spanned!(ident.span()=> &#ident);
            quote_spanned!(ty=> #krate::__private::capture(#value))
        }
        (None, Value::Expr(expr)) => match &c.ty {
            Some(written) => call_at(
                quote!(#krate::__private::capture::<#written>),
                borrowed(expr),
                written,
            ),
            // An expression of unwritten type: the bound is required on the expression.
            None => call_at(quote!(#krate::__private::capture), borrowed(expr), expr),
        },
    }
}

/// `&(expr)` spanned on the user's expression: the `&` takes the span of its first
/// token and the parentheses that of its last, so an error about the value (a missing
/// `SafeValue`, a mismatched type) underlines the whole expression.
fn borrowed(expr: &syn::Expr) -> TokenStream {
    let (first, last) = first_and_last(expr);
    let mut group = proc_macro2::Group::new(proc_macro2::Delimiter::Parenthesis, quote!(#expr));
    group.set_span(last);
    quote_spanned!(first=> & #group)
}

/// The spans of the first and last tokens of `tokens`.
fn first_and_last(tokens: &impl quote::ToTokens) -> (Span, Span) {
    let mut iter = tokens.to_token_stream().into_iter();
    let first = iter.next().map_or_else(Span::call_site, |t| t.span());
    let last = iter.last().map_or(first, |t| t.span());
    (first, last)
}

/// `callee(args)` spanned on the user's `tokens`: the callee takes the span of their
/// first token and the parentheses that of their last, so an error about the call (an
/// unmet bound, a wrong argument) underlines the user's code, not the whole attribute.
fn call_at(callee: TokenStream, args: TokenStream, tokens: &impl quote::ToTokens) -> TokenStream {
    let (first, last) = first_and_last(tokens);
    let callee = respan(callee, first);
    let mut group = proc_macro2::Group::new(proc_macro2::Delimiter::Parenthesis, args);
    group.set_span(last);
    quote!(#callee #group)
}

/// The outcome of a call from its return value `ret` (an expression of type `&R`): by
/// the site's classifier (`error = classify`), or by the value's type.
fn outcome(model: &Model, ret: &TokenStream) -> TokenStream {
    let krate = &model.krate;
    let Some(classifier) = &model.error else {
        return quote! {{
            use #krate::__private::{ClassifyKnown as _, ClassifyOther as _, ClassifyResult as _};
            (&&#krate::__private::Classify(#ret)).__telemetry_outcome()
        }};
    };
    let path = &classifier.path;
    let error = format_ident!("__telemetry_error", span = Span::mixed_site());
    let category = format_ident!("__telemetry_category", span = Span::mixed_site());
    // Not a `Result`: reported at `error`. A classifier of the wrong argument type:
    // at its path (`call_classifier`). Its return type: by the `static`, so the
    // fallback here adds no second error.
    // The value passed through a call spanned on `error`: an error about it points
    // there (a block would do too, but trips `unused_braces` in the user's crate).
    let value = call_at(
        quote!(#krate::__private::returned),
        ret.clone(),
        &classifier.token,
    );
    let error_of = call_at(
        quote!(#krate::__private::error_of),
        quote!(#value),
        &classifier.token,
    );
    // The error first: its type fixes `E`, so a classifier taking another type is the
    // argument in error.
    let call = call_at(
        quote!(#krate::__private::call_classifier),
        quote!(#error, #path),
        path,
    );
    quote! {{
        use #krate::__private::{CategoryFallback as _, CategoryKnown as _};
        #krate::__private::classified(#error_of.map(|#error| {
            let #category = #call;
            (&#krate::__private::Category(&#category)).__telemetry_error_kind()
        }))
    }}
}

/// The declared return type, for the closure (`move || -> T { .. }`) or `async` block
/// (`async_body::<T, _>(async move { .. })`) that holds the body: written outside the
/// user's block (so nothing the body declares can shadow a name in it) and known before
/// the body is checked, so the body's `return`s and `?`s coerce exactly as they would
/// in the function itself (`Box<dyn Error>`, `&dyn Trait` ..). The user's block is the
/// closure's or `async` block's own body, braces and all: no extra braces around it
/// for `unused_braces` to flag. `impl Trait` becomes `_`. Without a declared type it
/// is `()`: a body that only panics must not leave the type open (it would be inferred
/// from the outcome classification).
fn output_type(output: &syn::ReturnType) -> syn::Type {
    let mut ty = match output {
        syn::ReturnType::Type(_, ty) => (**ty).clone(),
        syn::ReturnType::Default => syn::parse_quote!(()),
    };
    ImplToInfer.visit_type_mut(&mut ty);
    ty
}

struct ImplToInfer;

impl VisitMut for ImplToInfer {
    fn visit_type_mut(&mut self, ty: &mut syn::Type) {
        if let syn::Type::ImplTrait(it) = ty {
            let span = it.impl_token.span;
            *ty = syn::Type::Infer(syn::TypeInfer {
                attrs: Vec::new(),
                underscore_token: syn::Token![_](span),
            });
            return;
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}
