//! Anonymous identity: the salted machine id, the persisted install id that stands in
//! where the OS has no machine id, and the per-process session id.
//!
//! The raw machine id never leaves this module: only `SHA-256(salt ‖ 0x00 ‖ id)` does.

use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::TelemetryError;

pub(crate) mod key;
use crate::util::fs::DirLink;

/// The file, inside a tool's telemetry data dir, that holds the install id.
pub(crate) use crate::layout::INSTALL_ID_FILE;

/// How many times this process derived a machine id (observable proof that a
/// disabled context never does).
static DERIVATIONS: AtomicUsize = AtomicUsize::new(0);

/// The salted, hashed machine identifier sent with every event.
///
/// ```
/// let id = telemetry::MachineId::derive("my-tool-salt");
/// assert_eq!(id.len(), 64);
/// assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
/// assert_eq!(id, telemetry::MachineId::derive("my-tool-salt"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MachineId;

impl MachineId {
    /// Hex SHA-256 of `salt` and the OS machine id (`machine_uid::get()`): 64 lowercase
    /// hex chars, stable across runs on one machine, different for every salt.
    ///
    /// Where the OS has no machine id (some containers), a random install id persisted
    /// in the platform data dir (`<data>/telemetry/install-id-<salt digest>`) stands in;
    /// use [`MachineId::derive_in`] to choose that directory. If the install id cannot
    /// be persisted either, an ephemeral random id is used (and differs per process).
    ///
    /// ```
    /// assert_ne!(telemetry::MachineId::derive("a"), telemetry::MachineId::derive("b"));
    /// ```
    pub fn derive(salt: &str) -> String {
        let fallback = crate::layout::data_home().map(|data| {
            let tag = &crate::util::hex::encode(&hmac_sha256::Hash::hash(salt.as_bytes()))[..16];
            data.join("telemetry").join(format!("install-id-{tag}"))
        });
        derive_with(salt, fallback.as_deref())
    }

    /// Like [`MachineId::derive`], with the install-id fallback kept in
    /// `data_dir/install_id` (mode 0600). This is what a `TelemetryContext` uses, with
    /// its own data dir, so `telemetry reset` can delete it.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let id = telemetry::MachineId::derive_in("salt", dir.path());
    /// assert_eq!(id, telemetry::MachineId::derive_in("salt", dir.path()));
    /// ```
    pub fn derive_in(salt: &str, data_dir: &Path) -> String {
        derive_with(salt, Some(&data_dir.join(INSTALL_ID_FILE)))
    }
}

fn derive_with(salt: &str, install_id_file: Option<&Path>) -> String {
    DERIVATIONS.fetch_add(1, Ordering::Relaxed);
    let raw = match machine_uid::get() {
        Ok(id) if !id.trim().is_empty() => id.trim().to_owned(),
        _ => install_id_file
            .and_then(|path| load_or_create_install_id(path).ok())
            .unwrap_or_else(|| crate::util::random::uuid_v4().to_string()),
    };
    salted_hash(salt, &raw)
}

/// `hex(SHA-256(salt ‖ 0x00 ‖ id))`. The separator keeps `("ab", "c")` and `("a", "bc")` apart.
pub(crate) fn salted_hash(salt: &str, id: &str) -> String {
    let mut hasher = hmac_sha256::Hash::new();
    hasher.update(salt.as_bytes());
    hasher.update([0_u8]);
    hasher.update(id.as_bytes());
    crate::util::hex::encode(&hasher.finalize())
}

/// Reads the install id, or creates it. Two processes racing here agree on one id: the
/// new id is written to a private temp file and published with `hard_link`, which fails
/// if another process published first; the loser reads the winner's id.
///
/// The file and its directory go through the trust rules (`fsutil`; the data dir must
/// not be a symbolic link): a refused or corrupt file is an error, never replaced, and
/// the caller falls back to an ephemeral id.
pub(crate) fn load_or_create_install_id(path: &Path) -> Result<String, TelemetryError> {
    if let Some(id) = read_install_id(path)? {
        return Ok(id);
    }
    let id = crate::util::random::uuid_v4().to_string();
    if crate::util::fs::publish_new(path, id.as_bytes(), DirLink::Refused)? {
        return Ok(id);
    }
    read_install_id(path)?.ok_or_else(|| TelemetryError::CorruptFile {
        path: path.to_owned(),
        reason: "it does not hold an install id".into(),
    })
}

/// The install id in `path`: `Ok(None)` when there is no file.
fn read_install_id(path: &Path) -> Result<Option<String>, TelemetryError> {
    let Some(bytes) = crate::util::fs::read_checked(path, DirLink::Refused)? else {
        return Ok(None);
    };
    std::str::from_utf8(&bytes)
        .ok()
        .and_then(crate::util::uuid::Uuid::parse)
        .map(|id| Some(id.to_string()))
        .ok_or_else(|| TelemetryError::CorruptFile {
            path: path.to_owned(),
            reason: "it does not hold an install id".into(),
        })
}

/// How many machine ids this process has derived so far.
#[cfg(feature = "test-internals")]
pub(crate) fn derivations() -> usize {
    DERIVATIONS.load(Ordering::Relaxed)
}

/// The per-process session id (UUID v4), created on first use.
pub(crate) fn session_id() -> std::sync::Arc<str> {
    static SESSION: OnceLock<std::sync::Arc<str>> = OnceLock::new();
    SESSION
        .get_or_init(|| crate::util::random::uuid_v4().to_string().into())
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn salted_hash_is_64_hex_and_separates_salt_from_id() {
        let a = salted_hash("ab", "c");
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(a, salted_hash("a", "bc"));
        // SHA-256 of "my-tool" 0x00 "machine-1234", as any SHA-256 tool computes it
        // (`printf 'my-tool\0machine-1234' | sha256sum`): the id is the standard hash,
        // whichever implementation computes it.
        assert_eq!(
            salted_hash("my-tool", "machine-1234"),
            "007241e043d155589591b676fb976eb3c9723025dfb97a609e5ae54d11f6ece6"
        );
    }

    #[test]
    fn install_id_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join(INSTALL_ID_FILE);
        let first = load_or_create_install_id(&path).unwrap();
        let second = load_or_create_install_id(&path).unwrap();
        assert_eq!(first, second);
        assert_eq!(fs::read_to_string(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn an_install_id_written_by_hand_in_another_uuid_form_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(INSTALL_ID_FILE);
        for (written, read) in [
            (
                "0b8e6c4e-3f5a-1c1d-9a7b-2e4f6a8c0d1e\n",
                "0b8e6c4e-3f5a-1c1d-9a7b-2e4f6a8c0d1e",
            ),
            (
                "0B8E6C4E3F5A4C1D9A7B2E4F6A8C0D1E",
                "0b8e6c4e-3f5a-4c1d-9a7b-2e4f6a8c0d1e",
            ),
        ] {
            fs::write(&path, written).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
            }
            assert_eq!(load_or_create_install_id(&path).unwrap(), read);
            assert_eq!(
                fs::read_to_string(&path).unwrap(),
                written,
                "left as it was"
            );
        }
    }

    #[test]
    fn corrupt_install_id_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(INSTALL_ID_FILE);
        fs::write(&path, "not a uuid").unwrap();
        // A corrupt file is never sent as-is, and creating a new one cannot replace it
        // (no clobbering of a file we do not understand): the caller falls back.
        assert!(load_or_create_install_id(&path).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn an_install_id_behind_a_link_or_writable_by_others_is_not_used_nor_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let id = "00000000-0000-4000-8000-000000000000";
        let elsewhere = dir.path().join("elsewhere");
        fs::write(&elsewhere, id).unwrap();
        fs::set_permissions(&elsewhere, fs::Permissions::from_mode(0o600)).unwrap();
        let data = dir.path().join("data");
        fs::create_dir(&data).unwrap();
        let path = data.join(INSTALL_ID_FILE);
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        let err = load_or_create_install_id(&path).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(
            fs::symlink_metadata(&path)
                .unwrap()
                .file_type()
                .is_symlink()
        );

        fs::remove_file(&path).unwrap();
        fs::write(&path, id).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o646)).unwrap();
        let err = load_or_create_install_id(&path).unwrap_err();
        assert!(
            err.to_string().contains("writable by group or others"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), id);

        // A data dir that is a link is refused as a whole.
        let linked = dir.path().join("linked");
        std::os::unix::fs::symlink(&data, &linked).unwrap();
        assert!(load_or_create_install_id(&linked.join("fresh")).is_err());
        assert!(!data.join("fresh").exists());
    }
}
