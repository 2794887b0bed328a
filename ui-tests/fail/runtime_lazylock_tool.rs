// A tool name read at run time (`argv[0]`, which may be a path) does not compile:
// `tool!` evaluates its arguments at compile time.
use std::sync::LazyLock;

static ARGV0: LazyLock<String> = LazyLock::new(|| std::env::args().next().unwrap_or_default());

fn main() {
    let _ = telemetry::TelemetryContext::builder()
        .tool(telemetry::tool!(ARGV0.as_str(), "1.0.0"))
        .build();
}
