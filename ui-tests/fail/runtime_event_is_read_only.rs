// An `Event` cannot be made from, or changed to carry, run-time text: its fields are
// read through methods, it has no public `Deserialize`, and events are made only by
// the library.
fn main() {
    let home = std::env::var("HOME").unwrap_or_default();
    let mut event = telemetry::Event::example();
    event.name = home.clone();
    let _: telemetry::Event = serde_json::from_str("{}").unwrap();
}
