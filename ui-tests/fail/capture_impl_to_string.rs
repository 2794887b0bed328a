#[telemetry::track("cmd.greet", capture(name))]
fn greet(name: impl ToString) -> usize {
    name.to_string().len()
}

fn main() {}
