//! `telemetry::Hashed` is the sanctioned way to capture an identifier: it is a
//! `SafeValue`, listed in the catalog with kind `hashed`.
#![deny(warnings)]
#![forbid(unsafe_code)]

use std::path::Path;

#[telemetry::track("cmd.open", capture(project, readonly))]
fn open(project: telemetry::Hashed, readonly: bool, dir: &Path) -> bool {
    let _ = project;
    readonly && dir.is_absolute()
}

fn main() {
    let dir = Path::new("/srv/projects/secret");
    let project = telemetry::Hashed::new("project", dir.as_os_str().as_encoded_bytes());
    assert!(open(project, true, dir));
    let spec = telemetry::catalog::events()
        .into_iter()
        .find(|s| s.name() == "cmd.open")
        .expect("registered");
    let kinds: Vec<_> = spec.captures().iter().map(|c| (c.key(), c.kind())).collect();
    assert_eq!(kinds, [("project", "hashed"), ("readonly", "bool")]);
}
