//! The tracked calls that are running, for the ends of a process that skip their
//! guards: a signal, [`crate::exit`] from inside a call, a panic hook that exits.
//!
//! Kept only once the tool asked for it ([`crate::signals::track_open_calls`], or
//! [`crate::signals::record_interruptions`]): until then [`armed`] is `false` and an
//! enabled call pays one relaxed load for it; a disabled call never gets here. Once
//! armed, an enabled call moves its captured values into the registry when it starts
//! and takes them back when it ends ([`open`] / [`close`]): one uncontended lock of its
//! thread's shard each time. An end that skips the guards [`take_all`]s the calls
//! still open; a call whose guard runs later finds its entry gone and records
//! nothing, so no call is recorded twice.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::catalog::EventSpec;
use crate::clock::Tick;
use crate::pipeline::Captures;

static ARMED: AtomicBool = AtomicBool::new(false);

/// Shards of the registry: a thread uses the one of its number, so threads rarely share
/// a lock (and a call that ends on another thread, an `async` one, finds its entry by
/// its ticket).
const SHARDS: usize = 16;

/// One shard, alone on its cache lines.
#[repr(align(128))]
struct Shard(Mutex<Vec<OpenCall>>);

static OPEN: [Shard; SHARDS] = [const { Shard(Mutex::new(Vec::new())) }; SHARDS];

/// The next thread number (0: not numbered yet).
static NEXT_THREAD: AtomicU32 = AtomicU32::new(1);

thread_local! {
    /// This thread's number and the sequence number of its last call.
    static THREAD: Cell<(u32, u64)> = const { Cell::new((0, 0)) };
}

/// Whether running calls are kept: one relaxed load.
#[inline(always)]
pub(crate) fn armed() -> bool {
    ARMED.load(Ordering::Relaxed)
}

/// From now on, enabled calls are kept while they run.
pub(crate) fn arm() {
    ARMED.store(true, Ordering::Relaxed);
}

/// A running call's entry: the thread that started it and its number there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket {
    thread: u32,
    seq: u64,
}

/// What an interrupted call is recorded with.
#[derive(Debug)]
pub(crate) struct OpenCall {
    ticket: Ticket,
    pub(crate) spec: &'static EventSpec,
    pub(crate) start: Tick,
    pub(crate) captured: Captures,
}

impl OpenCall {
    /// Whether the call was started by the calling thread.
    pub(crate) fn started_here(&self) -> bool {
        current_thread() == Some(self.ticket.thread)
    }
}

fn shard(thread: u32) -> MutexGuard<'static, Vec<OpenCall>> {
    OPEN[thread as usize % SHARDS]
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// This thread's number, if it started a kept call.
fn current_thread() -> Option<u32> {
    THREAD
        .try_with(|t| t.get().0)
        .ok()
        .filter(|&thread| thread != 0)
}

/// Keeps a call that starts; [`close`] takes it back.
#[inline(never)]
pub(crate) fn open(spec: &'static EventSpec, start: Tick, captured: Captures) -> Ticket {
    let ticket = THREAD
        .try_with(|t| {
            let (mut thread, seq) = t.get();
            if thread == 0 {
                thread = NEXT_THREAD.fetch_add(1, Ordering::Relaxed).max(1);
            }
            t.set((thread, seq.wrapping_add(1)));
            Ticket {
                thread,
                seq: seq.wrapping_add(1),
            }
        })
        // A call made while this thread's locals are destroyed: a number of its own.
        .unwrap_or_else(|_| Ticket {
            thread: NEXT_THREAD.fetch_add(1, Ordering::Relaxed).max(1),
            seq: 0,
        });
    shard(ticket.thread).push(OpenCall {
        ticket,
        spec,
        start,
        captured,
    });
    ticket
}

/// The call of `ticket` ends: its entry, or `None` if an interruption took it (and
/// recorded it).
#[inline(never)]
pub(crate) fn close(ticket: Ticket) -> Option<OpenCall> {
    let mut calls = shard(ticket.thread);
    // Calls end in the reverse order they start, on one thread: the last entry.
    let at = calls.iter().rposition(|c| c.ticket == ticket)?;
    Some(calls.remove(at))
}

/// Takes every running call, oldest first per shard.
pub(crate) fn take_all() -> Vec<OpenCall> {
    OPEN.iter()
        .flat_map(|s| std::mem::take(&mut *s.0.lock().unwrap_or_else(PoisonError::into_inner)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    static SPEC: EventSpec = EventSpec::new("test.open", &[], &[], "open_calls::tests");

    #[test]
    fn an_entry_is_taken_back_once_by_its_call_or_by_take_all() {
        let a = open(&SPEC, crate::clock::now(), Captures::default());
        let b = open(&SPEC, crate::clock::now(), Captures::default());
        assert_ne!(a, b);
        assert!(close(b).is_some_and(|c| c.started_here()));
        assert!(close(b).is_none(), "closed once");
        let c = open(&SPEC, crate::clock::now(), Captures::default());
        let taken = take_all();
        assert!(taken.iter().any(|o| o.ticket == a) && taken.iter().any(|o| o.ticket == c));
        assert!(close(a).is_none() && close(c).is_none(), "taken by the interruption");
        // Another thread's call is not started here.
        let other = std::thread::spawn(|| open(&SPEC, crate::clock::now(), Captures::default()))
            .join()
            .unwrap();
        assert!(close(other).is_some_and(|c| !c.started_here()));
    }
}
