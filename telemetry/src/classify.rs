//! Error classification: what a tracked call that returned `Err` reports as its
//! `error_kind`.
//!
//! By default `error_kind` is the error *type*'s name (`my_tool::BuildError`), except
//! for the errors this module recognises, whose kind it reads instead:
//!
//! * a [`std::io::Error`]: its [`ErrorKind`](std::io::ErrorKind), as an [`IoErrorKind`]
//!   (`not_found`, `permission_denied` ..);
//! * an [`anyhow::Error`] (feature `anyhow`) or an [`eyre::Report`] (feature `eyre`)
//!   whose chain of causes holds an `io::Error`: that error's kind (otherwise the type
//!   name, `anyhow::Error`).
//!
//! A tool whose errors say more than their type (every `anyhow` tool) classifies them
//! itself: `#[track("cmd.build", error = classify)]`, where `classify` is a function
//! `fn(&E) -> C` and `C` an [`ErrorCategory`] — a fieldless enum with
//! `#[derive(SafeValue)]`, or an `Option` of one (`None` leaves `error_kind` out).
//! `telemetry schema` then lists the enum's values as the event's `error_kinds`.
//!
//! Only a word of a list fixed in the source is ever sent: the error's message, its
//! `Display` or `Debug` text and anything derived from them are never read (no error is
//! formatted; causes are found by downcasting).
//!
//! ```
//! use telemetry::SafeValue;
//!
//! #[derive(SafeValue, Clone, Copy)]
//! enum BuildFailure { Io, Config, Compile }
//!
//! fn classify(error: &anyhow::Error) -> BuildFailure {
//!     if telemetry::classify::io_in_chain(error.as_ref()).is_some() {
//!         BuildFailure::Io
//!     } else if error.is::<std::num::ParseIntError>() {
//!         BuildFailure::Config
//!     } else {
//!         BuildFailure::Compile
//!     }
//! }
//!
//! #[telemetry::track("docs.classify_anyhow", error = classify)]
//! fn build(jobs: &str) -> anyhow::Result<u16> {
//!     Ok(jobs.parse::<u16>()?)
//! }
//! # assert!(build("x").is_err());
//! ```

use std::error::Error;
use std::io;

use crate::error_kind::ErrorKind;
use crate::safe_value::SafeValue;

/// A type whose values can be an event's `error_kind`: a closed list of words written
/// in the source. `#[derive(SafeValue)]` implements it for every fieldless enum (the
/// `error_kind` is then the variant's value, as for a capture); `Option<C>` sends
/// `C`'s or leaves `error_kind` out. Sealed, like [`SafeValue`].
///
/// The return type of a classifier (`#[track(.., error = classify)]`):
///
/// ```
/// #[derive(telemetry::SafeValue)]
/// enum Failure { Network, Disk }
///
/// fn classify(error: &std::io::Error) -> Failure {
///     match error.kind() {
///         std::io::ErrorKind::TimedOut | std::io::ErrorKind::ConnectionRefused => Failure::Network,
///         _ => Failure::Disk,
///     }
/// }
///
/// #[telemetry::track("docs.classify_fetch", error = classify)]
/// fn fetch() -> std::io::Result<()> {
///     Ok(())
/// }
/// # fetch().unwrap();
/// ```
///
/// Text is not an error kind, whatever it was made from:
///
/// ```compile_fail
/// fn classify(error: &std::io::Error) -> String {
///     error.to_string()
/// }
///
/// #[telemetry::track("docs.classify_fetch", error = classify)]
/// fn fetch() -> std::io::Result<()> {
///     Ok(())
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an error kind: an error is reported as one word of a list fixed in the source",
    label = "this classifier returns `{Self}`, which does not implement `telemetry::ErrorCategory`",
    note = "`error = classify` takes a function `fn(&E) -> C` where `C` is a fieldless enum with `#[derive(telemetry::SafeValue)]`, or an `Option` of one (`None` leaves `error_kind` out)",
    note = "an error's message, or a string or number made from it, can carry paths, user names and secrets: match on the error and return a variant instead"
)]
pub trait ErrorCategory: SafeValue + sealed::ErrorCategorySealed {
    /// The kind to send, as the function the worker calls; `None` leaves `error_kind`
    /// out of the event.
    #[doc(hidden)]
    fn error_kind(&self) -> Option<ErrorKind>;
}

pub(crate) mod sealed {
    /// Keeps [`ErrorCategory`](super::ErrorCategory) sealed: `#[derive(SafeValue)]`
    /// implements it (as `telemetry::__private::ErrorCategorySealed`) for fieldless
    /// enums. Implementing it by hand is outside the crate's promise.
    #[diagnostic::on_unimplemented(
        message = "`ErrorCategory` cannot be implemented by hand for `{Self}`: derive `SafeValue` on a fieldless enum",
        label = "`{Self}` is not a fieldless enum with `#[derive(SafeValue)]`"
    )]
    pub trait ErrorCategorySealed {}
}

impl<C: ErrorCategory> sealed::ErrorCategorySealed for Option<C> {}
impl<C: ErrorCategory> ErrorCategory for Option<C> {
    fn error_kind(&self) -> Option<ErrorKind> {
        self.as_ref().and_then(C::error_kind)
    }
}

impl<C: ErrorCategory + ?Sized> sealed::ErrorCategorySealed for &C {}
impl<C: ErrorCategory + ?Sized> ErrorCategory for &C {
    fn error_kind(&self) -> Option<ErrorKind> {
        (**self).error_kind()
    }
}

/// The kind of an [`io::Error`], as `error_kind` reports it: the
/// [`std::io::ErrorKind`] variant in snake_case (`NotFound` → `not_found`), and
/// `uncategorized` for a kind this list does not have (kinds that are unstable or added
/// by a later Rust). A `SafeValue` and an [`ErrorCategory`]: a tool can capture it or
/// return it from its own classifier.
///
/// ```
/// use telemetry::classify::IoErrorKind;
///
/// let error = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
/// assert_eq!(IoErrorKind::from(error.kind()), IoErrorKind::PermissionDenied);
/// assert_eq!(IoErrorKind::PermissionDenied.as_str(), "permission_denied");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, telemetry_macros::SafeValue)]
#[safe_value(crate = crate)]
#[non_exhaustive]
pub enum IoErrorKind {
    /// [`io::ErrorKind::NotFound`].
    NotFound,
    /// [`io::ErrorKind::PermissionDenied`].
    PermissionDenied,
    /// [`io::ErrorKind::ConnectionRefused`].
    ConnectionRefused,
    /// [`io::ErrorKind::ConnectionReset`].
    ConnectionReset,
    /// [`io::ErrorKind::HostUnreachable`].
    HostUnreachable,
    /// [`io::ErrorKind::NetworkUnreachable`].
    NetworkUnreachable,
    /// [`io::ErrorKind::ConnectionAborted`].
    ConnectionAborted,
    /// [`io::ErrorKind::NotConnected`].
    NotConnected,
    /// [`io::ErrorKind::AddrInUse`].
    AddrInUse,
    /// [`io::ErrorKind::AddrNotAvailable`].
    AddrNotAvailable,
    /// [`io::ErrorKind::NetworkDown`].
    NetworkDown,
    /// [`io::ErrorKind::BrokenPipe`].
    BrokenPipe,
    /// [`io::ErrorKind::AlreadyExists`].
    AlreadyExists,
    /// [`io::ErrorKind::WouldBlock`].
    WouldBlock,
    /// [`io::ErrorKind::NotADirectory`].
    NotADirectory,
    /// [`io::ErrorKind::IsADirectory`].
    IsADirectory,
    /// [`io::ErrorKind::DirectoryNotEmpty`].
    DirectoryNotEmpty,
    /// [`io::ErrorKind::ReadOnlyFilesystem`].
    ReadOnlyFilesystem,
    /// [`io::ErrorKind::StaleNetworkFileHandle`].
    StaleNetworkFileHandle,
    /// [`io::ErrorKind::InvalidInput`].
    InvalidInput,
    /// [`io::ErrorKind::InvalidData`].
    InvalidData,
    /// [`io::ErrorKind::TimedOut`].
    TimedOut,
    /// [`io::ErrorKind::WriteZero`].
    WriteZero,
    /// [`io::ErrorKind::StorageFull`].
    StorageFull,
    /// [`io::ErrorKind::NotSeekable`].
    NotSeekable,
    /// [`io::ErrorKind::QuotaExceeded`].
    QuotaExceeded,
    /// [`io::ErrorKind::FileTooLarge`].
    FileTooLarge,
    /// [`io::ErrorKind::ResourceBusy`].
    ResourceBusy,
    /// [`io::ErrorKind::ExecutableFileBusy`].
    ExecutableFileBusy,
    /// [`io::ErrorKind::Deadlock`].
    Deadlock,
    /// [`io::ErrorKind::CrossesDevices`].
    CrossesDevices,
    /// [`io::ErrorKind::TooManyLinks`].
    TooManyLinks,
    /// [`io::ErrorKind::InvalidFilename`].
    InvalidFilename,
    /// [`io::ErrorKind::ArgumentListTooLong`].
    ArgumentListTooLong,
    /// [`io::ErrorKind::Interrupted`].
    Interrupted,
    /// [`io::ErrorKind::Unsupported`].
    Unsupported,
    /// [`io::ErrorKind::UnexpectedEof`].
    UnexpectedEof,
    /// [`io::ErrorKind::OutOfMemory`].
    OutOfMemory,
    /// [`io::ErrorKind::Other`].
    Other,
    /// A kind not in this list.
    Uncategorized,
}

impl IoErrorKind {
    /// The word sent as `error_kind`.
    ///
    /// ```
    /// assert_eq!(telemetry::classify::IoErrorKind::NotADirectory.as_str(), "not_a_directory");
    /// ```
    pub fn as_str(self) -> &'static str {
        // `VALUES` lists the variants in declaration order.
        <Self as SafeValue>::VALUES
            .get(self as usize)
            .copied()
            .unwrap_or("uncategorized")
    }
}

impl From<io::ErrorKind> for IoErrorKind {
    fn from(kind: io::ErrorKind) -> Self {
        use io::ErrorKind as K;
        match kind {
            K::NotFound => Self::NotFound,
            K::PermissionDenied => Self::PermissionDenied,
            K::ConnectionRefused => Self::ConnectionRefused,
            K::ConnectionReset => Self::ConnectionReset,
            K::HostUnreachable => Self::HostUnreachable,
            K::NetworkUnreachable => Self::NetworkUnreachable,
            K::ConnectionAborted => Self::ConnectionAborted,
            K::NotConnected => Self::NotConnected,
            K::AddrInUse => Self::AddrInUse,
            K::AddrNotAvailable => Self::AddrNotAvailable,
            K::NetworkDown => Self::NetworkDown,
            K::BrokenPipe => Self::BrokenPipe,
            K::AlreadyExists => Self::AlreadyExists,
            K::WouldBlock => Self::WouldBlock,
            K::NotADirectory => Self::NotADirectory,
            K::IsADirectory => Self::IsADirectory,
            K::DirectoryNotEmpty => Self::DirectoryNotEmpty,
            K::ReadOnlyFilesystem => Self::ReadOnlyFilesystem,
            K::StaleNetworkFileHandle => Self::StaleNetworkFileHandle,
            K::InvalidInput => Self::InvalidInput,
            K::InvalidData => Self::InvalidData,
            K::TimedOut => Self::TimedOut,
            K::WriteZero => Self::WriteZero,
            K::StorageFull => Self::StorageFull,
            K::NotSeekable => Self::NotSeekable,
            K::QuotaExceeded => Self::QuotaExceeded,
            K::FileTooLarge => Self::FileTooLarge,
            K::ResourceBusy => Self::ResourceBusy,
            K::ExecutableFileBusy => Self::ExecutableFileBusy,
            K::Deadlock => Self::Deadlock,
            K::CrossesDevices => Self::CrossesDevices,
            K::TooManyLinks => Self::TooManyLinks,
            K::InvalidFilename => Self::InvalidFilename,
            K::ArgumentListTooLong => Self::ArgumentListTooLong,
            K::Interrupted => Self::Interrupted,
            K::Unsupported => Self::Unsupported,
            K::UnexpectedEof => Self::UnexpectedEof,
            K::OutOfMemory => Self::OutOfMemory,
            K::Other => Self::Other,
            _ => Self::Uncategorized,
        }
    }
}

/// The built-in classification of an `io::Error`: its kind. What a tracked function
/// returning `io::Result` reports without being told; usable in a classifier of your
/// own.
///
/// ```
/// let error = std::io::Error::new(std::io::ErrorKind::NotFound, "/home/alice/secret.txt");
/// assert_eq!(telemetry::classify::io(&error).as_str(), "not_found");
/// ```
pub fn io(error: &io::Error) -> IoErrorKind {
    IoErrorKind::from(error.kind())
}

/// The kind of the first `io::Error` in `error`'s chain of causes (`error` itself, then
/// each [`source`](Error::source)), found by downcasting: no error is formatted. `None`
/// when the chain holds none.
///
/// ```
/// use telemetry::classify::{IoErrorKind, io_in_chain};
///
/// #[derive(Debug)]
/// struct LoadError(std::io::Error);
/// impl std::fmt::Display for LoadError {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("load") }
/// }
/// impl std::error::Error for LoadError {
///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> { Some(&self.0) }
/// }
///
/// let error = LoadError(std::io::ErrorKind::PermissionDenied.into());
/// assert_eq!(io_in_chain(&error), Some(IoErrorKind::PermissionDenied));
/// assert_eq!(io_in_chain(&std::fmt::Error), None);
/// ```
pub fn io_in_chain(error: &(dyn Error + 'static)) -> Option<IoErrorKind> {
    let mut next = Some(error);
    // Bounded: a (broken) cyclic chain must not hang the tool.
    for _ in 0..MAX_CHAIN {
        let current = next?;
        if let Some(io_error) = current.downcast_ref::<io::Error>() {
            return Some(io(io_error));
        }
        next = current.source();
    }
    None
}

/// How many causes [`io_in_chain`] looks at.
const MAX_CHAIN: usize = 64;

/// The built-in classification of an [`anyhow::Error`] (feature `anyhow`): the kind
/// of the first `io::Error` in its chain, `None` when there is none. What a tracked
/// function returning `anyhow::Result` reports without being told (the type name
/// `anyhow::Error` when this is `None`).
///
/// ```
/// let error = anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::NotFound))
///     .context("reading /home/alice/book.toml");
/// assert_eq!(telemetry::classify::anyhow(&error).map(|k| k.as_str()), Some("not_found"));
/// ```
#[cfg(feature = "anyhow")]
pub fn anyhow(error: &anyhow::Error) -> Option<IoErrorKind> {
    error
        .chain()
        .take(MAX_CHAIN)
        .find_map(|cause| cause.downcast_ref::<io::Error>())
        .map(io)
}

/// The built-in classification of an [`eyre::Report`] (feature `eyre`): the kind of
/// the first `io::Error` in its chain, `None` when there is none. What a tracked
/// function returning `eyre::Result` reports without being told (the type name
/// `eyre::Report` when this is `None`).
///
/// ```
/// use eyre::WrapErr as _;
/// let error = Err::<(), _>(std::io::Error::from(std::io::ErrorKind::PermissionDenied))
///     .wrap_err("writing /home/alice/out")
///     .unwrap_err();
/// assert_eq!(telemetry::classify::eyre(&error).map(|k| k.as_str()), Some("permission_denied"));
/// ```
#[cfg(feature = "eyre")]
pub fn eyre(error: &eyre::Report) -> Option<IoErrorKind> {
    error
        .chain()
        .take(MAX_CHAIN)
        .find_map(|cause| cause.downcast_ref::<io::Error>())
        .map(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_kinds_are_snake_case_words_of_the_enum() {
        let cases = [
            (io::ErrorKind::NotFound, "not_found"),
            (io::ErrorKind::AddrInUse, "addr_in_use"),
            (io::ErrorKind::NotADirectory, "not_a_directory"),
            (io::ErrorKind::UnexpectedEof, "unexpected_eof"),
            (io::ErrorKind::Other, "other"),
        ];
        for (kind, word) in cases {
            assert_eq!(IoErrorKind::from(kind).as_str(), word);
            assert!(<IoErrorKind as SafeValue>::VALUES.contains(&word));
        }
        // Every value is a word of the rule, listed once.
        let values = <IoErrorKind as SafeValue>::VALUES;
        for (i, v) in values.iter().enumerate() {
            assert!(crate::naming::is_valid_variant_value(v), "{v}");
            assert!(!values[..i].contains(v), "{v}");
        }
    }

    #[test]
    fn the_message_is_never_read() {
        let error = io::Error::new(io::ErrorKind::NotFound, "/home/alice/secret.txt");
        let kind = io(&error).error_kind().map(|f| f().to_wire());
        assert_eq!(kind.as_deref(), Some("not_found"));
    }

    #[test]
    fn a_cyclic_chain_ends() {
        #[derive(Debug)]
        struct Loop;
        impl std::fmt::Display for Loop {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("loop")
            }
        }
        static LOOP: Loop = Loop;
        impl Error for Loop {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&LOOP)
            }
        }
        assert_eq!(io_in_chain(&Loop), None);
    }
}
