//! `Grouping::Indexed` (libauparse's feed-mode rules applied by the Rust
//! stage of src/assemble.rs) against libauparse's own feed mode
//! (`Grouping::Libauparse`): the same events, with the same records, in the
//! same order (by their records' text, serial, timestamp and node),
//! delivered by the same feed call, on every corpus log,
//! fixture, hostile input and fuzz regression, for several end-of-event
//! timeouts and chunkings; on lines mutated at random; on the shapes that
//! send a line to the probe parser (AVC permissions over 255 bytes, EOEs of
//! odd shapes, odd node names); on a burst where one event's records come
//! late; and at wall-clock ageing. The expected values are libauparse's.

mod common;

use auparse::{Feeder, Grouping};
use harness::GroupedEvent;

/// The fuzz targets' code: `grouping_events` is the fuzz target `grouping`'s
/// feeding and recording, shared.
#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod harness;
use std::path::{Path, PathBuf};

/// Every input file: corpus, fixtures, hostile inputs, fuzz regressions.
fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    common::walk(&root.join("../shared/corpus"), &mut out);
    common::walk(&root.join("tests/fixtures"), &mut out);
    common::walk(&root.join("tests/hostile"), &mut out);
    common::walk(&root.join("tests/fuzz-regressions"), &mut out);
    out.retain(|p| {
        !p.to_string_lossy().contains("/expected/")
            && std::fs::read(p).is_ok_and(|b| memchr::memmem::find(&b, b"msg=audit(").is_some())
    });
    out.sort();
    assert!(out.len() > 50, "only {} inputs found", out.len());
    out
}

fn run(data: &[u8], grouping: Grouping, chunk: usize, timeout: u32) -> Vec<GroupedEvent> {
    harness::grouping_events(data, grouping, &[chunk], timeout)
}

/// An event for a failure message, its records as text.
fn show(ev: Option<&GroupedEvent>) -> String {
    ev.map_or_else(
        || "none".into(),
        |(call, serial, ts, node, raw)| {
            let recs: Vec<_> = raw.iter().map(|r| String::from_utf8_lossy(r)).collect();
            format!("call {call}, serial {serial}, {ts:?}, node {node:?}, {recs:?}")
        },
    )
}

fn assert_same(name: &str, data: &[u8], chunk: usize, timeout: u32) -> usize {
    let lib = run(data, Grouping::Libauparse, chunk, timeout);
    let idx = run(data, Grouping::Indexed, chunk, timeout);
    if lib != idx {
        let at = lib
            .iter()
            .zip(&idx)
            .position(|(a, b)| a != b)
            .unwrap_or(lib.len().min(idx.len()));
        panic!(
            "{name} (chunk {chunk}, timeout {timeout}): {} events from libauparse, {} from Indexed; first difference at event {at}:\nlibauparse: {}\nIndexed:    {}",
            lib.len(),
            idx.len(),
            show(lib.get(at)),
            show(idx.get(at))
        );
    }
    lib.len()
}

#[test]
fn every_input_as_libauparse_groups_it() {
    let mut events = 0;
    let files = inputs();
    for p in &files {
        let data = std::fs::read(p).unwrap();
        let name = p.display().to_string();
        events += assert_same(&name, &data, data.len(), 2);
        if common::quick() {
            // Under valgrind (.ci/valgrind): one timeout, one chunking.
            assert_same(&name, &data, 4096, 2);
            continue;
        }
        for timeout in [1, 7] {
            assert_same(&name, &data, data.len(), timeout);
        }
        if data.len() < 2 << 20 {
            for chunk in [4096, 37] {
                assert_same(&name, &data, chunk, 2);
            }
        }
    }
    eprintln!("{} files, {events} events, all alike", files.len());
    assert!(events > 1000);
}

/// A small deterministic generator (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Lines of the corpus's plugin stream and generator log, each changed at
/// random: bytes replaced, inserted or cut, types and node names swapped,
/// lines repeated, moved and dropped.
#[test]
fn mutated_lines_as_libauparse_groups_them() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut base: Vec<Vec<u8>> = Vec::new();
    for p in inputs() {
        let data = std::fs::read(&p).unwrap();
        if data.len() > 1 << 20 {
            continue;
        }
        for l in data.split_inclusive(|&c| c == b'\n') {
            if memchr::memmem::find(l, b"msg=audit(").is_some() && l.len() < 2000 {
                base.push(l.to_vec());
            }
        }
    }
    assert!(base.len() > 1000, "{} lines", base.len());
    let _ = root;
    let specials: &[&[u8]] = &[
        b" ",
        b"\0",
        b"\x1d",
        b"(",
        b")",
        b".",
        b":",
        b"=",
        b"n",
        b"-",
        b"9",
        b"'",
        b",",
        b"type=EOE",
        b"type=AVC",
        b"type=USER_AVC",
        b"type=PROCTITLE",
        b"type=ANOM_ABEND",
        b"node=",
        b"node=h ",
        b"n ",
        b"msg=audit(",
        b"UNKNOWN[1320]",
        b"{",
        b"}",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let rounds = if common::quick() { 40 } else { 300 };
    let mut total = 0;
    for round in 0..rounds {
        let start = rng.below(base.len());
        let n = 20 + rng.below(200);
        let mut lines: Vec<Vec<u8>> = (0..n)
            .map(|i| base[(start + i) % base.len()].clone())
            .collect();
        for _ in 0..rng.below(12) + 1 {
            let i = rng.below(lines.len());
            let l = &mut lines[i];
            let at = rng.below(l.len().min(120));
            let s = specials[rng.below(specials.len())];
            match rng.below(5) {
                0 => {
                    let end = (at + s.len()).min(l.len() - 1);
                    l.splice(at..end, s.iter().copied());
                }
                1 => {
                    l.splice(at..at, s.iter().copied());
                }
                2 => {
                    let end = (at + 1 + rng.below(8)).min(l.len() - 1);
                    l.drain(at..end);
                }
                3 => {
                    let j = rng.below(lines.len());
                    let dup = lines[j].clone();
                    lines.insert(i, dup);
                }
                _ => {
                    let j = rng.below(lines.len());
                    lines.swap(i, j);
                }
            }
        }
        let data: Vec<u8> = lines.concat();
        let timeout = [1, 2, 5][round % 3];
        total += assert_same(&format!("round {round}"), &data, data.len(), timeout);
        assert_same(
            &format!("round {round}"),
            &data,
            1 + rng.below(300),
            timeout,
        );
    }
    eprintln!("{rounds} rounds, {total} events alike");
}

/// The lines that send a line to the probe parser, in events and alone.
#[test]
fn unusual_lines_as_libauparse_groups_them() {
    let perms: String = (0..40).map(|i| format!("perm{i} ")).collect();
    let short = "read write";
    let mut log = String::new();
    for (i, (ty, body)) in [
        (
            "AVC",
            format!("avc:  denied  {{ {perms}}} for pid=1 comm=\"x\""),
        ),
        (
            "AVC",
            format!("avc:  denied  {{ {short} }} for pid=1 comm=\"x\""),
        ),
        (
            "USER_AVC",
            format!("pid=1 uid=0 msg='avc:  denied  {{ {perms}}} for x'"),
        ),
        (
            "USER_AVC",
            format!("pid=1 uid=0 msg='avc:  denied  {{ {short} }} for x'"),
        ),
        ("EOE", String::new()),
        ("PROCTITLE", "proctitle=6C73".to_string()),
        ("UNKNOWN[1320]", String::new()),
        ("1320", String::new()),
        ("EOE,", String::new()),
    ]
    .iter()
    .enumerate()
    {
        let s = 100 + i;
        for prefix in ["", "node=host1 ", "node=h\u{1d}x ", "nodes ", "  "] {
            // The line alone, after a record of its event, and twice.
            log += &format!("{prefix}type={ty} msg=audit(1700000000.{i:03}:{s}): {body}\n");
            log += &format!("type=SYSCALL msg=audit(1700000001.{i:03}:{s}): arch=c000003e syscall=2 success=yes exit=3 items=0 pid=1 comm=\"x\"\n");
            log += &format!("{prefix}type={ty} msg=audit(1700000001.{i:03}:{s}): {body}\n");
            log += &format!("type=CWD msg=audit(1700000001.{i:03}:{s}): cwd=\"/\"\n");
            log += &format!("type=PROCTITLE msg=audit(1700000001.{i:03}:{s}): proctitle=6C73\n");
        }
    }
    let data = log.into_bytes();
    for timeout in [1, 2] {
        for chunk in [data.len(), 1, 50] {
            assert_same("unusual", &data, chunk, timeout);
        }
    }
}

/// A burst of two producers in which one event's last records come 5,000
/// events late: libauparse holds every newer event behind it.
#[test]
fn late_records_as_libauparse_groups_them() {
    let mut log = String::new();
    let ev = |log: &mut String, s: u64, ms: u64, part: u8| {
        if part & 1 != 0 {
            *log += &format!("type=SYSCALL msg=audit(1700000000.{ms:03}:{s}): arch=c000003e syscall=90 success=yes exit=0 items=1 pid={s} comm=\"chmod\" key=\"k\"\n");
        }
        if part & 2 != 0 {
            *log += &format!("type=PATH msg=audit(1700000000.{ms:03}:{s}): item=0 name=\"f{s}\" nametype=NORMAL\ntype=PROCTITLE msg=audit(1700000000.{ms:03}:{s}): proctitle=6C73\ntype=EOE msg=audit(1700000000.{ms:03}:{s}): \n");
        }
    };
    ev(&mut log, 10, 0, 1);
    for s in 11..5011 {
        ev(&mut log, s, (s / 10) % 1000, 3);
    }
    ev(&mut log, 10, 0, 2);
    let data = log.into_bytes();
    let n = assert_same("late", &data, data.len(), 2);
    assert_eq!(n, 5001);
    assert_same("late", &data, 4096, 2);
}

/// `age_events` completes what libauparse's `auparse_feed_age_events` does:
/// events whose log seconds plus the timeout are at most the wall clock's,
/// and not those stamped in the future.
#[test]
fn ageing_as_libauparse_ages() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // A future event first, then two past ones (earlier in timestamp order).
    let mut log = format!(
        "type=SYSCALL msg=audit({}.000:60): arch=c000003e syscall=2 items=0\n",
        now + 1000
    );
    for serial in [61, 62] {
        log += &format!(
            "type=SYSCALL msg=audit({}.000:{serial}): arch=c000003e syscall=2 items=0\n",
            now - 100
        );
    }
    let data = log.into_bytes();
    let aged = |g: Grouping| {
        let mut f = Feeder::new().unwrap();
        f.set_grouping(g);
        f.set_eoe_timeout(2);
        let mut got = Vec::new();
        f.feed(&data, |ev| got.push(ev.serial())).unwrap();
        let fed = got.len();
        f.age_events(|ev| got.push(ev.serial())).unwrap();
        let aged = got.len();
        f.flush(|ev| got.push(ev.serial())).unwrap();
        (fed, aged, got)
    };
    let lib = aged(Grouping::Libauparse);
    assert_eq!(lib, aged(Grouping::Indexed));
    assert_eq!(lib, (0, 2, vec![61, 62, 60]));
}
