// A `String` value (here a home directory) is not an attribute value.
fn main() {
    let ctx = telemetry::TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1.0.0"))
        .sink(telemetry::sink::NoopSink)
        .build()
        .unwrap();
    let home: String = std::env::var("HOME").unwrap_or_default();
    let _ = telemetry::record!(ctx, "cmd.run", home = home);
}
