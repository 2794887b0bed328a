struct Tool {
    verbose: bool,
}

impl Tool {
    #[telemetry::track("cmd.run", capture(tool = self))]
    fn run(&self) -> bool {
        self.verbose
    }
}

fn main() {}
