//! The delivery pipeline: bounded queue → delivery worker → sinks, with the spool
//! (a journal on disk) and the sender thread for the network sinks.

mod delivery;
mod factory;
#[cfg(not(feature = "spool"))]
mod no_spool;
mod pending;
mod queue;
#[cfg(feature = "spool")]
mod replay_check;
#[cfg(feature = "reports")]
mod report_worker;
#[cfg(feature = "spool")]
mod sender;
#[cfg(feature = "spool")]
mod spool;
mod spool_files;
mod stats;
mod worker;

#[cfg(feature = "reports")]
pub(crate) use delivery::guarded;
pub(crate) use delivery::{BACKGROUND_SEND_AFTER, Consented, Delivery, Scan, SpoolLimits};
pub use delivery::{
    DEFAULT_SPOOL_MAX_BYTES, DEFAULT_SPOOL_MAX_FILES, DEFAULT_UPLOAD_INTERVAL,
    DEFAULT_UPLOAD_TIME_LIMIT, SendMode, UPLOADER_ARG,
};
pub(crate) use factory::EventFactory;
#[cfg(not(feature = "spool"))]
pub(crate) use no_spool::Spool;
pub(crate) use pending::{Captures, Pending, What};
pub(crate) use queue::Queue;
#[cfg(all(feature = "test-internals", feature = "reports"))]
pub(crate) use report_worker::add as fold_pending;
#[cfg(all(feature = "test-internals", feature = "spool"))]
pub(crate) use sender::SENDER_THREAD_NAME;
#[cfg(feature = "spool")]
pub(crate) use spool::Spool;
pub(crate) use spool_files::purge_dir as purge_spool_dir;
#[cfg(feature = "spool")]
pub(crate) use spool_files::{UPLOAD_LOCK_FILE, UPLOAD_RAN_FILE, UPLOAD_STARTED_FILE};
pub(crate) use stats::Counters;
pub use stats::{DeliveryMode, DeliveryStats};
#[cfg(feature = "test-internals")]
pub(crate) use worker::WORKER_THREAD_NAME;
pub(crate) use worker::{BatchConfig, spawn};
