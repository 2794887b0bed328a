//! Test helper: appends `COUNT` events, one write each, to the JSONL file `PATH` through
//! `FileSink`, tagging them with `WRITER`. Used to check that concurrent processes never
//! interleave or tear lines.
//!
//! Usage: `file-writer PATH WRITER COUNT`

use std::process::ExitCode;

use telemetry::Event;
use telemetry::sink::{FileSink, TelemetrySink};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, writer, count] = args.as_slice() else {
        eprintln!("usage: file-writer PATH WRITER COUNT");
        return ExitCode::from(2);
    };
    let (Ok(writer), Ok(count)) = (writer.parse::<u32>(), count.parse::<u32>()) else {
        eprintln!("WRITER and COUNT must be numbers");
        return ExitCode::from(2);
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
        return ExitCode::FAILURE;
    };
    let sink = FileSink::new(path);
    for seq in 0..count {
        let event = Event::new("test.append", "file-writer", "1", "m")
            .with_attr("writer", writer)
            .with_attr("seq", seq);
        if let Err(e) = runtime.block_on(sink.emit(&event)) {
            eprintln!("file-writer: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
