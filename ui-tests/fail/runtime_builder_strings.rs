// Default attributes are in every event: their values are never run-time text.
fn main() {
    let home = std::env::var("HOME").unwrap_or_default();
    let _ = telemetry::TelemetryContext::builder()
        .tool(telemetry::tool!("mytool", "1.0.0"))
        .default_attrs(telemetry::attrs!(home = home.clone()))
        .build();
}
