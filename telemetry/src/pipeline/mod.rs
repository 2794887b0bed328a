//! The delivery pipeline: bounded queue → delivery worker → sinks, with the spool
//! (a journal on disk) and the sender thread for the network sinks.

mod delivery;
mod pending;
mod queue;
mod replay_check;
mod sender;
mod spool;
mod stats;
mod worker;

pub(crate) use delivery::{Delivery, SpoolLimits};
pub(crate) use pending::{Captures, Pending, What};
pub(crate) use queue::Queue;
#[cfg(feature = "test-internals")]
pub(crate) use sender::SENDER_THREAD_NAME;
pub(crate) use spool::Scan;
pub use spool::{DEFAULT_SPOOL_MAX_BYTES, DEFAULT_SPOOL_MAX_FILES};
pub(crate) use stats::Counters;
pub use stats::{DeliveryMode, DeliveryStats};
#[cfg(feature = "test-internals")]
pub(crate) use worker::WORKER_THREAD_NAME;
pub(crate) use worker::{BatchConfig, EventFactory, spawn};
