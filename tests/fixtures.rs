//! The live fixtures of tests/fixtures/live/, recorded from a real kernel and
//! auditd by tests/fixtures/record.sh (see tests/fixtures/live/README.md).
//!
//! For every fixture file: the same owned events whatever the chunking of the
//! feed, as many as a pull-mode parser finds, and the fixture key on every
//! syscall event. For every scenario of manifest.tsv: the paths it changed
//! are in the PATH records, with the nametype the kind of change implies,
//! found the way the manifest says (a cwd-joined name; for dirfd-relative
//! calls, the last component in a record whose PARENT has the inode of the
//! manifest's directory; only the parent for a failed create; or not at
//! all). No path is rebuilt here: where paths come out right is proved
//! against the real filesystem by the live replay test
//! (auparse-tools/tests/live_auditd.rs).

mod common;

use auparse::bytes::decode_audit_string;
use auparse::{EscapeMode, Event, Feeder, Parser, Record, RecordType};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const KEY: &str = "auparse-fixture";

use common::live_fixtures as live_dir;

/// Every recorded capture: `*.stream` and `*.log`, sorted.
fn fixture_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(live_dir())
        .expect("tests/fixtures/live exists")
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("stream" | "log")
            )
        })
        .collect();
    files.sort();
    files
}

/// Feeds `data` in pieces of `chunk` bytes (0: all at once) and flushes.
fn feed(data: &[u8], chunk: usize) -> Vec<Event> {
    let mut feeder = Feeder::new().unwrap();
    let mut out = Vec::new();
    if chunk == 0 {
        feeder.feed(data, |ev| out.push(ev.to_event())).unwrap();
    } else {
        for piece in data.chunks(chunk) {
            feeder.feed(piece, |ev| out.push(ev.to_event())).unwrap();
        }
    }
    feeder.flush(|ev| out.push(ev.to_event())).unwrap();
    out
}

fn pull_count(path: &Path) -> usize {
    let mut parser = Parser::from_file(path).unwrap();
    let mut n = 0;
    while parser.next_event().unwrap().is_some() {
        n += 1;
    }
    n
}

/// The events of a capture, names unescaped: libauparse 3.0.9 escapes
/// control characters in interpreted values (`\012`) unless told otherwise.
fn events_of(path: &Path) -> Vec<Event> {
    let mut feeder = Feeder::new().unwrap();
    feeder.set_escape_mode(EscapeMode::Raw).unwrap();
    let mut out = Vec::new();
    feeder
        .feed(&std::fs::read(path).unwrap(), |ev| out.push(ev.to_event()))
        .unwrap();
    feeder.flush(|ev| out.push(ev.to_event())).unwrap();
    out
}

fn show(b: &[u8]) -> String {
    auparse::bytes::escape(b).into_owned()
}

#[test]
fn same_events_in_any_chunking_and_as_pull_mode() {
    let files = fixture_files();
    assert!(
        files.len() >= 60,
        "expected the recorded fixtures, found {}",
        files.len()
    );
    let mut total = 0;
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let whole = feed(&data, 0);
        for chunk in [1, 37, 4096] {
            let got = feed(&data, chunk);
            assert_eq!(
                got,
                whole,
                "{}: chunks of {chunk} differ from one feed",
                path.display()
            );
        }
        assert_eq!(
            whole.len(),
            pull_count(path),
            "{}: feed and pull mode count different events",
            path.display()
        );
        total += whole.len();
    }
    eprintln!("{} fixture files, {total} events", files.len());
    assert!(total > 60);
}

#[test]
fn every_syscall_event_carries_the_fixture_key() {
    for path in fixture_files() {
        for ev in events_of(&path) {
            assert!(
                ev.record(RecordType::SYSCALL).is_some(),
                "{}: serial {} has no SYSCALL record: only the key's events were recorded",
                path.display(),
                ev.serial
            );
            assert!(
                ev.keys.iter().any(|k| *k == KEY),
                "{}: serial {} lacks key {KEY}: {:?}",
                path.display(),
                ev.serial,
                ev.keys
            );
        }
    }
}

#[test]
fn stream_and_log_forms_hold_the_same_events() {
    for path in fixture_files() {
        if path.extension().unwrap() != "stream" {
            continue;
        }
        let raw = std::fs::read(&path).unwrap();
        let log_path = path.with_extension("log");
        let log_raw = std::fs::read(&log_path).unwrap();
        // The plugin stream is the log plus the kernel's EOE records.
        let without_eoe: Vec<u8> = raw
            .split_inclusive(|&b| b == b'\n')
            .filter(|l| !l.starts_with(b"type=EOE "))
            .flatten()
            .copied()
            .collect();
        assert_eq!(
            without_eoe,
            log_raw,
            "{}: differs from {} beyond EOE",
            path.display(),
            log_path.display()
        );
        let eoe = raw
            .split(|&b| b == b'\n')
            .filter(|l| l.starts_with(b"type=EOE "))
            .count();
        let from_stream = events_of(&path);
        assert_eq!(
            eoe,
            from_stream.len(),
            "{}: one EOE per event",
            path.display()
        );
        let strip = |evs: Vec<Event>| -> Vec<Event> {
            evs.into_iter()
                .map(|mut ev| {
                    ev.records.retain(|r| r.record_type != RecordType::EOE);
                    ev
                })
                .collect()
        };
        assert_eq!(
            strip(from_stream),
            strip(events_of(&log_path)),
            "{}: stream and log give different events",
            path.display()
        );
    }
}

#[test]
fn all_files_are_the_scenarios_in_order() {
    let manifest = manifest();
    let mut names: Vec<&str> = Vec::new();
    for row in &manifest {
        if names.last() != Some(&row.scenario.as_str()) {
            names.push(&row.scenario);
        }
    }
    for ext in ["stream", "log"] {
        let mut joined = Vec::new();
        for name in &names {
            joined.extend(std::fs::read(live_dir().join(format!("{name}.{ext}"))).unwrap());
        }
        assert_eq!(
            joined,
            std::fs::read(live_dir().join(format!("all.{ext}"))).unwrap(),
            "all.{ext}"
        );
        let per_scenario: usize = names
            .iter()
            .map(|n| events_of(&live_dir().join(format!("{n}.{ext}"))).len())
            .sum();
        assert_eq!(
            events_of(&live_dir().join(format!("all.{ext}"))).len(),
            per_scenario
        );
    }
}

// ------------------------------------------------------------- manifest ----

use common::{manifest, ManifestRow as Change};

// ---------------------------------------------------------- PATH records ----

/// One PATH record, with what the event around it says about it.
#[derive(Debug)]
struct PathRec {
    /// Interpreted name: joined to the CWD record by libauparse.
    name: Vec<u8>,
    /// The name as the kernel logged it, hex decoded.
    raw_name: Vec<u8>,
    nametype: String,
    inode: Option<u64>,
    /// Inode of the event's (first) PARENT record.
    parent_inode: Option<u64>,
    /// The syscall was made relative to a directory fd, not the cwd.
    dirfd_relative: bool,
}

fn field<'a>(r: &'a Record, name: &str) -> Option<&'a [u8]> {
    r.field(name).map(|f| &f.interpreted[..])
}

fn raw<'a>(r: &'a Record, name: &str) -> Option<&'a [u8]> {
    r.field(name).map(|f| &f.raw[..])
}

/// Syscalls whose first argument is a directory fd for a relative name.
const DIRFD_IN_A0: &[&[u8]] = &[
    b"openat",
    b"mkdirat",
    b"unlinkat",
    b"fchmodat",
    b"fchownat",
    b"utimensat",
    b"renameat",
    b"renameat2",
    b"linkat",
];

fn path_records(ev: &Event) -> Vec<PathRec> {
    let sys = ev.record(RecordType::SYSCALL).expect("SYSCALL");
    let dirfd = DIRFD_IN_A0.contains(&field(sys, "syscall").unwrap())
        && raw(sys, "a0") != Some(b"ffffff9c".as_slice());
    let inode =
        |r: &Record| raw(r, "inode").map(|i| std::str::from_utf8(i).unwrap().parse().unwrap());
    let paths: Vec<&Record> = ev
        .records
        .iter()
        .filter(|r| r.record_type == RecordType::PATH)
        .collect();
    let parent_inode = paths
        .iter()
        .find(|r| field(r, "nametype") == Some(b"PARENT".as_slice()))
        .and_then(|r| inode(r));
    let raw_name = |r: &Record| decode_audit_string(raw(r, "name").unwrap()).unwrap();
    // A relative name with a directory fd: the PARENT record then names the
    // process cwd (the kernel logs the cwd for any name without a '/'), so
    // no name of the event can be trusted, the parent's included.
    let dirfd_relative = dirfd
        && paths.iter().any(|r| {
            field(r, "nametype") != Some(b"PARENT".as_slice()) && !raw_name(r).starts_with(b"/")
        });
    paths
        .iter()
        .map(|r| {
            let raw_name = raw_name(r);
            PathRec {
                name: r
                    .field("name")
                    .unwrap()
                    .realpath
                    .as_deref()
                    .unwrap()
                    .to_vec(),
                dirfd_relative,
                raw_name,
                nametype: String::from_utf8(field(r, "nametype").unwrap().to_vec()).unwrap(),
                inode: inode(r),
                parent_inode,
            }
        })
        .collect()
}

/// The nametype of the PATH record that names `path` (and `path2`) for each kind.
fn nametypes(kind: &str) -> (&'static str, Option<&'static str>) {
    match kind {
        "created" | "dir-created" => ("CREATE", None),
        "deleted" | "dir-removed" => ("DELETE", None),
        "renamed" => ("DELETE", Some("CREATE")),
        "linked" => ("CREATE", Some("NORMAL")),
        "symlinked" => ("CREATE", Some("UNKNOWN")),
        "modified" | "mode-changed" | "owner-changed" | "xattr-changed" | "times-changed" => {
            ("NORMAL", None)
        }
        other => panic!("unknown kind in manifest: {other}"),
    }
}

fn trim_slash(p: &[u8]) -> &[u8] {
    let mut p = p;
    while p.len() > 1 && p.ends_with(b"/") {
        p = &p[..p.len() - 1];
    }
    p
}

fn check_scenario_file(file: &Path, rows: &[&Change]) {
    let events = events_of(file);
    let what = file.display();
    let first = rows[0];

    // Result: success scenarios hold a successful call; failures only failed ones.
    let outcomes: Vec<&[u8]> = events
        .iter()
        .map(|ev| raw(ev.record(RecordType::SYSCALL).unwrap(), "success").unwrap())
        .collect();
    if rows.iter().all(|r| r.found == "none") {
        assert!(
            events.is_empty(),
            "{what}: the kernel should report nothing, got {events:?}"
        );
        return;
    }
    assert!(!events.is_empty(), "{what}: no events");
    match first.result.as_str() {
        "success" => assert!(
            outcomes.contains(&b"yes".as_slice()),
            "{what}: no successful call"
        ),
        "failure" => assert!(
            outcomes.iter().all(|o| *o == b"no"),
            "{what}: a call succeeded"
        ),
        other => panic!("bad result {other}"),
    }

    let recs: Vec<PathRec> = events.iter().flat_map(path_records).collect();
    let named =
        |p: &[u8], nametype: &str| recs.iter().any(|r| r.name == p && r.nametype == nametype);
    // The inode of every entry the session names directly (an absolute
    // name, or libauparse's cwd join of a cwd-relative one): the kernel's
    // identity of a directory, to check a dirfd-relative record against.
    // No path is rebuilt here: that is the code under test's job, proved
    // against the real filesystem by the live replay test.
    let direct: BTreeMap<Vec<u8>, u64> = recs
        .iter()
        .filter(|r| !r.dirfd_relative)
        .filter_map(|r| Some((trim_slash(&r.name).to_vec(), r.inode?)))
        .collect();

    for row in rows {
        let (nt, nt2) = nametypes(&row.kind);
        let path = &row.path[..];
        match row.found.as_str() {
            "name" => {
                assert!(
                    named(path, nt),
                    "{what}: no {nt} PATH record named {} (have {:?})",
                    show(path),
                    recs.iter()
                        .map(|r| (show(&r.name), &r.nametype))
                        .collect::<Vec<_>>()
                );
                match (row.kind.as_str(), &row.path2, nt2) {
                    ("symlinked", Some(target), Some(nt2)) => assert!(
                        recs.iter()
                            .any(|r| r.raw_name == *target && r.nametype == nt2),
                        "{what}: no {nt2} PATH record with the link target {}",
                        show(target)
                    ),
                    (_, Some(p2), Some(nt2)) => assert!(
                        named(p2, nt2),
                        "{what}: no {nt2} PATH record named {}",
                        show(p2)
                    ),
                    (_, None, None) => {}
                    _ => panic!("{what}: path2 does not fit kind {}", row.kind),
                }
            }
            "dirfd" => {
                // The trap: the cwd-joined name is wrong for a dirfd-relative
                // call, since the kernel logs the cwd as the PARENT name.
                assert!(
                    !named(path, nt),
                    "{what}: {} unexpectedly named directly; the manifest says dirfd",
                    show(path)
                );
                let slash = path.iter().rposition(|&b| b == b'/').unwrap();
                let (dir, base) = (&path[..slash], &path[slash + 1..]);
                assert!(
                    recs.iter()
                        .any(|r| r.dirfd_relative && r.raw_name == base && r.nametype == nt),
                    "{what}: no dirfd-relative {nt} record for {}",
                    show(base)
                );
                // The record's PARENT is the directory the manifest names:
                // the inode the session gives that directory, directly or by
                // a record of its own name (a tree removed bottom-up names
                // each directory only relative to its parent's descriptor).
                let dir_base = &dir[dir.iter().rposition(|&b| b == b'/').unwrap() + 1..];
                let dir_inodes: BTreeSet<u64> = direct
                    .get(dir)
                    .copied()
                    .into_iter()
                    .chain(
                        recs.iter()
                            .filter(|r| r.nametype != "PARENT" && r.raw_name == dir_base)
                            .filter_map(|r| r.inode),
                    )
                    .collect();
                assert!(
                    recs.iter().any(|r| r.dirfd_relative
                        && r.raw_name == base
                        && r.nametype == nt
                        && r.parent_inode.is_some_and(|i| dir_inodes.contains(&i))),
                    "{what}: no dirfd-relative {nt} record of {} whose PARENT is {} (inodes {dir_inodes:?})",
                    show(base),
                    show(dir)
                );
            }
            "parent" => {
                let slash = path.iter().rposition(|&b| b == b'/').unwrap();
                let dir = &path[..slash];
                assert!(
                    recs.iter()
                        .any(|r| r.nametype == "PARENT" && trim_slash(&r.name) == dir),
                    "{what}: no PARENT record for {}",
                    show(dir)
                );
                assert!(
                    !recs.iter().any(|r| r.name == path),
                    "{what}: {} is named although the call failed before the lookup",
                    show(path)
                );
            }
            other => panic!("{what}: bad found {other}"),
        }
    }
}

#[test]
fn scenarios_name_the_paths_the_manifest_expects() {
    let manifest = manifest();
    let mut by_scenario: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
    for row in &manifest {
        by_scenario.entry(&row.scenario).or_default().push(row);
    }
    assert!(by_scenario.len() >= 30, "scenarios: {}", by_scenario.len());
    // Every capture has a manifest entry and the other way round.
    let on_disk: BTreeSet<String> = fixture_files()
        .iter()
        .map(|p| p.file_stem().unwrap().to_str().unwrap().to_string())
        .filter(|s| s != "all")
        .collect();
    let listed: BTreeSet<String> = by_scenario.keys().map(|s| s.to_string()).collect();
    assert_eq!(on_disk, listed);
    for (name, rows) in &by_scenario {
        for ext in ["stream", "log"] {
            check_scenario_file(&live_dir().join(format!("{name}.{ext}")), rows);
        }
    }
}

/// What the README promises about the kernel's records on this machine,
/// pinned so that a re-recording on a different kernel shows up here.
#[test]
fn recorded_syscalls_and_nametypes() {
    let expect: &[(&str, &[&str])] = &[
        ("create", &["openat(PARENT,CREATE)"]),
        ("append", &["openat(NORMAL)"]),
        ("rename", &["renameat2(PARENT,PARENT,DELETE,CREATE)"]),
        (
            "rename-replace",
            &[
                "renameat2(PARENT,PARENT)=no",
                "renameat(PARENT,PARENT,DELETE,DELETE,CREATE)",
            ],
        ),
        ("mv-across", &["renameat2(PARENT,PARENT,DELETE,CREATE)"]),
        ("mkdir", &["mkdir(PARENT,CREATE)"]),
        ("rmdir", &["rmdir(PARENT,DELETE)"]),
        ("chmod", &["fchmodat(NORMAL)"]),
        ("chown", &["fchownat(NORMAL)"]),
        ("utimes", &["openat(NORMAL)"]),
        ("utimes-path", &[]),
        ("link", &["linkat(PARENT,NORMAL,CREATE)"]),
        ("symlink", &["symlinkat(PARENT,UNKNOWN,CREATE)"]),
        ("setxattr", &["setxattr(NORMAL)"]),
        ("truncate", &["openat(NORMAL)"]),
        ("truncate-path", &["truncate(NORMAL)"]),
        ("unlink", &["unlinkat(PARENT,DELETE)"]),
        ("rm-r", &["unlinkat(PARENT,DELETE)"; 5]),
        ("find-delete", &["unlinkat(PARENT,DELETE)"; 4]),
        ("failed-create", &["openat(PARENT)=no"]),
        ("failed-write", &["openat(NORMAL)=no"]),
    ];
    for (name, want) in expect {
        let events = events_of(&live_dir().join(format!("{name}.log")));
        let got: Vec<String> = events
            .iter()
            .map(|ev| {
                let sys = ev.record(RecordType::SYSCALL).unwrap();
                let types: Vec<String> = path_records(ev).into_iter().map(|r| r.nametype).collect();
                let fail = if raw(sys, "success") == Some(b"no".as_slice()) {
                    "=no"
                } else {
                    ""
                };
                format!(
                    "{}({}){fail}",
                    show(field(sys, "syscall").unwrap()),
                    types.join(",")
                )
            })
            .collect();
        assert_eq!(got, *want, "{name}");
    }
}
