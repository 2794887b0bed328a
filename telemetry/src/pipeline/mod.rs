//! The delivery pipeline: bounded queue → delivery worker → sinks.

mod pending;
mod queue;
mod worker;

pub(crate) use pending::Pending;
pub(crate) use queue::{Queue, Rejected};
pub(crate) use worker::{BatchConfig, EventFactory, WORKER_THREAD_NAME, spawn};
