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
    /// Captured values of a `#[track]` site (inline: no allocation for a few).
    pub(crate) captured: Captures,
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
            captured: Captures::new(),
            dynamic: BTreeMap::new(),
            duration: None,
            at: Instant::now(),
            outcome: Outcome::Ok,
            error_kind: None,
        }
    }
}

/// How many captured values a [`Captures`] holds without allocating. `capture(..)` lists
/// are short; a longer one spills the rest into a `Vec`.
const INLINE_CAPTURES: usize = 3;

/// One captured value: its key and its value.
pub(crate) type Capture = (&'static str, AttrValue);

/// The captured values of one call, in declaration order: the first few inline (the
/// hot path allocates nothing for them), any others in a `Vec`.
#[derive(Debug, Default)]
pub(crate) struct Captures {
    inline: [Option<Capture>; INLINE_CAPTURES],
    spill: Vec<Capture>,
}

impl Captures {
    /// No values.
    pub(crate) const fn new() -> Self {
        Self {
            inline: [const { None }; INLINE_CAPTURES],
            spill: Vec::new(),
        }
    }

    /// The values that are `Some`, in order.
    #[inline]
    pub(crate) fn from_values<const N: usize>(values: [Option<Capture>; N]) -> Self {
        let mut captures = Self::new();
        let mut slots = captures.inline.iter_mut();
        for value in values.into_iter().flatten() {
            match slots.next() {
                Some(slot) => *slot = Some(value),
                None => captures.spill.push(value),
            }
        }
        captures
    }
}

impl From<Vec<Capture>> for Captures {
    fn from(values: Vec<Capture>) -> Self {
        Self {
            inline: [const { None }; INLINE_CAPTURES],
            spill: values,
        }
    }
}

impl IntoIterator for Captures {
    type Item = Capture;
    type IntoIter = std::iter::Chain<
        std::iter::Flatten<std::array::IntoIter<Option<Capture>, INLINE_CAPTURES>>,
        std::vec::IntoIter<Capture>,
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.inline.into_iter().flatten().chain(self.spill)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(c: Captures) -> Vec<&'static str> {
        c.into_iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn captures_keep_order_skip_missing_and_spill() {
        let v = |k| Some((k, AttrValue::Int(1)));
        assert!(keys(Captures::new()).is_empty());
        assert_eq!(
            keys(Captures::from_values([v("a"), None, v("b")])),
            ["a", "b"]
        );
        assert_eq!(
            keys(Captures::from_values([
                v("a"),
                v("b"),
                None,
                v("c"),
                v("d"),
                v("e")
            ])),
            ["a", "b", "c", "d", "e"]
        );
        assert_eq!(
            keys(Captures::from(vec![("x", AttrValue::Bool(true))])),
            ["x"]
        );
    }
}
