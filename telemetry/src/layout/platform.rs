//! The platform's per-user directories: where a tool's config and data dirs are made.
//!
//! On Linux and the other Unix systems but Apple's, the XDG Base Directory rules,
//! written here: `$XDG_CONFIG_HOME` (`$XDG_DATA_HOME`) when it is an absolute path, else
//! `~/.config` (`~/.local/share`), then the tool's name lowercased without whitespace.
//! These are exactly the paths the `directories` crate gives there (a test compares the
//! two), so no tool's files move; the crate and its `dirs-sys` and `option-ext` were
//! ~0.6 s of every host's clean build (BENCHMARKS.md, *Footprint*). On Windows, macOS,
//! iOS and wasm, whose rules go through the OS (known folders, bundle identifiers),
//! `directories` still answers.

use std::path::PathBuf;

#[cfg(not(any(
    windows,
    target_os = "macos",
    target_os = "ios",
    target_arch = "wasm32"
)))]
mod imp {
    use std::ffi::OsString;
    use std::path::{Path, PathBuf};

    /// The user's home: `$HOME` when set and not empty, else the password database's
    /// entry (through the standard library). `None` for an empty `$HOME`, which the
    /// standard library would return as is.
    fn home() -> Option<PathBuf> {
        match std::env::var_os("HOME") {
            Some(home) if !home.is_empty() => Some(PathBuf::from(home)),
            Some(_) => None,
            None => std::env::home_dir().filter(|home| !home.as_os_str().is_empty()),
        }
    }

    /// `$<var>` when it holds an absolute path, else `<home>/<fallback>`.
    pub(super) fn xdg(
        var: Option<OsString>,
        home: Option<&Path>,
        fallback: &str,
    ) -> Option<PathBuf> {
        var.map(PathBuf::from)
            .filter(|dir| dir.is_absolute())
            .or_else(|| home.map(|home| home.join(fallback)))
    }

    /// The tool's name as a directory name: each whitespace-separated word lowercased,
    /// the words joined without a separator. ASCII lowercase: a tool name is ASCII (the
    /// naming rules refuse any other), where `directories` lowercases Unicode too.
    ///
    /// Whitespace removed from the lowercased name rather than its words collected char
    /// by char: the same text, where that iterator chain was 2 KB of every tool's binary.
    pub(super) fn project_name(tool: &str) -> String {
        let mut name = tool.to_ascii_lowercase();
        name.retain(|c| !c.is_whitespace());
        name
    }

    pub(crate) fn config_home() -> Option<PathBuf> {
        xdg(
            std::env::var_os("XDG_CONFIG_HOME"),
            home().as_deref(),
            ".config",
        )
    }

    pub(crate) fn data_home() -> Option<PathBuf> {
        xdg(
            std::env::var_os("XDG_DATA_HOME"),
            home().as_deref(),
            ".local/share",
        )
    }

    pub(crate) fn project_config_dir(tool: &str) -> Option<PathBuf> {
        Some(config_home()?.join(project_name(tool)))
    }

    pub(crate) fn project_data_dir(tool: &str) -> Option<PathBuf> {
        Some(data_home()?.join(project_name(tool)))
    }
}

#[cfg(any(
    windows,
    target_os = "macos",
    target_os = "ios",
    target_arch = "wasm32"
))]
mod imp {
    use std::path::PathBuf;

    pub(crate) fn data_home() -> Option<PathBuf> {
        directories::BaseDirs::new().map(|dirs| dirs.data_dir().to_owned())
    }

    pub(crate) fn project_config_dir(tool: &str) -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", tool).map(|dirs| dirs.config_dir().to_owned())
    }

    pub(crate) fn project_data_dir(tool: &str) -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", tool).map(|dirs| dirs.data_dir().to_owned())
    }
}

/// The platform's per-user data dir (`~/.local/share` on Linux).
pub(crate) fn data_home() -> Option<PathBuf> {
    imp::data_home()
}

/// `<config>/<tool>` (`~/.config/<tool>` on Linux).
pub(crate) fn project_config_dir(tool: &str) -> Option<PathBuf> {
    imp::project_config_dir(tool)
}

/// `<data>/<tool>` (`~/.local/share/<tool>` on Linux).
pub(crate) fn project_data_dir(tool: &str) -> Option<PathBuf> {
    imp::project_data_dir(tool)
}

#[cfg(all(
    test,
    not(any(
        windows,
        target_os = "macos",
        target_os = "ios",
        target_arch = "wasm32"
    ))
))]
mod tests {
    use super::imp::{project_name, xdg};
    use super::*;
    use std::path::Path;

    /// In this process's environment (whatever `HOME` and the `XDG_*` variables the
    /// test runs with), the same directories as the `directories` crate.
    #[test]
    fn the_same_paths_as_the_directories_crate() {
        for tool in [
            "demo",
            "my-tool",
            "telemetry-rs",
            "My_Tool.2",
            "My Tool",
            " spaced  Name ",
        ] {
            let theirs = directories::ProjectDirs::from("", "", tool);
            assert_eq!(
                project_config_dir(tool),
                theirs.as_ref().map(|d| d.config_dir().to_owned()),
                "{tool}"
            );
            assert_eq!(
                project_data_dir(tool),
                theirs.as_ref().map(|d| d.data_dir().to_owned()),
                "{tool}"
            );
        }
        assert_eq!(
            data_home(),
            directories::BaseDirs::new().map(|d| d.data_dir().to_owned())
        );
    }

    #[test]
    fn an_xdg_variable_counts_only_when_it_holds_an_absolute_path() {
        let home = Some(Path::new("/home/u"));
        let cases = [
            (Some("/x/config"), "/x/config"),
            (Some("relative/config"), "/home/u/.config"),
            (Some(""), "/home/u/.config"),
            (None, "/home/u/.config"),
        ];
        for (var, expected) in cases {
            let dir = xdg(var.map(Into::into), home, ".config");
            assert_eq!(dir.as_deref(), Some(Path::new(expected)), "{var:?}");
        }
        assert_eq!(
            xdg(Some("/x".into()), None, ".config").as_deref(),
            Some(Path::new("/x"))
        );
        assert_eq!(
            xdg(None, None, ".config"),
            None,
            "no home, no variable: no dir"
        );
    }

    #[test]
    fn a_tool_name_becomes_a_directory_name_as_directories_makes_it() {
        assert_eq!(project_name("demo"), "demo");
        assert_eq!(project_name("My Tool"), "mytool");
        assert_eq!(project_name("  a\tB  c "), "abc");
        assert_eq!(project_name("My-Tool_2.X"), "my-tool_2.x");
    }
}
