//! A generic newtype is `SafeValue` exactly when its field is: neither `Wrapper<String>`
//! (named by the syntactic check) nor `Wrapper<Vec<u8>>` (caught by the bound) is.
#[derive(telemetry::SafeValue)]
struct Wrapper<T>(T);

#[telemetry::track("cmd.login", capture(user))]
fn login(user: Wrapper<String>) -> usize {
    user.0.len()
}

#[telemetry::track("cmd.upload", capture(payload))]
fn upload(payload: Wrapper<Vec<u8>>) -> usize {
    payload.0.len()
}

fn main() {}
