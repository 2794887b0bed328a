// `Event::new` (for testing sinks) takes text fixed in the source only.
fn main() {
    let home = std::env::var("HOME").unwrap_or_default();
    let _ = telemetry::Event::new(&home, "mytool", "1.0.0", "ab12");
}
