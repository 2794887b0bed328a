//! Every literal kind in `attrs(..)` (negative, extremes, raw strings, suffixes) and the
//! `crate = path` override for a renamed or re-exported `telemetry`.
#![deny(warnings)]
#![forbid(unsafe_code)]

extern crate telemetry as my_telemetry;

mod vendored {
    pub use ::telemetry as tele;
}

use telemetry::AttrValue;

#[telemetry::track(
    "literals.all",
    attrs(
        text = "release",
        raw = r"r#raw",
        small = -4,
        min = -9223372036854775808,
        max = 18446744073709551615,
        hex = 0x10,
        suffixed = 7u8,
        ratio = 0.25,
        negative_ratio = -1.5e3,
        yes = true,
        no = false,
    )
)]
fn literals() {}

#[telemetry::track("renamed.crate", crate = ::my_telemetry)]
fn renamed() {}

#[telemetry::track("reexported.crate", crate = crate::vendored::tele)]
fn reexported() {}

#[derive(my_telemetry::SafeValue)]
#[safe_value(crate = ::my_telemetry)]
enum Level {
    Low,
}

fn main() {
    literals();
    renamed();
    reexported();
    let _ = Level::Low;
    let spec = telemetry::catalog::events().into_iter().find(|s| s.name() == "literals.all").unwrap();
    let attr = |key: &str| spec.attrs().iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(attr("text").as_str(), Some("release"));
    assert_eq!(attr("raw").as_str(), Some("r#raw"));
    assert_eq!(attr("small"), AttrValue::Int(-4));
    assert_eq!(attr("min"), AttrValue::Int(i64::MIN));
    assert_eq!(attr("max"), AttrValue::UInt(u64::MAX));
    assert_eq!(attr("hex"), AttrValue::Int(16));
    assert_eq!(attr("suffixed"), AttrValue::Int(7));
    assert_eq!(attr("ratio"), AttrValue::Float(0.25));
    assert_eq!(attr("negative_ratio"), AttrValue::Float(-1500.0));
    assert_eq!(attr("yes"), AttrValue::Bool(true));
    assert_eq!(attr("no"), AttrValue::Bool(false));
    assert!(telemetry::catalog::events().iter().any(|s| s.name() == "renamed.crate"));
    assert!(telemetry::catalog::events().iter().any(|s| s.name() == "reexported.crate"));
}
