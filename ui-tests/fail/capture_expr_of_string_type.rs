struct User {
    name: String,
}

#[telemetry::track("cmd.login", capture(name = user.name.clone()))]
fn login(user: User) -> bool {
    user.name.is_empty()
}

fn main() {}
