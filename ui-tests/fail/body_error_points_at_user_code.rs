// A type error in the body is reported at the user's code, as without the macro.
#[telemetry::track("cmd.build")]
fn build(jobs: u8) -> Result<u8, std::io::Error> {
    let doubled: u8 = "two";
    Ok(jobs * doubled)
}

fn main() {}
