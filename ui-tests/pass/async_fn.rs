//! `async fn`: free, with captures, returning `Result` through `?`.
#![deny(warnings)]
#![forbid(unsafe_code)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

#[telemetry::track("cmd.fetch", attrs(retries = 3), capture(id))]
async fn fetch(id: u32) -> Result<u32, std::num::ParseIntError> {
    let base: u32 = "40".parse()?;
    ready().await;
    Ok(base + id)
}

#[telemetry::track("cmd.idle")]
async fn idle() {}

async fn ready() {}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn main() {
    assert_eq!(block_on(fetch(2)), Ok(42));
    block_on(idle());
}
