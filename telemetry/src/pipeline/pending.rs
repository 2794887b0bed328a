//! What the hot path stores: only what it must. The worker turns it into an `Event`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::event::{AttrValue, Outcome};

/// One accepted, not yet delivered event, as cheap to build as possible.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) name: Cow<'static, str>,
    /// Literal attributes of a `#[track]` site (static, never copied on the hot path).
    pub(crate) static_attrs: &'static [(&'static str, AttrValue)],
    /// Captured values of a `#[track]` site.
    pub(crate) captured: Vec<(&'static str, AttrValue)>,
    /// Attributes passed at run time through `record_with_attrs`.
    pub(crate) dynamic: BTreeMap<String, AttrValue>,
    pub(crate) duration: Option<Duration>,
    /// When the event was recorded; the worker maps it to wall-clock time.
    pub(crate) at: Instant,
    pub(crate) outcome: Outcome,
    pub(crate) error_kind: Option<Cow<'static, str>>,
}

impl Pending {
    /// An explicit event (no duration, outcome `ok`) recorded now.
    pub(crate) fn named(name: Cow<'static, str>) -> Self {
        Self {
            name,
            static_attrs: &[],
            captured: Vec::new(),
            dynamic: BTreeMap::new(),
            duration: None,
            at: Instant::now(),
            outcome: Outcome::Ok,
            error_kind: None,
        }
    }
}
