//! `telemetry schema`: everything a tool can send, as data ([`Schema`], serialised as
//! JSON) or as Markdown tables for the tool's documentation.
//!
//! The whole truth, from what the binary and its context declare: the fields the
//! library puts in every event, the context's default attributes (declared by
//! `attrs!` with the kind of each value), every event of the catalog (`#[track]` and
//! `record!` sites, registered at link time), and the `data.deletion_request` event
//! when the deletion requestor sends one.

use std::fmt::Write as _;

use super::TelemetryContext;
use crate::catalog::{self, CaptureSpec, EventSpec};
use crate::deletion::DELETION_EVENT;
use crate::event::Outcome;
use crate::util::json::{Json, ObjectBuilder};
use crate::value::AttrValue;

/// The deletion request sent through the sinks by
/// [`EventDeletionRequestor`](crate::deletion::EventDeletionRequestor): the fields of
/// every event, no attribute. Not in the link-time catalog: replay never accepts it.
static DELETION_SPEC: EventSpec = EventSpec::new(DELETION_EVENT, &[], &[], module_path!());

/// Every outcome, in the order shown. The `match` keeps the list whole: a new
/// variant does not compile until it is listed here.
const OUTCOMES: [Outcome; 5] = {
    const fn listed(outcome: Outcome) {
        match outcome {
            Outcome::Ok
            | Outcome::Error
            | Outcome::Panic
            | Outcome::Cancelled
            | Outcome::Interrupted => {}
        }
    }
    listed(Outcome::Ok);
    [
        Outcome::Ok,
        Outcome::Error,
        Outcome::Panic,
        Outcome::Cancelled,
        Outcome::Interrupted,
    ]
};

/// One field the library puts in events (beside the attributes).
///
/// ```
/// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
/// let schema = ctx.schema();
/// let outcome = schema.fields.iter().find(|f| f.name == "outcome").unwrap();
/// assert_eq!(outcome.values, ["ok", "error", "panic", "cancelled", "interrupted"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SchemaField {
    /// The field's name in the JSON of an event (the local log, `HttpSink`).
    pub name: &'static str,
    /// `string`, `float` or `map`.
    pub kind: &'static str,
    /// What it holds, in words for the tool's users.
    pub description: &'static str,
    /// The values it can take, when they are a fixed set (written only then).
    pub values: Vec<&'static str>,
}

impl SchemaField {
    const fn new(name: &'static str, kind: &'static str, description: &'static str) -> Self {
        Self {
            name,
            kind,
            description,
            values: Vec::new(),
        }
    }
}

/// The fields of a report row (report mode), in the order a row is written; a report
/// adds `tool`, `period`, `period_start`, `period_end`, `os` and `arch` once.
fn report_fields() -> Vec<SchemaField> {
    vec![
        SchemaField::new("event", "string", "the event's name, from the list below"),
        SchemaField::new(
            "tool_version",
            "string",
            "the version of the tool that recorded it",
        ),
        SchemaField {
            values: vec!["ok", "error", "panic", "cancelled", "interrupted"],
            ..SchemaField::new("outcome", "string", "how the calls ended")
        },
        SchemaField::new(
            "error_kind",
            "string",
            "for errors: the error's type or category, never its message",
        ),
        SchemaField::new(
            "attrs",
            "map",
            "the event's attributes listed below (never a `Hashed` value); at most a fixed \
             number of distinct combinations per event, the rest counted in an `_other` row",
        ),
        SchemaField::new("count", "int", "how many calls"),
        SchemaField::new(
            "duration_ms",
            "map",
            "sum, min, max and a count per fixed bucket (powers of two from 1 ms) of their durations",
        ),
    ]
}

/// The fields of every event, in the order an event is written.
fn fields() -> Vec<SchemaField> {
    vec![
        SchemaField::new(
            "event_id",
            "string",
            "a random id (UUID v4), new for every event",
        ),
        SchemaField::new(
            "name",
            "string",
            "the event's name: one of the events listed below",
        ),
        SchemaField::new("tool", "string", "the tool's name"),
        SchemaField::new("tool_version", "string", "the tool's version"),
        SchemaField::new(
            "machine_id",
            "string",
            "a salted SHA-256 hash (64 hex characters) of this machine's id, or of a random \
             install id where the system has none; never the id itself",
        ),
        SchemaField::new(
            "session_id",
            "string",
            "a random id (UUID v4), new for every run of the tool",
        ),
        SchemaField::new(
            "timestamp_utc",
            "string",
            "when it happened: RFC 3339, UTC, in milliseconds",
        ),
        SchemaField::new(
            "os",
            "string",
            "the operating system family (`linux`, `macos`, `windows`, ...)",
        ),
        SchemaField::new(
            "arch",
            "string",
            "the CPU architecture (`x86_64`, `aarch64`, ...)",
        ),
        SchemaField::new(
            "duration_ms",
            "float",
            "how long the command ran, in milliseconds; only on events that time a command",
        ),
        SchemaField {
            values: OUTCOMES.iter().map(|o| o.as_str()).collect(),
            ..SchemaField::new(
                "outcome",
                "string",
                "how the command ended (`ok` for events that are not a command)",
            )
        },
        SchemaField::new(
            "error_kind",
            "string",
            "only when the outcome is `error`: a word for the kind of error (one the tool \
             lists for the command, or an I/O error's kind such as `not_found`), else the \
             name of the error's type in the source code with any number in it replaced by \
             `_`; never the error's message",
        ),
        SchemaField::new(
            "attrs",
            "map",
            "the event's attributes (listed with each event below) and the attributes of \
             every event",
        ),
    ]
}

/// Everything a tool can send: what `telemetry schema` prints (as JSON, or with
/// [`to_markdown`](Self::to_markdown)). Made by [`TelemetryContext::schema`].
///
/// ```
/// #[telemetry::track("docs.schema_example", capture(jobs))]
/// fn build(jobs: u16) {}
/// # build(1);
///
/// let ctx = telemetry::TelemetryContext::builder()
///     .tool(telemetry::tool!("mytool", "1.0.0"))
///     .default_attrs(telemetry::attrs!(container = false))
///     .sink(telemetry::sink::NoopSink)
///     .build()?;
/// let schema = ctx.schema();
/// let json: serde_json::Value = serde_json::from_str(&schema.to_json()).unwrap();
/// assert_eq!(json["default_attrs"]["container"], "bool");
/// let names: Vec<_> = schema.events.iter().map(|e| e.name()).collect();
/// assert!(names.contains(&"docs.schema_example") && names.contains(&"data.deletion_request"));
/// assert!(schema.to_markdown().contains("| `docs.schema_example` | `jobs` | int |"));
/// # Ok::<(), telemetry::TelemetryError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Schema {
    /// The tool's name.
    pub tool: String,
    /// `events` (one per tracked call) or `reports` (counts per period, no identifier;
    /// then `fields` are those of a report row).
    pub mode: &'static str,
    /// The tool's version.
    pub tool_version: String,
    /// The fields of every event, beside its attributes.
    pub fields: Vec<SchemaField>,
    /// The attributes added to every event recorded (not to the deletion request),
    /// with their kinds; written as `{key: kind}`.
    pub default_attrs: Vec<CaptureSpec>,
    /// Every event, sorted by name: each `#[track]` and `record!` site of the binary
    /// (one entry per site), and `data.deletion_request` when the deletion requestor
    /// sends it.
    pub events: Vec<&'static EventSpec>,
}

impl SchemaField {
    fn to_document(&self) -> Json {
        let values = Json::Array(self.values.iter().map(|&v| Json::from(v)).collect());
        ObjectBuilder::new()
            .field("name", self.name)
            .field("kind", self.kind)
            .field("description", self.description)
            .field_if("values", (!self.values.is_empty()).then_some(values))
            .build()
    }
}

impl Schema {
    /// The schema as `telemetry schema` prints it: indented JSON with `tool`, `mode`,
    /// `tool_version`, `fields`, `default_attrs` (`{key: kind}`) and `events` (each
    /// as [`EventSpec::to_json`] writes it).
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// let json: serde_json::Value = serde_json::from_str(&ctx.schema().to_json()).unwrap();
    /// assert_eq!(json["tool"], "t");
    /// ```
    pub fn to_json(&self) -> String {
        let default_attrs = self
            .default_attrs
            .iter()
            .map(|spec| (spec.key().to_owned(), Json::from(spec.kind())))
            .collect();
        ObjectBuilder::new()
            .field("tool", self.tool.as_str())
            .field("mode", self.mode)
            .field("tool_version", self.tool_version.as_str())
            .field(
                "fields",
                Json::Array(self.fields.iter().map(SchemaField::to_document).collect()),
            )
            .field("default_attrs", Json::Object(default_attrs))
            .field(
                "events",
                Json::Array(self.events.iter().map(|e| e.to_document()).collect()),
            )
            .build()
            .to_string_pretty()
    }
}

impl TelemetryContext {
    /// Everything this tool can send, as `telemetry schema` prints it: the fields of
    /// every event, the default attributes, and every event the binary can record
    /// (from the link-time catalog) or send (the deletion request). Needs no consent,
    /// reads and writes no file.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("t", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// let schema = ctx.schema();
    /// assert_eq!(schema.tool, "t");
    /// assert!(schema.fields.iter().any(|f| f.name == "machine_id"));
    /// ```
    pub fn schema(&self) -> Schema {
        let mut events = catalog::events();
        let reports = self.collects_reports();
        // Report mode has no machine id, so no deletion request either.
        if self.inner.deletion_event && !reports {
            events.push(&DELETION_SPEC);
            // Unstable, as `catalog::events` sorts them (the reason is there).
            events.sort_unstable_by_key(|s| (s.name(), s.module_path()));
        }
        Schema {
            tool: self.tool().to_owned(),
            mode: if reports { "reports" } else { "events" },
            tool_version: self.tool_version().to_owned(),
            fields: if reports { report_fields() } else { fields() },
            default_attrs: self.inner.default_attr_specs.clone(),
            events,
        }
    }
}

impl Schema {
    /// The schema as Markdown, for a tool's documentation: a table of the fields of
    /// every event, one of the default attributes, and one of the events with each
    /// attribute, its kind and, for a literal, its value.
    ///
    /// ```
    /// # let ctx = telemetry::TelemetryContext::builder().tool(telemetry::tool!("mytool", "1")).sink(telemetry::sink::NoopSink).build().unwrap();
    /// let md = ctx.schema().to_markdown();
    /// assert!(md.starts_with("## What `mytool` 1 can send"));
    /// assert!(md.contains("| `data.deletion_request` |"));
    /// ```
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        // Writing to a `String` cannot fail.
        let _ = self.write_markdown(&mut md);
        md
    }

    fn write_markdown(&self, md: &mut String) -> std::fmt::Result {
        let tool = &self.tool;
        writeln!(md, "## What `{tool}` {} can send\n", self.tool_version)?;
        writeln!(
            md,
            "Generated by `{tool} telemetry schema --markdown`. Nothing is sent unless \
             telemetry is enabled: `{tool} telemetry status` says whether it is, and why.\n"
        )?;

        if self.mode == "reports" {
            writeln!(
                md,
                "`{tool}` sends no events: it keeps one report per period on this machine \
                 (`{tool} telemetry report` shows them), with no identifier of any kind, and \
                 uploads a complete one only at level `on`.\n"
            )?;
            writeln!(md, "### Fields of every report row\n")?;
        } else {
            writeln!(md, "### Fields of every event\n")?;
        }
        writeln!(md, "| field | kind | what it holds |")?;
        writeln!(md, "|---|---|---|")?;
        for f in &self.fields {
            let values = if f.values.is_empty() {
                String::new()
            } else {
                let list: Vec<String> = f.values.iter().map(|v| code(v)).collect();
                format!(": {}", list.join(", "))
            };
            writeln!(
                md,
                "| {} | {} | {}{values} |",
                code(f.name),
                f.kind,
                cell(f.description)
            )?;
        }

        writeln!(md, "\n### Attributes of every event\n")?;
        if self.default_attrs.is_empty() {
            writeln!(md, "None: `{tool}` adds no attribute to every event.")?;
        } else {
            writeln!(md, "| attribute | kind |")?;
            writeln!(md, "|---|---|")?;
            for spec in &self.default_attrs {
                writeln!(md, "| {} | {} |", code(spec.key()), spec.kind())?;
            }
        }

        writeln!(md, "\n### Events\n")?;
        writeln!(md, "| event | attribute | kind | value |")?;
        writeln!(md, "|---|---|---|---|")?;
        for row in event_rows(&self.events) {
            writeln!(md, "{row}")?;
        }
        if self.events.iter().any(|e| e.name() == DELETION_EVENT) {
            writeln!(
                md,
                "\n`{DELETION_EVENT}` is sent only by `{tool} telemetry reset`, to ask for \
                 the deletion of what was collected from this machine; it carries the \
                 fields of every event and no attribute."
            )?;
        }
        writeln!(
            md,
            "\nKinds: `bool`, `int` and `float` are a yes/no or a number; `string` is a \
             value fixed in `{tool}`'s source code (a name from a fixed list, or the value \
             shown); `hashed` is a keyed hash (32 hex characters) made with a secret key \
             that never leaves this machine; `any` is any of these. No attribute holds a \
             file name, a path, an argument or any other text typed or owned by the user."
        )?;
        Ok(())
    }
}

/// The rows of the events table: one per attribute (the event's name on its first),
/// one for an event without attributes. Sites of one name with the same attributes
/// are shown once.
fn event_rows(events: &[&'static EventSpec]) -> Vec<String> {
    /// An attribute's cells: key, kind, value.
    type Cells = (&'static str, String, String);
    let mut rows = Vec::new();
    let mut shown: Vec<(&str, Vec<Cells>)> = Vec::new();
    for spec in events {
        let mut attrs: Vec<Cells> = spec
            .attrs()
            .iter()
            .map(|(key, value)| (*key, value.kind().to_owned(), code(&literal(value))))
            .chain(spec.captures().iter().map(|c| {
                // An enum capture: every value it can take.
                let values: Vec<String> = c.values().iter().map(|v| code(v)).collect();
                (c.key(), c.kind().to_owned(), values.join(", "))
            }))
            .collect();
        // Equal entries are identical: unstable is the same order, in less code.
        attrs.sort_unstable();
        // A command whose errors the tool classifies: the words `error_kind` can hold.
        if let Some(kinds) = spec.error_kinds() {
            let kinds: Vec<String> = kinds.iter().map(|k| code(k)).collect();
            attrs.push(("error_kind", "string".to_owned(), kinds.join(", ")));
        }
        if shown.iter().any(|(n, a)| *n == spec.name() && *a == attrs) {
            continue;
        }
        let name = code(spec.name());
        if attrs.is_empty() {
            rows.push(row(&[&name, "—", "", ""]));
        }
        for (i, (key, kind, value)) in attrs.iter().enumerate() {
            let first = if i == 0 { name.as_str() } else { "" };
            rows.push(row(&[first, &code(key), kind, value]));
        }
        shown.push((spec.name(), attrs));
    }
    rows
}

/// One table row of `cells` (already escaped).
fn row(cells: &[&str]) -> String {
    format!("| {} |", cells.join(" | "))
}

/// A literal attribute value as JSON (`"release"`, `3`, `true`).
fn literal(value: &AttrValue) -> String {
    Json::from(value).to_string_compact()
}

/// `text` as an inline code span that survives in a table cell: a fence longer than
/// any run of backticks inside, padded when the text starts or ends with one; `|`
/// escaped (GitHub-flavoured Markdown splits cells on it even inside code).
fn code(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", text.replace('|', "\\|"))
}

/// Prose in a table cell: `|` escaped.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field an event is written with is described, and nothing else.
    #[test]
    fn the_fields_are_those_of_an_event() {
        let mut event = crate::event::Event::example();
        event.duration_ms = Some(1.0);
        event.error_kind = Some("E".into());
        let json: serde_json::Value = serde_json::from_str(&event.to_json()).unwrap();
        let written: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut described: Vec<&str> = fields().iter().map(|f| f.name).collect();
        described.sort_unstable();
        let mut written = written;
        written.sort_unstable();
        assert_eq!(described, written);
    }

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(code("cmd.build"), "`cmd.build`");
        assert_eq!(code("\"a|b\""), "`\"a\\|b\"`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x``"), "``` `x`` ```");
    }

    // `const` slices: a borrow passed to a `const fn` is not promoted to `'static`
    // when the element type has a destructor.
    const ATTRS: &[(&str, AttrValue)] = &[("mode", AttrValue::literal("a`|b"))];
    const CAPTURES: &[CaptureSpec] = &[CaptureSpec::new("jobs", "int")];
    static WITH_LITERAL: EventSpec = EventSpec::new("cmd.x", ATTRS, CAPTURES, "m");
    static SAME_ELSEWHERE: EventSpec = EventSpec::new("cmd.x", ATTRS, CAPTURES, "other");
    static BARE: EventSpec = EventSpec::new("cmd.y", &[], &[], "m");

    #[test]
    fn one_row_per_attribute_and_one_site_per_shape() {
        let rows = event_rows(&[&WITH_LITERAL, &SAME_ELSEWHERE, &BARE]);
        assert_eq!(
            rows,
            [
                "| `cmd.x` | `jobs` | int |  |",
                "|  | `mode` | string | ``\"a`\\|b\"`` |",
                "| `cmd.y` | — |  |  |",
            ]
        );
    }
}
