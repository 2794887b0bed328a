// The tool's version and the default attributes' keys are in every event: fixed in
// the source, never built at run time.
fn main() {
    let home = std::env::var("HOME").unwrap_or_default();
    let _ = telemetry::TelemetryContext::builder()
        .tool("mytool")
        .tool_version(&format!("1.0+{home}"))
        .default_attr(&home, 1)
        .build();
}
