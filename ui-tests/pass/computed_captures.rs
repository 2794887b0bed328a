//! `capture(key = expr)`, `capture(key: Type = expr)` and renaming: read when the call
//! starts (the body may move what they read), typed where the type is written.
#![deny(warnings)]
#![forbid(unsafe_code)]

use telemetry::{Hashed, SafeValue};

/// A foreign enum (no `SafeValue`), mapped by the author's own function.
#[derive(Clone, Copy)]
enum Shell {
    Bash,
    Fish,
}

#[derive(Clone, Copy, SafeValue)]
enum ShellKind {
    Bash,
    Other,
}

fn shell_kind(shell: &Shell) -> ShellKind {
    match shell {
        Shell::Bash => ShellKind::Bash,
        Shell::Fish => ShellKind::Other,
    }
}

struct Args {
    jobs: Option<u16>,
    open: bool,
    dir: std::path::PathBuf,
}

#[telemetry::track(
    "cmd.complete",
    capture(
        shell: ShellKind = shell_kind(&shell),
        open_browser = open,
        jobs: u16 = args.jobs.unwrap_or(1),
        threads = args.jobs.map(|j| j * 2),
        dir = Hashed::new("dir", args.dir.as_os_str().as_encoded_bytes()),
        many = args.jobs.is_some() && open,
        small = 300_u32 as u8,
    )
)]
fn complete(shell: Shell, open: bool, args: Args) -> Result<(), std::io::Error> {
    let Args { dir, .. } = args; // moves the parameter the captures read
    let _ = (shell, open, dir);
    Ok(())
}

struct Server {
    port: u16,
    verbose: bool,
}

impl Server {
    #[telemetry::track("cmd.serve", capture(port = self.port, verbose: bool = self.verbose))]
    fn serve(self) -> u16 {
        self.port
    }

    #[telemetry::track("cmd.serve_async", capture(port: u16 = self.port))]
    async fn serve_async(&self) -> u16 {
        self.port
    }

    #[telemetry::track("cmd.serve_later", capture(port: u16 = self.port))]
    fn serve_later(&self) -> impl std::future::Future<Output = u16> + '_ {
        async move { self.port }
    }
}

#[telemetry::track("cmd.borrowed", capture(kind: &'a ShellKind = kinds.last().unwrap_or(&ShellKind::Other), first: &ShellKind = kinds.first().unwrap_or(&ShellKind::Bash)))]
fn borrowed<'a>(kinds: &'a [ShellKind]) -> usize {
    kinds.len()
}

#[telemetry::track("cmd.generic", capture(value: T = item, doubled = count * 2))]
fn generic<T: SafeValue + Copy>(item: T, count: u32) -> u32 {
    let _ = item;
    count
}

fn main() {
    complete(
        Shell::Fish,
        true,
        Args { jobs: Some(2), open: false, dir: "/tmp".into() },
    )
    .unwrap();
    let _ = (Shell::Bash, Args { jobs: None, open: true, dir: "x".into() }.open);
    let server = Server { port: 8080, verbose: false };
    let _ = server.serve_async();
    let _ = server.serve_later();
    assert_eq!(server.serve(), 8080);
    assert_eq!(generic(true, 3), 3);
    assert_eq!(borrowed(&[ShellKind::Other]), 1);

    let spec = telemetry::catalog::events()
        .into_iter()
        .find(|s| s.name() == "cmd.complete")
        .unwrap();
    let kinds: Vec<_> = spec.captures().iter().map(|c| (c.key(), c.kind())).collect();
    assert_eq!(
        kinds,
        [
            ("shell", "string"),
            ("open_browser", "bool"),
            ("jobs", "int"),
            ("threads", "any"),
            ("dir", "any"),
            ("many", "any"),
            ("small", "int"),
        ]
    );
    assert_eq!(spec.captures()[0].values(), ["bash", "other"]);
}
