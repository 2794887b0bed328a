#[telemetry::track("cmd.login", capture(user))]
fn login(user: Option<String>) -> bool {
    user.is_some()
}

fn main() {}
