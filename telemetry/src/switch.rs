//! The fast-path switch: the one relaxed atomic load every tracked call makes.
//!
//! `true` only while an installed context's queue accepts events. It is written only
//! under that queue's lock (by `Queue::set_installed` and `Queue::set_accepting`), so
//! it always mirrors the installed queue's state; the queue's own check under its
//! lock stays the authority (this flag only lets a disabled call skip everything).

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the `collect` feature compiled collection in: without it every entry point
/// is a no-op and the switch is a constant `false`.
pub(crate) const COMPILED_IN: bool = cfg!(feature = "collect");

static ENABLED: AtomicBool = AtomicBool::new(false);

/// The fast-path check of every tracked call.
#[inline(always)]
pub(crate) fn enabled() -> bool {
    COMPILED_IN && ENABLED.load(Ordering::Relaxed)
}

/// Sets the switch; called with the installed queue's lock held.
pub(crate) fn set(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}
