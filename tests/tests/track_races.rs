//! Races between tracked calls on other threads and the calls that change where they
//! go: uninstalling a context, and withdrawing consent. Both must be exact — not "a
//! few events may still slip through" — because a context that was uninstalled, or
//! whose user said no, must not receive anything afterwards. The recording threads
//! run flat out so that, on this 2-core machine, some of them are preempted between
//! their checks and their push in almost every round. (A test file of its own: the
//! global context is process-wide.)
#![cfg(feature = "collect")]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use telemetry::sink::MemorySink;
use telemetry::{CollectionPolicy, TelemetryContext};

#[telemetry::track("race.call", capture(n))]
fn call(n: u64) -> u64 {
    n.wrapping_mul(3)
}

/// The global context is process-wide: one test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// A context that keeps what it accepts in its queue (a huge batch, a long linger),
/// so that `queued_events()` shows every push.
fn holding_context() -> TelemetryContext {
    TelemetryContext::builder()
        .tool(telemetry::tool!("racetool", "1"))
        .sink(MemorySink::new())
        .policy(CollectionPolicy::Enabled)
        .queue_capacity(1 << 22)
        .batch_size(1 << 22)
        .linger(Duration::from_secs(600))
        .deadline(Duration::from_millis(1))
        .build()
        .unwrap()
}

/// Runs `rounds` of `round` while two threads call the tracked function as fast as
/// they can; returns how many rounds found an event where none may be.
fn under_load(rounds: u32, mut round: impl FnMut() -> bool) -> u32 {
    let stop = Arc::new(AtomicBool::new(false));
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n = n.wrapping_add(call(n) | 1);
                }
            })
        })
        .collect();
    let violations = (0..rounds).filter(|_| round()).count();
    stop.store(true, Ordering::Relaxed);
    for caller in callers {
        caller.join().unwrap();
    }
    u32::try_from(violations).unwrap()
}

#[test]
fn nothing_lands_in_a_context_after_its_guard_uninstalled_it() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let ctx = holding_context();
    let violations = under_load(300, || {
        let guard = telemetry::init(ctx.clone());
        std::thread::sleep(Duration::from_micros(300));
        drop(guard);
        // What was recorded while it was installed is legitimately there: clear it.
        ctx.purge();
        std::thread::sleep(Duration::from_millis(1));
        let late = ctx.stats().queued > 0;
        ctx.purge();
        late
    });
    assert_eq!(
        violations, 0,
        "rounds with events pushed after the uninstall"
    );
}

#[test]
fn nothing_is_recorded_after_set_policy_disabled_returns() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let ctx = holding_context();
    let _guard = telemetry::init(ctx.clone());
    let violations = under_load(500, || {
        ctx.set_policy(CollectionPolicy::Enabled);
        std::thread::sleep(Duration::from_micros(200));
        ctx.set_policy(CollectionPolicy::Disabled);
        std::thread::sleep(Duration::from_millis(1));
        ctx.stats().queued > 0
    });
    assert_eq!(
        violations, 0,
        "rounds with events recorded after consent was withdrawn"
    );
}
