//! `__private` holds only what generated code calls: there is no `record_call` to send a
//! hand-built event with.
fn main() {
    telemetry::__private::record_call();
    let _ = telemetry::__private::Start::now();
}
