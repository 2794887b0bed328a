//! Items and `use`s declared in a tracked body may reuse names of the signature's
//! types: the expansion names the return type outside the user's block, where the
//! body's declarations are not visible.
#![deny(warnings)]
#![forbid(unsafe_code)]

pub struct Output(pub u32);

#[telemetry::track("shadow.item")]
fn item() -> Output {
    struct Output;
    let _ = Output;
    crate::Output(1)
}

#[telemetry::track("shadow.use")]
fn alias() -> Result<u8, String> {
    use std::io::Result;
    let checked: Result<()> = Ok(());
    checked.map_err(|e| e.to_string())?;
    Ok(1)
}

#[telemetry::track("shadow.async")]
async fn in_async() -> Output {
    struct Output;
    let _ = Output;
    crate::Output(2)
}

fn main() {
    assert_eq!(item().0, 1);
    assert_eq!(alias(), Ok(1));
    let _ = in_async();
}
