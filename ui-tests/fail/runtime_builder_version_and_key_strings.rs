// The tool's name and version are in every event: fixed in the source. `tool!`
// evaluates them at compile time, so a value read at run time does not compile.
fn main() {
    let home = std::env::var("HOME").unwrap_or_default();
    let _ = telemetry::TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", &format!("1.0+{home}")))
        .build();
}
