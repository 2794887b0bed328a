//! Rules for what leaves the process by name: event names, attribute keys and the
//! string values fixed in the source. They live in the `telemetry-naming` crate, the one
//! copy that `#[track]` also applies at compile time (with errors on the user's tokens);
//! this module re-exports them under the names the runtime crate uses: in the runtime
//! API and, in const evaluation, in
//! [`EventSpec::new`](crate::catalog::EventSpec::new) and
//! [`CaptureSpec::new`](crate::catalog::CaptureSpec::new), so a hand-built `static`
//! spec that breaks them does not compile.

pub(crate) use telemetry_naming::{
    is_valid_attr_key, is_valid_event_name, is_valid_module_path, is_valid_str_value,
    is_valid_tool_name, is_valid_tool_version, is_valid_variant_value,
};

/// `a == b`, in const evaluation.
pub(crate) const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    // The rules themselves are tested in `telemetry-naming`; this checks the re-exports
    // are the ones the runtime crate means, usable in const evaluation.
    const _: () = assert!(is_valid_event_name("cmd.build") && is_valid_attr_key("dry_run"));
    const _: () = assert!(is_valid_module_path(module_path!()) && !is_valid_str_value("\u{202e}"));

    #[test]
    fn rules_and_str_eq() {
        assert!(is_valid_event_name("cmd.build") && !is_valid_event_name("cmd..x"));
        assert!(is_valid_attr_key("dry_run") && !is_valid_attr_key("_dry"));
        assert!(is_valid_str_value("release") && !is_valid_str_value("a\u{85}"));
        assert!(is_valid_module_path("my_tool::commands") && !is_valid_module_path("a b"));
        assert!(is_valid_tool_name("my-tool_2.x") && !is_valid_tool_name("../etc"));
        assert!(is_valid_tool_version("1.2.3+b") && !is_valid_tool_version("1 2"));
        assert!(str_eq("ab", "ab") && !str_eq("ab", "abc") && !str_eq("ab", "ac"));
    }
}
