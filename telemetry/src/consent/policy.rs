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

/// A collection level, in Go's telemetry vocabulary: `off` (nothing recorded, nothing
/// written), `local` (kept on this machine, never sent: report files, or the local
/// event log) or `on` (sent). `telemetry status` shows it; `telemetry local` chooses it.
///
/// ```
/// use telemetry::consent::Level;
/// assert_eq!(Level::Local.as_str(), "local");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Nothing recorded, nothing written.
    Off,
    /// Recorded and kept on this machine; never sent.
    Local,
    /// Recorded and sent.
    On,
}

impl Level {
    /// `off`, `local` or `on`.
    ///
    /// ```
    /// assert_eq!(telemetry::consent::Level::Off.as_str(), "off");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Local => "local",
            Self::On => "on",
        }
    }

    /// The level named `name` ([`as_str`](Self::as_str)).
    ///
    /// ```
    /// use telemetry::consent::Level;
    /// assert_eq!(Level::from_name("local"), Some(Level::Local));
    /// assert_eq!(Level::from_name("Local"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Off, Self::Local, Self::On]
            .into_iter()
            .find(|level| level.as_str() == name)
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
