//! The Feeder replaces libauparse's parser once many events were open at
//! once (libauparse 3.0.9's list of events never shrinks, and every record
//! then costs a scan of it): the events that come out must be exactly what
//! libauparse's own file-mode parser makes of the same log, before and after
//! the replacement, however the input is split.

use auparse::{Feeder, Parser};

/// `open` events whose records interleave (all SYSCALLs, then all
/// PROCTITLEs, so that all are open at once), then `after` ordinary events,
/// each with an EOE record as in auditd's plugin stream.
fn log(open: u64, after: u64) -> Vec<u8> {
    let mut out = String::new();
    let syscall = |s: u64, ms: u64| {
        format!(
            "type=SYSCALL msg=audit(1700000000.{ms:03}:{s}): arch=c000003e syscall=90 success=yes exit=0 a0=1 a1=1a4 a2=0 a3=0 items=1 ppid=1 pid={s} auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm=\"chmod\" exe=\"/usr/bin/chmod\" key=\"k\"\n"
        )
    };
    let path = |s: u64, ms: u64| {
        format!(
            "type=PATH msg=audit(1700000000.{ms:03}:{s}): item=0 name=\"f{s}\" inode={s} dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\n"
        )
    };
    let tail = |s: u64, ms: u64| {
        format!(
            "type=PROCTITLE msg=audit(1700000000.{ms:03}:{s}): proctitle=63686D6F64\ntype=EOE msg=audit(1700000000.{ms:03}:{s}): \n"
        )
    };
    for i in 0..open {
        out += &syscall(100 + i, i % 1000);
    }
    for i in 0..open {
        out += &path(100 + i, i % 1000);
    }
    for i in 0..open {
        out += &tail(100 + i, i % 1000);
    }
    for i in 0..after {
        let s = 100_000 + i;
        out += &syscall(s, 999);
        out += &path(s, 999);
        out += &tail(s, 999);
    }
    out.into_bytes()
}

/// (serial, record types) of each event, in delivery order.
type Seen = Vec<(u64, Vec<String>)>;

fn oracle(data: &[u8]) -> Seen {
    let mut p = Parser::from_bytes(data).unwrap();
    let mut out = Vec::new();
    while let Some(ev) = p.next_owned().unwrap() {
        out.push((
            ev.serial,
            ev.records.iter().map(|r| r.type_name.clone()).collect(),
        ));
    }
    out
}

fn fed(data: &[u8], chunk: usize) -> (Seen, u64) {
    let mut f = Feeder::new().unwrap();
    let mut out = Vec::new();
    let mut take = |ev: &mut auparse::EventRef<'_>| {
        let ev = ev.to_event();
        out.push((
            ev.serial,
            ev.records.iter().map(|r| r.type_name.clone()).collect(),
        ));
    };
    for c in data.chunks(chunk) {
        f.feed(c, &mut take).unwrap();
    }
    f.flush(&mut take).unwrap();
    let renewals = f.parser_renewals();
    (out, renewals)
}

#[test]
fn events_are_the_same_after_the_parser_is_replaced() {
    let data = log(600, 3000);
    let want = oracle(&data);
    assert_eq!(want.len(), 3600, "libauparse's file-mode parser");
    for chunk in [1, 97, 64 * 1024] {
        let (got, renewals) = fed(&data, chunk);
        assert!(
            renewals >= 1,
            "600 events open at once: the parser is replaced (chunk {chunk})"
        );
        assert_eq!(got.len(), want.len(), "chunk {chunk}");
        assert!(
            got == want,
            "chunk {chunk}: events differ from the file-mode parser's"
        );
    }
}

#[test]
fn few_open_events_keep_the_parser() {
    let data = log(10, 1000);
    let (got, renewals) = fed(&data, 4096);
    assert_eq!(got, oracle(&data));
    assert_eq!(renewals, 0);
}
