//! The spool: a journal of batches on disk, so that nothing accepted is lost when a
//! network sink is slow, down, or the process exits first.
//!
//! Layout of `<data dir>/spool/` (directory 0700, files 0600), one batch per file, as
//! JSON lines: a process line (tool, version, ids, platform), then the events of
//! that process without those fields (`sink::SpoolLines` writes them, `event::wire`
//! reads them and the full lines of earlier versions):
//!
//! - `<stem>.jsonl` — a batch waiting to be sent, by any process.
//! - `<stem>.jsonl.claim-<pid>-<token>` — a batch being sent by the process `<pid>`
//!   (`<token>`, random per process, tells two processes that had the same pid apart). The writing process creates its
//!   batch directly under its own claim, so a half-written file is never up for grabs
//!   while its writer lives; any other process takes a ready file by renaming it to
//!   its own claim, which is atomic: two processes never both win one file.
//!
//! - `upload.lock`, `upload-started`, `upload-ran` — the detached uploader's lock and
//!   time stamps (see `uploader`).
//! - `retry-after` — the unix time (seconds, decimal) before which no batch may be sent,
//!   because the server answered a `Retry-After`: every run of the tool honours it.
//!
//! `<stem>` is `<unix nanos, 20 digits>-<pid>-<seq>`: names sort oldest first.
//!
//! A claim is *stale*, and may be taken over by rename, when its owner is gone: on
//! Linux when `/proc/<pid>` is missing or a zombie, or the pid is ours but the token
//! is not; everywhere when the file was not touched for [`STALE_CLAIM_AFTER`] (the
//! owner refreshes the time before every attempt).
//!
//! Reading is forgiving: a line that does not parse as an event (a process killed
//! mid-write leaves a truncated last line) is skipped and counted; the other lines of
//! the file are still delivered.
//!
//! Trust (Unix, see `fsutil`): before every operation the spool directory is checked
//! and resolved: neither it nor the data dir above it may be a symbolic link, it must
//! be the user's and writable by no one else, and so must every directory above it
//! (root may own those; a sticky one may be writable by all). A refused spool is not
//! written, read, pruned or purged: its batches stay where they are and new batches
//! fail (counted). Files are opened without following links and checked on the handle:
//! a batch that is a link or someone else's is skipped, never sent (nor deleted by a
//! purge); one with wider permissions is tightened to 0600. The `retry-after` file is
//! read only if it is the user's and writable by no one else.
//!
//! The names, the directory check and the purge are in `spool_files`, which every
//! build has: a context without a spool still deletes what earlier runs left here.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, SystemTime};

use crate::error::TelemetryError;
use crate::event::Event;
use crate::pipeline::EventFactory;
use crate::pipeline::delivery::Scan;
use crate::pipeline::spool_files::{
    self, CLAIM_MARK, EventCount, Name, READY_SUFFIX, RETRY_AFTER_FILE, parse_name,
};
use crate::pipeline::stats::Counters;
use crate::util::fs::{self as fsutil, DirLink, Strictness};

/// A claim not touched for this long is taken over even if its owner seems alive.
pub(crate) const STALE_CLAIM_AFTER: Duration = Duration::from_secs(300);

/// `<unix nanos, 20 digits>`: the start of a batch file's name, so names sort oldest
/// first.
fn now_stem_time() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:020}")
}

/// A batch file this process holds a claim on.
#[derive(Debug)]
pub(crate) struct Claimed {
    pub(crate) path: PathBuf,
    stem: String,
}

/// A random token of this process: with the pid it names this process's claims, and
/// tells them apart from those of an earlier process that had the same pid (a
/// container's tool often runs as pid 1 in every run).
fn process_token() -> &'static str {
    static TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TOKEN.get_or_init(|| crate::util::random::uuid_v4().simple()[..12].to_owned())
}

/// Whether process `pid` may still be running. `true` when it cannot be told.
fn process_alive(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the first field after the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_none_or(|state| !matches!(state, 'Z' | 'X' | 'x')),
        Err(_) => false,
    }
}

/// The content of a batch file (in a checked directory), opened without following a
/// link and checked on the handle; `None` if it is refused or unreadable.
fn read_batch(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut file = fsutil::private_options().read(true).open(path).ok()?;
    fsutil::check_open(&file, path, Strictness::Tighten)
        .map_err(|r| crate::util::log::debug!(refused = %r, "telemetry: spool file skipped"))
        .ok()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

fn count_lines(path: &Path) -> u64 {
    read_batch(path).map_or(0, |bytes| EventCount::of(&bytes))
}

/// One process's handle on a spool directory.
#[derive(Debug)]
pub(crate) struct Spool {
    dir: PathBuf,
    /// What this tool's events look like (tool, version, machine id, default
    /// attributes): a replayed line must match (`replay_check`).
    factory: Arc<EventFactory>,
    /// The events this binary declares (`catalog::events`; a unit test's own list).
    catalog: fn() -> Vec<&'static crate::catalog::EventSpec>,
    max_files: usize,
    max_bytes: u64,
    pid: u32,
    token: String,
    seq: AtomicU64,
    counters: Arc<Counters>,
    /// The spool directory once it passed the trust rules, resolved: later operations
    /// of this process use it without walking the path again (some sixty system calls
    /// each, several times per exit). Only the user or root can change a directory that
    /// passed (it and every directory above it are theirs and writable by no one else),
    /// so the answer holds while the process runs; a directory removed meanwhile is
    /// checked afresh.
    checked: std::sync::Mutex<Option<PathBuf>>,
    /// An empty claimed file whose name is already synced: the next new batch goes
    /// there, so writing it needs one sync (its content), not two (see `prepare`).
    prepared: std::sync::Mutex<Option<Claimed>>,
    /// Set at the end of the run and by a purge: no file is prepared after it.
    no_more_prepared: std::sync::atomic::AtomicBool,
    /// How many batches this process holds a claim on (written or claimed, not yet
    /// released or acknowledged; a failed release stays counted). At zero the exit's
    /// [`release_own`](Self::release_own) has nothing to look for (a background
    /// exit's batch is released as soon as it is written, and its sender claims
    /// none) and does not list the directory.
    held: std::sync::atomic::AtomicUsize,
}

impl Spool {
    /// The same spool, checking replayed events against `catalog` (unit tests, whose
    /// binary registers no `#[track]` site).
    #[cfg(test)]
    fn with_catalog(mut self, catalog: fn() -> Vec<&'static crate::catalog::EventSpec>) -> Self {
        self.catalog = catalog;
        self
    }

    pub(crate) fn new(
        dir: PathBuf,
        factory: Arc<EventFactory>,
        max_files: usize,
        max_bytes: u64,
        counters: Arc<Counters>,
    ) -> Self {
        Self {
            dir,
            factory,
            catalog: crate::catalog::events,
            max_files: max_files.max(1),
            max_bytes: max_bytes.max(1),
            pid: std::process::id(),
            token: process_token().to_owned(),
            seq: AtomicU64::new(0),
            prepared: std::sync::Mutex::new(None),
            no_more_prepared: std::sync::atomic::AtomicBool::new(false),
            held: std::sync::atomic::AtomicUsize::new(0),
            counters,
            checked: std::sync::Mutex::new(None),
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The spool directory checked and resolved (module docs): `Ok(None)` when it does
    /// not exist and `create` is false. Every operation works through this path.
    fn resolved(&self, create: bool) -> Result<Option<PathBuf>, TelemetryError> {
        let mut checked = self.checked.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(path) = checked.as_ref() {
            if fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
                return Ok(Some(path.clone()));
            }
            // Removed meanwhile (a `reset` in another process): checked afresh.
            *checked = None;
        }
        let resolved = spool_files::resolve(&self.dir, create)?;
        checked.clone_from(&resolved);
        Ok(resolved)
    }

    /// [`resolved`](Self::resolved) for the operations that only read or delete: a
    /// missing or refused spool holds nothing they may touch.
    fn existing(&self) -> Option<PathBuf> {
        self.resolved(false)
            .map_err(|e| crate::util::log::debug!(error = %e, "telemetry: spool not used"))
            .ok()
            .flatten()
    }

    fn claim_path(&self, dir: &Path, stem: &str) -> PathBuf {
        dir.join(format!("{stem}{CLAIM_MARK}{}-{}", self.pid, self.token))
    }

    /// Writes `lines` (events as JSON lines) as a new batch file, claimed by this
    /// process, and syncs it to the disk. The caller sends it and then
    /// [`ack`](Self::ack)s or [`release`](Self::release)s it.
    pub(crate) fn write_claimed(&self, lines: &[u8]) -> Result<Claimed, TelemetryError> {
        if let Some(claimed) = self.fill_prepared(lines) {
            return Ok(claimed);
        }
        self.write_at(&now_stem_time(), lines)
    }

    /// Creates the file the next new batch will be written to, empty and claimed, and
    /// syncs the directory so that its name is durable. Done ahead, by the worker when
    /// it starts and after each batch it writes, so that a durable write at the exit
    /// costs one sync, of the content: the directory's sync, the slower of the two on
    /// most disks, happened while the tool was still working. A file prepared and
    /// never used is deleted at the exit ([`discard_prepared`](Self::discard_prepared)),
    /// or, after a crash, taken over and deleted as an empty stale claim.
    pub(crate) fn prepare(&self) {
        let mut prepared = self.prepared.lock().unwrap_or_else(PoisonError::into_inner);
        if prepared.is_some() || self.no_more_prepared.load(Ordering::Acquire) {
            return;
        }
        let Ok(Some(dir)) = self.resolved(true) else {
            return;
        };
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let stem = format!("{}-{}-{seq:06}", now_stem_time(), self.pid);
        let path = self.claim_path(&dir, &stem);
        let created = fsutil::private_options()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|_| fsutil::sync_dir(&dir));
        match created {
            Ok(()) => *prepared = Some(Claimed { path, stem }),
            Err(e) => {
                let _ = fs::remove_file(&path);
                crate::util::log::debug!(error = %e, "telemetry: could not prepare a spool file");
            }
        }
    }

    /// Deletes the prepared file if no batch went into it, and prepares none after it
    /// (the run is ending). Never waits for a `prepare` stuck on a hanging disk.
    pub(crate) fn discard_prepared(&self) {
        let Ok(mut prepared) = self.prepared.try_lock() else {
            return;
        };
        self.no_more_prepared.store(true, Ordering::Release);
        if let Some(claimed) = prepared.take() {
            let _ = fs::remove_file(&claimed.path);
        }
    }

    /// Writes `lines` into the prepared file (if there is one, and it is still there
    /// and still ours) and syncs its content; its name was synced when it was made.
    fn fill_prepared(&self, lines: &[u8]) -> Option<Claimed> {
        let claimed = self
            .prepared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        // Not created here: a purge (or anyone) may have deleted it since.
        let mut file = fsutil::private_options()
            .write(true)
            .open(&claimed.path)
            .ok()?;
        let written = fsutil::check_open(&file, &claimed.path, Strictness::Trusted)
            .map_err(|r| std::io::Error::other(r.to_string()))
            .and_then(|()| file.metadata())
            .and_then(|meta| {
                if meta.len() != 0 {
                    return Err(std::io::Error::other("the prepared file is not empty"));
                }
                // Old enough for another process to take it as a stale claim (a
                // long-running process's file waits until its next batch): not used.
                let age = meta
                    .modified()
                    .ok()
                    .and_then(|t| SystemTime::now().duration_since(t).ok());
                if age.is_none_or(|age| age >= STALE_CLAIM_AFTER / 2) {
                    return Err(std::io::Error::other("the prepared file is too old"));
                }
                file.write_all(lines)?;
                file.sync_data()
            });
        if let Err(e) = written {
            crate::util::log::debug!(error = %e, "telemetry: prepared spool file not used");
            let _ = fs::remove_file(&claimed.path);
            return None;
        }
        self.held.fetch_add(1, Ordering::AcqRel);
        Some(claimed)
    }

    /// Writes what is left of the partly sent batch `of` as a new claimed file that
    /// takes its place in the order (same time prefix in its name).
    pub(crate) fn write_rest(&self, of: &Claimed, lines: &[u8]) -> Result<Claimed, TelemetryError> {
        let time = of.stem.split('-').next().unwrap_or("0");
        let rest = self.write_at(time, lines)?;
        self.keep_bounds();
        Ok(rest)
    }

    /// Deletes the oldest takeable batches while the spool is over a bound (see
    /// `enforce_bounds`). Called by the worker when it starts and after each batch it
    /// journals (while that batch is still this process's, so never the batch just
    /// written), not at a background exit's write: that exit would wait for a `stat`
    /// of every waiting file (an endpoint out of reach for weeks leaves many), and
    /// its batch is counted against the bounds at the next run's start.
    pub(crate) fn keep_bounds(&self) {
        if let Some(dir) = self.existing() {
            self.enforce_bounds(&dir);
        }
    }

    fn write_at(&self, time: &str, lines: &[u8]) -> Result<Claimed, TelemetryError> {
        let dir = self.resolved(true)?.ok_or_else(|| {
            TelemetryError::io(
                "create directory",
                &self.dir,
                std::io::Error::from(std::io::ErrorKind::NotFound),
            )
        })?;
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let stem = format!("{time}-{}-{seq:06}", self.pid);
        let path = self.claim_path(&dir, &stem);
        // Synced before it counts as kept, content and name: a power loss after the
        // exit must not take back what the tool reported as persisted. The later
        // rename to the ready name needs no sync: after a crash the file is found
        // under this claim, whose owner is gone, and is taken over like any stale one.
        let written = fsutil::private_options()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut file| {
                file.write_all(lines)?;
                file.sync_data()
            })
            .and_then(|()| fsutil::sync_dir(&dir));
        if let Err(e) = written {
            let _ = fs::remove_file(&path);
            return Err(TelemetryError::io("write a spool file", &path, e));
        }
        self.held.fetch_add(1, Ordering::AcqRel);
        Ok(Claimed { path, stem })
    }

    /// The batch was delivered (or refused for good): delete it.
    pub(crate) fn ack(&self, claimed: &Claimed) {
        match fs::remove_file(&claimed.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                crate::util::log::debug!(error = %e, "telemetry: could not delete a delivered spool file");
            }
            _ => self.let_go(),
        }
    }

    /// The batch could not be delivered now (or was just written): hand it over for an
    /// attempt by this process or another one.
    pub(crate) fn release(&self, claimed: &Claimed) {
        let dir = claimed.path.parent().unwrap_or(&self.dir);
        let ready = dir.join(format!("{}{READY_SUFFIX}", claimed.stem));
        match fs::rename(&claimed.path, &ready) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                crate::util::log::debug!(error = %e, "telemetry: could not release a spool file");
            }
            _ => self.let_go(),
        }
    }

    /// One claim fewer (never below zero: a batch settled twice).
    fn let_go(&self) {
        let _ = self
            .held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }

    /// Hands back every batch this process still holds a claim on (a send cut short
    /// by the exit), so that the next run or the uploader can take them at once,
    /// on every platform, rather than when the claim goes stale.
    pub(crate) fn release_own(&self) {
        if self.held.load(Ordering::Acquire) == 0 {
            return;
        }
        let Some(dir) = self.existing() else {
            return;
        };
        for (name, _) in self.entries(&dir) {
            if let Some(Name::Claimed { stem, pid, token }) = parse_name(&name)
                && pid == self.pid
                && token == self.token
            {
                let ready = dir.join(format!("{stem}{READY_SUFFIX}"));
                let _ = fs::rename(dir.join(&name), ready);
            }
        }
    }

    /// Whether a batch waits that this process could take now (ready, or a stale
    /// claim): what decides whether an uploader has work.
    /// `dir` is the [`checked_dir`](Self::checked_dir) the caller just had: the exit
    /// asks several questions of the spool in a row and checks the directory once.
    pub(crate) fn has_waiting(&self, dir: &Path) -> bool {
        self.takeable(dir)
            .iter()
            .any(|name| fs::symlink_metadata(dir.join(name)).is_ok_and(|m| m.len() > 0))
    }

    /// The spool directory, checked (module docs), if it exists: where the uploader
    /// keeps its lock and time stamps.
    pub(crate) fn checked_dir(&self) -> Option<PathBuf> {
        self.existing()
    }

    /// Whether this process wrote the batch (its name carries the writer's pid).
    pub(crate) fn wrote(&self, claimed: &Claimed) -> bool {
        claimed
            .stem
            .split('-')
            .nth(1)
            .is_some_and(|pid| pid.parse() == Ok(self.pid))
    }

    /// Marks a claim as alive (its age decides staleness).
    pub(crate) fn touch(&self, claimed: &Claimed) {
        if let Ok(file) = fsutil::private_options().write(true).open(&claimed.path) {
            let _ = file.set_modified(SystemTime::now());
        }
    }

    fn is_stale(&self, path: &Path, pid: u32, token: &str) -> bool {
        if pid == self.pid {
            return token != self.token;
        }
        if !process_alive(pid) {
            return true;
        }
        fs::symlink_metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age >= STALE_CLAIM_AFTER)
    }

    /// Every spool entry of the (checked) `dir`: `(file name, size)`. Links and
    /// anything but regular files are left out.
    fn entries(&self, dir: &Path) -> Vec<(String, u64)> {
        let Ok(dir) = fs::read_dir(dir) else {
            return Vec::new();
        };
        dir.flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                parse_name(&name)?;
                let len = e.metadata().ok().filter(|m| m.is_file())?.len();
                Some((name, len))
            })
            .collect()
    }

    /// Names of the files another process may take now (ready or stale), oldest first.
    fn takeable(&self, dir: &Path) -> Vec<String> {
        let mut names: Vec<(String, String)> = self
            .entries(dir)
            .into_iter()
            .filter_map(|(name, _)| {
                let stem = match parse_name(&name)? {
                    Name::Ready { stem } => stem.to_owned(),
                    Name::Claimed { stem, pid, token } => {
                        if !self.is_stale(&dir.join(&name), pid, token) {
                            return None;
                        }
                        stem.to_owned()
                    }
                };
                Some((stem, name))
            })
            .collect();
        names.sort();
        names.into_iter().map(|(_, name)| name).collect()
    }

    /// Claims the oldest file waiting (or left by a dead process), if any.
    pub(crate) fn claim_next(&self) -> Option<Claimed> {
        let dir = self.existing()?;
        for name in self.takeable(&dir) {
            let stem = match parse_name(&name) {
                Some(Name::Ready { stem } | Name::Claimed { stem, .. }) => stem.to_owned(),
                None => continue,
            };
            let claimed = Claimed {
                path: self.claim_path(&dir, &stem),
                stem,
            };
            // Counted before the rename: an exit that follows looks for the claim.
            self.held.fetch_add(1, Ordering::AcqRel);
            // Losing the race (another process renamed it first) is `NotFound`.
            if fs::rename(dir.join(&name), &claimed.path).is_ok() {
                self.touch(&claimed);
                return Some(claimed);
            }
            self.let_go();
        }
        None
    }

    /// The events of a claimed file; corrupt lines are skipped and counted.
    pub(crate) fn read(&self, claimed: &Claimed) -> Vec<Event> {
        let Some(bytes) = read_batch(&claimed.path) else {
            crate::util::log::debug!("telemetry: could not read a spool file");
            return Vec::new();
        };
        let mut events = Vec::new();
        let mut corrupt = 0;
        // Once per file: the catalog is gathered and sorted on every call.
        let catalog = (self.catalog)();
        crate::event::wire::spool_events(&bytes, |read| match read {
            Ok(event) => match super::replay_check::check(event, &self.factory, &catalog) {
                Ok(event) => events.push(event),
                Err(what) => {
                    crate::util::log::debug!(what, "telemetry: spool line refused");
                    corrupt += 1;
                }
            },
            Err(refused) => {
                crate::util::log::debug!(%refused, "telemetry: spool line skipped");
                corrupt += 1;
            }
        });
        if corrupt > 0 {
            crate::util::log::debug!(lines = corrupt, "telemetry: skipped corrupt spool lines");
            Counters::add(&self.counters.corrupt_skipped, corrupt);
        }
        events
    }

    /// What the spool holds now (reads the directory and counts lines).
    pub(crate) fn scan(&self) -> Scan {
        let mut scan = Scan::default();
        let Some(dir) = self.existing() else {
            return scan;
        };
        // An empty file holds no batch (a prepared one, see `prepare`).
        for (name, len) in self.entries(&dir).into_iter().filter(|(_, len)| *len > 0) {
            scan.files += 1;
            scan.bytes += len;
            scan.events += count_lines(&dir.join(name));
        }
        scan
    }

    /// Records that the server asked for no request before `until`, for this process
    /// and every later run; a pause already recorded that ends later is kept.
    pub(crate) fn hold_until(&self, until: SystemTime) -> Result<(), TelemetryError> {
        if self.held_until().is_some_and(|held| held >= until) {
            return Ok(());
        }
        let secs = until
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() + u64::from(d.subsec_nanos() > 0));
        let dir = self.resolved(true)?.unwrap_or_else(|| self.dir.clone());
        fsutil::atomic_write(
            &dir.join(RETRY_AFTER_FILE),
            format!("{secs}\n").as_bytes(),
            DirLink::Refused,
        )
    }

    /// When the recorded pause ends, if one is recorded and still ahead. A file that
    /// does not hold a time, or holds one further ahead than any server may ask for
    /// (a clock set back, a corrupt file), counts as no pause: sending resumes, and the
    /// next `Retry-After` replaces the file.
    pub(crate) fn held_until(&self) -> Option<SystemTime> {
        self.held_until_in(&self.existing()?)
    }

    /// [`held_until`](Self::held_until) in the checked `dir` the caller just had.
    pub(crate) fn held_until_in(&self, dir: &Path) -> Option<SystemTime> {
        let bytes = fsutil::read_checked(&dir.join(RETRY_AFTER_FILE), DirLink::Refused)
            .map_err(|e| crate::util::log::debug!(error = ?e, "telemetry: spool retry-after file not used"))
            .ok()??;
        let text = String::from_utf8_lossy(&bytes);
        let Some(until) = text
            .trim()
            .parse::<u64>()
            .ok()
            .and_then(|secs| SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs)))
        else {
            crate::util::log::debug!(
                "telemetry: ignored a spool retry-after file that holds no time"
            );
            return None;
        };
        let now = SystemTime::now();
        let ahead = until.duration_since(now).ok()?;
        (ahead <= crate::sink::MAX_RETRY_AFTER + Duration::from_secs(1)).then_some(until)
    }

    /// Deletes every batch file (consent withdrawn), claimed or not, this process's
    /// prepared one first (see `spool_files::purge_in`). Returns the number of events
    /// deleted.
    pub(crate) fn purge(&self) -> u64 {
        self.discard_prepared();
        let Some(dir) = self.existing() else {
            return 0;
        };
        spool_files::purge_in(&dir)
    }

    /// Deletes the oldest takeable files while the spool is over a bound.
    fn enforce_bounds(&self, dir: &Path) {
        let entries = self.entries(dir);
        let mut files = entries.len();
        let mut bytes: u64 = entries.iter().map(|(_, len)| len).sum();
        if files <= self.max_files && bytes <= self.max_bytes {
            return;
        }
        let takeable = self.takeable(dir);
        // What pruning cannot touch (the batches this process holds, the one just
        // written among them): if that alone is over the bounds, deleting older batches
        // would lose their events without bringing the spool back within them. They
        // are left for a later write, by which time the held ones are takeable too.
        let taken: std::collections::HashSet<&str> = takeable.iter().map(String::as_str).collect();
        let (held_files, held_bytes) = entries
            .iter()
            .filter(|(name, _)| !taken.contains(name.as_str()))
            .fold((0_usize, 0_u64), |(n, b), (_, len)| (n + 1, b + len));
        if held_files > self.max_files || held_bytes > self.max_bytes {
            crate::util::log::debug!(
                held_files,
                held_bytes,
                "telemetry: spool over its bounds with what this process holds; nothing pruned"
            );
            return;
        }
        drop(taken);
        let sizes: std::collections::HashMap<String, u64> = entries.into_iter().collect();
        for name in takeable {
            if files <= self.max_files && bytes <= self.max_bytes {
                break;
            }
            let path = dir.join(&name);
            let lines = count_lines(&path);
            if fs::remove_file(&path).is_ok() {
                files -= 1;
                bytes = bytes.saturating_sub(sizes.get(&name).copied().unwrap_or(0));
                Counters::add(&self.counters.pruned_files, 1);
                Counters::add(&self.counters.pruned_events, lines);
            }
        }
        crate::util::log::debug!(
            files,
            bytes,
            "telemetry: spool over its bounds, oldest pruned"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::catalog::{CaptureSpec, EventSpec};
    use crate::layout::SPOOL_DIR;
    use crate::pipeline::DEFAULT_SPOOL_MAX_BYTES;
    use crate::pipeline::{Captures, Pending};
    use crate::value::AttrValue;

    const CAPTURES: &[CaptureSpec] = &[CaptureSpec::new("i", "int")];
    const NO_ATTRS: &[(&str, AttrValue)] = &[];
    static SPEC: EventSpec = EventSpec::new("test.spool", NO_ATTRS, CAPTURES, "spool::tests");

    fn test_catalog() -> Vec<&'static EventSpec> {
        vec![&SPEC]
    }

    /// One factory for the whole test binary: the spool checks replayed events
    /// against it (tool, version, machine id).
    fn factory() -> Arc<EventFactory> {
        static FACTORY: std::sync::OnceLock<Arc<EventFactory>> = std::sync::OnceLock::new();
        Arc::clone(FACTORY.get_or_init(|| {
            Arc::new(EventFactory::new(
                "t",
                "1",
                "salt".into(),
                None,
                Default::default(),
            ))
        }))
    }

    fn spool(dir: &Path, max_files: usize) -> Spool {
        Spool::new(
            dir.join(SPOOL_DIR),
            factory(),
            max_files,
            DEFAULT_SPOOL_MAX_BYTES,
            Arc::default(),
        )
        .with_catalog(test_catalog)
    }

    /// Events as this context makes them (so replay accepts them).
    fn events(n: usize) -> Vec<Event> {
        let factory = factory();
        (0..n)
            .map(|i| {
                let value = Some(AttrValue::Int(i as i64));
                factory.build(Pending::point(&SPEC, Captures::from_values([value])))
            })
            .collect()
    }

    /// A batch journaled as the worker does between two batches of a run: written,
    /// the bounds kept while it is still held, then released.
    fn journal(s: &Spool, events: &[Event]) -> Claimed {
        let claimed = s.write_claimed(&lines(events)).unwrap();
        s.keep_bounds();
        s.release(&claimed);
        claimed
    }

    fn lines(events: &[Event]) -> Vec<u8> {
        let mut out = Vec::new();
        crate::sink::write_spool_lines(&mut out, events);
        out
    }

    #[test]
    fn write_claim_release_ack_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let a = spool(dir.path(), 100);
        let b = spool(dir.path(), 100);
        let claimed = a.write_claimed(&lines(&events(3))).unwrap();
        assert!(b.claim_next().is_none(), "a live claim is not takeable");
        let foreign = dir
            .path()
            .join(SPOOL_DIR)
            .join("00000000000000000000-1-000000.jsonl.claim-1-alive");
        fs::write(&foreign, b"").unwrap();
        assert!(
            b.claim_next().is_none(),
            "a fresh claim of a live process (pid 1) is not takeable"
        );
        let old = SystemTime::now() - STALE_CLAIM_AFTER - Duration::from_secs(1);
        fs::File::options()
            .write(true)
            .open(&foreign)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let stale = b.claim_next().expect("an old claim is taken over");
        b.ack(&stale);
        a.release(&claimed);
        let taken = b.claim_next().expect("a released file is takeable");
        assert!(a.claim_next().is_none(), "one claim wins");
        assert_eq!(b.read(&taken).len(), 3);
        assert_eq!(b.scan().events, 3);
        b.ack(&taken);
        assert_eq!(b.scan(), Scan::default());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(a.dir()).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700);
        }
    }

    #[test]
    fn a_claim_of_a_dead_process_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let s = spool(dir.path(), 100);
        fs::create_dir_all(s.dir()).unwrap();
        // pid 0 never names a user process.
        fs::write(
            s.dir()
                .join("00000000000000000001-0-000000.jsonl.claim-999999999-dead"),
            b"",
        )
        .unwrap();
        assert!(s.claim_next().is_some());
        // Our pid with another token: an earlier process that had our pid.
        let name = format!(
            "00000000000000000002-0-000000.jsonl.claim-{}-0ld",
            std::process::id()
        );
        fs::write(s.dir().join(name), b"").unwrap();
        assert!(s.claim_next().is_some());
    }

    #[test]
    fn corrupt_lines_are_skipped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let s = spool(dir.path(), 100);
        let claimed = s.write_claimed(&lines(&events(2))).unwrap();
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(&claimed.path)
            .unwrap();
        f.write_all(b"{\"event_id\":\"trunc").unwrap();
        assert_eq!(s.read(&claimed).len(), 2);
        assert_eq!(s.counters.corrupt_skipped.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn the_oldest_files_are_pruned_over_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let s = spool(dir.path(), 3);
        for _ in 0..5 {
            journal(&s, &events(2));
        }
        let scan = s.scan();
        assert_eq!(scan.files, 3);
        assert_eq!(s.counters.pruned_files.load(Ordering::Relaxed), 2);
        assert_eq!(s.counters.pruned_events.load(Ordering::Relaxed), 4);
        assert_eq!(s.purge(), 6);
        assert!(!s.dir().exists());
    }

    /// A batch bigger than the byte bound by itself (a flush behind fast producers)
    /// does not make the spool delete the batches before it: that would lose them and
    /// still leave the spool over its bound. Once the big one can be taken, the oldest
    /// go as usual.
    #[test]
    fn a_held_batch_over_the_bound_by_itself_prunes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let small = events(2);
        let mut probe = Vec::new();
        crate::sink::write_spool_lines(&mut probe, &small);
        // Room for three small batches; the big one is ten times that.
        let bound = probe.len() as u64 * 3;
        let s = Spool::new(
            dir.path().join(SPOOL_DIR),
            factory(),
            100,
            bound,
            Arc::default(),
        )
        .with_catalog(test_catalog);
        journal(&s, &small);
        // The big one is over the bound by itself: while it is held (the bounds are
        // kept before its release), nothing is pruned; preparing the next file
        // prunes nothing either (the sender may take the big one meanwhile).
        journal(&s, &events(60));
        assert_eq!(s.counters.pruned_events.load(Ordering::Relaxed), 0);
        assert_eq!(s.scan().events, 62);
        s.prepare();
        s.discard_prepared();
        assert_eq!(s.scan().events, 62, "preparing a file prunes nothing");
        journal(&s, &small);
        assert_eq!(s.counters.pruned_files.load(Ordering::Relaxed), 2);
        assert_eq!(s.counters.pruned_events.load(Ordering::Relaxed), 62);
        assert_eq!(s.scan().events, 2);
    }

    #[cfg(unix)]
    #[test]
    fn a_spool_dir_that_is_a_link_is_not_written_claimed_or_purged() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        let planted = elsewhere.join("00000000000000000001-1-000000.jsonl");
        fs::write(&planted, b"{}\n").unwrap();
        let data = dir.path().join("data");
        fs::create_dir(&data).unwrap();
        std::os::unix::fs::symlink(&elsewhere, data.join(SPOOL_DIR)).unwrap();
        let s = spool(&data, 100);
        assert!(s.write_claimed(&lines(&events(1))).is_err());
        assert!(s.claim_next().is_none());
        assert_eq!(s.scan(), Scan::default());
        assert!(
            s.hold_until(SystemTime::now() + Duration::from_secs(5))
                .is_err()
        );
        assert_eq!(s.purge(), 0);
        let left: Vec<_> = fs::read_dir(&elsewhere)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(
            left,
            [planted],
            "nothing written or deleted through the link"
        );

        // Nor when the data dir above it is the link.
        let linked = dir.path().join("linked");
        std::os::unix::fs::symlink(&data, &linked).unwrap();
        fs::remove_file(data.join(SPOOL_DIR)).unwrap();
        let s = spool(&linked, 100);
        assert!(s.write_claimed(&lines(&events(1))).is_err());
        assert!(!data.join(SPOOL_DIR).exists());
    }

    #[test]
    fn an_exits_batch_is_counted_against_the_bounds_by_the_next_keep() {
        let dir = tempfile::tempdir().unwrap();
        let s = spool(dir.path(), 2);
        // Three runs' exits: each writes into its prepared file and releases it,
        // measuring nothing.
        for _ in 0..3 {
            s.prepare();
            let claimed = s.write_claimed(&lines(&events(1))).unwrap();
            s.release(&claimed);
        }
        assert_eq!(s.scan().files, 3, "over the bound of 2 for now");
        assert_eq!(s.counters.pruned_files.load(Ordering::Relaxed), 0);
        // The next run's worker, when it starts.
        s.keep_bounds();
        assert_eq!(s.scan().files, 2, "the oldest pruned");
        assert_eq!(s.counters.pruned_files.load(Ordering::Relaxed), 1);
        assert_eq!(s.counters.pruned_events.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_prepared_file_takes_the_next_batch_and_is_deleted_if_unused() {
        let dir = tempfile::tempdir().unwrap();
        let s = spool(dir.path(), 100);
        s.prepare();
        let names = || -> Vec<String> {
            let mut n: Vec<String> = fs::read_dir(s.dir())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            n.sort();
            n
        };
        let prepared = names();
        assert_eq!(prepared.len(), 1);
        assert_eq!(s.scan(), Scan::default(), "an empty file holds no batch");
        let claimed = s.write_claimed(&lines(&events(2))).unwrap();
        assert_eq!(names(), prepared, "the batch went into the prepared file");
        assert_eq!(s.read(&claimed).len(), 2);
        s.ack(&claimed);

        s.prepare();
        s.discard_prepared();
        assert!(names().is_empty(), "an unused prepared file is deleted");
        s.prepare();
        assert!(
            names().is_empty(),
            "and none is prepared after the end of the run"
        );

        // Deleted under it (by another process's purge): the next batch gets a file of
        // its own.
        let other = tempfile::tempdir().unwrap();
        let s = spool(other.path(), 100);
        s.prepare();
        for entry in fs::read_dir(s.dir()).unwrap() {
            fs::remove_file(entry.unwrap().path()).unwrap();
        }
        let claimed = s.write_claimed(&lines(&events(1))).unwrap();
        assert_eq!(s.read(&claimed).len(), 1);
    }

    #[test]
    fn at_exit_this_processs_claims_go_back_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = spool(dir.path(), 100);
        assert!(s.checked_dir().is_none(), "nothing yet");
        let a = s.write_claimed(&lines(&events(2))).unwrap();
        let b = s.write_claimed(&lines(&events(1))).unwrap();
        assert!(s.wrote(&a));
        assert!(
            !s.has_waiting(&s.checked_dir().unwrap()),
            "our own live claims are not takeable"
        );
        s.release_own();
        assert!(!a.path.exists() && !b.path.exists());
        assert!(s.has_waiting(&s.checked_dir().unwrap()));
        let mut names: Vec<String> = fs::read_dir(s.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2);
        assert!(names.iter().all(|n| n.ends_with(READY_SUFFIX)), "{names:?}");
        assert_eq!(s.scan().events, 3, "nothing lost on the way");
    }

    #[cfg(unix)]
    #[test]
    fn a_pause_someone_else_could_have_written_is_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let s = spool(dir.path(), 100);
        s.hold_until(SystemTime::now() + Duration::from_secs(30))
            .unwrap();
        assert!(s.held_until().is_some());
        let file = s.dir().join(RETRY_AFTER_FILE);
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        fs::set_permissions(&file, fs::Permissions::from_mode(0o666)).unwrap();
        assert!(s.held_until().is_none());
        assert!(
            s.hold_until(SystemTime::now() + Duration::from_secs(60))
                .is_err(),
            "not replaced either"
        );
    }
}
