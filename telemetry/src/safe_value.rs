//! `SafeValue`: the types whose values cannot carry free text.
//! (Completed with the macro: implementations, the derive, the diagnostic.)

use crate::event::AttrValue;

/// A type whose values are safe to send: they cannot hold free text.
///
/// ```
/// use telemetry::SafeValue;
/// assert_eq!(true.to_attr_value(), telemetry::AttrValue::Bool(true));
/// ```
pub trait SafeValue {
    /// The kind shown in the catalog: `bool`, `int`, `float`, `string` or `hashed`.
    const KIND: &'static str;
    /// The value as it is sent.
    fn to_attr_value(&self) -> AttrValue;
}

impl SafeValue for bool {
    const KIND: &'static str = "bool";
    fn to_attr_value(&self) -> AttrValue {
        AttrValue::Bool(*self)
    }
}
