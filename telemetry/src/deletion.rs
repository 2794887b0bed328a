//! Asking the backend to delete what it holds for this machine (`telemetry reset`).

use async_trait::async_trait;

use crate::context::TelemetryContext;
use crate::error::TelemetryError;
use crate::event::Event;

/// The event name of a deletion request sent through the sinks.
pub const DELETION_EVENT: &str = "data.deletion_request";

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
        let event = Event::new(
            DELETION_EVENT,
            ctx.tool(),
            ctx.tool_version(),
            req.machine_id(),
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

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push_str(&crate::identity::hex(&[b]).to_ascii_uppercase());
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
