//! The delivery worker: one background thread that drives the sinks' futures with the
//! library's own `block_on` (no async runtime), started on the first accepted event
//! (or by `init` for a context with a spool, to get ready while the tool works), so
//! sync tools and async tools (inside or outside a runtime) behave alike and a
//! disabled process never starts it.

use std::sync::Arc;
use std::time::Duration;

use crate::error::TelemetryError;
use crate::event::Event;
#[cfg(feature = "spool")]
use crate::pipeline::Pending;
use crate::pipeline::Queue;
use crate::pipeline::delivery::{Delivery, guarded};
use crate::pipeline::factory::EventFactory;
#[cfg(feature = "spool")]
use crate::pipeline::sender::{self, Job};
#[cfg(feature = "spool")]
use crate::pipeline::stats::Counters;
use crate::util::executor::block_on;

/// The name of the worker thread (visible in `/proc/<pid>/task/*/comm`, debuggers).
pub(crate) const WORKER_THREAD_NAME: &str = "telemetry-worker";

/// How the worker batches.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchConfig {
    pub(crate) linger: Duration,
}

/// Starts the worker thread (and, with a spool, the sender thread).
pub(crate) fn spawn(
    queue: Arc<Queue>,
    factory: Arc<EventFactory>,
    delivery: Arc<Delivery>,
    config: BatchConfig,
) -> Result<(), TelemetryError> {
    #[cfg(feature = "spool")]
    let jobs = match &delivery.spool {
        Some(_) => Some(sender::spawn(Arc::clone(&queue), Arc::clone(&delivery))?),
        None => None,
    };
    #[cfg(not(feature = "spool"))]
    let jobs: Jobs = None;
    std::thread::Builder::new()
        .name(WORKER_THREAD_NAME.to_owned())
        .spawn(move || run(&queue, &factory, &delivery, jobs, config))
        .map(drop)
        .map_err(|e| TelemetryError::Worker(format!("could not start the worker thread: {e}")))
}

/// The worker loop: takes batches, writes the direct sinks, and journals the batches
/// of the journaled sinks before handing them to the sender. It never waits on the
/// network, so a hanging server cannot keep accepted events in memory: they reach the
/// spool within one linger (at once on a flush).
fn run(
    queue: &Queue,
    factory: &EventFactory,
    delivery: &Delivery,
    jobs: Jobs,
    config: BatchConfig,
) {
    #[cfg(feature = "reports")]
    if let Some(mode) = &delivery.reports {
        return crate::pipeline::report_worker::run(queue, factory, mode);
    }
    if delivery
        .prepare_at_start
        .load(std::sync::atomic::Ordering::Acquire)
    {
        // An installed context: the run is going to record. The local sinks'
        // directories and the next spool file are made ready now, while the tool
        // works, not when its exit waits for them. Not the machine id: a run may
        // record nothing (a `reset`, which deletes the install id; a dry run), and
        // then none is derived.
        if let Some(direct) = &delivery.direct
            && let Err(e) = guarded(|| block_on(direct.prepare()))
        {
            crate::util::log::debug!(error = %e, "telemetry: a sink could not get ready");
        }
        if let Some(spool) = &delivery.spool {
            // The last runs' exits left their batches without measuring the spool.
            spool.keep_bounds();
            spool.prepare();
        }
    }
    let mut errors = Vec::new();
    loop {
        let take = queue.take(config.linger);
        if !take.batch.is_empty() {
            let counts_delivery = delivery.journaled.is_none();
            let mut write_direct = |chunk: &[Event]| {
                let Some(direct) = &delivery.direct else {
                    return;
                };
                let m = chunk.len();
                match guarded(|| block_on(direct.emit_batch(chunk))) {
                    Ok(()) if counts_delivery => queue.record_delivery(m, 0),
                    Ok(()) => {}
                    Err(e) => {
                        crate::util::log::debug!(error = %e, events = m, "telemetry sink failed");
                        queue.record_delivery(0, m);
                        errors.push(e);
                    }
                }
            };
            // A flush takes the whole queue; a sink still gets batches. Without a
            // journal the events are also made a batch at a time: a flush behind a
            // fast producer can take hundreds of thousands, and making them all
            // first churned the allocator and the page tables.
            let journaling = delivery.spool.is_some() && jobs.is_some();
            if !journaling {
                let mut pending = take.batch.into_iter();
                loop {
                    let chunk: Vec<Event> = pending
                        .by_ref()
                        .take(queue.batch_size())
                        .map(|p| factory.build(p))
                        .collect();
                    if chunk.is_empty() {
                        break;
                    }
                    write_direct(&chunk);
                }
            } else {
                #[cfg(feature = "spool")]
                if let (Some(spool), Some(jobs)) = (&delivery.spool, &jobs) {
                    let batch = if delivery.direct.is_some() {
                        let events: Vec<Event> =
                            take.batch.into_iter().map(|p| factory.build(p)).collect();
                        events
                            .chunks(queue.batch_size())
                            .for_each(&mut write_direct);
                        Journal::Events(events)
                    } else {
                        // The spool alone (a network sink's run, the default): its
                        // lines are written straight from the queued calls.
                        Journal::Queued(take.batch)
                    };
                    journal(
                        queue,
                        delivery,
                        factory,
                        spool,
                        jobs,
                        batch,
                        take.epoch,
                        Flush {
                            in_flush: take.complete_flush != 0,
                            deliver: take.deliver,
                        },
                    );
                }
            }
        }
        if take.complete_flush != 0 {
            if let Some(direct) = &delivery.direct
                && let Err(e) = guarded(|| block_on(direct.flush()))
            {
                crate::util::log::debug!(error = %e, "telemetry sink flush failed");
                errors.push(e);
            }
            // Everything taken before the request is written out (direct sinks,
            // spool): an exit may return now, whatever its deadline. Without a
            // sender, that was the delivery too.
            match &jobs {
                None => queue.complete_flush(take.complete_flush, std::mem::take(&mut errors)),
                #[cfg(feature = "spool")]
                Some(jobs) => {
                    queue.mark_persisted(take.complete_flush);
                    if take.deliver
                        && let Err(unsent) = jobs.send(Job::Flush {
                            generation: take.complete_flush,
                            errors: std::mem::take(&mut errors),
                        })
                        && let Job::Flush { generation, errors } = unsent.0
                    {
                        queue.complete_flush(generation, errors);
                    }
                }
                #[cfg(not(feature = "spool"))]
                Some(never) => match *never {},
            }
        }
        if take.closed {
            return;
        }
    }
}

/// The worker's line to the sender thread (none without a spool).
#[cfg(feature = "spool")]
type Jobs = Option<std::sync::mpsc::Sender<Job>>;
#[cfg(not(feature = "spool"))]
type Jobs = Option<std::convert::Infallible>;

/// Whether a journaled batch completes a flush, and whether that flush asked for
/// delivery (an explicit `flush`, an `AtExit` exit) or only for the write (a
/// background exit).
#[cfg(feature = "spool")]
#[derive(Clone, Copy)]
struct Flush {
    in_flush: bool,
    deliver: bool,
}

/// A batch for the spool: events already made (the direct sinks had them), or the
/// queued calls, whose lines the spool gets without an `Event` made.
#[cfg(feature = "spool")]
enum Journal {
    Events(Vec<Event>),
    Queued(std::collections::VecDeque<Pending>),
}

/// Journals a batch for the sender: synced to the spool and released for sending, or,
/// if the spool could not take it, handed to the sender to send from memory.
#[cfg(feature = "spool")]
#[expect(
    clippy::too_many_arguments,
    reason = "the worker's state, borrowed for one call from its loop"
)]
fn journal(
    queue: &Queue,
    delivery: &Delivery,
    factory: &EventFactory,
    spool: &crate::pipeline::Spool,
    jobs: &std::sync::mpsc::Sender<Job>,
    batch: Journal,
    epoch: u64,
    flush: Flush,
) {
    let n = match &batch {
        Journal::Events(events) => events.len(),
        Journal::Queued(queued) => queued.len(),
    };
    let mut lines = Vec::with_capacity(n * crate::sink::TYPICAL_SPOOL_LINE);
    match &batch {
        Journal::Events(events) => crate::sink::write_spool_lines(&mut lines, events),
        Journal::Queued(queued) => factory.write_spool_lines(queued, &mut lines),
    }
    let written = spool.write_claimed(&lines);
    match written {
        Ok(claimed) if queue.epoch() == epoch => {
            // The bounds, while this batch is still ours (so never it): not at a
            // background exit's persist, which would wait for a `stat` of every
            // waiting file; the next run's start counts its batch.
            if !flush.in_flush || flush.deliver {
                spool.keep_bounds();
            }
            // Durable and up for grabs: the sender (or the uploader, or a
            // later run) takes the spool's batches oldest first.
            spool.release(&claimed);
            let _ = jobs.send(Job::Wake);
            // More may come: the next file's name is synced now, off
            // the exit's path. Not after a flush: an exit may follow.
            if !flush.in_flush
                && delivery
                    .prepare_at_start
                    .load(std::sync::atomic::Ordering::Acquire)
            {
                spool.prepare();
            }
        }
        // Consent was withdrawn while the batch was being written.
        Ok(claimed) => spool.ack(&claimed),
        Err(e) => {
            // Sent from memory all the same, at most once.
            crate::util::log::debug!(error = %e, events = n, "telemetry: spool write failed");
            Counters::add(&delivery.counters.spool_errors, n as u64);
            if queue.epoch() == epoch {
                let events = match batch {
                    Journal::Events(events) => events,
                    Journal::Queued(queued) => {
                        queued.into_iter().map(|p| factory.build(p)).collect()
                    }
                };
                let _ = jobs.send(Job::Batch { events, epoch });
            }
        }
    }
}
