//! `opentelemetry.proto.common.v1` (`AnyValue`, `KeyValue`, `InstrumentationScope`)
//! and `opentelemetry.proto.resource.v1` (`Resource`).

use std::borrow::Cow;

use super::{Message, double_json, empty_array, int64_json, nested, repeated};
use crate::util::json::{Json, ObjectBuilder};
use crate::util::protobuf::{Scalar, Writer};
use crate::value::AttrValue;

/// `AnyValue`: the `value` oneof, in the four kinds this crate writes (no arrays,
/// key-value lists or bytes).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AnyValue<'a> {
    /// `string_value = 1`.
    String(Cow<'a, str>),
    /// `bool_value = 2`.
    Bool(bool),
    /// `int_value = 3` (`int64`).
    Int(i64),
    /// `double_value = 4`.
    Double(f64),
}

impl<'a> AnyValue<'a> {
    /// An event or report attribute: OTLP has no unsigned integer, so a `u64` above
    /// `i64::MAX` goes as its decimal text rather than wrapped to a negative number.
    pub(crate) fn from_attr(value: &'a AttrValue) -> Self {
        match value {
            AttrValue::Bool(b) => Self::Bool(*b),
            AttrValue::Int(i) => Self::Int(*i),
            AttrValue::UInt(u) => match i64::try_from(*u) {
                Ok(i) => Self::Int(i),
                Err(_) => Self::String(Cow::Owned(u.to_string())),
            },
            AttrValue::Float(f) => Self::Double(*f),
            AttrValue::Str(s) => Self::String(Cow::Borrowed(s.as_str())),
        }
    }

    pub(crate) fn str(text: &'a str) -> Self {
        Self::String(Cow::Borrowed(text))
    }
}

impl Message for AnyValue<'_> {
    fn write_fields(&self, out: &mut Writer) {
        // Members of a oneof: written even at their default (`false`, 0, ""), since
        // which member is set is information.
        match self {
            Self::String(s) => out.set_field(1, Scalar::Str(s)),
            Self::Bool(b) => out.set_field(2, Scalar::Bool(*b)),
            Self::Int(i) => out.set_field(3, Scalar::Int64(*i)),
            Self::Double(f) => out.set_field(4, Scalar::Double(*f)),
        }
    }

    fn to_json(&self) -> Json {
        let object = ObjectBuilder::new();
        match self {
            Self::String(s) => object.field("stringValue", &**s),
            Self::Bool(b) => object.field("boolValue", *b),
            Self::Int(i) => object.field("intValue", int64_json(i)),
            // A NaN or an infinity as proto3's JSON spells it (`"NaN"`, `"Infinity"`).
            Self::Double(f) => object.field("doubleValue", double_json(*f)),
        }
        .build()
    }
}

/// `KeyValue`: `key = 1`, `value = 2` (no `key_strindex`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KeyValue<'a> {
    pub(crate) key: Cow<'a, str>,
    pub(crate) value: AnyValue<'a>,
}

impl<'a> KeyValue<'a> {
    pub(crate) fn new(key: impl Into<Cow<'a, str>>, value: AnyValue<'a>) -> Self {
        Self {
            key: key.into(),
            value,
        }
    }
}

impl Message for KeyValue<'_> {
    fn write_fields(&self, out: &mut Writer) {
        out.field(1, Scalar::Str(&self.key));
        nested(out, 2, &self.value);
    }

    fn to_json(&self) -> Json {
        ObjectBuilder::new()
            .field("key", &*self.key)
            .field("value", self.value.to_json())
            .build()
    }
}

/// `InstrumentationScope`: `name = 1`, `version = 2` (no attributes).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InstrumentationScope<'a> {
    pub(crate) name: &'a str,
    pub(crate) version: &'a str,
}

impl InstrumentationScope<'static> {
    /// This crate, as the scope of everything it sends.
    pub(crate) const TELEMETRY: Self = Self {
        name: "telemetry",
        version: env!("CARGO_PKG_VERSION"),
    };
}

impl Message for InstrumentationScope<'_> {
    fn write_fields(&self, out: &mut Writer) {
        out.field(1, Scalar::Str(self.name));
        out.field(2, Scalar::Str(self.version));
    }

    fn to_json(&self) -> Json {
        ObjectBuilder::new()
            .field("name", self.name)
            .field("version", self.version)
            .field("attributes", empty_array())
            .field("droppedAttributesCount", 0_u64)
            .build()
    }
}

/// `Resource`: `attributes = 1` (no dropped count, no entity references).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Resource<'a> {
    pub(crate) attributes: Vec<KeyValue<'a>>,
}

impl Message for Resource<'_> {
    fn write_fields(&self, out: &mut Writer) {
        repeated(out, 1, &self.attributes);
    }

    fn to_json(&self) -> Json {
        ObjectBuilder::new()
            .field("attributes", super::json_array(&self.attributes))
            .field("droppedAttributesCount", 0_u64)
            .field("entityRefs", empty_array())
            .build()
    }
}
