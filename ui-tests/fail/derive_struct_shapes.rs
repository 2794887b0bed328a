//! Only a struct with exactly one field (a newtype) derives `SafeValue`.
#[derive(telemetry::SafeValue)]
struct Build {
    jobs: u16,
    release: bool,
}

#[derive(telemetry::SafeValue)]
struct Marker;

#[derive(telemetry::SafeValue)]
struct Empty {}

fn main() {}
