//! `Result` under any spelling: `io::Result`, `anyhow::Result`, a local alias, a fully
//! qualified path. (Classification is by type; this case checks they all compile.)
#![deny(warnings)]
#![forbid(unsafe_code)]

type Outcome<T> = core::result::Result<T, std::fmt::Error>;

#[telemetry::track("alias.io")]
fn io_result() -> std::io::Result<()> {
    Ok(())
}

#[telemetry::track("alias.anyhow")]
fn anyhow_result(fail: bool) -> anyhow::Result<u8> {
    anyhow::ensure!(!fail, "failed");
    Ok(1)
}

#[telemetry::track("alias.local")]
fn local_alias() -> Outcome<&'static str> {
    Err(std::fmt::Error)
}

fn main() {
    io_result().unwrap();
    assert!(anyhow_result(true).is_err());
    assert!(local_alias().is_err());
}
