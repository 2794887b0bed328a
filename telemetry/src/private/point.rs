//! What `record!`, `tool!` and `attrs!` expand to. Only those macros call these.

use crate::catalog::EventSpec;
use crate::context::{DefaultAttrs, TelemetryContext, Tool};
use crate::error::TelemetryError;
use crate::naming;
use crate::pipeline::Captures;

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

/// An `attrs!` key, checked in const evaluation.
pub const fn attr_key(key: &'static str) -> &'static str {
    assert!(
        naming::is_valid_attr_key(key),
        "telemetry::attrs!: a key must be snake_case (`[a-z][a-z0-9_]*`, at most 64 bytes)"
    );
    key
}

/// `attrs!`'s value.
pub fn default_attrs<const N: usize>(pairs: [(&'static str, Captured); N]) -> DefaultAttrs {
    DefaultAttrs::from_pairs(pairs)
}
