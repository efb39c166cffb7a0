//! `Grouping::Ausearch` (the Rust grouper of src/assemble.rs) against
//! libauparse's own grouping: the same events (as multisets of owned
//! events) on every corpus log, fixture and bad input; the same events
//! whatever the chunking; the kernel ANOM_ABEND log of the generator; ageing
//! by the wall clock. `throughput` (ignored) prints events/s of both modes.

mod common;

use auparse::{Event, Feeder, Grouping};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every file of ../shared/corpus and tests/fixtures that holds audit
/// records (a line starting with `type=` or `node=`).
fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    common::walk(&root.join("../shared/corpus"), &mut out);
    common::walk(&root.join("tests/fixtures"), &mut out);
    out.retain(|p| {
        !p.to_string_lossy().contains("/expected/")
            && std::fs::read(p).is_ok_and(|b| {
                b.split(|&c| c == b'\n')
                    .any(|l| l.starts_with(b"type=") || l.starts_with(b"node="))
            })
    });
    out.sort();
    assert!(!out.is_empty(), "no inputs found");
    out
}

fn events(data: &[u8], grouping: Grouping, chunk: usize) -> Vec<Event> {
    let mut feeder = Feeder::new().unwrap();
    feeder.set_grouping(grouping);
    let mut out = Vec::new();
    for c in data.chunks(chunk.max(1)) {
        feeder.feed(c, |ev| out.push(ev.to_event())).unwrap();
    }
    feeder.flush(|ev| out.push(ev.to_event())).unwrap();
    assert!(!feeder.has_pending().unwrap());
    out
}

/// The events as a sorted multiset (each as its JSON text).
fn multiset(evs: &[Event]) -> Vec<String> {
    let mut v: Vec<String> = evs
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    v.sort();
    v
}

/// Asserts both groupings give the same events; returns whether the order
/// differed.
fn same_events(name: &str, data: &[u8]) -> bool {
    let lib = events(data, Grouping::Libauparse, data.len());
    let aus = events(data, Grouping::Ausearch, data.len());
    let (l, a) = (multiset(&lib), multiset(&aus));
    if l != a {
        let only_lib: Vec<_> = l.iter().filter(|x| !a.contains(x)).collect();
        let only_aus: Vec<_> = a.iter().filter(|x| !l.contains(x)).collect();
        panic!(
            "{name}: the groupings give other events ({} vs {})\nonly libauparse: {only_lib:#?}\n\
             only ausearch: {only_aus:#?}",
            lib.len(),
            aus.len()
        );
    }
    lib != aus
}

#[test]
fn same_events_as_libauparse_on_every_log() {
    let files = inputs();
    let mut reordered = 0;
    for p in &files {
        let data = std::fs::read(p).unwrap();
        if same_events(&p.to_string_lossy(), &data) {
            reordered += 1;
        }
    }
    eprintln!(
        "assemble: {} logs: same events in both groupings; {reordered} in another order",
        files.len()
    );
}

#[test]
fn chunk_invariant() {
    for p in inputs() {
        let data = std::fs::read(&p).unwrap();
        let whole = events(&data, Grouping::Ausearch, data.len());
        for chunk in [1, 37, 4096] {
            assert!(
                events(&data, Grouping::Ausearch, chunk) == whole,
                "{}: {chunk}-byte chunks give other events or order",
                p.display()
            );
        }
    }
}

/// Runs ../shared/tools/gen_audit_log.py, or None (with a note) without it.
fn generated(name: &str, args: &[&str]) -> Option<Vec<u8>> {
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/gen_audit_log.py");
    if !tool.exists() {
        eprintln!("assemble: skipped: {} is not present", tool.display());
        return None;
    }
    let out = std::env::temp_dir().join(format!("auparse-assemble-{}-{name}", std::process::id()));
    let ok = Command::new("python3")
        .arg(&tool)
        .arg(&out)
        .args(args)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("assemble: skipped: python3 could not run the generator");
        return None;
    }
    let data = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    Some(data)
}

#[test]
fn anom_abend_log_same_events() {
    let Some(data) = generated("anom.log", &["--events", "20000"]) else {
        return;
    };
    assert!(data
        .split(|&c| c == b'\n')
        .any(|l| l.starts_with(b"type=ANOM_ABEND")));
    let lib = events(&data, Grouping::Libauparse, 64 * 1024);
    let aus = events(&data, Grouping::Ausearch, 64 * 1024);
    assert!(lib.len() >= 20000, "{} events", lib.len());
    assert_eq!(multiset(&lib), multiset(&aus));
    // Chunking does not change anything either.
    assert!(events(&data, Grouping::Ausearch, 37) == aus);
}

#[test]
fn bad_lines_same_events() {
    let single = |serial: u64| {
        format!(
            "type=DAEMON_START msg=audit({}.000:{serial}): op=start ver=3.0.9 format=raw \
             kernel=6.1.0 auid=4294967295 pid=100 uid=0 ses=4294967295 res=success\n",
            1_700_000_000 + serial
        )
        .into_bytes()
    };
    let sys = |serial: u64| {
        let t = 1_700_000_000 + serial;
        format!(
            "type=SYSCALL msg=audit({t}.250:{serial}): arch=c000003e syscall=257 success=yes \
             exit=3 a0=ffffff9c a1=7ffd2 a2=241 a3=1b6 items=1 ppid=10 pid=11 auid=1000 \
             uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 \
             tty=pts0 ses=3 comm=\"touch\" exe=\"/usr/bin/touch\" key=\"k\"\n\
             type=CWD msg=audit({t}.250:{serial}): cwd=\"/home/u\"\n"
        )
        .into_bytes()
    };
    let bad: [&[u8]; 14] = [
        b"this is not an audit record\n",
        b"type=\n",
        b"msg=audit(1.2:3)\n",
        b"\n",
        b"# comment type=DAEMON_START msg=audit(1.000:9)\n",
        b"\xff\xfe\x80 not UTF-8\n",
        b"garb\0age\n",
        b"\0type=DAEMON_START msg=audit(1700000002.500:99): op=start\n",
        b"type=SYSCALL msg=audit(garbage): x=1\n",
        b"type=SYSCALL msg=audit(1700000002.002:): a=b\n",
        b"type=NO_SUCH_TYPE msg=audit(1700000002.002:2): a=b\n",
        b"type=DAEMON_START msg=audit(1700000002.000:2): op=start\0 pid=5 res=success\n",
        b"type=EOE msg=audit(1700000002.000:77): \n",
        b"type=DAEMON_START msg=audit(1700000002.002:2): \xff=\xfe a\n",
    ];
    let mut input = Vec::new();
    for (i, b) in bad.iter().enumerate() {
        let s = 10 + 2 * i as u64;
        input.extend_from_slice(&single(s));
        input.extend_from_slice(b);
        input.extend_from_slice(&sys(s + 1));
    }
    input.extend_from_slice(&vec![b'x'; 1 << 20]);
    input.extend_from_slice(b"\ntype=DAEMON_START msg=audit(1700000100.000:100): v=");
    input.extend_from_slice(&vec![b'y'; 1 << 20]);
    input.extend_from_slice(b" res=success");
    same_events("bad lines", &input);
    let aus = events(&input, Grouping::Ausearch, 4096);
    let last = aus.iter().find(|e| e.serial == 100).unwrap();
    assert_eq!(last.records[0].field("v").unwrap().raw.len(), 1 << 20);
    assert_eq!(aus, events(&input, Grouping::Ausearch, 37));
}

#[test]
fn ausearch_order_and_anom_records() {
    let log = b"type=SYSCALL msg=audit(1700000100.000:1): arch=c000003e syscall=2 success=yes exit=3 a0=1 a1=2 a2=3 a3=4 items=0 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm=\"a\" exe=\"/a\" key=(null)
type=ANOM_ABEND msg=audit(1700000100.100:2): auid=0 uid=0 gid=0 ses=1 pid=3 comm=\"x\" exe=\"/x\" sig=11 res=1
type=PROCTITLE msg=audit(1700000100.000:1): proctitle=6100
type=DAEMON_START msg=audit(1700000099.000:3): op=start res=success
type=DAEMON_START msg=audit(1700000102.000:4): op=start res=success
";
    let mut feeder = Feeder::new().unwrap();
    feeder.set_grouping(Grouping::Ausearch);
    feeder.set_eoe_timeout(2);
    let mut got = Vec::new();
    feeder.feed(log, |ev| got.push(ev.serial())).unwrap();
    // The SYSCALL event (1) and the ANOM_ABEND (2) wait, as in ausearch;
    // the older single-record event 3 goes first; the record at 102
    // completes 1 and 2 by time, and is a single-record event itself.
    assert_eq!(got, [3, 1, 2, 4]);
    feeder.flush(|ev| got.push(ev.serial())).unwrap();
    assert_eq!(got, [3, 1, 2, 4]);
    // The Feeder goes on after a flush.
    feeder
        .feed(
            b"type=DAEMON_START msg=audit(1700000200.000:5): op=start res=success\n",
            |ev| got.push(ev.serial()),
        )
        .unwrap();
    assert_eq!(got, [3, 1, 2, 4, 5]);
}

#[test]
fn age_events_releases_rust_side_events() {
    let mut feeder = Feeder::new().unwrap();
    feeder.set_grouping(Grouping::Ausearch);
    feeder.set_eoe_timeout(1);
    let mut got = Vec::new();
    feeder
        .feed(
            b"type=SYSCALL msg=audit(1700000100.000:1): arch=c000003e syscall=2 success=yes exit=3 items=0 pid=2 auid=0 uid=0 comm=\"a\"\n\
              type=PROCTITLE msg=audit(1700000100.000:1): proctitle=6100\n",
            |ev| got.push(ev.serial()),
        )
        .unwrap();
    assert!(got.is_empty());
    assert!(feeder.has_pending().unwrap());
    feeder.age_events(|ev| got.push(ev.serial())).unwrap();
    assert!(got.is_empty(), "released before the timeout");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let mut records = 0;
    feeder
        .age_events(|ev| {
            got.push(ev.serial());
            records = ev.to_event().records.len();
        })
        .unwrap();
    assert_eq!((got.as_slice(), records), (&[1][..], 2));
    assert!(!feeder.has_pending().unwrap());
}

#[test]
fn read_events_with_ausearch_grouping() {
    let p = inputs().into_iter().next().unwrap();
    let data = std::fs::read(&p).unwrap();
    let opts = auparse::ReadOptions::new().grouping(Grouping::Ausearch);
    let read: Vec<Event> = auparse::read_events_with(&data[..], opts)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(read == events(&data, Grouping::Ausearch, 4096));
}

/// Prints events/s of both groupings on 200k-event generated logs, with
/// and without kernel ANOM_ABEND records. Not a timed assertion. Run with
/// `cargo test --release -p auparse --test assemble -- --ignored --nocapture throughput`.
#[test]
#[ignore]
fn throughput() {
    let n: usize = std::env::var("AUPARSE_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let ns = n.to_string();
    // AUPARSE_BENCH_LOG=anom|clean and AUPARSE_BENCH_GROUPING=Libauparse|Ausearch
    // narrow the run (for profiling).
    let only_log = std::env::var("AUPARSE_BENCH_LOG").ok();
    let only_grouping = std::env::var("AUPARSE_BENCH_GROUPING").ok();
    for (name, extra) in [("anom", &[][..]), ("clean", &["--no-anom"][..])] {
        if only_log.as_deref().is_some_and(|l| l != name) {
            continue;
        }
        let mut args = vec!["--events", ns.as_str()];
        args.extend_from_slice(extra);
        let Some(data) = generated(name, &args) else {
            return;
        };
        let mut rates = Vec::new();
        for grouping in [Grouping::Libauparse, Grouping::Ausearch] {
            if only_grouping
                .as_deref()
                .is_some_and(|g| g != format!("{grouping:?}"))
            {
                continue;
            }
            let mut best = f64::MAX;
            let mut count = 0u64;
            for _ in 0..3 {
                let start = std::time::Instant::now();
                let mut feeder = Feeder::new().unwrap();
                feeder.set_grouping(grouping);
                count = 0;
                for c in data.chunks(64 * 1024) {
                    feeder.feed(c, |_| count += 1).unwrap();
                }
                feeder.flush(|_| count += 1).unwrap();
                best = best.min(start.elapsed().as_secs_f64());
            }
            let rate = count as f64 / best;
            rates.push(rate);
            println!(
                "{name:>5} log ({} MB): {grouping:?}: {count} events in {best:.3} s = {rate:.0} events/s",
                data.len() / 1_000_000
            );
        }
        println!(
            "{name:>5} log: Ausearch / Libauparse = {:.2}x",
            rates[1] / rates[0]
        );
    }
}

/// Lines at the edges of `ausearch`'s timestamp reading (a
/// `msg=audit(...)` word of 18 bytes or less, milliseconds above 999,
/// numbers that overflow, a tab instead of a space): libauparse 3.0.9 reads
/// them the same way, so both groupings keep or skip the same lines.
#[test]
fn edge_timestamps_same_in_both() {
    let cases: [(&[u8], &[u64]); 8] = [
        (
            b"type=DAEMON_START msg=audit(1.00:3): op=start res=success\n",
            &[],
        ),
        (
            b"type=DAEMON_START msg=audit(10.00:3): op=start res=success\n",
            &[3],
        ),
        (
            b"type=DAEMON_START msg=audit(1700000000.1234:3): op=start res=success\n",
            &[],
        ),
        (
            b"type=DAEMON_START msg=audit(99999999999999999999999.000:3): op=start\n",
            &[],
        ),
        (
            b"type=DAEMON_START msg=audit(1700000000.000:99999999999999999999999): op=start\n",
            &[],
        ),
        (
            b"type=DAEMON_START\tmsg=audit(1700000000.000:3): op=start res=success\n",
            &[],
        ),
        (
            b"type=DAEMON_START msg=audit(1700000000.000:3):op=start res=success\n",
            &[3],
        ),
        (
            b"  type=DAEMON_START   msg=audit(1700000000.000:3): op=start res=success\n",
            &[3],
        ),
    ];
    for (line, want) in cases {
        for g in [Grouping::Libauparse, Grouping::Ausearch] {
            let got: Vec<u64> = events(line, g, line.len())
                .iter()
                .map(|e| e.serial)
                .collect();
            assert_eq!(got, want, "{g:?}: {:?}", String::from_utf8_lossy(line));
        }
    }
}
