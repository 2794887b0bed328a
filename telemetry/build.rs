//! Sets `cfg(telemetry_linkme)` on the targets where `linkme`'s distributed slices (the
//! link-time event catalog) are supported, so the list of targets lives in one place.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(telemetry_linkme)");
    println!("cargo::rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let supported = matches!(
        os.as_str(),
        "none"
            | "linux"
            | "macos"
            | "ios"
            | "tvos"
            | "android"
            | "fuchsia"
            | "illumos"
            | "freebsd"
            | "openbsd"
            | "psp"
            | "windows"
            | "uefi"
    );
    if supported {
        println!("cargo::rustc-cfg=telemetry_linkme");
    }
}
