struct UserName(String);

#[telemetry::track("cmd.login", capture(user))]
fn login(user: UserName) -> usize {
    user.0.len()
}

fn main() {}
