//! The call-site machinery of `#[track]`: the drop guard that records every call
//! exactly once, the outcome classification by type, captured values and the const
//! constructors of literal attributes. Only generated code uses these.

use super::Start;
use crate::catalog::EventSpec;
use crate::event::Outcome;
use crate::pipeline::Captures;
use crate::safe_value::SafeValue;
use crate::value::AttrValue;

pub use crate::__telemetry_register_event as register_event;
pub use crate::catalog::ANY_KIND;
#[cfg(telemetry_linkme)]
pub use crate::catalog::registry::EVENT_SPECS;
pub use core::option::Option::{self, None, Some};
pub use linkme;

/// The catalog kind of a `#[derive(SafeValue)]` enum.
pub const ENUM_KIND: &str = "string";

pub use crate::classify::ErrorCategory;
pub use crate::error_kind::{ErrorKind, type_name_of};

/// One captured value, ready to record (`None`: left out). Its key is in the site's
/// [`EventSpec`], at the same position.
pub type Captured = Option<AttrValue>;

/// A call whose captured values are read but whose clock has not started: the sync part
/// of a function returning an `async` block. Holds nothing when telemetry is off.
///
/// `N` is the number of `capture(..)` values of the site: a site without any carries
/// none around.
#[derive(Debug)]
#[must_use]
pub struct PendingCall<const N: usize> {
    prepared: Option<(&'static EventSpec, [Captured; N])>,
}

impl<const N: usize> PendingCall<N> {
    /// The call of a disabled site: nothing to record.
    #[inline(always)]
    pub const fn disabled() -> Self {
        Self { prepared: None }
    }

    /// The call of an enabled site, with the values read. Generated code reads them in
    /// its own `if enabled()` branch, so the disabled path never touches the captured
    /// parameters.
    #[inline]
    pub fn prepare_enabled(spec: &'static EventSpec, captured: [Captured; N]) -> Self {
        Self {
            prepared: Some((spec, captured)),
        }
    }

    /// Starts the clock (when prepared): the first poll of the future.
    #[inline]
    pub fn start(self) -> CallGuard<N> {
        CallGuard {
            active: self
                .prepared
                .map(|(spec, captured)| Active::start(spec, captured)),
        }
    }
}

/// Records one tracked call of an `async` shape or a `-> !` function: with the
/// classified outcome by [`CallGuard::finish`], or, when dropped unfinished, as `panic`
/// (while unwinding) or `cancelled` (a future dropped before it completed). Holds
/// nothing, and records nothing, when telemetry is off. (Plain functions go through
/// [`run_enabled`].)
///
/// Generic over `N` only, like everything it calls out of line: that code is compiled
/// once per number of captured values, not once per tracked function.
#[derive(Debug)]
#[must_use]
pub struct CallGuard<const N: usize> {
    active: Option<Active<N>>,
}

/// A call being timed.
#[derive(Debug)]
struct Active<const N: usize> {
    spec: &'static EventSpec,
    captured: [Captured; N],
    start: Start,
    /// The call's entry in the registry of running calls (`open_calls`), once the tool
    /// asked for calls cut short by a signal or an exit to be recorded.
    open: Option<crate::open_calls::Ticket>,
}

impl<const N: usize> Active<N> {
    /// Starts the clock and, where running calls are kept, registers the call. Out of
    /// line: the clock's code is in one copy per `N`, not in every site.
    #[inline(never)]
    fn start(spec: &'static EventSpec, captured: [Captured; N]) -> Self {
        let start = Start::now();
        let open = if crate::open_calls::armed() {
            Some(Self::open(spec, start, &captured))
        } else {
            None
        };
        Self {
            spec,
            captured,
            start,
            open,
        }
    }

    #[cold]
    #[inline(never)]
    fn open(
        spec: &'static EventSpec,
        start: Start,
        captured: &[Captured; N],
    ) -> crate::open_calls::Ticket {
        let captured = Captures::from_values(captured.clone());
        crate::open_calls::open(spec, start.tick(), captured)
    }

    /// Out of line: the one copy of the queue path for every site with `N` captured
    /// values.
    #[inline(never)]
    fn record(self, outcome: Outcome, error_kind: Option<ErrorKind>) {
        if let Some(ticket) = self.open
            && !crate::open_calls::close(ticket)
        {
            // Recorded as interrupted already.
            return;
        }
        // Kept inline in the queued record too: no allocation for up to two values.
        let captured = Captures::from_values(self.captured);
        crate::global::record_call(self.spec, self.start.tick(), outcome, error_kind, captured);
    }

    /// [`Active::record`] for a call that stays where it is, [`Running`]'s: its values
    /// are taken out (left `None`) whatever happens, so it owns nothing afterwards.
    #[inline(always)]
    fn record_in_place(&mut self, outcome: Outcome, error_kind: Option<ErrorKind>) {
        let captured = Captures::take_from(&mut self.captured);
        if let Some(ticket) = self.open
            && !crate::open_calls::close(ticket)
        {
            // Recorded as interrupted already.
            return;
        }
        crate::global::record_call(self.spec, self.start.tick(), outcome, error_kind, captured);
    }

    #[cold]
    #[inline(never)]
    fn record_unfinished(self) {
        let outcome = if std::thread::panicking() {
            Outcome::Panic
        } else {
            Outcome::Cancelled
        };
        self.record(outcome, None);
    }
}

impl<const N: usize> CallGuard<N> {
    /// The guard of a disabled site: holds and records nothing.
    #[inline(always)]
    pub const fn disabled() -> Self {
        Self { active: None }
    }

    /// The guard of an enabled site, with the values read: starts the clock. Generated
    /// code reads the values in its own `if enabled()` branch (see
    /// [`PendingCall::prepare_enabled`]).
    #[inline]
    pub fn enter_enabled(spec: &'static EventSpec, captured: [Captured; N]) -> Self {
        Self {
            active: Some(Active::start(spec, captured)),
        }
    }

    /// Records the call with the outcome `classify` gives (only called when enabled).
    /// The guard stays armed while `classify` runs: a classifier that panics makes the
    /// call a `panic`, as in [`run_enabled`].
    #[inline]
    pub fn finish(mut self, classify: impl FnOnce() -> (Outcome, Option<ErrorKind>)) {
        if self.active.is_some() {
            let (outcome, error_kind) = classify();
            if let Some(active) = self.active.take() {
                active.record(outcome, error_kind);
            }
        }
    }
}

impl<const N: usize> Drop for CallGuard<N> {
    /// Moves the call out and hands it to a cold function. (Across an `.await` the guard
    /// lives in the future; passing its address instead, as [`Running`] does, cost
    /// more code at every `async` site than it saved.)
    #[inline]
    fn drop(&mut self) {
        if let Some(active) = self.active.take() {
            active.record_unfinished();
        }
    }
}

/// [`run_enabled`]'s guard: records `panic` if the body (or the classification)
/// unwinds. Its ends are out of line (once per `N`) and read the call where it is, by
/// address: a site's copy of `run_enabled` neither moves the call's state (`N`
/// captured values) around nor holds more than a call on its unwinding path, and the
/// enabled path copies the values once, into the queued record.
struct Running<const N: usize>(Active<N>);

impl<const N: usize> Running<N> {
    /// Records the call that returned.
    #[inline(never)]
    fn finish(self, outcome: Outcome, error_kind: Option<ErrorKind>) {
        // Not dropped: its `Drop` records a call that unwound. `record_in_place` takes
        // the values out, so nothing it owns is left to leak.
        let mut this = core::mem::ManuallyDrop::new(self);
        this.0.record_in_place(outcome, error_kind);
    }

    /// The body or the classification panicked.
    #[cold]
    #[inline(never)]
    fn unwound(&mut self) {
        self.0.record_in_place(Outcome::Panic, None);
    }
}

impl<const N: usize> Drop for Running<N> {
    /// Reached only while unwinding: [`Running::finish`] consumes the call otherwise.
    #[inline]
    fn drop(&mut self) {
        self.unwound();
    }
}

/// Fixes the kind of a tracked function's body closure to `FnOnce` (the kind the
/// expected type gives a closure), so the body may move out of (or return borrows of)
/// what it captured, exactly as the function could. The closure is then called in one
/// of two places: directly when telemetry is off, or by [`run_enabled`].
#[inline(always)]
pub fn body_once<R, F: FnOnce() -> R>(body: F) -> F {
    body
}

/// Runs one call of an enabled site: starts the clock, runs the body, classifies the
/// value with `classify` (written at the call site, where the value's type is known)
/// and records it. A panicking body, or classifier, is recorded as `panic` by the
/// guard's `Drop`.
///
/// Out of line, so that the tracked function itself holds only the disabled path. It is
/// compiled once per site (it is generic over the body), so it holds only what must be
/// per site: the body (or a call to it), the classification, and calls into the code
/// every site with `N` captured values shares (start, finish, and unwinding).
#[inline(never)]
pub fn run_enabled<R, const N: usize>(
    spec: &'static EventSpec,
    captured: [Captured; N],
    body: impl FnOnce() -> R,
    classify: impl FnOnce(&R) -> (Outcome, Option<ErrorKind>),
) -> R {
    let running = Running(Active::start(spec, captured));
    let ret = body();
    let (outcome, error_kind) = classify(&ret);
    running.finish(outcome, error_kind);
    ret
}

/// Runs the body closure. Taking `FnOnce` makes the closure `FnOnce`, so the body may
/// move out of (or return borrows of) what it captured, exactly as the function could.
#[inline(always)]
pub fn call_once<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// The body of a tracked `async fn`, with its output type given (`async_body::<T, _>`):
/// the expected `Future<Output = T>` fixes the `async` block's type before its body is
/// checked, as a declared return type would.
#[inline(always)]
pub fn async_body<T, F: core::future::Future<Output = T>>(body: F) -> F {
    body
}

// ---- outcome classification (autoref specialization) ---------------------------------

/// A return value being classified: `(&&Classify(&value)).__telemetry_outcome()` picks
/// (by method resolution: the receiver as it is, then borrowed once more, then
/// dereferenced) [`ClassifyKnown`] when the value is a `Result` whose error this crate knows how to
/// classify (`io::Error`; `anyhow::Error`, `eyre::Report` with their features),
/// [`ClassifyResult`] for any other `Result` (whatever alias spells it) and
/// [`ClassifyOther`] otherwise.
#[derive(Debug)]
pub struct Classify<'a, T: ?Sized>(pub &'a T);

/// A `Result` whose error has a built-in classification: `ok`, or `error` with its
/// kind (see [`crate::classify`]).
pub trait ClassifyKnown {
    /// The outcome and, for an error, its kind.
    fn __telemetry_outcome(&self) -> (Outcome, Option<ErrorKind>);
}

impl<T> ClassifyKnown for &Classify<'_, Result<T, std::io::Error>> {
    #[inline]
    fn __telemetry_outcome(&self) -> (Outcome, Option<ErrorKind>) {
        match self.0 {
            Ok(_) => (Outcome::Ok, None),
            Err(e) => (Outcome::Error, io_kind(e)),
        }
    }
}

/// The error-chain classifications (`anyhow`, `eyre`): one impl per error type, the
/// same body.
macro_rules! chain_classified {
    ($($feature:literal => $error:ty, $classify:path;)*) => {$(
        #[cfg(feature = $feature)]
        impl<T> ClassifyKnown for &Classify<'_, Result<T, $error>> {
            #[inline]
            fn __telemetry_outcome(&self) -> (Outcome, Option<ErrorKind>) {
                match self.0 {
                    Ok(_) => (Outcome::Ok, None),
                    Err(e) => (Outcome::Error, chain_kind::<$error>($classify(e))),
                }
            }
        }
    )*};
}

chain_classified! {
    "anyhow" => anyhow::Error, crate::classify::anyhow;
    "eyre" => eyre::Report, crate::classify::eyre;
}

#[cold]
fn io_kind(error: &std::io::Error) -> Option<ErrorKind> {
    crate::classify::io(error).error_kind()
}

/// The io kind found in the chain, or the type name of `E`.
#[cfg(any(feature = "anyhow", feature = "eyre"))]
#[cold]
fn chain_kind<E>(found: Option<crate::classify::IoErrorKind>) -> Option<ErrorKind> {
    found
        .and_then(|kind| kind.error_kind())
        .or(Some(type_name_of::<E>))
}

/// The `Result` case: `ok`, or `error` with the error type's name.
pub trait ClassifyResult {
    /// The outcome and, for an error, `type_name` of the error type.
    fn __telemetry_outcome(&self) -> (Outcome, Option<ErrorKind>);
}

impl<T, E> ClassifyResult for &&Classify<'_, Result<T, E>> {
    #[inline]
    fn __telemetry_outcome(&self) -> (Outcome, Option<ErrorKind>) {
        match self.0 {
            Ok(_) => (Outcome::Ok, None),
            Err(_) => (Outcome::Error, Some(type_name_of::<E>)),
        }
    }
}

/// Any other return type: `ok`.
pub trait ClassifyOther {
    /// Always `ok`.
    fn __telemetry_outcome(&self) -> (Outcome, Option<ErrorKind>);
}

impl<T: ?Sized> ClassifyOther for Classify<'_, T> {
    #[inline]
    fn __telemetry_outcome(&self) -> (Outcome, Option<ErrorKind>) {
        (Outcome::Ok, None)
    }
}

// ---- `error = classify` ---------------------------------------------------------------

/// A return type `error = ..` can classify: a `Result` whose error type is `E`. (The
/// error type is a parameter, not an associated type: a return type that is not a
/// `Result` is then one unmet bound, reported once.)
#[diagnostic::on_unimplemented(
    message = "`error = ..` classifies the error of a returned `Result`, and `{Self}` is not a `Result`",
    label = "this function does not return a `Result`",
    note = "remove `error = ..`, or return a `Result` (any alias of one, such as `anyhow::Result`)"
)]
pub trait TrackedResult<E: ?Sized> {
    /// The error, when the call failed.
    fn error(&self) -> Option<&E>;
}

impl<T, E> TrackedResult<E> for Result<T, E> {
    #[inline]
    fn error(&self) -> Option<&E> {
        self.as_ref().err()
    }
}

/// The returned value, as it is (generated code passes it through this call so that
/// an error about it is reported at `error = ..`).
#[inline(always)]
pub fn returned<R: ?Sized>(ret: &R) -> &R {
    ret
}

/// The error of a returned value, for the classifier.
#[inline]
pub fn error_of<R: TrackedResult<E>, E: ?Sized>(ret: &R) -> Option<&E> {
    ret.error()
}

/// Calls the classifier on the error: a function of the wrong argument type is
/// reported here, at the user's path.
#[inline]
pub fn call_classifier<E: ?Sized, C, F: FnOnce(&E) -> C>(error: &E, classify: F) -> C {
    classify(error)
}

/// The outcome of a call whose error was classified (`None`: returned `Ok`).
#[inline]
pub fn classified(kind: Option<Option<ErrorKind>>) -> (Outcome, Option<ErrorKind>) {
    match kind {
        None => (Outcome::Ok, None),
        Some(kind) => (Outcome::Error, kind),
    }
}

/// The error kinds a classifier can report, for the catalog `static`: the values of
/// its return type. Its `ErrorCategory` bound is the compile-time check of the
/// classifier (`error = classify`).
pub const fn error_kinds<E: ?Sized, C: ErrorCategory, F: Fn(&E) -> C>(
    _classify: &F,
) -> &'static [&'static str] {
    <C as SafeValue>::VALUES
}

/// A classifier's value whose type was already checked by the catalog `static`:
/// `(&Category(&value)).__telemetry_error_kind()` never raises a second error.
#[derive(Debug)]
pub struct Category<'a, C>(pub &'a C);

/// The checked case.
pub trait CategoryKnown {
    /// The kind to send.
    fn __telemetry_error_kind(&self) -> Option<ErrorKind>;
}

impl<C: ErrorCategory> CategoryKnown for Category<'_, C> {
    #[inline]
    fn __telemetry_error_kind(&self) -> Option<ErrorKind> {
        self.0.error_kind()
    }
}

/// Reached only when the crate does not compile anyway (the `static` reported the
/// missing `ErrorCategory`): sends nothing.
pub trait CategoryFallback {
    /// Nothing.
    fn __telemetry_error_kind(&self) -> Option<ErrorKind>;
}

impl<C> CategoryFallback for &Category<'_, C> {
    #[inline]
    fn __telemetry_error_kind(&self) -> Option<ErrorKind> {
        None
    }
}

// ---- captured values -----------------------------------------------------------------

/// Reads a captured parameter; the `SafeValue` bound is the compile-time privacy check
/// (used for generic parameter types).
#[inline]
pub fn capture<T: SafeValue + ?Sized>(value: &T) -> Captured {
    value.to_attr_value()
}

/// A captured parameter whose type was already checked by the catalog `static`:
/// `(&Capture(&value)).__telemetry_capture()` never raises a second error.
#[derive(Debug)]
pub struct Capture<'a, T: ?Sized>(pub &'a T);

/// The checked case.
pub trait CaptureSafe {
    /// The value, when its type is `SafeValue`.
    fn __telemetry_capture(&self) -> Captured;
}

impl<T: SafeValue + ?Sized> CaptureSafe for Capture<'_, T> {
    #[inline]
    fn __telemetry_capture(&self) -> Captured {
        capture(self.0)
    }
}

/// Reached only when the crate does not compile anyway (the `static` reported the
/// missing `SafeValue`): sends nothing.
pub trait CaptureFallback {
    /// Nothing.
    fn __telemetry_capture(&self) -> Captured;
}

impl<T: ?Sized> CaptureFallback for &Capture<'_, T> {
    #[inline]
    fn __telemetry_capture(&self) -> Captured {
        None
    }
}

// ---- literal attributes --------------------------------------------------------------

/// A string literal attribute.
pub const fn lit_str(value: &'static str) -> AttrValue {
    AttrValue::literal(value)
}

/// An integer literal attribute that fits `i64`, from its sign and magnitude (so that
/// `i64::MIN` needs no overflowing literal).
pub const fn lit_int(negative: bool, magnitude: u64) -> AttrValue {
    let value = magnitude as i64;
    AttrValue::Int(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// A positive integer literal attribute above `i64::MAX`.
pub const fn lit_uint(value: u64) -> AttrValue {
    AttrValue::UInt(value)
}

/// A float literal attribute from its sign and magnitude.
pub const fn lit_float(negative: bool, magnitude: f64) -> AttrValue {
    AttrValue::Float(if negative { -magnitude } else { magnitude })
}

/// A bool literal attribute.
pub const fn lit_bool(value: bool) -> AttrValue {
    AttrValue::Bool(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The borrow is what generated code writes: it puts `ClassifyOther` one autoref
    // step behind `ClassifyResult`.
    #[allow(clippy::needless_borrow)]
    #[test]
    fn classification_follows_the_type() {
        use super::{ClassifyKnown as _, ClassifyOther as _, ClassifyResult as _};
        type Alias<T> = std::io::Result<T>;
        #[derive(Debug)]
        struct BuildError;
        let ok: Alias<u8> = Ok(1);
        let io: Alias<u8> = Err(std::io::Error::other("secret message"));
        let not_found: Alias<u8> = Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "/home/alice/secret.txt",
        ));
        let other: Result<u8, BuildError> = Err(BuildError);
        let named =
            |(outcome, kind): (Outcome, Option<ErrorKind>)| (outcome, kind.map(|f| f().to_wire()));
        let wire = |s: &str| Some(s.to_owned());
        assert_eq!(
            named((&&Classify(&ok)).__telemetry_outcome()),
            (Outcome::Ok, None)
        );
        assert_eq!(
            named((&&Classify(&io)).__telemetry_outcome()),
            (Outcome::Error, wire("other"))
        );
        assert_eq!(
            named((&&Classify(&not_found)).__telemetry_outcome()),
            (Outcome::Error, wire("not_found"))
        );
        assert_eq!(
            named((&&Classify(&other)).__telemetry_outcome()),
            (Outcome::Error, wire(std::any::type_name::<BuildError>()))
        );
        assert_eq!(
            named((&&Classify(&Some(3))).__telemetry_outcome()),
            (Outcome::Ok, None)
        );
    }

    #[test]
    fn literal_constructors_keep_extremes() {
        assert_eq!(
            lit_int(true, i64::MIN.unsigned_abs()),
            AttrValue::Int(i64::MIN)
        );
        assert_eq!(lit_int(true, 4), AttrValue::Int(-4));
        assert_eq!(lit_int(false, 0), AttrValue::Int(0));
        assert_eq!(lit_float(true, 0.5), AttrValue::Float(-0.5));
    }
}
