//! Methods with every receiver, associated functions, and bodies that return borrows of
//! `self` (the body closure is `FnOnce`, so this works as in the plain method).
#![deny(warnings)]
#![forbid(unsafe_code)]

#[derive(Default)]
struct Tool {
    name: String,
    runs: u32,
}

impl Tool {
    #[telemetry::track("tool.new")]
    fn new() -> Self {
        Self { name: "t".to_owned(), runs: 0 }
    }

    #[telemetry::track("tool.name")]
    fn name(&self) -> &str {
        &self.name
    }

    #[telemetry::track("tool.runs", capture(by))]
    fn runs_mut(&mut self, by: u32) -> &mut u32 {
        self.runs += by;
        &mut self.runs
    }

    #[telemetry::track("tool.into_name")]
    pub(crate) fn into_name(self) -> String {
        self.name
    }

    #[telemetry::track("tool.with", capture(runs))]
    fn with(runs: u32) -> Self {
        Self { runs, ..Self::default() }
    }
}

fn main() {
    let mut tool = Tool::new();
    assert_eq!(tool.name(), "t");
    *tool.runs_mut(2) += 1;
    assert_eq!(tool.runs, 3);
    assert_eq!(tool.into_name(), "t");
    assert_eq!(Tool::with(5).runs, 5);
}
