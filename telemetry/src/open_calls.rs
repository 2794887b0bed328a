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
use std::num::NonZeroU64;
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
static NEXT_THREAD: AtomicU32 = AtomicU32::new(0);

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

/// A running call's entry: the thread that started it (24 bits) and its number there
/// (40 bits), in one non-zero word, so that the guard's `Option<Ticket>` is one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket(NonZeroU64);

/// Bits of a ticket that number the call on its thread.
const SEQ_BITS: u32 = 40;

impl Ticket {
    fn new(thread: u32, seq: u64) -> Self {
        let thread = u64::from(thread) & ((1 << (64 - SEQ_BITS)) - 1);
        let word = thread << SEQ_BITS | (seq & ((1 << SEQ_BITS) - 1));
        // Threads are numbered from 1 (wrapping past 2^24 to 1 again, see `open`).
        Self(NonZeroU64::new(word).unwrap_or(NonZeroU64::MIN))
    }

    fn thread(self) -> u32 {
        (self.0.get() >> SEQ_BITS) as u32
    }
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
        current_thread() == Some(self.ticket.thread())
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

/// A new thread number, from 1 to 2^24 - 1 (then from 1 again: a thread that old and
/// one that new sharing a number would at worst take each other's entries only if
/// they also had a call of the same number running).
fn new_thread() -> u32 {
    let n = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
    n % ((1 << (64 - SEQ_BITS)) - 1) + 1
}

/// Keeps a call that starts (with a copy of its captured values); [`close`] removes it.
#[inline(never)]
pub(crate) fn open(spec: &'static EventSpec, start: Tick, captured: Captures) -> Ticket {
    let (thread, seq) = THREAD
        .try_with(|t| {
            let (mut thread, seq) = t.get();
            if thread == 0 {
                thread = new_thread();
            }
            t.set((thread, seq.wrapping_add(1)));
            (thread, seq.wrapping_add(1))
        })
        // A call made while this thread's locals are destroyed: a number of its own.
        .unwrap_or_else(|_| (new_thread(), 0));
    let ticket = Ticket::new(thread, seq);
    shard(ticket.thread()).push(OpenCall {
        ticket,
        spec,
        start,
        captured,
    });
    ticket
}

/// The call of `ticket` ends: removes its entry; `false` if an interruption took it
/// (and recorded the call).
#[inline(never)]
pub(crate) fn close(ticket: Ticket) -> bool {
    let mut calls = shard(ticket.thread());
    // Calls end in the reverse order they start, on one thread: the last entry.
    match calls.iter().rposition(|c| c.ticket == ticket) {
        Some(at) => {
            drop(calls.remove(at));
            true
        }
        None => false,
    }
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
    fn an_entry_is_closed_once_by_its_call_or_taken_by_take_all() {
        let open = || open(&SPEC, crate::clock::now(), Captures::default());
        let (a, b) = (open(), open());
        assert_ne!(a, b);
        assert!(close(b));
        assert!(!close(b), "closed once");
        let c = open();
        let taken = take_all();
        assert!(taken.iter().any(|o| o.ticket == a && o.started_here()));
        assert!(taken.iter().any(|o| o.ticket == c));
        assert!(!close(a) && !close(c), "taken by the interruption");
        // Another thread's call is not started here.
        let other = std::thread::spawn(open).join().unwrap();
        assert_ne!(other.thread(), a.thread());
        assert!(
            take_all()
                .iter()
                .any(|o| o.ticket == other && !o.started_here())
        );
    }

    #[test]
    fn tickets_pack_thread_and_number() {
        let t = Ticket::new(5, 7);
        assert_eq!((t.thread(), t.0.get() & ((1 << SEQ_BITS) - 1)), (5, 7));
        assert_ne!(Ticket::new(5, 8), t);
        assert_eq!(std::mem::size_of::<Option<Ticket>>(), 8);
    }
}
