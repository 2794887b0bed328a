//! The environment consent is resolved from, captured once so that resolution is a pure
//! function and every rule can be tested without touching the process environment.

use crate::layout::{self, env_prefix};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// The variables that mean "running in CI": set to anything but empty, `0` or `false`
/// (any case), any one of them turns telemetry off (unless `<TOOL>_TELEMETRY=1`).
///
/// `CI` covers most services (GitHub Actions, GitLab, CircleCI, Travis, Buildkite,
/// Drone, Woodpecker, Bitbucket, Cirrus, Semaphore, ...); the others are each one
/// service's own marker, for services that do not set `CI`. Generic names that tools
/// and people also set outside CI — `BUILD_ID`, `BUILD_NUMBER`, `RUN_ID` — are
/// deliberately absent: telemetry must not turn off on a developer's machine because a
/// build script exported one of them. (Jenkins and TeamCity, which set those, are
/// recognised by `JENKINS_URL` and `TEAMCITY_VERSION`.) Checked against the injected
/// [`Env`], so this is a list rather than a crate that reads the process environment
/// itself; `docs/consent.md` lists the same names, and a test keeps the two equal.
///
/// ```
/// assert!(telemetry::consent::CI_VARS.contains(&"GITHUB_ACTIONS"));
/// assert!(!telemetry::consent::CI_VARS.contains(&"BUILD_ID"));
/// ```
pub const CI_VARS: &[&str] = &[
    "CI",
    "CONTINUOUS_INTEGRATION",
    // GitHub Actions, GitLab CI, CircleCI, Travis CI, Buildkite, Drone.
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "CIRCLECI",
    "TRAVIS",
    "BUILDKITE",
    "DRONE",
    // Azure Pipelines.
    "TF_BUILD",
    // Jenkins, Hudson, TeamCity, GoCD, Bamboo (its variables are lower case).
    "JENKINS_URL",
    "HUDSON_URL",
    "TEAMCITY_VERSION",
    "GO_PIPELINE_LABEL",
    "bamboo_planKey",
    // Bitbucket Pipelines, AWS CodeBuild, Codefresh, Codemagic, Codeship.
    "BITBUCKET_BUILD_NUMBER",
    "CODEBUILD_BUILD_ID",
    "CF_BUILD_ID",
    "CM_BUILD_ID",
    "CI_NAME",
    // AppVeyor, Semaphore, Cirrus CI, Bitrise, Buddy, Harness.
    "APPVEYOR",
    "SEMAPHORE",
    "CIRRUS_CI",
    "BITRISE_IO",
    "BUDDY_WORKSPACE_ID",
    "HARNESS_BUILD_ID",
    // TaskCluster, Netlify, Vercel, Heroku CI.
    "TASKCLUSTER_ROOT_URL",
    "NETLIFY",
    "VERCEL",
    "HEROKU_TEST_RUN_ID",
];

/// A snapshot of what consent depends on: environment variables, the tool's config
/// directory, and whether standard error is an interactive terminal.
///
/// ```
/// use telemetry::consent::Env;
///
/// let env = Env::empty()
///     .with_var("DO_NOT_TRACK", "1")
///     .with_config_dir("/tmp/mytool-config")
///     .with_terminal(false);
/// assert_eq!(env.var("DO_NOT_TRACK"), Some("1"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// `(name, value)`, the last one set winning (as a map built from the process
    /// environment keeps the last of a repeated name). A handful of variables, looked
    /// up a few times per process: a `Vec` searched in order, not a `BTreeMap`, whose
    /// tree, sort and bulk-build code for this one key and value type was ~12 KB of
    /// every tool's binary.
    vars: Vec<(String, String)>,
    config_dir: Option<PathBuf>,
    shared_config_dir: Option<PathBuf>,
    terminal: bool,
}

impl Env {
    /// No variables, no config dir, not a terminal.
    ///
    /// ```
    /// assert!(telemetry::consent::Env::empty().var("CI").is_none());
    /// ```
    pub fn empty() -> Self {
        Self::default()
    }

    /// The real process environment for `tool`: the variables consent reads, the config
    /// dir (`<TOOL>_CONFIG_DIR`, else the platform's `<config>/<tool>`), the config dir
    /// every tool built with this library shares (`<config>/telemetry-rs`), and whether
    /// stderr is a terminal. Reads no file.
    ///
    /// ```
    /// let env = telemetry::consent::Env::from_process("mytool");
    /// # drop(env);
    /// ```
    pub fn from_process(tool: &str) -> Self {
        let prefix = env_prefix(tool);
        let mut vars = Vec::new();
        for (key, value) in std::env::vars_os() {
            // A name or value that is not Unicode is none the library reads.
            let (Ok(key), Ok(value)) = (key.into_string(), value.into_string()) else {
                continue;
            };
            if key == "DO_NOT_TRACK" || key.starts_with(&prefix) || CI_VARS.contains(&key.as_str())
            {
                vars.push((key, value));
            }
        }
        let mut env = Self {
            vars,
            config_dir: None,
            shared_config_dir: layout::shared_config_dir(),
            terminal: std::io::stderr().is_terminal(),
        };
        env.config_dir = layout::config_dir(tool, env.var(&format!("{prefix}_CONFIG_DIR")));
        env
    }

    /// Sets a variable.
    ///
    /// ```
    /// let env = telemetry::consent::Env::empty().with_var("CI", "true");
    /// assert_eq!(env.var("CI"), Some("true"));
    /// ```
    #[must_use]
    pub fn with_var(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let (key, value) = (key.into(), value.into());
        match self.vars.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.vars.push((key, value)),
        }
        self
    }

    /// Sets the tool's config directory (where `telemetry.json` lives).
    ///
    /// ```
    /// let env = telemetry::consent::Env::empty().with_config_dir("/tmp/c");
    /// assert_eq!(env.config_dir(), Some(std::path::Path::new("/tmp/c")));
    /// ```
    #[must_use]
    pub fn with_config_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config_dir = Some(dir.into());
        self
    }

    /// Sets the config directory every tool built with this library shares (where
    /// `consent.json`, the switch of `telemetry disable --all-tools`, lives). None by
    /// default in [`Env::empty`]: no shared decision.
    ///
    /// ```
    /// let env = telemetry::consent::Env::empty().with_shared_config_dir("/tmp/all");
    /// assert_eq!(env.shared_config_dir(), Some(std::path::Path::new("/tmp/all")));
    /// ```
    #[must_use]
    pub fn with_shared_config_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.shared_config_dir = Some(dir.into());
        self
    }

    /// Sets whether standard error is an interactive terminal.
    ///
    /// ```
    /// assert!(telemetry::consent::Env::empty().with_terminal(true).is_terminal());
    /// ```
    #[must_use]
    pub fn with_terminal(mut self, terminal: bool) -> Self {
        self.terminal = terminal;
        self
    }

    /// A variable's value.
    ///
    /// ```
    /// assert_eq!(telemetry::consent::Env::empty().var("HOME"), None);
    /// ```
    pub fn var(&self, key: &str) -> Option<&str> {
        self.vars
            .iter()
            .rev()
            .find_map(|(k, v)| (k == key).then_some(v.as_str()))
    }

    /// The tool's config directory, if one is known.
    ///
    /// ```
    /// assert!(telemetry::consent::Env::empty().config_dir().is_none());
    /// ```
    pub fn config_dir(&self) -> Option<&Path> {
        self.config_dir.as_deref()
    }

    /// The config directory every tool built with this library shares, if one is known.
    ///
    /// ```
    /// assert!(telemetry::consent::Env::empty().shared_config_dir().is_none());
    /// ```
    pub fn shared_config_dir(&self) -> Option<&Path> {
        self.shared_config_dir.as_deref()
    }

    /// Whether standard error is an interactive terminal.
    ///
    /// ```
    /// assert!(!telemetry::consent::Env::empty().is_terminal());
    /// ```
    pub fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// Whether a CI service is detected (see the list of variables in the docs).
    ///
    /// ```
    /// use telemetry::consent::Env;
    /// assert!(Env::empty().with_var("GITHUB_ACTIONS", "true").is_ci());
    /// assert!(!Env::empty().with_var("CI", "false").is_ci());
    /// ```
    pub fn is_ci(&self) -> bool {
        CI_VARS
            .iter()
            .filter_map(|k| self.var(k))
            .any(|v| !is_off_or_empty(v))
    }
}

/// A boolean-ish variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flag {
    On,
    Off,
    /// Set, but to something that is neither (reported as a warning).
    Invalid,
}

/// `1|true|on|yes` / `0|false|off|no`, case-insensitive, surrounding blanks ignored.
pub(crate) fn parse_flag(value: &str) -> Flag {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "on" | "yes" => Flag::On,
        "0" | "false" | "off" | "no" => Flag::Off,
        _ => Flag::Invalid,
    }
}

/// Empty, `0` or `false` (any case): how `DO_NOT_TRACK` and `CI` say "not set".
pub(crate) fn is_off_or_empty(value: &str) -> bool {
    let v = value.trim();
    v.is_empty() || v == "0" || v.eq_ignore_ascii_case("false")
}
