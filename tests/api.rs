//! The conveniences of the public API against values from outside it: the
//! generator's own serials, libauparse's record type names, `date(1)`, the
//! filesystem.

use auparse::{Error, Feeder, Parser, RecordType};
use std::collections::BTreeSet;
use std::process::Command;

/// `n` single-record events, serials 1..=n: each complete on its own line.
fn daemon_log(n: u64) -> Vec<u8> {
    let mut log = Vec::new();
    for i in 1..=n {
        log.extend_from_slice(
            format!("type=DAEMON_START msg=audit({i}.000:{i}): op=start ver=3.0.9 res=success\n")
                .as_bytes(),
        );
    }
    log
}

#[test]
fn try_feed_stops_at_an_error_and_loses_no_line() {
    let n = 200;
    let log = daemon_log(n);
    for chunk in [1, 37, 4096] {
        let mut feeder = Feeder::new().unwrap();
        let mut seen = Vec::new();
        let mut errors = 0;
        for piece in log.chunks(chunk) {
            let r = feeder.try_feed(piece, |ev| -> Result<(), Error> {
                seen.push(ev.serial());
                if ev.serial() % 7 == 0 {
                    return Err(Error::Normalize); // any error
                }
                Ok(())
            });
            if r.is_err() {
                errors += 1;
            }
        }
        feeder.flush(|ev| seen.push(ev.serial())).unwrap();
        assert!(!feeder.has_pending().unwrap());
        // Every event once, in order, the failing ones included (the
        // closure saw them): nothing after a failure was dropped.
        assert_eq!(seen, (1..=n).collect::<Vec<_>>(), "chunk {chunk}");
        // Each failure stops its call, and the held lines go first in the
        // next one: pieces shorter than a line complete one event per call,
        // so each failing event is one error; larger pieces fail once each
        // (the final flush, a plain closure, delivers the rest).
        let want = if chunk < 60 {
            n / 7
        } else {
            log.len().div_ceil(chunk) as u64
        };
        assert_eq!(errors, want, "chunk {chunk}");
    }
}

#[test]
fn record_type_display_is_libauparses_name() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut names = BTreeSet::new();
    for dir in [
        "tests/fixtures/live",
        "tests/fixtures/enriched",
        "tests/fixtures/config-change",
    ] {
        for e in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
            let mut p = Parser::from_file(e.path()).unwrap();
            while let Some(mut ev) = p.next_event().unwrap() {
                let mut recs = ev.records();
                while let Some(rec) = recs.next() {
                    let theirs = String::from_utf8(rec.type_name().unwrap().to_vec()).unwrap();
                    assert_eq!(rec.record_type().to_string(), theirs);
                    assert_eq!(rec.record_type().name(), Some(theirs.as_str()));
                    names.insert(theirs);
                }
            }
        }
    }
    assert!(names.len() >= 8, "{names:?}");
    assert_eq!(RecordType(1300).to_string(), "SYSCALL");
    assert_eq!(RecordType(1).name(), None);
}

#[test]
fn timestamps_convert_as_date_prints_them() {
    for sec in [0i64, 1, 1653911717, 1700000000, 4102444800] {
        let out = Command::new("date")
            .args(["-u", "-d", &format!("@{sec}"), "+%Y-%m-%dT%H:%M:%S"])
            .output()
            .expect("date(1)");
        let want = String::from_utf8(out.stdout).unwrap();
        let t = auparse::Timestamp { sec, milli: 250 };
        let dt = t.to_datetime().unwrap();
        assert_eq!(format!("{}\n", dt.format("%Y-%m-%dT%H:%M:%S")), want);
        let st = t.to_system_time();
        let d = st.duration_since(std::time::UNIX_EPOCH).unwrap();
        assert_eq!(d.as_millis() as i64, sec * 1000 + 250);
    }
    let before = auparse::Timestamp {
        sec: -2,
        milli: 500,
    };
    let d = std::time::UNIX_EPOCH
        .duration_since(before.to_system_time())
        .unwrap();
    assert_eq!(d.as_millis(), 1500);
}

#[test]
fn open_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("auparse-api-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.log");
    std::fs::write(&good, daemon_log(1)).unwrap();
    let missing = dir.join("missing.log");
    match Parser::from_file(&missing) {
        Err(Error::Open { path, source, .. }) => {
            assert_eq!(path, missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("{:?}", other.err()),
    }
    match Parser::from_files(&[&good, &missing]) {
        Err(e @ Error::Open { .. }) => {
            assert!(e.to_string().contains("missing.log"), "{e}");
        }
        other => panic!("{:?}", other.err()),
    }
    let mut p = Parser::from_file(&good).unwrap();
    assert_eq!(p.events().count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The `name=` values of the PATH records `ausearch -i` prints, or `None`
/// (with the reason printed) when ausearch is not installed.
fn ausearch_i_names(log: &std::path::Path) -> Option<Vec<Vec<u8>>> {
    let out = match Command::new("ausearch")
        .args(["-i", "-if"])
        .arg(log)
        .env("LC_ALL", "C")
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!("skipping: ausearch not runnable: {e}");
            return None;
        }
    };
    let mut names = Vec::new();
    for line in out.stdout.split(|&b| b == b'\n') {
        if !line.starts_with(b"type=PATH ") {
            continue;
        }
        let find = |hay: &[u8], pat: &[u8]| hay.windows(pat.len()).position(|w| w == pat);
        let Some(at) = find(line, b" name=") else {
            continue;
        };
        let rest = &line[at + 6..];
        let end = find(rest, b" inode=")
            .or_else(|| find(rest, b" nametype="))
            .unwrap_or(rest.len());
        names.push(rest[..end].to_vec());
    }
    Some(names)
}

#[test]
fn file_names_interpret_as_ausearch_i_prints_them() {
    use auparse::{EscapeMode, Grouping, ReadOptions, RecordType};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/live");
    let mut logs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    let (mut compared, mut relative) = (0, 0);
    for log in &logs {
        let Some(mut theirs) = ausearch_i_names(log) else {
            return;
        };
        let opts = ReadOptions::new()
            .escape_mode(EscapeMode::Tty)
            .grouping(Grouping::Ausearch);
        let mut ours = Vec::new();
        for ev in auparse::read_events_with(std::fs::File::open(log).unwrap(), opts).unwrap() {
            let ev = ev.unwrap();
            for r in ev
                .records
                .iter()
                .filter(|r| r.record_type == RecordType::PATH)
            {
                if let Some(f) = r.field("name") {
                    ours.push(f.interpreted.to_vec());
                    relative += usize::from(f.realpath.as_deref() != Some(&f.interpreted));
                }
            }
        }
        // ausearch prints an event's records in its own order.
        theirs.sort();
        ours.sort();
        assert_eq!(
            ours.iter()
                .map(|n| String::from_utf8_lossy(n))
                .collect::<Vec<_>>(),
            theirs
                .iter()
                .map(|n| String::from_utf8_lossy(n))
                .collect::<Vec<_>>(),
            "{}",
            log.display()
        );
        compared += ours.len();
    }
    eprintln!(
        "{compared} PATH names as ausearch -i prints them ({relative} differ from their realpath)"
    );
    assert!(compared > 100 && relative > 20, "{compared} {relative}");
}
