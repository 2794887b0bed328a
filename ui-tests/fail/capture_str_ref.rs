#[telemetry::track("cmd.search", capture(query))]
fn search(query: &str) -> usize {
    query.len()
}

fn main() {}
