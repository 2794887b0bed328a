// A `String` value (here a home directory) is not an attribute value.
fn main() {
    let ctx = telemetry::TelemetryContext::builder()
        .tool("mytool")
        .tool_version("1.0.0")
        .sink(telemetry::sink::NoopSink)
        .build()
        .unwrap();
    let home: String = std::env::var("HOME").unwrap_or_default();
    let _ = ctx.record_with_attrs("cmd.run", [("home", home)]);
}
