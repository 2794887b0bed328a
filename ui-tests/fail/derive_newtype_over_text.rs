//! A newtype derives `SafeValue` only over a `SafeValue` type: paths and text are named.
use std::borrow::Cow;
use std::path::PathBuf;

#[derive(telemetry::SafeValue)]
struct Name(&'static str);

#[derive(telemetry::SafeValue)]
struct Dir {
    path: PathBuf,
}

#[derive(telemetry::SafeValue)]
struct Label(Cow<'static, str>);

#[derive(telemetry::SafeValue)]
struct Shown<T: std::fmt::Display>(T);

fn main() {}
