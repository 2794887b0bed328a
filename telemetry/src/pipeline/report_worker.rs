//! The worker in report mode: every call taken from the queue is folded into counters
//! (`report::Fold`), and the counters are added to the period's report file at most
//! once per [`WRITE_EVERY`], when the period changes, and on every flush (the exit).
//! No event is built: no id, no timestamp, no machine id.

use std::time::{Duration, Instant};

use crate::clock;
use crate::event::Outcome;
use crate::pipeline::worker::EventFactory;
use crate::pipeline::{Pending, Queue, What};
use crate::report::{Fold, ReportMode, WRITE_EVERY};

/// How long a write waits for another process's write of the same reports; past it,
/// the rows go to a pending file (see `report::store`).
const LOCK_WAIT: Duration = Duration::from_millis(50);

pub(crate) fn run(queue: &Queue, factory: &EventFactory, mode: &ReportMode, linger: Duration) {
    // Off the exit's path: whether a complete report is waiting for this run to
    // hand it to the uploader.
    mode.check_due();
    let mut fold = Fold::new(mode.settings.combinations());
    let mut span = mode.current();
    let mut last_write = Instant::now();
    let mut errors = Vec::new();
    loop {
        // While calls wait to be written, an idle queue still wakes the worker in time
        // to write them (a process that records, then works for minutes).
        let idle = (fold.folded() > 0).then(|| WRITE_EVERY.saturating_sub(last_write.elapsed()));
        let take = queue.take_within(linger.min(WRITE_EVERY), idle);
        for pending in take.batch {
            add(&mut fold, pending);
        }
        let now = mode.current();
        let write = take.complete_flush != 0
            || take.closed
            || now != span
            || last_write.elapsed() >= WRITE_EVERY;
        if write && fold.folded() > 0 {
            let n = usize::try_from(fold.folded()).unwrap_or(usize::MAX);
            let rows = fold.drain_rows(&factory.tool_version, &factory.default_attrs);
            match mode
                .store
                .merge(&mode.header, span, mode.level, rows, LOCK_WAIT)
            {
                Ok(()) => queue.record_delivery(n, 0),
                Err(e) => {
                    crate::util::log::debug!(error = %e, events = n, "telemetry: report not written");
                    queue.record_delivery(0, n);
                    errors.push(e);
                }
            }
            last_write = Instant::now();
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
