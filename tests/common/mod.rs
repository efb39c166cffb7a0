//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `../shared/corpus` relative to the crate root, if present.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    dir.is_dir().then_some(dir)
}

/// The corpus, or a printed reason to skip.
pub fn corpus_or_skip(test: &str) -> Option<PathBuf> {
    let dir = corpus_dir();
    if dir.is_none() {
        eprintln!(
            "{test}: skipped: ../shared/corpus is not present (it is not part of the project)"
        );
    }
    dir
}

/// Every audit log input in the corpus: `*.log` files anywhere, and the
/// `*.txt` record files of laurel/ and linux-audit-parser/ (not the outputs in
/// seed/expected, nor README files or the buffers listing).
pub fn corpus_inputs(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.retain(|p| {
        let s = p.to_string_lossy();
        let name = p.file_name().unwrap().to_string_lossy();
        if s.contains("/expected/") || name.starts_with("README") {
            return false;
        }
        name.ends_with(".log")
            || (name.ends_with(".txt")
                && (s.contains("/laurel/") || s.contains("/linux-audit-parser/")))
    });
    out.sort();
    out
}

/// Every file below `dir`, recursively (unsorted).
pub fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// True under `AUPARSE_QUICK` (set by .ci/valgrind): heavy tests use smaller
/// workloads, since valgrind runs them ~50x slower.
pub fn quick() -> bool {
    std::env::var_os("AUPARSE_QUICK").is_some()
}

/// Feeds `data` in chunks of `chunk` bytes (0 = all at once), flushes, and
/// returns the owned events.
pub fn events_in_chunks(data: &[u8], chunk: usize) -> Vec<auparse::Event> {
    let mut feeder = auparse::Feeder::new().unwrap();
    let mut events = Vec::new();
    let size = if chunk == 0 { data.len().max(1) } else { chunk };
    for piece in data.chunks(size) {
        feeder.feed(piece, |ev| events.push(ev.to_event())).unwrap();
    }
    feeder.flush(|ev| events.push(ev.to_event())).unwrap();
    events
}

/// The serials of the events a plain C loop over auparse-sys gets from
/// `data` (fed in 4096-byte pieces, a final newline added if missing, then
/// `auparse_flush_feed`), in delivery order. Like `c_loop_count` of
/// tests/corpus.rs, only well-formed events count: those whose first record
/// has a nonzero type (libauparse makes a bogus type-0 event of some lines
/// that are not records, which the Feeder drops).
///
/// The caller must make sure no other libauparse parser of the test binary
/// is in use meanwhile (the safe API's lock is not taken here). Named
/// `c_loop_count*` (and never inlined) so that .ci/valgrind.supp's entry for
/// libauparse's leak on non-record lines in the reference loop covers it.
#[inline(never)]
pub fn c_loop_count_serials(data: &[u8]) -> Vec<u64> {
    use auparse::ffi;
    use std::ffi::c_void;

    unsafe extern "C" fn collect(
        au: *mut ffi::auparse_state_t,
        ty: ffi::auparse_cb_event_t,
        user: *mut c_void,
    ) {
        if ty != ffi::AUPARSE_CB_EVENT_READY {
            return;
        }
        // SAFETY: `au` is the parser calling us, positioned on the ready event.
        let typed = unsafe { ffi::auparse_first_record(au) == 1 && ffi::auparse_get_type(au) != 0 };
        if typed {
            // SAFETY: as above.
            let serial = unsafe { ffi::auparse_get_serial(au) };
            // SAFETY: `user` is the &mut Vec<u64> registered below, alive for the parser's life.
            unsafe { (*(user as *mut Vec<u64>)).push(serial as u64) };
        }
    }
    let mut serials: Vec<u64> = Vec::new();
    let mut bytes = data.to_vec();
    if bytes.last().is_some_and(|&b| b != b'\n') {
        bytes.push(b'\n');
    }
    // SAFETY: a parser created, fed and destroyed here; `serials` outlives it.
    unsafe {
        let au = ffi::auparse_init(ffi::AUSOURCE_FEED, std::ptr::null());
        assert!(!au.is_null());
        ffi::auparse_add_callback(
            au,
            Some(collect),
            &mut serials as *mut Vec<u64> as *mut c_void,
            None,
        );
        for piece in bytes.chunks(4096) {
            ffi::auparse_feed(au, piece.as_ptr().cast(), piece.len());
        }
        ffi::auparse_flush_feed(au);
        ffi::auparse_destroy(au);
    }
    serials
}

/// One row of tests/fixtures/live/manifest.tsv: an expected filesystem change.
#[derive(Debug)]
pub struct ManifestRow {
    pub scenario: String,
    pub result: String,
    pub kind: String,
    pub path: Vec<u8>,
    pub path2: Option<Vec<u8>>,
    pub found: String,
}

/// tests/fixtures/live, the fixtures recorded from a live auditd.
pub fn live_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/live")
}

/// Undoes the manifest's escaping: `\xHH` is the byte HH.
fn unescape_manifest(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            assert_eq!(b.get(i + 1), Some(&b'x'), "bad escape in manifest: {s}");
            let hex = std::str::from_utf8(&b[i + 2..i + 4]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The rows of tests/fixtures/live/manifest.tsv.
pub fn manifest() -> Vec<ManifestRow> {
    let text = std::fs::read_to_string(live_fixtures().join("manifest.tsv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("scenario\tcwd\tuser\tcommand\tresult\tkind\tpath\tpath2\tfound")
    );
    lines
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            assert_eq!(c.len(), 9, "manifest line: {l}");
            ManifestRow {
                scenario: c[0].into(),
                result: c[4].into(),
                kind: c[5].into(),
                path: unescape_manifest(c[6]),
                path2: (c[7] != "-").then(|| unescape_manifest(c[7])),
                found: c[8].into(),
            }
        })
        .collect()
}
