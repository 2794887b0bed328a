#[telemetry::track("cmd.open", capture(open as open_browser))]
fn open(open: bool) -> bool {
    open
}

fn main() {}
