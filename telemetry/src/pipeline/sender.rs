//! The sender thread: delivers journaled batches to the network sinks with retries,
//! and replays what earlier runs (or dead processes) left in the spool.
//!
//! A separate thread from the worker, so that a server that hangs holds up only the
//! sending, never the journaling: events keep reaching the disk while a request
//! waits for its timeout. It owns a current-thread tokio runtime (I/O and timers) on
//! which all DNS, TLS and HTTP work happens.

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

/// The name of the sender thread.
pub(crate) const SENDER_THREAD_NAME: &str = "telemetry-sender";

/// Errors kept for the next flush (which reports the first).
const MAX_KEPT_ERRORS: usize = 8;

/// Work handed from the worker to the sender, in order.
pub(crate) enum Job {
    /// A batch to deliver; `claimed` is its spool file (`None` if it could not be
    /// written, then the batch is sent from memory only).
    Batch {
        claimed: Option<Claimed>,
        events: Vec<Event>,
        epoch: u64,
        replay: bool,
    },
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
    Purged,
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

/// Awaits `work` unless a purge happens first (then `None`).
async fn unless_purged<T>(queue: &Queue, epoch: u64, work: impl Future<Output = T>) -> Option<T> {
    let mut purged = pin!(queue.purged());
    purged.as_mut().enable();
    if queue.epoch() != epoch {
        return None;
    }
    let mut work = pin!(work);
    std::future::poll_fn(|cx| {
        if purged.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        work.as_mut().poll(cx).map(Some)
    })
    .await
}

struct SenderLoop<'a> {
    queue: &'a Queue,
    delivery: &'a Delivery,
    sink: &'a dyn TelemetrySink,
    runtime: tokio::runtime::Runtime,
    errors: Vec<TelemetryError>,
    /// The end of the pause a server asked this process for (`Retry-After`).
    held: Option<Instant>,
}

impl SenderLoop<'_> {
    fn send(
        &mut self,
        claimed: Option<&Claimed>,
        events: &[Event],
        epoch: u64,
        replay: bool,
    ) -> Sent {
        let spool = self.delivery.spool.as_deref();
        let n = events.len();
        let mut attempt = 0;
        // The pause before the next request: none before the first, unless the server
        // asked for one (`Retry-After`, remembered in the spool across runs).
        let mut wait = Duration::ZERO;
        let mut last_error = None;
        loop {
            attempt += 1;
            let held = self.held_for();
            let wait_for = wait.max(held);
            if !wait_for.is_zero() {
                if !self.may_wait(wait_for) {
                    let error = last_error.unwrap_or_else(|| self.held_error(held));
                    return self.defer(claimed, n, error);
                }
                if attempt > 1 {
                    Counters::add(&self.delivery.counters.retried, 1);
                }
                let queue = self.queue;
                let slept = self.runtime.block_on(unless_purged(queue, epoch, async {
                    tokio::time::sleep(wait_for).await;
                }));
                if slept.is_none() {
                    return self.purged(claimed);
                }
            }
            if let (Some(spool), Some(claimed)) = (spool, claimed)
                && attempt > 1
            {
                spool.touch(claimed);
            }
            let queue = self.queue;
            let (runtime, sink) = (&self.runtime, self.sink);
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                runtime.block_on(unless_purged(queue, epoch, sink.emit_batch(events)))
            }))
            .unwrap_or(Some(Err(TelemetryError::SinkPanicked)));
            let error = match result {
                None => return self.purged(claimed),
                Some(Ok(())) => {
                    if let (Some(spool), Some(claimed)) = (spool, claimed) {
                        spool.ack(claimed);
                    }
                    self.queue.record_delivery(n, 0);
                    if replay {
                        Counters::add(&self.delivery.counters.replayed, n as u64);
                    }
                    return Sent::Delivered;
                }
                Some(Err(e)) => e,
            };
            tracing::debug!(error = %error, events = n, attempt, "telemetry: send failed");
            if !error.is_retryable() {
                if let (Some(spool), Some(claimed)) = (spool, claimed) {
                    spool.ack(claimed);
                }
                self.queue.record_delivery(0, n);
                self.report(error);
                return Sent::Refused;
            }
            if let Some(pause) = error.retry_after() {
                self.hold(pause);
            }
            if attempt >= MAX_ATTEMPTS {
                return self.defer(claimed, n, error);
            }
            last_error = Some(error);
            wait = backoff(attempt);
        }
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

    /// Leaves the batch in the spool for a later attempt (by replay, or a later run);
    /// `error` (why it was not delivered now) goes to the next flush.
    fn defer(&mut self, claimed: Option<&Claimed>, n: usize, error: TelemetryError) -> Sent {
        match (self.delivery.spool.as_deref(), claimed) {
            (Some(spool), Some(claimed)) => spool.release(claimed),
            // Not journaled (the spool write failed): it is lost.
            _ => self.queue.record_delivery(0, n),
        }
        self.report(error);
        Sent::Deferred
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
            tracing::debug!(error = %e, "telemetry: could not record the server's pause");
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

    /// Consent was withdrawn: the purge deletes (and counts) the spool files itself;
    /// this batch is simply not sent.
    fn purged(&self, _claimed: Option<&Claimed>) -> Sent {
        Sent::Purged
    }

    /// Sends the spool's waiting files, oldest first, until none is left or one fails
    /// for a retryable reason (the server is down: try again later). Returns when the
    /// next replay is due.
    fn replay(&mut self) -> Instant {
        let Some(spool) = self.delivery.spool.clone() else {
            return Instant::now() + Duration::from_secs(3600);
        };
        loop {
            // Consent withdrawn: nothing collected before is sent afterwards, not even a
            // batch another process released into the spool since the purge.
            if !self.queue.is_accepting() {
                return Instant::now() + REPLAY_PAUSE;
            }
            let held = self.held_for();
            if !held.is_zero() {
                return Instant::now() + held;
            }
            let epoch = self.queue.epoch();
            let Some(claimed) = spool.claim_next() else {
                return Instant::now() + REPLAY_PAUSE * 2;
            };
            if self.queue.epoch() != epoch {
                spool.ack(&claimed);
                return Instant::now() + REPLAY_PAUSE;
            }
            let events = spool.read(&claimed);
            if events.is_empty() {
                spool.ack(&claimed);
                continue;
            }
            match self.send(Some(&claimed), &events, epoch, true) {
                Sent::Delivered | Sent::Refused => {}
                Sent::Deferred | Sent::Purged => return Instant::now() + REPLAY_PAUSE,
            }
        }
    }
}

fn run(queue: &Queue, delivery: &Delivery, jobs: &Receiver<Job>) {
    let Some(sink) = delivery.journaled.as_deref() else {
        return;
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::debug!(error = %e, "telemetry sender could not build its runtime");
            queue.abandon_flushes(TelemetryError::Worker(format!(
                "could not build the sender runtime: {e}"
            )));
            return;
        }
    };
    let mut sender = SenderLoop {
        queue,
        delivery,
        sink,
        runtime,
        errors: Vec::new(),
        held: None,
    };
    // Batches left by earlier runs go first: they are older, and a short-lived tool's
    // exit flush then also waits (within its deadline) for them.
    let mut next_replay = sender.replay();
    loop {
        let wait = next_replay.saturating_duration_since(Instant::now());
        match jobs.recv_timeout(wait) {
            Ok(Job::Batch {
                claimed,
                events,
                epoch,
                replay,
            }) => {
                if queue.epoch() != epoch {
                    sender.purged(claimed.as_ref());
                    continue;
                }
                if sender.send(claimed.as_ref(), &events, epoch, replay) == Sent::Deferred {
                    let pause = REPLAY_PAUSE.max(sender.held_for());
                    next_replay = next_replay.max(Instant::now() + pause);
                }
            }
            Ok(Job::Flush {
                generation,
                mut errors,
            }) => {
                if let Err(e) = guarded(|| sender.runtime.block_on(sink.flush())) {
                    errors.push(e);
                }
                errors.append(&mut sender.errors);
                queue.complete_flush(generation, errors);
            }
            Err(RecvTimeoutError::Timeout) => next_replay = sender.replay(),
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
