//! The delivery worker: one background thread that drives the sinks' futures with the
//! library's own `block_on` (no async runtime), started lazily on the first accepted
//! event, so sync tools and async tools (inside or outside a runtime) behave alike and
//! a disabled process never starts it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use crate::clock;
use crate::error::TelemetryError;
use crate::event::Event;
use crate::identity::MachineId;
use crate::pipeline::delivery::{Delivery, guarded};
#[cfg(feature = "spool")]
use crate::pipeline::sender::{self, Job};
#[cfg(feature = "spool")]
use crate::pipeline::stats::Counters;
use crate::pipeline::{Pending, Queue, What};
use crate::util::executor::block_on;
use crate::util::time::rfc3339_millis;
use crate::value::AttrValue;

/// The name of the worker thread (visible in `/proc/<pid>/task/*/comm`, debuggers).
pub(crate) const WORKER_THREAD_NAME: &str = "telemetry-worker";

/// Everything the worker needs to turn a [`Pending`] into an [`Event`].
pub(crate) struct EventFactory {
    pub(crate) tool: Arc<str>,
    pub(crate) tool_version: Arc<str>,
    pub(crate) salt: String,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) default_attrs: BTreeMap<Cow<'static, str>, AttrValue>,
    machine_id: OnceLock<Arc<str>>,
    /// Wall-clock and monotonic time read together, to date events from their
    /// monotonic timestamp without a second clock read on the hot path.
    anchor: (SystemTime, Instant),
    platform: (Arc<str>, Arc<str>),
}

impl std::fmt::Debug for EventFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventFactory")
            .field("tool", &self.tool)
            .field("tool_version", &self.tool_version)
            .finish_non_exhaustive()
    }
}

impl EventFactory {
    pub(crate) fn new(
        tool: &'static str,
        tool_version: &'static str,
        salt: String,
        data_dir: Option<PathBuf>,
        default_attrs: BTreeMap<Cow<'static, str>, AttrValue>,
    ) -> Self {
        Self {
            tool: tool.into(),
            tool_version: tool_version.into(),
            salt,
            data_dir,
            default_attrs,
            machine_id: OnceLock::new(),
            anchor: (SystemTime::now(), Instant::now()),
            platform: crate::event::platform(),
        }
    }

    /// The salted machine id, derived on first use (on the worker thread, never on
    /// the recording path, and never when disabled).
    pub(crate) fn machine_id(&self) -> &Arc<str> {
        self.machine_id.get_or_init(|| {
            match &self.data_dir {
                Some(dir) => MachineId::derive_in(&self.salt, dir),
                None => MachineId::derive(&self.salt),
            }
            .into()
        })
    }

    pub(crate) fn build(&self, p: Pending) -> Event {
        let at = clock::to_instant(p.end);
        let wall = self.anchor.0 + at.saturating_duration_since(self.anchor.1);
        // Precedence, lowest first: tool defaults, site literals, captured values,
        // run-time attributes.
        let mut attrs = if self.default_attrs.is_empty() {
            BTreeMap::new()
        } else {
            self.default_attrs.clone()
        };
        let (name, duration, error_kind) = match p.what {
            What::Call {
                spec,
                start,
                captured,
                error_kind,
            } => {
                for (k, v) in spec.attrs {
                    attrs.insert(Cow::Borrowed(*k), v.clone());
                }
                for (k, v) in captured.with_keys(spec.captures.iter().map(|c| c.key)) {
                    attrs.insert(Cow::Borrowed(k), v);
                }
                let duration = duration_ms(clock::duration(start, p.end));
                let error_kind = error_kind.map(|kind| kind().to_wire());
                (Cow::Borrowed(spec.name), Some(duration), error_kind)
            }
            What::Point { spec, captured } => {
                for (k, v) in spec.attrs {
                    attrs.insert(Cow::Borrowed(*k), v.clone());
                }
                for (k, v) in captured.with_keys(spec.captures.iter().map(|c| c.key)) {
                    attrs.insert(Cow::Borrowed(k), v);
                }
                (Cow::Borrowed(spec.name), None, None)
            }
        };
        // Built field by field rather than through `Event::new`, which would read the
        // clock and format a timestamp only for it to be replaced.
        Event {
            event_id: crate::util::random::uuid_v4().to_string(),
            name,
            tool: self.tool.clone(),
            tool_version: self.tool_version.clone(),
            machine_id: Arc::clone(self.machine_id()),
            session_id: crate::identity::session_id(),
            timestamp_utc: rfc3339_millis(wall),
            os: Arc::clone(&self.platform.0),
            arch: Arc::clone(&self.platform.1),
            duration_ms: duration,
            outcome: p.outcome,
            error_kind,
            attrs,
        }
    }
}

/// Milliseconds with microsecond resolution.
fn duration_ms(d: Duration) -> f64 {
    let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    micros as f64 / 1000.0
}

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
    if let Some(spool) = &delivery.spool
        && delivery
            .prepare_at_start
            .load(std::sync::atomic::Ordering::Acquire)
    {
        spool.prepare();
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
                let events: Vec<Event> = take.batch.into_iter().map(|p| factory.build(p)).collect();
                events
                    .chunks(queue.batch_size())
                    .for_each(&mut write_direct);
                #[cfg(feature = "spool")]
                if let (Some(spool), Some(jobs)) = (&delivery.spool, &jobs) {
                    journal(
                        queue,
                        delivery,
                        spool,
                        jobs,
                        events,
                        take.epoch,
                        take.complete_flush != 0,
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

/// Journals a batch for the sender: synced to the spool and released for sending, or,
/// if the spool could not take it, handed to the sender to send from memory.
#[cfg(feature = "spool")]
fn journal(
    queue: &Queue,
    delivery: &Delivery,
    spool: &crate::pipeline::Spool,
    jobs: &std::sync::mpsc::Sender<Job>,
    events: Vec<Event>,
    epoch: u64,
    in_flush: bool,
) {
    let n = events.len();
    match spool.write_claimed(&events) {
        Ok(claimed) if queue.epoch() == epoch => {
            // Durable and up for grabs: the sender (or the uploader, or a
            // later run) takes the spool's batches oldest first.
            spool.release(&claimed);
            let _ = jobs.send(Job::Wake);
            // More may come: the next file's name is synced now, off
            // the exit's path. Not after a flush: an exit may follow.
            if !in_flush
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
                let _ = jobs.send(Job::Batch { events, epoch });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_is_milliseconds_with_microsecond_resolution() {
        assert_eq!(duration_ms(Duration::from_nanos(1_234_567)), 1.234);
        assert_eq!(duration_ms(Duration::from_secs(2)), 2000.0);
    }
}
