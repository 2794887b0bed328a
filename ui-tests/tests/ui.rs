//! Runs the trybuild cases. Re-bless after reading each diff:
//! `TRYBUILD=overwrite cargo test -p ui-tests`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("pass/*.rs");
    cases.compile_fail("fail/*.rs");
}
