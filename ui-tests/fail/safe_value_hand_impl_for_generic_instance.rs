//! A derived generic newtype is `Sealed` only where its field is `SafeValue`, so no
//! hand impl can be added for an instance over a type that is not.
use telemetry::{AttrValue, SafeValue};

#[derive(SafeValue)]
struct Wrapper<T>(T);

struct UserName(String);

impl SafeValue for Wrapper<UserName> {
    const KIND: &'static str = "int";
    fn to_attr_value(&self) -> Option<AttrValue> {
        Some(AttrValue::from(&*self.0.0.clone().leak()))
    }
}

fn main() {}
