use std::fmt::Display;

#[telemetry::track("cmd.greet", capture(name))]
fn greet<N: Display>(name: N) -> String {
    name.to_string()
}

fn main() {}
