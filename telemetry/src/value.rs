//! `AttrValue`: an attribute's value, and the only ways to make one.

use std::borrow::Cow;

/// An attribute value. Written as a plain JSON value (`"x"`, `4`, `true`, `0.5`; see
/// [`Event::to_json`](crate::Event::to_json)).
///
/// An `AttrValue` can be made from a `bool` or a number, and by this crate (a literal of
/// `#[track(attrs(..))]`, a `SafeValue`'s value, a `Hashed` digest). There is
/// deliberately no `From<&str>`, no `From<String>` and no public `Deserialize`, and the
/// [`Str`] variant holds a [`Text`], which cannot be made or changed outside this
/// crate: a value that reaches an event can never be text read at run time (a path, an
/// argument, a user name).
///
/// [`Str`]: AttrValue::Str
///
/// ```
/// use telemetry::AttrValue;
/// assert_eq!(AttrValue::from(true), AttrValue::Bool(true));
/// assert_eq!(AttrValue::from(-3).kind(), "int");
/// let event = telemetry::Event::example();
/// assert_eq!(event.attr("jobs").and_then(AttrValue::as_str), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AttrValue {
    /// `true` / `false`.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer too large for `i64`.
    UInt(u64),
    /// A floating point number (non-finite values are written as `null` in the JSON
    /// of events and reports; OTLP/JSON spells them `"NaN"`, `"Infinity"`, `"-Infinity"`).
    Float(f64),
    /// A string: a literal, a `SafeValue` enum variant name, or a `Hashed` digest.
    /// Read it with [`as_str`](AttrValue::as_str) (or [`Text::as_str`]); made only by
    /// this crate: a [`Text`] has no public constructor.
    Str(Text),
}

impl AttrValue {
    /// The kind of value, as shown by `telemetry schema`.
    ///
    /// ```
    /// assert_eq!(telemetry::AttrValue::from(1.5).kind(), "float");
    /// ```
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Bool(_) => "bool",
            Self::Int(_) | Self::UInt(_) => "int",
            Self::Float(_) => "float",
            Self::Str(_) => "string",
        }
    }

    /// The string, for a string value.
    ///
    /// ```
    /// #[derive(telemetry::SafeValue)]
    /// enum Shell { Zsh }
    ///
    /// use telemetry::SafeValue as _;
    /// assert_eq!(Shell::Zsh.to_attr_value().unwrap().as_str(), Some("zsh"));
    /// assert_eq!(telemetry::AttrValue::from(1).as_str(), None);
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// A string this crate made (a `Hashed` digest, a value read back from the spool).
    pub(crate) fn owned_str(s: String) -> Self {
        Self::Str(Text(Cow::Owned(s)))
    }

    /// Whether this is a string made at run time: on the hot path only a `Hashed`
    /// digest is (literals and variant names are fixed in the source).
    #[cfg(feature = "reports")]
    pub(crate) fn is_run_time_str(&self) -> bool {
        matches!(self, Self::Str(Text(Cow::Owned(_))))
    }

    /// A string fixed in the source: a literal attribute or an enum variant's name
    /// (made by `#[track]` and `#[derive(SafeValue)]` through `__private`).
    pub(crate) const fn literal(s: &'static str) -> Self {
        Self::Str(Text(Cow::Borrowed(s)))
    }
}

impl From<bool> for AttrValue {
    #[inline]
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

macro_rules! from_signed {
    ($($t:ty),*) => {$(
        impl From<$t> for AttrValue {
            #[inline]
            fn from(v: $t) -> Self {
                Self::Int(i64::from(v))
            }
        }
    )*};
}
from_signed!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for AttrValue {
    #[inline]
    fn from(v: u64) -> Self {
        i64::try_from(v).map_or(Self::UInt(v), Self::Int)
    }
}

impl From<usize> for AttrValue {
    #[inline]
    fn from(v: usize) -> Self {
        Self::from(v as u64)
    }
}

impl From<isize> for AttrValue {
    #[inline]
    fn from(v: isize) -> Self {
        Self::Int(v as i64)
    }
}

impl From<i128> for AttrValue {
    #[inline]
    fn from(v: i128) -> Self {
        i64::try_from(v).map_or_else(
            |_| u64::try_from(v).map_or(Self::Float(v as f64), Self::UInt),
            Self::Int,
        )
    }
}

impl From<u128> for AttrValue {
    #[inline]
    fn from(v: u128) -> Self {
        u64::try_from(v).map_or(Self::Float(v as f64), Self::from)
    }
}

impl From<f32> for AttrValue {
    #[inline]
    fn from(v: f32) -> Self {
        Self::Float(f64::from(v))
    }
}

impl From<f64> for AttrValue {
    #[inline]
    fn from(v: f64) -> Self {
        Self::Float(v)
    }
}

/// The text of a string [`AttrValue`]: readable, never writable from outside this crate
/// (its content is private and it has no constructor), so a value a sink reads cannot
/// be turned into one carrying other text.
///
/// ```
/// #[derive(telemetry::SafeValue)]
/// enum Mode { Fast }
///
/// use telemetry::SafeValue as _;
/// if let Some(telemetry::AttrValue::Str(text)) = Mode::Fast.to_attr_value() {
///     assert_eq!(text.as_str(), "fast");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Text(pub(crate) Cow<'static, str>);

impl Text {
    /// The text.
    ///
    /// ```
    /// # #[derive(telemetry::SafeValue)] enum Mode { Fast }
    /// # use telemetry::SafeValue as _;
    /// # let value = Mode::Fast.to_attr_value().unwrap();
    /// assert_eq!(value.as_str(), Some("fast"));
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&AttrValue> for crate::util::json::Json {
    fn from(value: &AttrValue) -> Self {
        match value {
            AttrValue::Bool(b) => Self::Bool(*b),
            AttrValue::Int(n) => Self::from(*n),
            AttrValue::UInt(n) => Self::UInt(*n),
            AttrValue::Float(f) => Self::Float(*f),
            AttrValue::Str(s) => Self::from(s.as_str()),
        }
    }
}

/// `value` as `serde_json` holds it, for tests that check this crate's JSON with an
/// independent reader.
#[cfg(test)]
pub(crate) fn to_serde(value: &AttrValue) -> serde_json::Value {
    match value {
        AttrValue::Bool(b) => (*b).into(),
        AttrValue::Int(n) => (*n).into(),
        AttrValue::UInt(n) => (*n).into(),
        AttrValue::Float(f) => (*f).into(),
        AttrValue::Str(s) => s.as_str().into(),
    }
}

/// Attribute values read back from this crate's own files (the spool, report files):
/// a map of JSON values checked against the rules a value is made under (a key
/// snake_case, a string a short printable value). Private on purpose: no public API
/// makes an `AttrValue` out of text.
#[cfg(any(feature = "spool", feature = "reports"))]
pub(crate) mod stored {
    use std::collections::BTreeMap;

    use super::AttrValue;
    use crate::naming;
    use crate::util::json::Json;

    /// The attributes of a JSON object as this crate writes them, or which rule one of
    /// them breaks (`"attributes"` for anything but an object).
    pub(crate) fn checked(attrs: &Json) -> Result<BTreeMap<String, AttrValue>, &'static str> {
        let members = attrs.as_object().ok_or("attributes")?;
        let mut out = BTreeMap::new();
        for (key, value) in members {
            if !naming::is_valid_attr_key(key) {
                return Err("attribute key");
            }
            let value = match value {
                Json::Bool(b) => AttrValue::Bool(*b),
                Json::Int(i) => AttrValue::Int(*i),
                Json::UInt(u) => i64::try_from(*u).map_or(AttrValue::UInt(*u), AttrValue::Int),
                Json::Float(f) => AttrValue::Float(*f),
                // This crate writes only finite floats as numbers.
                Json::Number(_) => AttrValue::Float(value.as_f64().ok_or("attribute value")?),
                // A float that is not finite is written as `null`.
                Json::Null => AttrValue::Float(f64::NAN),
                Json::Str(s) if naming::is_valid_str_value(s) => AttrValue::owned_str(s.clone()),
                Json::Str(_) | Json::Array(_) | Json::Object(_) => {
                    return Err("attribute value");
                }
            };
            out.insert(key.clone(), value);
        }
        Ok(out)
    }
}
