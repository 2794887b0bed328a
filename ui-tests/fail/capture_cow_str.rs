use std::borrow::Cow;

#[telemetry::track("cmd.search", capture(query))]
fn search(query: Cow<'_, str>) -> usize {
    query.len()
}

fn main() {}
