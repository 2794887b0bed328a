//! A rejected derive leaves stub impls behind: the derive's error is the only one, the
//! capture of the type adds none.
#[derive(telemetry::SafeValue)]
struct UserName(String);

#[derive(telemetry::SafeValue)]
enum Source {
    Stdin,
    File(std::path::PathBuf),
}

#[telemetry::track("cmd.login", capture(user, source))]
fn login(user: UserName, source: Source) -> usize {
    let _ = source;
    user.0.len()
}

fn main() {}
