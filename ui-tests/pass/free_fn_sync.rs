//! A free function: literal attrs, captures of primitive types, `?` into
//! `Box<dyn Error>`, and the catalog entry it registers.
#![deny(warnings)]
#![forbid(unsafe_code)]

use std::error::Error;

#[derive(Debug)]
struct Failed;

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failed")
    }
}

impl Error for Failed {}

/// Docs stay on the function.
#[telemetry::track("cmd.build", attrs(profile = "release", jobs_max = 64, dry = false), capture(jobs, verbose))]
pub fn build(jobs: u16, verbose: bool, fail: bool) -> Result<u16, Box<dyn Error>> {
    let parsed: u16 = "7".parse()?;
    if fail {
        return Err(Box::new(Failed));
    }
    if verbose {
        Err(Failed)?;
    }
    Ok(jobs + parsed)
}

fn main() {
    assert_eq!(build(1, false, false).unwrap(), 8);
    assert!(build(1, false, true).is_err());
    assert!(build(1, true, false).is_err());
    let spec = telemetry::catalog::events().into_iter().find(|s| s.name() == "cmd.build").unwrap();
    assert_eq!(
        spec.keys().collect::<Vec<_>>(),
        [("dry", "bool"), ("jobs", "int"), ("jobs_max", "int"), ("profile", "string"), ("verbose", "bool")]
    );
    assert_eq!(spec.module_path(), module_path!());
}
