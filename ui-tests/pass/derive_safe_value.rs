//! `#[derive(SafeValue)]` on fieldless enums (renames, snake_case), captured directly,
//! by reference and in an `Option`; plus every built-in `SafeValue` type.
#![deny(warnings)]
#![forbid(unsafe_code)]

use std::num::NonZeroU32;
use telemetry::{AttrValue, SafeValue};

#[derive(Clone, Copy, SafeValue)]
enum Shell {
    Bash,
    PowerShell,
    #[safe_value(rename = "zsh-5")]
    Zsh,
    HTTPServer,
}

#[telemetry::track("shell.detect", capture(shell, previous, fallback))]
fn detect(shell: Shell, previous: &Shell, fallback: Option<Shell>) -> u8 {
    let _ = (previous, fallback);
    shell as u8
}

#[telemetry::track("types.all", capture(a, b, c, d, e, f, g, h))]
#[allow(clippy::too_many_arguments)]
fn all(a: bool, b: i8, c: u128, d: isize, e: f32, f: NonZeroU32, g: Option<Option<u8>>, h: &mut u16) {
    let _ = (a, b, c, d, e, f, g);
    *h += 1;
}

fn main() {
    assert_eq!(detect(Shell::Bash, &Shell::Zsh, None), 0);
    let mut h = 0;
    all(true, -1, 2, -3, 0.5, NonZeroU32::MIN, Some(None), &mut h);
    assert_eq!(h, 1);
    assert_eq!(Shell::PowerShell.to_attr_value().as_ref().and_then(AttrValue::as_str), Some("power_shell"));
    assert_eq!(Shell::Zsh.to_attr_value().as_ref().and_then(AttrValue::as_str), Some("zsh-5"));
    assert_eq!(Shell::HTTPServer.to_attr_value().as_ref().and_then(AttrValue::as_str), Some("http_server"));
    let spec = telemetry::catalog::events().into_iter().find(|s| s.name() == "shell.detect").unwrap();
    assert_eq!(
        spec.keys().collect::<Vec<_>>(),
        [("fallback", "string"), ("previous", "string"), ("shell", "string")]
    );
}
