//! `SafeValue` is sealed: a hand-written impl does not compile, whatever `KIND` it claims.
use telemetry::{AttrValue, SafeValue};

struct UserName(String);

impl SafeValue for UserName {
    const KIND: &'static str = "bool";
    fn to_attr_value(&self) -> Option<AttrValue> {
        Some(AttrValue::from(&*self.0.clone().leak()))
    }
}

fn main() {}
