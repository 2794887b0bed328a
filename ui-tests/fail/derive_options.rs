//! `#[safe_value(..)]` options: `crate = path` on the type, `rename = ".."` on a variant,
//! nothing on a field; each misuse is named.
#[derive(telemetry::SafeValue)]
#[safe_value(crate = ::telemetry, crate = ::telemetry)]
enum Twice {
    A,
}

#[derive(telemetry::SafeValue)]
#[safe_value(crate = "telemetry")]
enum StringPath {
    A,
}

#[derive(telemetry::SafeValue)]
#[safe_value(rename = "mode")]
enum RenameOnType {
    A,
}

#[derive(telemetry::SafeValue)]
enum CrateOnVariant {
    #[safe_value(crate = ::telemetry)]
    A,
    #[safe_value(kind = "bool")]
    B,
}

#[derive(telemetry::SafeValue)]
struct Jobs(#[safe_value(rename = "n")] u16);

fn main() {}
