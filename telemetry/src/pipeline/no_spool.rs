//! Without feature `spool` (which the network sinks' features turn on) no context has
//! a spool: `Spool` is a type with no values, so `Delivery::spool` is always `None`,
//! and the few places that would use one compile to nothing. The journal, the sender
//! thread and the detached uploader are not in such a build at all.

use std::path::Path;

use crate::pipeline::Scan;

/// A spool that cannot exist (see the module docs).
pub(crate) enum Spool {}

impl Spool {
    pub(crate) fn dir(&self) -> &Path {
        match *self {}
    }

    pub(crate) fn prepare(&self) {
        match *self {}
    }

    pub(crate) fn keep_bounds(&self) {
        match *self {}
    }

    pub(crate) fn discard_prepared(&self) {
        match *self {}
    }

    pub(crate) fn purge(&self) -> u64 {
        match *self {}
    }

    pub(crate) fn scan(&self) -> Scan {
        match *self {}
    }
}
