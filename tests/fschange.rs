//! Filesystem-change classification over the fixtures recorded from a live
//! auditd (tests/fixtures/live, see its README and manifest.tsv) and the
//! original tool's seed inputs.

mod common;

use auparse::{ChangeKind, FsChange, FsTracker};
use common::live_fixtures as fixture_dir;
use common::{manifest, ManifestRow as Expect};

fn changes_of(data: &[u8], tracker: &mut FsTracker) -> Vec<FsChange> {
    let mut out: Vec<FsChange> = common::events_in_chunks(data, 4096)
        .iter()
        .flat_map(|ev| tracker.changes(ev))
        .collect();
    out.extend(tracker.flush());
    out
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

#[test]
fn every_recorded_change_is_complete() {
    let data = std::fs::read(fixture_dir().join("all.log")).unwrap();
    let got = changes_of(&data, &mut FsTracker::default());
    assert!(!got.is_empty());
    let cut: Vec<String> = got.iter().filter(|c| !c.complete).map(show).collect();
    assert!(cut.is_empty(), "{cut:#?}");
}

#[test]
fn an_event_cut_after_its_parent_records_says_it_is_incomplete() {
    // mv-in: items=4, PARENT, PARENT, DELETE, CREATE. Keep the first four
    // lines (SYSCALL, CWD and both PARENTs), as when the input ends there.
    let data = std::fs::read(fixture_dir().join("mv-in.stream")).unwrap();
    let whole = changes_of(&data, &mut FsTracker::default());
    assert_eq!(
        whole.len(),
        1,
        "{:#?}",
        whole.iter().map(show).collect::<Vec<_>>()
    );
    assert!(whole[0].complete);
    assert_eq!(whole[0].kind, ChangeKind::Renamed);
    let four: usize = data
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .nth(3)
        .unwrap()
        .0
        + 1;
    let got = changes_of(&data[..four], &mut FsTracker::default());
    assert_eq!(
        got.len(),
        1,
        "{:#?}",
        got.iter().map(show).collect::<Vec<_>>()
    );
    assert!(!got[0].complete, "{}", show(&got[0]));
    assert_eq!(got[0].kind, ChangeKind::Renamed);
    assert_eq!(got[0].old_path, None);
}

/// Real records (kernel 6.x, auditd 3.0.9) of a Python script run under
/// `-w /tmp/exp/w -p wa`: `mkdir /tmp/exp/w/t2/d1`;
/// `fd = open("/tmp/exp/w/t2/d1", O_TMPFILE | O_WRONLY)`;
/// `linkat(AT_FDCWD, "/proc/self/fd/5", d1_fd, "tmpd", AT_SYMLINK_FOLLOW)`.
/// The script made one directory and one file named d1/tmpd; the nameless
/// file's open changes no directory entry.
#[test]
fn an_o_tmpfile_file_is_created_when_linked() {
    let data = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/at-calls/tmpfile-link.log"),
    )
    .unwrap();
    let got: Vec<String> = changes_of(&data, &mut FsTracker::default())
        .iter()
        .map(show)
        .collect();
    assert_eq!(
        got,
        [
            "dir-created /tmp/exp/w/t2/d1 None None dir_known=true success=true",
            "created /tmp/exp/w/t2/d1/tmpd None None dir_known=true success=true",
        ]
    );
    // Open flags are a C int: the same open with a wider value in a2 (as
    // generated logs have) is an ordinary open for writing.
    let text = String::from_utf8(data).unwrap();
    let wide = text.replace("a2=490001", "a2=445e2bcfbe01");
    let got = changes_of(wide.as_bytes(), &mut FsTracker::default());
    assert!(
        got.iter()
            .any(|c| c.kind == ChangeKind::Modified && c.path[..] == b"/tmp/exp/w/t2/d1"[..]),
        "{:#?}",
        got.iter().map(show).collect::<Vec<_>>()
    );
}
