//! `fn .. -> impl Future` whose body ends in `async move { .. }`, with statements before
//! the block that move a parameter (captures are read before them).
#![deny(warnings)]
#![forbid(unsafe_code)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

#[derive(Clone, Copy, telemetry::SafeValue)]
enum Mode {
    Fast,
    Slow,
}

#[telemetry::track("cmd.download", capture(mode, parts))]
fn download(name: String, mode: Mode, parts: u8) -> impl Future<Output = Result<usize, std::io::Error>> {
    let owned = name;
    async move {
        let len = owned.len() * usize::from(parts);
        match mode {
            Mode::Fast => Ok(len),
            Mode::Slow => Err(std::io::Error::other("slow")),
        }
    }
}

struct Client(u8);

impl Client {
    #[telemetry::track("client.ping")]
    fn ping(&self) -> impl Future<Output = u8> + '_ {
        async { self.0 }
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
    assert_eq!(block_on(download("ab".to_owned(), Mode::Fast, 2)).unwrap(), 4);
    assert!(block_on(download("ab".to_owned(), Mode::Slow, 2)).is_err());
    assert_eq!(block_on(Client(7).ping()), 7);
}
