//! The uploader's time stamps in the spool directory: the modification times of two
//! small files, `upload-started` (set by the parent when it spawns one) and
//! `upload-ran` (set by the child when it reaches `init`).

use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use crate::pipeline::{UPLOAD_RAN_FILE, UPLOAD_STARTED_FILE};
use crate::util::fs as fsutil;

/// Which stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    Started,
    Ran,
}

impl Stamp {
    fn file(self) -> &'static str {
        match self {
            Self::Started => UPLOAD_STARTED_FILE,
            Self::Ran => UPLOAD_RAN_FILE,
        }
    }
}

/// When `stamp` was last set, if it was (and the file passes the trust rules).
/// `dir` is already checked and resolved (`Spool::checked_dir`,
/// `ReportStore::checked_dir`): the file is opened without following a link and
/// checked on the handle, with no second walk up the path (an exit reads both
/// stamps; each walk was some twenty system calls on the exit's path).
pub(crate) fn read(dir: &Path, stamp: Stamp) -> Option<SystemTime> {
    let path = dir.join(stamp.file());
    let file = fsutil::private_options().read(true).open(&path).ok()?;
    fsutil::check_open(&file, &path, fsutil::Strictness::Trusted).ok()?;
    file.metadata().and_then(|m| m.modified()).ok()
}

/// Sets `stamp` to now (its content says what it is, for a reader of the directory).
/// Not synced: a stamp lost to a power loss only makes the next uploader come sooner.
pub(crate) fn mark(spool_dir: &Path, stamp: Stamp) {
    let text = match stamp {
        Stamp::Started => "the time this file was modified: the last uploader was started\n",
        Stamp::Ran => "the time this file was modified: the last uploader reached init\n",
    };
    let path = spool_dir.join(stamp.file());
    let written = fsutil::private_options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| e.to_string())
        .and_then(|mut file| {
            fsutil::check_open(&file, &path, fsutil::Strictness::Trusted)
                .map_err(|r| r.to_string())?;
            file.set_len(0)
                .and_then(|()| file.write_all(text.as_bytes()))
                .and_then(|()| file.set_modified(SystemTime::now()))
                .map_err(|e| e.to_string())
        });
    if let Err(e) = written {
        crate::util::log::debug!(error = %e, "telemetry: could not record the uploader's time");
    }
}

/// Removes `stamp` (a start that did not happen).
pub(crate) fn unmark(spool_dir: &Path, stamp: Stamp) {
    let _ = std::fs::remove_file(spool_dir.join(stamp.file()));
}
