#[telemetry::track("cmd.search", capture(query))]
fn search(query: Box<str>) -> usize {
    query.len()
}

fn main() {}
