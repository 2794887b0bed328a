//! What the user's `telemetry enable`, `disable` and `reset` do, as library calls:
//! [`TelemetryContext::enable`], [`disable`](TelemetryContext::disable) and
//! [`reset`](TelemetryContext::reset). The clap subcommand only prints their reports,
//! so a tool without clap resets exactly the same way.

use std::path::PathBuf;
use std::sync::Arc;

use super::TelemetryContext;
use crate::consent::{self, CollectionPolicy, ConfigFile, ConfigState, DecisionSource};
use crate::deletion::{DELETION_TIMEOUT, DeletionRequest, NoRequest, veto_words};
use crate::error::TelemetryError;
use crate::util::executor::block_on_until;
use crate::util::fs::{self as fsutil, DirLink};

/// What [`TelemetryContext::enable`] or [`disable`](TelemetryContext::disable) did.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1"))
///     .sink(telemetry::sink::NoopSink).config_dir(dir.path()).build()?;
/// let change = ctx.disable()?;
/// assert_eq!(change.saved_in, dir.path().join("telemetry.json"));
/// assert_eq!(change.dropped_events, 0);
/// # Ok::<(), telemetry::TelemetryError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsentChange {
    /// The config file the decision was saved in.
    pub saved_in: PathBuf,
    /// Events not sent yet that were deleted (by `disable`).
    pub dropped_events: u64,
    /// For `enable`: the rule that still keeps telemetry off in this environment
    /// (compiled out, `DO_NOT_TRACK`, `<TOOL>_TELEMETRY=0`, CI), if any.
    pub still_off_by: Option<DecisionSource>,
}

/// Whether a consent file cannot be used (and so means "off").
fn unusable(state: &ConfigState) -> bool {
    matches!(
        state,
        ConfigState::Invalid { .. } | ConfigState::Refused { .. }
    )
}

/// What [`TelemetryContext::reset`] did, step by step.
#[derive(Debug)]
#[non_exhaustive]
pub struct ResetReport {
    /// Events not sent yet that were deleted, in memory and in the spool.
    pub dropped_events: u64,
    /// The deletion request.
    pub deletion: DeletionOutcome,
    /// The local files that identified this installation.
    pub removals: Vec<Removal>,
    /// The decision to stay off, saved in the config file.
    pub saved: Result<PathBuf, TelemetryError>,
}

/// What became of the deletion request.
#[derive(Debug)]
#[non_exhaustive]
pub enum DeletionOutcome {
    /// Sent; the requestor's report.
    Sent(String),
    /// Not sent, and why (the machine id was not even derived).
    NotSent(NoRequest),
    /// Sending failed.
    Failed(TelemetryError),
}

impl ResetReport {
    /// Whether every step succeeded (a request not sent on purpose is not a failure).
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink)
    /// #     .data_dir(dir.path().join("d")).config_dir(dir.path().join("c")).build().unwrap();
    /// assert!(ctx.reset().is_complete());
    /// ```
    pub fn is_complete(&self) -> bool {
        !matches!(self.deletion, DeletionOutcome::Failed(_))
            && self.removals.iter().all(|r| r.result.is_ok())
            && self.saved.is_ok()
    }

    /// The failure of an incomplete reset: the one error when one step failed,
    /// [`TelemetryError::ResetIncomplete`] naming the steps when several did.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink)
    /// #     .data_dir(dir.path().join("d")).config_dir(dir.path().join("c")).build().unwrap();
    /// assert!(ctx.reset().into_error().is_none());
    /// ```
    pub fn into_error(self) -> Option<TelemetryError> {
        let mut failures: Vec<(String, TelemetryError)> = Vec::new();
        if let DeletionOutcome::Failed(e) = self.deletion {
            failures.push(("send the deletion request".into(), e));
        }
        for removal in self.removals {
            if let Err(e) = removal.result {
                failures.push((format!("delete the {}", removal.what), e));
            }
        }
        if let Err(e) = self.saved {
            failures.push(("save the decision".into(), e));
        }
        match failures.len() {
            0 => None,
            1 => failures.pop().map(|(_, e)| e),
            _ => Some(TelemetryError::ResetIncomplete {
                failed: failures.into_iter().map(|(step, _)| step).collect(),
            }),
        }
    }
}

/// One local file [`TelemetryContext::reset`] dealt with.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink)
/// #     .data_dir(dir.path().join("d")).config_dir(dir.path().join("c")).build().unwrap();
/// for removal in ctx.reset().removals {
///     assert_eq!(removal.result.unwrap(), false, "nothing there to delete");
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct Removal {
    /// What the file is (`install id`, `local key`, `local event log`).
    pub what: &'static str,
    /// Where it is.
    pub path: PathBuf,
    /// `Ok(true)`: deleted; `Ok(false)`: there was none; `Err`: it could not be deleted
    /// (including when its directory is refused by the trust rules).
    pub result: Result<bool, TelemetryError>,
}

impl TelemetryContext {
    /// Saves the user's choice to enable telemetry in the config file (the decision of
    /// later runs; this process keeps the decision it was built with).
    ///
    /// # Errors
    ///
    /// No config dir is known, or the config file cannot be written or is refused by
    /// the trust rules (never replaced then).
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1"))
    ///     .sink(telemetry::sink::NoopSink).config_dir(dir.path()).build()?;
    /// assert!(ctx.enable()?.saved_in.ends_with("telemetry.json"));
    /// # Ok::<(), telemetry::TelemetryError>(())
    /// ```
    pub fn enable(&self) -> Result<ConsentChange, TelemetryError> {
        let saved_in = self.persist(true, |_| {})?;
        // A rule above the config file still overrules it: say so, from the context's
        // own decision (with the environment it was resolved from). The environment's
        // vetoes are one list (`consent::env_veto`), whatever decided here.
        let decision = self.decision();
        // A shared file that cannot be used (it may have said "off") keeps every tool off.
        let still_off_by = decision
            .env_veto
            .filter(|veto| *veto == decision.source)
            .or_else(|| unusable(&decision.shared_config).then_some(DecisionSource::SharedConfig));
        Ok(ConsentChange {
            saved_in,
            dropped_events: 0,
            still_off_by,
        })
    }

    /// Saves the user's choice to enable telemetry in **every tool built with this
    /// library** (`<config>/telemetry-rs/consent.json`, see [`crate::consent`]): a later
    /// decision than each tool's own, so it counts for every tool, opt-in ones included,
    /// until a tool's own `telemetry disable` (or `disable --all-tools`). This process
    /// keeps the decision it was built with.
    ///
    /// # Errors
    ///
    /// No config dir is known, or the shared file cannot be written or is refused by the
    /// trust rules (never replaced then).
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1"))
    ///     .sink(telemetry::sink::NoopSink)
    ///     .env(telemetry::consent::Env::empty().with_shared_config_dir(dir.path()))
    ///     .build()?;
    /// assert_eq!(ctx.enable_all_tools()?.saved_in, dir.path().join("consent.json"));
    /// # Ok::<(), telemetry::TelemetryError>(())
    /// ```
    pub fn enable_all_tools(&self) -> Result<ConsentChange, TelemetryError> {
        let saved_in = self.persist_shared(true)?;
        let decision = self.decision();
        // A config file of this tool that cannot be used keeps it off.
        let still_off_by = decision
            .env_veto
            .filter(|veto| *veto == decision.source)
            .or_else(|| unusable(&decision.config).then_some(DecisionSource::ConfigFile));
        Ok(ConsentChange {
            saved_in,
            dropped_events: 0,
            still_off_by,
        })
    }

    /// Saves the user's choice to disable telemetry in **every tool built with this
    /// library** (the shared consent file, see [`crate::consent`]), also in those
    /// enabled on their own before, until a tool's own `telemetry enable` made later.
    /// Like [`disable`](Self::disable), it stops collection in this process and deletes
    /// every event of this tool not sent yet. Other tools send nothing more: each checks
    /// consent again before every request, and drops what it holds at its own
    /// `telemetry disable` or `reset`.
    ///
    /// # Errors
    ///
    /// As [`enable_all_tools`](Self::enable_all_tools); the events are deleted whatever
    /// happens.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1"))
    ///     .sink(telemetry::sink::NoopSink)
    ///     .env(telemetry::consent::Env::empty().with_shared_config_dir(dir.path()))
    ///     .build()?;
    /// ctx.disable_all_tools()?;
    /// assert!(!ctx.is_enabled());
    /// # Ok::<(), telemetry::TelemetryError>(())
    /// ```
    pub fn disable_all_tools(&self) -> Result<ConsentChange, TelemetryError> {
        let dropped_events = self.withdraw();
        self.withhold_reports(false);
        let saved_in = self.persist_shared(false)?;
        Ok(ConsentChange {
            saved_in,
            dropped_events,
            still_off_by: None,
        })
    }

    /// Saves a decision for every tool in the shared consent file (a corrupt one is
    /// replaced by this explicit command, a refused one never).
    fn persist_shared(&self, enabled: bool) -> Result<PathBuf, TelemetryError> {
        let path = self.decision().shared_config_path.clone().ok_or_else(|| {
            TelemetryError::NoConfigDir {
                variable: "HOME".into(),
            }
        })?;
        let mut file = consent::load_for_update(&path, true)?.with_decision(enabled);
        // Per tool, not shared: `reset` and the notice read the tool's own file.
        file.ever_enabled = None;
        file.notice_shown_at = None;
        consent::store_config(&path, &file)?;
        Ok(path)
    }

    /// Stops collection in this process, deletes every event not sent yet (in memory
    /// and in the spool, also batches left by earlier runs) and saves the choice.
    ///
    /// # Errors
    ///
    /// As [`enable`](Self::enable); the events are deleted whatever happens.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1"))
    /// #     .sink(telemetry::sink::NoopSink).config_dir(dir.path()).build()?;
    /// let change = ctx.disable()?;
    /// assert!(!ctx.is_enabled());
    /// # let _ = change;
    /// # Ok::<(), telemetry::TelemetryError>(())
    /// ```
    pub fn disable(&self) -> Result<ConsentChange, TelemetryError> {
        let dropped_events = self.withdraw();
        self.withhold_reports(false);
        let saved_in = self.persist(false, |_| {})?;
        Ok(ConsentChange {
            saved_in,
            dropped_events,
            still_off_by: None,
        })
    }

    /// Saves the user's choice of level `local` in the config file: what is recorded
    /// stays on this machine (the reports, or the local event log) and nothing is
    /// sent. Events waiting to be sent are deleted, as by [`disable`](Self::disable).
    ///
    /// # Errors
    ///
    /// As [`enable`](Self::enable).
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1"))
    ///     .sink(telemetry::sink::NoopSink).config_dir(dir.path()).build()?;
    /// let change = ctx.keep_local()?;
    /// let text = std::fs::read_to_string(change.saved_in)?;
    /// assert!(text.contains("\"level\": \"local\""));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn keep_local(&self) -> Result<ConsentChange, TelemetryError> {
        let dropped_events = self.withdraw();
        self.withhold_reports(true);
        let saved_in = self.persist(false, |file| {
            file.level = Some(crate::consent::Level::Local);
        })?;
        let decision = self.decision();
        let still_off_by = decision.env_veto.filter(|veto| *veto == decision.source);
        Ok(ConsentChange {
            saved_in,
            dropped_events,
            still_off_by,
        })
    }

    /// Report mode: the reports not sent yet are kept from upload for good
    /// (`ReportStore::withhold_unsent`). Best effort: a report that cannot be marked
    /// now is left as it is.
    fn withhold_reports(&self, local: bool) {
        #[cfg(feature = "reports")]
        if self.collects_reports()
            && let Some(dir) = self.data_dir()
            && let Err(e) = crate::report::ReportStore::new(dir).withhold_unsent(local)
        {
            crate::util::log::debug!(error = %e, "telemetry: reports not marked");
        }
        #[cfg(not(feature = "reports"))]
        let _ = local;
    }

    /// Forgets this installation, in order: deletes every event not sent yet; asks the
    /// backend to delete what it holds for this machine (only where nothing forbids
    /// sending and telemetry was ever enabled, see [`crate::deletion`]; otherwise the
    /// machine id is not even derived); deletes the install id, the local key and the
    /// local log; saves the decision to stay off. Every step is attempted and reported.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1"))
    ///     .sink(telemetry::sink::NoopSink)
    ///     .data_dir(dir.path().join("data")).config_dir(dir.path().join("config"))
    ///     .build()?;
    /// let report = ctx.reset();
    /// assert!(matches!(report.deletion, telemetry::DeletionOutcome::NotSent(_)));
    /// assert!(report.is_complete());
    /// # Ok::<(), telemetry::TelemetryError>(())
    /// ```
    pub fn reset(&self) -> ResetReport {
        // 1. Nothing buffered may leave after this point.
        let dropped_events = self.withdraw();
        // 2. The deletion request, with the id the events carried.
        let deletion = match self.deletion_request_allowed() {
            Err(why) => DeletionOutcome::NotSent(why),
            Ok(()) => match self.request_deletion() {
                Ok(message) => DeletionOutcome::Sent(message),
                Err(e) => DeletionOutcome::Failed(e),
            },
        };
        // 3. The local identity.
        let removals = self.forget_identity();
        // 4. Stay off. After a delivered request nothing is left to delete until
        //    telemetry is enabled again; otherwise the record stays, so a later reset
        //    can still send it.
        let sent = matches!(deletion, DeletionOutcome::Sent(_));
        let saved = self.persist(false, |file| {
            if sent {
                file.ever_enabled = Some(false);
            }
        });
        ResetReport {
            dropped_events,
            deletion,
            removals,
            saved,
        }
    }

    /// Stops collection in this process and deletes every event not sent yet.
    fn withdraw(&self) -> u64 {
        let dropped = self.purge();
        // Also purges anything accepted between the two calls.
        self.set_policy(CollectionPolicy::Disabled);
        dropped
    }

    /// Saves the decision. An explicit command replaces a corrupt or future-version
    /// file; a valid file keeps its other fields; a file the trust rules refuse is never
    /// replaced. `update` may change the file further.
    fn persist(
        &self,
        enabled: bool,
        update: impl FnOnce(&mut ConfigFile),
    ) -> Result<PathBuf, TelemetryError> {
        let path =
            self.decision()
                .config_path
                .clone()
                .ok_or_else(|| TelemetryError::NoConfigDir {
                    variable: format!("{}_CONFIG_DIR", self.tool_info().env_prefix()),
                })?;
        let mut file = consent::load_for_update(&path, true)?.with_decision(enabled);
        update(&mut file);
        consent::store_config(&path, &file)?;
        Ok(path)
    }

    /// Whether a deletion request may be sent now (module docs): no environment veto,
    /// and telemetry was enabled in this process or, per the config file (read again
    /// now), on this machine before. Derives nothing, sends nothing.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink)
    ///     .env(telemetry::consent::Env::empty().with_config_dir(dir.path())).build().unwrap();
    /// # #[cfg(feature = "collect")]
    /// assert_eq!(ctx.deletion_request_allowed(), Err(telemetry::deletion::NoRequest::NeverEnabled));
    /// ```
    pub fn deletion_request_allowed(&self) -> Result<(), NoRequest> {
        // Report mode has no machine id: nothing to delete, and none to send.
        if self.collects_reports() {
            return Err(NoRequest::Anonymous);
        }
        let decision = self.decision();
        if let Some(rule) = decision.env_veto {
            return Err(NoRequest::Vetoed {
                rule,
                what: veto_words(rule, &self.tool_info().env_prefix()),
            });
        }
        if decision.policy == CollectionPolicy::Enabled {
            return Ok(());
        }
        match decision.config_path.as_deref().map(consent::load_config) {
            Some(ConfigState::Valid(file)) if file.was_ever_enabled() => Ok(()),
            Some(ConfigState::Refused { reason }) => Err(NoRequest::ConfigRefused { reason }),
            _ => Err(NoRequest::NeverEnabled),
        }
    }

    /// Asks the backend to delete what it holds for this machine, with the configured
    /// [`DeletionRequestor`], waiting at most [`DELETION_TIMEOUT`]. The request runs on
    /// a thread of its own (so it works the same from sync code and inside an async
    /// runtime), which is left to finish on its own if it takes longer: a requestor that
    /// blocks cannot hold the command past its deadline. Only called once
    /// [`deletion_request_allowed`](Self::deletion_request_allowed) said yes.
    fn request_deletion(&self) -> Result<String, TelemetryError> {
        let requestor = Arc::clone(self.deletion_requestor());
        let sink = Arc::clone(self.sink());
        let owned = (
            self.tool().to_owned(),
            self.tool_version().to_owned(),
            self.machine_id().to_owned(),
        );
        let (answer, answered) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("telemetry-deletion".to_owned())
            .spawn(move || {
                let (tool, tool_version, machine_id) = &owned;
                let request = DeletionRequest {
                    tool,
                    tool_version,
                    machine_id,
                    sink: &sink,
                };
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    block_on_until(
                        requestor.request(&request),
                        std::time::Instant::now() + DELETION_TIMEOUT,
                    )
                }));
                // The caller may have stopped waiting: nobody to tell then.
                let _ = answer.send(result);
            })
            .map_err(|e| {
                TelemetryError::Worker(format!("could not start the deletion request: {e}"))
            })?;
        let timeout = TelemetryError::Timeout {
            deadline: DELETION_TIMEOUT,
        };
        match answered.recv_timeout(DELETION_TIMEOUT) {
            Ok(Ok(Some(result))) => result,
            Ok(Ok(None)) | Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(timeout),
            Ok(Err(_)) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(
                TelemetryError::Worker("the deletion request panicked".into()),
            ),
        }
    }

    /// Deletes what identifies this installation locally: the install id, the key of
    /// [`Hashed`](crate::Hashed) values (a new one is made if telemetry is used again,
    /// so later digests do not match earlier ones) and the local event log. Every file
    /// is attempted; each result is reported.
    fn forget_identity(&self) -> Vec<Removal> {
        let files = [
            (
                "install id",
                self.data_dir()
                    .map(|d| d.join(crate::layout::INSTALL_ID_FILE)),
            ),
            (
                "local key",
                self.config_dir().map(|d| d.join(crate::layout::KEY_FILE)),
            ),
            ("local event log", self.local_log_path().map(PathBuf::from)),
        ];
        let removals = files
            .into_iter()
            .filter_map(|(what, path)| path.map(|p| (what, p)))
            .map(|(what, path)| {
                // The key lives in the user's config dir (may be a link to their
                // dotfiles); the others in the data dir, which must not be a link.
                let link = if what == "local key" {
                    DirLink::Allowed
                } else {
                    DirLink::Refused
                };
                let result = fsutil::remove_checked(&path, link);
                Removal { what, path, result }
            })
            .collect::<Vec<_>>();
        crate::identity::key::forget_cached_key();
        #[cfg_attr(not(feature = "reports"), allow(unused_mut))]
        let mut removals = removals;
        // Reports, in report mode or left by it.
        #[cfg(feature = "reports")]
        if let Some(dir) = self.data_dir()
            && (self.collects_reports() || dir.join(crate::report::REPORTS_DIR).exists())
        {
            let store = crate::report::ReportStore::new(dir);
            removals.push(Removal {
                what: "usage reports",
                path: store.dir().to_owned(),
                result: store.remove_all(),
            });
        }
        removals
    }
}
