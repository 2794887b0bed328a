//! Starting the uploader: the tool's own executable, detached, silent, and reaped.

use std::process::{Command, Stdio};

use super::{MARKER_SPAWNED, UPLOADER_ARG, UploadLock, marker_var};

/// Starts `tool`'s uploader holding `lock` (its standard input). The child is reaped
/// by a thread of this process if it ends first; otherwise the system reaps it.
pub(crate) fn spawn(tool: &str, lock: UploadLock) -> std::io::Result<()> {
    let exe = std::env::current_exe()?;
    let mut command = Command::new(exe);
    command
        .arg(UPLOADER_ARG)
        .env(marker_var(tool), MARKER_SPAWNED)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // `flock` belongs to the open file, which the child shares through its
        // standard input: the lock passes to it with no gap.
        command.stdin(Stdio::from(lock.into_file()));
        // Its own process group: a Ctrl-C at the terminal is for the tool, not for a
        // background upload that is bounded anyway.
        command.process_group(0);
    }
    #[cfg(not(unix))]
    {
        // Elsewhere a lock belongs to the handle that took it: let go, and the child
        // takes its own (a second uploader started in that gap finds it held and
        // exits).
        drop(lock);
        command.stdin(Stdio::null());
    }
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
        const CREATE_NO_WINDOW: u32 = 0x0800_0000;
        command.creation_flags(CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW);
    }
    let mut child = command.spawn()?;
    // Not joined: the process exits without waiting for it.
    let reaper = std::thread::Builder::new()
        .name("telemetry-reaper".into())
        .spawn(move || {
            let _ = child.wait();
        });
    if let Err(e) = reaper {
        crate::util::log::debug!(error = %e, "telemetry: uploader left for the system to reap");
    }
    Ok(())
}
