//! Literal suffixes are checked, not dropped: only number types, and values in range.
#[telemetry::track(
    "cmd.build",
    attrs(
        text = "release"alice,
        raw = r"release"alice,
        int = 5alice,
        float = 1.5f32x,
        exp = 2e3x,
        half = 1.5f16,
        small = 300u8,
        edge = 256u8,
        low = -129i8,
        unsigned = -1u8,
        wide = 18446744073709551616u128,
        huge = 1e39f32,
    )
)]
fn build() {}

fn main() {}
