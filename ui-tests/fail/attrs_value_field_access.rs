struct Config {
    user: &'static str,
}

static CONFIG: Config = Config { user: "alice" };

#[telemetry::track("cmd.build", attrs(user = CONFIG.user))]
fn build() {}

fn main() {
    let _ = CONFIG.user;
}
