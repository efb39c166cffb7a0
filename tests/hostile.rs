//! The hostile-input corpus (`tests/hostile/`, written by its `make.py`):
//! truncated records, a 1 MiB line, NUL bytes, binary noise, timestamps of 0
//! and far in the future, serial rollover, duplicated and out-of-order
//! records, an EOE without its event, `msg=audit(` garbage, invalid hex, no
//! final newline, CRLF, escape sequences and newlines in names.
//!
//! For each file, through the Feeder with both groupings in several
//! chunkings (with `age_events` between chunks in one of them): no panic;
//! every output format is written (JSON lines parse, one per event; change
//! paths escape to one clean line: the checks of the fuzz targets, whose code
//! is included); as many events as a plain C loop over auparse-sys gives,
//! with the same serials; and the well-formed events put in each file come
//! out. Command-level checks are in auparse-tools/tests/hostile_cli.rs.

mod common;

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod harness;

use auparse::{Event, Feeder, Grouping};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log" || e == "stream"))
        .collect();
    files.sort();
    files
}

/// Serials of the well-formed events each file holds (at least these come out).
fn must_have(name: &str) -> &'static [u64] {
    match name {
        "binary-noise.log" => &[30, 31, 32],
        "crlf.log" => &[120, 121, 122],
        "duplicated-records.log" => &[60, 61, 62],
        "eoe-without-event.log" => &[81, 82],
        "escape-sequences-in-names.log" => {
            &[130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141]
        }
        "invalid-hex.log" => &[100, 101, 102, 103],
        "long-line-1mib.log" => &[10, 12],
        "msg-audit-garbage.log" => &[90, 93],
        "no-final-newline.log" => &[110, 111],
        "null-values.log" => &[1001, 1002],
        "proctitle-null-prefix.log" => &[1101, 1102, 1103],
        "proctitle-overreads.log" => &[1201, 1207, 1208, 1215],
        "nul-bytes.log" => &[20, 23],
        "out-of-order.log" => &[69, 70, 71, 72, 73],
        "serial-rollover.log" => &[4294967295, 4294967296, 1],
        "stream-with-noise.stream" => &[150, 151, 152],
        "timestamp-far-future.log" => &[50, 51],
        "timestamp-zero.log" => &[40, 41, 42],
        "truncated-records.log" => &[1, 2, 4],
        other => panic!("{other}: add it to must_have"),
    }
}

fn feed(data: &[u8], grouping: Grouping, chunk: usize, age: bool) -> Vec<Event> {
    let mut feeder = Feeder::new().unwrap();
    feeder.set_grouping(grouping);
    feeder.set_eoe_timeout(2);
    let mut events = Vec::new();
    for piece in data.chunks(chunk.max(1)) {
        feeder.feed(piece, |ev| events.push(ev.to_event())).unwrap();
        if age {
            feeder.age_events(|ev| events.push(ev.to_event())).unwrap();
        }
    }
    feeder.flush(|ev| events.push(ev.to_event())).unwrap();
    events
}

// One test: the C loop must not run while another parser of this binary is
// in use (it bypasses the crate's lock).
#[test]
fn hostile_corpus() {
    let files = corpus();
    assert!(files.len() >= 16, "hostile corpus: {} files", files.len());
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(path).unwrap();
        let c_serials = common::c_loop_count_serials(&data);
        let mut c_sorted = c_serials.clone();
        c_sorted.sort_unstable();
        for grouping in [Grouping::Libauparse, Grouping::Ausearch] {
            let whole = feed(&data, grouping, data.len(), false);
            let chunks: &[usize] = if data.len() > 64 * 1024 {
                &[4096]
            } else {
                &[1, 37, 4096]
            };
            for &chunk in chunks {
                let got = feed(&data, grouping, chunk, false);
                assert_eq!(
                    got, whole,
                    "{name} {grouping:?}: {chunk}-byte chunks differ"
                );
            }
            // Aging by the wall clock may complete events earlier; nothing
            // may be lost or panic.
            let aged = feed(&data, grouping, 512, true);
            harness::write_all_formats(&aged, true, true);
            harness::write_all_formats(&whole, false, false);

            let serials: Vec<u64> = whole.iter().map(|e| e.serial).collect();
            let set: BTreeSet<u64> = serials.iter().copied().collect();
            for s in must_have(&name) {
                assert!(
                    set.contains(s),
                    "{name} {grouping:?}: event {s} is missing: {serials:?}"
                );
            }
            let mut sorted = serials.clone();
            sorted.sort_unstable();
            if grouping == Grouping::Libauparse {
                assert_eq!(
                    sorted, c_sorted,
                    "{name}: the Feeder's events differ from the C loop's"
                );
            } else {
                // ausearch groups by (serial, time) on its own rules: it
                // may split or join what libauparse does, but loses nothing.
                let c_set: BTreeSet<u64> = c_sorted.iter().copied().collect();
                assert_eq!(
                    set, c_set,
                    "{name}: ausearch grouping: other serials than the C loop"
                );
            }
            eprintln!(
                "{name}: {grouping:?}: {} events (C loop {}), {} with age_events",
                whole.len(),
                c_serials.len(),
                aged.len()
            );
        }
    }
}
