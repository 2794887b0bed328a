// The run-time API takes event names fixed in the source: a name built at run time
// (here from a user name) does not compile.
fn main() {
    let ctx = telemetry::TelemetryContext::builder()
        .tool("mytool")
        .tool_version("1.0.0")
        .sink(telemetry::sink::NoopSink)
        .build()
        .unwrap();
    let user = std::env::var("USER").unwrap_or_default();
    let _ = ctx.record_with_attrs(&format!("user.{user}"), [("jobs", 1)]);
}
