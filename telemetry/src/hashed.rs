//! `Hashed`: the one sanctioned way to correlate an identifier (a project directory, a
//! repository URL) without sending it.
//!
//! `HMAC-SHA256(key, attr_key ‖ 0x00 ‖ value)`, truncated to 128 bits (32 hex chars),
//! keyed by a random secret that is created on first use beside the consent file
//! (`<config dir>/telemetry.key`, mode 0600) and never leaves the machine. Without the
//! key the digest cannot be reversed by guessing likely values (a plain hash of a
//! path could be); `telemetry reset` deletes the key, so later digests no longer match
//! earlier ones. The attribute key separates domains: one value hashed for two
//! attributes gives two unrelated digests.
//!
//! The key file goes through the same trust rules as the consent file (`fsutil`): a
//! key that is a symbolic link, someone else's, or writable by group or others is not
//! used (whoever could write it could reverse the digests) and never replaced; the
//! value is then left out of the event.

use std::path::Path;

use crate::error::TelemetryError;
use crate::identity::key::{cached_key, load_or_create_key};
use crate::safe_value::SafeValue;
use crate::value::AttrValue;

const DIGEST_BYTES: usize = 16;

/// A keyed, truncated hash of an identifier; sent instead of the identifier itself.
///
/// When telemetry is off (nothing installed, not consented, compiled out) no key is
/// read or created and the value is left out of the event.
///
/// ```
/// let project = std::path::Path::new("/home/alice/secret-project");
/// let hashed = telemetry::Hashed::new("project", project.as_os_str().as_encoded_bytes());
/// // No enabled context is installed here: nothing is computed, nothing will be sent.
/// assert!(hashed.digest().is_none());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Hashed(Option<String>);

impl Hashed {
    /// Hashes `value` for the attribute `attr_key` with the installed context's key.
    ///
    /// ```
    /// let h = telemetry::Hashed::new("repo", "https://example.com/me/repo.git");
    /// # drop(h);
    /// ```
    pub fn new(attr_key: &str, value: impl AsRef<[u8]>) -> Self {
        if !crate::switch::enabled() {
            return Self(None);
        }
        let Some(dir) =
            crate::global::global().and_then(|ctx| ctx.config_dir().map(Path::to_owned))
        else {
            return Self(None);
        };
        match cached_key(&dir) {
            Ok(key) => Self(Some(digest(&key, attr_key, value.as_ref()))),
            Err(e) => {
                crate::util::log::debug!(error = %e, "telemetry: no key for Hashed; value left out");
                Self(None)
            }
        }
    }

    /// Hashes with an explicit key file (created if missing). For tools that manage
    /// their own key location, and for tests.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let a = telemetry::Hashed::with_key_file(&dir.path().join("k"), "project", "/src/a").unwrap();
    /// let b = telemetry::Hashed::with_key_file(&dir.path().join("k"), "project", "/src/a").unwrap();
    /// assert_eq!(a, b);
    /// assert_eq!(a.digest().unwrap().len(), 32);
    /// ```
    pub fn with_key_file(
        key_file: &Path,
        attr_key: &str,
        value: impl AsRef<[u8]>,
    ) -> Result<Self, TelemetryError> {
        let key = load_or_create_key(key_file)?;
        Ok(Self(Some(digest(&key, attr_key, value.as_ref()))))
    }

    /// The hex digest, if one was computed.
    ///
    /// ```
    /// assert_eq!(telemetry::Hashed::new("k", "v").digest(), None);
    /// ```
    pub fn digest(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl std::fmt::Debug for Hashed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(d) => write!(f, "Hashed({d})"),
            None => f.write_str("Hashed(<not computed>)"),
        }
    }
}

impl crate::safe_value::sealed::SafeValueSealed for Hashed {}
impl SafeValue for Hashed {
    const KIND: &'static str = "hashed";
    fn to_attr_value(&self) -> Option<AttrValue> {
        self.0.clone().map(AttrValue::owned_str)
    }
}

fn digest(key: &[u8], attr_key: &str, value: &[u8]) -> String {
    let mut mac = hmac_sha256::HMAC::new(key);
    mac.update(attr_key.as_bytes());
    mac.update([0]);
    mac.update(value);
    let bytes = mac.finalize();
    crate::util::hex::encode(&bytes[..DIGEST_BYTES])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::key::KEY_LEN;
    use crate::layout::KEY_FILE;

    #[test]
    fn digests_are_keyed_domain_separated_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join(KEY_FILE);
        let a = Hashed::with_key_file(&key, "project", "/home/alice/p").unwrap();
        assert_eq!(
            a,
            Hashed::with_key_file(&key, "project", "/home/alice/p").unwrap()
        );
        assert_ne!(
            a,
            Hashed::with_key_file(&key, "repo", "/home/alice/p").unwrap()
        );
        assert_ne!(
            a,
            Hashed::with_key_file(&key, "project", "/home/alice/q").unwrap()
        );
        let digest = a.digest().unwrap();
        assert_eq!(digest.len(), 32);
        assert!(!digest.contains("alice"));

        let other = tempfile::tempdir().unwrap();
        let b = Hashed::with_key_file(&other.path().join(KEY_FILE), "project", "/home/alice/p")
            .unwrap();
        assert_ne!(a, b, "another key, another digest");
    }

    #[test]
    fn key_file_is_private_and_never_the_digest() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("cfg").join(KEY_FILE);
        let h = Hashed::with_key_file(&key, "k", "v").unwrap();
        let text = std::fs::read_to_string(&key).unwrap();
        assert_eq!(text.len(), 64);
        assert!(!text.contains(h.digest().unwrap()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn hmac_matches_a_known_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = hmac_sha256::HMAC::new(b"Jefe");
        mac.update(b"what do ya want for nothing?");
        let hex = crate::util::hex::encode(&mac.finalize());
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_key_writable_by_others_or_behind_a_link_is_refused_and_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join(KEY_FILE);
        let known = "00".repeat(KEY_LEN);
        std::fs::write(&key, &known).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o622)).unwrap();
        let err = Hashed::with_key_file(&key, "k", "v").unwrap_err();
        assert!(matches!(err, TelemetryError::Untrusted { .. }), "{err:?}");
        assert_eq!(std::fs::read_to_string(&key).unwrap(), known);

        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("link.key");
        std::os::unix::fs::symlink(&key, &link).unwrap();
        assert!(Hashed::with_key_file(&link, "k", "v").is_err());
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(
            Hashed::with_key_file(&key, "k", "v").is_ok(),
            "the real file is fine"
        );
    }
}
