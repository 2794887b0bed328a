trait Command {
    #[telemetry::track("cmd.run")]
    fn run(&self);
}

fn main() {}
