//! Asking the backend to delete what it holds for this machine (`telemetry reset`).
//!
//! A deletion request carries the machine id, so it is itself a transmission: it is
//! sent only when nothing forbids sending and there can be something to delete
//! ([`TelemetryContext::deletion_request_allowed`](crate::TelemetryContext::deletion_request_allowed)):
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

use std::sync::Arc;
use std::time::Duration;

use crate::consent::DecisionSource;
use crate::error::TelemetryError;
use crate::event::Event;
use crate::sink::TelemetrySink;
use crate::sink::{BoxFuture, boxed_async};

/// The event name of a deletion request sent through the sinks.
pub const DELETION_EVENT: &str = "data.deletion_request";

/// The longest a deletion request may take.
pub const DELETION_TIMEOUT: Duration = Duration::from_secs(5);

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
    /// The tool collects anonymous reports (report mode): nothing it sends is tied to
    /// this machine, and a request would send the machine id.
    Anonymous,
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
            Self::Anonymous => f.write_str(
                "this tool sends anonymous reports, which nothing ties to this machine, so there is nothing to delete (a request would send the machine id)",
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
            Self::Anonymous => format!(
                "none is needed: the reports {tool} kept on this machine are deleted, and those it sent carry no identifier"
            ),
        }
    }
}

/// The variables behind an environment veto, in words.
pub(crate) fn veto_words(rule: DecisionSource, prefix: &str) -> String {
    match rule {
        DecisionSource::DoNotTrack => "DO_NOT_TRACK".into(),
        DecisionSource::EnvDisabled => {
            format!("{prefix}_TELEMETRY_DISABLED or {prefix}_TELEMETRY=0")
        }
        DecisionSource::Ci => "the CI variables (CI or a CI service's variable)".into(),
        other => other.as_str().into(),
    }
}

/// What a deletion request is about: the salted machine id the events carried, the
/// tool, and the sinks the events went to. Made by
/// [`TelemetryContext::reset`](crate::TelemetryContext::reset) for the configured
/// [`DeletionRequestor`].
#[derive(Clone, Copy)]
pub struct DeletionRequest<'a> {
    pub(crate) tool: &'a str,
    pub(crate) tool_version: &'a str,
    pub(crate) machine_id: &'a str,
    pub(crate) sink: &'a Arc<dyn TelemetrySink>,
}

impl std::fmt::Debug for DeletionRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeletionRequest")
            .field("tool", &self.tool)
            .field("tool_version", &self.tool_version)
            .field("machine_id", &self.machine_id)
            .field("sink", &self.sink.describe())
            .finish()
    }
}

impl DeletionRequest<'_> {
    /// The salted machine id whose data should be deleted.
    ///
    /// ```
    /// # fn f(req: &telemetry::deletion::DeletionRequest<'_>) {
    /// assert_eq!(req.machine_id().len(), 64);
    /// # }
    /// ```
    pub fn machine_id(&self) -> &str {
        self.machine_id
    }

    /// The tool's name.
    ///
    /// ```
    /// # fn f<'a>(req: &'a telemetry::deletion::DeletionRequest<'a>) -> &'a str {
    /// req.tool()
    /// # }
    /// ```
    pub fn tool(&self) -> &str {
        self.tool
    }

    /// The tool's version.
    ///
    /// ```
    /// # fn f<'a>(req: &'a telemetry::deletion::DeletionRequest<'a>) -> &'a str {
    /// req.tool_version()
    /// # }
    /// ```
    pub fn tool_version(&self) -> &str {
        self.tool_version
    }

    /// The context's sinks (one, or a tee of several): where the events went.
    ///
    /// ```
    /// # fn f(req: &telemetry::deletion::DeletionRequest<'_>) -> String {
    /// req.sink().describe()
    /// # }
    /// ```
    pub fn sink(&self) -> &dyn TelemetrySink {
        &**self.sink
    }
}

/// A way to ask for deletion. `request` returns a line for the user saying what was done.
/// Its signature is the one `#[async_trait::async_trait]` gives an `async fn` (see
/// [`BoxFuture`]).
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
pub trait DeletionRequestor: Send + Sync + 'static {
    /// Makes the request (bounded in time by the caller).
    fn request<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        req: &'life1 DeletionRequest<'life2>,
    ) -> BoxFuture<'async_trait, Result<String, TelemetryError>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait;
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

impl DeletionRequestor for EventDeletionRequestor {
    boxed_async! {
        fn request(&self, req: &DeletionRequest<'_>) -> Result<String, TelemetryError> {
            let event = Event::now(
                DELETION_EVENT.into(),
                req.tool().into(),
                req.tool_version().into(),
                req.machine_id().into(),
            );
            let sink = req.sink();
            sink.emit(&event).await?;
            sink.flush().await?;
            Ok(format!(
                "deletion request event sent to {}",
                sink.describe()
            ))
        }
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

impl DeletionRequestor for MailtoDeletionRequestor {
    boxed_async! {
        fn request(&self, req: &DeletionRequest<'_>) -> Result<String, TelemetryError> {
            Ok(format!(
                "to ask for deletion by e-mail, open: {}",
                self.link(req.tool(), req.machine_id())
            ))
        }
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
impl DeletionRequestor for HttpDeletionRequestor {
    boxed_async! {
        fn request(&self, req: &DeletionRequest<'_>) -> Result<String, TelemetryError> {
            let body = crate::util::json::ObjectBuilder::new()
                .field("machine_id", req.machine_id())
                .build()
                .to_vec();
            self.transport.post("application/json", body).await?;
            Ok(format!(
                "deletion request accepted by {}",
                self.transport.endpoint()
            ))
        }
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
