//! The detached uploader: how a short-lived tool's events leave the machine without
//! a network request on its exit path.
//!
//! At exit the context only *persists* (everything accepted is synced to the spool).
//! Then, at most once per interval and only when the spool holds batches, consent
//! stands and no CI service or `DO_NOT_TRACK` is in the environment, it starts the
//! tool's own executable again as the uploader:
//!
//! ```text
//! <current exe> --telemetry-uploader        with <TOOL>_TELEMETRY_UPLOADER=1
//! ```
//!
//! - detached: its own process group (Unix) or no console window (Windows), standard
//!   output and error to the null device, so it never writes to the user's terminal;
//! - single instance: the parent takes the lock (`<spool>/upload.lock`, an advisory
//!   `flock`) *before* it spawns, and on Unix hands the locked file to the child as
//!   its standard input, so the lock passes from parent to child with no gap; a run
//!   that finds it taken spawns nothing (elsewhere the child takes the lock itself);
//! - bounded: the child exits after its time limit (30 s by default) whatever it is
//!   doing, releasing the batches it had claimed;
//! - no zombie: the parent reaps it from a thread if it outlives it; otherwise the
//!   system does.
//!
//! The child is recognised by [`crate::init`] (both the argument and the variable must
//! be present), which replays the spool oldest first and exits without returning to
//! the tool's `main`: the tool must therefore call `init` before it parses its
//! arguments or does any work. If it does not (the child fails to parse the unknown
//! argument and exits), the parent notices that the uploader it started never reached
//! `init` (`upload-ran` older than `upload-started`) and falls back to sending within
//! the exit deadline, and `telemetry status` says why.

mod child;
mod lock;
mod spawn;
mod stamps;

use std::path::Path;
use std::time::Duration;

pub(crate) use child::shed_inherited_descriptors;
pub(crate) use lock::{UploadLock, held_by_parent};
pub(crate) use spawn::spawn;
pub(crate) use stamps::{Stamp, mark, read, unmark};

pub(crate) use crate::pipeline::UPLOADER_ARG;

/// An uploader that was started this long ago and never reached `init` counts as
/// broken (see the module docs).
pub(crate) const START_GRACE: Duration = Duration::from_secs(10);

/// The variable that marks the uploader: `<TOOL>_TELEMETRY_UPLOADER`.
pub(crate) fn marker_var(tool: &str) -> String {
    format!("{}_TELEMETRY_UPLOADER", crate::layout::env_prefix(tool))
}

/// The marker's value when the parent starts the uploader.
pub(crate) const MARKER_SPAWNED: &str = "1";
/// Its value once the uploader has started itself again without inherited
/// descriptors (see [`shed_inherited_descriptors`]).
pub(crate) const MARKER_CLEAN: &str = "2";

/// Whether this process was started as `tool`'s uploader: both the argument and the
/// variable are there.
pub(crate) fn is_this_process(tool: &str) -> bool {
    std::env::var_os(marker_var(tool)).is_some_and(|v| v == MARKER_SPAWNED || v == MARKER_CLEAN)
        && std::env::args_os()
            .nth(1)
            .is_some_and(|a| a == UPLOADER_ARG)
}

/// What the parent should do about delivery at exit, from the stamps in `spool_dir`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// An uploader ran (or none was started yet): start one if due.
    Detached { due: bool },
    /// The last uploader started never reached `init`: send within the exit deadline
    /// (and try an uploader again when due).
    Broken { due: bool },
}

/// Reads the stamps in `spool_dir` (checked and resolved: see `stamps::read`) and
/// decides.
pub(crate) fn plan(spool_dir: &Path, interval: Duration) -> Plan {
    let started = read(spool_dir, Stamp::Started);
    let ran = read(spool_dir, Stamp::Ran);
    let now = std::time::SystemTime::now();
    let age = |t: std::time::SystemTime| now.duration_since(t).unwrap_or(Duration::ZERO);
    // A start in the future (a clock set back) counts as long ago.
    let due = started.is_none_or(|s| now.duration_since(s).map_or(true, |a| a >= interval));
    match started {
        Some(s) if ran.is_none_or(|r| r < s) && age(s) >= START_GRACE => Plan::Broken { due },
        _ => Plan::Detached { due },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn set(dir: &Path, stamp: Stamp, ago: Duration) {
        mark(dir, stamp);
        let file = match stamp {
            Stamp::Started => crate::pipeline::UPLOAD_STARTED_FILE,
            Stamp::Ran => crate::pipeline::UPLOAD_RAN_FILE,
        };
        std::fs::File::options()
            .write(true)
            .open(dir.join(file))
            .unwrap()
            .set_modified(SystemTime::now() - ago)
            .unwrap();
    }

    const INTERVAL: Duration = Duration::from_secs(600);

    #[test]
    fn the_first_uploader_is_due_at_once() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(plan(dir.path(), INTERVAL), Plan::Detached { due: true });
    }

    #[test]
    fn one_per_interval() {
        let dir = tempfile::tempdir().unwrap();
        set(dir.path(), Stamp::Started, Duration::from_secs(60));
        set(dir.path(), Stamp::Ran, Duration::from_secs(59));
        assert_eq!(plan(dir.path(), INTERVAL), Plan::Detached { due: false });
        assert_eq!(
            plan(dir.path(), Duration::ZERO),
            Plan::Detached { due: true }
        );
        set(dir.path(), Stamp::Started, Duration::from_secs(700));
        set(dir.path(), Stamp::Ran, Duration::from_secs(699));
        assert_eq!(plan(dir.path(), INTERVAL), Plan::Detached { due: true });
    }

    #[test]
    fn an_uploader_that_never_reached_init_is_broken_after_the_grace() {
        let dir = tempfile::tempdir().unwrap();
        set(dir.path(), Stamp::Started, Duration::from_secs(1));
        assert_eq!(
            plan(dir.path(), INTERVAL),
            Plan::Detached { due: false },
            "still starting"
        );
        set(
            dir.path(),
            Stamp::Started,
            START_GRACE + Duration::from_secs(1),
        );
        assert_eq!(plan(dir.path(), INTERVAL), Plan::Broken { due: false });
        // An older run does not count for a newer start.
        set(dir.path(), Stamp::Ran, START_GRACE + Duration::from_secs(5));
        assert_eq!(plan(dir.path(), INTERVAL), Plan::Broken { due: false });
        set(dir.path(), Stamp::Ran, Duration::ZERO);
        assert_eq!(plan(dir.path(), INTERVAL), Plan::Detached { due: false });
    }

    #[test]
    fn a_start_in_the_future_counts_as_long_ago() {
        let dir = tempfile::tempdir().unwrap();
        mark(dir.path(), Stamp::Started);
        std::fs::File::options()
            .write(true)
            .open(dir.path().join(crate::pipeline::UPLOAD_STARTED_FILE))
            .unwrap()
            .set_modified(SystemTime::now() + Duration::from_secs(3600))
            .unwrap();
        assert!(matches!(
            plan(dir.path(), INTERVAL),
            Plan::Detached { due: true }
        ));
    }

    #[test]
    fn one_lock_holder_at_a_time_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = UploadLock::try_acquire(dir.path()).expect("free");
        assert!(UploadLock::try_acquire(dir.path()).is_none(), "held");
        drop(first);
        assert!(UploadLock::try_acquire(dir.path()).is_some(), "released");
    }

    #[cfg(unix)]
    #[test]
    fn standard_input_that_is_not_the_lock_is_not_taken_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let _lock = UploadLock::try_acquire(dir.path()).unwrap();
        // The test harness's standard input is not this lock file.
        assert!(held_by_parent(dir.path()).is_none());
    }
}
