#![deny(dead_code)]

#[telemetry::track("cmd.build")]
fn build() {}

fn main() {}
