//! Bodies that rely on coercion to the declared return type: `Box<dyn Error>` from `?`
//! and from `Box::new`, trait objects, `impl Trait` (also nested), `&dyn`, `-> !`, and
//! bodies of unit functions that only panic.
#![deny(warnings)]
#![forbid(unsafe_code)]

use std::error::Error;
use std::fmt::Display;

#[telemetry::track("coerce.boxed_error")]
fn boxed_error(input: &str) -> Result<i64, Box<dyn Error + Send + Sync>> {
    if input.is_empty() {
        return Err("empty".into());
    }
    let value: i64 = input.parse()?;
    Ok(value)
}

#[telemetry::track("coerce.closure")]
fn make_adder(n: i32) -> Box<dyn Fn(i32) -> i32> {
    Box::new(move |x| x + n)
}

#[telemetry::track("coerce.iter")]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[telemetry::track("coerce.nested_impl")]
fn shown(ok: bool) -> Result<impl Display, Box<dyn Error>> {
    if !ok {
        return Err(Box::new(std::fmt::Error));
    }
    Ok(5)
}

#[telemetry::track("coerce.dyn_ref")]
fn as_display(value: &u8) -> &dyn Display {
    value
}

#[telemetry::track("coerce.never")]
fn fatal(code: i32) -> ! {
    panic!("fatal {code}")
}

#[telemetry::track("coerce.diverging_unit")]
fn diverging_unit() {
    panic!("always")
}

#[telemetry::track("coerce.diverging_unit_async")]
async fn diverging_unit_async() {
    panic!("always")
}

fn main() {
    assert_eq!(boxed_error("12").unwrap(), 12);
    assert!(boxed_error("").is_err());
    assert!(boxed_error("x").is_err());
    assert_eq!(make_adder(2)(3), 5);
    assert_eq!(evens(5).count(), 3);
    assert_eq!(shown(true).unwrap().to_string(), "5");
    assert!(shown(false).is_err());
    assert_eq!(as_display(&4).to_string(), "4");
    assert!(std::panic::catch_unwind(|| fatal(1)).is_err());
    assert!(std::panic::catch_unwind(diverging_unit).is_err());
    drop(diverging_unit_async());
}
