//! libauparse's own oracle: upstream's `auparse/test/auparse_test.c` walks
//! every event, record and field of its test logs and prints them. Its output
//! for Debian's libauparse 3.0.9 (run with `LC_ALL=C`) is stored in
//! `../shared/corpus/auparse-selftest/auparse_test.ref-3.0.9`.
//!
//! These tests do the same walks through the safe API only (Parser for the
//! pull-mode tests, Feeder for the feed tests) and compare the output with the
//! matching sections of that file, byte for byte.
//!
//! Upstream runs from its test directory and prints file names as it passed
//! them (`./test.log`, `test4.log`), so this test binary changes its working
//! directory to the corpus directory (every test here uses the same one).
//!
//! `exit` interpretations use `strerror`; libauparse never calls `setlocale`
//! and neither does a Rust program, so they are in the C locale as in the ref.

use auparse::{EscapeMode, EventRef, Feeder, Parser};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The self-test corpus directory, or `None` (with the reason printed) when
/// the shared corpus is not there.
fn selftest_dir() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/auparse-selftest");
        let dir = match dir.canonicalize() {
            Ok(d) if d.join("auparse_test.ref-3.0.9").is_file() => d,
            _ => {
                eprintln!(
                    "skipping: libauparse self-test corpus not found at {}",
                    dir.display()
                );
                return None;
            }
        };
        // Upstream prints the paths it was given, relative to its test dir.
        std::env::set_current_dir(&dir).expect("chdir to the self-test corpus");
        Some(dir)
    })
    .as_deref()
}

/// The lines between `Starting Test N,...` and `Test N Done` of the ref file,
/// each with its newline.
fn ref_section(dir: &Path, n: u32) -> Vec<u8> {
    let text = std::fs::read(dir.join("auparse_test.ref-3.0.9")).expect("read ref file");
    let start = format!("Starting Test {n},");
    let end = format!("Test {n} Done");
    let mut out = Vec::new();
    let mut inside = false;
    let mut found_end = false;
    for line in text.split_inclusive(|&b| b == b'\n') {
        let bare = line.strip_suffix(b"\n").unwrap_or(line);
        if !inside {
            inside = bare.starts_with(start.as_bytes());
            continue;
        }
        if bare == end.as_bytes() {
            found_end = true;
            break;
        }
        out.extend_from_slice(line);
    }
    assert!(found_end, "section Test {n} not found in the ref file");
    assert!(!out.is_empty(), "section Test {n} is empty in the ref file");
    out
}

/// Prints one event the way upstream's `walk_test` and its feed callback do:
/// records with type, line, file and timestamp, then every field as
/// `name=raw (interpretation)`.
fn print_event(ev: &mut EventRef<'_>, number: usize, out: &mut Vec<u8>) {
    let ts = ev.timestamp();
    let serial = ev.serial();
    // auparse_get_timestamp's host: auparse_get_node copies the same string.
    let host = ev.node().map_or_else(|| b"?".to_vec(), |n| n.to_vec());
    writeln!(out, "event {number} has {} records", ev.num_records()).unwrap();
    let mut records = ev.records();
    let mut record_number = 1;
    while let Some(mut rec) = records.next() {
        // printf("%s", NULL) prints "(null)" in glibc.
        let type_name = rec.type_name().unwrap_or(b"(null)");
        write!(
            out,
            "    record {record_number} of type {}(",
            rec.record_type().0
        )
        .unwrap();
        out.extend_from_slice(type_name);
        writeln!(out, ") has {} fields", rec.num_fields()).unwrap();
        write!(out, "    line={} file=", rec.line_number()).unwrap();
        out.extend_from_slice(rec.filename().unwrap_or(b"None"));
        out.push(b'\n');
        write!(
            out,
            "    event time: {}.{}:{serial}, host=",
            ts.sec, ts.milli
        )
        .unwrap();
        out.extend_from_slice(&host);
        out.push(b'\n');
        let mut fields = rec.fields();
        while let Some(f) = fields.next() {
            out.extend_from_slice(b"        ");
            out.extend_from_slice(f.name());
            out.push(b'=');
            out.extend_from_slice(f.raw());
            out.extend_from_slice(b" (");
            out.extend_from_slice(f.interpreted());
            out.extend_from_slice(b")\n");
        }
        out.push(b'\n');
        record_number += 1;
    }
}

/// Pull-mode walk of every event of `parser` (upstream `walk_test`).
fn walk(mut parser: Parser) -> Vec<u8> {
    // Upstream runs with libauparse's default escape mode, TTY.
    parser.set_escape_mode(EscapeMode::Tty).unwrap();
    let mut out = Vec::new();
    let mut number = 1;
    while let Some(mut ev) = parser.next_event().expect("next_event") {
        print_event(&mut ev, number, &mut out);
        number += 1;
    }
    out
}

/// Feeds `chunks` one call each, then flushes, printing events as the
/// callback of upstream's feed tests does.
fn feed_walk<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut feeder = Feeder::new().expect("Feeder::new");
    feeder.set_escape_mode(EscapeMode::Tty).unwrap();
    let mut out = Vec::new();
    let mut number = 1;
    let mut print = |ev: &mut EventRef<'_>| {
        print_event(ev, number, &mut out);
        number += 1;
    };
    for chunk in chunks {
        feeder.feed(chunk, &mut print).expect("feed");
    }
    feeder.flush(&mut print).expect("flush");
    out
}

/// The in-memory buffers (`buf[]`) of upstream's test, from
/// `auparse_test_buffers.txt`: each after a `=== buf[N] ===` line.
fn buffers(dir: &Path) -> Vec<Vec<u8>> {
    let text = std::fs::read(dir.join("auparse_test_buffers.txt")).expect("read buffers");
    let mut bufs: Vec<Vec<u8>> = Vec::new();
    for line in text.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"=== buf[") {
            bufs.push(Vec::new());
        } else if let Some(cur) = bufs.last_mut() {
            cur.extend_from_slice(line);
        }
    }
    assert_eq!(bufs.len(), 2, "expected buf[0] and buf[1]");
    assert!(bufs.iter().all(|b| b.ends_with(b"\n")));
    bufs
}

/// Compares byte for byte, reporting the first differing line.
fn assert_same(test: u32, got: &[u8], want: &[u8]) {
    if got == want {
        return;
    }
    let g: Vec<&[u8]> = got.split(|&b| b == b'\n').collect();
    let w: Vec<&[u8]> = want.split(|&b| b == b'\n').collect();
    let i = g
        .iter()
        .zip(&w)
        .position(|(a, b)| a != b)
        .unwrap_or(g.len().min(w.len()));
    let show = |v: &[&[u8]]| {
        v.get(i)
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .unwrap_or_else(|| "<end>".into())
    };
    panic!(
        "Test {test}: output differs from the ref at line {} of the section\n  got:  {}\n  want: {}\n({} vs {} bytes)",
        i + 1,
        show(&g),
        show(&w),
        got.len(),
        want.len()
    );
}

/// Test 2: the buffer array `buf[]` walked in pull mode. libauparse's
/// `AUSOURCE_BUFFER_ARRAY` appends the buffers into one input buffer, so the
/// concatenation through `Parser::from_bytes` (`AUSOURCE_BUFFER`) is the same
/// input; both print `file=None`.
#[test]
fn test2_walk_buffer_array() {
    let Some(dir) = selftest_dir() else { return };
    let input = buffers(dir).concat();
    let got = walk(Parser::from_bytes(&input).unwrap());
    assert_same(2, &got, &ref_section(dir, 2));
}

/// Test 4: one file, given as `./test.log`.
#[test]
fn test4_walk_file() {
    let Some(dir) = selftest_dir() else { return };
    let got = walk(Parser::from_file("./test.log").unwrap());
    assert_same(4, &got, &ref_section(dir, 4));
}

/// Test 5: two files read as one stream (`AUSOURCE_FILE_ARRAY`).
#[test]
fn test5_walk_two_files() {
    let Some(dir) = selftest_dir() else { return };
    let got = walk(Parser::from_files(&["test.log", "test2.log"]).unwrap());
    assert_same(5, &got, &ref_section(dir, 5));
}

/// Test 9: each buffer of `buf[]` fed in 3-byte chunks (the last chunk of a
/// buffer may be shorter), then flushed.
#[test]
fn test9_buffer_feed() {
    let Some(dir) = selftest_dir() else { return };
    let bufs = buffers(dir);
    let got = feed_walk(bufs.iter().flat_map(|b| b.chunks(3)));
    assert_same(9, &got, &ref_section(dir, 9));
}

/// Test 10: `./test.log` fed in 4-byte chunks, then flushed.
#[test]
fn test10_file_feed() {
    let Some(dir) = selftest_dir() else { return };
    let data = std::fs::read("./test.log").unwrap();
    let got = feed_walk(data.chunks(4));
    assert_same(10, &got, &ref_section(dir, 10));
}

/// Test 11: a file with long EXECVE and PROCTITLE records, given as `test4.log`.
#[test]
fn test11_walk_long_records() {
    let Some(dir) = selftest_dir() else { return };
    let got = walk(Parser::from_file("test4.log").unwrap());
    assert_same(11, &got, &ref_section(dir, 11));
}
