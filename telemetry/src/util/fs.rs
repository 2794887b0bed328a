//! File-system helpers shared by the consent file, the key, the install id, the file
//! sink and the spool: private permissions, atomic publication, and the trust rules
//! every file the library reads or writes goes through.
//!
//! # Trust rules (Unix)
//!
//! Like OpenSSH's `StrictModes`, a file another user could have written is never
//! believed, and a path another user could redirect is never followed:
//!
//! - **Files** are opened without following a symbolic link in the last component
//!   (`O_NOFOLLOW`; `O_NONBLOCK` too, so a FIFO cannot block the tool) and checked *on
//!   the opened handle* (`fstat`), so nothing can be swapped between a check and the
//!   open: a regular file, owned by the current user, not writable by group or others.
//!   Files telemetry writes are created 0600; a log or spool file found with wider
//!   permissions is tightened to 0600 (never the config or key file: one writable by
//!   others may already have been tampered with, so it is refused, not repaired).
//! - **Directories**: the directory a file lives in is resolved once
//!   (`canonicalize`), and the file is then opened through that resolved path, so a
//!   symbolic link that changes afterwards changes nothing. The resolved directory must
//!   be owned by the current user and not writable by group or others. Every ancestor
//!   of it, up to `/`, must be owned by the current user or root and not writable by
//!   group or others unless it has the sticky bit (as `/tmp` does: there, others cannot
//!   rename or delete what is ours). So nobody else can rename, replace or add anything
//!   on the way to the file, which is what makes the resolved path stay valid. (OpenSSH
//!   stops the walk at the home directory; walking to `/` gives the same answer for
//!   a usual home and also covers `<TOOL>_CONFIG_DIR` and data dirs outside it.)
//! - **Symbolic links**: a symlinked *ancestor* is fine as long as where it leads passes
//!   the rule above (`~/.config -> ~/dotfiles/config` keeps working; a link into another
//!   user's directory does not). The config dir itself may be a link too (dotfile
//!   managers link `~/.config/<tool>`), judged by its target. The data dir
//!   (`<data>/<tool>/telemetry`) and its `spool/` are created by the library and must
//!   not be links at all. The last component of a file is never followed.
//!
//! A refusal is never a crash and never an overwrite: the file counts as absent (no
//! consent, no key, no install id, nothing spooled), the reason is shown by
//! `telemetry status`, and commands that would replace it fail naming the path and the
//! reason.
//!
//! # Windows
//!
//! None of this is checked there (`#[cfg(unix)]`): files are opened and replaced as
//! before, with the permissions the user's profile directory gives them. NTFS ACLs and
//! reparse points are not inspected; the per-user profile directory is what protects
//! the files.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::TelemetryError;

/// Why a file or directory is not trusted (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    /// The path that failed the rules.
    pub(crate) path: PathBuf,
    /// Why, in words.
    pub(crate) reason: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.path.display(), self.reason)
    }
}

impl From<Refused> for TelemetryError {
    fn from(r: Refused) -> Self {
        TelemetryError::Untrusted {
            path: r.path,
            reason: r.reason,
        }
    }
}

fn refused(path: &Path, reason: impl Into<String>) -> Refused {
    Refused {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Whether the last component of a directory may be a symbolic link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DirLink {
    /// A link is judged by its target (the user's config dir).
    Allowed,
    /// A link is refused (the data dir and the spool, which the library creates).
    Refused,
}

/// A file could not be read or opened.
#[derive(Debug)]
pub(crate) enum FileError {
    /// The trust rules refused it.
    Refused(Refused),
    /// Reading failed for another reason (permissions, I/O).
    Io(PathBuf, std::io::Error),
}

impl From<Refused> for FileError {
    fn from(r: Refused) -> Self {
        Self::Refused(r)
    }
}

impl From<FileError> for TelemetryError {
    fn from(e: FileError) -> Self {
        match e {
            FileError::Refused(r) => r.into(),
            FileError::Io(path, e) => TelemetryError::io("read", path, e),
        }
    }
}

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

/// Options for a file only the owner can read (0600 on Unix) that never follow a
/// symbolic link in the last component and never block on a FIFO.
pub(crate) fn private_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    options
}

/// Checks `dir` against the directory rules (module docs). `Ok(None)` when it does not
/// exist (or is not a directory); otherwise its resolved path, through which the caller
/// then opens its files.
pub(crate) fn check_dir(dir: &Path, link: DirLink) -> Result<Option<PathBuf>, Refused> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let lstat = match fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(refused(dir, format!("cannot be inspected: {e}"))),
    };
    if link == DirLink::Refused && lstat.file_type().is_symlink() {
        return Err(refused(
            dir,
            "is a symbolic link; telemetry does not follow it",
        ));
    }
    let real = match fs::canonicalize(dir) {
        Ok(real) => real,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(refused(dir, format!("cannot be resolved: {e}"))),
    };
    if !fs::metadata(&real).is_ok_and(|m| m.is_dir()) {
        // Not a directory (a regular file in the way): no directory there; creating
        // it fails with the ordinary I/O error.
        return Ok(None);
    }
    #[cfg(unix)]
    unix::check_resolved_dir(dir, &real)?;
    Ok(Some(real))
}

/// Like [`check_dir`], creating the directory (0700) first when it is missing.
pub(crate) fn prepare_dir(dir: &Path, link: DirLink) -> Result<PathBuf, TelemetryError> {
    if let Some(real) = check_dir(dir, link)? {
        return Ok(real);
    }
    create_private_dir(dir)?;
    check_dir(dir, link)?.ok_or_else(|| {
        TelemetryError::io(
            "create directory",
            dir,
            std::io::Error::from(std::io::ErrorKind::NotFound),
        )
    })
}

/// A refusal of the directory `path` is in, told about `path`.
fn for_file(path: &Path, r: Refused) -> Refused {
    Refused {
        path: path.to_owned(),
        reason: format!(
            "is in the directory {}, which {}",
            r.path.display(),
            r.reason
        ),
    }
}

/// [`prepare_dir`] for the directory of the file `path`; a refusal names the file.
pub(crate) fn prepare_dir_for(
    path: &Path,
    dir: &Path,
    link: DirLink,
) -> Result<PathBuf, TelemetryError> {
    prepare_dir(dir, link).map_err(|e| match e {
        TelemetryError::Untrusted { path: dir, reason } => {
            for_file(path, Refused { path: dir, reason }).into()
        }
        other => other,
    })
}

/// `path`'s directory and file name.
fn split(path: &Path) -> Result<(&Path, &std::ffi::OsStr), Refused> {
    let name = path
        .file_name()
        .ok_or_else(|| refused(path, "does not name a file"))?;
    Ok((path.parent().unwrap_or(Path::new(".")), name))
}

/// How strictly an opened file is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strictness {
    /// Its content decides something (consent, the key, the install id, a pause):
    /// writable by group or others means refused.
    Trusted,
    /// Only data of ours (the event log, spool batches): wider permissions are
    /// tightened to 0600.
    Tighten,
    /// Only the ownership and kind are judged, nothing is changed (what `status`
    /// reports for data that would be tightened).
    #[cfg_attr(
        not(feature = "clap"),
        expect(
            dead_code,
            reason = "only `telemetry status` (feature clap) inspects a file without judging it"
        )
    )]
    Owned,
}

/// Checks an opened file on its handle (module docs).
#[allow(unused_variables)]
fn check_handle(file: &File, path: &Path, strictness: Strictness) -> Result<(), Refused> {
    #[cfg(unix)]
    unix::check_handle(file, path, strictness)?;
    Ok(())
}

/// Checks a file opened (with [`private_options`]) in a checked directory.
#[cfg(any(feature = "spool", feature = "reports"))]
pub(crate) fn check_open(file: &File, path: &Path, strictness: Strictness) -> Result<(), Refused> {
    check_handle(file, path, strictness)
}

/// Opens an existing file under the rules: its directory is checked and resolved, the
/// file opened without following a link and checked on the handle. `Ok(None)` when it
/// does not exist.
pub(crate) fn open_checked(
    path: &Path,
    link: DirLink,
    strictness: Strictness,
    write: bool,
) -> Result<Option<File>, FileError> {
    let (dir, name) = split(path)?;
    let real_dir = match check_dir(dir, link) {
        Ok(Some(real_dir)) => real_dir,
        Ok(None) => return Ok(None),
        // Nothing there to refuse: no file is no file, wherever it would have been.
        Err(_)
            if fs::symlink_metadata(path)
                .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) =>
        {
            return Ok(None);
        }
        Err(r) => return Err(for_file(path, r).into()),
    };
    let target = real_dir.join(name);
    let file = match private_options().read(true).write(write).open(&target) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(open_error(path, &target, e)),
    };
    check_handle(&file, path, strictness)?;
    Ok(Some(file))
}

/// Why opening `target` failed: a symbolic link is a refusal, anything else I/O.
fn open_error(path: &Path, target: &Path, e: std::io::Error) -> FileError {
    if fs::symlink_metadata(target).is_ok_and(|m| m.file_type().is_symlink()) {
        FileError::Refused(refused(
            path,
            "is a symbolic link; telemetry does not follow it",
        ))
    } else {
        FileError::Io(path.to_owned(), e)
    }
}

/// The largest file [`read_checked`] reads (the config, key, install id and pause
/// files are a few hundred bytes).
const READ_LIMIT: u64 = 1 << 20;

/// Reads a file the trust rules accept ([`Strictness::Trusted`]). `Ok(None)` when it
/// does not exist.
pub(crate) fn read_checked(path: &Path, link: DirLink) -> Result<Option<Vec<u8>>, FileError> {
    let Some(file) = open_checked(path, link, Strictness::Trusted, false)? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.take(READ_LIMIT)
        .read_to_end(&mut bytes)
        .map_err(|e| FileError::Io(path.to_owned(), e))?;
    Ok(Some(bytes))
}

/// Why `path` would be refused, if it would; `None` when it is missing or accepted.
/// Reads nothing but metadata (for `telemetry status`).
pub(crate) fn inspect_file(path: &Path, link: DirLink, strictness: Strictness) -> Option<Refused> {
    match open_checked(path, link, strictness, false) {
        Err(FileError::Refused(r)) => Some(r),
        _ => None,
    }
}

/// Opens `path` for appending (created 0600 if missing), in a directory that passes the
/// rules (created 0700 if missing). An existing file with wider permissions is
/// tightened to 0600; one that is a link, not a regular file, or someone else's, is
/// refused.
#[cfg(test)]
pub(crate) fn open_append(path: &Path, link: DirLink) -> Result<File, TelemetryError> {
    let (dir, name) = split(path)?;
    let real_dir = prepare_dir_for(path, dir, link)?;
    open_append_in(&real_dir, name, path)
}

/// [`open_append`] in a directory already checked and resolved.
pub(crate) fn open_append_in(
    real_dir: &Path,
    name: &std::ffi::OsStr,
    shown: &Path,
) -> Result<File, TelemetryError> {
    let target = real_dir.join(name);
    let file = private_options()
        .append(true)
        .create(true)
        .open(&target)
        .map_err(|e| match open_error(shown, &target, e) {
            FileError::Refused(r) => TelemetryError::from(r),
            FileError::Io(path, e) => TelemetryError::io("open", path, e),
        })?;
    check_handle(&file, shown, Strictness::Tighten)?;
    Ok(file)
}

/// Writes `bytes` to a new, uniquely named temp file in `dir` (0600) and syncs it.
/// `dir` must already be checked (see [`prepare_dir`]).
pub(crate) fn write_private_temp(dir: &Path, bytes: &[u8]) -> Result<PathBuf, TelemetryError> {
    let path = dir.join(format!(".tmp-{}", crate::util::random::uuid_v4().simple()));
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
/// never a torn file. The directory must pass the rules (it is created 0700 if
/// missing); an existing file there that the rules refuse (a link, someone else's,
/// writable by others) is left alone and the write fails.
pub(crate) fn atomic_write(path: &Path, bytes: &[u8], link: DirLink) -> Result<(), TelemetryError> {
    let (dir, name) = split(path)?;
    let real_dir = prepare_dir_for(path, dir, link)?;
    let target = real_dir.join(name);
    if let Err(e) = check_replaceable(&target, path) {
        return Err(e.into());
    }
    let tmp = write_private_temp(&real_dir, bytes)?;
    // `rename` replaces the directory entry; it never follows a link there.
    fs::rename(&tmp, &target).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        TelemetryError::io("replace", path, e)
    })
}

/// Whether an existing `target` (in a checked directory) may be replaced: missing, or a
/// file the read rules would accept.
fn check_replaceable(target: &Path, shown: &Path) -> Result<(), FileError> {
    match private_options().read(true).open(target) {
        Ok(file) => Ok(check_handle(&file, shown, Strictness::Trusted)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => match open_error(shown, target, e) {
            refused @ FileError::Refused(_) => Err(refused),
            // Unreadable but ours to replace (e.g. mode 0200): the rename decides.
            FileError::Io(..) => Ok(()),
        },
    }
}

#[cfg(feature = "spool")]
/// Makes the entries of `dir` (a file created or renamed in it) durable: on Unix the
/// directory itself is synced, as `fsync(2)` asks for; elsewhere a no-op (Windows has
/// no directory handle to sync without extra flags, and NTFS journals the rename).
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Publishes `bytes` at `path` only if nothing is there yet (temp file + `hard_link`,
/// which never follows or replaces an existing entry). `Ok(false)` when another file
/// was there first. The directory is created (0700) and checked.
pub(crate) fn publish_new(
    path: &Path,
    bytes: &[u8],
    link: DirLink,
) -> Result<bool, TelemetryError> {
    let (dir, name) = split(path)?;
    let real_dir = prepare_dir_for(path, dir, link)?;
    let tmp = write_private_temp(&real_dir, bytes)?;
    let published = fs::hard_link(&tmp, real_dir.join(name));
    let _ = fs::remove_file(&tmp);
    match published {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(TelemetryError::io("create", path, e)),
    }
}

/// Deletes `path` if its directory passes the rules. `Ok(false)` when there was none.
/// (Unlinking never follows a link; the directory check keeps it from deleting in a
/// directory someone else controls.)
pub(crate) fn remove_checked(path: &Path, link: DirLink) -> Result<bool, TelemetryError> {
    let (dir, name) = split(path)?;
    let Some(real_dir) = check_dir(dir, link).map_err(|r| for_file(path, r))? else {
        return Ok(false);
    };
    match fs::remove_file(real_dir.join(name)) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(TelemetryError::io("delete", path, e)),
    }
}

/// Whether `path`, an entry of a directory already checked and resolved, may be
/// deleted as one of the library's own files: `Ok(true)` for a regular file owned by
/// the current user, judged by `lstat` (a symbolic link is judged as the link, never
/// followed), `Ok(false)` when there is none, refused otherwise. Nothing is opened:
/// deleting acts on the name, and only the user can change the names in a checked
/// directory, so the answer still holds when the caller unlinks it.
pub(crate) fn check_own_entry(path: &Path) -> Result<bool, Refused> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(refused(path, format!("cannot be inspected: {e}"))),
    };
    if meta.file_type().is_symlink() {
        return Err(refused(
            path,
            "is a symbolic link; telemetry does not follow it",
        ));
    }
    if !meta.is_file() {
        return Err(refused(path, "is not a regular file"));
    }
    #[cfg(unix)]
    unix::check_owner(&meta, path)?;
    Ok(true)
}

#[cfg(unix)]
mod unix {
    use std::fs::File;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::path::Path;
    use std::sync::OnceLock;

    use super::{Refused, Strictness, refused};

    const GROUP_OTHER_WRITE: u32 = 0o022;
    const STICKY: u32 = 0o1000;

    /// The uid files this process creates are owned by (the effective, on Linux the
    /// file-system, uid). Read, without `unsafe` and without touching the disk, from a
    /// pipe this process creates: the kernel stamps a new pipe with its creator's uid
    /// (Linux `get_pipe_inode`, the BSDs' and macOS's `pipe_stat`). `None` if no pipe
    /// can be made (out of descriptors): then nothing is trusted.
    pub(super) fn current_uid() -> Option<u32> {
        static UID: OnceLock<Option<u32>> = OnceLock::new();
        *UID.get_or_init(|| {
            let (reader, _writer) = std::io::pipe().ok()?;
            let file = File::from(std::os::fd::OwnedFd::from(reader));
            file.metadata().ok().map(|m| m.uid())
        })
    }

    fn uid_or_refuse(path: &Path) -> Result<u32, Refused> {
        current_uid().ok_or_else(|| {
            refused(
                path,
                "cannot be checked: the current user could not be determined",
            )
        })
    }

    pub(super) fn check_resolved_dir(shown: &Path, real: &Path) -> Result<(), Refused> {
        let uid = uid_or_refuse(shown)?;
        let via = if real == shown {
            String::new()
        } else {
            format!(" (resolved to {})", real.display())
        };
        let meta = std::fs::metadata(real)
            .map_err(|e| refused(shown, format!("cannot be inspected{via}: {e}")))?;
        if !meta.is_dir() {
            return Err(refused(shown, format!("is not a directory{via}")));
        }
        if meta.uid() != uid {
            return Err(refused(
                shown,
                format!(
                    "is owned by uid {}, not by the current user (uid {uid}){via}",
                    meta.uid()
                ),
            ));
        }
        if meta.mode() & GROUP_OTHER_WRITE != 0 {
            return Err(refused(
                shown,
                format!(
                    "is writable by group or others (mode {:o}){via}; run `chmod go-w` on it",
                    meta.mode() & 0o7777
                ),
            ));
        }
        for ancestor in real.ancestors().skip(1) {
            let meta = std::fs::metadata(ancestor).map_err(|e| {
                refused(
                    shown,
                    format!("cannot be checked: {}: {e}", ancestor.display()),
                )
            })?;
            if meta.uid() != uid && meta.uid() != 0 {
                return Err(refused(
                    shown,
                    format!(
                        "lies in {}, owned by uid {} (neither the current user, uid {uid}, nor root){via}",
                        ancestor.display(),
                        meta.uid()
                    ),
                ));
            }
            if meta.mode() & GROUP_OTHER_WRITE != 0 && meta.mode() & STICKY == 0 {
                return Err(refused(
                    shown,
                    format!(
                        "lies in {}, writable by group or others without the sticky bit (mode {:o}){via}",
                        ancestor.display(),
                        meta.mode() & 0o7777
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `meta` is of a file the current user owns.
    pub(super) fn check_owner(meta: &std::fs::Metadata, shown: &Path) -> Result<(), Refused> {
        let uid = uid_or_refuse(shown)?;
        if meta.uid() != uid {
            return Err(refused(
                shown,
                format!(
                    "is owned by uid {}, not by the current user (uid {uid})",
                    meta.uid()
                ),
            ));
        }
        Ok(())
    }

    pub(super) fn check_handle(
        file: &File,
        shown: &Path,
        strictness: Strictness,
    ) -> Result<(), Refused> {
        let meta = file
            .metadata()
            .map_err(|e| refused(shown, format!("cannot be inspected: {e}")))?;
        if !meta.is_file() {
            return Err(refused(shown, "is not a regular file"));
        }
        check_owner(&meta, shown)?;
        let mode = meta.mode() & 0o7777;
        match strictness {
            Strictness::Trusted if mode & GROUP_OTHER_WRITE != 0 => Err(refused(
                shown,
                format!(
                    "is writable by group or others (mode {mode:o}); check its content, then `chmod 600` it"
                ),
            )),
            Strictness::Tighten if mode & 0o077 != 0 => file
                .set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|e| {
                    refused(
                        shown,
                        format!("has mode {mode:o} and cannot be made 0600: {e}"),
                    )
                }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_content_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a").join("f.json");
        atomic_write(&path, b"one", DirLink::Allowed).unwrap();
        atomic_write(&path, b"two", DirLink::Allowed).unwrap();
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

    #[cfg(unix)]
    #[test]
    fn current_uid_is_the_owner_of_what_we_create() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, b"x").unwrap();
        assert_eq!(
            unix::current_uid(),
            Some(fs::metadata(&path).unwrap().uid())
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_and_loose_modes_are_refused_and_never_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        fs::write(&real, b"{}").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();

        assert!(matches!(
            read_checked(&link, DirLink::Allowed),
            Err(FileError::Refused(_))
        ));
        assert!(atomic_write(&link, b"new", DirLink::Allowed).is_err());
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(open_append(&link, DirLink::Allowed).is_err());
        assert_eq!(fs::read(&real).unwrap(), b"{}", "the target is untouched");

        fs::set_permissions(&real, fs::Permissions::from_mode(0o620)).unwrap();
        let err = read_checked(&real, DirLink::Allowed).unwrap_err();
        let FileError::Refused(r) = err else {
            panic!("{err:?}")
        };
        assert!(r.reason.contains("writable by group or others"), "{r}");
        assert!(atomic_write(&real, b"new", DirLink::Allowed).is_err());
        assert_eq!(fs::read(&real).unwrap(), b"{}");

        // Data of ours is tightened instead.
        let log = dir.path().join("events.jsonl");
        fs::write(&log, b"").unwrap();
        fs::set_permissions(&log, fs::Permissions::from_mode(0o644)).unwrap();
        drop(open_append(&log, DirLink::Allowed).unwrap());
        assert_eq!(
            fs::metadata(&log).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[cfg(unix)]
    #[test]
    fn directories_are_judged_by_where_they_lead() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("dotfiles/config");
        fs::create_dir_all(&target).unwrap();
        fs::set_permissions(
            dir.path().join("dotfiles"),
            fs::Permissions::from_mode(0o700),
        )
        .unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o700)).unwrap();
        let link = dir.path().join("config");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(check_dir(&link, DirLink::Allowed).unwrap().is_some());
        assert!(
            check_dir(&link.join("missing"), DirLink::Allowed)
                .unwrap()
                .is_none()
        );
        let err = check_dir(&link, DirLink::Refused).unwrap_err();
        assert!(err.reason.contains("symbolic link"), "{err}");

        fs::set_permissions(&target, fs::Permissions::from_mode(0o777)).unwrap();
        assert!(check_dir(&link, DirLink::Allowed).is_err());
        fs::set_permissions(&target, fs::Permissions::from_mode(0o700)).unwrap();
        // A group-writable ancestor without the sticky bit is refused; with it, accepted.
        fs::set_permissions(
            dir.path().join("dotfiles"),
            fs::Permissions::from_mode(0o770),
        )
        .unwrap();
        let err = check_dir(&link, DirLink::Allowed).unwrap_err();
        assert!(err.reason.contains("without the sticky bit"), "{err}");
        // No file in a refused directory reads as no file; a file there is refused.
        let file = link.join("telemetry.json");
        assert!(matches!(read_checked(&file, DirLink::Allowed), Ok(None)));
        fs::write(&file, b"{}").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(matches!(
            read_checked(&file, DirLink::Allowed),
            Err(FileError::Refused(_))
        ));
        assert!(atomic_write(&link.join("new.json"), b"{}", DirLink::Allowed).is_err());
        fs::set_permissions(
            dir.path().join("dotfiles"),
            fs::Permissions::from_mode(0o1777),
        )
        .unwrap();
        assert!(check_dir(&link, DirLink::Allowed).unwrap().is_some());
        assert!(matches!(read_checked(&file, DirLink::Allowed), Ok(Some(_))));
    }
}
