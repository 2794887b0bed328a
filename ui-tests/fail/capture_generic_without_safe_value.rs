#[telemetry::track("cmd.sum", capture(item))]
fn sum<T: Copy + Into<u64>>(item: T) -> u64 {
    item.into()
}

fn main() {}
