//! String values: at most 128 bytes, no control or bidirectional-override characters,
//! however they are written.
#[telemetry::track(
    "cmd.build",
    attrs(
        long = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        newline = "line\n",
        bidi = "txt\u{202E}exe",
        isolate = "\u{2066}x",
        raw_tab = r#"a	b"#,
        c1 = "\u{85}",
    )
)]
fn build() {}

fn main() {}
