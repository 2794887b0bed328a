//! `#[derive(SafeValue)]`: fieldless enums only. The value sent is the variant's name in
//! snake_case (or its `#[safe_value(rename = "..")]`), a string fixed in the source, so
//! such an enum can never carry free text.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;

use crate::errors::Errors;

const WAY_OUT: &str = "derive `SafeValue` on a fieldless enum (`enum Mode { Debug, Release }`), \
     or capture the individual bool and number fields instead";

/// Expands the derive, or returns every problem found.
pub(crate) fn derive(input: syn::DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let mut krate: Option<syn::Path> = None;
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("safe_value"))
    {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                krate = Some(meta.value()?.call(syn::Path::parse_mod_style)?);
                Ok(())
            } else {
                Err(meta.error(
                    "unknown option: on the enum, `#[safe_value(..)]` accepts `crate = path`",
                ))
            }
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    let data = match &input.data {
        syn::Data::Enum(data) => data,
        syn::Data::Struct(s) => {
            errors.spanned(
                s.struct_token,
                format!("`#[derive(SafeValue)]` cannot be used on a struct: its fields could hold free text; {WAY_OUT}"),
            );
            return errors.finish().map(|()| TokenStream::new());
        }
        syn::Data::Union(u) => {
            errors.spanned(
                u.union_token,
                format!("`#[derive(SafeValue)]` cannot be used on a union; {WAY_OUT}"),
            );
            return errors.finish().map(|()| TokenStream::new());
        }
    };
    let mut values: Vec<(syn::Ident, String)> = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, syn::Fields::Unit) {
            errors.spanned(
                &variant.fields,
                format!(
                    "`{}` carries data, which could hold free text: `#[derive(SafeValue)]` needs a \
                     fieldless enum; {WAY_OUT}",
                    variant.ident
                ),
            );
            continue;
        }
        let Some(value) = variant_value(variant, &mut errors) else {
            continue;
        };
        if let Some((other, _)) = values.iter().find(|(_, v)| *v == value) {
            errors.spanned(
                &variant.ident,
                format!(
                    "`{}` and `{other}` would both be sent as \"{value}\"; rename one",
                    variant.ident
                ),
            );
            continue;
        }
        values.push((variant.ident.clone(), value));
    }
    errors.finish()?;

    let krate = krate.unwrap_or_else(|| syn::parse_quote!(::telemetry));
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let arms = values
        .iter()
        .map(|(variant, value)| quote!(Self::#variant => #krate::__private::lit_str(#value)));
    Ok(quote! {
        impl #impl_generics #krate::__private::SafeValue for #ident #ty_generics #where_clause {
            const KIND: &'static str = #krate::__private::ENUM_KIND;
            fn to_attr_value(&self) -> #krate::__private::Option<#krate::__private::AttrValue> {
                #krate::__private::Some(match *self {
                    #(#arms,)*
                })
            }
        }
    })
}

/// The value a variant is sent as: `#[safe_value(rename = "..")]` or its snake_case name.
fn variant_value(variant: &syn::Variant, errors: &mut Errors) -> Option<String> {
    let mut rename = None;
    for attr in variant
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("safe_value"))
    {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                let value = lit.value();
                if !is_valid_value(&value) {
                    return Err(syn::Error::new_spanned(
                        &lit,
                        "a renamed value must be 1 to 64 characters of `a-z`, `0-9`, `_`, `-` or \
                         `.`, starting with a letter or digit",
                    ));
                }
                rename = Some(value);
                Ok(())
            } else {
                Err(meta.error(
                    "unknown option: on a variant, `#[safe_value(..)]` accepts `rename = \"..\"`",
                ))
            }
        });
        if let Err(e) = result {
            errors.push(e);
            return None;
        }
    }
    Some(rename.unwrap_or_else(|| snake_case(&variant.ident.unraw().to_string())))
}

fn is_valid_value(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'))
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
    use super::snake_case;

    #[test]
    fn variant_names_become_snake_case() {
        assert_eq!(snake_case("Debug"), "debug");
        assert_eq!(snake_case("HttpServer"), "http_server");
        assert_eq!(snake_case("HTTPServer"), "http_server");
        assert_eq!(snake_case("V2"), "v2");
        assert_eq!(snake_case("Ipv4Only"), "ipv4_only");
        assert_eq!(snake_case("Already_Snake"), "already_snake");
    }
}
