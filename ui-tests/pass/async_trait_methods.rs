//! `#[async_trait]` methods: `#[track]` sees the method after `async_trait` rewrote it
//! into `Box::pin(async move { .. })`, whichever side of other attributes it is written
//! on; and the same shape written by hand.
#![deny(warnings)]
#![forbid(unsafe_code)]

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use async_trait::async_trait;

#[async_trait]
trait Runner {
    async fn run(&self, jobs: u32) -> Result<u32, std::io::Error>;
    async fn stop(&mut self);

    #[telemetry::track("runner.describe")]
    async fn describe(&self) -> &'static str {
        "runner"
    }
}

struct Local;

#[async_trait]
impl Runner for Local {
    #[telemetry::track("runner.run", capture(jobs))]
    #[inline]
    async fn run(&self, jobs: u32) -> Result<u32, std::io::Error> {
        if jobs == 0 {
            return Err(std::io::Error::other("no jobs"));
        }
        Ok(jobs * 2)
    }

    #[allow(clippy::unused_async)]
    #[telemetry::track("runner.stop")]
    async fn stop(&mut self) {}
}

struct Manual;

impl Manual {
    #[telemetry::track("manual.run", capture(jobs))]
    fn run<'a>(&'a self, jobs: u32) -> Pin<Box<dyn Future<Output = u32> + Send + 'a>> {
        Box::pin(async move { jobs + 1 })
    }
}

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
    let mut local = Local;
    assert_eq!(block_on(local.run(2)).unwrap(), 4);
    assert!(block_on(local.run(0)).is_err());
    block_on(local.stop());
    assert_eq!(block_on(local.describe()), "runner");
    assert_eq!(block_on(Manual.run(1)), 2);
}
