//! Small file-system helpers shared by the identity, the file sink and (later) the
//! config file and spool: private permissions and atomic publication.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::TelemetryError;

/// Creates `dir` and its parents; directories we create are owner-only (0700).
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), TelemetryError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| TelemetryError::io("create directory", dir, e))
}

/// Options for a file only the owner can read (0600 on Unix).
pub(crate) fn private_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Writes `bytes` to a new, uniquely named temp file in `dir` (0600) and syncs it.
pub(crate) fn write_private_temp(dir: &Path, bytes: &[u8]) -> Result<PathBuf, TelemetryError> {
    let path = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
    let mut file: File = private_options()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| TelemetryError::io("create", &path, e))?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(&path);
        return Err(TelemetryError::io("write", &path, e));
    }
    Ok(path)
}

/// Replaces `path` with `bytes` atomically: readers see the old or the new content,
/// never a torn file.
pub(crate) fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), TelemetryError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let tmp = write_private_temp(dir, bytes)?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        TelemetryError::io("replace", path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_content_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a").join("f.json");
        atomic_write(&path, b"one").unwrap();
        atomic_write(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp file left behind");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
