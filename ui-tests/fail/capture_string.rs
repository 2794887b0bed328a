#[telemetry::track("cmd.login", capture(user))]
fn login(user: String) -> usize {
    user.len()
}

fn main() {}
