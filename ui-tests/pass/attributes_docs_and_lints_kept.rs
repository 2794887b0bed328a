//! The user's attributes stay in place: docs, `#[must_use]`, `#[inline]`, `#[cfg]`,
//! inner attributes of the body, lint levels; the tracked function keeps its visibility.
#![deny(warnings)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

//! Crate docs.

/// Public and documented.
#[must_use]
#[inline]
#[telemetry::track("kept.answer")]
pub fn answer() -> u8 {
    #![allow(clippy::let_and_return)]
    let value = 42;
    value
}

#[cfg(any())]
#[telemetry::track("kept.never_compiled")]
fn gone() -> u8 {
    this_does_not_exist()
}

mod inner {
    /// Visible to the parent.
    #[telemetry::track("kept.visibility")]
    pub(super) fn visible() -> bool {
        true
    }
}

fn main() {
    assert_eq!(answer(), 42);
    assert!(inner::visible());
}
