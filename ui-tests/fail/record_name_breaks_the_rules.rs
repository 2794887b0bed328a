// `record!`'s event name and keys follow the naming rules, checked at compile time.
fn main() {
    let ctx = telemetry::TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1.0.0"))
        .sink(telemetry::sink::NoopSink)
        .build()
        .unwrap();
    let _ = telemetry::record!(ctx, "/home/alice/x", jobs = 1);
    let _ = telemetry::attrs!(Home_Dir = 1);
    let _ = telemetry::tool!("my tool", "1.0");
}
