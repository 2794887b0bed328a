//! The first thing the uploader does: let go of what it inherited by accident.

/// Starts this uploader again without the descriptors it inherited, then never
/// returns; returns at once when that was done already (or cannot be done here).
///
/// Rust opens every file close-on-exec, but a tool may itself have *inherited*
/// descriptors without that flag (a test harness's pipe on fd 3, a jobserver's, a
/// terminal multiplexer's); the uploader would hold them for up to its time limit,
/// and whoever reads such a pipe would wait for it. Closing a descriptor this process
/// does not own needs `unsafe` code, which this crate forbids: instead every
/// descriptor from 3 up is marked close-on-exec (`close_fds`, a safe function) and
/// the uploader replaces itself with a fresh copy (`exec`), which keeps only standard
/// input (the lock), output and error. This happens in the background process, never
/// on the tool's exit path, and once: the fresh copy is marked as such.
pub(crate) fn shed_inherited_descriptors(tool: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        use std::process::Command;

        use super::{MARKER_CLEAN, UPLOADER_ARG, marker_var};

        let var = marker_var(tool);
        if std::env::var_os(&var).is_some_and(|v| v == MARKER_CLEAN) {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        close_fds::set_fds_cloexec_threadsafe(3, &[]);
        let error = Command::new(exe)
            .arg(UPLOADER_ARG)
            .env(var, MARKER_CLEAN)
            .exec();
        // Still here: carry on as this process, descriptors and all.
        crate::util::log::debug!(error = %error, "telemetry: uploader could not start afresh");
    }
    #[cfg(not(unix))]
    let _ = tool;
}
