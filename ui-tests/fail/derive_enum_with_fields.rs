#[derive(telemetry::SafeValue)]
enum Source {
    Stdin,
    File(std::path::PathBuf),
    Url { url: String },
}

fn main() {}
