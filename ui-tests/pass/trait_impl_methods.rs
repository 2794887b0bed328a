//! Trait implementation methods, a trait's default method, and a native `async fn` in a
//! trait implementation.
#![deny(warnings)]
#![forbid(unsafe_code)]

trait Command {
    fn run(&self, jobs: u8) -> Result<u8, std::fmt::Error>;

    #[telemetry::track("cmd.describe")]
    fn describe(&self) -> &'static str {
        "a command"
    }
}

trait AsyncCommand {
    async fn run_async(&self) -> u8;
}

struct Build;

impl Command for Build {
    #[telemetry::track("cmd.build", capture(jobs))]
    fn run(&self, jobs: u8) -> Result<u8, std::fmt::Error> {
        if jobs == 0 { Err(std::fmt::Error) } else { Ok(jobs) }
    }
}

impl AsyncCommand for Build {
    #[telemetry::track("cmd.build_async")]
    async fn run_async(&self) -> u8 {
        1
    }
}

fn main() {
    assert_eq!(Build.run(2), Ok(2));
    assert!(Build.run(0).is_err());
    assert_eq!(Build.describe(), "a command");
    let future = Build.run_async();
    drop(future);
}
