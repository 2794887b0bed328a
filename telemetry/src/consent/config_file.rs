//! The user's persisted choice: `<config dir>/telemetry.json`.
//!
//! Written atomically (temp file + rename), mode 0600; unknown fields are kept. A file
//! that cannot be read, parsed, or is of a newer version means "no consent" and is left
//! alone until an explicit `enable`, `disable` or `reset` replaces it.
//!
//! A file the trust rules refuse (a symbolic link, not owned by the user, writable by
//! group or others, or in a directory someone else controls: see `fsutil`) also means
//! "no consent", but nothing ever replaces it: `enable`, `disable` and `reset` fail
//! naming the path and the reason, so the user fixes or removes it deliberately.

use std::path::Path;

use crate::error::TelemetryError;
use crate::util::fs::{self as fsutil, DirLink, FileError};
use crate::util::json::{self, Json, Object, write};

/// File name of the consent file inside the tool's config dir.
pub const CONFIG_FILE: &str = "telemetry.json";

/// The format version this library writes and understands.
pub const CONFIG_VERSION: u64 = 1;

/// The contents of `telemetry.json`.
///
/// ```
/// let file = telemetry::consent::ConfigFile::decided(true);
/// assert_eq!(file.enabled, Some(true));
/// assert!(file.to_json().contains(r#""version": 1,"#));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ConfigFile {
    /// Format version; files with a larger version are not interpreted.
    pub version: u64,
    /// The user's decision, once made (`telemetry enable` / `disable`).
    pub enabled: Option<bool>,
    /// When the decision was made (RFC 3339, UTC).
    pub decided_at: Option<String>,
    /// When the opt-out notice was shown (RFC 3339, UTC).
    pub notice_shown_at: Option<String>,
    /// Whether telemetry was ever enabled on this machine (since the file was created or
    /// the last deletion request was sent): `telemetry reset` sends a deletion request
    /// only if so. Absent in files written before this field existed: see
    /// [`ConfigFile::was_ever_enabled`].
    pub ever_enabled: Option<bool>,
    /// `local` when the user chose to keep data on this machine only (`telemetry
    /// local`); written with `enabled: false`, so that a tool built with an older
    /// version of this library, which does not know the field, stays off.
    pub level: Option<super::Level>,
    /// Fields this version does not know, kept as they were (written back after the
    /// known ones).
    extra: Object,
}

impl Default for ConfigFile {
    fn default() -> Self {
        Self {
            version: CONFIG_VERSION,
            enabled: None,
            decided_at: None,
            notice_shown_at: None,
            ever_enabled: Some(false),
            level: None,
            extra: Object::new(),
        }
    }
}

impl ConfigFile {
    /// A file recording the decision `enabled`, made now.
    ///
    /// ```
    /// assert_eq!(telemetry::consent::ConfigFile::decided(false).enabled, Some(false));
    /// ```
    pub fn decided(enabled: bool) -> Self {
        Self::default().with_decision(enabled)
    }

    /// This file with the decision `enabled`, made now (unknown fields kept).
    ///
    /// ```
    /// let f = telemetry::consent::ConfigFile::default().with_decision(true);
    /// assert!(f.decided_at.is_some());
    /// ```
    #[must_use]
    pub fn with_decision(mut self, enabled: bool) -> Self {
        self.version = CONFIG_VERSION;
        self.enabled = Some(enabled);
        self.level = None;
        self.decided_at = Some(now());
        if enabled {
            self.ever_enabled = Some(true);
        }
        self
    }

    /// This file with the user's choice of `level`, made now: `on` and `off` are
    /// `enabled: true|false`; `local` is `enabled: false` with `level: local`.
    ///
    /// ```
    /// use telemetry::consent::{ConfigFile, Level};
    /// let f = ConfigFile::default().with_level(Level::Local);
    /// assert_eq!((f.enabled, f.level), (Some(false), Some(Level::Local)));
    /// assert_eq!(f.decided_level(), Some(Level::Local));
    /// ```
    #[must_use]
    pub fn with_level(self, level: super::Level) -> Self {
        let mut file = self.with_decision(level == super::Level::On);
        if level == super::Level::Local {
            file.level = Some(level);
        }
        file
    }

    /// The level this file decides, if it holds a decision.
    ///
    /// ```
    /// use telemetry::consent::{ConfigFile, Level};
    /// assert_eq!(ConfigFile::decided(true).decided_level(), Some(Level::On));
    /// assert_eq!(ConfigFile::default().decided_level(), None);
    /// ```
    pub fn decided_level(&self) -> Option<super::Level> {
        match (self.level, self.enabled?) {
            (Some(super::Level::Local), _) => Some(super::Level::Local),
            (_, true) => Some(super::Level::On),
            (_, false) => Some(super::Level::Off),
        }
    }

    /// Whether telemetry may have sent data from this machine, as far as this file
    /// tells: `ever_enabled` when recorded. A file from before that field existed
    /// counts as enabled if it says `enabled: true` or that the opt-out notice was shown
    /// (collection started on the next run); otherwise it is unknown, taken as "no"
    /// (`reset` then sends nothing and says how to send a request anyway).
    ///
    /// ```
    /// use telemetry::consent::ConfigFile;
    /// assert!(ConfigFile::decided(true).was_ever_enabled());
    /// assert!(!ConfigFile::default().was_ever_enabled());
    /// let legacy = ConfigFile::from_json(br#"{"version":1,"enabled":true}"#).unwrap();
    /// assert!(legacy.was_ever_enabled());
    /// let legacy = ConfigFile::from_json(br#"{"version":1,"enabled":false}"#).unwrap();
    /// assert!(!legacy.was_ever_enabled());
    /// ```
    pub fn was_ever_enabled(&self) -> bool {
        self.ever_enabled
            .unwrap_or(self.enabled == Some(true) || self.notice_shown_at.is_some())
    }

    /// The file that `text` holds, or why it is not one: JSON, an object, `version` a
    /// non-negative integer, each known field of its type (`null` for an optional one
    /// is absent). Fields this version does not know are kept. A larger version than
    /// this one understands still parses: [`load_config`] refuses it.
    ///
    /// ```
    /// use telemetry::consent::ConfigFile;
    /// let file = ConfigFile::from_json(br#"{"version":1,"enabled":true,"theme":"dark"}"#).unwrap();
    /// assert_eq!(file.enabled, Some(true));
    /// assert!(file.to_json().contains(r#""theme": "dark""#));
    /// assert!(ConfigFile::from_json(br#"{"version":1,"enabled":"yes"}"#).is_err());
    /// ```
    pub fn from_json(text: &[u8]) -> Result<Self, TelemetryError> {
        Self::parse(text).map_err(|reason| TelemetryError::Serde {
            what: "the consent file",
            reason,
        })
    }

    /// [`ConfigFile::from_json`], with the reason a file is refused.
    fn parse(text: &[u8]) -> Result<Self, String> {
        let doc = json::parse(text).map_err(|e| e.to_string())?;
        let Json::Object(members) = doc else {
            return Err("it is not a JSON object".into());
        };
        let mut file = Self {
            version: 0,
            enabled: None,
            decided_at: None,
            notice_shown_at: None,
            ever_enabled: None,
            level: None,
            extra: Object::new(),
        };
        let mut version = None;
        for (key, value) in members {
            let wrong = || format!("`{key}` is not valid");
            match key.as_str() {
                "version" => version = Some(value.as_u64().ok_or_else(wrong)?),
                "enabled" => file.enabled = value.nullable(Json::as_bool).ok_or_else(wrong)?,
                "ever_enabled" => {
                    file.ever_enabled = value.nullable(Json::as_bool).ok_or_else(wrong)?;
                }
                "decided_at" => {
                    file.decided_at = value
                        .nullable(|v| v.as_str().map(str::to_owned))
                        .ok_or_else(wrong)?;
                }
                "notice_shown_at" => {
                    file.notice_shown_at = value
                        .nullable(|v| v.as_str().map(str::to_owned))
                        .ok_or_else(wrong)?;
                }
                "level" => {
                    file.level = value
                        .nullable(|v| v.as_str().and_then(super::Level::from_name))
                        .ok_or_else(wrong)?;
                }
                _ => file.extra.push((key, value)),
            }
        }
        file.version = version.ok_or("`version` is missing")?;
        Ok(file)
    }

    /// The file's text, as [`store_config`] writes it: indented JSON, the known fields
    /// first (an optional one only when set, but `enabled` and `decided_at` always),
    /// then the fields this version does not know, as they were.
    ///
    /// ```
    /// let text = telemetry::consent::ConfigFile::default().to_json();
    /// assert!(text.starts_with("{\n  \"version\": 1,\n  \"enabled\": null,"));
    /// ```
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        self.write_pretty(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// The document, indented, written from borrowed members: the unknown fields are
    /// not copied into a tree first.
    fn write_pretty(&self, out: &mut Vec<u8>) {
        let known = [
            ("version", Some(Json::UInt(self.version))),
            ("enabled", Some(self.enabled.into())),
            ("decided_at", Some(self.decided_at.clone().into())),
            (
                "notice_shown_at",
                self.notice_shown_at.clone().map(Json::Str),
            ),
            ("ever_enabled", self.ever_enabled.map(Json::Bool)),
            ("level", self.level.map(|l| Json::from(l.as_str()))),
        ];
        let mut members = Vec::with_capacity(known.len() + self.extra.len());
        for (key, value) in &known {
            if let Some(value) = value {
                members.push((*key, value));
            }
        }
        // Only keys `from_json` did not know are in `extra`.
        for (key, value) in &self.extra {
            members.push((key.as_str(), value));
        }
        write::object(out, &members, Some(0));
    }
}

fn now() -> String {
    crate::util::time::rfc3339_millis(std::time::SystemTime::now())
}

/// What was found at the config path.
///
/// ```
/// use telemetry::consent::{ConfigState, load_config};
/// let dir = tempfile::tempdir().unwrap();
/// assert!(matches!(load_config(&dir.path().join("telemetry.json")), ConfigState::Missing));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConfigState {
    /// No file (or no config dir): no decision yet.
    Missing,
    /// A file this version understands.
    Valid(ConfigFile),
    /// A file that is unreadable, corrupt or of a newer version: "no consent".
    /// `enable`, `disable` and `reset` replace it.
    Invalid {
        /// Why it was not used.
        reason: String,
    },
    /// A file the trust rules refuse (a symbolic link, someone else's, writable by group
    /// or others, in a directory someone else controls): "no consent", and never
    /// replaced.
    Refused {
        /// Why it was not used.
        reason: String,
    },
}

impl ConfigState {
    /// The parsed file, if valid.
    ///
    /// ```
    /// assert!(telemetry::consent::ConfigState::Missing.file().is_none());
    /// ```
    pub fn file(&self) -> Option<&ConfigFile> {
        match self {
            Self::Valid(file) => Some(file),
            _ => None,
        }
    }
}

/// Reads the consent file at `path`. Never fails: problems become [`ConfigState::Invalid`].
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("telemetry.json");
/// std::fs::write(&path, "{ not json").unwrap();
/// assert!(matches!(telemetry::consent::load_config(&path), telemetry::consent::ConfigState::Invalid { .. }));
/// ```
pub fn load_config(path: &Path) -> ConfigState {
    let bytes = match fsutil::read_checked(path, DirLink::Allowed) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return ConfigState::Missing,
        Err(FileError::Refused(r)) => {
            return ConfigState::Refused {
                reason: format!("{} is not trusted: it {}", r.path.display(), r.reason),
            };
        }
        Err(FileError::Io(_, e)) => {
            return ConfigState::Invalid {
                reason: format!("cannot read {}: {e}", path.display()),
            };
        }
    };
    match ConfigFile::parse(&bytes) {
        Ok(file) if file.version > CONFIG_VERSION => ConfigState::Invalid {
            reason: format!(
                "{} has version {}, newer than this tool understands ({CONFIG_VERSION})",
                path.display(),
                file.version
            ),
        },
        Ok(file) => ConfigState::Valid(file),
        Err(reason) => ConfigState::Invalid {
            reason: format!("{} is not valid: {reason}", path.display()),
        },
    }
}

/// Writes the consent file atomically with mode 0600, creating its directory (0700).
/// Fails, leaving everything as it was, when the directory or an existing file there
/// is not trusted (see [`ConfigState::Refused`]).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("mytool/telemetry.json");
/// telemetry::consent::store_config(&path, &telemetry::consent::ConfigFile::decided(true)).unwrap();
/// assert!(path.exists());
/// ```
pub fn store_config(path: &Path, file: &ConfigFile) -> Result<(), TelemetryError> {
    let mut bytes = Vec::new();
    file.write_pretty(&mut bytes);
    bytes.push(b'\n');
    fsutil::atomic_write(path, &bytes, DirLink::Allowed)
}

/// The file at `path` to update, or why it must be left alone: a refused file is never
/// replaced; an invalid one only by an explicit command (`replace_invalid`).
pub(crate) fn load_for_update(
    path: &Path,
    replace_invalid: bool,
) -> Result<ConfigFile, TelemetryError> {
    match load_config(path) {
        ConfigState::Missing => Ok(ConfigFile::default()),
        ConfigState::Valid(file) => Ok(file),
        // What a corrupt file said is unknown.
        ConfigState::Invalid { .. } if replace_invalid => Ok(ConfigFile {
            ever_enabled: None,
            ..ConfigFile::default()
        }),
        ConfigState::Invalid { reason } => Err(TelemetryError::CorruptFile {
            path: path.to_owned(),
            reason,
        }),
        ConfigState::Refused { .. } => Err(refused_error(path)),
    }
}

/// The error for a refused config file, naming it and why (read again for the
/// reason in the trust rules' own words).
fn refused_error(path: &Path) -> TelemetryError {
    match fsutil::read_checked(path, DirLink::Allowed) {
        Err(FileError::Refused(r)) => r.into(),
        _ => TelemetryError::Untrusted {
            path: path.to_owned(),
            reason: "is not trusted".into(),
        },
    }
}

/// Records that telemetry is enabled on this machine (`ever_enabled`), so that a later
/// `reset` knows a deletion request is due. Writes only when the file does not say so
/// yet; never touches an invalid or refused file.
pub(crate) fn record_ever_enabled(path: &Path) -> Result<(), TelemetryError> {
    let mut file = load_for_update(path, false)?;
    if file.ever_enabled == Some(true) {
        return Ok(());
    }
    file.ever_enabled = Some(true);
    store_config(path, &file)
}

/// Records that the opt-out notice was shown, keeping everything else in the file.
/// Refuses to touch an invalid file.
pub(crate) fn record_notice_shown(path: &Path) -> Result<(), TelemetryError> {
    let mut file = load_for_update(path, false)?;
    file.notice_shown_at = Some(now());
    store_config(path, &file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_unknown_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        std::fs::write(
            &path,
            r#"{"version":1,"enabled":true,"decided_at":"2026-01-01T00:00:00.000Z","theme":"dark","nested":{"a":[1,2]}}"#,
        )
        .unwrap();
        let ConfigState::Valid(file) = load_config(&path) else {
            panic!("valid file")
        };
        store_config(&path, &file.with_decision(false)).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["enabled"], false);
        assert_eq!(json["theme"], "dark");
        assert_eq!(json["nested"]["a"][1], 2);
        assert_ne!(json["decided_at"], "2026-01-01T00:00:00.000Z");
    }

    #[test]
    fn corrupt_and_future_files_are_invalid_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        for text in [
            "{",
            r#"{"version":2,"enabled":true}"#,
            r#"{"enabled":"yes"}"#,
            "",
        ] {
            std::fs::write(&path, text).unwrap();
            assert!(
                matches!(load_config(&path), ConfigState::Invalid { .. }),
                "{text}"
            );
            assert!(record_notice_shown(&path).is_err());
            assert_eq!(
                std::fs::read_to_string(&path).unwrap(),
                text,
                "not replaced"
            );
        }
    }

    #[test]
    fn stored_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(CONFIG_FILE);
        store_config(&path, &ConfigFile::decided(true)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let dir_mode = std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(dir_mode, 0o700);
        }
    }

    #[test]
    fn notice_is_recorded_without_deciding() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        record_notice_shown(&path).unwrap();
        let file = load_config(&path).file().cloned().unwrap();
        assert!(file.notice_shown_at.is_some());
        assert_eq!(file.enabled, None);
    }

    #[cfg(unix)]
    #[test]
    fn a_refused_file_means_no_consent_and_is_never_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        let text = r#"{"version":1,"enabled":true}"#;
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o606)).unwrap();
        let ConfigState::Refused { reason } = load_config(&path) else {
            panic!("{:?}", load_config(&path))
        };
        assert!(reason.contains("writable by group or others"), "{reason}");
        for replace_invalid in [false, true] {
            let err = load_for_update(&path, replace_invalid).unwrap_err();
            assert!(matches!(err, TelemetryError::Untrusted { .. }), "{err:?}");
        }
        assert!(store_config(&path, &ConfigFile::decided(false)).is_err());
        assert!(record_notice_shown(&path).is_err());
        assert!(record_ever_enabled(&path).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn ever_enabled_is_recorded_once_and_kept_by_decisions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        record_ever_enabled(&path).unwrap();
        let file = load_config(&path).file().cloned().unwrap();
        assert_eq!((file.ever_enabled, file.enabled), (Some(true), None));
        store_config(&path, &file.with_decision(false)).unwrap();
        assert!(load_config(&path).file().unwrap().was_ever_enabled());
        // Legacy files: no field.
        for (text, ever) in [
            (r#"{"version":1,"enabled":true}"#, true),
            (
                r#"{"version":1,"notice_shown_at":"2025-01-01T00:00:00.000Z"}"#,
                true,
            ),
            (r#"{"version":1,"enabled":false}"#, false),
            (r#"{"version":1}"#, false),
        ] {
            let file = ConfigFile::from_json(text.as_bytes()).unwrap();
            assert_eq!(file.ever_enabled, None);
            assert_eq!(file.was_ever_enabled(), ever, "{text}");
        }
    }
}
