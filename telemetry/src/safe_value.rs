//! `SafeValue`: the types whose values cannot carry free text, and so the only types
//! `#[track(.., capture(param))]` accepts.

use std::num::{
    NonZeroI8, NonZeroI16, NonZeroI32, NonZeroI64, NonZeroI128, NonZeroIsize, NonZeroU8,
    NonZeroU16, NonZeroU32, NonZeroU64, NonZeroU128, NonZeroUsize,
};

use crate::value::AttrValue;

/// A type whose values are safe to send: they cannot hold free text, paths or anything
/// else a user typed. The only types `#[track(.., capture(param))]` accepts.
///
/// Implemented for `bool`, every integer type (and its `NonZero`), `f32`/`f64`,
/// `Option<T>` of a `SafeValue` (`None` leaves the attribute out of the event: an
/// attribute value is never null), references to a `SafeValue` and
/// [`Hashed`](crate::Hashed).
///
/// The trait is sealed: [`#[derive(SafeValue)]`](derive@crate::SafeValue) is the one way
/// to implement it, for
///
/// * a fieldless enum, sent as the variant's name in snake_case (or its
///   `#[safe_value(rename = "..")]`), kind `string`;
/// * a newtype over a `SafeValue` type (`struct Jobs(u16)`, `struct Jobs { n: u16 }`),
///   sent and listed in the catalog exactly as its field.
///
/// The kind shown in the catalog is therefore always derived from the type, never
/// declared. Implementing the hidden supertrait `telemetry::__private::Sealed` by hand
/// is outside the crate's promise: the guard stops accidents and makes a deliberate
/// circumvention conspicuous (it has to name `__private`), but the author of a binary
/// controls what that binary sends.
///
/// ```
/// use telemetry::{AttrValue, SafeValue};
///
/// #[derive(SafeValue)]
/// enum Profile {
///     Debug,
///     ReleaseLto,
///     #[safe_value(rename = "bench")]
///     Benchmark,
/// }
///
/// #[derive(SafeValue)]
/// struct Jobs(u16);
///
/// assert_eq!(true.to_attr_value(), Some(AttrValue::Bool(true)));
/// assert_eq!(Some(4_u16).to_attr_value(), Some(AttrValue::Int(4)));
/// assert_eq!(None::<u16>.to_attr_value(), None);
/// assert_eq!(Profile::ReleaseLto.to_attr_value().as_ref().and_then(telemetry::AttrValue::as_str), Some("release_lto"));
/// assert_eq!(Profile::Benchmark.to_attr_value().as_ref().and_then(telemetry::AttrValue::as_str), Some("bench"));
/// assert_eq!(<Profile as SafeValue>::KIND, "string");
/// assert_eq!(Jobs(8).to_attr_value(), Some(AttrValue::Int(8)));
/// assert_eq!(<Jobs as SafeValue>::KIND, "int");
/// # let _ = Profile::Debug;
/// ```
///
/// A hand-written implementation does not compile:
///
/// ```compile_fail
/// struct UserName(String);
///
/// impl telemetry::SafeValue for UserName {
///     const KIND: &'static str = "bool";
///     fn to_attr_value(&self) -> Option<telemetry::AttrValue> {
///         None
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent in a telemetry event: only values that cannot hold free text may be sent",
    label = "`{Self}` does not implement `telemetry::SafeValue`",
    note = "values sent (`capture(..)`, `record!`, `attrs!`) must be bools, integers, floats, `Option`s of those, `telemetry::Hashed`, or types with `#[derive(telemetry::SafeValue)]`: fieldless enums and newtypes over one of these (`struct Jobs(u16)`)",
    note = "a path, a string or a wrapper around one could carry user names, file names or secrets; map the value to a fieldless enum with `#[derive(telemetry::SafeValue)]`, hash it with `telemetry::Hashed`, or, for a fixed text on a tracked function, use `#[track(.., attrs(key = \"literal\"))]`"
)]
pub trait SafeValue: sealed::SafeValueSealed {
    /// The kind shown in the catalog: `bool`, `int`, `float`, `string` (an enum
    /// variant) or `hashed`.
    const KIND: &'static str;

    /// Every value the type can be sent as, when that is a closed set of words fixed
    /// in the source: a fieldless enum's variants as they are sent, in declaration
    /// order (an `Option`, a reference or a newtype has its inner type's). Empty for
    /// the other kinds. `telemetry schema` lists them.
    ///
    /// ```
    /// use telemetry::SafeValue;
    ///
    /// #[derive(SafeValue)]
    /// enum Shell { Bash, Zsh, #[safe_value(rename = "pwsh")] PowerShell }
    ///
    /// assert_eq!(<Shell as SafeValue>::VALUES, ["bash", "zsh", "pwsh"]);
    /// assert_eq!(<Option<&Shell> as SafeValue>::VALUES, ["bash", "zsh", "pwsh"]);
    /// assert!(<u16 as SafeValue>::VALUES.is_empty());
    /// # let _ = (Shell::Bash, Shell::Zsh, Shell::PowerShell);
    /// ```
    const VALUES: &'static [&'static str] = &[];

    /// The value as it is sent, or `None` to leave the attribute out of the event.
    fn to_attr_value(&self) -> Option<AttrValue>;
}

pub(crate) mod sealed {
    /// The supertrait that keeps [`SafeValue`](super::SafeValue) sealed. Reachable only
    /// as `telemetry::__private::Sealed`, for `#[derive(SafeValue)]`: implementing it by
    /// hand is outside the crate's promise.
    #[diagnostic::on_unimplemented(
        message = "`SafeValue` cannot be implemented by hand for `{Self}`: derive it with `#[derive(telemetry::SafeValue)]`",
        label = "`{Self}` does not derive `SafeValue`",
        note = "`#[derive(SafeValue)]` accepts fieldless enums (sent as the variant name) and newtypes over a `SafeValue` type (`struct Jobs(u16)`); the kind in the catalog is always derived from the type",
        note = "for anything else, send a fixed value with `attrs(key = \"literal\")`, capture the individual bool and number fields, or hash a value with `telemetry::Hashed`"
    )]
    // Not named `Sealed`: rustc would point at every similarly named trait of the
    // dependency graph (`unicode_width::private::Sealed` ..) in the error.
    pub trait SafeValueSealed {}
}

impl sealed::SafeValueSealed for bool {}
impl SafeValue for bool {
    const KIND: &'static str = "bool";
    #[inline]
    fn to_attr_value(&self) -> Option<AttrValue> {
        Some(AttrValue::Bool(*self))
    }
}

macro_rules! numbers {
    ($kind:literal: $($t:ty),*) => {$(
        impl sealed::SafeValueSealed for $t {}
        impl SafeValue for $t {
            const KIND: &'static str = $kind;
            #[inline]
            fn to_attr_value(&self) -> Option<AttrValue> {
                Some(AttrValue::from(*self))
            }
        }
    )*};
}
numbers!("int": i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);
numbers!("float": f32, f64);

macro_rules! non_zero {
    ($($t:ty),*) => {$(
        impl sealed::SafeValueSealed for $t {}
        impl SafeValue for $t {
            const KIND: &'static str = "int";
            #[inline]
            fn to_attr_value(&self) -> Option<AttrValue> {
                Some(AttrValue::from(self.get()))
            }
        }
    )*};
}
non_zero!(
    NonZeroI8,
    NonZeroI16,
    NonZeroI32,
    NonZeroI64,
    NonZeroI128,
    NonZeroIsize,
    NonZeroU8,
    NonZeroU16,
    NonZeroU32,
    NonZeroU64,
    NonZeroU128,
    NonZeroUsize
);

impl<T: SafeValue> sealed::SafeValueSealed for Option<T> {}
impl<T: SafeValue> SafeValue for Option<T> {
    const KIND: &'static str = T::KIND;
    const VALUES: &'static [&'static str] = T::VALUES;
    fn to_attr_value(&self) -> Option<AttrValue> {
        self.as_ref().and_then(T::to_attr_value)
    }
}

impl<T: SafeValue + ?Sized> sealed::SafeValueSealed for &T {}
impl<T: SafeValue + ?Sized> SafeValue for &T {
    const KIND: &'static str = T::KIND;
    const VALUES: &'static [&'static str] = T::VALUES;
    fn to_attr_value(&self) -> Option<AttrValue> {
        (**self).to_attr_value()
    }
}

impl<T: SafeValue + ?Sized> sealed::SafeValueSealed for &mut T {}
impl<T: SafeValue + ?Sized> SafeValue for &mut T {
    const KIND: &'static str = T::KIND;
    const VALUES: &'static [&'static str] = T::VALUES;
    fn to_attr_value(&self) -> Option<AttrValue> {
        (**self).to_attr_value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_value_and_kind() {
        assert_eq!((-3_i8).to_attr_value(), Some(AttrValue::Int(-3)));
        assert_eq!(u64::MAX.to_attr_value(), Some(AttrValue::UInt(u64::MAX)));
        assert_eq!(0.5_f32.to_attr_value(), Some(AttrValue::Float(0.5)));
        assert_eq!(
            NonZeroU16::new(7).unwrap().to_attr_value(),
            Some(AttrValue::Int(7))
        );
        assert_eq!(<u8 as SafeValue>::KIND, "int");
        assert_eq!(<f64 as SafeValue>::KIND, "float");
        assert_eq!(<Option<bool> as SafeValue>::KIND, "bool");
        assert_eq!(<&&u32 as SafeValue>::KIND, "int");
    }

    #[test]
    fn none_leaves_the_attribute_out() {
        assert_eq!(None::<bool>.to_attr_value(), None);
        assert_eq!(
            Some(Some(false)).to_attr_value(),
            Some(AttrValue::Bool(false))
        );
        assert_eq!(Some(None::<u8>).to_attr_value(), None);
    }
}
