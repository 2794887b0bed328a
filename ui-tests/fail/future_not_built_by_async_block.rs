use std::future::Future;

#[telemetry::track("cmd.fetch")]
fn fetch() -> impl Future<Output = u8> {
    std::future::ready(1)
}

fn main() {}
