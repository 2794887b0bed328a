//! The library's own way to run a future to completion on the current thread, and a
//! list of wakers for futures that wait on a condition guarded by a mutex.
//!
//! Sinks are `async` so that a sink can be written with async code, but the library
//! calls them only from its own threads (the worker, the sender), one call at a time.
//! Running such a call needs no reactor and no timer wheel: the built-in network sinks
//! run each blocking request on a thread of its own ([`on_own_thread`]) and await its
//! end, and the waits the pipeline needs (a server's pause, a purge) are plain thread
//! parking. So no async runtime is linked: parking the
//! thread until the future's waker unparks it is the whole executor.
//!
//! A custom sink that needs a runtime's reactor (a tokio-based client, say) keeps one of
//! its own and blocks on it inside `emit_batch`; the sink docs show how.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::Instant;

/// Wakes a parked thread, and remembers that it did: a wake must not be lost when
/// something inside the poll (a channel's `recv`, `std::thread::scope`) parks the thread
/// itself and consumes the unpark token.
struct Signal {
    thread: Thread,
    woken: AtomicBool,
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

/// Runs `future` to completion on this thread.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let never_gives_up = |signal: &Signal| -> Result<(), std::convert::Infallible> {
        while !signal.woken.swap(false, Ordering::Acquire) {
            std::thread::park();
        }
        Ok(())
    };
    match drive(future, never_gives_up) {
        Ok(output) => output,
        Err(never) => match never {},
    }
}

/// Runs `future` until it completes or `deadline` passes (then `None`; the future is
/// dropped, which cancels it). A deadline already past still polls once.
pub(crate) fn block_on_until<F: Future>(future: F, deadline: Instant) -> Option<F::Output> {
    let until_deadline = |signal: &Signal| {
        while !signal.woken.swap(false, Ordering::Acquire) {
            let now = Instant::now();
            if now >= deadline {
                return Err(());
            }
            std::thread::park_timeout(deadline - now);
        }
        Ok(())
    };
    drive(future, until_deadline).ok()
}

/// Polls `future` on this thread; between polls, `wait` parks until a wake since the
/// poll began (a spurious return of `park` waits again, a wake during the poll is seen
/// at once), or gives up with its error.
fn drive<F: Future, E>(
    future: F,
    mut wait: impl FnMut(&Signal) -> Result<(), E>,
) -> Result<F::Output, E> {
    let mut future = pin!(future);
    let signal = thread_signal();
    let waker = Waker::from(Arc::clone(&signal));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Ok(output);
        }
        wait(&signal)?;
    }
}

/// This thread's signal: one per thread, so that a waiter registered by one call is the
/// same waker in the next ([`Wakers::register`] then keeps one entry, not one per call).
fn thread_signal() -> Arc<Signal> {
    fn fresh() -> Arc<Signal> {
        Arc::new(Signal {
            thread: std::thread::current(),
            woken: AtomicBool::new(false),
        })
    }
    thread_local! {
        static SIGNAL: Arc<Signal> = fresh();
    }
    // During the thread's own teardown the cached one is gone: make a fresh one.
    SIGNAL.try_with(Arc::clone).unwrap_or_else(|_| fresh())
}

/// Runs `work` on a thread of its own and resolves to its result (`None`: the thread
/// could not be started, or `work` panicked). Dropping the future leaves the thread to
/// finish alone, its result discarded: a blocking call (a request waiting for its
/// timeout) can then be abandoned by whoever awaits it, as a purge does.
#[cfg(any(feature = "http", feature = "otlp", feature = "posthog"))]
pub(crate) fn on_own_thread<T: Send + 'static>(
    name: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> impl Future<Output = Option<T>> {
    use std::sync::{Mutex, PoisonError};

    struct Slot<T> {
        result: Option<Option<T>>,
        waker: Option<Waker>,
    }
    let slot = Arc::new(Mutex::new(Slot {
        result: None,
        waker: None,
    }));
    let filled = Arc::clone(&slot);
    let spawned = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).ok();
            let mut slot = filled.lock().unwrap_or_else(PoisonError::into_inner);
            slot.result = Some(result);
            let waker = slot.waker.take();
            drop(slot);
            if let Some(waker) = waker {
                waker.wake();
            }
        })
        .is_ok();
    std::future::poll_fn(move |cx| {
        if !spawned {
            return Poll::Ready(None);
        }
        let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    })
}

/// Wakers of futures waiting for something a mutex guards (a flush to complete). Kept
/// inside that mutex's state: a waiter registers under the same lock under which it
/// found the condition false, and the notifier takes the list under the lock in which
/// it made the condition true, so no wake-up is lost.
#[derive(Default)]
pub(crate) struct Wakers(Vec<Waker>);

impl Wakers {
    /// Registers `waker` (once: a future polled again with the same waker is not
    /// added twice).
    pub(crate) fn register(&mut self, waker: &Waker) {
        if !self.0.iter().any(|w| w.will_wake(waker)) {
            self.0.push(waker.clone());
        }
    }

    /// Takes every registered waker, to wake after the lock is released. A waker of a
    /// future dropped in the meantime is woken once for nothing, then forgotten.
    pub(crate) fn take(&mut self) -> Vec<Waker> {
        std::mem::take(&mut self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    #[test]
    fn runs_a_ready_future_and_one_woken_from_another_thread() {
        assert_eq!(block_on(async { 7 }), 7);

        let state = Arc::new(Mutex::new((false, Wakers::default())));
        let setter = Arc::clone(&state);
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            let mut st = setter.lock().unwrap();
            st.0 = true;
            let wakers = st.1.take();
            drop(st);
            wakers.into_iter().for_each(Waker::wake);
        });
        let done = block_on(std::future::poll_fn(|cx| {
            let mut st = state.lock().unwrap();
            if st.0 {
                return Poll::Ready(true);
            }
            st.1.register(cx.waker());
            Poll::Pending
        }));
        assert!(done);
        thread.join().unwrap();
    }

    /// A poll that parks the thread itself (here: waiting on a channel) while the wake
    /// arrives consumes the unpark token; the wake must still be seen.
    #[test]
    fn a_wake_during_a_poll_that_parks_is_not_lost() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let mut polled = false;
        let start = Instant::now();
        let out = block_on_until(
            std::future::poll_fn(|cx| {
                if polled {
                    return Poll::Ready(7);
                }
                polled = true;
                let waker = cx.waker().clone();
                let tx = tx.clone();
                std::thread::spawn(move || {
                    waker.wake();
                    let _ = tx.send(());
                });
                // Parks this thread until the other one has woken us and sent.
                let _ = rx.recv();
                Poll::Pending
            }),
            start + Duration::from_secs(30),
        );
        assert_eq!(
            out,
            Some(7),
            "the wake was lost: the deadline ended the wait"
        );
    }

    #[test]
    fn a_deadline_ends_a_future_that_never_completes() {
        let start = Instant::now();
        let out = block_on_until(
            std::future::pending::<()>(),
            start + Duration::from_millis(30),
        );
        assert_eq!(out, None);
        assert!(start.elapsed() >= Duration::from_millis(30));
        // A past deadline still polls once.
        assert_eq!(block_on_until(async { 1 }, start), Some(1));
    }

    #[cfg(any(feature = "http", feature = "otlp", feature = "posthog"))]
    #[test]
    fn work_on_its_own_thread_is_awaited_or_abandoned() {
        assert_eq!(block_on(on_own_thread("t", || 5)), Some(5));
        // A panic in the work is a `None`, not a panic here.
        let panicked = block_on(on_own_thread("t", || -> u8 { panic!("boom") }));
        assert_eq!(panicked, None);
        // Abandoned: the caller is back at its deadline while the work still blocks
        // (until this test lets it go).
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        let stuck = on_own_thread("t", move || blocked.recv().is_ok());
        let deadline = Instant::now() + Duration::from_millis(20);
        assert_eq!(block_on_until(stuck, deadline), None);
        release.send(()).unwrap();
    }

    #[test]
    fn a_threads_waker_is_registered_once_however_many_calls_register_it() {
        let waker = || Waker::from(thread_signal());
        let mut wakers = Wakers::default();
        wakers.register(&waker());
        wakers.register(&waker());
        assert_eq!(wakers.take().len(), 1);
        assert!(wakers.take().is_empty());
    }
}
