//! Where a tool's telemetry lives: its config dir (consent file, local key), its data
//! dir (install id, local log, spool) and the prefix of its environment variables. One
//! function each, so that every part of the crate agrees (the consent rules, the
//! builder with or without an explicit policy, `status`, `reset`). Computed from
//! environment variables only: no file-system access.

use std::path::PathBuf;

mod platform;
pub(crate) use platform::data_home;

/// The local secret key of `Hashed` values, in the config dir.
pub(crate) const KEY_FILE: &str = "telemetry.key";
/// The install id (where the OS has no machine id), in the data dir.
pub(crate) const INSTALL_ID_FILE: &str = "install_id";
/// The spool of batches waiting to be sent, in the data dir.
pub(crate) const SPOOL_DIR: &str = "spool";

/// The tool's config dir: `override_dir` (the value of `<TOOL>_CONFIG_DIR`) when set
/// and not empty, else the platform's `<config>/<tool>` (`~/.config/<tool>` on Linux).
pub(crate) fn config_dir(tool: &str, override_dir: Option<&str>) -> Option<PathBuf> {
    override_dir
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| platform::project_config_dir(tool))
}

/// The tool's telemetry data dir: `<platform data dir>/<tool>/telemetry`
/// (`~/.local/share/<tool>/telemetry` on Linux).
pub(crate) fn data_dir(tool: &str) -> Option<PathBuf> {
    platform::project_data_dir(tool).map(|dir| dir.join("telemetry"))
}

/// The directory, in the platform's config dir, of what every tool built with this
/// library shares: `<config>/telemetry-rs` (`~/.config/telemetry-rs` on Linux).
pub(crate) const SHARED_DIR: &str = "telemetry-rs";

/// The consent file every tool built with this library reads (`telemetry disable
/// --all-tools`), in `<config>/telemetry-rs/`.
pub const SHARED_CONSENT_FILE: &str = "consent.json";

/// The config dir every tool built with this library shares (see [`SHARED_DIR`]).
pub(crate) fn shared_config_dir() -> Option<PathBuf> {
    platform::project_config_dir(SHARED_DIR)
}

/// `<TOOL>`: the tool name upper-cased, every non-alphanumeric byte turned into `_`.
///
/// ```
/// assert_eq!(telemetry::consent::env_prefix("my-tool.rs"), "MY_TOOL_RS");
/// ```
pub fn env_prefix(tool: &str) -> String {
    tool.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b.to_ascii_uppercase())
            } else {
                '_'
            }
        })
        .collect()
}
