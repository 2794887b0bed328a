fn hostname() -> &'static str {
    "laptop"
}

#[telemetry::track("cmd.build", attrs(host = hostname()))]
fn build() {}

fn main() {
    let _ = hostname();
}
