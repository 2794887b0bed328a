//! Small helpers with no knowledge of telemetry: file-system safety, hex, time.

pub(crate) mod fs;
pub(crate) mod hex;
pub(crate) mod time;
