//! The error collector: every problem found in one `#[track]` (or one derive) is
//! gathered here and reported together, each spanned on the token that caused it, so a
//! user fixes all of them after one compile instead of one per compile.

use std::fmt::Display;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// Accumulates `syn::Error`s; `finish` turns them into one combined error.
#[derive(Default)]
pub(crate) struct Errors {
    collected: Option<syn::Error>,
}

impl Errors {
    /// Records an error spanned on `tokens` (all of their span, like `syn::Error::new_spanned`).
    pub(crate) fn spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records an error at `span`.
    pub(crate) fn at(&mut self, span: proc_macro2::Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// How many errors were recorded so far.
    pub(crate) fn count(&self) -> usize {
        self.collected.as_ref().map_or(0, |e| e.into_iter().count())
    }

    /// Records an already built error (which may itself hold several).
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.collected {
            Some(first) => first.combine(error),
            None => self.collected = Some(error),
        }
    }

    /// `Ok` if nothing was recorded, otherwise every recorded error as one.
    pub(crate) fn finish(self) -> syn::Result<()> {
        self.collected.map_or(Ok(()), Err)
    }
}

/// The thiserror-style fallback: the errors, followed by the user's item exactly as it
/// was written, so the compiler reports the attribute's errors and nothing else (no
/// cascade of "cannot find function" errors at the call sites).
pub(crate) fn with_original(error: &syn::Error, original: TokenStream) -> TokenStream {
    let mut out = error.to_compile_error();
    out.extend(original);
    out
}

/// `tokens` with every span set to `span`: generated tokens around a user's token, so
/// that an error about the expression they form points at the user's code.
pub(crate) fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let mut respanned =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                respanned.set_span(span);
                token = respanned.into();
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}
