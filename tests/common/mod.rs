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

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
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
