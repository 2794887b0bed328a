//! The bounded queue between recording threads and the delivery worker.
//!
//! A `Mutex<VecDeque>` with two condition variables rather than a channel, because the
//! worker must also see flush requests and shutdown while the queue is full, and
//! because producers should wake the worker only when it is worth it (queue was empty,
//! or a batch just filled up), not on every event.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::error::TelemetryError;
use crate::pipeline::Pending;
use crate::switch;
use crate::util::executor::Wakers;

/// Why [`Queue::push`] refused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejected {
    Full,
    Closed,
    /// The context's policy is off (consent withdrawn while the event was recorded).
    Disabled,
}

#[derive(Default)]
struct State {
    items: VecDeque<Pending>,
    /// Flush requests made so far, of either kind (a generation counter).
    flush_requested: u64,
    /// The newest generation whose events the worker wrote out (to the direct sinks
    /// and the spool): what an exit waits for, whatever its deadline.
    persisted: u64,
    /// The newest generation a caller asked to have *delivered* (not only persisted).
    deliver_requested: u64,
    /// The newest generation delivered (or deferred to the spool) by the sinks.
    flush_done: u64,
    /// Errors the worker met since the last completed flush, handed to one flusher.
    flush_errors: Vec<TelemetryError>,
    /// The worker is parked waiting for the first item.
    idle: bool,
    /// The worker holds a partial batch and waits for it to fill (or linger to pass).
    lingering: bool,
    /// The report worker holds unwritten calls and waits for the queue to be half full
    /// (or its write time, or a flush).
    gathering: bool,
    closed: bool,
    /// The context's policy: events are taken only while it is on. Changed under this
    /// lock, so that a purge that follows the change leaves nothing behind.
    accepting: bool,
    /// The install generation under which this queue's context is the process-wide
    /// one (0: it is not installed). Tracked calls push through a per-thread handle
    /// only while it is still the one installed.
    installed_as: u64,
    /// When the caller of an outstanding blocking flush gives up (an exit deadline,
    /// the uploader's time limit), and how long it waits in all.
    flush_deadline: Option<Instant>,
    flush_window: Duration,
    /// Futures waiting for a flush to complete (`Context::flush().await`).
    flush_wakers: Wakers,
    /// The sender's call or pause that a purge cuts short.
    purge_wakers: Wakers,
}

/// The queue plus the flush handshake.
pub(crate) struct Queue {
    state: Mutex<State>,
    capacity: usize,
    batch_size: usize,
    work: Condvar,
    done: Condvar,
    dropped: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    /// Bumped (under the state lock) by every purge: work taken under an older epoch
    /// was accepted before consent was withdrawn and must not be sent.
    epoch: AtomicU64,
    handed_over: std::sync::atomic::AtomicBool,
}

/// What the worker takes out of the queue in one go.
pub(crate) struct Take {
    /// The calls taken, oldest first. A `VecDeque`, the queue's own type, so that a
    /// flush's take of everything is the queue's buffer itself: turning a deque into
    /// a `Vec` would first make it contiguous (rotations: ~5 KB of code in every
    /// tool, BENCHMARKS.md, footprint).
    pub(crate) batch: VecDeque<Pending>,
    /// A flush generation to complete after this batch was written out (0 = none).
    pub(crate) complete_flush: u64,
    /// Whether a caller asked for that generation to be delivered, not only persisted.
    #[cfg_attr(not(feature = "spool"), allow(dead_code))]
    pub(crate) deliver: bool,
    pub(crate) closed: bool,
    /// The purge epoch the batch was taken under.
    #[cfg_attr(not(feature = "spool"), allow(dead_code))]
    pub(crate) epoch: u64,
}

impl Queue {
    pub(crate) fn new(capacity: usize, batch_size: usize, accepting: bool) -> Self {
        Self {
            state: Mutex::new(State {
                accepting,
                ..State::default()
            }),
            capacity,
            batch_size: batch_size.max(1),
            work: Condvar::new(),
            done: Condvar::new(),
            dropped: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            handed_over: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the state inconsistent (every
        // critical section is a few field updates), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Accepts an event or refuses it at once; never blocks on the worker.
    #[inline]
    pub(crate) fn push(&self, item: Pending) -> Result<(), Rejected> {
        let st = self.lock();
        self.push_locked(st, item)
    }

    /// [`push`](Self::push) for a tracked call that reached this queue through a
    /// handle taken under install generation `installed_as`: takes the event out of
    /// `pending` only if the context is still the installed one (`None` otherwise,
    /// the event left in place). The event is moved once, into the queue.
    #[inline]
    pub(crate) fn push_installed(
        &self,
        pending: &mut Option<Pending>,
        installed_as: u64,
    ) -> Option<Result<(), Rejected>> {
        let st = self.lock();
        if st.installed_as != installed_as {
            return None;
        }
        Some(self.push_locked(st, pending.take()?))
    }

    #[inline]
    fn push_locked(&self, mut st: MutexGuard<'_, State>, item: Pending) -> Result<(), Rejected> {
        if st.closed {
            return Err(Rejected::Closed);
        }
        if !st.accepting {
            return Err(Rejected::Disabled);
        }
        if st.items.len() >= self.capacity {
            drop(st);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return Err(Rejected::Full);
        }
        st.items.push_back(item);
        let wake = (st.idle && st.items.len() == 1)
            || (st.lingering && st.items.len() >= self.batch_size)
            || (st.gathering && st.items.len() == self.gather_at());
        drop(st);
        if wake {
            self.work.notify_one();
        }
        Ok(())
    }

    /// What a caller is told about a push: a full or closed queue is an error; an
    /// event refused because the policy went off in the meantime is, as for any
    /// event recorded while telemetry is off, silently not recorded.
    #[inline]
    pub(crate) fn outcome(&self, pushed: Result<(), Rejected>) -> Result<(), TelemetryError> {
        match pushed {
            Ok(()) | Err(Rejected::Disabled) => Ok(()),
            Err(Rejected::Full) => Err(TelemetryError::QueueFull {
                capacity: self.capacity,
            }),
            Err(Rejected::Closed) => Err(TelemetryError::Worker("the queue is closed".into())),
        }
    }

    /// Follows the context's policy: once it is set to `false`, no event is taken (and
    /// a [`purge`](Self::purge) after it removes every event taken before).
    /// When this queue is the installed one, the fast-path switch follows, under this
    /// lock.
    pub(crate) fn set_accepting(&self, accepting: bool) {
        let mut st = self.lock();
        st.accepting = accepting;
        if st.installed_as != 0 {
            switch::set(accepting);
        }
    }

    /// The run is ending and hands delivery over (to the uploader, or the next run):
    /// the sender starts no new request of its own from now on, so the batches the exit
    /// leaves are not sent twice, by this process and by the uploader.
    pub(crate) fn hand_over(&self) {
        self.handed_over.store(true, Ordering::Release);
    }

    #[cfg(feature = "spool")]
    /// Whether [`hand_over`](Self::hand_over) was called.
    pub(crate) fn is_handed_over(&self) -> bool {
        self.handed_over.load(Ordering::Acquire)
    }

    #[cfg(feature = "spool")]
    /// Whether the context's policy is on (read under the lock).
    pub(crate) fn is_accepting(&self) -> bool {
        self.lock().accepting
    }

    /// Marks this queue's context as installed under `generation` (0: uninstalled),
    /// and sets the fast-path switch to match, under this lock.
    pub(crate) fn set_installed(&self, generation: u64) {
        let mut st = self.lock();
        st.installed_as = generation;
        switch::set(generation != 0 && st.accepting);
    }

    /// The largest batch handed to a sink at once.
    pub(crate) fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Events dropped because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Events handed to the sinks successfully.
    pub(crate) fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// Events a sink failed to take.
    pub(crate) fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Events waiting in memory.
    pub(crate) fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Drops every queued event and starts a new purge epoch, so that batches the
    /// worker already took are not sent either. Returns how many were dropped.
    pub(crate) fn purge(&self) -> usize {
        let mut st = self.lock();
        let n = st.items.len();
        st.items.clear();
        self.epoch.fetch_add(1, Ordering::SeqCst);
        let wakers = st.purge_wakers.take();
        drop(st);
        wakers.into_iter().for_each(std::task::Waker::wake);
        n
    }

    #[cfg(feature = "spool")]
    /// The current purge epoch.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    #[cfg(feature = "spool")]
    /// Whether a purge started a new epoch since `epoch`; if not, `cx`'s waker is
    /// woken by the next purge (registered under the lock the purge takes, so none is
    /// missed).
    pub(crate) fn poll_purged(&self, epoch: u64, cx: &mut std::task::Context<'_>) -> bool {
        let mut st = self.lock();
        if self.epoch() != epoch {
            return true;
        }
        st.purge_wakers.register(cx.waker());
        false
    }

    #[cfg(feature = "spool")]
    /// When the caller of an outstanding blocking flush gives up, if one waits.
    pub(crate) fn flush_deadline(&self) -> Option<Instant> {
        self.flush_window().map(|(until, _)| until)
    }

    #[cfg(feature = "spool")]
    /// The same, with how long that caller waits in all.
    pub(crate) fn flush_window(&self) -> Option<(Instant, Duration)> {
        let st = self.lock();
        if st.deliver_requested > st.flush_done {
            st.flush_deadline.map(|until| (until, st.flush_window))
        } else {
            None
        }
    }

    /// Stops accepting events and lets the worker finish what is queued, then exit.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.work.notify_all();
    }

    pub(crate) fn record_delivery(&self, delivered: usize, failed: usize) {
        self.delivered
            .fetch_add(delivered as u64, Ordering::Relaxed);
        self.failed.fetch_add(failed as u64, Ordering::Relaxed);
    }

    /// Worker side: waits for work, lingers up to `linger` for a batch to fill, and
    /// takes at most one batch.
    pub(crate) fn take(&self, linger: Duration) -> Take {
        let mut st = self.lock();
        while st.items.is_empty() && st.flush_requested == st.persisted && !st.closed {
            st.idle = true;
            st = self.work.wait(st).unwrap_or_else(PoisonError::into_inner);
            st.idle = false;
        }
        let until = Instant::now() + linger;
        while st.items.len() < self.batch_size && st.flush_requested == st.persisted && !st.closed {
            let now = Instant::now();
            if now >= until {
                break;
            }
            st.lingering = true;
            st = self
                .work
                .wait_timeout(st, until - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            st.lingering = false;
        }
        // A flush takes everything at once: an exit then writes one spool file with
        // one sync, whatever it holds (syncing ten files costs ten times as much).
        // Sinks still get at most `batch_size` events per call.
        let n = if st.flush_requested > st.persisted {
            st.items.len()
        } else {
            st.items.len().min(self.batch_size)
        };
        self.take_out(&mut st, n)
    }

    /// Takes the first `n` items, with the flush they complete and whether the queue
    /// is done.
    fn take_out(&self, st: &mut State, n: usize) -> Take {
        let batch = if n > 0 && n == st.items.len() && st.flush_requested > st.persisted {
            // Everything, for a flush (an exit): the queue's buffer itself is handed
            // over and an untouched one of the same capacity takes its place, rather
            // than copying every item into fresh memory while the exit waits. Not for
            // the worker's ordinary takes, which would then allocate a whole queue's
            // buffer per batch.
            let capacity = st.items.capacity();
            std::mem::replace(&mut st.items, VecDeque::with_capacity(capacity))
        } else {
            // Item by item rather than `drain(..n).collect()`: the same moves, without
            // a collecting instantiation for this type (~1 KB in every tool).
            let mut batch = VecDeque::with_capacity(n);
            while batch.len() < n
                && let Some(item) = st.items.pop_front()
            {
                batch.push_back(item);
            }
            batch
        };
        // A flush completes once everything queued before it was taken.
        let complete_flush = if st.items.is_empty() && st.flush_requested > st.persisted {
            st.flush_requested
        } else {
            0
        };
        Take {
            batch,
            complete_flush,
            deliver: complete_flush != 0 && st.deliver_requested > st.flush_done,
            closed: st.closed && st.items.is_empty(),
            epoch: self.epoch.load(Ordering::SeqCst),
        }
    }

    /// Worker side, report mode: takes everything queued, once there is a reason to
    /// fold and write it. With nothing in hand (`write_by` is `None`) it waits for the
    /// first item and returns it at once, so the caller can start its clock; with
    /// calls in hand it waits, without being woken call by call, until `write_by`, a
    /// flush, the end, or the queue half full (then the recording threads wake it,
    /// once). Folding is far quicker than building events, so a worker woken per
    /// batch would be woken, and put back to sleep, every hundred calls.
    #[cfg(feature = "reports")]
    pub(crate) fn take_gathered(&self, write_by: Option<Instant>) -> Take {
        let mut st = self.lock();
        loop {
            if st.flush_requested > st.persisted || st.closed || st.items.len() >= self.gather_at()
            {
                break;
            }
            match write_by {
                None if st.items.is_empty() => {
                    st.idle = true;
                    st = self.work.wait(st).unwrap_or_else(PoisonError::into_inner);
                    st.idle = false;
                }
                None => break,
                Some(until) => {
                    let now = Instant::now();
                    if now >= until {
                        break;
                    }
                    st.gathering = true;
                    st = self
                        .work
                        .wait_timeout(st, until - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                    st.gathering = false;
                }
            }
        }
        let n = st.items.len();
        self.take_out(&mut st, n)
    }

    /// How many queued calls wake a gathering worker: half the queue, so that it
    /// folds them long before the queue could drop one.
    fn gather_at(&self) -> usize {
        (self.capacity / 2).max(1)
    }

    #[cfg(feature = "spool")]
    /// Worker side: everything taken up to flush generation `generation` was written
    /// out (direct sinks, spool).
    pub(crate) fn mark_persisted(&self, generation: u64) {
        let mut st = self.lock();
        st.persisted = st.persisted.max(generation);
        drop(st);
        self.done.notify_all();
    }

    /// Worker or sender side: marks flush generation `generation` delivered (what could
    /// not be is in the spool).
    pub(crate) fn complete_flush(&self, generation: u64, errors: Vec<TelemetryError>) {
        let mut st = self.lock();
        st.persisted = st.persisted.max(generation);
        st.flush_done = st.flush_done.max(generation);
        st.flush_errors.extend(errors);
        if st.flush_done >= st.deliver_requested {
            st.flush_deadline = None;
        }
        let wakers = st.flush_wakers.take();
        drop(st);
        self.done.notify_all();
        wakers.into_iter().for_each(std::task::Waker::wake);
    }

    /// Asks the worker to write out everything queued now and, with `deliver`, to have
    /// the sinks deliver it and flush; returns the generation to wait for
    /// ([`wait_persisted`](Self::wait_persisted), [`wait_flushed`](Self::wait_flushed)).
    pub(crate) fn request_flush(&self, deliver: bool) -> u64 {
        let mut st = self.lock();
        st.flush_requested += 1;
        let generation = st.flush_requested;
        if deliver {
            st.deliver_requested = generation;
        }
        drop(st);
        self.work.notify_all();
        generation
    }

    fn finish(st: &mut State) -> Result<(), TelemetryError> {
        let mut errors = std::mem::take(&mut st.flush_errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.swap_remove(0))
        }
    }

    /// Waits (blocking) until the worker wrote out everything of `generation`, or
    /// `limit` passes; `true` when it did.
    pub(crate) fn wait_persisted(&self, generation: u64, limit: Duration) -> bool {
        // A limit too far to name is no limit (a wait of a year at a time).
        let until = Instant::now().checked_add(limit);
        let mut st = self.lock();
        while st.persisted < generation {
            let now = Instant::now();
            let left = until.map_or(Duration::from_secs(365 * 86_400), |u| {
                u.saturating_duration_since(now)
            });
            if left.is_zero() {
                return false;
            }
            st = self
                .done
                .wait_timeout(st, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// Waits (blocking) until `generation` is flushed or `deadline` passes.
    pub(crate) fn wait_flushed(
        &self,
        generation: u64,
        deadline: Duration,
    ) -> Result<(), TelemetryError> {
        // A deadline too far to name (`Duration::MAX`) is capped at a year.
        let deadline = deadline.min(Duration::from_secs(365 * 86_400));
        let until = Instant::now() + deadline;
        let mut st = self.lock();
        if st.flush_deadline.is_none_or(|d| until < d) {
            st.flush_deadline = Some(until);
            st.flush_window = deadline;
        }
        while st.flush_done < generation {
            let now = Instant::now();
            if now >= until {
                return Err(TelemetryError::Timeout { deadline });
            }
            st = self
                .done
                .wait_timeout(st, until - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        Self::finish(&mut st)
    }

    /// Waits (async, any runtime) until `generation` is flushed.
    pub(crate) async fn wait_flushed_async(&self, generation: u64) -> Result<(), TelemetryError> {
        std::future::poll_fn(|cx| {
            let mut st = self.lock();
            if st.flush_done >= generation {
                return std::task::Poll::Ready(Self::finish(&mut st));
            }
            st.flush_wakers.register(cx.waker());
            std::task::Poll::Pending
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::EventSpec;
    use crate::pipeline::Captures;
    use crate::value::AttrValue;

    const NO_ATTRS: &[(&str, AttrValue)] = &[];
    static SPEC: EventSpec = EventSpec::new("test.queue", NO_ATTRS, &[], "queue::tests");

    fn queue_with(n: usize, batch: usize) -> Queue {
        let q = Queue::new(100, batch, true);
        for _ in 0..n {
            q.push(Pending::point(&SPEC, Captures::from_values([])))
                .unwrap();
        }
        q
    }

    #[cfg(feature = "spool")]
    #[test]
    fn a_persist_completes_without_waiting_for_delivery() {
        let q = queue_with(3, 10);
        let generation = q.request_flush(false);
        let take = q.take(Duration::from_secs(5));
        assert_eq!(take.batch.len(), 3);
        assert_eq!(take.complete_flush, generation);
        assert!(!take.deliver, "nobody asked to deliver");
        assert!(!q.wait_persisted(generation, Duration::ZERO));
        q.mark_persisted(generation);
        assert!(q.wait_persisted(generation, Duration::ZERO));
        assert!(q.flush_deadline().is_none(), "no deliver flush outstanding");
    }

    #[cfg(feature = "spool")]
    #[test]
    fn a_deliver_flush_is_done_only_when_completed() {
        let q = queue_with(1, 10);
        let generation = q.request_flush(true);
        let take = q.take(Duration::from_secs(5));
        assert!(take.deliver);
        q.mark_persisted(generation);
        assert!(matches!(
            q.wait_flushed(generation, Duration::from_millis(1)),
            Err(TelemetryError::Timeout { .. })
        ));
        q.complete_flush(generation, Vec::new());
        q.wait_flushed(generation, Duration::ZERO).unwrap();
    }

    #[test]
    fn a_flush_takes_everything_at_once_otherwise_one_batch_at_a_time() {
        let q = queue_with(25, 10);
        let take = q.take(Duration::ZERO);
        assert_eq!((take.batch.len(), take.complete_flush), (10, 0));
        let generation = q.request_flush(false);
        let take = q.take(Duration::from_secs(5));
        assert_eq!((take.batch.len(), take.complete_flush), (15, generation));
    }
}
