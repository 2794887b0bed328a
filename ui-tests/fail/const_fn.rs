#[telemetry::track("cmd.answer")]
const fn answer() -> u8 {
    42
}

fn main() {
    let _ = answer();
}
