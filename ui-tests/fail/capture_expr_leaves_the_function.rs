#[telemetry::track("cmd.parse", capture(n = input.parse::<u32>()?))]
fn parse(input: &str) -> Result<u32, std::num::ParseIntError> {
    input.parse()
}

#[telemetry::track("cmd.fetch", capture(ready = ready_flag().await))]
async fn fetch() -> bool {
    true
}

async fn ready_flag() -> bool {
    true
}

fn main() {}
