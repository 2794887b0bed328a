//! Bodies that are a single expression (a literal, a path, a call) compile without
//! warnings: the expansion must not leave the user's braces looking redundant
//! (`unused_braces`) to a crate that denies warnings.
#![deny(warnings)]
#![forbid(unsafe_code)]

#[telemetry::track("single.literal")]
fn literal() -> u8 {
    5
}

// On one line, where `unused_braces` looks.
#[telemetry::track("single.one_line")]
#[rustfmt::skip]
fn one_line() -> u8 { 6 }

#[telemetry::track("single.async_one_line")]
#[rustfmt::skip]
async fn async_one_line() -> u8 { 8 }

#[telemetry::track("single.path", capture(n))]
fn path(n: u32) -> u32 {
    n
}

#[telemetry::track("single.call")]
fn call() -> String {
    String::from("x")
}

#[telemetry::track("single.unit")]
fn unit() {}

#[telemetry::track("single.async_literal")]
async fn async_literal() -> u8 {
    7
}

struct Counter(u64);

impl Counter {
    #[telemetry::track("single.method")]
    fn get(&self) -> u64 {
        self.0
    }
}

fn main() {
    assert_eq!(literal(), 5);
    assert_eq!(one_line(), 6);
    let _ = async_one_line();
    assert_eq!(path(3), 3);
    assert_eq!(call(), "x");
    unit();
    let _ = async_literal();
    assert_eq!(Counter(9).get(), 9);
}
