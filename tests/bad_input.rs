//! Bad input: garbage lines, empty lines, `#` comments, NUL bytes, a 1 MiB
//! line, a missing final newline, CRLF line ends. Nothing may panic, and
//! every valid event around the bad lines must come out, whole, through every
//! way of reading: a Feeder fed in chunks of 1, 37, 4096 bytes and in one
//! piece, `read_events`, `Parser::from_file` and `Parser::from_bytes`.

use auparse::{Event, Feeder, Parser};
use std::path::PathBuf;

/// What comes out of an input: (serial, number of records) per event, in order.
type Shape = Vec<(u64, usize)>;

fn sec(serial: u64) -> u64 {
    1_700_000_000 + serial
}

/// A single-record event.
fn single(serial: u64) -> Vec<u8> {
    format!(
        "type=DAEMON_START msg=audit({}.000:{serial}): op=start ver=3.0.9 format=raw \
         kernel=6.1.0 auid=4294967295 pid=100 uid=0 ses=4294967295 res=success\n",
        sec(serial)
    )
    .into_bytes()
}

/// The four records (SYSCALL, CWD, PATH, PROCTITLE) of a file event, one
/// line each, so bad lines can be put between them.
fn multi(serial: u64) -> [Vec<u8>; 4] {
    let t = sec(serial);
    [
        format!(
            "type=SYSCALL msg=audit({t}.250:{serial}): arch=c000003e syscall=257 success=yes \
             exit=3 a0=ffffff9c a1=7ffd2 a2=241 a3=1b6 items=1 ppid=10 pid=11 auid=1000 uid=1000 \
             gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 \
             ses=3 comm=\"touch\" exe=\"/usr/bin/touch\" key=\"fsaction\"\n"
        ),
        format!("type=CWD msg=audit({t}.250:{serial}): cwd=\"/home/u\"\n"),
        format!(
            "type=PATH msg=audit({t}.250:{serial}): item=0 name=6E65772066696C65 inode=77 \
             dev=fd:01 mode=0100644 ouid=1000 ogid=1000 rdev=00:00 nametype=CREATE cap_fp=0 \
             cap_fi=0 cap_fe=0 cap_fver=0\n"
        ),
        // "touch\0new file"
        format!(
            "type=PROCTITLE msg=audit({t}.250:{serial}): proctitle=746F756368006E65772066696C65\n"
        ),
    ]
    .map(String::into_bytes)
}

/// Lines that are not audit records at all: libauparse drops them.
fn garbage_lines() -> Vec<Vec<u8>> {
    vec![
        b"this is not an audit record\n".to_vec(),
        b"type=\n".to_vec(),
        b"msg=audit(1.2:3)\n".to_vec(),
        b"type=SYSCALL msg=audit(:2): a=b\n".to_vec(),
        b"node= type=DAEMON_START msg=audit(1700000000.002:2): a=b\n".to_vec(),
        b"=====\n".to_vec(),
        b"\xff\xfe\x80\xc3 not UTF-8 \xed\xa0\x80\n".to_vec(),
        b"type=PATH name=\"unterminated\n".to_vec(),
        b"    \t \n".to_vec(),
    ]
}

fn shape(events: &[Event]) -> Shape {
    events.iter().map(|e| (e.serial, e.records.len())).collect()
}

/// A temporary file that is removed when dropped.
struct TempLog(PathBuf);

impl TempLog {
    fn new(name: &str, data: &[u8]) -> Self {
        let path = std::env::temp_dir().join(format!(
            "auparse-bad-input-{}-{name}.log",
            std::process::id()
        ));
        std::fs::write(&path, data).unwrap();
        TempLog(path)
    }
}

impl Drop for TempLog {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn feed_in_chunks(data: &[u8], chunk: usize) -> Vec<Event> {
    let mut feeder = Feeder::new().unwrap();
    let mut out = Vec::new();
    for c in data.chunks(chunk) {
        feeder.feed(c, |ev| out.push(ev.to_event())).unwrap();
    }
    feeder.flush(|ev| out.push(ev.to_event())).unwrap();
    out
}

fn pull_all(mut parser: Parser) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some(ev) = parser.next_owned().unwrap() {
        out.push(ev);
    }
    out
}

/// Reads `data` every way the crate offers, asserts each gives `want`, and
/// returns the events of the one-piece feed for closer checks.
///
/// `Parser::from_bytes` reads only up to the first NUL byte (documented), so
/// inputs with NUL bytes pass what it must give instead as `want_from_bytes`.
fn check_all_ways(name: &str, data: &[u8], want: &Shape, want_from_bytes: &Shape) -> Vec<Event> {
    let whole = feed_in_chunks(data, data.len().max(1));
    assert_eq!(&shape(&whole), want, "{name}: Feeder, one piece");
    // Chunks of 1 and 37 bytes make libauparse rescan its buffer for every
    // piece: keep them to inputs of reasonable size.
    let chunks: &[usize] = if data.len() < 64 * 1024 {
        &[1, 37, 4096]
    } else {
        &[4096, 65536]
    };
    for &chunk in chunks {
        let got = feed_in_chunks(data, chunk);
        assert_eq!(&shape(&got), want, "{name}: Feeder, {chunk}-byte chunks");
        assert_eq!(
            got, whole,
            "{name}: Feeder, {chunk}-byte chunks, owned events"
        );
    }
    let read: Vec<Event> = auparse::read_events(data)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(&shape(&read), want, "{name}: read_events");

    let file = TempLog::new(name, data);
    let from_file = pull_all(Parser::from_file(&file.0).unwrap());
    assert_eq!(&shape(&from_file), want, "{name}: Parser::from_file");

    let from_bytes = pull_all(Parser::from_bytes(data).unwrap());
    assert_eq!(
        &shape(&from_bytes),
        want_from_bytes,
        "{name}: Parser::from_bytes"
    );
    whole
}

#[test]
fn garbage_empty_and_comment_lines_between_events_and_records() {
    let mut input = Vec::new();
    let mut want = Shape::new();
    let garbage = garbage_lines();
    for (i, bad) in garbage.iter().enumerate() {
        let serial = 10 + 2 * i as u64;
        // Bad lines before a single-record event ...
        input.extend_from_slice(bad);
        input.extend_from_slice(b"\n\n# a comment line type=DAEMON_START msg=audit(1.000:9)\n");
        input.extend_from_slice(&single(serial));
        want.push((serial, 1));
        // ... and between the records of a multi-record event.
        let [sys, cwd, path, proctitle] = multi(serial + 1);
        for part in [
            sys,
            bad.clone(),
            cwd,
            b"\n".to_vec(),
            path,
            b"#\n".to_vec(),
            proctitle,
        ] {
            input.extend_from_slice(&part);
        }
        want.push((serial + 1, 4));
    }
    input.extend_from_slice(b"# trailing comment\n\n");
    let events = check_all_ways("garbage", &input, &want, &want);
    // Each event is exactly what it is without the bad lines around it.
    for ev in &events {
        let clean = match ev.records.len() {
            1 => single(ev.serial),
            _ => multi(ev.serial).concat(),
        };
        assert_eq!(ev, &feed_in_chunks(&clean, 4096)[0]);
    }
    let name = events[1].records[2].field("name").unwrap();
    assert_eq!(name.interpreted, "new file");
    assert_eq!(name.realpath.as_ref().unwrap(), "/home/u/new file");
}

#[test]
fn only_bad_lines_give_no_events() {
    let input: Vec<u8> = [
        garbage_lines().concat(),
        b"\n\n# comment\n\0\0\0\n".to_vec(),
        vec![b'z'; 100_000],
    ]
    .concat();
    check_all_ways("only-bad", &input, &Shape::new(), &Shape::new());
}

/// Malformed lines that still carry something like a timestamp: libauparse
/// 3.0.9 makes events of them (serial 0 when the time cannot be read; its
/// accessors then return NULL for field names and values). They must not
/// panic the conversion, and the valid events around them must come out.
#[test]
fn malformed_records_that_libauparse_keeps() {
    let cases: [(&[u8], u64, usize); 5] = [
        (b"type=SYSCALL msg=audit(garbage): x=1\n", 0, 1),
        (b"type=SYSCALL msg=audit(1700000002.002:): a=b\n", 0, 1),
        (b"type=SYSCALL msg=audit(1700000002.002:2)\n", 2, 1),
        (
            b"type=NO_SUCH_TYPE msg=audit(1700000002.002:2): a=b\n",
            2,
            1,
        ),
        (
            b"type=DAEMON_START msg=audit(1700000002.002:2): \xff=\xfe a\n",
            2,
            1,
        ),
    ];
    for (i, (line, serial, records)) in cases.iter().enumerate() {
        let input = [single(1), line.to_vec(), single(3)].concat();
        let want = vec![(1, 1), (*serial, *records), (3, 1)];
        let events = check_all_ways(&format!("malformed-{i}"), &input, &want, &want);
        // The events around it are untouched.
        assert_eq!(events[0], feed_in_chunks(&single(1), 4096)[0]);
        assert_eq!(events[2], feed_in_chunks(&single(3), 4096)[0]);
    }
}

#[test]
fn nul_bytes_inside_lines() {
    let [sys, cwd, path, proctitle] = multi(4);
    let input = [
        single(1),
        b"garb\0age line\n".to_vec(),
        // A record cut short by a NUL: libauparse reads up to it.
        b"type=DAEMON_START msg=audit(1700000002.000:2): op=start\0 pid=5 res=success\n".to_vec(),
        // A NUL first: the line is nothing.
        b"\0type=DAEMON_START msg=audit(1700000002.500:99): op=start\n".to_vec(),
        single(3),
        sys,
        cwd,
        b"\0\0\0\n".to_vec(),
        path,
        proctitle,
        single(5),
    ]
    .concat();
    let want = vec![(1, 1), (2, 1), (3, 1), (4, 4), (5, 1)];
    // Parser::from_bytes stops at the first NUL byte (documented).
    let want_from_bytes = vec![(1, 1)];
    let events = check_all_ways("nul", &input, &want, &want_from_bytes);
    let cut = &events[1].records[0];
    let last = cut.fields.last().unwrap();
    assert_eq!((&last.name, &last.raw), (&"op".into(), &"start".into()));
    assert!(
        cut.field("res").is_none(),
        "nothing after the NUL is parsed"
    );
    assert_eq!(events[3], feed_in_chunks(&multi(4).concat(), 4096)[0]);
}

#[test]
fn one_mib_lines() {
    const MIB: usize = 1 << 20;
    let long_value = vec![b'y'; MIB];
    let input = [
        single(1),
        // 1 MiB of garbage in one line.
        vec![b'x'; MIB],
        b"\n".to_vec(),
        single(2),
        // A valid record with a 1 MiB field.
        format!("type=DAEMON_START msg=audit({}.000:3): op=start v=", sec(3)).into_bytes(),
        long_value.clone(),
        b" res=success\n".to_vec(),
        single(4),
    ]
    .concat();
    let want = vec![(1, 1), (2, 1), (3, 1), (4, 1)];
    let events = check_all_ways("mib", &input, &want, &want);
    let rec = &events[2].records[0];
    assert_eq!(rec.field("v").unwrap().raw.len(), MIB);
    assert_eq!(rec.field("v").unwrap().raw.as_bytes(), long_value);
    assert_eq!(rec.field("res").unwrap().raw, "success");
}

#[test]
fn missing_final_newline() {
    // A single-record event last.
    let mut input = [single(1), single(2)].concat();
    input.pop();
    let want = vec![(1, 1), (2, 1)];
    let events = check_all_ways("no-newline-single", &input, &want, &want);
    assert_eq!(events[1].records[0].field("res").unwrap().raw, "success");

    // A multi-record event whose PROCTITLE is last.
    let mut input = [single(1), multi(2).concat()].concat();
    input.pop();
    let want = vec![(1, 1), (2, 4)];
    let events = check_all_ways("no-newline-multi", &input, &want, &want);
    assert_eq!(events[1], feed_in_chunks(&multi(2).concat(), 4096)[0]);

    // A garbage line last, without newline, after a complete event.
    let input = [single(1), b"trailing garbage".to_vec()].concat();
    let want = vec![(1, 1)];
    check_all_ways("no-newline-garbage", &input, &want, &want);
}

#[test]
fn crlf_line_ends() {
    let lf = [single(1), multi(2).concat(), single(3)].concat();
    let mut crlf = Vec::new();
    for line in lf.split_inclusive(|&b| b == b'\n') {
        crlf.extend_from_slice(&line[..line.len() - 1]);
        crlf.extend_from_slice(b"\r\n");
    }
    let want = vec![(1, 1), (2, 4), (3, 1)];
    let events = check_all_ways("crlf", &crlf, &want, &want);
    // libauparse keeps the '\r' in the last value of each record; every
    // field before it is the same as with LF line ends.
    let plain = feed_in_chunks(&lf, 4096);
    for (ev, p) in events.iter().zip(&plain) {
        assert_eq!(ev.serial, p.serial);
        for (r, pr) in ev.records.iter().zip(&p.records) {
            assert_eq!(r.fields.len(), pr.fields.len());
            let n = r.fields.len() - 1;
            assert_eq!(r.fields[..n], pr.fields[..n]);
            assert_eq!(
                r.fields[n].raw.as_bytes(),
                [pr.fields[n].raw.as_bytes(), b"\r"].concat()
            );
        }
    }
}

/// EXECVE argument indexes at the top of the number range (`a{u64::MAX}`):
/// no overflow (tests run with overflow checks), the argv the arguments
/// present give, and the other events whole.
#[test]
fn execve_argument_index_at_the_limit() {
    let t = sec(70);
    let execve = format!(
        "type=SYSCALL msg=audit({t}.000:70): arch=c000003e syscall=59 success=yes exit=0 \
         a0=1 a1=2 a2=3 a3=0 items=1 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 \
         egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm=\"ls\" exe=\"/usr/bin/ls\" key=(null)\n\
         type=EXECVE msg=audit({t}.000:70): argc=2 a0=\"ls\" a1=\"-l\" a{max}=\"x\" \
         a{max}[0]=\"y\" a18446744073709551616=\"too-big\"\n\
         type=PROCTITLE msg=audit({t}.000:70): proctitle=6C73002D6C\n",
        max = u64::MAX
    );
    let data = [single(69), execve.into_bytes(), single(71)].concat();
    let want: Shape = vec![(69, 1), (70, 3), (71, 1)];
    let events = check_all_ways("execve-index-limit", &data, &want, &want);
    let argv = events[1].argv.as_ref().expect("an EXECVE record");
    // The two real arguments, then the gap up to the hostile index, capped.
    assert!(argv[0] == "ls" && argv[1] == "-l", "{argv:?}");
    assert!(argv.len() <= 2 + 1 + 1024, "{} arguments", argv.len());
}
