//! Report files: `<data dir>/reports/<period start>.json`, one per period, 0600,
//! replaced atomically (temp file + rename) under an advisory lock, so that processes
//! of one tool running at once add up instead of overwriting each other. A process
//! that cannot get the lock in time leaves its rows in a `pending-*.json` file that
//! the next writer folds in; nothing is lost either way.
//!
//! A report file says whether everything in it was collected at level `on`: one fold
//! at level `local` marks it `local` for good, and a `local` report is never uploaded.
//! At most [`KEEP_REPORTS`] periods are kept.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::model::{BUCKETS, DurationHistogram, Report, ReportRow};
use super::period::{ReportPeriod, Span};
use super::wire;
use crate::consent::Level;
use crate::error::TelemetryError;
use crate::util::fs::{self as fsutil, DirLink, Strictness};

/// The reports directory inside the data dir.
pub(crate) const REPORTS_DIR: &str = "reports";
/// How many periods' reports are kept (older ones are deleted).
pub const KEEP_REPORTS: usize = 8;
/// The lock every writer of report files holds.
const LOCK_FILE: &str = ".lock";
/// The lock of the one process uploading this tool's reports.
const SENDING_LOCK_FILE: &str = ".sending.lock";
/// The install's sampling draw (see [`super::ReportSettings::upload_rate`]).
const SAMPLE_FILE: &str = "sample";
/// Rows a process could not fold in under the lock.
const PENDING_PREFIX: &str = "pending-";
/// The largest report file read (a report has at most `limit` rows per event and
/// outcome; this is far above what a tool's catalog can fill).
const READ_LIMIT: u64 = 32 << 20;
/// The most pending files kept at once: past it (a report file or the lock refused
/// run after run, so that nothing folds them in), a write's rows are given up.
const MAX_PENDING: usize = 100;
/// A temp file this old is left over from a writer that was killed.
const STALE_TEMP: Duration = Duration::from_secs(600);
/// The format of the file around the report (not the report's own `schema`).
const FILE_FORMAT: u64 = 1;

/// A report file: the report and what the library keeps about it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StoredReport {
    /// The file format's version (1).
    pub format: u64,
    /// `on` if everything in it was collected at level `on`; `local` otherwise (never
    /// uploaded).
    pub level: Level,
    /// When it was uploaded (RFC 3339, UTC).
    pub sent_at: Option<String>,
    /// Why it will not be uploaded although it could be: `sampled_out` (this install
    /// is not among the share the tool uploads) or `refused` (the sinks refused it for
    /// good).
    pub not_sent: Option<String>,
    /// The report.
    pub report: Report,
}

impl StoredReport {
    /// The period it covers.
    pub(crate) fn span(&self) -> Option<Span> {
        Span::parse(&self.report.period_start, &self.report.period_end)
    }

    /// What `telemetry report` says of its upload.
    ///
    /// ```
    /// # let stored = telemetry::report::StoredReport::example();
    /// assert_eq!(stored.upload_state(std::time::SystemTime::UNIX_EPOCH), "open");
    /// ```
    pub fn upload_state(&self, now: SystemTime) -> &'static str {
        if self.sent_at.is_some() {
            "sent"
        } else if self.level == Level::Local {
            "local (never sent)"
        } else if self.not_sent.as_deref() == Some("refused") {
            "not sent (refused by the server)"
        } else if self.not_sent.is_some() {
            "not sent (sampled out)"
        } else if self.span().is_some_and(|s| s.is_complete_at(now)) {
            "due"
        } else {
            "open"
        }
    }

    /// A small stored report, for documentation.
    ///
    /// ```
    /// assert_eq!(telemetry::report::StoredReport::example().report.tool, "mytool");
    /// ```
    pub fn example() -> Self {
        Self {
            format: FILE_FORMAT,
            level: Level::On,
            sent_at: None,
            not_sent: None,
            report: Report::example(),
        }
    }
}

/// What the report of a period is made of, besides its rows.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub(crate) tool: String,
    pub(crate) period: ReportPeriod,
    pub(crate) os: String,
    pub(crate) arch: String,
    /// The most distinct attribute combinations per event; the rest go to `_other`.
    pub(crate) limit: usize,
}

/// The reports directory of one tool.
#[derive(Debug, Clone)]
pub(crate) struct ReportStore {
    dir: PathBuf,
}

/// An advisory lock on the reports directory, released on drop.
pub(crate) struct Locked(File);

impl Drop for Locked {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl ReportStore {
    pub(crate) fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join(REPORTS_DIR),
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory, checked and resolved, if it exists and passes the rules.
    #[cfg(feature = "spool")]
    pub(crate) fn checked_dir(&self) -> Option<PathBuf> {
        self.existing().ok().flatten()
    }

    /// The directory, created (0700) and checked by the trust rules.
    fn prepared(&self) -> Result<PathBuf, TelemetryError> {
        fsutil::prepare_dir(&self.dir, DirLink::Refused)
    }

    /// The directory if it exists and passes the rules (creates nothing).
    fn existing(&self) -> Result<Option<PathBuf>, TelemetryError> {
        fsutil::check_dir(&self.dir, DirLink::Refused).map_err(Into::into)
    }

    /// The lock of the one process that uploads reports, if free.
    pub(crate) fn try_upload_lock(&self) -> Result<Option<Locked>, TelemetryError> {
        let real = self.prepared()?;
        Self::lock_file(&real, SENDING_LOCK_FILE, Duration::ZERO)
    }

    fn lock(real: &Path, wait: Duration) -> Result<Option<Locked>, TelemetryError> {
        Self::lock_file(real, LOCK_FILE, wait)
    }

    fn lock_file(
        real: &Path,
        name: &str,
        wait: Duration,
    ) -> Result<Option<Locked>, TelemetryError> {
        let path = real.join(name);
        let file = fsutil::private_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| TelemetryError::io("open", &path, e))?;
        fsutil::check_open(&file, &path, Strictness::Trusted)?;
        let until = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(Locked(file))),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < until => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(TelemetryError::io("lock", &path, e));
                }
            }
        }
    }

    /// Adds `rows` (folded at `level`, in period `span`) to the period's report file.
    /// Waits at most `wait` for another writer; past that, the rows go to a pending
    /// file that the next writer folds in.
    pub(crate) fn merge(
        &self,
        header: &Header,
        span: Span,
        level: Level,
        rows: Vec<ReportRow>,
        wait: Duration,
    ) -> Result<(), TelemetryError> {
        let real = self.prepared()?;
        let lock = match Self::lock(&real, wait) {
            Ok(lock) => lock,
            Err(e) => {
                // The lock file refused or unusable: as for a busy lock, the rows wait
                // in a pending file (which needs no lock).
                write_pending(&real, span, level, rows)?;
                return Err(e);
            }
        };
        let Some(_lock) = lock else {
            return write_pending(&real, span, level, rows);
        };
        let mut touched: BTreeMap<Span, StoredReport> = BTreeMap::new();
        let mut pending_files = Vec::new();
        for (path, pending) in read_pending(&real, true) {
            let Some(pspan) = Span::parse(&pending.period_start, &pending.period_end) else {
                pending_files.push(path);
                continue;
            };
            // A report file that cannot be read now (not a corrupt one) keeps its
            // pending rows waiting.
            if let Ok(stored) = self.entry(&real, &mut touched, header, pspan) {
                add_rows(stored, header.limit, pending.level, pending.rows);
                pending_files.push(path);
            }
        }
        match self.entry(&real, &mut touched, header, span) {
            Ok(stored) => add_rows(stored, header.limit, level, rows),
            Err(e) => {
                // Refused or unreadable (not corrupt): left as it is, and these rows
                // wait in a pending file until it can be read again.
                write_pending(&real, span, level, rows)?;
                return Err(e);
            }
        }
        for (span, stored) in &touched {
            let bytes = stored.to_json();
            write_replace(&real, &file_name(*span), &bytes)?;
        }
        // Only once their rows are in a report file.
        for path in pending_files {
            let _ = std::fs::remove_file(path);
        }
        self.prune(&real);
        Ok(())
    }

    /// The stored report of `span` from `touched`, else from its file, else new.
    fn entry<'a>(
        &self,
        real: &Path,
        touched: &'a mut BTreeMap<Span, StoredReport>,
        header: &Header,
        span: Span,
    ) -> Result<&'a mut StoredReport, TelemetryError> {
        use std::collections::btree_map::Entry;
        match touched.entry(span) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => {
                let path = real.join(file_name(span));
                let stored = match read_report(&path) {
                    Ok(Some(stored)) => stored,
                    Ok(None) => new_report(header, span),
                    Err(ReadError::Corrupt(why)) => {
                        // Kept aside, never overwritten: the user may want it.
                        crate::util::log::debug!(error = %why, "telemetry: report file set aside");
                        set_aside(&path);
                        new_report(header, span)
                    }
                    Err(ReadError::Unreadable(e)) => return Err(e),
                };
                Ok(e.insert(stored))
            }
        }
    }

    /// Deletes the reports of all but the newest [`KEEP_REPORTS`] periods.
    fn prune(&self, real: &Path) {
        let mut spans = report_spans(real);
        spans.sort();
        let excess = spans.len().saturating_sub(KEEP_REPORTS);
        for span in &spans[..excess] {
            let _ = std::fs::remove_file(real.join(file_name(*span)));
        }
        // A writer killed between creating its temp file and renaming it leaves the
        // temp file; a live writer's lasts milliseconds.
        let Ok(entries) = std::fs::read_dir(real) else {
            return;
        };
        let mut set_aside = Vec::new();
        for entry in entries.filter_map(Result::ok) {
            if entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.contains(".json.corrupt"))
            {
                let at = entry.metadata().and_then(|m| m.modified()).ok();
                set_aside.push((at, entry.path()));
                continue;
            }
            let stale = entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(".tmp-"))
                && entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t.elapsed().is_ok_and(|age| age >= STALE_TEMP));
            if stale {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        // Files set aside as unreadable are kept for the user to look at, but not
        // without end: the newest [`KEEP_REPORTS`] stay.
        set_aside.sort();
        let excess = set_aside.len().saturating_sub(KEEP_REPORTS);
        for (_, path) in &set_aside[..excess] {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Deletes every report and the files kept with them (`telemetry reset`).
    /// `Ok(false)` when there were none.
    pub(crate) fn remove_all(&self) -> Result<bool, TelemetryError> {
        let Some(real) = self.existing()? else {
            return Ok(false);
        };
        let entries = std::fs::read_dir(&real).map_err(|e| TelemetryError::io("read", &real, e))?;
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if fsutil::check_own_entry(&path)? {
                std::fs::remove_file(&path).map_err(|e| TelemetryError::io("delete", &path, e))?;
            }
        }
        let _ = std::fs::remove_dir(&real);
        Ok(true)
    }

    /// Every report, newest period first, with the rows still in pending files added
    /// under the limit of `limit` combinations per event, as the next writer will add
    /// them (read only: nothing is written). Files that cannot be read are listed as
    /// errors.
    pub(crate) fn list(
        &self,
        limit: usize,
    ) -> Result<Vec<Result<StoredReport, String>>, TelemetryError> {
        let Some(real) = self.existing()? else {
            return Ok(Vec::new());
        };
        let mut spans = report_spans(&real);
        spans.sort_by(|a, b| b.cmp(a));
        // Reads only: a bad pending file is left for the next writer to set aside.
        let pending = read_pending(&real, false);
        Ok(spans
            .into_iter()
            .map(|span| {
                let mut stored = read_report(&real.join(file_name(span)))
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("{}: gone while being read", file_name(span)))?;
                for (_, p) in &pending {
                    if Span::parse(&p.period_start, &p.period_end)
                        .is_some_and(|s| s.first_day == span.first_day)
                    {
                        add_rows(&mut stored, limit, p.level, p.rows.clone());
                    }
                }
                Ok(stored)
            })
            .collect())
    }

    /// The reports that may be uploaded at `now`: complete, collected at level `on`,
    /// not sent and not sampled out; oldest first (pending rows added as by
    /// [`list`](Self::list)).
    pub(crate) fn due(
        &self,
        now: SystemTime,
        limit: usize,
    ) -> Result<Vec<StoredReport>, TelemetryError> {
        Ok(self
            .list(limit)?
            .into_iter()
            .rev()
            .filter_map(Result::ok)
            .filter(|s| {
                s.level == Level::On
                    && s.sent_at.is_none()
                    && s.not_sent.is_none()
                    && s.span().is_some_and(|span| span.is_complete_at(now))
            })
            .collect())
    }

    /// Records what became of a report's upload: sent at `now`, or `not_sent` with a
    /// reason.
    pub(crate) fn mark(
        &self,
        report: &Report,
        sent_at: Option<String>,
        not_sent: Option<&str>,
    ) -> Result<(), TelemetryError> {
        let Some(span) = Span::parse(&report.period_start, &report.period_end) else {
            return Ok(());
        };
        let real = self.prepared()?;
        let Some(_lock) = Self::lock(&real, Duration::from_secs(1))? else {
            return Err(TelemetryError::Io {
                action: "lock",
                path: real.join(LOCK_FILE),
                source: std::io::Error::from(std::io::ErrorKind::WouldBlock),
            });
        };
        let path = real.join(file_name(span));
        let Some(mut stored) = read_report(&path)? else {
            return Ok(());
        };
        stored.sent_at = sent_at.or(stored.sent_at);
        stored.not_sent = not_sent.map(str::to_owned).or(stored.not_sent);
        write_replace(&real, &file_name(span), &stored.to_json())
    }

    /// The user changed their decision (`telemetry disable`: `local` false;
    /// `telemetry local`: true): every report not sent yet is kept from upload for
    /// good, marked `not_sent: "disabled"` or level `local`. What was collected
    /// under a consent the user withdrew is not sent after a later `enable`.
    pub(crate) fn withhold_unsent(&self, local: bool) -> Result<(), TelemetryError> {
        let Some(real) = self.existing()? else {
            return Ok(());
        };
        let Some(_lock) = Self::lock(&real, Duration::from_secs(1))? else {
            return Err(TelemetryError::Io {
                action: "lock",
                path: real.join(LOCK_FILE),
                source: std::io::Error::from(std::io::ErrorKind::WouldBlock),
            });
        };
        for span in report_spans(&real) {
            let name = file_name(span);
            let Ok(Some(mut stored)) = read_report(&real.join(&name)) else {
                continue;
            };
            if stored.sent_at.is_some() {
                continue;
            }
            if local {
                if stored.level == Level::Local {
                    continue;
                }
                stored.level = Level::Local;
            } else {
                if stored.not_sent.is_some() {
                    continue;
                }
                stored.not_sent = Some("disabled".to_owned());
            }
            write_replace(&real, &name, &stored.to_json())?;
        }
        Ok(())
    }

    /// This install's draw in [0, 1), made once and kept: it uploads only while the
    /// draw is below the tool's upload rate.
    pub(crate) fn sample(&self) -> Result<f64, TelemetryError> {
        let real = self.prepared()?;
        let path = real.join(SAMPLE_FILE);
        if let Some(bytes) = fsutil::read_checked(&path, DirLink::Refused)?
            && let Some(x) = std::str::from_utf8(&bytes)
                .ok()
                .and_then(|t| t.trim().parse::<f64>().ok())
                .filter(|x| (0.0..1.0).contains(x))
        {
            return Ok(x);
        }
        let x = crate::util::random::unit_f64();
        // Published only if no other process drew first; then theirs counts.
        if !fsutil::publish_new(&path, format!("{x}\n").as_bytes(), DirLink::Refused)? {
            return self.sample_again(&path);
        }
        Ok(x)
    }

    fn sample_again(&self, path: &Path) -> Result<f64, TelemetryError> {
        let bytes = fsutil::read_checked(path, DirLink::Refused)?.unwrap_or_default();
        std::str::from_utf8(&bytes)
            .ok()
            .and_then(|t| t.trim().parse::<f64>().ok())
            .filter(|x| (0.0..1.0).contains(x))
            .ok_or_else(|| {
                TelemetryError::Config(format!("{} is not a number in [0, 1)", path.display()))
            })
    }
}

fn file_name(span: Span) -> String {
    format!("{}.json", span.start_date())
}

fn new_report(header: &Header, span: Span) -> StoredReport {
    StoredReport {
        format: FILE_FORMAT,
        level: Level::On,
        sent_at: None,
        not_sent: None,
        report: Report {
            schema: super::model::REPORT_SCHEMA,
            tool: header.tool.clone(),
            period: header.period.as_str().to_owned(),
            period_start: span.start_date(),
            period_end: span.end_date(),
            os: header.os.clone(),
            arch: header.arch.clone(),
            duration_bounds_ms: super::model::REPORT_DURATION_BOUNDS_MS.to_vec(),
            rows: Vec::new(),
        },
    }
}

/// The periods that have a report file in `real`.
fn report_spans(real: &Path) -> Vec<Span> {
    let Ok(entries) = std::fs::read_dir(real) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name();
            let date = name.to_str()?.strip_suffix(".json")?;
            let first_day = crate::util::time::days_of_date(date)?;
            // Named by its first day; its length is in the file.
            Some(Span { first_day, days: 0 })
        })
        .collect()
}

/// Reads a file the trust rules accept, up to one byte past [`READ_LIMIT`] (see
/// [`too_large`]). `Ok(None)`: no file.
fn read_limited(path: &Path) -> Result<Option<Vec<u8>>, TelemetryError> {
    let Some(file) = fsutil::open_checked(path, DirLink::Refused, Strictness::Trusted, false)?
    else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    // One byte more than the limit tells a file that is too large.
    file.take(READ_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| TelemetryError::io("read", path, e))?;
    Ok(Some(bytes))
}

/// A file read by [`read_limited`] that is larger than any report.
fn too_large(bytes: &[u8]) -> Option<String> {
    (bytes.len() as u64 > READ_LIMIT).then(|| {
        format!(
            "larger than {} MiB: not a report file this library wrote",
            READ_LIMIT >> 20
        )
    })
}

/// Why a report file was not read.
#[derive(Debug)]
enum ReadError {
    /// Its bytes are not a report this library wrote: set aside, a new one starts.
    Corrupt(String),
    /// Refused by the trust rules, or an I/O error: left alone.
    Unreadable(TelemetryError),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Corrupt(why) => f.write_str(why),
            Self::Unreadable(e) => write!(f, "{e}"),
        }
    }
}

impl From<ReadError> for TelemetryError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Corrupt(why) => TelemetryError::Config(why),
            ReadError::Unreadable(e) => e,
        }
    }
}

fn read_report(path: &Path) -> Result<Option<StoredReport>, ReadError> {
    let Some(bytes) = read_limited(path).map_err(ReadError::Unreadable)? else {
        return Ok(None);
    };
    if let Some(why) = too_large(&bytes) {
        return Err(ReadError::Corrupt(format!("{}: {why}", path.display())));
    }
    wire::stored_from_json(&bytes)
        .map(Some)
        .map_err(|e| ReadError::Corrupt(format!("{}: {e}", path.display())))
}

/// Rows that could not be added to their report now, kept for the next writer.
fn write_pending(
    real: &Path,
    span: Span,
    level: Level,
    rows: Vec<ReportRow>,
) -> Result<(), TelemetryError> {
    let waiting = std::fs::read_dir(real).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| n.starts_with(PENDING_PREFIX) && n.ends_with(".json"))
            })
            .count()
    });
    if waiting >= MAX_PENDING {
        return Err(TelemetryError::io(
            "write",
            real,
            std::io::Error::other(format!(
                "{waiting} files of report rows wait already ({PENDING_PREFIX}*.json): none is \
                 folded in while a report file or the lock is refused"
            )),
        ));
    }
    let pending = wire::Pending {
        period_start: span.start_date(),
        period_end: span.end_date(),
        level,
        rows,
    };
    let name = format!(
        "{PENDING_PREFIX}{}.json",
        crate::util::random::uuid_v4().simple()
    );
    write_replace(real, &name, &pending.to_json())
}

/// Renames a file that cannot be read to `<name>.corrupt`, or `<name>.corrupt-<n>`
/// if an earlier one of that name was set aside already (at most 100 are kept; past
/// that, the last name is reused). Report files are set aside under the directory's
/// lock; pending files have names of their own.
fn set_aside(path: &Path) {
    let mut target = path.with_extension("json.corrupt");
    for n in 2..=100 {
        if std::fs::symlink_metadata(&target).is_err() {
            break;
        }
        target = path.with_extension(format!("json.corrupt-{n}"));
    }
    let _ = std::fs::rename(path, target);
}

/// The pending files in `real`; with `set_bad_aside`, one that is not pending rows
/// this library wrote is set aside (a writer holding the lock does this; a reader
/// leaves it).
fn read_pending(real: &Path, set_bad_aside: bool) -> Vec<(PathBuf, wire::Pending)> {
    let Ok(entries) = std::fs::read_dir(real) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.starts_with(PENDING_PREFIX) && n.ends_with(".json")))
        .filter_map(|e| {
            let path = e.path();
            let bytes = read_limited(&path).ok()??;
            let parsed = match too_large(&bytes) {
                Some(why) => Err(why),
                None => wire::pending_from_json(&bytes).map_err(|e| e.to_string()),
            };
            match parsed {
                Ok(p) => Some((path, p)),
                Err(e) => {
                    if set_bad_aside {
                        crate::util::log::debug!(error = %e, "telemetry: pending report rows set aside");
                        set_aside(&path);
                    }
                    None
                }
            }
        })
        .collect()
}

/// Replaces `real/name` with `bytes` (0600): a temp file renamed over it. Not synced:
/// a report survives the process being killed at any point (the page cache keeps
/// what was written); a power cut may lose the last write of a period's counts,
/// which is not worth a sync on every exit.
fn write_replace(real: &Path, name: &str, bytes: &[u8]) -> Result<(), TelemetryError> {
    let tmp = real.join(format!(".tmp-{}", crate::util::random::uuid_v4().simple()));
    let mut file = fsutil::private_options()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| TelemetryError::io("create", &tmp, e))?;
    if let Err(e) = file.write_all(bytes) {
        let _ = std::fs::remove_file(&tmp);
        return Err(TelemetryError::io("write", &tmp, e));
    }
    drop(file);
    let target = real.join(name);
    std::fs::rename(&tmp, &target).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        TelemetryError::io("replace", &target, e)
    })
}

/// A row's attributes as one comparable string (their JSON text).
fn attrs_key(attrs: &std::collections::BTreeMap<String, crate::value::AttrValue>) -> String {
    super::model::attrs_document(attrs).to_string_compact()
}

/// The identity of a row: everything but its counts.
fn row_key(row: &ReportRow) -> (String, String, &'static str, Option<String>, String, bool) {
    (
        row.event.clone(),
        row.tool_version.clone(),
        row.outcome.as_str(),
        row.error_kind.clone(),
        attrs_key(&row.attrs),
        row.other,
    )
}

/// Adds `rows` to `stored`, at most `limit` distinct attribute combinations per event
/// (the rest into the event's `_other` rows), and marks it `local` if `level` is.
fn add_rows(stored: &mut StoredReport, limit: usize, level: Level, rows: Vec<ReportRow>) {
    if rows.is_empty() {
        return;
    }
    if level != Level::On {
        stored.level = Level::Local;
    }
    let existing = &mut stored.report.rows;
    let mut index: HashMap<_, usize> = existing
        .iter()
        .enumerate()
        .map(|(i, r)| (row_key(r), i))
        .collect();
    let mut combinations: HashMap<String, HashSet<String>> = HashMap::new();
    for r in existing.iter().filter(|r| !r.other) {
        combinations
            .entry(r.event.clone())
            .or_default()
            .insert(attrs_key(&r.attrs));
    }
    for mut row in rows {
        if !row.other {
            let attrs = attrs_key(&row.attrs);
            let seen = combinations.entry(row.event.clone()).or_default();
            if !seen.contains(&attrs) {
                if seen.len() >= limit {
                    row.attrs.clear();
                    row.other = true;
                } else {
                    seen.insert(attrs);
                }
            }
        }
        let key = row_key(&row);
        match index.get(&key) {
            Some(&i) => add_counts(&mut existing[i], &row),
            None => {
                index.insert(key, existing.len());
                existing.push(row);
            }
        }
    }
    existing.sort_by(|a, b| row_key(a).cmp(&row_key(b)));
}

fn add_counts(into: &mut ReportRow, from: &ReportRow) {
    into.count = into.count.saturating_add(from.count);
    into.duration_ms = match (into.duration_ms.take(), &from.duration_ms) {
        (Some(mut a), Some(b)) => {
            a.sum += b.sum;
            a.min = a.min.min(b.min);
            a.max = a.max.max(b.max);
            for (x, y) in a.buckets.iter_mut().zip(&b.buckets) {
                *x = x.saturating_add(*y);
            }
            Some(a)
        }
        (a, b) => a.or_else(|| b.clone()),
    };
}

/// A histogram read back must have one count per bucket.
pub(super) fn well_formed(h: &DurationHistogram) -> bool {
    h.buckets.len() == BUCKETS && h.sum.is_finite() && h.min.is_finite() && h.max.is_finite()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Outcome;
    use crate::value::AttrValue;

    fn header(limit: usize) -> Header {
        Header {
            tool: "t".into(),
            period: ReportPeriod::Week,
            os: "linux".into(),
            arch: "x86_64".into(),
            limit,
        }
    }

    fn span(first_day: u64) -> Span {
        Span { first_day, days: 7 }
    }

    fn row(jobs: i64, count: u64) -> ReportRow {
        ReportRow {
            event: "cmd.build".into(),
            tool_version: "1".into(),
            outcome: Outcome::Ok,
            error_kind: None,
            attrs: BTreeMap::from([("jobs".to_owned(), AttrValue::Int(jobs))]),
            other: false,
            count,
            duration_ms: None,
        }
    }

    fn only(store: &ReportStore) -> StoredReport {
        let mut all = store.list(usize::MAX).unwrap();
        assert_eq!(all.len(), 1);
        all.pop().unwrap().unwrap()
    }

    const WAIT: Duration = Duration::from_millis(50);

    /// Adds `rows`, folded at level `on`, to the week of 2025-11-24.
    fn write_week(store: &ReportStore, h: &Header, rows: Vec<ReportRow>) {
        write_week_n(store, h, 0, rows);
    }

    /// Merges `rows` into week `week` (0: the week of `span(20_416)`), at level `on`.
    fn write_week_n(store: &ReportStore, h: &Header, week: u64, rows: Vec<ReportRow>) {
        store
            .merge(h, span(20_416 + 7 * week), Level::On, rows, WAIT)
            .unwrap();
    }

    #[test]
    fn merges_add_up_and_the_limit_holds_across_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = ReportStore::new(dir.path());
        let h = header(2);
        write_week(&store, &h, vec![row(1, 2), row(2, 1)]);
        write_week(&store, &h, vec![row(1, 3), row(3, 4), row(4, 5)]);
        let stored = only(&store);
        assert_eq!(stored.level, Level::On);
        let count = |pred: &dyn Fn(&ReportRow) -> bool| -> u64 {
            stored
                .report
                .rows
                .iter()
                .filter(|r| pred(r))
                .map(|r| r.count)
                .sum()
        };
        assert_eq!(
            count(&|r| r.attrs.get("jobs") == Some(&AttrValue::Int(1))),
            5
        );
        assert_eq!(
            count(&|r| r.other),
            9,
            "jobs 3 and 4 are past the limit of 2"
        );
        assert_eq!(stored.report.total_count(), 15);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = dir.path().join(REPORTS_DIR).join("2025-11-24.json");
            let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn one_local_fold_marks_the_report_local_for_good() {
        let dir = tempfile::tempdir().unwrap();
        let store = ReportStore::new(dir.path());
        let h = header(10);
        store
            .merge(&h, span(20_416), Level::Local, vec![row(1, 1)], WAIT)
            .unwrap();
        write_week(&store, &h, vec![row(1, 1)]);
        assert_eq!(only(&store).level, Level::Local);
        let after_end = span(20_416).end() + Duration::from_secs(1);
        assert!(
            store.due(after_end, usize::MAX).unwrap().is_empty(),
            "a local report is never due"
        );
    }

    #[test]
    fn a_busy_lock_leaves_pending_rows_that_the_next_writer_folds_in() {
        let dir = tempfile::tempdir().unwrap();
        let store = ReportStore::new(dir.path());
        let h = header(10);
        write_week(&store, &h, vec![row(1, 1)]);
        let real = store.prepared().unwrap();
        let held = ReportStore::lock(&real, WAIT).unwrap().unwrap();
        write_week(&store, &h, vec![row(1, 10)]);
        assert_eq!(
            read_pending(&real, false).len(),
            1,
            "left for the next writer"
        );
        assert_eq!(
            only(&store).report.total_count(),
            11,
            "listed with the pending rows"
        );
        drop(held);
        write_week(&store, &h, vec![row(2, 100)]);
        assert!(
            read_pending(&real, false).is_empty(),
            "folded in and removed"
        );
        assert_eq!(only(&store).report.total_count(), 111);
    }

    #[test]
    fn pending_rows_in_a_listed_or_due_report_keep_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let store = ReportStore::new(dir.path());
        let h = header(2);
        write_week(&store, &h, vec![row(1, 1), row(2, 1)]);
        let real = store.prepared().unwrap();
        let held = ReportStore::lock(&real, WAIT).unwrap().unwrap();
        write_week(&store, &h, vec![row(3, 1), row(4, 1)]);
        drop(held);
        assert_eq!(read_pending(&real, false).len(), 1);
        let after_end = span(20_416).end() + Duration::from_secs(1);
        let due = store.due(after_end, h.limit).unwrap();
        assert_eq!(due.len(), 1);
        let listed = store.list(h.limit).unwrap().pop().unwrap().unwrap();
        for report in [&due[0].report, &listed.report] {
            let kept = report.rows.iter().filter(|r| !r.other).count();
            let other: u64 = report
                .rows
                .iter()
                .filter(|r| r.other)
                .map(|r| r.count)
                .sum();
            assert_eq!((kept, other), (2, 2), "{:?}", report.rows);
        }
        // What a writer makes of the same rows.
        store
            .merge(&h, span(20_416), Level::On, Vec::new(), WAIT)
            .unwrap();
        assert!(read_pending(&real, false).is_empty());
        assert_eq!(only(&store).report, listed.report);
    }

    #[test]
    fn a_corrupt_file_is_set_aside_and_the_oldest_periods_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let store = ReportStore::new(dir.path());
        let h = header(10);
        let real = store.prepared().unwrap();
        std::fs::write(real.join("2025-11-24.json"), b"{not json").unwrap();
        write_week(&store, &h, vec![row(1, 1)]);
        assert_eq!(
            std::fs::read(real.join("2025-11-24.json.corrupt")).unwrap(),
            b"{not json"
        );
        assert_eq!(only(&store).report.total_count(), 1);
        for week in 1..=KEEP_REPORTS as u64 {
            write_week_n(&store, &h, week, vec![row(1, 1)]);
        }
        let listed = store.list(usize::MAX).unwrap();
        assert_eq!(listed.len(), KEEP_REPORTS);
        assert!(!real.join("2025-11-24.json").exists(), "the oldest went");
    }

    /// A store in `dir` with week 2025-11-24's report written (one call), its
    /// header, the reports directory and the report file.
    #[cfg(unix)]
    fn one_written_report(dir: &Path) -> (ReportStore, Header, PathBuf, PathBuf) {
        let store = ReportStore::new(dir);
        let h = header(10);
        write_week(&store, &h, vec![row(1, 1)]);
        let real = store.prepared().unwrap();
        let file = real.join("2025-11-24.json");
        (store, h, real, file)
    }

    #[cfg(unix)]
    #[test]
    fn a_report_file_refused_for_its_permissions_is_left_alone_and_nothing_is_lost() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (store, h, real, file) = one_written_report(dir.path());
        let before = std::fs::read(&file).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(
            store
                .merge(&h, span(20_416), Level::On, vec![row(1, 5)], WAIT)
                .is_err()
        );
        assert_eq!(
            std::fs::read(&file).unwrap(),
            before,
            "neither replaced nor set aside"
        );
        assert!(!real.join("2025-11-24.json.corrupt").exists());
        assert_eq!(read_pending(&real, false).len(), 1, "the rows wait");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_week(&store, &h, vec![row(1, 10)]);
        assert_eq!(
            only(&store).report.total_count(),
            16,
            "1 + 5 + 10: nothing lost"
        );
        assert!(read_pending(&real, false).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn pending_files_stay_bounded_while_a_report_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (store, h, real, file) = one_written_report(dir.path());
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        for _ in 0..MAX_PENDING + 20 {
            let _ = store.merge(&h, span(20_416), Level::On, vec![row(1, 1)], WAIT);
        }
        let pending = read_pending(&real, false).len();
        assert!(pending <= MAX_PENDING, "{pending} pending files");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        store
            .merge(&h, span(20_416), Level::On, Vec::new(), WAIT)
            .unwrap();
        assert!(read_pending(&real, false).is_empty());
    }

    #[test]
    fn a_killed_writers_temp_file_is_removed_once_stale() {
        let dir = tempfile::tempdir().unwrap();
        let store = ReportStore::new(dir.path());
        let real = store.prepared().unwrap();
        let old = real.join(".tmp-old");
        let fresh = real.join(".tmp-fresh");
        for path in [&old, &fresh] {
            std::fs::write(path, b"{").unwrap();
        }
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - STALE_TEMP - Duration::from_secs(1))
            .unwrap();
        store
            .merge(&header(10), span(20_416), Level::On, vec![row(1, 1)], WAIT)
            .unwrap();
        assert!(!old.exists());
        assert!(fresh.exists(), "a live writer's temp file is left");
    }

    #[test]
    fn files_set_aside_are_kept_up_to_a_bound() {
        let dir = tempfile::tempdir().unwrap();
        let store = ReportStore::new(dir.path());
        let real = store.prepared().unwrap();
        let now = std::time::SystemTime::now();
        for n in 0..(KEEP_REPORTS as u64 + 3) {
            let path = real.join(format!("2025-11-{:02}.json.corrupt", n + 1));
            std::fs::write(&path, b"?").unwrap();
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(now - Duration::from_secs(1000 - n))
                .unwrap();
        }
        store
            .merge(&header(10), span(20_416), Level::On, vec![row(1, 1)], WAIT)
            .unwrap();
        let mut left: Vec<String> = std::fs::read_dir(&real)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.contains(".corrupt"))
            .collect();
        left.sort();
        assert_eq!(left.len(), KEEP_REPORTS);
        assert_eq!(left[0], "2025-11-04.json.corrupt", "the three oldest went");
    }

    #[test]
    fn a_withdrawn_decision_keeps_every_unsent_report_from_upload() {
        let dir = tempfile::tempdir().unwrap();
        let store = ReportStore::new(dir.path());
        let h = header(10);
        for week in 0..3 {
            write_week_n(&store, &h, week, vec![row(1, 1)]);
        }
        let sent = store.list(10).unwrap().pop().unwrap().unwrap();
        store
            .mark(&sent.report, Some("2025-12-01T00:00:00.000Z".into()), None)
            .unwrap();
        let after_all = span(20_416 + 21).end();
        assert_eq!(store.due(after_all, 10).unwrap().len(), 2);
        store.withhold_unsent(false).unwrap();
        assert!(
            store.due(after_all, 10).unwrap().is_empty(),
            "disable: nothing due"
        );
        let listed: Vec<StoredReport> = store
            .list(10)
            .unwrap()
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            listed
                .iter()
                .filter(|r| r.not_sent.as_deref() == Some("disabled"))
                .count(),
            2
        );
        assert!(
            listed
                .iter()
                .any(|r| r.sent_at.is_some() && r.not_sent.is_none()),
            "a sent one stays as it was"
        );

        let dir = tempfile::tempdir().unwrap();
        let store = ReportStore::new(dir.path());
        write_week(&store, &h, vec![row(1, 1)]);
        store.withhold_unsent(true).unwrap();
        assert_eq!(
            only(&store).level,
            Level::Local,
            "local: marked local for good"
        );
        assert!(store.due(span(20_416).end(), 10).unwrap().is_empty());
    }

    #[test]
    fn the_sampling_draw_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = ReportStore::new(dir.path());
        let x = store.sample().unwrap();
        assert!((0.0..1.0).contains(&x));
        assert_eq!(store.sample().unwrap(), x);
        std::fs::write(store.dir().join(SAMPLE_FILE), "0.25\n").unwrap();
        assert_eq!(store.sample().unwrap(), 0.25);
    }
}
