//! `EventSpec::new` and `CaptureSpec::new` check every rule of `#[track]` in const
//! evaluation: a `static` or `const` that breaks one does not compile.
use telemetry::AttrValue;
use telemetry::catalog::{CaptureSpec, EventSpec};

static PATH_NAME: EventSpec = EventSpec::new("/home/alice/x", &[], &[], module_path!());

const BAD_KEY: &[(&str, AttrValue)] = &[("Home Dir", AttrValue::Bool(true))];
static KEY: EventSpec = EventSpec::new("cmd.x", BAD_KEY, &[], module_path!());

const BIDI: &[(&str, AttrValue)] = &[("file", telemetry::__private::lit_str("txt\u{202e}exe"))];
static VALUE: EventSpec = EventSpec::new("cmd.x", BIDI, &[], module_path!());

const CAPTURE_KEY: CaptureSpec = CaptureSpec::new("Home Dir", "int");

const KIND: CaptureSpec = CaptureSpec::new("user", "email");

const TWICE: &[(&str, AttrValue)] = &[("jobs", AttrValue::Int(1))];
static DUPLICATE: EventSpec =
    EventSpec::new("cmd.x", TWICE, &[CaptureSpec::new("jobs", "int")], module_path!());

fn main() {}

static MODULE: EventSpec = EventSpec::new("cmd.x", &[], &[], "/home/alice/project");
