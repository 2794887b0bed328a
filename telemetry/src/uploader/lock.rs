//! The uploader's single-instance lock: an advisory lock (`flock` on Unix, `LockFileEx`
//! on Windows, through `std::fs::File::try_lock`) on `<spool>/upload.lock`, which the
//! kernel releases when its holder dies, however it dies.

use std::fs::File;
use std::path::Path;

use crate::pipeline::UPLOAD_LOCK_FILE;
use crate::util::fs as fsutil;

/// The lock, held while this value lives.
#[derive(Debug)]
pub(crate) struct UploadLock {
    file: File,
}

impl UploadLock {
    /// Takes the lock in `spool_dir` (a checked directory), or `None` when another
    /// process holds it or it cannot be opened.
    pub(crate) fn try_acquire(spool_dir: &Path) -> Option<Self> {
        let path = spool_dir.join(UPLOAD_LOCK_FILE);
        let file = fsutil::private_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| crate::util::log::debug!(error = %e, "telemetry: upload lock not opened"))
            .ok()?;
        fsutil::check_open(&file, &path, fsutil::Strictness::Trusted)
            .map_err(|r| crate::util::log::debug!(refused = %r, "telemetry: upload lock refused"))
            .ok()?;
        file.try_lock().ok()?;
        Some(Self { file })
    }

    /// Deletes the lock file (still held), and the spool directory if that leaves it
    /// empty: for an uploader that ends after consent was withdrawn.
    pub(crate) fn remove(&self, spool_dir: &Path) {
        let _ = std::fs::remove_file(spool_dir.join(UPLOAD_LOCK_FILE));
        let _ = std::fs::remove_dir(spool_dir);
    }

    /// The locked file, to hand to the child (its standard input).
    pub(crate) fn into_file(self) -> File {
        self.file
    }
}

/// The lock the parent handed over as this process's standard input, if that is what
/// standard input is: the same file as `<spool>/upload.lock`, and locked by this
/// open file (re-locking through the same open file succeeds; any other would fail).
#[cfg(unix)]
pub(crate) fn held_by_parent(spool_dir: &Path) -> Option<UploadLock> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let stdin = File::from(std::io::stdin().as_fd().try_clone_to_owned().ok()?);
    let ours = stdin.metadata().ok()?;
    let lock = std::fs::symlink_metadata(spool_dir.join(UPLOAD_LOCK_FILE)).ok()?;
    if (ours.dev(), ours.ino()) != (lock.dev(), lock.ino()) {
        return None;
    }
    stdin.try_lock().ok()?;
    Some(UploadLock { file: stdin })
}

/// Elsewhere a lock belongs to the handle that took it: the child takes its own.
#[cfg(not(unix))]
pub(crate) fn held_by_parent(_spool_dir: &Path) -> Option<UploadLock> {
    None
}
