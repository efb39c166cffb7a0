//! Filesystem-change classification over the fixtures recorded from a live
//! auditd (tests/fixtures/live, see its README and manifest.tsv) and the
//! original tool's seed inputs.

mod common;

use auparse::{ChangeKind, FsChange, FsTracker};
use std::path::Path;

fn fixture_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/live")
}

/// Manifest paths escape a newline as `\x0a` and invalid bytes as `\xHH`.
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1] == b'x' {
            if let Ok(v) = u8::from_str_radix(&s[i + 2..i + 4], 16) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn changes_of(data: &[u8], tracker: &mut FsTracker) -> Vec<FsChange> {
    let mut out: Vec<FsChange> = common::events_in_chunks(data, 4096)
        .iter()
        .flat_map(|ev| tracker.changes(ev))
        .collect();
    out.extend(tracker.flush());
    out
}

struct Expect {
    scenario: String,
    result: String,
    kind: String,
    path: Vec<u8>,
    path2: Option<Vec<u8>>,
    found: String,
}

fn manifest() -> Vec<Expect> {
    let text = std::fs::read_to_string(fixture_dir().join("manifest.tsv")).expect("manifest.tsv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Expect {
                scenario: c[0].into(),
                result: c[4].into(),
                kind: c[5].into(),
                path: unescape(c[6]),
                path2: (c[7] != "-").then(|| unescape(c[7])),
                found: c.get(8).copied().unwrap_or("").into(),
            }
        })
        .collect()
}

fn show(c: &FsChange) -> String {
    format!(
        "{} {} {:?} {:?} dir_known={} success={}",
        c.kind.as_str(),
        c.path,
        c.old_path,
        c.target,
        c.dir_known,
        c.success
    )
}

/// For a rename the manifest lists (old, new); for links (link, target).
fn matches(e: &Expect, c: &FsChange) -> bool {
    if c.kind.as_str() != e.kind {
        return false;
    }
    match c.kind {
        ChangeKind::Renamed => {
            c.old_path.as_deref() == Some(&e.path[..]) && e.path2.as_deref() == Some(&c.path[..])
        }
        ChangeKind::Linked | ChangeKind::Symlinked => {
            c.path[..] == e.path[..] && c.target.as_deref() == e.path2.as_deref()
        }
        _ => c.path[..] == e.path[..],
    }
}

#[test]
fn every_change_of_the_recorded_session_is_found_in_order() {
    // The whole session in one stream: the tracker learns directories from
    // earlier events, so dirfd-relative deletions (rm -r, find -delete)
    // resolve to their real paths.
    let data = std::fs::read(fixture_dir().join("all.log")).unwrap();
    let mut tracker = FsTracker::default();
    let got = changes_of(&data, &mut tracker);
    let mut missing = Vec::new();
    for e in manifest()
        .iter()
        .filter(|e| e.result == "success" && e.found != "none")
    {
        if !got.iter().any(|c| matches(e, c)) {
            missing.push(format!(
                "{} {} {}",
                e.scenario,
                e.kind,
                String::from_utf8_lossy(&e.path)
            ));
        }
    }
    let listing: Vec<String> = got.iter().map(show).collect();
    assert!(
        missing.is_empty(),
        "missing: {missing:#?}\ngot: {listing:#?}"
    );
}

#[test]
fn each_scenario_alone() {
    let mut failures = Vec::new();
    for e in manifest() {
        let path = fixture_dir().join(format!("{}.log", e.scenario));
        let data = std::fs::read(&path).unwrap();
        let got = changes_of(&data, &mut FsTracker::default());
        let ok = if e.result != "success" {
            // Failed calls: reported with success=false, at least the directory.
            got.iter().any(|c| !c.success)
        } else if e.found == "none" {
            true
        } else {
            got.iter().any(|c| matches(&e, c))
        };
        if !ok {
            failures.push(format!(
                "{}: expected {} {} got {:#?}",
                e.scenario,
                e.kind,
                String::from_utf8_lossy(&e.path),
                got.iter().map(show).collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
