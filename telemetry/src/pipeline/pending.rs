//! What the hot path stores: only what it must, as small as it can be (it is moved
//! into the queue on every call). The worker turns it into an `Event`: it looks up the
//! name and literal attributes in the site's static spec and converts the raw clock
//! readings to a duration and a wall-clock time, so the recording thread does neither.

use crate::catalog::EventSpec;
use crate::clock::{self, Tick};
use crate::error_kind::ErrorKind;
use crate::event::Outcome;
use crate::value::AttrValue;

/// One accepted, not yet delivered event. Its size is a large share of the enabled
/// hot path's cost (every byte is written into a queue slot whose cache line the
/// worker's core last held), hence the packed fields.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) what: What,
    /// When the call ended, or the explicit event was recorded.
    pub(crate) end: Tick,
    pub(crate) outcome: Outcome,
}

/// Where the event's name, attributes and duration come from.
#[derive(Debug)]
pub(crate) enum What {
    /// A `#[track]` call: the name, the literal attributes and the keys of the captured
    /// values are in the site's `static` spec; only the values are stored.
    Call {
        spec: &'static EventSpec,
        start: Tick,
        captured: Captures,
        /// `type_name` of the error type, called by the worker.
        error_kind: Option<ErrorKind>,
    },
    /// A point event (`telemetry::record!`): no duration; the name and the keys of the
    /// values are in the site's `static` spec, like a call's.
    Point {
        spec: &'static EventSpec,
        captured: Captures,
    },
}

impl Pending {
    /// A point event (no duration, outcome `ok`) recorded now.
    pub(crate) fn point(spec: &'static EventSpec, captured: Captures) -> Self {
        Self {
            what: What::Point { spec, captured },
            end: clock::now_std(),
            outcome: Outcome::Ok,
        }
    }
}

/// How many captured values a [`Captures`] holds without allocating. Most
/// `capture(..)` lists are short; a longer one moves the rest to the heap. (Each inline
/// slot adds 24 bytes to every event, with or without captures.)
const INLINE_CAPTURES: usize = 2;

/// The captured values of one call, in the order of the site's `capture(..)` list
/// (`None`: a value that chose to be left out): the first few inline, so the hot path
/// allocates nothing for them, any others boxed.
#[derive(Debug, Default)]
pub(crate) struct Captures {
    inline: [Option<AttrValue>; INLINE_CAPTURES],
    #[expect(
        clippy::box_collection,
        reason = "a thin pointer: one word in every queued event, where a `Vec` is three \
                  and a `Box<[_]>` two; the extra allocation happens only past the inline \
                  slots"
    )]
    spill: Option<Box<Vec<Option<AttrValue>>>>,
}

impl Captures {
    /// The values of one call.
    #[inline]
    pub(crate) fn from_values<const N: usize>(values: [Option<AttrValue>; N]) -> Self {
        let mut captures = Self::default();
        let mut values = values.into_iter();
        for slot in &mut captures.inline {
            *slot = values.next().flatten();
        }
        if N > INLINE_CAPTURES {
            captures.spill = Some(Box::new(values.collect()));
        }
        captures
    }

    /// The values of one call, taken out of `values` (left `None`): for a caller that
    /// holds them in place rather than by value.
    #[inline]
    pub(crate) fn take_from<const N: usize>(values: &mut [Option<AttrValue>; N]) -> Self {
        let mut captures = Self::default();
        let mut values = values.iter_mut();
        for slot in &mut captures.inline {
            *slot = values.next().and_then(Option::take);
        }
        if N > INLINE_CAPTURES {
            captures.spill = Some(Box::new(values.map(Option::take).collect()));
        }
        captures
    }

    /// Every value in the order of the site's `capture(..)` list (`None`: left out),
    /// without taking them.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Option<AttrValue>> + Clone {
        self.inline
            .iter()
            .chain(self.spill.iter().flat_map(|spill| spill.iter()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs<const N: usize>(
        keys: &[&'static str],
        values: [Option<AttrValue>; N],
    ) -> Vec<(&'static str, AttrValue)> {
        let captures = Captures::from_values(values);
        keys.iter()
            .zip(captures.iter())
            .filter_map(|(key, value)| Some((*key, value.clone()?)))
            .collect()
    }

    #[test]
    fn captures_keep_order_skip_missing_and_spill() {
        let v = |n| Some(AttrValue::Int(n));
        assert!(pairs(&[], []).is_empty());
        assert_eq!(
            pairs(&["a", "b", "c"], [v(1), None, v(3)]),
            [("a", AttrValue::Int(1)), ("c", AttrValue::Int(3))]
        );
        assert_eq!(
            pairs(
                &["a", "b", "c", "d", "e", "f"],
                [v(1), v(2), None, v(4), None, v(6)]
            ),
            [
                ("a", AttrValue::Int(1)),
                ("b", AttrValue::Int(2)),
                ("d", AttrValue::Int(4)),
                ("f", AttrValue::Int(6)),
            ]
        );
    }

    // With `collect` off nothing is ever recorded (and a clock reading is a plain
    // `Instant`).
    #[cfg(feature = "collect")]
    #[test]
    fn the_hot_path_record_stays_small() {
        // Moved into the queue on every tracked call: growing it costs every user.
        let size = std::mem::size_of::<Pending>();
        assert!(size <= 96, "{size}");
    }
}
