//! Syntactic inspection of a captured parameter's declared type.
//!
//! Two questions are answered here:
//!
//! * does the type (or a bound of the generic parameter it names) mention something that
//!   holds a path or free text? Those are rejected by the macro with a targeted message;
//!   everything subtler (aliases, wrappers) is caught by the `SafeValue` trait bound;
//! * can the type be named from a `static` inside the function? Only then can the
//!   catalog entry state the value kind, and only then does the `static` carry the
//!   `SafeValue` check (otherwise the check is emitted in the function body).

use std::collections::BTreeSet;

use syn::visit::Visit;
use syn::visit_mut::VisitMut;

/// Why a type is rejected.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Category {
    /// `Path`, `PathBuf`, `OsStr`, `OsString`.
    Path,
    /// `String`, `str`, `CStr`, `CString` (and so `&str`, `Box<str>`, `Cow<str>` ..).
    Text,
    /// Known only through a formatting trait (`impl ToString`, `T: Display` ..).
    Format,
}

/// The offending part of a type.
pub(crate) struct Finding {
    pub(crate) category: Category,
    /// The name that triggered the rule (`PathBuf`, `str`, `ToString` ..).
    pub(crate) culprit: String,
}

impl Finding {
    /// Why such a value cannot be sent, for the error message.
    pub(crate) fn why(&self) -> String {
        let culprit = &self.culprit;
        match self.category {
            Category::Path => format!(
                "`{culprit}` is a file system path, and paths reveal user names, project names \
                 and directory layouts"
            ),
            Category::Text => format!(
                "`{culprit}` is free text, which can hold anything a user typed or a file \
                 contained (names, paths, secrets)"
            ),
            Category::Format => {
                format!("a value known only through `{culprit}` can render to any text")
            }
        }
    }
}

const PATH_TYPES: &[&str] = &["Path", "PathBuf", "OsStr", "OsString"];
const TEXT_TYPES: &[&str] = &["String", "str", "CStr", "CString"];
const FORMAT_TRAITS: &[&str] = &["ToString", "Display", "Debug"];

/// The first path-like or text-like component of `ty`, looking through references,
/// containers, `impl`/`dyn` bounds and the bounds of the function's generic parameters.
pub(crate) fn find_forbidden(ty: &syn::Type, generics: &syn::Generics) -> Option<Finding> {
    let mut finder = Finder {
        generics,
        expanded: BTreeSet::new(),
        found: None,
        safe_bounded: false,
    };
    finder.visit_type(ty);
    finder.found
}

struct Finder<'a> {
    generics: &'a syn::Generics,
    /// Generic parameters whose bounds were already walked (guards `T: AsRef<U>, U: ..`).
    expanded: BTreeSet<String>,
    found: Option<Finding>,
    /// Inside a bound list that also requires `SafeValue`: a formatting bound there
    /// (`T: SafeValue + Debug`) is harmless, the value is sent through `SafeValue`.
    safe_bounded: bool,
}

impl Finder<'_> {
    fn report(&mut self, category: Category, culprit: &syn::Ident) {
        if self.found.is_none() {
            self.found = Some(Finding {
                category,
                culprit: culprit.to_string(),
            });
        }
    }

    /// Walks the bounds declared for the generic parameter `name`, inline or in the
    /// `where` clause.
    fn expand_generic(&mut self, name: &syn::Ident) {
        if !self.expanded.insert(name.to_string()) {
            return;
        }
        let generics = self.generics;
        let inline = generics
            .type_params()
            .filter(|tp| tp.ident == *name)
            .flat_map(|tp| &tp.bounds);
        let in_where = generics
            .where_clause
            .iter()
            .flat_map(|w| &w.predicates)
            .filter_map(|p| match p {
                syn::WherePredicate::Type(pt)
                    if single_ident(&pt.bounded_ty).is_some_and(|i| i == name) =>
                {
                    Some(&pt.bounds)
                }
                _ => None,
            })
            .flatten();
        let bounds: Vec<&syn::TypeParamBound> = inline.chain(in_where).collect();
        self.visit_bounds(bounds);
    }

    fn visit_bounds<'b>(
        &mut self,
        bounds: impl IntoIterator<Item = &'b syn::TypeParamBound> + Clone,
    ) {
        let outer = self.safe_bounded;
        self.safe_bounded = bounds.clone().into_iter().any(|b| {
            matches!(b, syn::TypeParamBound::Trait(t) if t.path.segments.last().is_some_and(|s| s.ident == "SafeValue"))
        });
        for bound in bounds {
            self.visit_type_param_bound(bound);
        }
        self.safe_bounded = outer;
    }
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_type_path(&mut self, node: &'ast syn::TypePath) {
        if let Some(last) = node.path.segments.last() {
            let name = last.ident.to_string();
            if PATH_TYPES.contains(&name.as_str()) {
                self.report(Category::Path, &last.ident);
            } else if TEXT_TYPES.contains(&name.as_str()) {
                self.report(Category::Text, &last.ident);
            }
        }
        if node.qself.is_none()
            && let Some(ident) = node.path.get_ident()
            && is_type_param(self.generics, ident)
        {
            self.expand_generic(ident);
        }
        syn::visit::visit_type_path(self, node);
    }

    fn visit_type_impl_trait(&mut self, node: &'ast syn::TypeImplTrait) {
        self.visit_bounds(&node.bounds);
    }

    fn visit_type_trait_object(&mut self, node: &'ast syn::TypeTraitObject) {
        self.visit_bounds(&node.bounds);
    }

    fn visit_trait_bound(&mut self, node: &'ast syn::TraitBound) {
        if let Some(last) = node.path.segments.last()
            && !self.safe_bounded
            && FORMAT_TRAITS.contains(&last.ident.to_string().as_str())
        {
            self.report(Category::Format, &last.ident);
        }
        syn::visit::visit_trait_bound(self, node);
    }
}

fn is_type_param(generics: &syn::Generics, ident: &syn::Ident) -> bool {
    generics.type_params().any(|tp| tp.ident == *ident)
}

fn single_ident(ty: &syn::Type) -> Option<&syn::Ident> {
    match ty {
        syn::Type::Path(tp) if tp.qself.is_none() => tp.path.get_ident(),
        _ => None,
    }
}

/// The type to name in the catalog `static` (`<T as SafeValue>::KIND`), or `None` when
/// the type cannot be named outside the function body: it mentions `Self`, `impl ..`,
/// `dyn ..`, a generic parameter of the function, or an identifier that by convention is
/// a generic parameter of the enclosing `impl` (`T`, `M`, `K2` ..), which a nested item
/// cannot see. References are peeled (`&Mode` has the kind of `Mode`) and remaining
/// lifetimes become `'static`.
pub(crate) fn nameable_outside(ty: &syn::Type, generics: &syn::Generics) -> Option<syn::Type> {
    let mut ty = ty;
    loop {
        match ty {
            syn::Type::Reference(r) => ty = &r.elem,
            syn::Type::Paren(p) => ty = &p.elem,
            syn::Type::Group(g) => ty = &g.elem,
            _ => break,
        }
    }
    let mut probe = Nameable { generics, ok: true };
    probe.visit_type(ty);
    if !probe.ok {
        return None;
    }
    let mut ty = ty.clone();
    StaticLifetimes.visit_type_mut(&mut ty);
    Some(ty)
}

struct Nameable<'a> {
    generics: &'a syn::Generics,
    ok: bool,
}

impl<'ast> Visit<'ast> for Nameable<'_> {
    fn visit_type(&mut self, node: &'ast syn::Type) {
        match node {
            syn::Type::ImplTrait(_)
            | syn::Type::TraitObject(_)
            | syn::Type::Infer(_)
            | syn::Type::Macro(_)
            | syn::Type::Never(_)
            | syn::Type::Verbatim(_) => self.ok = false,
            _ => syn::visit::visit_type(self, node),
        }
    }

    fn visit_path(&mut self, node: &'ast syn::Path) {
        if let Some(first) = node.segments.first() {
            let ident = &first.ident;
            let looks_generic = node.segments.len() == 1 && looks_like_generic_param(ident);
            let fn_generic = self.generics.params.iter().any(|p| match p {
                syn::GenericParam::Type(t) => t.ident == *ident,
                syn::GenericParam::Const(c) => c.ident == *ident,
                syn::GenericParam::Lifetime(_) => false,
            });
            if ident == "Self" || looks_generic || fn_generic {
                self.ok = false;
            }
        }
        syn::visit::visit_path(self, node);
    }
}

/// `T`, `M`, `K2`, `TX`: the conventional spelling of generic parameters.
fn looks_like_generic_param(ident: &syn::Ident) -> bool {
    let name = ident.to_string();
    name.len() <= 2
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

struct StaticLifetimes;

impl VisitMut for StaticLifetimes {
    fn visit_lifetime_mut(&mut self, lifetime: &mut syn::Lifetime) {
        *lifetime = syn::Lifetime::new("'static", lifetime.span());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden(ty: &str, generics: &str) -> Option<String> {
        let ty: syn::Type = syn::parse_str(ty).unwrap();
        let item: syn::ItemFn = syn::parse_str(&format!("fn f{generics} {{}}")).unwrap();
        find_forbidden(&ty, &item.sig.generics).map(|f| f.culprit)
    }

    #[test]
    fn path_and_text_types_are_found_anywhere_in_the_type() {
        assert_eq!(forbidden("&Path", "()").as_deref(), Some("Path"));
        assert_eq!(
            forbidden("std::path::PathBuf", "()").as_deref(),
            Some("PathBuf")
        );
        assert_eq!(
            forbidden("Option<Cow<'_, str>>", "()").as_deref(),
            Some("str")
        );
        assert_eq!(forbidden("impl AsRef<Path>", "()").as_deref(), Some("Path"));
        assert_eq!(
            forbidden("impl ToString", "()").as_deref(),
            Some("ToString")
        );
        assert_eq!(forbidden("&dyn Display", "()").as_deref(), Some("Display"));
        assert_eq!(
            forbidden("P", "<P: AsRef<OsStr>>()").as_deref(),
            Some("OsStr")
        );
        assert_eq!(
            forbidden("P", "<P>() where P: Into<PathBuf>").as_deref(),
            Some("PathBuf")
        );
    }

    #[test]
    fn safe_looking_types_pass_the_syntactic_check() {
        assert_eq!(forbidden("u16", "()"), None);
        assert_eq!(forbidden("Option<Mode>", "()"), None);
        assert_eq!(forbidden("M", "<M: SafeValue>()"), None);
        assert_eq!(
            forbidden("M", "<M: SafeValue>() where M: std::fmt::Debug"),
            None
        );
        assert_eq!(forbidden("impl SafeValue + Display", "()"), None);
        assert_eq!(
            forbidden("impl SafeValue + AsRef<str>", "()").as_deref(),
            Some("str")
        );
        assert_eq!(forbidden("T", "<T: AsRef<U>, U: Copy>()"), None);
    }

    fn nameable(ty: &str, generics: &str) -> Option<String> {
        let ty: syn::Type = syn::parse_str(ty).unwrap();
        let item: syn::ItemFn = syn::parse_str(&format!("fn f{generics} {{}}")).unwrap();
        nameable_outside(&ty, &item.sig.generics).map(|t| quote::quote!(#t).to_string())
    }

    #[test]
    fn only_types_visible_from_a_nested_item_are_nameable() {
        assert_eq!(nameable("&'a Mode", "()").as_deref(), Some("Mode"));
        assert_eq!(
            nameable("Option<Cfg<'a>>", "()").as_deref(),
            Some("Option < Cfg < 'static > >")
        );
        assert_eq!(nameable("T", "()"), None);
        assert_eq!(nameable("Mode", "<Mode: Copy>()"), None);
        assert_eq!(nameable("impl SafeValue", "()"), None);
        assert_eq!(nameable("Option<Self>", "()"), None);
        assert_eq!(nameable("<Self as Tr>::Kind", "()"), None);
    }
}
