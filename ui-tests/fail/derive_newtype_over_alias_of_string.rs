//! An alias hides `String` from the derive's syntactic check; the `where` bound on the
//! field's type catches it, at the field.
type Text = String;

#[derive(telemetry::SafeValue)]
struct UserName(Text);

#[derive(telemetry::SafeValue)]
struct Payload(Vec<u8>);

fn main() {}
