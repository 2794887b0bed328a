// A `&'static str` read at run time (a `LazyLock<String>`) is no event name.
use std::sync::LazyLock;

static NAME: LazyLock<String> = LazyLock::new(|| std::env::var("USER").unwrap_or_default());

fn main() {
    let ctx = telemetry::TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1.0.0"))
        .sink(telemetry::sink::NoopSink)
        .build()
        .unwrap();
    let _ = telemetry::record!(ctx, NAME.as_str(), jobs = 1);
}
