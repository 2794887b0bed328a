//! The macros that put text into events at run time: [`record!`](crate::record) (an
//! event that is not a function call), [`tool!`](crate::tool) (the tool's name and
//! version) and [`attrs!`](crate::attrs) (attributes of every event).
//!
//! Why macros and not functions taking `&'static str`: a `&'static str` is not
//! necessarily written in the source — `static HOME: LazyLock<String>` hands out
//! `&'static str`s read at run time. Each macro evaluates the text it is given in a
//! `const` or `static` item (or takes it as an identifier), so only text the compiler can see —
//! a literal, `env!`, a `const` — is accepted, and it is checked against the naming
//! rules during that evaluation: a bad name is a compile error. Values go through
//! [`SafeValue`](crate::SafeValue), as `#[track(capture(..))]`'s do.

/// Records one event that is not the call of a function (for those, use
/// [`#[track]`](macro@crate::track)): `record!("name", key = value, ..)` into the
/// installed context, or `record!(ctx, "name", key = value, ..)` into `ctx`.
///
/// The name is a string literal or a `const` (lowercase dotted; it is evaluated when
/// the program is compiled, in the site's `static`), the keys identifiers (snake_case;
/// `r#type` is the key `type`),
/// the values [`SafeValue`](crate::SafeValue)s: bools, numbers, derived enums and
/// newtypes, [`Hashed`](crate::Hashed), `Option`s of those. The event is in the catalog
/// (`telemetry schema`) like a tracked function's, with no duration. Returns
/// `Result<(), TelemetryError>`: `Ok` when telemetry is off or nothing is installed, an
/// error only when the queue is full (the event is dropped and counted) or the worker
/// is gone.
///
/// Why a macro and not a method taking a name and a map of strings (the
/// `HashMap<String, String>` many telemetry APIs take): any string read at run time
/// could carry a path, a user name or a secret, and even a `&'static str` may have been
/// read at run time (a `LazyLock<String>` hands them out). A literal token and
/// identifiers are the only text the compiler can vouch for.
///
/// ```
/// #[derive(telemetry::SafeValue, Clone, Copy)]
/// enum Shell { Bash, Zsh }
///
/// let ctx = telemetry::TelemetryContext::builder()
///     .tool(telemetry::tool!("mytool", "1.0.0"))
///     .sink(telemetry::sink::MemorySink::new())
///     .build()?;
/// telemetry::record!(ctx, "completion.installed", shell = Shell::Zsh, forced = false)?;
/// telemetry::record!("update.checked", newer = true)?; // nothing installed: nothing recorded
/// # let _ = Shell::Bash;
/// # Ok::<(), telemetry::TelemetryError>(())
/// ```
///
/// Text read at run time does not compile, as a value or as a name:
///
/// ```compile_fail
/// let home = std::env::var("HOME").unwrap_or_default();
/// telemetry::record!("cmd.run", home = home).ok();
/// ```
///
/// ```compile_fail
/// static NAME: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| "cmd.x".into());
/// telemetry::record!(NAME.as_str(), n = 1).ok();
/// ```
#[macro_export]
macro_rules! record {
    ($name:expr $(, $key:ident = $value:expr)* $(,)?) => {
        $crate::__telemetry_record_point!(installed; ($name) $(, $key = $value)*)
    };
    ($ctx:expr, $name:expr $(, $key:ident = $value:expr)* $(,)?) => {
        $crate::__telemetry_record_point!(($ctx); ($name) $(, $key = $value)*)
    };
}

/// The expansion of [`record!`](crate::record): the site's `static` spec (checked in
/// const evaluation, registered in the catalog) and the call.
#[doc(hidden)]
#[macro_export]
macro_rules! __telemetry_record_point {
    (installed; ($name:expr) $(, $key:ident = $value:expr)*) => {{
        $crate::__telemetry_record_point!(@spec ($name) $(, $key)*);
        // One relaxed load when telemetry is off: the values are not even read.
        if $crate::__private::enabled() {
            $crate::__private::record_point_installed(
                &__TELEMETRY_EVENT_SPEC,
                [$($crate::__private::capture(&$value)),*],
            )
        } else {
            ::core::result::Result::Ok(())
        }
    }};
    (($ctx:expr); ($name:expr) $(, $key:ident = $value:expr)*) => {{
        $crate::__telemetry_record_point!(@spec ($name) $(, $key)*);
        let __telemetry_ctx: &$crate::TelemetryContext = &$ctx;
        // Telemetry off: the values are not even read.
        if __telemetry_ctx.is_enabled() {
            $crate::__private::record_point(
                __telemetry_ctx,
                &__TELEMETRY_EVENT_SPEC,
                [$($crate::__private::capture(&$value)),*],
            )
        } else {
            ::core::result::Result::Ok(())
        }
    }};
    (@spec ($name:expr) $(, $key:ident)*) => {
        const __TELEMETRY_ATTRS: &[(&str, $crate::__private::AttrValue)] = &[];
        const __TELEMETRY_CAPTURES: &[$crate::__private::CaptureSpec] = &[
            $($crate::__private::CaptureSpec::new(
                $crate::__private::key_name(::core::stringify!($key)),
                $crate::__private::ANY_KIND,
            )),*
        ];
        $crate::__private::register_event! {
            static __TELEMETRY_EVENT_SPEC: $crate::__private::EventSpec =
                $crate::__private::EventSpec::new(
                    $name,
                    __TELEMETRY_ATTRS,
                    __TELEMETRY_CAPTURES,
                    ::core::module_path!(),
                );
        }
    };
}

/// The tool's name and version for
/// [`TelemetryContextBuilder::tool`](crate::TelemetryContextBuilder::tool):
/// `tool!()` is the calling crate's `CARGO_PKG_NAME` and `CARGO_PKG_VERSION`,
/// `tool!(name, version)` two literals or constants. Checked at compile time.
///
/// The name decides where the tool's files live (and its spool of unsent events). A
/// package whose several binaries send telemetry should give each a name of its own:
/// replay sends only events the replaying binary declares.
///
/// ```
/// let mine = telemetry::tool!();
/// assert_eq!(mine.name(), "telemetry");
/// let named = telemetry::tool!("mytool", "2.0.0-beta.1");
/// assert_eq!(named.version(), "2.0.0-beta.1");
/// ```
///
/// ```compile_fail
/// let name = std::env::args().next().unwrap_or_default();
/// let tool = telemetry::tool!(name.as_str(), "1.0.0");
/// ```
///
/// ```compile_fail
/// const BAD: telemetry::Tool = telemetry::tool!("my tool", "1.0");
/// ```
#[macro_export]
macro_rules! tool {
    () => {
        $crate::tool!(
            ::core::env!("CARGO_PKG_NAME"),
            ::core::env!("CARGO_PKG_VERSION")
        )
    };
    ($name:expr, $version:expr $(,)?) => {{
        // A named `const` (not an inline one): checked by `cargo check` too.
        const __TELEMETRY_TOOL: $crate::Tool = $crate::__private::tool($name, $version);
        __TELEMETRY_TOOL
    }};
}

/// Attributes for every event, for
/// [`TelemetryContextBuilder::default_attrs`](crate::TelemetryContextBuilder::default_attrs):
/// `attrs!(key = value, ..)` with identifier keys (snake_case, each once) and
/// [`SafeValue`](crate::SafeValue) values. `telemetry schema` lists every key with the
/// kind of its value (see [`TelemetryContext::schema`](crate::TelemetryContext::schema)).
///
/// ```
/// let attrs = telemetry::attrs!(container = false, workers = 8_u16);
/// # drop(attrs);
/// ```
///
/// ```compile_fail
/// let attrs = telemetry::attrs!(home = std::env::var("HOME").unwrap_or_default());
/// ```
#[macro_export]
macro_rules! attrs {
    ($($key:ident = $value:expr),* $(,)?) => {{
        // Checked in const evaluation (by `cargo check` too): snake_case, no repeats.
        const __TELEMETRY_KEYS: &[&str] = $crate::__private::attr_keys(&[
            $($crate::__private::key_name(::core::stringify!($key))),*
        ]);
        $crate::__private::default_attrs(
            __TELEMETRY_KEYS,
            [$($crate::__private::default_attr(&$value)),*],
        )
    }};
}
