//! [`CollectionPolicy`]: on or off, the outcome of consent (re-exported at the crate root).

/// Whether telemetry is collected. Built from the author's compile switch and the
/// user's consent; `Disabled` is always honoured.
///
/// ```
/// assert_eq!(telemetry::CollectionPolicy::default(), telemetry::CollectionPolicy::Disabled);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CollectionPolicy {
    /// Nothing is recorded: no event built, no machine id derived, no thread started,
    /// no file written.
    #[default]
    Disabled,
    /// Events are recorded and delivered.
    Enabled,
}
