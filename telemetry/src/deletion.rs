//! Asking the backend to delete what it holds for this machine (`telemetry reset`).
//!
//! A deletion request carries the machine id, so it is itself a transmission: it is
//! sent only when nothing forbids sending and there can be something to delete
//! ([`TelemetryContext::deletion_request_allowed`]):
//!
//! 1. no environment veto: `DO_NOT_TRACK`, `<TOOL>_TELEMETRY_DISABLED`,
//!    `<TOOL>_TELEMETRY=0`, CI (unless `<TOOL>_TELEMETRY=1`) or the `collect` feature
//!    off all mean nothing is sent, this request included, even when the tool's policy
//!    is set in code;
//! 2. and telemetry was enabled on this machine: in this process (as the context was
//!    built), or according to the config file's `ever_enabled` record (see
//!    [`ConfigFile::was_ever_enabled`](crate::consent::ConfigFile::was_ever_enabled)
//!    for files written before that record existed). A config file the trust rules
//!    refuse says nothing.
//!
//! Otherwise the machine id is not even derived.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;

use crate::consent::CollectionPolicy;
use crate::consent::{self, ConfigState, DecisionSource};
use crate::context::TelemetryContext;
use crate::error::TelemetryError;
use crate::event::Event;
use crate::util::fs::{self as fsutil, DirLink};

/// The event name of a deletion request sent through the sinks.
pub const DELETION_EVENT: &str = "data.deletion_request";

/// The longest [`TelemetryContext::request_deletion`] waits.
pub const DELETION_TIMEOUT: Duration = Duration::from_secs(5);

/// One local file [`TelemetryContext::forget_identity`] dealt with.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink)
/// #     .data_dir(dir.path().join("d")).config_dir(dir.path().join("c")).build().unwrap();
/// for removal in ctx.forget_identity() {
///     assert_eq!(removal.result.unwrap(), false, "nothing there to delete");
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct Removal {
    /// What the file is (`install id`, `local key`, `local event log`).
    pub what: &'static str,
    /// Where it is.
    pub path: PathBuf,
    /// `Ok(true)`: deleted; `Ok(false)`: there was none; `Err`: it could not be deleted
    /// (including when its directory is refused by the trust rules).
    pub result: Result<bool, TelemetryError>,
}

/// Why no deletion request is sent (see the module docs).
///
/// ```
/// use telemetry::deletion::NoRequest;
/// let why = NoRequest::NeverEnabled;
/// assert!(why.to_string().contains("never enabled"));
/// assert!(why.how_to_send("mytool").contains("mytool telemetry enable"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoRequest {
    /// An environment rule keeps telemetry from sending anything.
    Vetoed {
        /// Which rule.
        rule: DecisionSource,
        /// The variable(s) behind it, in words.
        what: String,
    },
    /// Telemetry was never enabled on this machine, as far as the config file tells.
    NeverEnabled,
    /// The config file is refused by the trust rules, so nothing it says is believed.
    ConfigRefused {
        /// Why it is refused.
        reason: String,
    },
}

impl std::fmt::Display for NoRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Vetoed {
                rule: DecisionSource::CompiledOut,
                ..
            } => f.write_str(
                "this build has telemetry compiled out, so it never sent anything",
            ),
            Self::Vetoed { what, .. } => write!(
                f,
                "{what} keeps telemetry from sending anything, this request included"
            ),
            Self::NeverEnabled => f.write_str(
                "telemetry was never enabled on this machine (the config file has no record of it), so nothing was sent that could be deleted",
            ),
            Self::ConfigRefused { reason } => write!(
                f,
                "the config file is not trusted ({reason}), so whether telemetry was ever enabled is unknown"
            ),
        }
    }
}

impl NoRequest {
    /// What the user can do to send a request anyway, for the tool `tool`.
    ///
    /// ```
    /// use telemetry::consent::DecisionSource;
    /// let why = telemetry::deletion::NoRequest::Vetoed { rule: DecisionSource::DoNotTrack, what: "DO_NOT_TRACK".into() };
    /// assert!(why.how_to_send("mytool").contains("without DO_NOT_TRACK"));
    /// ```
    pub fn how_to_send(&self, tool: &str) -> String {
        match self {
            Self::Vetoed {
                rule: DecisionSource::CompiledOut,
                ..
            } => format!(
                "a build of {tool} with telemetry compiled in can send one with `{tool} telemetry reset`"
            ),
            Self::Vetoed { what, .. } => {
                format!("to send one, run `{tool} telemetry reset` without {what} set")
            }
            Self::NeverEnabled => format!(
                "if it was enabled (for example by an older version of {tool}), run `{tool} telemetry enable`, then `{tool} telemetry reset`"
            ),
            Self::ConfigRefused { .. } => format!(
                "fix the file's owner or permissions (or remove it), then run `{tool} telemetry reset` again"
            ),
        }
    }
}

/// The variables behind an environment veto, in words.
fn veto_words(rule: DecisionSource, prefix: &str) -> String {
    match rule {
        DecisionSource::DoNotTrack => "DO_NOT_TRACK".into(),
        DecisionSource::EnvDisabled => {
            format!("{prefix}_TELEMETRY_DISABLED or {prefix}_TELEMETRY=0")
        }
        DecisionSource::Ci => "the CI variables (CI or a CI service's variable)".into(),
        other => other.as_str().into(),
    }
}

impl TelemetryContext {
    /// Whether a deletion request may be sent now (module docs): no environment veto,
    /// and telemetry was enabled in this process or, per the config file (read again
    /// now), on this machine before. Derives nothing, sends nothing.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink)
    ///     .env(telemetry::consent::Env::empty().with_config_dir(dir.path())).build().unwrap();
    /// # #[cfg(feature = "collect")]
    /// assert_eq!(ctx.deletion_request_allowed(), Err(telemetry::deletion::NoRequest::NeverEnabled));
    /// ```
    pub fn deletion_request_allowed(&self) -> Result<(), NoRequest> {
        let decision = self.decision();
        if let Some(rule) = decision.env_veto {
            return Err(NoRequest::Vetoed {
                rule,
                what: veto_words(rule, &self.tool_info().env_prefix()),
            });
        }
        if decision.policy == CollectionPolicy::Enabled {
            return Ok(());
        }
        match decision.config_path.as_deref().map(consent::load_config) {
            Some(ConfigState::Valid(file)) if file.was_ever_enabled() => Ok(()),
            Some(ConfigState::Refused { reason }) => Err(NoRequest::ConfigRefused { reason }),
            _ => Err(NoRequest::NeverEnabled),
        }
    }

    /// Asks the backend to delete what it holds for this machine, with the configured
    /// [`DeletionRequestor`], waiting at most [`DELETION_TIMEOUT`]. Runs on a thread of
    /// its own, so it works the same from sync code and inside an async runtime.
    /// Returns the requestor's report. (`telemetry reset` calls it.)
    ///
    /// Refused with [`TelemetryError::NotSent`], without deriving the machine id, unless
    /// [`deletion_request_allowed`](Self::deletion_request_allowed).
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::MemorySink::new())
    /// #     .policy(telemetry::CollectionPolicy::Enabled).build().unwrap();
    /// # #[cfg(feature = "collect")] {
    /// let report = ctx.request_deletion()?;
    /// assert!(report.contains("deletion request event sent"));
    /// # }
    /// # Ok::<(), telemetry::TelemetryError>(())
    /// ```
    pub fn request_deletion(&self) -> Result<String, TelemetryError> {
        if let Err(why) = self.deletion_request_allowed() {
            return Err(TelemetryError::NotSent {
                reason: why.to_string(),
                help: why.how_to_send(self.tool()),
            });
        }
        let machine_id = self.machine_id().to_owned();
        std::thread::scope(|scope| {
            let handle = scope.spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| {
                        TelemetryError::Worker(format!("no runtime for the deletion request: {e}"))
                    })?;
                let request = DeletionRequest::new(self, &machine_id);
                runtime.block_on(async {
                    tokio::time::timeout(
                        DELETION_TIMEOUT,
                        self.deletion_requestor().request(&request),
                    )
                    .await
                    .map_err(|_| TelemetryError::Timeout {
                        deadline: DELETION_TIMEOUT,
                    })?
                })
            });
            handle.join().unwrap_or_else(|_| {
                Err(TelemetryError::Worker(
                    "the deletion request panicked".into(),
                ))
            })
        })
    }

    /// Deletes what identifies this installation locally: the install id, the key of
    /// [`Hashed`](crate::Hashed) values (a new one is made if telemetry is used again,
    /// so later digests do not match earlier ones) and the local event log. Every file
    /// is attempted; each result is reported. (`telemetry reset` calls it.)
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink)
    /// #     .data_dir(dir.path().join("d")).config_dir(dir.path().join("c")).local_log().build().unwrap();
    /// let whats: Vec<_> = ctx.forget_identity().into_iter().map(|r| r.what).collect();
    /// assert_eq!(whats, ["install id", "local key", "local event log"]);
    /// ```
    pub fn forget_identity(&self) -> Vec<Removal> {
        let files = [
            (
                "install id",
                self.data_dir()
                    .map(|d| d.join(crate::identity::INSTALL_ID_FILE)),
            ),
            (
                "local key",
                self.config_dir().map(|d| d.join(crate::hashed::KEY_FILE)),
            ),
            ("local event log", self.local_log_path().map(PathBuf::from)),
        ];
        let removals = files
            .into_iter()
            .filter_map(|(what, path)| path.map(|p| (what, p)))
            .map(|(what, path)| {
                // The key lives in the user's config dir (may be a link to their
                // dotfiles); the others in the data dir, which must not be a link.
                let link = if what == "local key" {
                    DirLink::Allowed
                } else {
                    DirLink::Refused
                };
                let result = fsutil::remove_checked(&path, link);
                Removal { what, path, result }
            })
            .collect();
        crate::hashed::forget_cached_key();
        removals
    }
}

/// What a deletion request is about.
///
/// ```
/// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
/// let req = telemetry::deletion::DeletionRequest::new(&ctx, "ab12");
/// assert_eq!(req.machine_id(), "ab12");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct DeletionRequest<'a> {
    ctx: &'a TelemetryContext,
    machine_id: &'a str,
}

impl<'a> DeletionRequest<'a> {
    /// A request for the data of `machine_id` (the salted id the events carried).
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// let req = telemetry::deletion::DeletionRequest::new(&ctx, "ab12");
    /// assert_eq!(req.tool(), "t");
    /// ```
    pub fn new(ctx: &'a TelemetryContext, machine_id: &'a str) -> Self {
        Self { ctx, machine_id }
    }

    /// The salted machine id whose data should be deleted.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// assert_eq!(telemetry::deletion::DeletionRequest::new(&ctx, "x").machine_id(), "x");
    /// ```
    pub fn machine_id(&self) -> &str {
        self.machine_id
    }

    /// The tool's name.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// assert_eq!(telemetry::deletion::DeletionRequest::new(&ctx, "x").tool(), "t");
    /// ```
    pub fn tool(&self) -> &str {
        self.ctx.tool()
    }

    /// The context the request is made for (its sinks, its tool version).
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool("t").tool_version("1").sink(telemetry::NoopSink).build().unwrap();
    /// assert_eq!(telemetry::deletion::DeletionRequest::new(&ctx, "x").context().tool_version(), "1");
    /// ```
    pub fn context(&self) -> &TelemetryContext {
        self.ctx
    }
}

/// A way to ask for deletion. `request` returns a line for the user saying what was done.
///
/// ```
/// use telemetry::deletion::{DeletionRequest, DeletionRequestor};
///
/// struct Ticket;
///
/// #[async_trait::async_trait]
/// impl DeletionRequestor for Ticket {
///     async fn request(&self, req: &DeletionRequest<'_>) -> Result<String, telemetry::TelemetryError> {
///         Ok(format!("open a ticket quoting id {}", req.machine_id()))
///     }
/// }
/// ```
#[async_trait]
pub trait DeletionRequestor: Send + Sync + 'static {
    /// Makes the request (bounded in time by the caller).
    async fn request(&self, req: &DeletionRequest<'_>) -> Result<String, TelemetryError>;
}

/// The default: sends a `data.deletion_request` event, carrying the machine id, through
/// the context's sinks, so any backend that receives events receives the request.
///
/// ```
/// let requestor = telemetry::deletion::EventDeletionRequestor;
/// # drop(requestor);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct EventDeletionRequestor;

#[async_trait]
impl DeletionRequestor for EventDeletionRequestor {
    async fn request(&self, req: &DeletionRequest<'_>) -> Result<String, TelemetryError> {
        let ctx = req.context();
        let event = Event::now(
            DELETION_EVENT.into(),
            ctx.tool().into(),
            ctx.tool_version().into(),
            req.machine_id().into(),
        );
        let sink = ctx.sink();
        sink.emit(&event).await?;
        sink.flush().await?;
        Ok(format!(
            "deletion request event sent to {}",
            ctx.describe_sinks()
        ))
    }
}

/// Prints a pre-filled `mailto:` link the user can open to ask for deletion by email.
/// The subject and body are percent-encoded (RFC 6068), so nothing in them can add
/// headers or recipients.
///
/// ```
/// let m = telemetry::deletion::MailtoDeletionRequestor::new("privacy@example.com").unwrap();
/// let link = m.link("mytool", "ab12");
/// assert!(link.starts_with("mailto:privacy@example.com?subject="));
/// assert!(!link.contains(' ') && !link.contains('\n'));
/// ```
#[derive(Debug, Clone)]
pub struct MailtoDeletionRequestor {
    address: String,
}

impl MailtoDeletionRequestor {
    /// A requestor writing to `address`; refuses anything that is not one plain address.
    ///
    /// ```
    /// use telemetry::deletion::MailtoDeletionRequestor;
    /// assert!(MailtoDeletionRequestor::new("a@b.example").is_ok());
    /// assert!(MailtoDeletionRequestor::new("a@b.example?cc=x@y.example").is_err());
    /// ```
    pub fn new(address: impl Into<String>) -> Result<Self, TelemetryError> {
        let address = address.into();
        let valid = address.split('@').count() == 2
            && address.split('@').all(|part| !part.is_empty())
            && address
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"@.-_+".contains(&b));
        if valid {
            Ok(Self { address })
        } else {
            Err(TelemetryError::Config(format!(
                "{address:?} is not a plain e-mail address"
            )))
        }
    }

    /// The `mailto:` link for `tool` and `machine_id`.
    ///
    /// ```
    /// let m = telemetry::deletion::MailtoDeletionRequestor::new("p@example.com").unwrap();
    /// assert!(m.link("t", "ab12").contains("ab12"));
    /// ```
    pub fn link(&self, tool: &str, machine_id: &str) -> String {
        let subject = format!("Telemetry data deletion request ({tool})");
        let body = format!(
            "Please delete all telemetry data recorded for this installation of {tool}.\r\n\r\nMachine id: {machine_id}\r\n"
        );
        format!(
            "mailto:{}?subject={}&body={}",
            self.address,
            percent_encode(&subject),
            percent_encode(&body)
        )
    }
}

#[async_trait]
impl DeletionRequestor for MailtoDeletionRequestor {
    async fn request(&self, req: &DeletionRequest<'_>) -> Result<String, TelemetryError> {
        Ok(format!(
            "to ask for deletion by e-mail, open: {}",
            self.link(req.tool(), req.machine_id())
        ))
    }
}

/// POSTs `{"machine_id": "..."}` to a deletion endpoint (feature `http`). `https` only
/// unless [`allow_insecure_http`](HttpDeletionRequestorBuilder::allow_insecure_http);
/// connect timeout 3 s, whole request 5 s; headers such as an API key are kept out of
/// `Debug` output and errors.
///
/// ```
/// let requestor = telemetry::deletion::HttpDeletionRequestor::builder("https://telemetry.example.com/v1/delete")
///     .api_key("x-api-key", "secret")
///     .build()?;
/// assert!(!format!("{requestor:?}").contains("secret"));
/// # Ok::<(), telemetry::TelemetryError>(())
/// ```
#[cfg(feature = "http")]
#[derive(Debug)]
pub struct HttpDeletionRequestor {
    transport: crate::sink::client::Transport,
}

/// Configures an [`HttpDeletionRequestor`].
///
/// ```
/// let b = telemetry::deletion::HttpDeletionRequestor::builder("https://example.com/delete");
/// # drop(b);
/// ```
#[cfg(feature = "http")]
#[derive(Debug)]
#[must_use]
pub struct HttpDeletionRequestorBuilder {
    config: crate::sink::client::ClientConfig,
}

#[cfg(feature = "http")]
impl HttpDeletionRequestor {
    /// Starts configuring a requestor for `url`.
    ///
    /// ```
    /// let r = telemetry::deletion::HttpDeletionRequestor::builder("http://example.com/delete").build();
    /// assert!(r.is_err(), "plain http needs an explicit opt-in");
    /// ```
    pub fn builder(url: &str) -> HttpDeletionRequestorBuilder {
        let mut config = crate::sink::client::ClientConfig::new(url);
        config.request_timeout(std::time::Duration::from_secs(5));
        HttpDeletionRequestorBuilder { config }
    }
}

#[cfg(feature = "http")]
crate::sink::client::client_settings!(
    HttpDeletionRequestorBuilder,
    "telemetry::deletion::HttpDeletionRequestor::builder(\"https://e.example/d\")"
);

#[cfg(feature = "http")]
impl HttpDeletionRequestorBuilder {
    /// Checks the URL and headers. No network access happens here.
    ///
    /// ```
    /// assert!(telemetry::deletion::HttpDeletionRequestor::builder("not a url").build().is_err());
    /// ```
    pub fn build(self) -> Result<HttpDeletionRequestor, TelemetryError> {
        Ok(HttpDeletionRequestor {
            transport: self.config.build("HttpDeletionRequestor")?,
        })
    }
}

#[cfg(feature = "http")]
#[async_trait]
impl DeletionRequestor for HttpDeletionRequestor {
    async fn request(&self, req: &DeletionRequest<'_>) -> Result<String, TelemetryError> {
        let body = serde_json::to_vec(&serde_json::json!({ "machine_id": req.machine_id() }))
            .map_err(|source| TelemetryError::Serde {
                what: "the deletion request",
                source,
            })?;
        self.transport.post("application/json", body).await?;
        Ok(format!(
            "deletion request accepted by {}",
            self.transport.endpoint()
        ))
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push_str(&crate::util::hex::encode(&[b]).to_ascii_uppercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailto_cannot_be_injected() {
        let m = MailtoDeletionRequestor::new("privacy@example.com").unwrap();
        let link = m.link("evil\r\nBcc: x@y.example&cc=z@y.example?", "id");
        let query = link.split_once('?').unwrap().1;
        let params: Vec<&str> = query.split('&').collect();
        assert_eq!(params.len(), 2, "{link}");
        assert!(params[0].starts_with("subject=") && params[1].starts_with("body="));
        for forbidden in ['\r', '\n', ' ', '?'] {
            assert!(!query.contains(forbidden), "{link}");
        }
        assert!(link.contains("%0D%0ABcc%3A"));
    }

    #[test]
    fn addresses_are_checked() {
        for bad in [
            "",
            "a",
            "a@",
            "@b",
            "a@b@c",
            "a b@c",
            "a@b\r\nBcc:c@d",
            "a@b?x=y",
            "a@b&c",
        ] {
            assert!(MailtoDeletionRequestor::new(bad).is_err(), "{bad:?}");
        }
    }
}
