//! Compile-time tests of `#[telemetry::track]` and `#[derive(telemetry::SafeValue)]`.
//!
//! `pass/` holds every supported function shape (each compiled with `#![deny(warnings)]`
//! and `#![forbid(unsafe_code)]`, then run); `fail/` holds one case per rule of the
//! privacy guard and the attribute grammar, with the compiler's output blessed next to
//! it. They run with `cargo test -p ui-tests` (and so with `cargo test --workspace`).
