//! Reading OTLP requests back with the official definitions, shared by the OTLP tests
//! (`delivery_otlp.rs`, `reports_sinks.rs`): attributes as a map, and the value each
//! attribute kind must become (the mapping table in docs/delivery.md).
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value::Value};
use telemetry::AttrValue;

/// The attributes of one record or point by key; a key twice fails the test.
pub fn attrs(list: &[KeyValue]) -> BTreeMap<String, Value> {
    let map: BTreeMap<String, Value> = list
        .iter()
        .map(|kv| {
            let value = kv.value.as_ref().and_then(|v| v.value.clone());
            (kv.key.clone(), value.expect("every attribute has a value"))
        })
        .collect();
    assert_eq!(map.len(), list.len(), "a key twice in {list:?}");
    map
}

/// A string value.
pub fn s(text: &str) -> Value {
    Value::StringValue(text.to_owned())
}

/// What an attribute value must be sent as: an integer past `i64` as its decimal text.
pub fn expected_value(value: &AttrValue) -> Value {
    match value {
        AttrValue::Bool(b) => Value::BoolValue(*b),
        AttrValue::Int(i) => Value::IntValue(*i),
        AttrValue::UInt(u) => match i64::try_from(*u) {
            Ok(i) => Value::IntValue(i),
            Err(_) => s(&u.to_string()),
        },
        AttrValue::Float(f) => Value::DoubleValue(*f),
        AttrValue::Str(text) => s(text.as_str()),
        other => panic!("an attribute type this test does not know: {other:?}"),
    }
}
