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

pub use delivery::SendMode;
pub(crate) use delivery::{BACKGROUND_SEND_AFTER, Consented, Delivery, SpoolLimits};
pub(crate) use pending::{Captures, Pending, What};
pub(crate) use queue::Queue;
#[cfg(feature = "test-internals")]
pub(crate) use sender::SENDER_THREAD_NAME;
pub use spool::{DEFAULT_SPOOL_MAX_BYTES, DEFAULT_SPOOL_MAX_FILES};
pub(crate) use spool::{Scan, Spool, UPLOAD_LOCK_FILE, UPLOAD_RAN_FILE, UPLOAD_STARTED_FILE};
pub(crate) use stats::Counters;
pub use stats::{DeliveryMode, DeliveryStats};
#[cfg(feature = "test-internals")]
pub(crate) use worker::WORKER_THREAD_NAME;
pub(crate) use worker::{BatchConfig, EventFactory, spawn};
