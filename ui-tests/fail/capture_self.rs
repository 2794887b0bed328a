struct Tool;

impl Tool {
    #[telemetry::track("cmd.build", capture(self))]
    fn build(&self) {}
}

fn main() {
    Tool.build();
}
