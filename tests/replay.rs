//! The replay promise, offline: the fixture of tests/fixtures/replay was
//! recorded from a live auditd by the live test
//! `fsaction_log_replays_to_the_real_tree` (auparse-tools/tests/live_auditd.rs,
//! with `AUPARSE_RECORD_REPLAY=DIR`). For each workload it holds auditd's own
//! log of it (`NN.log.gz`) and the real tree scanned before and after it
//! (`NN.before.gz`, `NN.after.gz`, `kind<TAB>path` lines). Here the log goes
//! through `Feeder` + `FsTracker` + `FsIndex` and must turn the tree before
//! into the tree after: the expected values are the two scans of the real
//! filesystem, not anything this crate computes.
//!
//! The first three workloads (`chmod -R`, `chown -R`, `chgrp -R`) change a
//! tree made before the watch: only a tracker running live on the host can
//! place them. Offline, each of their changes must still be reported, one
//! per entry the scan lists (symlinks excepted for chmod), with
//! `dir_known` false where the path is unknown.

use auparse::{ChangeKind, Feeder, FsChange, FsIndex, FsTracker};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

const KEY: &[u8] = b"auparse-replay";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replay")
}

fn gunzip(name: &str) -> Vec<u8> {
    let file = std::fs::File::open(dir().join(name)).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// A recorded scan: path -> kind.
fn scan(name: &str) -> BTreeMap<String, String> {
    String::from_utf8(gunzip(name))
        .unwrap()
        .lines()
        .map(|l| {
            let (k, p) = l.split_once('\t').unwrap();
            (p.to_string(), k.to_string())
        })
        .collect()
}

fn kind_name(k: &str) -> &'static str {
    ChangeKind::file_type_name(k).unwrap_or_else(|| panic!("kind {k}"))
}

/// The changes of one workload's log: the events of the rule's key through
/// the tracker, then the pending ones (the plugin writes them after a
/// second of quiet; the workloads are 1.5 s apart).
fn changes(tracker: &mut FsTracker, data: &[u8]) -> Vec<FsChange> {
    let mut feeder = Feeder::new().unwrap();
    let mut events = Vec::new();
    feeder.feed(data, |ev| events.push(ev.to_event())).unwrap();
    feeder.flush(|ev| events.push(ev.to_event())).unwrap();
    let mut out = Vec::new();
    for ev in events
        .iter()
        .filter(|e| e.keys.iter().any(|k| k[..] == *KEY))
    {
        out.extend(tracker.changes(ev).into_iter().filter(|c| c.success));
    }
    out.extend(tracker.flush().into_iter().filter(|c| c.success));
    out
}

#[test]
fn the_recorded_log_replays_to_the_recorded_tree() {
    let workloads = std::fs::read_to_string(dir().join("workloads.tsv")).unwrap();
    let mut tracker = FsTracker::default();
    let mut failures = Vec::new();
    let mut checked = 0;
    for row in workloads.lines() {
        let (stem, name) = row.split_once('\t').unwrap();
        let got = changes(&mut tracker, &gunzip(&format!("{stem}.log.gz")));
        let before = scan(&format!("{stem}.before.gz"));
        let after = scan(&format!("{stem}.after.gz"));
        let root = before.keys().next().unwrap().clone();
        let made_before_the_watch = ["chmod -R", "chown -R", "chgrp -R"]
            .iter()
            .any(|t| name.starts_with(t) && !name.contains("moved"));
        if made_before_the_watch {
            // Offline these cannot be placed; none may be dropped.
            let kind = if name.starts_with("chmod") {
                ChangeKind::ModeChanged
            } else {
                ChangeKind::OwnerChanged
            };
            let pre = format!("{root}/pre");
            let touched = before
                .iter()
                .filter(|(p, k)| {
                    (**p == pre || p.starts_with(&format!("{pre}/")))
                        && (kind != ChangeKind::ModeChanged || *k != "symlink")
                })
                .count();
            let reported = got.iter().filter(|c| c.kind == kind).count();
            if reported != touched {
                failures.push(format!(
                    "{name}: {touched} entries touched, {reported} {} changes",
                    kind.as_str()
                ));
            }
            continue;
        }
        let mut index = FsIndex::new();
        for (p, k) in &before {
            index.insert(p.as_bytes(), kind_name(k));
        }
        let unknown: Vec<String> = got
            .iter()
            .filter(|c| !c.dir_known)
            .map(|c| c.path.to_string())
            .collect();
        for c in &got {
            index.apply(c);
        }
        let replayed: BTreeMap<String, String> = index
            .iter()
            .map(|(p, k)| (String::from_utf8(p.to_vec()).unwrap(), k.to_string()))
            .collect();
        let missing: Vec<_> = after
            .iter()
            .filter(|(p, k)| replayed.get(*p) != Some(k))
            .take(10)
            .collect();
        let extra: Vec<_> = replayed
            .iter()
            .filter(|(p, _)| !after.contains_key(*p))
            .take(10)
            .collect();
        let outside: BTreeSet<&str> = got
            .iter()
            .flat_map(|c| std::iter::once(&c.path).chain(c.old_path.as_ref()))
            .map(|p| std::str::from_utf8(p).unwrap())
            .filter(|p| *p != root && !p.starts_with(&format!("{root}/")))
            .collect();
        eprintln!(
            "{stem} {name}: {} changes; {} entries before, {} after; missing or wrong kind {}, extra {}, outside {}, unknown {}",
            got.len(),
            before.len(),
            after.len(),
            missing.len(),
            extra.len(),
            outside.len(),
            unknown.len()
        );
        if !missing.is_empty() || !extra.is_empty() || !outside.is_empty() || !unknown.is_empty() {
            failures.push(format!(
                "{name}: missing or wrong kind {missing:?}\nextra {extra:?}\noutside {outside:?}\nunknown {unknown:?}"
            ));
        }
        checked += 1;
    }
    assert_eq!(checked, 18, "workloads replayed");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
