//! Literal attributes with number suffixes in range, raw strings, and strings up to the
//! limit of 128 bytes (non-ASCII text included); a hand-built `EventSpec` through the
//! checked `const fn new`.
#![deny(warnings)]
#![forbid(unsafe_code)]

use telemetry::AttrValue;
use telemetry::catalog::{CaptureSpec, EventSpec};

#[telemetry::track(
    "literals.suffixed",
    attrs(
        max_u8 = 255u8,
        min_i8 = -128i8,
        hex = 0xFF_u8,
        big = 18446744073709551615u64,
        wide = 5u128,
        size = 7usize,
        single = 1.5f32,
        double = -2f64,
        raw = r#"say "hi""#,
        accents = "é·ñ — ok",
        multibyte_at_limit = "éééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé",
        at_limit = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    )
)]
fn suffixed() {}

const ATTRS: &[(&str, AttrValue)] = &[("level", AttrValue::Int(3))];
static SPEC: EventSpec =
    EventSpec::new("cmd.hand_built", ATTRS, &[CaptureSpec::new("jobs", "int")], module_path!());

fn main() {
    suffixed();
    let spec = telemetry::catalog::events().into_iter().find(|s| s.name() == "literals.suffixed").unwrap();
    let attr = |key: &str| spec.attrs().iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(attr("max_u8"), AttrValue::Int(255));
    assert_eq!(attr("min_i8"), AttrValue::Int(-128));
    assert_eq!(attr("hex"), AttrValue::Int(255));
    assert_eq!(attr("big"), AttrValue::UInt(u64::MAX));
    assert_eq!(attr("single"), AttrValue::Float(1.5));
    assert_eq!(attr("double"), AttrValue::Float(-2.0));
    assert_eq!(attr("raw").as_str(), Some("say \"hi\""));
    assert_eq!(SPEC.keys().collect::<Vec<_>>(), [("jobs", "int"), ("level", "int")]);
}
