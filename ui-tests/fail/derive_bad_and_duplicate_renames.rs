#[derive(telemetry::SafeValue)]
enum Mode {
    #[safe_value(rename = "Fast Mode")]
    Fast,
    #[safe_value(rename = "slow")]
    Careful,
    Slow,
}

fn main() {}
