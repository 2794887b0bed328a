//! Small helpers with no knowledge of telemetry: file-system safety, hex, time, random
//! ids, and running a future on the current thread.

pub(crate) mod executor;
pub(crate) mod fs;
pub(crate) mod hex;
pub(crate) mod json;
pub(crate) mod log;
#[cfg(feature = "otlp")]
pub(crate) mod protobuf;
pub(crate) mod random;
pub(crate) mod time;
pub(crate) mod uuid;
