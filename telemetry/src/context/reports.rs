//! Report mode's delivery: a complete report, collected at level `on`, is uploaded
//! once, off the exit's path, by the detached uploader (the same process as in event
//! mode, recognised the same way), or, where no uploader may run (CI, an environment
//! veto overruled in code, `SendMode::AtExit`, show or dry-run mode, a build without
//! feature `spool`), by the run itself within its exit deadline.
//!
//! The run learns at its start (the worker's `check_due`) whether a report is due,
//! so the exit only reads a flag.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::TelemetryContext;
use crate::consent::Level;
use crate::error::TelemetryError;
use crate::report::{ReportMode, StoredReport};
use crate::util::executor::block_on;

impl TelemetryContext {
    fn report_mode(&self) -> Option<&std::sync::Arc<ReportMode>> {
        self.inner.delivery.reports.as_ref()
    }

    /// Every report kept on this machine, newest period first (reads only). An
    /// unreadable file is listed as an error, with the reason.
    ///
    /// # Errors
    ///
    /// The reports directory is refused by the trust rules, or not in report mode.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1"))
    ///     .data_dir(dir.path()).reports(telemetry::ReportSettings::weekly()).build()?;
    /// assert!(ctx.reports()?.is_empty());
    /// # Ok::<(), telemetry::TelemetryError>(())
    /// ```
    pub fn reports(&self) -> Result<Vec<Result<StoredReport, String>>, TelemetryError> {
        match self.report_mode() {
            Some(mode) => mode.store.list(mode.header.limit),
            None => match (&self.inner.report_settings, self.data_dir()) {
                // Report mode without a data dir: nothing was kept.
                (Some(_), None) => Ok(Vec::new()),
                _ => Err(TelemetryError::Config(
                    "this tool collects events, not reports".into(),
                )),
            },
        }
    }

    /// The time report periods are judged by (the system clock; a test clock only
    /// in this workspace's tests).
    #[cfg(feature = "clap")]
    pub(crate) fn report_now(&self) -> std::time::SystemTime {
        self.report_mode()
            .map_or_else(std::time::SystemTime::now, |m| m.clock.now())
    }

    /// The exit's part in report mode, after the worker wrote the report: hands a due
    /// report to the uploader, or sends it within what is left of the deadline.
    pub(crate) fn finish_reports(&self, start: Instant) -> Result<(), TelemetryError> {
        let Some(mode) = self.report_mode() else {
            return Ok(());
        };
        if mode.level != Level::On || !mode.upload_due.load(Ordering::Acquire) {
            return Ok(());
        }
        if self.reports_detached() {
            #[cfg(feature = "spool")]
            self.start_report_uploader(mode, start);
            return Ok(());
        }
        let left = self.deadline().saturating_sub(start.elapsed());
        self.upload_reports_within(left)
    }

    /// Whether a detached uploader sends the reports (rather than this run).
    fn reports_detached(&self) -> bool {
        #[cfg(feature = "spool")]
        return self.uploader_may_run() && !self.decision().show && !self.decision().dry_run;
        #[cfg(not(feature = "spool"))]
        false
    }

    /// Sends the due reports on a thread of its own, waiting at most `limit` for it.
    /// A send still running then is abandoned with the process: the report stays due
    /// (it is marked sent only once the sink acknowledged it).
    fn upload_reports_within(&self, limit: Duration) -> Result<(), TelemetryError> {
        let ctx = self.clone();
        let (done, wait) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("telemetry-reports".into())
            .spawn(move || {
                let _ = done.send(ctx.upload_reports());
            })
            .map_err(|e| {
                TelemetryError::Worker(format!("could not start the report upload: {e}"))
            })?;
        match wait.recv_timeout(limit) {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(TelemetryError::Timeout { deadline: limit }),
        }
    }

    /// Uploads every due report, oldest first, one at a time, each marked sent once
    /// the sinks took it, or `refused` once refused for good; stops at the first
    /// failure that may pass (the rest stay due). Asks for
    /// consent again before each. One uploader at a time per tool (a lock in the
    /// reports directory).
    /// Returns how many were sent.
    pub(crate) fn upload_reports(&self) -> Result<usize, TelemetryError> {
        let mut sent = 0;
        let Some(mode) = self.report_mode() else {
            return Ok(sent);
        };
        if mode.level != Level::On || !self.inner.sink.takes_reports() {
            return Ok(sent);
        }
        let Some(_sending) = mode.store.try_upload_lock()? else {
            return Ok(sent);
        };
        for stored in mode.uploadable()? {
            if !(self.inner.delivery.consented)() {
                break;
            }
            let sink = &self.inner.sink;
            match crate::pipeline::guarded(|| block_on(sink.emit_report(&stored.report))) {
                // A dry run only printed it: it stays due.
                Ok(()) if mode.dry_run => {}
                Ok(()) => {
                    sent += 1;
                    let now = crate::util::time::rfc3339_millis(std::time::SystemTime::now());
                    mode.store.mark(&stored.report, Some(now), None)?;
                }
                // Refused for good (as a batch would be dropped): never sent again,
                // and the next report is tried. A dry run marks nothing.
                Err(e) if !e.is_retryable() => {
                    crate::util::log::debug!(error = %e, "telemetry: report refused");
                    if !mode.dry_run {
                        mode.store.mark(&stored.report, None, Some("refused"))?;
                    }
                }
                Err(e) => {
                    crate::util::log::debug!(error = %e, "telemetry: report not sent");
                    return Err(e);
                }
            }
        }
        Ok(sent)
    }

    /// Starts the detached uploader for the reports, at most once per upload
    /// interval, one at a time (its lock and time stamps live in the reports
    /// directory).
    #[cfg(feature = "spool")]
    fn start_report_uploader(&self, mode: &ReportMode, start: Instant) {
        use crate::uploader::{self, Plan};
        let Some(dir) = mode.store.checked_dir() else {
            return;
        };
        let due = match uploader::plan(&dir, self.inner.upload.interval) {
            Plan::Detached { due } => due,
            Plan::Broken { due } => {
                // The last uploader never reached `init`: this run sends instead,
                // within what is left of its deadline.
                let left = self.deadline().saturating_sub(start.elapsed());
                if let Err(e) = self.upload_reports_within(left) {
                    crate::util::log::debug!(error = %e, "telemetry: report not sent at exit");
                }
                due
            }
        };
        if due {
            self.spawn_uploader(&dir);
        }
    }

    /// The detached uploader's work in report mode (see `exit::run_as_uploader`).
    #[cfg(feature = "spool")]
    pub(crate) fn upload_reports_as_uploader(&self) {
        let Some(mode) = self.report_mode() else {
            return;
        };
        if !self.is_enabled() || self.inner.ci || self.decision().env_veto.is_some() {
            return;
        }
        let Some(lock) = self.begin_upload(mode.store.dir(), || {}) else {
            return;
        };
        if let Err(e) = self.upload_reports() {
            crate::util::log::debug!(error = %e, "telemetry: report upload incomplete");
        }
        drop(lock);
    }
}

#[cfg(all(test, feature = "spool"))]
mod tests {
    use std::collections::BTreeMap;
    use std::time::{Duration, Instant};

    use crate::consent::CollectionPolicy;
    use crate::consent::{Env, Level};
    use crate::context::TelemetryContext;
    use crate::error::TelemetryError;
    use crate::event::{Event, Outcome};
    use crate::report::{Report, ReportRow, ReportSettings};
    use crate::sink::TelemetrySink;
    use crate::uploader::{self, Stamp};

    /// Takes reports, but never answers in time.
    struct Hangs;

    #[async_trait::async_trait]
    impl TelemetrySink for Hangs {
        async fn emit(&self, _: &Event) -> Result<(), TelemetryError> {
            Ok(())
        }
        async fn emit_report(&self, _: &Report) -> Result<(), TelemetryError> {
            std::thread::sleep(Duration::from_secs(5));
            Ok(())
        }
        fn takes_reports(&self) -> bool {
            true
        }
    }

    /// The last uploader never reached `init`, so the run sends the due report itself:
    /// within what is left of its deadline, not the whole deadline again.
    #[test]
    fn a_run_that_sends_for_a_broken_uploader_keeps_to_what_is_left_of_its_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = TelemetryContext::builder()
            .tool(crate::tool!("t", "1"))
            .data_dir(dir.path())
            .env(Env::empty())
            .policy(CollectionPolicy::Enabled)
            .reports(ReportSettings::weekly())
            .sink(Hangs)
            .deadline(Duration::from_secs(3))
            .upload_interval(Duration::from_secs(3600))
            .build()
            .unwrap();
        let mode = ctx.report_mode().unwrap();
        assert_eq!(mode.level, Level::On);
        // A complete week with one call.
        let row = ReportRow {
            event: "cmd.build".into(),
            tool_version: "1".into(),
            outcome: Outcome::Ok,
            error_kind: None,
            attrs: BTreeMap::new(),
            other: false,
            count: 1,
            duration_ms: None,
        };
        let mut last_week = mode.current();
        last_week.first_day -= 7;
        mode.store
            .merge(
                &mode.header,
                last_week,
                Level::On,
                vec![row],
                Duration::ZERO,
            )
            .unwrap();
        assert!(mode.check_due());
        // An uploader started a minute ago that never reached `init`.
        let reports = mode.store.dir();
        uploader::mark(reports, Stamp::Started);
        std::fs::File::options()
            .write(true)
            .open(reports.join(crate::pipeline::UPLOAD_STARTED_FILE))
            .unwrap()
            .set_modified(std::time::SystemTime::now() - Duration::from_secs(60))
            .unwrap();

        // The exit began 10 s ago: nothing is left of its 3 s.
        let began = Instant::now() - Duration::from_secs(10);
        let waited = Instant::now();
        let _ = ctx.finish_reports(began);
        assert!(
            waited.elapsed() < Duration::from_secs(2),
            "the exit waited {:?} past its deadline",
            waited.elapsed()
        );
    }
}
