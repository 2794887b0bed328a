//! `#[derive(SafeValue)]` on newtypes: over a number, over a derived enum, with a named
//! field, generic over a `SafeValue`; captured directly, in an `Option` and by reference.
//! The kind in the catalog is the field's.
#![deny(warnings)]
#![forbid(unsafe_code)]

use telemetry::{AttrValue, Hashed, SafeValue};

#[derive(Clone, Copy, SafeValue)]
struct Jobs(u16);

#[derive(Clone, Copy, SafeValue)]
enum Mode {
    Debug,
    Release,
}

#[derive(Clone, Copy, SafeValue)]
struct Profile(Mode);

#[derive(SafeValue)]
struct Ratio {
    value: f32,
}

#[derive(SafeValue)]
struct Wrapper<T>(T);

#[derive(SafeValue)]
struct Nested(Option<Jobs>);

#[derive(SafeValue)]
struct Borrowed<'a>(&'a u8);

#[derive(SafeValue)]
struct Digest(Hashed);

#[derive(SafeValue)]
#[safe_value(crate = ::telemetry)]
struct WithCratePath(pub bool);

#[allow(clippy::too_many_arguments)]
#[telemetry::track(
    "cmd.newtypes",
    capture(jobs, max_jobs, profile, ratio, flag, nested, borrowed, digest, pathed, by_ref)
)]
fn build(
    jobs: Jobs,
    max_jobs: Option<Jobs>,
    profile: Profile,
    ratio: Ratio,
    flag: Wrapper<bool>,
    nested: Nested,
    borrowed: Borrowed<'_>,
    digest: Digest,
    pathed: WithCratePath,
    by_ref: &Wrapper<Wrapper<Mode>>,
) -> u16 {
    let _ = (max_jobs, profile, ratio, flag, nested, borrowed, digest, pathed, by_ref);
    jobs.0
}

fn main() {
    let byte = 3;
    let n = build(
        Jobs(8),
        None,
        Profile(Mode::Release),
        Ratio { value: 0.5 },
        Wrapper(true),
        Nested(Some(Jobs(2))),
        Borrowed(&byte),
        Digest(Hashed::new("digest", "x")),
        WithCratePath(false),
        &Wrapper(Wrapper(Mode::Debug)),
    );
    assert_eq!(n, 8);
    assert_eq!(Jobs(8).to_attr_value(), Some(AttrValue::Int(8)));
    assert_eq!(Profile(Mode::Release).to_attr_value().as_ref().and_then(AttrValue::as_str), Some("release"));
    assert_eq!(Nested(None).to_attr_value(), None);
    assert_eq!(Ratio { value: 0.5 }.to_attr_value(), Some(AttrValue::Float(0.5)));
    assert_eq!(<Wrapper<Wrapper<u8>> as SafeValue>::KIND, "int");
    let spec = telemetry::catalog::events().into_iter().find(|s| s.name() == "cmd.newtypes").unwrap();
    assert_eq!(
        spec.keys().collect::<Vec<_>>(),
        [
            ("borrowed", "int"),
            ("by_ref", "string"),
            ("digest", "hashed"),
            ("flag", "bool"),
            ("jobs", "int"),
            ("max_jobs", "int"),
            ("nested", "int"),
            ("pathed", "bool"),
            ("profile", "string"),
            ("ratio", "float"),
        ]
    );
}
