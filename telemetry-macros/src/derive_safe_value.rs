//! `#[derive(SafeValue)]`, the one way to implement the sealed `SafeValue`:
//!
//! * a fieldless enum is sent as the variant's name in snake_case (or its
//!   `#[safe_value(rename = "..")]`), a string fixed in the source, kind `string`;
//! * a newtype (a struct with exactly one field) over a `SafeValue` type is sent as its
//!   field, with the field's kind. The impl requires `Field: SafeValue` in its `where`
//!   clause, spanned on the field's type, so a newtype over an alias of `String` is
//!   rejected at the field; a generic newtype is `SafeValue` exactly when its field is.
//!
//! Every other shape is rejected with the rule. A rejected derive still emits stub
//! impls (thiserror's habit), so a later `capture(x)` of the type adds no second error.
//! Both impls implement the hidden `__private::Sealed` as well as `SafeValue`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use telemetry_naming::NameError;

use crate::errors::{Errors, respan};
use crate::types;

const WAY_OUT: &str = "derive `SafeValue` on a fieldless enum (`enum Mode { Debug, Release }`) \
     or on a newtype over a `SafeValue` type (`struct Jobs(u16)`), or capture the individual \
     bool and number fields instead";

/// The rule for a variant's value (`telemetry_naming::check_variant_value`), stated by
/// every message about one.
const VALUE_RULE: &str = "a value is 1 to 64 characters of `a-z`, `0-9`, `_`, `-` or `.`, \
     starting with a letter or digit";

/// Expands the derive: the impls, or every problem found followed by stub impls.
pub(crate) fn derive(input: syn::DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let krate =
        container_options(&input, &mut errors).unwrap_or_else(|| syn::parse_quote!(::telemetry));
    let body = match &input.data {
        syn::Data::Enum(data) => derive_enum(data, &krate, &mut errors),
        syn::Data::Struct(data) => derive_newtype(&input, data, &krate, &mut errors),
        syn::Data::Union(u) => {
            errors.spanned(
                u.union_token,
                format!(
                    "`#[derive(SafeValue)]` cannot be used on a union: which of its fields holds \
                     the value is not known from its type; {WAY_OUT}"
                ),
            );
            None
        }
    };
    match (errors.finish(), body) {
        (Ok(()), Some(body)) => impls(&input, &krate, body),
        (result, _) => {
            let mut out = result
                .err()
                .map(|e| e.to_compile_error())
                .unwrap_or_default();
            out.extend(stub(&input, &krate));
            out
        }
    }
}

/// What the `SafeValue` impl of an accepted type contains.
struct Body {
    kind: TokenStream,
    /// `SafeValue::VALUES`: the enum's values, or the newtype's field's.
    values: TokenStream,
    to_attr_value: TokenStream,
    /// A `where` predicate both impls need (the newtype's field), spanned on the field.
    bound: Option<TokenStream>,
    /// For an enum, the body of `ErrorCategory::error_kind`: any fieldless enum can
    /// classify errors.
    error_kind: Option<TokenStream>,
}

fn impls(input: &syn::DeriveInput, krate: &syn::Path, body: Body) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let predicates = where_clause.map(|w| &w.predicates);
    let bound = body.bound.as_ref().map(|b| quote!(#b,));
    // A `Field: SafeValue` predicate on a type without generics is checked where it is
    // written: state it once (on the `SafeValue` impl), or a bad field is reported twice.
    // With generics it is checked only per instantiation, and `Sealed` needs it too, so
    // that no `SafeValue` impl for an instance whose field is not `SafeValue` (say
    // `Wrapper<UserName>`) can be written by hand.
    let sealed_bound = if input.generics.params.is_empty() {
        None
    } else {
        bound.clone()
    };
    let Body {
        kind,
        values,
        to_attr_value,
        error_kind,
        ..
    } = body;
    let category = error_kind.map(|error_kind| {
        quote! {
            #[automatically_derived]
            impl #impl_generics #krate::__private::ErrorCategorySealed for #ident #ty_generics
            #where_clause
            {}

            #[automatically_derived]
            impl #impl_generics #krate::__private::ErrorCategory for #ident #ty_generics
            #where_clause
            {
                fn error_kind(&self) -> #krate::__private::Option<#krate::__private::ErrorKind> {
                    #error_kind
                }
            }
        }
    });
    quote! {
        #category

        #[automatically_derived]
        impl #impl_generics #krate::__private::Sealed for #ident #ty_generics
        where
            #sealed_bound
            #predicates
        {}

        #[automatically_derived]
        impl #impl_generics #krate::__private::SafeValue for #ident #ty_generics
        where
            #bound
            #predicates
        {
            const KIND: &'static str = #kind;
            const VALUES: &'static [&'static str] = #values;
            #[inline]
            fn to_attr_value(&self) -> #krate::__private::Option<#krate::__private::AttrValue> {
                #to_attr_value
            }
        }
    }
}

/// The impls a rejected derive leaves behind, so that the type's uses add no errors of
/// their own: the derive's errors are the only ones. They send nothing.
fn stub(input: &syn::DeriveInput, krate: &syn::Path) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let category = matches!(input.data, syn::Data::Enum(_)).then(|| {
        quote! {
            #[automatically_derived]
            impl #impl_generics #krate::__private::ErrorCategorySealed for #ident #ty_generics #where_clause {}

            #[automatically_derived]
            impl #impl_generics #krate::__private::ErrorCategory for #ident #ty_generics #where_clause {
                fn error_kind(&self) -> #krate::__private::Option<#krate::__private::ErrorKind> {
                    #krate::__private::None
                }
            }
        }
    });
    quote! {
        #category

        #[automatically_derived]
        impl #impl_generics #krate::__private::Sealed for #ident #ty_generics #where_clause {}

        #[automatically_derived]
        impl #impl_generics #krate::__private::SafeValue for #ident #ty_generics #where_clause {
            const KIND: &'static str = #krate::__private::ANY_KIND;
            fn to_attr_value(&self) -> #krate::__private::Option<#krate::__private::AttrValue> {
                #krate::__private::None
            }
        }
    }
}

/// `#[safe_value(crate = path)]` on the type; anything else there is an error.
fn container_options(input: &syn::DeriveInput, errors: &mut Errors) -> Option<syn::Path> {
    let mut krate: Option<syn::Path> = None;
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("safe_value"))
    {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let value = meta.value()?;
                let path = value.call(syn::Path::parse_mod_style).map_err(|_| {
                    value.error(
                        "`crate` takes the path of the `telemetry` crate as it is named here, \
                         e.g. `#[safe_value(crate = ::my_telemetry)]`",
                    )
                })?;
                if krate.is_some() {
                    errors.spanned(&meta.path, "`crate = ..` is given twice");
                } else {
                    krate = Some(path);
                }
                Ok(())
            } else if meta.path.is_ident("rename") {
                Err(meta.error(
                    "`rename` goes on a variant of an enum: `#[safe_value(rename = \"..\")]`",
                ))
            } else {
                Err(meta.error(format!(
                    "unknown option `{}`: on the type, `#[safe_value(..)]` accepts `crate = path`",
                    crate::parse::render(&meta.path)
                )))
            }
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    krate
}

/// A fieldless enum: one arm per variant.
fn derive_enum(data: &syn::DataEnum, krate: &syn::Path, errors: &mut Errors) -> Option<Body> {
    let mut values: Vec<(syn::Ident, String)> = Vec::new();
    for variant in &data.variants {
        let value = variant_value(variant, errors);
        if !matches!(variant.fields, syn::Fields::Unit) {
            errors.spanned(
                &variant.fields,
                format!(
                    "`{}` carries data, which could hold free text: `#[derive(SafeValue)]` on an \
                     enum needs every variant to be fieldless; {WAY_OUT}",
                    variant.ident
                ),
            );
            continue;
        }
        let Some(value) = value else {
            continue;
        };
        if let Some((other, _)) = values.iter().find(|(_, v)| *v == value) {
            errors.spanned(
                &variant.ident,
                format!(
                    "`{}` and `{other}` would both be sent as \"{value}\"; give one of them \
                     another value with `#[safe_value(rename = \"..\")]`",
                    variant.ident
                ),
            );
            continue;
        }
        values.push((variant.ident.clone(), value));
    }
    let arms = values
        .iter()
        .map(|(variant, value)| quote!(Self::#variant => #krate::__private::lit_str(#value)));
    let listed = values.iter().map(|(_, value)| value);
    // One function per variant (a closure without captures): the queued record keeps
    // the kind as one word, and the worker calls it.
    let kinds = values.iter().map(|(variant, value)| {
        quote!(Self::#variant => || #krate::__private::ErrorKindName::Category(#value))
    });
    Some(Body {
        error_kind: Some(quote! {
            let kind: #krate::__private::ErrorKind = match *self {
                #(#kinds,)*
            };
            #krate::__private::Some(kind)
        }),
        kind: quote!(#krate::__private::ENUM_KIND),
        values: quote!(&[#(#listed),*]),
        to_attr_value: quote! {
            #krate::__private::Some(match *self {
                #(#arms,)*
            })
        },
        bound: None,
    })
}

/// A struct with exactly one field, over a `SafeValue` type.
fn derive_newtype(
    input: &syn::DeriveInput,
    data: &syn::DataStruct,
    krate: &syn::Path,
    errors: &mut Errors,
) -> Option<Body> {
    for field in &data.fields {
        for attr in field
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("safe_value"))
        {
            errors.spanned(
                attr,
                "`#[safe_value(..)]` takes no options on a field: a newtype is sent as its field",
            );
        }
    }
    let mut fields = data.fields.iter();
    let (Some(field), None) = (fields.next(), fields.next()) else {
        let count = data.fields.len();
        let what = match count {
            0 => "it has no field".to_owned(),
            n => format!("it has {n} fields, and together they could carry anything"),
        };
        errors.spanned(
            data.struct_token,
            format!(
                "`#[derive(SafeValue)]` on a struct needs exactly one field, of a `SafeValue` \
                 type (a newtype such as `struct Jobs(u16)`): {what}; {WAY_OUT}"
            ),
        );
        return None;
    };
    let ty = &field.ty;
    if let Some(finding) = types::find_forbidden(ty, &input.generics) {
        let why = finding.why();
        errors.spanned(
            ty,
            format!(
                "`#[derive(SafeValue)]` on a newtype needs a field of a `SafeValue` type \
                 (bool, integer, float, `Hashed`, or a type that derives `SafeValue`): {why}; \
                 {WAY_OUT}"
            ),
        );
        return None;
    }
    let member = match &field.ident {
        Some(name) => syn::Member::Named(name.clone()),
        None => syn::Member::Unnamed(syn::Index::from(0)),
    };
    let safe_value = quote!(#krate::__private::SafeValue);
    // The whole predicate on the field's span: a field type that is not `SafeValue` is
    // reported there.
    let span = ty.span();
    let bounded = respan(quote!(: #safe_value), span);
    Some(Body {
        kind: quote!(<#ty as #safe_value>::KIND),
        values: quote!(<#ty as #safe_value>::VALUES),
        to_attr_value: quote!(<#ty as #safe_value>::to_attr_value(&self.#member)),
        bound: Some(quote_spanned!(span=> #ty #bounded)),
        error_kind: None,
    })
}

/// The value a variant is sent as: `#[safe_value(rename = "..")]` or its snake_case
/// name, either of which must follow [`VALUE_RULE`].
fn variant_value(variant: &syn::Variant, errors: &mut Errors) -> Option<String> {
    let mut rename: Option<String> = None;
    let mut valid = true;
    for attr in variant
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("safe_value"))
    {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let expr: syn::Expr = meta.value()?.parse()?;
                match rename_literal(&expr) {
                    Ok(_) if rename.is_some() => {
                        errors.spanned(&meta.path, "`rename` is given twice");
                        valid = false;
                    }
                    Ok(value) => rename = Some(value),
                    Err(message) => {
                        errors.spanned(&expr, message);
                        valid = false;
                    }
                }
                Ok(())
            } else if meta.path.is_ident("crate") {
                Err(meta.error(
                    "`crate = path` goes on the enum, not on a variant: \
                     `#[safe_value(crate = ::my_telemetry)] enum ..`",
                ))
            } else {
                Err(meta.error(format!(
                    "unknown option `{}`: on a variant, `#[safe_value(..)]` accepts \
                     `rename = \"..\"`",
                    crate::parse::render(&meta.path)
                )))
            }
        });
        if let Err(e) = result {
            errors.push(e);
            valid = false;
        }
    }
    if !valid {
        return None;
    }
    if rename.is_some() {
        return rename;
    }
    let name = variant.ident.unraw().to_string();
    let value = snake_case(&name);
    if let Err(reason) = check_value(&value) {
        errors.spanned(
            &variant.ident,
            format!(
                "the variant `{name}` would be sent as \"{}\", which {reason}: {VALUE_RULE}; give it a \
                 value with `#[safe_value(rename = \"..\")]`",
                value.escape_debug()
            ),
        );
        return None;
    }
    Some(value)
}

/// The value of `rename = "..."`, or the message stating the rule.
fn rename_literal(expr: &syn::Expr) -> Result<String, String> {
    let rule = format!(
        "`rename` takes a string literal: {VALUE_RULE}, e.g. `#[safe_value(rename = \
         \"release-lto\")]`; macros and constants are not allowed because every value an \
         enum can be sent as must be visible where it is declared"
    );
    let lit = match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        }) => lit,
        _ => {
            return Err(format!(
                "`{}` is not a string literal; {rule}",
                crate::parse::render(expr)
            ));
        }
    };
    if !lit.suffix().is_empty() {
        return Err(format!(
            "the string literal has the suffix `{}`, which is not allowed; {rule}",
            lit.suffix()
        ));
    }
    let value = lit.value();
    match check_value(&value) {
        Ok(()) => Ok(value),
        Err(reason) => Err(format!(
            "the renamed value \"{}\" {reason}: {VALUE_RULE}",
            value.escape_debug()
        )),
    }
}

/// [`VALUE_RULE`], with the reason a value breaks it.
fn check_value(value: &str) -> Result<(), String> {
    telemetry_naming::check_variant_value(value).map_err(|error| match error {
        NameError::Empty => "is empty".to_owned(),
        NameError::TooLong { len, max } => format!("is {len} bytes long (the limit is {max})"),
        NameError::BadChar { ch, .. } => format!("contains `{}`", ch.escape_debug()),
        NameError::BadStart { .. } => "does not start with a letter or digit".to_owned(),
        // Not an outcome of this rule.
        NameError::EmptySegment { .. } => "is not allowed".to_owned(),
    })
}

/// `HttpServer` → `http_server`, `HTTPServer` → `http_server`, `V2` → `v2`.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let boundary = match prev {
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_uppercase() => next.is_some_and(|n| n.is_lowercase()),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{VALUE_RULE, check_value, snake_case};

    #[test]
    fn the_rule_states_the_shared_limit() {
        let limit = format!(
            "1 to {} characters",
            telemetry_naming::MAX_VARIANT_VALUE_LEN
        );
        assert!(VALUE_RULE.contains(&limit), "{VALUE_RULE}");
    }

    #[test]
    fn variant_names_become_snake_case() {
        assert_eq!(snake_case("Debug"), "debug");
        assert_eq!(snake_case("HttpServer"), "http_server");
        assert_eq!(snake_case("HTTPServer"), "http_server");
        assert_eq!(snake_case("V2"), "v2");
        assert_eq!(snake_case("Ipv4Only"), "ipv4_only");
        assert_eq!(snake_case("Already_Snake"), "already_snake");
        assert_eq!(snake_case("Ålice"), "ålice");
    }

    #[test]
    fn values_follow_the_rule() {
        for ok in ["a", "zsh-5", "v1.2", "0day", &"a".repeat(64)] {
            assert_eq!(check_value(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "ålice",
            "_x",
            "-x",
            "a b",
            "A",
            "a\u{202e}",
            &"a".repeat(65),
        ] {
            assert!(check_value(bad).is_err(), "{bad}");
        }
    }
}
