// A key built at run time could carry a name: keys are fixed in the source.
fn main() {
    let ctx = telemetry::TelemetryContext::builder()
        .tool("mytool")
        .tool_version("1.0.0")
        .sink(telemetry::sink::NoopSink)
        .build()
        .unwrap();
    let user_name: String = std::env::var("USER").unwrap_or_default();
    let _ = ctx.record_with_attrs("cmd.run", [(user_name.as_str(), true)]);
}
