//! The event catalog: every event a tool can send, known at link time.
//!
//! Each `#[track]` site emits one `static EventSpec`, registered with a `linkme`
//! distributed slice (the linker gathers them, there is no start-up code), so
//! [`events()`] lists every tracked function of the binary, called or not — what
//! `telemetry schema` prints — and [`validate()`] checks that one event name always
//! carries the same attributes.
//!
//! On targets `linkme` does not support (for example wasm), the catalog is empty and
//! tracking works as usual.
//!
//! Why `linkme` is sound in crates with `#![forbid(unsafe_code)]`: the `#[link_section]`
//! statics and `unsafe` blocks it needs are written by `linkme`'s own macros and by the
//! declaration macro in this crate, and rustc does not report `unsafe_code` for code
//! expanded from another crate's macros — so neither this crate nor a user crate that
//! forbids `unsafe_code` has to allow it. The pass cases of `ui-tests` compile tracked
//! functions under `#![forbid(unsafe_code)]` to keep it that way.

use std::collections::BTreeMap;
use std::fmt;

use std::borrow::Cow;

use crate::naming;
use crate::util::json::{Json, ObjectBuilder};
use crate::value::{AttrValue, Text};

/// The compile-time description of one `#[track]` site.
///
/// Built by the macro with [`EventSpec::new`], a `const fn` that checks every rule the
/// macro checks (event name, keys, string values), so a `static` spec built by hand
/// with a name, a key or a value the macro would reject does not compile either. Read
/// by the recording path (name and literal attrs) and by `telemetry schema`
/// (serialised as `{"name", "module_path", "attrs": {key: value}, "captures": {key:
/// kind}, "values": {key: [value, ..]}, "error_kinds": null | [value, ..]}`, `values`
/// listing the captures that can take only a closed set of values (enums), and
/// `error_kinds` the values of a classifier's enum (see [`EventSpec::error_kinds`])).
///
/// ```
/// use telemetry::AttrValue;
/// use telemetry::catalog::{CaptureSpec, EventSpec};
///
/// static SPEC: EventSpec = EventSpec::new(
///     "cmd.build",
///     &[("level", AttrValue::Int(3))],
///     &[CaptureSpec::new("jobs", "int")],
///     module_path!(),
/// );
/// assert_eq!(SPEC.name(), "cmd.build");
/// assert_eq!(SPEC.keys().collect::<Vec<_>>(), [("jobs", "int"), ("level", "int")]);
/// let json: serde_json::Value = serde_json::from_str(&SPEC.to_json()).unwrap();
/// assert_eq!(json["attrs"]["level"], 3);
/// assert_eq!(json["captures"]["jobs"], "int");
/// ```
///
/// A name the macro would reject is a compile error in a `static` or a `const`:
///
/// ```compile_fail
/// # use telemetry::catalog::EventSpec;
/// static SPEC: EventSpec = EventSpec::new("/home/alice/x", &[], &[], module_path!());
/// ```
#[derive(Debug)]
pub struct EventSpec {
    /// The event name (lowercase dotted).
    pub(crate) name: &'static str,
    /// The literal attributes from `attrs(key = literal, ..)`.
    pub(crate) attrs: &'static [(&'static str, AttrValue)],
    /// The captured parameters from `capture(..)` and the kind of their values.
    pub(crate) captures: &'static [CaptureSpec],
    /// `module_path!()` of the tracked function.
    pub(crate) module_path: &'static str,
    /// The values `error_kind` can take, when the site classifies its errors
    /// (`error = classify`).
    pub(crate) error_kinds: Option<&'static [&'static str]>,
}

impl EventSpec {
    /// The spec of one site, checked: the name is lowercase dotted words
    /// (`[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*`, at most 64 bytes); every key of `attrs`
    /// and `captures` is snake_case (`[a-z][a-z0-9_]*`, at most 64 bytes) and appears
    /// once across both; every string value is at most 128 bytes without control or
    /// bidirectional-override characters; every float value is finite; the module path
    /// is `::`-separated identifiers, as `module_path!()` gives.
    ///
    /// ```
    /// # use telemetry::catalog::{CaptureSpec, EventSpec};
    /// const SPEC: EventSpec = EventSpec::new("cmd.run", &[], &[CaptureSpec::new("dry", "bool")], "m");
    /// assert_eq!(SPEC.captures()[0].key(), "dry");
    /// ```
    ///
    /// # Panics
    ///
    /// When a rule is broken, with a message naming it: in a `static` or a `const`
    /// that is a compile error, which is where specs are built.
    pub const fn new(
        name: &'static str,
        attrs: &'static [(&'static str, AttrValue)],
        captures: &'static [CaptureSpec],
        module_path: &'static str,
    ) -> Self {
        if !naming::is_valid_event_name(name) {
            panic!(
                "telemetry: an event name must be lowercase dotted words \
                 (`[a-z][a-z0-9_]*(.[a-z][a-z0-9_]*)*`) of at most 64 bytes, e.g. `cmd.build`"
            );
        }
        if !naming::is_valid_module_path(module_path) {
            panic!(
                "telemetry: the module path is what `module_path!()` gives: identifiers \
                 separated by `::`"
            );
        }
        let mut i = 0;
        while i < attrs.len() {
            let (key, value) = &attrs[i];
            check_key(key);
            match value {
                AttrValue::Str(Text(Cow::Borrowed(s))) => check_str_value(s),
                AttrValue::Str(Text(Cow::Owned(s))) => check_str_value(s.as_str()),
                AttrValue::Float(f) if !f.is_finite() => {
                    panic!("telemetry: a float attribute value must be finite")
                }
                _ => {}
            }
            let mut j = 0;
            while j < i {
                if naming::str_eq(attrs[j].0, key) {
                    duplicate_key();
                }
                j += 1;
            }
            i += 1;
        }
        let mut i = 0;
        while i < captures.len() {
            let key = captures[i].key;
            let mut j = 0;
            while j < attrs.len() {
                if naming::str_eq(attrs[j].0, key) {
                    duplicate_key();
                }
                j += 1;
            }
            let mut j = 0;
            while j < i {
                if naming::str_eq(captures[j].key, key) {
                    duplicate_key();
                }
                j += 1;
            }
            i += 1;
        }
        Self {
            name,
            attrs,
            captures,
            module_path,
            error_kinds: None,
        }
    }

    /// The same spec, for a site that classifies its errors (`#[track(..,
    /// error = classify)]`): `error_kind` is then one of `kinds` (the values of the
    /// classifier's enum) or absent. Checked like enum values: each 1 to 64 bytes of
    /// `a-z`, `0-9`, `_`, `-`, `.`, starting with a letter or digit, listed once.
    ///
    /// ```
    /// # use telemetry::catalog::EventSpec;
    /// static SPEC: EventSpec =
    ///     EventSpec::new("cmd.fetch", &[], &[], "m").with_error_kinds(&["network", "disk"]);
    /// assert_eq!(SPEC.error_kinds(), Some(&["network", "disk"][..]));
    /// ```
    ///
    /// # Panics
    ///
    /// When a rule is broken: in a `static` or a `const`, a compile error.
    pub const fn with_error_kinds(self, kinds: &'static [&'static str]) -> Self {
        check_values(kinds);
        Self {
            error_kinds: Some(kinds),
            ..self
        }
    }

    /// The event name.
    ///
    /// ```
    /// # use telemetry::catalog::EventSpec;
    /// assert_eq!(EventSpec::new("cmd.run", &[], &[], "m").name(), "cmd.run");
    /// ```
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The literal attributes, `attrs(key = literal, ..)`, in the order written.
    ///
    /// ```
    /// # use telemetry::{AttrValue, catalog::EventSpec};
    /// static SPEC: EventSpec = EventSpec::new("cmd.run", &[("n", AttrValue::Int(1))], &[], "m");
    /// assert_eq!(SPEC.attrs(), &[("n", AttrValue::Int(1))]);
    /// ```
    pub const fn attrs(&self) -> &'static [(&'static str, AttrValue)] {
        self.attrs
    }

    /// The captured parameters, `capture(..)`, in the order written.
    ///
    /// ```
    /// # use telemetry::catalog::{CaptureSpec, EventSpec};
    /// static SPEC: EventSpec = EventSpec::new("cmd.run", &[], &[CaptureSpec::new("jobs", "int")], "m");
    /// assert_eq!(SPEC.captures(), &[CaptureSpec::new("jobs", "int")]);
    /// ```
    pub const fn captures(&self) -> &'static [CaptureSpec] {
        self.captures
    }

    /// `module_path!()` of the tracked function.
    ///
    /// ```
    /// # use telemetry::catalog::EventSpec;
    /// assert_eq!(EventSpec::new("cmd.run", &[], &[], module_path!()).module_path(), module_path!());
    /// ```
    pub const fn module_path(&self) -> &'static str {
        self.module_path
    }

    /// The values `error_kind` can take when the site classifies its errors (`error =
    /// classify`: its enum's values); `None` otherwise, where `error_kind` is the
    /// error type's name, or for an `io::Error` (and, with the features `anyhow` and
    /// `eyre`, an error caused by one) its kind, one of
    /// [`IoErrorKind`](crate::classify::IoErrorKind)'s values.
    ///
    /// ```
    /// #[derive(telemetry::SafeValue)]
    /// enum Failure { Network, Disk }
    ///
    /// fn classify(_: &std::io::Error) -> Failure { Failure::Disk }
    ///
    /// #[telemetry::track("docs.error_kinds_example", error = classify)]
    /// fn fetch() -> std::io::Result<()> { Ok(()) }
    /// # fetch().unwrap(); let _ = Failure::Network;
    ///
    /// let spec = telemetry::catalog::events()
    ///     .into_iter()
    ///     .find(|s| s.name() == "docs.error_kinds_example")
    ///     .unwrap();
    /// assert_eq!(spec.error_kinds(), Some(&["network", "disk"][..]));
    /// ```
    pub const fn error_kinds(&self) -> Option<&'static [&'static str]> {
        self.error_kinds
    }

    /// Every attribute key this event carries with its value kind (`bool`, `int`,
    /// `float`, `string`, `hashed`, or `any` for a capture of a generic type), sorted by
    /// key.
    ///
    /// ```
    /// # use telemetry::catalog::{CaptureSpec, EventSpec};
    /// static SPEC: EventSpec = EventSpec::new("a", &[], &[CaptureSpec::new("dry", "bool")], "m");
    /// assert_eq!(SPEC.keys().collect::<Vec<_>>(), [("dry", "bool")]);
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = (&'static str, &'static str)> + use<> {
        let mut keys: Vec<_> = self
            .attrs
            .iter()
            .map(|(k, v)| (*k, v.kind()))
            .chain(self.captures.iter().map(|c| (c.key, c.kind)))
            .collect();
        keys.sort_unstable();
        keys.into_iter()
    }
}

const fn check_key(key: &str) {
    if !naming::is_valid_attr_key(key) {
        panic!(
            "telemetry: an attribute key must be snake_case (`[a-z][a-z0-9_]*`) of at most \
             64 bytes, e.g. `dry_run`"
        );
    }
}

const fn check_str_value(value: &str) {
    if !naming::is_valid_str_value(value) {
        panic!(
            "telemetry: a string attribute value must be at most 128 bytes, without control \
             characters (C0, DEL, C1) or bidirectional controls (U+061C, U+200E, U+200F, \
             U+202A-U+202E, U+2066-U+2069)"
        );
    }
}

/// The values of an enum (a capture's, or a classifier's error kinds): each follows the
/// rule of `#[derive(SafeValue)]` values, and appears once.
const fn check_values(values: &[&str]) {
    let mut i = 0;
    while i < values.len() {
        if !naming::is_valid_variant_value(values[i]) {
            panic!(
                "telemetry: an enum value is 1 to 64 bytes of `a-z`, `0-9`, `_`, `-` and `.`, \
                 starting with a letter or digit"
            );
        }
        let mut j = 0;
        while j < i {
            if naming::str_eq(values[j], values[i]) {
                panic!("telemetry: each value of an enum is listed once");
            }
            j += 1;
        }
        i += 1;
    }
}

const fn duplicate_key() -> ! {
    panic!("telemetry: each attribute key may appear once across `attrs` and `captures`")
}

impl EventSpec {
    /// This entry as `telemetry schema` prints it: `name`, `module_path`, `attrs`
    /// (`{key: literal}`), `captures` (`{key: kind}`), `values` (`{key: [values]}`,
    /// for the captures with a closed set), `error_kinds` (a list, or `null`).
    ///
    /// ```
    /// #[telemetry::track("docs.spec_json", attrs(answer = 42))]
    /// fn example() {}
    /// # example();
    /// let spec = telemetry::catalog::events().into_iter().find(|s| s.name() == "docs.spec_json").unwrap();
    /// assert!(spec.to_json().starts_with(r#"{"name":"docs.spec_json","module_path":"#));
    /// assert!(spec.to_json().ends_with(r#","attrs":{"answer":42},"captures":{},"values":{},"error_kinds":null}"#));
    /// ```
    pub fn to_json(&self) -> String {
        self.to_document().to_string_compact()
    }

    pub(crate) fn to_document(&self) -> Json {
        let strings = |list: &[&str]| Json::Array(list.iter().map(|&s| Json::from(s)).collect());
        let map = |members: Vec<(&str, Json)>| {
            Json::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
            )
        };
        ObjectBuilder::new()
            .field("name", self.name)
            .field("module_path", self.module_path)
            .field(
                "attrs",
                map(self
                    .attrs
                    .iter()
                    .map(|(k, v)| (*k, Json::from(v)))
                    .collect()),
            )
            .field(
                "captures",
                map(self
                    .captures
                    .iter()
                    .map(|c| (c.key, Json::from(c.kind)))
                    .collect()),
            )
            .field(
                "values",
                map(self
                    .captures
                    .iter()
                    .filter(|c| !c.values.is_empty())
                    .map(|c| (c.key, strings(c.values)))
                    .collect()),
            )
            .field(
                "error_kinds",
                self.error_kinds.map(strings).unwrap_or(Json::Null),
            )
            .build()
    }
}

/// One captured parameter of a [`EventSpec`], built with [`CaptureSpec::new`].
///
/// ```
/// let c = telemetry::catalog::CaptureSpec::new("jobs", "int");
/// assert_eq!((c.key(), c.kind()), ("jobs", "int"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureSpec {
    /// The attribute key (the parameter's name).
    pub(crate) key: &'static str,
    /// The kind of value.
    pub(crate) kind: &'static str,
    /// Every value it can take, when that is a closed set (an enum); else empty.
    pub(crate) values: &'static [&'static str],
}

/// A default attribute's declaration (`attrs!`), made at run time: the key was checked
/// in const evaluation; a kind this crate does not know (only a hand-made `SafeValue`
/// could have one) is listed as `any` rather than a panic. A free function, not an
/// associated one: rustc's "use an associated function" hint for a struct literal
/// must name only `CaptureSpec::new`, which a user can call.
pub(crate) fn declared_capture(key: &'static str, kind: &'static str) -> CaptureSpec {
    let kind = KINDS
        .iter()
        .copied()
        .find(|known| *known == kind)
        .unwrap_or(ANY_KIND);
    CaptureSpec {
        key,
        kind,
        values: &[],
    }
}

impl CaptureSpec {
    /// A captured parameter, checked: the key is snake_case (`[a-z][a-z0-9_]*`, at most
    /// 64 bytes) and the kind one of `bool`, `int`, `float`, `string`, `hashed` and
    /// `any`. `#[track]` passes `<T as SafeValue>::KIND`, so the kind in the catalog is
    /// always the one derived from the parameter's type.
    ///
    /// ```compile_fail
    /// const C: telemetry::catalog::CaptureSpec =
    ///     telemetry::catalog::CaptureSpec::new("Home Dir", "string");
    /// # let _ = C;
    /// ```
    ///
    /// # Panics
    ///
    /// When a rule is broken: in a `static` or a `const`, a compile error.
    pub const fn new(key: &'static str, kind: &'static str) -> Self {
        check_key(key);
        let mut known = false;
        let mut i = 0;
        while i < KINDS.len() {
            known |= naming::str_eq(KINDS[i], kind);
            i += 1;
        }
        if !known {
            panic!(
                "telemetry: a capture's kind is one of `bool`, `int`, `float`, `string`, \
                 `hashed` and `any`"
            );
        }
        Self {
            key,
            kind,
            values: &[],
        }
    }

    /// The same capture, listing every value it can take: `#[track]` passes
    /// `<T as SafeValue>::VALUES`, the variants of a `#[derive(SafeValue)]` enum as
    /// they are sent. Checked: only a `string` capture has values, each follows the rule
    /// of enum values (1 to 64 bytes of `a-z`, `0-9`, `_`, `-`, `.`, starting with a
    /// letter or digit) and appears once. An empty list changes nothing.
    ///
    /// ```
    /// use telemetry::catalog::CaptureSpec;
    /// const SHELL: CaptureSpec = CaptureSpec::new("shell", "string").with_values(&["bash", "zsh"]);
    /// assert_eq!(SHELL.values(), ["bash", "zsh"]);
    /// ```
    ///
    /// ```compile_fail
    /// # use telemetry::catalog::CaptureSpec;
    /// const JOBS: CaptureSpec = CaptureSpec::new("jobs", "int").with_values(&["four"]);
    /// # let _ = JOBS;
    /// ```
    ///
    /// # Panics
    ///
    /// When a rule is broken: in a `static` or a `const`, a compile error.
    pub const fn with_values(self, values: &'static [&'static str]) -> Self {
        if values.is_empty() {
            return self;
        }
        if !naming::str_eq(self.kind, "string") {
            panic!("telemetry: only a capture of kind `string` (an enum) lists its values");
        }
        check_values(values);
        Self { values, ..self }
    }

    /// The attribute key (the parameter's name).
    ///
    /// ```
    /// assert_eq!(telemetry::catalog::CaptureSpec::new("jobs", "int").key(), "jobs");
    /// ```
    pub const fn key(&self) -> &'static str {
        self.key
    }

    /// The kind of value: `bool`, `int`, `float`, `string` (enum variant), `hashed`, or
    /// `any` when the parameter's type is generic (known only per instantiation).
    ///
    /// ```
    /// assert_eq!(telemetry::catalog::CaptureSpec::new("jobs", "int").kind(), "int");
    /// ```
    pub const fn kind(&self) -> &'static str {
        self.kind
    }

    /// Every value the capture can take, when that is a closed set fixed in the source
    /// (a `#[derive(SafeValue)]` enum, as it is sent); empty otherwise.
    ///
    /// ```
    /// #[derive(telemetry::SafeValue)]
    /// enum Mode { Debug, Release }
    ///
    /// #[telemetry::track("docs.values_example", capture(mode))]
    /// fn build(mode: Mode) {}
    /// # build(Mode::Debug); let _ = Mode::Release;
    ///
    /// let spec = telemetry::catalog::events()
    ///     .into_iter()
    ///     .find(|s| s.name() == "docs.values_example")
    ///     .unwrap();
    /// assert_eq!(spec.captures()[0].values(), ["debug", "release"]);
    /// ```
    pub const fn values(&self) -> &'static [&'static str] {
        self.values
    }
}

/// Every kind a capture can have.
const KINDS: [&str; 6] = ["bool", "int", "float", "string", "hashed", ANY_KIND];

/// The kind recorded for a capture whose type is generic (known only per
/// instantiation); compatible with every kind in [`validate()`].
///
/// ```
/// assert_eq!(telemetry::catalog::ANY_KIND, "any");
/// ```
pub const ANY_KIND: &str = "any";

/// Every `#[track]` site linked into this binary, sorted by event name (then module
/// path).
///
/// ```
/// #[telemetry::track("docs.catalog_example", attrs(answer = 42), capture(verbose))]
/// fn example(verbose: bool) {}
/// # example(false);
///
/// let spec = telemetry::catalog::events()
///     .into_iter()
///     .find(|s| s.name() == "docs.catalog_example")
///     .unwrap();
/// assert_eq!(spec.module_path(), module_path!());
/// assert_eq!(spec.keys().collect::<Vec<_>>(), [("answer", "int"), ("verbose", "bool")]);
/// ```
pub fn events() -> Vec<&'static EventSpec> {
    let mut specs: Vec<&'static EventSpec> = registered().iter().collect();
    // Unstable: equal keys are sites of one event in one module, whose link order
    // means nothing. A stable sort (driftsort) instantiated per element type is several
    // times the code: with the two in schema.rs, ~0.7 s of every host's clean build.
    specs.sort_unstable_by_key(|s| (s.name, s.module_path));
    specs
}

/// Checks that every event name is tracked with one set of attribute keys and kinds, so
/// that a backend sees one schema per event.
///
/// ```
/// #[telemetry::track("docs.validate_example", capture(jobs))]
/// fn build(jobs: u32) {}
/// # build(1);
///
/// telemetry::catalog::validate()?;
/// # Ok::<(), telemetry::catalog::CatalogError>(())
/// ```
///
/// # Errors
///
/// A [`CatalogError`] listing, for each conflicting name, every site and its keys.
pub fn validate() -> Result<(), CatalogError> {
    check(&events())
}

/// The conflicts among `specs` (sorted by name).
fn check(specs: &[&'static EventSpec]) -> Result<(), CatalogError> {
    let mut by_name: BTreeMap<&str, Vec<&'static EventSpec>> = BTreeMap::new();
    for spec in specs {
        by_name.entry(spec.name).or_default().push(spec);
    }
    let conflicts: Vec<Conflict> = by_name
        .into_iter()
        .filter(|(_, sites)| !all_compatible(sites))
        .map(|(name, sites)| Conflict { name, sites })
        .collect();
    if conflicts.is_empty() {
        Ok(())
    } else {
        Err(CatalogError { conflicts })
    }
}

/// Every pair of sites agrees (pairwise, because `any` is not transitive).
fn all_compatible(sites: &[&EventSpec]) -> bool {
    sites.iter().all(|a| sites.iter().all(|b| compatible(a, b)))
}

/// Same keys, and the same kind for each key (`any` matches every kind).
fn compatible(a: &EventSpec, b: &EventSpec) -> bool {
    let (a, b): (Vec<_>, Vec<_>) = (a.keys().collect(), b.keys().collect());
    a.len() == b.len()
        && a.iter().zip(&b).all(|((ka, kinda), (kb, kindb))| {
            ka == kb && (kinda == kindb || *kinda == ANY_KIND || *kindb == ANY_KIND)
        })
}

/// One event name tracked with different attributes at different sites.
#[derive(Debug, Clone)]
pub struct Conflict {
    /// The event name.
    pub name: &'static str,
    /// Every site tracking it.
    pub sites: Vec<&'static EventSpec>,
}

/// The catalog has event names whose sites disagree on the attributes.
///
/// ```
/// // Displays as, for each conflict:
/// // event `cmd.build` is tracked with different attributes at 2 sites:
/// //   - in mytool::commands: jobs: int, profile: string
/// //   - in mytool::legacy: jobs: int
/// assert!(telemetry::catalog::validate().is_ok());
///
/// // Its diagnostic code is stable:
/// # let err = telemetry::catalog::CatalogError { conflicts: vec![] };
/// use miette::Diagnostic;
/// assert_eq!(err.code().unwrap().to_string(), "telemetry::catalog_conflict");
/// ```
#[derive(Debug, Clone)]
pub struct CatalogError {
    /// Each conflicting event name with its sites.
    pub conflicts: Vec<Conflict>,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, conflict) in self.conflicts.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(
                f,
                "event `{}` is tracked with different attributes at {} sites:",
                conflict.name,
                conflict.sites.len()
            )?;
            for site in &conflict.sites {
                let keys: Vec<String> = site
                    .keys()
                    .map(|(k, kind)| format!("{k}: {kind}"))
                    .collect();
                let keys = if keys.is_empty() {
                    "(no attributes)".to_owned()
                } else {
                    keys.join(", ")
                };
                write!(f, "\n  - in {}: {keys}", site.module_path)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for CatalogError {}

impl miette::Diagnostic for CatalogError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("telemetry::catalog_conflict"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(
            "give every site of one event name the same attributes, or use different names",
        ))
    }
}

// ---- registration -------------------------------------------------------------------
//
// The `cfg` below is `linkme`'s list of supported targets; it is spelled out on each item
// because a `#[macro_export]` macro cannot be produced by another macro.

/// Where the specs are gathered (re-exported for generated code as
/// `__private::EVENT_SPECS`).
#[cfg(telemetry_linkme)]
pub(crate) mod registry {
    use super::EventSpec;

    /// Every `#[track]` site's spec, gathered by the linker.
    #[linkme::distributed_slice]
    pub static EVENT_SPECS: [EventSpec];
}

#[cfg(telemetry_linkme)]
fn registered() -> &'static [EventSpec] {
    &registry::EVENT_SPECS
}

#[cfg(not(telemetry_linkme))]
fn registered() -> &'static [EventSpec] {
    &[]
}

/// Registers one `static EventSpec` in the catalog (used by `#[track]`).
#[cfg(telemetry_linkme)]
#[doc(hidden)]
#[macro_export]
macro_rules! __telemetry_register_event {
    ($($item:tt)*) => {
        #[$crate::__private::linkme::distributed_slice($crate::__private::EVENT_SPECS)]
        #[linkme(crate = $crate::__private::linkme)]
        $($item)*
    };
}

/// Without `linkme` support the spec is only used for recording.
#[cfg(not(telemetry_linkme))]
#[doc(hidden)]
#[macro_export]
macro_rules! __telemetry_register_event {
    ($($item:tt)*) => { $($item)* };
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn spec(
        name: &'static str,
        module_path: &'static str,
        captures: &'static [CaptureSpec],
    ) -> EventSpec {
        EventSpec::new(name, &[], captures, module_path)
    }

    static A: EventSpec = spec("cmd.a", "a", &[CaptureSpec::new("jobs", "int")]);
    static A_SAME: EventSpec = spec("cmd.a", "a2", &[CaptureSpec::new("jobs", "int")]);
    static A_GENERIC: EventSpec = spec("cmd.a", "a3", &[CaptureSpec::new("jobs", "any")]);
    static A_OTHER_KIND: EventSpec = spec("cmd.a", "a4", &[CaptureSpec::new("jobs", "bool")]);
    static A_NO_KEYS: EventSpec = spec("cmd.a", "a5", &[]);
    static B: EventSpec = spec("cmd.b", "b", &[]);

    #[test]
    fn same_keys_under_one_name_are_fine() {
        assert!(check(&[&A, &A_SAME, &A_GENERIC, &B]).is_ok());
    }

    #[test]
    fn different_keys_or_kinds_under_one_name_are_listed() {
        let err = check(&[&A, &A_NO_KEYS, &B]).unwrap_err();
        assert_eq!(err.conflicts.len(), 1);
        assert_eq!(
            err.to_string(),
            "event `cmd.a` is tracked with different attributes at 2 sites:\n  \
             - in a: jobs: int\n  - in a5: (no attributes)"
        );
        assert!(check(&[&A, &A_OTHER_KIND]).is_err());
        // `any` is compatible with both, but they are not with each other.
        assert!(check(&[&A_GENERIC, &A, &A_OTHER_KIND]).is_err());
    }

    /// The checks of `new` at run time (in a `static`, each is a compile error).
    #[test]
    fn new_rejects_what_the_macro_rejects() {
        fn panics(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
            let payload = std::panic::catch_unwind(f).unwrap_err();
            payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default()
        }
        let name = panics(|| {
            EventSpec::new("/home/alice/x", &[], &[], "m");
        });
        assert!(
            name.contains("event name must be lowercase dotted"),
            "{name}"
        );
        let key = panics(|| {
            EventSpec::new("cmd.x", &[("Home Dir", AttrValue::Bool(true))], &[], "m");
        });
        assert!(key.contains("snake_case"), "{key}");
        let capture_key = panics(|| {
            CaptureSpec::new("Home Dir", "int");
        });
        assert!(capture_key.contains("snake_case"), "{capture_key}");
        let kind = panics(|| {
            CaptureSpec::new("jobs", "email");
        });
        assert!(kind.contains("kind is one of"), "{kind}");
        let value = panics(|| {
            let attrs = Box::leak(Box::new([("k", AttrValue::literal("a\u{202e}b"))]));
            EventSpec::new("cmd.x", attrs, &[], "m");
        });
        assert!(value.contains("at most 128 bytes"), "{value}");
        let module = panics(|| {
            EventSpec::new("cmd.x", &[], &[], "/home/alice");
        });
        assert!(module.contains("module_path!()"), "{module}");
        let float = panics(|| {
            EventSpec::new("cmd.x", &[("k", AttrValue::Float(f64::NAN))], &[], "m");
        });
        assert!(float.contains("finite"), "{float}");
        for (attrs, captures) in [
            (
                &[("k", AttrValue::Int(1)), ("k", AttrValue::Int(2))][..],
                &[][..],
            ),
            (
                &[("k", AttrValue::Int(1))][..],
                &[CaptureSpec::new("k", "int")][..],
            ),
            (
                &[][..],
                &[CaptureSpec::new("k", "int"), CaptureSpec::new("k", "bool")][..],
            ),
        ] {
            // Leaked: `new` takes `'static` slices.
            let attrs: &'static [_] = Vec::leak(attrs.to_vec());
            let captures: &'static [_] = Vec::leak(captures.to_vec());
            let dup = panics(move || {
                EventSpec::new("cmd.x", attrs, captures, "m");
            });
            assert!(dup.contains("once"), "{dup}");
        }
        const ATTRS: &[(&str, AttrValue)] =
            &[("a", AttrValue::literal("Ünïcode, 128 bytes at most"))];
        const CAPTURES: &[CaptureSpec] = &[CaptureSpec::new("b", "hashed")];
        let ok = EventSpec::new("cmd.x", ATTRS, CAPTURES, "m");
        assert_eq!(
            ok.keys().collect::<Vec<_>>(),
            [("a", "string"), ("b", "hashed")]
        );
    }
}
