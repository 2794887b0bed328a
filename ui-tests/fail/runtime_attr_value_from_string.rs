// There is no way to turn a run-time `String` into an `AttrValue`: no `From<String>`,
// no way to make or change the `Text` of a `Str` value, no public `Deserialize`.
use std::borrow::Cow;

use telemetry::AttrValue;

fn main() {
    let home = std::env::var("HOME").unwrap_or_default();
    let _ = AttrValue::from(home.clone());
    let _ = AttrValue::Str(Cow::Owned(home.clone()));
    let _: AttrValue = serde_json::from_str("\"/home/alice\"").unwrap();
    let _ = telemetry::Text(Cow::Owned(home.clone()));
    let mut value = telemetry::Event::example().attrs()["jobs"].clone();
    if let AttrValue::Str(text) = &mut value {
        text.0 = Cow::Owned(home.clone());
    }
}
