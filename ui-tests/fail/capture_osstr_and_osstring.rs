use std::ffi::{OsStr, OsString};

#[telemetry::track("cmd.run", capture(program))]
fn run(program: &OsStr) -> usize {
    program.len()
}

#[telemetry::track("cmd.exec", capture(arg))]
fn exec(arg: OsString) -> usize {
    arg.len()
}

fn main() {}
