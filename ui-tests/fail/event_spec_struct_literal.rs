//! `EventSpec` and `CaptureSpec` have private fields: a spec is built only through the
//! checked `const fn new`.
use telemetry::catalog::{CaptureSpec, EventSpec};

static SPEC: EventSpec = EventSpec {
    name: "/home/alice/x",
    attrs: &[],
    captures: &[],
    module_path: module_path!(),
};

const CAPTURE: CaptureSpec = CaptureSpec { key: "Home Dir", kind: "bool" };

fn main() {
    let _ = (&SPEC, CAPTURE);
}
