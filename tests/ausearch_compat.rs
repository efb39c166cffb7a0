//! `auparse::format::{text, csv}` against the real `ausearch --format text`
//! and `--format csv` (audit 3.0.9), byte for byte, on every log of
//! ../shared/corpus and every audit log under tests/fixtures.
//!
//! Each comparison runs in a child process of this test binary with `TZ`
//! set (UTC and Europe/Berlin), and ausearch runs with the same `TZ` and
//! `LC_ALL=C.UTF-8`. Our side reads with `Grouping::Ausearch`, so events are
//! grouped and ordered as ausearch does it. Skips with a printed reason where ausearch or the
//! corpus is absent.

mod common;

use auparse::format::csv::{CsvOptions, CsvWriter};
use auparse::format::text::{write_text, TextOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

const CHILD_ENV: &str = "AUPARSE_COMPAT_CHILD";
const ZONES: [&str; 2] = ["UTC", "Europe/Berlin"];

/// The formats compared: ausearch arguments and our writer.
#[derive(Clone, Copy, Debug)]
enum Format {
    Text,
    Csv,
    CsvAll,
}

impl Format {
    fn args(self) -> &'static [&'static str] {
        match self {
            Format::Text => &["--format", "text"],
            Format::Csv => &["--format", "csv"],
            Format::CsvAll => &[
                "--format",
                "csv",
                "--extra-time",
                "--extra-labels",
                "--extra-keys",
                "--extra-obj2",
            ],
        }
    }
}

/// Events ausearch never prints: those with an AppArmor AVC record
/// (`type=AVC ... apparmor="DENIED" ...`). ausearch parses every record for
/// its search criteria (ausearch-parse.c) before any output, and its AVC
/// parser expects an SELinux `avc:  denied { ... }` message; when it fails,
/// the whole event is discarded, even with no criteria and with `--raw`.
/// We skip these events on our side and count them.
fn ausearch_drops(ev: &auparse::Event) -> bool {
    ev.records
        .iter()
        .any(|r| r.record_type == auparse::RecordType::AVC && r.field("apparmor").is_some())
}

fn ausearch_available() -> bool {
    Command::new("ausearch")
        .arg("-v")
        .output()
        .map(|o| o.status.success() || !o.stdout.is_empty() || !o.stderr.is_empty())
        .unwrap_or(false)
}

/// The corpus logs (the same selection as the other corpus tests).
fn corpus_inputs() -> Vec<PathBuf> {
    match common::corpus_or_skip("ausearch_compat: corpus") {
        Some(dir) => common::corpus_inputs(&dir),
        None => Vec::new(),
    }
}

/// Every file under tests/fixtures that holds audit records (a line starting
/// with `type=` or `node=`): logs and plugin streams, not scripts or notes.
fn fixture_inputs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    common::walk(&dir, &mut out);
    out.retain(|p| {
        std::fs::read(p).is_ok_and(|b| {
            b.split(|&c| c == b'\n')
                .any(|l| l.starts_with(b"type=") || l.starts_with(b"node="))
        })
    });
    out.sort();
    out
}

/// The bytes both sides read: the file without its leading `#` comment lines.
fn input_bytes(path: &Path) -> Vec<u8> {
    let data = std::fs::read(path).unwrap();
    let mut start = 0;
    while data[start..].starts_with(b"#") {
        match data[start..].iter().position(|&c| c == b'\n') {
            Some(n) => start += n + 1,
            None => start = data.len(),
        }
    }
    data[start..].to_vec()
}

fn ours(data: &[u8], format: Format, dropped: &mut usize) -> Vec<u8> {
    let mut out = Vec::new();
    let csv = CsvWriter::new(match format {
        Format::CsvAll => CsvOptions {
            extra_time: true,
            extra_labels: true,
            extra_keys: true,
            extra_obj2: true,
        },
        _ => CsvOptions::default(),
    });
    let mut first = true;
    // ausearch groups records with its own grouper (ausearch-lol.c), not
    // libauparse's feed mode, and prints events in its order:
    // Grouping::Ausearch does the same.
    let opts = auparse::ReadOptions::new()
        .escape_mode(auparse::EscapeMode::Tty)
        .grouping(auparse::Grouping::Ausearch)
        .event_options(auparse::EventOptions::normalize_attrs(true));
    for ev in auparse::read_events_with(data, opts).unwrap() {
        let ev = ev.unwrap();
        if ausearch_drops(&ev) {
            *dropped += 1;
            continue;
        }
        match format {
            Format::Text => write_text(&ev, &TextOptions::default(), &mut out),
            Format::Csv | Format::CsvAll => {
                if first {
                    csv.header(&mut out);
                }
                csv.row(&ev, &mut out);
            }
        }
        first = false;
    }
    out
}

fn theirs(file: &Path, format: Format, tz: &str) -> Vec<u8> {
    let o = Command::new("ausearch")
        .arg("-if")
        .arg(file)
        .args(format.args())
        .env("TZ", tz)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap();
    o.stdout
}

/// Runs in the child, with TZ set for the whole process.
fn compare_all(tz: &str) {
    let tmp = std::env::temp_dir().join(format!("auparse-compat-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut files = corpus_inputs();
    files.extend(fixture_inputs());
    let (mut same, mut lines, mut dropped) = (0usize, 0usize, 0usize);
    let mut failures = Vec::new();
    for (i, path) in files.iter().enumerate() {
        let data = input_bytes(path);
        let fed = tmp.join(format!("{i}.log"));
        std::fs::write(&fed, &data).unwrap();
        let name = path.to_string_lossy();
        for format in [Format::Text, Format::Csv, Format::CsvAll] {
            let want = theirs(&fed, format, tz);
            let mut d = 0;
            let got = ours(&data, format, &mut d);
            if matches!(format, Format::Text) {
                dropped += d;
            }
            lines += got.iter().filter(|&&c| c == b'\n').count();
            if want == got {
                same += 1;
                continue;
            }
            let w = String::from_utf8_lossy(&want);
            let g = String::from_utf8_lossy(&got);
            let mut msg = format!("{name} {format:?} TZ={tz}: differs\n");
            let (wl, gl): (Vec<_>, Vec<_>) = (w.lines().collect(), g.lines().collect());
            for k in 0..wl.len().max(gl.len()) {
                let (a, b) = (wl.get(k), gl.get(k));
                if a != b {
                    msg += &format!("  line {k}:\n    ausearch: {a:?}\n    ours:     {b:?}\n");
                }
            }
            failures.push(msg);
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    eprintln!(
        "ausearch_compat TZ={tz}: {} files x 3 formats: {same} outputs byte-identical, {} differ; \
         {lines} lines written; {dropped} events skipped that ausearch drops (AppArmor AVC)",
        files.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn text_and_csv_match_ausearch() {
    if let Ok(tz) = std::env::var(CHILD_ENV) {
        compare_all(&tz);
        return;
    }
    if !ausearch_available() {
        eprintln!("ausearch_compat: skipped: ausearch is not installed");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let mut failed = Vec::new();
    for tz in ZONES {
        let o = Command::new(&exe)
            .args([
                "--exact",
                "text_and_csv_match_ausearch",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, tz)
            .env("TZ", tz)
            .output()
            .unwrap();
        eprint!("{}", String::from_utf8_lossy(&o.stderr));
        if !o.status.success() {
            failed.push(format!("TZ={tz}:\n{}", String::from_utf8_lossy(&o.stdout)));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
