//! Prints one line per event: time, serial, event kind, subject, action,
//! object, how and result, from the normalized view libauparse computes.
//!
//! ```text
//! cargo run --example dump_normalized -- [FILE|-]
//! ```
//! Reads FILE, or standard input when FILE is `-` or absent. The end of the
//! input is flushed, so the last event is printed too. Always one line per
//! event, whatever the names hold (see `text` below).

use auparse::{Bytes, NormField, Normalized, Outcome};
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let arg = std::env::args_os().nth(1);
    let input: Box<dyn Read> = match arg.as_deref() {
        None => Box::new(io::stdin().lock()),
        Some(a) if a == "-" => Box::new(io::stdin().lock()),
        Some(path) => match File::open(path) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("dump_normalized: {}: {e}", path.to_string_lossy());
                return ExitCode::FAILURE;
            }
        },
    };
    let out = io::stdout().lock();
    let mut out = BufWriter::new(out);
    let events = match auparse::read_events(input) {
        Ok(it) => it,
        Err(e) => {
            eprintln!("dump_normalized: {e}");
            return ExitCode::FAILURE;
        }
    };
    for ev in events {
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                eprintln!("dump_normalized: {e}");
                return ExitCode::FAILURE;
            }
        };
        let n = ev.normalized.clone().unwrap_or_default();
        let line = format!(
            "{}.{:03} {} {} subj={} action={} obj={} how={} result={}\n",
            ev.timestamp.sec,
            ev.timestamp.milli,
            ev.serial,
            text(n.kind.as_ref()),
            field(n.subject.primary.as_ref()),
            text(n.action.as_ref()),
            field(n.object.primary.as_ref()),
            text(n.how.as_ref()),
            result(&n),
        );
        if let Err(e) = out.write_all(line.as_bytes()) {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("dump_normalized: {e}");
            return ExitCode::FAILURE;
        }
    }
    match out.flush() {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            eprintln!("dump_normalized: {e}");
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
}

/// A value as one word: `Bytes`' `Display` escapes control characters,
/// backslashes and invalid UTF-8 (`\xHH`, `\\`), so a name never breaks
/// the line; spaces become `\x20` so that the value stays one word, and
/// `auparse::bytes::unescape` gives the exact bytes back.
fn text(b: Option<&Bytes>) -> String {
    b.map_or_else(|| "-".into(), |b| b.to_string().replace(' ', "\\x20"))
}

fn field(f: Option<&NormField>) -> String {
    text(f.map(|f| &f.value))
}

fn result(n: &Normalized) -> &'static str {
    match n.outcome() {
        Some(Outcome::Success) => "success",
        Some(Outcome::Failure) => "failed",
        None => "-",
    }
}
