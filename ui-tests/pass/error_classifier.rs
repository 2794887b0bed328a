//! `error = classify`: free functions, methods, `Option`, generic classifiers, the
//! built-in `telemetry::classify::io`, and every function shape.
#![deny(warnings)]
#![forbid(unsafe_code)]

use telemetry::SafeValue;

#[derive(Clone, Copy, SafeValue)]
enum Failure {
    Config,
    Io,
}

#[derive(Debug)]
enum AppError {
    Config,
    Io,
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("app error")
    }
}

impl std::error::Error for AppError {}

impl AppError {
    fn kind(&self) -> Failure {
        match self {
            Self::Config => Failure::Config,
            Self::Io => Failure::Io,
        }
    }
}

fn classify_anyhow(error: &anyhow::Error) -> Option<Failure> {
    error.downcast_ref::<AppError>().map(AppError::kind)
}

fn generic_classify<E: std::error::Error + 'static>(error: &E) -> Failure {
    if (error as &dyn std::error::Error).is::<std::io::Error>() { Failure::Io } else { Failure::Config }
}

/// A classifier whose name is also the generated code's word for the error.
fn error(_: &AppError) -> Failure {
    Failure::Config
}

type AppResult<T> = Result<T, AppError>;

#[telemetry::track("cmd.method", error = AppError::kind)]
fn method_path(fail: bool) -> AppResult<u8> {
    if fail { Err(AppError::Io) } else { Ok(1) }
}

#[telemetry::track("cmd.anyhow", error = classify_anyhow)]
fn with_anyhow() -> anyhow::Result<()> {
    Err(AppError::Config.into())
}

#[telemetry::track("cmd.generic", error = generic_classify::<std::io::Error>)]
fn generic_one() -> std::io::Result<()> {
    Ok(())
}

#[telemetry::track("cmd.io", error = telemetry::classify::io)]
fn explicit_io() -> std::io::Result<()> {
    Ok(())
}

#[telemetry::track("cmd.named_error", error = error)]
fn named_error() -> Result<(), AppError> {
    Err(AppError::Config)
}

#[telemetry::track("cmd.async", error = AppError::kind)]
async fn async_fn() -> AppResult<()> {
    Ok(())
}

#[telemetry::track("cmd.future", error = AppError::kind)]
fn future_block() -> impl std::future::Future<Output = AppResult<()>> {
    async move { Ok(()) }
}

struct Tool;

#[async_trait::async_trait]
trait Run {
    async fn run(&self) -> AppResult<()>;
}

#[async_trait::async_trait]
impl Run for Tool {
    #[telemetry::track("cmd.trait", error = AppError::kind)]
    async fn run(&self) -> AppResult<()> {
        Ok(())
    }
}

fn main() {
    assert!(method_path(true).is_err());
    assert!(with_anyhow().is_err());
    generic_one().unwrap();
    explicit_io().unwrap();
    assert!(named_error().is_err());
    let _ = (async_fn(), future_block(), Tool.run(), AppError::Config.kind());

    let kinds = |name: &str| {
        telemetry::catalog::events()
            .into_iter()
            .find(|s| s.name() == name)
            .unwrap()
            .error_kinds()
    };
    assert_eq!(kinds("cmd.method"), Some(&["config", "io"][..]));
    assert_eq!(kinds("cmd.anyhow"), Some(&["config", "io"][..]));
    assert!(kinds("cmd.io").unwrap().contains(&"not_found"));
}
