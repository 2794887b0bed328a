//! The opt-out notice: shown once, on standard error, only on an interactive terminal.

use std::io::Write;

use super::{ConsentMode, Decision, ToolInfo, record_notice_shown};
use crate::error::TelemetryError;

/// Shows the opt-out notice if `decision` says it is due, after recording in the config
/// file that it was shown (so a file that cannot be written means no notice, rather
/// than a notice on every run). Never reads standard input. Returns whether it was shown.
///
/// ```
/// use telemetry::consent::{ConsentMode, Env, ToolInfo, resolve, show_notice};
/// let dir = tempfile::tempdir().unwrap();
/// let tool = ToolInfo::new("mytool").with_mode(ConsentMode::OptOut { notice: "Hello!".into() });
/// let env = Env::empty().with_config_dir(dir.path()).with_terminal(true);
/// let mut out = Vec::new();
/// let shown = show_notice(&tool, &resolve(&tool, &env), &mut out).unwrap();
/// # #[cfg(feature = "collect")]
/// assert!(shown && String::from_utf8(out.clone()).unwrap().contains("Hello!"));
/// # #[cfg(feature = "collect")]
/// assert!(String::from_utf8(out).unwrap().contains("`mytool telemetry schema` lists everything"));
/// ```
pub fn show_notice(
    tool: &ToolInfo,
    decision: &Decision,
    out: &mut dyn Write,
) -> Result<bool, TelemetryError> {
    let (ConsentMode::OptOut { notice }, true, Some(path)) = (
        &tool.mode,
        decision.notice_due,
        decision.config_path.as_deref(),
    ) else {
        return Ok(false);
    };
    record_notice_shown(path)?;
    let prefix = tool.env_prefix();
    let text = format!(
        "{notice}\n(Nothing is sent during this run. `{name} telemetry schema` lists \
         everything that can be sent. To opt out: `{name} telemetry disable`, or set \
         {prefix}_TELEMETRY=0 or DO_NOT_TRACK=1.)\n",
        name = tool.name
    );
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| TelemetryError::io("write the notice to", "stderr", e))?;
    Ok(true)
}
