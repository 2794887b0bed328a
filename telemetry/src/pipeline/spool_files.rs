//! The spool directory's file names, its trust check, and deleting what it holds
//! (consent withdrawn). In every build, with or without feature `spool`: a context
//! without a spool of its own (a build without the feature, or only local sinks) may
//! find batches an earlier run left in `<data dir>/spool/` (an older version of the
//! tool, or the same tool built or configured with a network sink), and `disable` and
//! `reset` promise to delete those too. The layout is described in `spool.rs`.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::TelemetryError;
use crate::util::fs::{self as fsutil, DirLink};

/// The file that holds the server's requested pause (see `spool.rs`).
pub(crate) const RETRY_AFTER_FILE: &str = "retry-after";
/// The uploader's lock: held (`flock`) by the one uploader that runs (`uploader`).
pub(crate) const UPLOAD_LOCK_FILE: &str = "upload.lock";
/// Its time stamps (modification times): when one was last started, and when one
/// last reached its upload (see `uploader`).
pub(crate) const UPLOAD_STARTED_FILE: &str = "upload-started";
pub(crate) const UPLOAD_RAN_FILE: &str = "upload-ran";
pub(crate) const READY_SUFFIX: &str = ".jsonl";
pub(crate) const CLAIM_MARK: &str = ".jsonl.claim-";

/// What a batch file's name says.
#[derive(Debug, PartialEq, Eq)]
// Without feature `spool` only whether a name is a batch's is asked (by the purge).
#[cfg_attr(not(feature = "spool"), allow(dead_code))]
pub(crate) enum Name<'a> {
    Ready {
        stem: &'a str,
    },
    Claimed {
        stem: &'a str,
        pid: u32,
        token: &'a str,
    },
}

/// The batch a file name stands for, or `None` for anything else (a temp file, the
/// uploader's stamps, a file nobody should have put there).
pub(crate) fn parse_name(name: &str) -> Option<Name<'_>> {
    if name.starts_with('.') {
        return None;
    }
    if let Some((stem, owner)) = name.split_once(CLAIM_MARK) {
        let (pid, token) = owner.split_once('-')?;
        return Some(Name::Claimed {
            stem,
            pid: pid.parse().ok()?,
            token,
        });
    }
    name.strip_suffix(READY_SUFFIX)
        .filter(|stem| !stem.is_empty() && !stem.contains('.'))
        .map(|stem| Name::Ready { stem })
}

/// The spool directory `dir` (`<data dir>/spool`) checked and resolved under the trust
/// rules: neither it nor the data dir above it may be a symbolic link, both must be
/// the user's and writable by no one else, and so must every directory above them.
/// `Ok(None)` when it does not exist and `create` is false. Every operation on the
/// spool works through the path returned.
pub(crate) fn resolve(dir: &Path, create: bool) -> Result<Option<PathBuf>, TelemetryError> {
    let check_parent = || -> Result<(), TelemetryError> {
        if let Some(parent) = dir.parent() {
            fsutil::check_dir(parent, DirLink::Refused)?;
        }
        Ok(())
    };
    check_parent()?;
    let resolved = if create {
        Some(fsutil::prepare_dir(dir, DirLink::Refused)?)
    } else {
        fsutil::check_dir(dir, DirLink::Refused)?
    };
    // Again: the data dir may have been created just now.
    check_parent()?;
    Ok(resolved)
}

/// Deletes every batch in the spool directory `dir` (consent withdrawn) and returns
/// the number of events they held. A missing spool holds nothing; a refused one (a
/// link, someone else's, see [`resolve`]) is not touched: nothing is deleted through
/// it. See [`purge_in`] for what is deleted.
pub(crate) fn purge_dir(dir: &Path) -> u64 {
    match resolve(dir, false) {
        Ok(Some(resolved)) => purge_in(&resolved),
        Ok(None) => 0,
        Err(e) => {
            crate::util::log::debug!(error = %e, "telemetry: spool not purged");
            0
        }
    }
}

/// [`purge_dir`] in the directory [`resolve`] returned: every batch file, claimed or
/// not (other processes' included), the server's pause and the uploader's stamps, the
/// uploader's lock when no uploader holds it, then the directory if that emptied it.
/// Only the user's own regular files are deleted, judged without following a link
/// (`fsutil::check_own_entry`): a link or someone else's file is not a batch of ours
/// (the spool never sends one either) and stays where it is.
pub(crate) fn purge_in(dir: &Path) -> u64 {
    let mut events = 0;
    let names: Vec<String> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| parse_name(name).is_some())
        .collect();
    for name in names {
        let path = dir.join(name);
        if !is_own(&path) {
            continue;
        }
        let lines = count_lines(&path);
        if fs::remove_file(&path).is_ok() {
            events += lines;
        }
    }
    // Leaves nothing behind when it is empty; a concurrent writer may refill it.
    for file in [RETRY_AFTER_FILE, UPLOAD_STARTED_FILE, UPLOAD_RAN_FILE] {
        let path = dir.join(file);
        if is_own(&path) {
            let _ = fs::remove_file(path);
        }
    }
    // The uploader's lock only if no uploader holds it: deleting a held one would
    // let the next run create a new one and start a second uploader beside it.
    // (A running uploader stops at its next consent check; the file stays.)
    let lock = dir.join(UPLOAD_LOCK_FILE);
    if is_own(&lock)
        && let Ok(file) = fsutil::private_options().write(true).open(&lock)
        && file.try_lock().is_ok()
    {
        let _ = fs::remove_file(&lock);
    }
    let _ = fs::remove_dir(dir);
    events
}

/// Whether `path` may be deleted as one of ours; a refusal is logged.
fn is_own(path: &Path) -> bool {
    match fsutil::check_own_entry(path) {
        Ok(found) => found,
        Err(r) => {
            crate::util::log::debug!(refused = %r, "telemetry: spool file not purged");
            false
        }
    }
}

/// The events in a batch file of ours, counted without keeping the file in memory
/// ([`EventCount`]). Zero when it cannot be read.
fn count_lines(path: &Path) -> u64 {
    // Opened without following a link and without blocking on a FIFO, although
    // `check_own_entry` judged it a regular file: the name might have changed since.
    let Ok(mut file) = fsutil::private_options().read(true).open(path) else {
        return 0;
    };
    let mut buf = [0u8; 8192];
    let mut count = EventCount::default();
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => count.feed(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    count.finish()
}

/// Counts the event lines of a spool file fed in pieces, as `event::wire::spool_events`
/// reads them: every line that is not blank and is not a process line
/// (`event::SPOOL_PROCESS_LINE` after any leading blanks); a last line without its
/// newline (a writer killed mid-line) counts too. No line is parsed.
#[derive(Debug)]
pub(crate) struct EventCount {
    events: u64,
    /// Bytes of the current line since its first one that is not blank (capped: only
    /// the prefix matters); zero while the line is blank so far.
    column: usize,
    /// Whether the current line still matches the process line's start.
    process_so_far: bool,
}

impl Default for EventCount {
    fn default() -> Self {
        Self {
            events: 0,
            column: 0,
            process_so_far: true,
        }
    }
}

impl EventCount {
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        let prefix = crate::event::SPOOL_PROCESS_LINE;
        for &b in bytes {
            if b == b'\n' {
                self.end_line();
            } else if self.column > 0 || !b.is_ascii_whitespace() {
                if let Some(&expected) = prefix.get(self.column) {
                    self.process_so_far &= b == expected;
                }
                self.column = self.column.saturating_add(1);
            }
        }
    }

    fn end_line(&mut self) {
        let process = self.process_so_far && self.column >= crate::event::SPOOL_PROCESS_LINE.len();
        if self.column > 0 && !process {
            self.events += 1;
        }
        self.column = 0;
        self.process_so_far = true;
    }

    pub(crate) fn finish(mut self) -> u64 {
        self.end_line();
        self.events
    }

    /// The events of a whole file's bytes.
    #[cfg(feature = "spool")]
    pub(crate) fn of(bytes: &[u8]) -> u64 {
        let mut count = Self::default();
        count.feed(bytes);
        count.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        assert_eq!(
            parse_name("0001-2-3.jsonl"),
            Some(Name::Ready { stem: "0001-2-3" })
        );
        assert_eq!(
            parse_name("0001-2-3.jsonl.claim-42-abc"),
            Some(Name::Claimed {
                stem: "0001-2-3",
                pid: 42,
                token: "abc"
            })
        );
        assert_eq!(parse_name(".tmp-x"), None);
        assert_eq!(parse_name("x.jsonl.claim-nopid"), None);
        assert_eq!(parse_name("notes.txt"), None);
    }

    #[test]
    fn events_are_counted_with_or_without_the_last_newline_and_process_lines_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let process = r#"{"spool":2,"tool":"t"}"#;
        let cases = [
            ("".to_owned(), 0),
            ("a\n".to_owned(), 1),
            ("a\nb".to_owned(), 2),
            ("a\nb\n".to_owned(), 2),
            ("a\n\n\nb\n".to_owned(), 2),
            // Blank lines are no events; a process line after blanks is one.
            (" \n\r\n\t".to_owned(), 0),
            (format!(" {process}\r\n  a\n"), 1),
            (format!("{process}\na\nb\n{process}\nc"), 3),
            (format!("{process}\n"), 0),
            // A process line cut short is not one: it counts, like any broken line.
            ("{\"spool\"\na\n".to_owned(), 2),
            // A later format's process line is still no event.
            ("{\"spool\":3,\"tool\":\"t\"}\na\n".to_owned(), 1),
        ];
        for (content, events) in cases {
            let path = dir.path().join("f.jsonl");
            fs::write(&path, &content).unwrap();
            assert_eq!(count_lines(&path), events, "{content:?}");
            // Fed a byte at a time: a line's start may fall across two reads.
            let mut count = EventCount::default();
            content.as_bytes().chunks(1).for_each(|b| count.feed(b));
            assert_eq!(count.finish(), events, "{content:?}");
        }
    }

    /// Batches of every kind go, with the stamps and an unheld lock, and the emptied
    /// directory with them; another file is none of the purge's business.
    #[test]
    fn the_purge_deletes_batches_and_stamps_and_counts_events() {
        let data = tempfile::tempdir().unwrap();
        let spool = data.path().join("spool");
        fsutil::create_private_dir(&spool).unwrap();
        fs::write(spool.join("00000000000000000001-7-000000.jsonl"), "a\nb\n").unwrap();
        fs::write(
            spool.join("00000000000000000002-7-000001.jsonl.claim-7-abc"),
            "c\n",
        )
        .unwrap();
        for file in [
            RETRY_AFTER_FILE,
            UPLOAD_STARTED_FILE,
            UPLOAD_RAN_FILE,
            UPLOAD_LOCK_FILE,
        ] {
            fs::write(spool.join(file), "").unwrap();
        }
        assert_eq!(purge_dir(&spool), 3);
        assert!(!spool.exists());

        fsutil::create_private_dir(&spool).unwrap();
        fs::write(spool.join("notes.txt"), "mine").unwrap();
        assert_eq!(purge_dir(&spool), 0);
        assert!(spool.join("notes.txt").exists());
        // A missing spool is nothing to purge, not an error.
        assert_eq!(purge_dir(&data.path().join("nothing")), 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_batch_name_that_is_a_link_is_neither_followed_nor_deleted() {
        let data = tempfile::tempdir().unwrap();
        let spool = data.path().join("spool");
        fsutil::create_private_dir(&spool).unwrap();
        let target = data.path().join("elsewhere.jsonl");
        fs::write(&target, "x\n").unwrap();
        let link = spool.join("00000000000000000001-7-000000.jsonl");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(purge_dir(&spool), 0);
        assert!(fs::symlink_metadata(&link).is_ok(), "the link stays");
        assert_eq!(fs::read_to_string(&target).unwrap(), "x\n");
    }

    #[cfg(unix)]
    #[test]
    fn a_spool_that_is_a_link_is_not_purged() {
        let data = tempfile::tempdir().unwrap();
        let elsewhere = data.path().join("elsewhere");
        fsutil::create_private_dir(&elsewhere).unwrap();
        let batch = elsewhere.join("00000000000000000001-7-000000.jsonl");
        fs::write(&batch, "x\n").unwrap();
        let spool = data.path().join("spool");
        std::os::unix::fs::symlink(&elsewhere, &spool).unwrap();
        assert_eq!(purge_dir(&spool), 0);
        assert!(batch.exists());
    }
}
