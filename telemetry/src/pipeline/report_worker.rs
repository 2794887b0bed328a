//! The worker in report mode: every call taken from the queue is folded into counters
//! (`report::Fold`), and the counters are added to the period's report file
//! [`WRITE_EVERY`] after the first call they hold, when the period changes, and on
//! every flush (the exit). The worker is not woken call by call
//! (`Queue::take_gathered`). No event is built: no id, no timestamp, no machine id.

use std::time::{Duration, Instant};

use crate::clock;
use crate::event::Outcome;
use crate::pipeline::EventFactory;
use crate::pipeline::{Pending, Queue, What};
use crate::report::{Fold, ReportMode, WRITE_EVERY};

/// How long a write waits for another process's write of the same reports; past it,
/// the rows go to a pending file (see `report::store`).
const LOCK_WAIT: Duration = Duration::from_millis(50);

pub(crate) fn run(queue: &Queue, factory: &EventFactory, mode: &ReportMode) {
    // Off the exit's path: whether a complete report is waiting for this run to
    // hand it to the uploader.
    mode.check_due();
    let mut fold = Fold::new(mode.settings.combinations());
    let mut span = mode.current();
    // When the calls in hand must be written: a second after the first of them.
    let mut write_by: Option<Instant> = None;
    let mut errors = Vec::new();
    loop {
        let take = queue.take_gathered(write_by);
        for pending in take.batch {
            add(&mut fold, pending);
        }
        if write_by.is_none() && fold.folded() > 0 {
            write_by = Some(Instant::now() + WRITE_EVERY);
            // The period of the first call in hand, not of when the worker last
            // looked: an idle worker may have slept across the period's end.
            span = mode.current();
        }
        let now = mode.current();
        let write = take.complete_flush != 0
            || take.closed
            || now != span
            || write_by.is_some_and(|t| Instant::now() >= t);
        if write && fold.folded() > 0 {
            let n = usize::try_from(fold.folded()).unwrap_or(usize::MAX);
            let rows = fold.drain_rows(&factory.tool_version, &factory.default_attrs);
            let written = if mode.dry_run {
                // A dry run keeps nothing: the report would carry its calls.
                Ok(())
            } else {
                mode.store
                    .merge(&mode.header, span, mode.level, rows, LOCK_WAIT)
            };
            match written {
                Ok(()) => queue.record_delivery(n, 0),
                Err(e) => {
                    crate::util::log::debug!(error = %e, events = n, "telemetry: report not written");
                    queue.record_delivery(0, n);
                    errors.push(e);
                }
            }
            write_by = None;
        }
        span = now;
        if take.complete_flush != 0 {
            queue.complete_flush(take.complete_flush, std::mem::take(&mut errors));
        }
        if take.closed {
            return;
        }
    }
}

/// Folds one queued call (the worker's per-call step; `__diagnostics::ReportFold`
/// runs it for the benches).
#[inline]
pub(crate) fn add(fold: &mut Fold, pending: Pending) {
    match pending.what {
        What::Call {
            spec,
            start,
            captured,
            error_kind,
        } => {
            let micros =
                u64::try_from(clock::duration(start, pending.end).as_micros()).unwrap_or(u64::MAX);
            fold.add(
                spec,
                pending.outcome,
                error_kind,
                captured.iter(),
                Some(micros),
            );
        }
        What::Point { spec, captured } => {
            fold.add(spec, Outcome::Ok, None, captured.iter(), None);
        }
    }
}
