// An `Event` cannot be made from, or changed to carry, run-time text: its fields are
// read through methods, it has no public `Deserialize`, and `Event::new` takes
// `&'static str`s only.
fn main() {
    let home = std::env::var("HOME").unwrap_or_default();
    let mut event = telemetry::Event::new("cmd.run", "mytool", "1.0.0", "ab12");
    event.name = home.clone();
    let _ = event.with_attr("home", home.clone());
    let _: telemetry::Event = serde_json::from_str("{}").unwrap();
}
