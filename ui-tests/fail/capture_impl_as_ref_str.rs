#[telemetry::track("cmd.search", capture(query))]
fn search(query: impl AsRef<str>) -> usize {
    query.as_ref().len()
}

fn main() {}
