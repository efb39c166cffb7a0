//! Every input of ../shared/corpus gives the same owned events whatever the
//! chunking, and as many events as a plain C-API feed loop over auparse-sys.

mod common;

use auparse::ffi;
use std::ffi::c_void;

/// The reference: libauparse's own feed loop, no Rust wrapper involved.
fn c_loop_count(data: &[u8]) -> u64 {
    unsafe extern "C" fn count(
        au: *mut ffi::auparse_state_t,
        ty: ffi::auparse_cb_event_t,
        user: *mut c_void,
    ) {
        // Well-formed events only: libauparse also makes a bogus event (record
        // type 0, no fields) of some lines that are not records at all, which
        // the Feeder drops before they reach it.
        // SAFETY: `au` is the parser calling us, positioned on the ready event.
        let typed = unsafe { ffi::auparse_first_record(au) == 1 && ffi::auparse_get_type(au) != 0 };
        if ty == ffi::AUPARSE_CB_EVENT_READY && typed {
            // SAFETY: `user` is the &mut u64 registered below, alive for the parser's life.
            unsafe { *(user as *mut u64) += 1 };
        }
    }
    let mut n = 0u64;
    // Same as the Feeder: a final line without newline is terminated.
    let mut bytes = data.to_vec();
    if bytes.last().is_some_and(|&b| b != b'\n') {
        bytes.push(b'\n');
    }
    // This test binary creates parsers only on the test threads through the
    // safe API, which takes the crate's lock; run the raw loop while no other
    // test of this binary runs (the tests below are sequential in one test fn).
    // SAFETY: a parser created, fed and destroyed here; `n` outlives it.
    unsafe {
        let au = ffi::auparse_init(ffi::AUSOURCE_FEED, std::ptr::null());
        assert!(!au.is_null());
        ffi::auparse_add_callback(au, Some(count), &mut n as *mut u64 as *mut c_void, None);
        for piece in bytes.chunks(4096) {
            ffi::auparse_feed(au, piece.as_ptr().cast(), piece.len());
        }
        ffi::auparse_flush_feed(au);
        ffi::auparse_destroy(au);
    }
    n
}

#[test]
fn same_events_in_any_chunking_and_as_the_c_loop() {
    let Some(dir) = common::corpus_or_skip("corpus") else {
        return;
    };
    let inputs = common::corpus_inputs(&dir);
    assert!(
        inputs.len() > 50,
        "expected the whole corpus, found {}",
        inputs.len()
    );
    let mut total = 0;
    for path in &inputs {
        let data = std::fs::read(path).unwrap();
        let whole = common::events_in_chunks(&data, 0);
        let chunks: &[usize] = if common::quick() {
            &[4096]
        } else {
            &[1, 37, 4096]
        };
        for &chunk in chunks {
            let got = common::events_in_chunks(&data, chunk);
            assert_eq!(
                got,
                whole,
                "{}: chunks of {chunk} differ from one feed",
                path.display()
            );
        }
        let c = c_loop_count(&data);
        assert_eq!(
            whole.len() as u64,
            c,
            "{}: event count differs from the C loop",
            path.display()
        );
        total += whole.len();
    }
    eprintln!(
        "corpus: {} files, {total} events, identical in chunks of 1, 37, 4096",
        inputs.len()
    );
    assert!(total > 300);
}

#[test]
fn seed_corpus_events_have_serials_in_order_of_input() {
    let Some(dir) = common::corpus_or_skip("seed") else {
        return;
    };
    let data = std::fs::read(dir.join("seed/input/corpus.log")).unwrap();
    let events = common::events_in_chunks(&data, 4096);
    // The original tool lost the last event of every input; we must not.
    let last = events.last().expect("events");
    assert_eq!(
        last.serial, 3002,
        "the last event of corpus.log is serial 3002"
    );
    let expected: Vec<u64> =
        std::fs::read_to_string(dir.join("seed/expected/corpus.jsonify.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["serial"].as_u64().unwrap()
            })
            .collect();
    let ours: Vec<u64> = events.iter().map(|e| e.serial).collect();
    // Same events in the same order as the original, which fed line by line.
    assert_eq!(ours, expected);
}

/// Serials at the start of each `serial:action:path` item of a trace cell.
fn trace_serials(cell: &str) -> Vec<u64> {
    let mut out = Vec::new();
    for (i, part) in cell.split(", ").flat_map(|p| p.split(" | ")).enumerate() {
        let Some((num, rest)) = part.split_once(':') else {
            continue;
        };
        // Items start with a serial followed by an action; a path that
        // happens to contain ", " cannot look like that unless it is one.
        if let Ok(n) = num.trim().parse::<u64>() {
            if i == 0 || rest.contains(':') {
                out.push(n);
            }
        }
    }
    out
}

#[test]
fn the_last_event_of_every_seed_input_comes_out() {
    let Some(dir) = common::corpus_or_skip("seed last event") else {
        return;
    };
    let mut checked = 0;
    let mut recovered = 0;
    for entry in std::fs::read_dir(dir.join("seed/input")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let trace = dir.join(format!("seed/expected/per-file/{name}.trace.tsv"));
        let Ok(trace) = std::fs::read_to_string(&trace) else {
            continue;
        };
        // Files the original crashed on have no "# EOF" line.
        let Some(eof) = trace.lines().find(|l| l.starts_with("# EOF")) else {
            continue;
        };
        let mut expected: Vec<u64> = trace
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t').map(|(_, c)| c))
            .flat_map(trace_serials)
            .collect();
        let pending = eof.rsplit_once("): ").map(|(_, p)| p).unwrap_or("none");
        if pending != "none" {
            let lost = trace_serials(pending);
            recovered += lost.len();
            expected.extend(lost);
        }
        let data = std::fs::read(&path).unwrap();
        let ours: Vec<u64> = common::events_in_chunks(&data, 4096)
            .iter()
            .map(|e| e.serial)
            .collect();
        assert_eq!(
            ours, expected,
            "{name}: what the original printed plus what it lost"
        );
        checked += 1;
    }
    assert!(checked >= 18, "{checked}");
    assert!(recovered >= 15, "{recovered}");
}
