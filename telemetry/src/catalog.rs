//! The event catalog: every event a tool can send, known at link time.
//!
//! Each `#[track]` site emits one `static EventSpec`. (Registration through `linkme`,
//! `catalog()` and `validate()` are added with the macro.)

use crate::event::AttrValue;

/// The compile-time description of one `#[track]` site.
///
/// Built by the macro; read by the recording path (name and literal attrs) and by
/// `telemetry schema`.
///
/// ```
/// use telemetry::catalog::EventSpec;
///
/// static SPEC: EventSpec = EventSpec {
///     name: "cmd.build",
///     attrs: &[],
///     captures: &[],
///     module_path: module_path!(),
/// };
/// assert_eq!(SPEC.name, "cmd.build");
/// ```
#[derive(Debug)]
pub struct EventSpec {
    /// The event name (validated lowercase dotted by the macro).
    pub name: &'static str,
    /// The literal attributes from `attrs(key = literal, ..)`.
    pub attrs: &'static [(&'static str, AttrValue)],
    /// The captured parameters from `capture(..)` and the kind of their values.
    pub captures: &'static [CaptureSpec],
    /// `module_path!()` of the tracked function.
    pub module_path: &'static str,
}

/// One captured parameter of a [`EventSpec`].
///
/// ```
/// let c = telemetry::catalog::CaptureSpec { key: "jobs", kind: "int" };
/// assert_eq!(c.kind, "int");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureSpec {
    /// The attribute key (the parameter's name).
    pub key: &'static str,
    /// The kind of value: `bool`, `int`, `float`, `string` (enum variant) or `hashed`.
    pub kind: &'static str,
}
