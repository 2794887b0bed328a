//! What `record!`, `tool!` and `attrs!` expand to. Only those macros call these.

use crate::catalog::EventSpec;
use crate::context::{DefaultAttrs, TelemetryContext, Tool};
use crate::error::TelemetryError;
use crate::naming;
use crate::pipeline::Captures;
use crate::safe_value::SafeValue;

use super::call::Captured;

/// Records a `record!` event into `ctx`.
pub fn record_point<const N: usize>(
    ctx: &TelemetryContext,
    spec: &'static EventSpec,
    captured: [Captured; N],
) -> Result<(), TelemetryError> {
    ctx.record_point(spec, Captures::from_values(captured))
}

/// Records a `record!` event into the installed context, if any.
pub fn record_point_installed<const N: usize>(
    spec: &'static EventSpec,
    captured: [Captured; N],
) -> Result<(), TelemetryError> {
    match crate::global::global() {
        Some(ctx) => record_point(&ctx, spec, captured),
        None => Ok(()),
    }
}

/// `tool!`'s value, checked in const evaluation.
pub const fn tool(name: &'static str, version: &'static str) -> Tool {
    Tool::checked(name, version)
}

/// The key an identifier stands for: `stringify!(r#type)` is `type`.
pub const fn key_name(ident: &'static str) -> &'static str {
    match ident.as_bytes() {
        [b'r', b'#', ..] => match ident.split_at_checked(2) {
            Some((_, rest)) => rest,
            None => ident,
        },
        _ => ident,
    }
}

/// `attrs!`'s keys, checked in const evaluation: snake_case, each once.
pub const fn attr_keys(keys: &'static [&'static str]) -> &'static [&'static str] {
    let mut i = 0;
    while i < keys.len() {
        assert!(
            naming::is_valid_attr_key(keys[i]),
            "telemetry::attrs!: a key must be snake_case (`[a-z][a-z0-9_]*`, at most 64 bytes)"
        );
        let mut j = i + 1;
        while j < keys.len() {
            assert!(
                !naming::str_eq(keys[i], keys[j]),
                "telemetry::attrs!: a key is given twice"
            );
            j += 1;
        }
        i += 1;
    }
    keys
}

/// One value of `attrs!`, with the kind of its type (for `telemetry schema`).
pub fn default_attr<T: SafeValue + ?Sized>(value: &T) -> (Captured, &'static str) {
    (value.to_attr_value(), T::KIND)
}

/// `attrs!`'s value.
pub fn default_attrs<const N: usize>(
    keys: &'static [&'static str],
    values: [(Captured, &'static str); N],
) -> DefaultAttrs {
    DefaultAttrs::from_pairs(keys.iter().copied().zip(values))
}
