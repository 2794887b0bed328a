// `record!` takes the event name as a literal: a name built at run time (here from a
// user name) does not compile.
fn main() {
    let ctx = telemetry::TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1.0.0"))
        .sink(telemetry::sink::NoopSink)
        .build()
        .unwrap();
    let user = std::env::var("USER").unwrap_or_default();
    let _ = telemetry::record!(ctx, &format!("user.{user}"), jobs = 1);
}
