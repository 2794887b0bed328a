//! The local secret key of `Hashed` values: 32 random bytes in
//! `<config dir>/telemetry.key` (0600, hex), created on first use, never sent. It is
//! identity: whoever holds it can test guesses against the digests, so it goes
//! through the trust rules like the consent file and `reset` deletes it.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::error::TelemetryError;
use crate::layout::KEY_FILE;
use crate::util::fs::{self as fsutil, DirLink};

/// Bytes of key.
pub(crate) const KEY_LEN: usize = 32;

/// The key last read, and the config dir it belongs to.
static CACHE: Mutex<Option<(PathBuf, [u8; KEY_LEN])>> = Mutex::new(None);

/// The key for `dir`, read once per process.
pub(crate) fn cached_key(dir: &Path) -> Result<[u8; KEY_LEN], TelemetryError> {
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, key)) = cache.as_ref().filter(|(cached_dir, _)| cached_dir == dir) {
        return Ok(*key);
    }
    let key = load_or_create_key(&dir.join(KEY_FILE))?;
    *cache = Some((dir.to_owned(), key));
    Ok(key)
}

/// Reads the key, or creates it (0600). Two processes racing agree on one key: the new
/// key is published with `hard_link`, which fails if another process was first. A key
/// file the trust rules refuse is an error, and is never replaced; so is one that does
/// not hold a key.
pub(crate) fn load_or_create_key(path: &Path) -> Result<[u8; KEY_LEN], TelemetryError> {
    if let Some(key) = read_key(path)? {
        return Ok(key);
    }
    let mut key = [0_u8; KEY_LEN];
    getrandom::fill(&mut key).map_err(|e| TelemetryError::NoRandomness {
        purpose: "the local key",
        message: e.to_string(),
    })?;
    if fsutil::publish_new(
        path,
        crate::util::hex::encode(&key).as_bytes(),
        DirLink::Allowed,
    )? {
        return Ok(key);
    }
    read_key(path)?.ok_or_else(|| corrupt_key(path))
}

/// The key in `path`: `Ok(None)` when there is no file; an error when the file is
/// refused, unreadable or does not hold a key.
fn read_key(path: &Path) -> Result<Option<[u8; KEY_LEN]>, TelemetryError> {
    let Some(bytes) = fsutil::read_checked(path, DirLink::Allowed)? else {
        return Ok(None);
    };
    parse_key(&bytes).map(Some).ok_or_else(|| corrupt_key(path))
}

fn parse_key(bytes: &[u8]) -> Option<[u8; KEY_LEN]> {
    let text = std::str::from_utf8(bytes).ok()?;
    let text = text.trim();
    if text.len() != KEY_LEN * 2 {
        return None;
    }
    let mut key = [0_u8; KEY_LEN];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(key)
}

/// Forgets the cached key (after `reset` deleted it): the next `Hashed::new` creates a
/// new one.
pub(crate) fn forget_cached_key() {
    *CACHE.lock().unwrap_or_else(PoisonError::into_inner) = None;
}

fn corrupt_key(path: &Path) -> TelemetryError {
    TelemetryError::CorruptFile {
        path: path.to_owned(),
        reason: "it does not hold a key".into(),
    }
}
