//! A body with a syntax error: rustc's own error, once, at the user's token, and nothing
//! from `#[track]` (the signature was read, the body is wrapped as written).
#[telemetry::track("cmd.build", capture(jobs))]
fn build(jobs: u16) -> u16 {
    let doubled = jobs * ;
    doubled
}

#[telemetry::track("cmd.fetch")]
async fn fetch() -> u8 {
    let x = 1 +;
    x
}

#[telemetry::track("cmd.spawn")]
fn spawn() -> impl std::future::Future<Output = u8> {
    async move { 1 + }
}

fn main() {
    let _ = build(1);
    let _ = fetch();
    let _ = spawn();
}
