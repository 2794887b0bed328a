// A `&'static str` is not necessarily written in the source: a `LazyLock<String>`
// hands out `&'static str`s read at run time. It is no attribute value.
use std::sync::LazyLock;

static HOME: LazyLock<String> = LazyLock::new(|| std::env::var("HOME").unwrap_or_default());

fn main() {
    let ctx = telemetry::TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1.0.0"))
        .sink(telemetry::sink::NoopSink)
        .build()
        .unwrap();
    let _ = telemetry::record!(ctx, "cmd.run", home = HOME.as_str());
}
