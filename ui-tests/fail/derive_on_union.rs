#[derive(telemetry::SafeValue)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
