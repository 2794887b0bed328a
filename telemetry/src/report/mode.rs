//! Report mode's settings (the author's) and its state in a running context.

use std::time::{Duration, Instant, SystemTime};

use super::period::{ReportPeriod, Span};
use super::store::{Header, ReportStore, StoredReport};
use crate::consent::Level;
use crate::error::TelemetryError;

/// Default for [`ReportSettings::max_combinations`].
pub const DEFAULT_MAX_COMBINATIONS: usize = 100;

/// How long after the first call it has not written the worker writes the report file (it
/// always writes at exit).
pub(crate) const WRITE_EVERY: Duration = Duration::from_secs(1);

/// The tool author's choices for report mode.
///
/// ```
/// use telemetry::{ReportPeriod, ReportSettings};
/// let s = ReportSettings::daily().upload_rate(0.25).max_combinations(20);
/// assert_eq!(s.period(), ReportPeriod::Day);
/// assert_eq!(s.rate(), 0.25);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct ReportSettings {
    period: ReportPeriod,
    upload_rate: f64,
    local_by_default: bool,
    max_combinations: usize,
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self::weekly()
    }
}

impl ReportSettings {
    /// One report per week (Monday to Monday, UTC), every install uploads, `off`
    /// until the user decides.
    ///
    /// ```
    /// assert_eq!(telemetry::ReportSettings::weekly().rate(), 1.0);
    /// ```
    pub fn weekly() -> Self {
        Self {
            period: ReportPeriod::Week,
            upload_rate: 1.0,
            local_by_default: false,
            max_combinations: DEFAULT_MAX_COMBINATIONS,
        }
    }

    /// One report per UTC day.
    ///
    /// ```
    /// assert_eq!(telemetry::ReportSettings::daily().period(), telemetry::ReportPeriod::Day);
    /// ```
    pub fn daily() -> Self {
        Self {
            period: ReportPeriod::Day,
            ..Self::weekly()
        }
    }

    /// The share of installs that upload, in [0, 1] (default 1): each install draws
    /// `x` in [0, 1) once and uploads only if `x < rate`. Checked by `build`.
    ///
    /// ```
    /// let s = telemetry::ReportSettings::weekly().upload_rate(0.1);
    /// # drop(s);
    /// ```
    pub fn upload_rate(mut self, rate: f64) -> Self {
        self.upload_rate = rate;
        self
    }

    /// Collect at level `local` until the user decides (`telemetry on|off`, the
    /// environment): reports are kept on the machine and never uploaded. Without it
    /// the default level is `off`. Level `on` always needs the user's consent.
    ///
    /// ```
    /// let s = telemetry::ReportSettings::weekly().local_by_default();
    /// assert!(s.is_local_by_default());
    /// ```
    pub fn local_by_default(mut self) -> Self {
        self.local_by_default = true;
        self
    }

    /// The most distinct attribute combinations per event in one report (default
    /// [`DEFAULT_MAX_COMBINATIONS`]); calls with further combinations are counted in
    /// the event's `_other` row. At least 1.
    ///
    /// ```
    /// let s = telemetry::ReportSettings::weekly().max_combinations(10);
    /// # drop(s);
    /// ```
    pub fn max_combinations(mut self, n: usize) -> Self {
        self.max_combinations = n;
        self
    }

    /// The period.
    ///
    /// ```
    /// assert_eq!(telemetry::ReportSettings::weekly().period(), telemetry::ReportPeriod::Week);
    /// ```
    pub fn period(&self) -> ReportPeriod {
        self.period
    }

    /// The upload rate.
    ///
    /// ```
    /// assert_eq!(telemetry::ReportSettings::weekly().upload_rate(0.5).rate(), 0.5);
    /// ```
    pub fn rate(&self) -> f64 {
        self.upload_rate
    }

    /// Whether the default level is `local`.
    ///
    /// ```
    /// assert!(!telemetry::ReportSettings::weekly().is_local_by_default());
    /// ```
    pub fn is_local_by_default(&self) -> bool {
        self.local_by_default
    }

    /// The limit of distinct attribute combinations per event.
    ///
    /// ```
    /// assert_eq!(telemetry::ReportSettings::weekly().combinations(), 100);
    /// ```
    pub fn combinations(&self) -> usize {
        self.max_combinations
    }

    /// The mistakes `build` refuses.
    pub(crate) fn check(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.upload_rate) {
            return Err(format!(
                "`upload_rate` must be in [0, 1], not {}",
                self.upload_rate
            ));
        }
        if self.max_combinations == 0 {
            return Err("`max_combinations` must be at least 1".into());
        }
        Ok(())
    }
}

/// The clock of report periods: the system clock, or, for this workspace's tests
/// (feature `test-internals`), a start time given in `<TOOL>_TELEMETRY_TEST_NOW`
/// (seconds since the epoch) from which the process's own time runs on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReportClock {
    start: Option<(SystemTime, Instant)>,
}

impl ReportClock {
    pub(crate) fn for_tool(tool: &str) -> Self {
        #[cfg(feature = "test-internals")]
        {
            let var = format!("{}_TELEMETRY_TEST_NOW", crate::layout::env_prefix(tool));
            if let Some(secs) = std::env::var(var)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
            {
                return Self {
                    start: Some((
                        SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
                        Instant::now(),
                    )),
                };
            }
        }
        let _ = tool;
        Self { start: None }
    }

    pub(crate) fn now(&self) -> SystemTime {
        match self.start {
            Some((at, since)) => at + since.elapsed(),
            None => SystemTime::now(),
        }
    }
}

/// Report mode as a context runs it.
#[derive(Debug)]
pub(crate) struct ReportMode {
    pub(crate) settings: ReportSettings,
    pub(crate) store: ReportStore,
    pub(crate) header: Header,
    /// The level of this process: what it folds is marked with it.
    pub(crate) level: Level,
    /// `<TOOL>_TELEMETRY_DRY_RUN`: this process keeps nothing and marks nothing (its
    /// calls would otherwise be uploaded with the period's report).
    pub(crate) dry_run: bool,
    pub(crate) clock: ReportClock,
    /// Set by the worker when it found complete reports this install uploads.
    pub(crate) upload_due: std::sync::atomic::AtomicBool,
}

impl ReportMode {
    pub(crate) fn new(
        settings: ReportSettings,
        data_dir: &std::path::Path,
        tool: &str,
        level: Level,
        dry_run: bool,
    ) -> Self {
        let (os, arch) = crate::event::platform();
        Self {
            store: ReportStore::new(data_dir),
            header: Header {
                tool: tool.to_owned(),
                period: settings.period,
                os: os.to_string(),
                arch: arch.to_string(),
                limit: settings.max_combinations,
            },
            settings,
            level,
            dry_run,
            clock: ReportClock::for_tool(tool),
            upload_due: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The period of now.
    pub(crate) fn current(&self) -> Span {
        Span::containing(self.settings.period, self.clock.now())
    }

    /// The complete reports this install uploads now, oldest first: none at a level
    /// other than `on`, and none on an install outside the sample, whose due reports
    /// are marked `sampled_out` then (once: never looked at again; not in a dry run).
    /// The sampling draw is made only once a report is due.
    pub(crate) fn uploadable(&self) -> Result<Vec<StoredReport>, TelemetryError> {
        if self.level != Level::On {
            return Ok(Vec::new());
        }
        let due = self.store.due(self.clock.now(), self.header.limit)?;
        if due.is_empty() || self.store.sample()? < self.settings.upload_rate {
            return Ok(due);
        }
        if !self.dry_run {
            for stored in &due {
                self.store.mark(&stored.report, None, Some("sampled_out"))?;
            }
        }
        Ok(Vec::new())
    }

    /// Whether a report is waiting for this run to hand it to delivery, found at the
    /// start of the run (off the exit's path); the exit then reads `upload_due`.
    pub(crate) fn check_due(&self) -> bool {
        let due = self.uploadable().is_ok_and(|due| !due.is_empty());
        if due {
            self.upload_due
                .store(true, std::sync::atomic::Ordering::Release);
        }
        due
    }
}
