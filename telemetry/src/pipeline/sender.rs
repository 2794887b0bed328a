//! The sender thread: delivers the spool's batches to the network sinks with retries,
//! oldest first, whichever process wrote them.
//!
//! Every journaled batch reaches the network through the spool: the worker writes it
//! as a ready file and wakes this thread, which claims the oldest waiting file, sends
//! it, and deletes it on success. One path for this run's batches and for those of
//! earlier runs is what keeps the order (oldest first) in every case, a server's pause
//! included. Only a batch the spool could not take (disk full) is sent from memory.
//!
//! A separate thread from the worker, so that a server that hangs holds up only the
//! sending, never the journaling: events keep reaching the disk while a request
//! waits for its timeout. All DNS, TLS and HTTP work happens on it (the built-in sinks'
//! requests block this thread, within their timeouts; see `util::executor`).
//!
//! When it starts sending is the context's choice ([`Delivery::send_after`]): at once
//! when the exit itself sends (`SendMode::AtExit`), or only once the process has run
//! for a while (`SendMode::Background`, the default): a short run then never opens a
//! connection, and its batches go out with the detached uploader; a long-running
//! process sends from here. An explicit flush sends at once in both.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime};

use crate::error::TelemetryError;
use crate::event::Event;
use crate::pipeline::Queue;
use crate::pipeline::delivery::{
    BACKOFF_CAP, Delivery, MAX_ATTEMPTS, REPLAY_PAUSE, backoff, guarded,
};
use crate::pipeline::spool::{Claimed, Spool};
use crate::pipeline::stats::Counters;
use crate::sink::MAX_RETRY_AFTER;
use crate::sink::TelemetrySink;
use crate::util::executor::{block_on, block_on_until};

/// The name of the sender thread.
pub(crate) const SENDER_THREAD_NAME: &str = "telemetry-sender";

/// Errors kept for the next flush (which reports the first).
const MAX_KEPT_ERRORS: usize = 8;

/// Work handed from the worker to the sender, in order.
pub(crate) enum Job {
    /// A new batch is waiting in the spool.
    Wake,
    /// A batch the spool could not take, sent from memory (at most once).
    Batch { events: Vec<Event>, epoch: u64 },
    /// Complete flush `generation` once everything before it was handled.
    Flush {
        generation: u64,
        errors: Vec<TelemetryError>,
    },
}

/// How one batch ended.
#[derive(Debug, PartialEq, Eq)]
enum Sent {
    Delivered,
    Refused,
    /// Left in the spool for later (retries exhausted, or the exit deadline near).
    Deferred,
    /// Consent withdrawn in this process (the purge deletes the files).
    Purged,
    /// Consent withdrawn elsewhere (found before a request): the files are deleted.
    Withdrawn,
}

/// Batch files claimed together for one request.
struct Gathered {
    claimed: Vec<Claimed>,
    events: Vec<Event>,
    /// How many of the events earlier runs (or other processes) wrote.
    replayed: usize,
}

/// How a replay pass ended.
enum Pass {
    /// Nothing left to take.
    Drained,
    /// Stopped early (a failure, the server's pause, consent withdrawn): try again
    /// no sooner than this.
    Deferred(Instant),
}

pub(crate) fn spawn(
    queue: Arc<Queue>,
    delivery: Arc<Delivery>,
) -> Result<Sender<Job>, TelemetryError> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name(SENDER_THREAD_NAME.to_owned())
        .spawn(move || run(&queue, &delivery, &rx))
        .map_err(|e| TelemetryError::Worker(format!("could not start the sender thread: {e}")))?;
    Ok(tx)
}

/// Awaits `work` unless a purge happens first (then `None`). A sink that blocks inside
/// its future is not interrupted: the purge is seen when it returns.
async fn unless_purged<T>(queue: &Queue, epoch: u64, work: impl Future<Output = T>) -> Option<T> {
    let mut work = pin!(work);
    std::future::poll_fn(|cx| {
        if queue.poll_purged(epoch, cx) {
            return Poll::Ready(None);
        }
        work.as_mut().poll(cx).map(Some)
    })
    .await
}

/// Pauses this thread for `wait`; `false` if a purge cut the pause short.
fn pause_unless_purged(queue: &Queue, epoch: u64, wait: Duration) -> bool {
    let pending = unless_purged(queue, epoch, std::future::pending::<()>());
    // Timing out is the pause ending normally; the future only ends by a purge.
    block_on_until(pending, Instant::now() + wait).is_none()
}

struct SenderLoop<'a> {
    queue: &'a Queue,
    delivery: &'a Delivery,
    sink: &'a dyn TelemetrySink,
    errors: Vec<TelemetryError>,
    /// The end of the pause a server asked this process for (`Retry-After`).
    held: Option<Instant>,
}

impl SenderLoop<'_> {
    /// Delivers the events of the `claimed` files (none: a batch sent from memory), in
    /// requests of at most a batch each (an exit writes everything it holds into one
    /// file), and settles the files: deleted once every request was answered, handed
    /// back when one must wait, with what was already delivered taken out.
    fn deliver(
        &mut self,
        claimed: &[Claimed],
        events: &[Event],
        epoch: u64,
        replayed: usize,
    ) -> Sent {
        let n = events.len();
        let mut settled = 0;
        let mut outcome = Sent::Delivered;
        for chunk in events.chunks(self.queue.batch_size()) {
            match self.request(claimed, chunk, epoch) {
                Sent::Delivered => self.queue.record_delivery(chunk.len(), 0),
                Sent::Refused => self.queue.record_delivery(0, chunk.len()),
                other => {
                    outcome = other;
                    break;
                }
            }
            settled += chunk.len();
        }
        let spool = self.delivery.spool.as_deref();
        match (outcome, spool) {
            (Sent::Delivered | Sent::Refused, _) => {
                if let Some(spool) = spool {
                    claimed.iter().for_each(|c| spool.ack(c));
                }
                Counters::add(&self.delivery.counters.replayed, replayed as u64);
                Sent::Delivered
            }
            (Sent::Deferred, Some(spool)) if !claimed.is_empty() => {
                // Consent may have been withdrawn since the last request: then nothing
                // is written back (the purge, here or elsewhere, deleted the rest).
                if self.queue.epoch() != epoch || !(self.delivery.consented)() {
                    claimed.iter().for_each(|c| spool.ack(c));
                    return Sent::Purged;
                }
                self.keep_rest(spool, claimed, events, settled);
                Sent::Deferred
            }
            (Sent::Deferred, _) => {
                // Not journaled (the spool write failed): it is lost, counted.
                self.queue.record_delivery(0, n - settled);
                Sent::Deferred
            }
            (Sent::Withdrawn, _) => {
                if let Some(spool) = spool {
                    claimed.iter().for_each(|c| spool.ack(c));
                }
                Counters::add(&self.delivery.counters.purged, (n - settled) as u64);
                Sent::Purged
            }
            // The purge deletes (and counts) the files itself.
            (Sent::Purged, _) => Sent::Purged,
        }
    }

    /// Hands the `claimed` files back for a later attempt, keeping only the events
    /// from `settled` on: the files as they are if nothing was answered, else one new
    /// file (in the first one's place in the order) with what is left.
    fn keep_rest(&self, spool: &Spool, claimed: &[Claimed], events: &[Event], settled: usize) {
        if settled == 0 {
            claimed.iter().for_each(|c| spool.release(c));
            return;
        }
        let mut rest = Vec::new();
        crate::sink::write_spool_lines(&mut rest, &events[settled..]);
        let written = spool.write_rest(&claimed[0], &rest);
        match written {
            Ok(kept) => {
                claimed.iter().for_each(|c| spool.ack(c));
                spool.release(&kept);
            }
            Err(e) => {
                // Sent again in full later: duplicates, never a loss.
                crate::util::log::debug!(error = %e, "telemetry: could not rewrite a partly sent batch");
                claimed.iter().for_each(|c| spool.release(c));
            }
        }
    }

    /// One batch's request with its retries (no file is settled here; `claimed` are
    /// kept fresh while it retries).
    fn request(&mut self, claimed: &[Claimed], events: &[Event], epoch: u64) -> Sent {
        let spool = self.delivery.spool.as_deref();
        let mut attempt = 0;
        // The pause before the next request: none before the first, unless the server
        // asked for one (`Retry-After`, remembered in the spool across runs).
        let mut wait = Duration::ZERO;
        let mut last_error = None;
        loop {
            attempt += 1;
            // The user may have run `telemetry disable` in another process since this
            // one started (or since the uploader was spawned): ask again before every
            // request.
            if !(self.delivery.consented)() {
                return Sent::Withdrawn;
            }
            if let Some(window) = self.too_late_to_start() {
                self.report(TelemetryError::Timeout { deadline: window });
                return Sent::Deferred;
            }
            let held = self.held_for();
            let wait_for = wait.max(held);
            if !wait_for.is_zero() {
                if !self.may_wait(wait_for) {
                    let error = last_error.unwrap_or_else(|| self.held_error(held));
                    self.report(error);
                    return Sent::Deferred;
                }
                if attempt > 1 {
                    Counters::add(&self.delivery.counters.retried, 1);
                }
                if !pause_unless_purged(self.queue, epoch, wait_for) {
                    return Sent::Purged;
                }
            }
            if let Some(spool) = spool
                && attempt > 1
            {
                claimed.iter().for_each(|c| spool.touch(c));
            }
            let (queue, sink) = (self.queue, self.sink);
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                block_on(unless_purged(queue, epoch, sink.emit_batch(events)))
            }))
            .unwrap_or(Some(Err(TelemetryError::SinkPanicked)));
            let error = match result {
                None => return Sent::Purged,
                Some(Ok(())) => return Sent::Delivered,
                Some(Err(e)) => e,
            };
            crate::util::log::debug!(error = %error, events = events.len(), attempt, "telemetry: send failed");
            if !error.is_retryable() {
                self.report(error);
                return Sent::Refused;
            }
            if let Some(pause) = error.retry_after() {
                self.hold(pause);
            }
            if attempt >= MAX_ATTEMPTS {
                self.report(error);
                return Sent::Deferred;
            }
            last_error = Some(error);
            wait = backoff(attempt);
        }
    }

    /// Whether a waiting flush (an exit's deadline, the uploader's time limit; returned)
    /// ends too soon for a new request to be answered: its last third, at most 10 s (a request
    /// timeout). A request cut off by the caller's end may have reached the server,
    /// which then gets it again from the next attempt: not starting it keeps
    /// duplicates rare.
    fn too_late_to_start(&self) -> Option<Duration> {
        let (until, window) = self.queue.flush_window()?;
        let margin = (window / 3).min(Duration::from_secs(10));
        (until.saturating_duration_since(Instant::now()) < margin).then_some(window)
    }

    /// Whether the sender may pause `wait` before the next request of a batch: not past
    /// the deadline of a caller waiting for a flush (an exit), and not longer than the
    /// longest backoff (a longer pause is the spool's: the batch is retried later by
    /// replay, without holding up the batches behind it).
    fn may_wait(&self, wait: Duration) -> bool {
        wait <= BACKOFF_CAP
            && self
                .queue
                .flush_deadline()
                .is_none_or(|until| Instant::now() + wait < until)
    }

    /// Keeps `error` for the next flush. A flush reports the first error since the
    /// previous one; a few are kept, not one per batch (a long pause defers every
    /// batch of a long-running process without a flush in between).
    fn report(&mut self, error: TelemetryError) {
        if self.errors.len() < MAX_KEPT_ERRORS {
            self.errors.push(error);
        }
    }

    /// Why a batch was deferred without a request: the server's pause.
    fn held_error(&self, held: Duration) -> TelemetryError {
        TelemetryError::Paused {
            sink: self.sink.describe(),
            until: std::time::SystemTime::now() + held,
        }
    }

    /// The server answered `Retry-After: pause`: no request before then, from this
    /// process or (through the spool) any other run.
    fn hold(&mut self, pause: Duration) {
        // A custom sink can put any duration in its error: the cap applies to all.
        let pause = pause.min(MAX_RETRY_AFTER);
        let until = Instant::now() + pause;
        self.held = Some(self.held.map_or(until, |held| held.max(until)));
        if let Some(spool) = self.delivery.spool.as_deref()
            && let Err(e) = spool.hold_until(SystemTime::now() + pause)
        {
            crate::util::log::debug!(error = %e, "telemetry: could not record the server's pause");
        }
    }

    /// How long until the server's pause ends (zero when there is none): this process's
    /// own, or one another run recorded in the spool.
    fn held_for(&self) -> Duration {
        let own = self.held.map_or(Duration::ZERO, |until| {
            until.saturating_duration_since(Instant::now())
        });
        let recorded = self
            .delivery
            .spool
            .as_deref()
            .and_then(Spool::held_until)
            .and_then(|until| until.duration_since(SystemTime::now()).ok())
            .unwrap_or(Duration::ZERO);
        own.max(recorded)
    }

    /// Claims the oldest waiting files, as many as fit in one batch (at least one),
    /// and reads them: the uploader after many short runs sends a few requests, not
    /// one per run. Empty or unreadable files are deleted on the way. `None` when
    /// nothing waits.
    fn gather(&self, spool: &Spool) -> Option<Gathered> {
        let limit = self.queue.batch_size();
        let mut claimed = Vec::new();
        let mut events = Vec::new();
        let mut replayed = 0;
        while events.len() < limit {
            let Some(next) = spool.claim_next() else {
                break;
            };
            let more = spool.read(&next);
            if more.is_empty() {
                spool.ack(&next);
                continue;
            }
            if !events.is_empty() && events.len() + more.len() > limit {
                // Its turn comes first in the next request.
                spool.release(&next);
                break;
            }
            if !spool.wrote(&next) {
                replayed += more.len();
            }
            events.extend(more);
            claimed.push(next);
        }
        (!claimed.is_empty()).then_some(Gathered {
            claimed,
            events,
            replayed,
        })
    }

    /// Sends the spool's waiting files, oldest first, until none is left or one fails
    /// for a retryable reason (the server is down: try again later).
    fn replay(&mut self) -> Pass {
        let Some(spool) = self.delivery.spool.clone() else {
            return Pass::Drained;
        };
        loop {
            // Consent withdrawn: nothing collected before is sent afterwards, not even a
            // batch another process released into the spool since the purge.
            if !self.queue.is_accepting() || !(self.delivery.consented)() {
                return Pass::Deferred(Instant::now() + REPLAY_PAUSE);
            }
            // The exit handed delivery over to the uploader or the next run.
            if self.queue.is_handed_over() {
                return Pass::Deferred(Instant::now() + REPLAY_PAUSE);
            }
            let held = self.held_for();
            if !held.is_zero() {
                // The next flush says why nothing was sent.
                let error = self.held_error(held);
                self.report(error);
                return Pass::Deferred(Instant::now() + held);
            }
            let epoch = self.queue.epoch();
            let Some(Gathered {
                claimed,
                events,
                replayed,
            }) = self.gather(&spool)
            else {
                return Pass::Drained;
            };
            if self.queue.epoch() != epoch {
                claimed.iter().for_each(|c| spool.ack(c));
                return Pass::Deferred(Instant::now() + REPLAY_PAUSE);
            }
            match self.deliver(&claimed, &events, epoch, replayed) {
                Sent::Delivered | Sent::Refused => {}
                Sent::Deferred | Sent::Purged | Sent::Withdrawn => {
                    let pause = REPLAY_PAUSE.max(self.held_for());
                    return Pass::Deferred(Instant::now() + pause);
                }
            }
        }
    }
}

fn run(queue: &Queue, delivery: &Delivery, jobs: &Receiver<Job>) {
    let Some(sink) = delivery.journaled.as_deref() else {
        return;
    };
    let mut sender = SenderLoop {
        queue,
        delivery,
        sink,
        errors: Vec::new(),
        held: None,
    };
    // No request before this (a short run in background mode never sends; see the
    // module docs), and none before a failed pass's pause is over, except for an
    // explicit flush.
    let mut not_before = Instant::now() + delivery.send_after;
    // When to look at the spool again without being woken: other runs and the
    // uploader fill it too.
    let mut next_pass = not_before;
    loop {
        let wait = next_pass.saturating_duration_since(Instant::now());
        let pass = match jobs.recv_timeout(wait) {
            Ok(Job::Wake) => Instant::now() >= not_before,
            Ok(Job::Batch { events, epoch }) => {
                if queue.epoch() == epoch {
                    sender.deliver(&[], &events, epoch, 0);
                }
                false
            }
            Ok(Job::Flush {
                generation,
                mut errors,
            }) => {
                // Asked to deliver now: a pass whatever the timers say (the server's
                // own pause still holds, inside `replay`).
                if let Pass::Deferred(until) = sender.replay() {
                    not_before = not_before.max(until);
                }
                if let Err(e) = guarded(|| block_on(sink.flush())) {
                    errors.push(e);
                }
                errors.append(&mut sender.errors);
                queue.complete_flush(generation, errors);
                false
            }
            Err(RecvTimeoutError::Timeout) => true,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let now = Instant::now();
        if pass && now >= not_before {
            next_pass = match sender.replay() {
                Pass::Drained => now + REPLAY_PAUSE * 2,
                Pass::Deferred(until) => {
                    not_before = until;
                    until
                }
            };
        } else if now >= next_pass {
            // Due but not allowed yet: look again when it is.
            next_pass = not_before.max(now);
        }
    }
}
