//! Small helpers with no knowledge of telemetry: file-system safety, hex, time, and
//! running a future on the current thread.

pub(crate) mod executor;
pub(crate) mod fs;
pub(crate) mod hex;
pub(crate) mod time;
