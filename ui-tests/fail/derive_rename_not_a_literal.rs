//! `rename` takes a string literal: no macros, no constants, no suffix.
const FAST: &str = "fast";

#[derive(telemetry::SafeValue)]
enum Mode {
    #[safe_value(rename = concat!("fa", "st"))]
    Fast,
    #[safe_value(rename = FAST)]
    Quick,
    #[safe_value(rename = "slow"alice)]
    Slow,
    #[safe_value(rename = "a", rename = "b")]
    Twice,
    #[safe_value(rename = "")]
    Empty,
    #[safe_value(rename = "a\u{202e}b")]
    Bidi,
}

fn main() {}
