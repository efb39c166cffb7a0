//! Process-global behaviour of libauparse 3.0.9 as the safe API handles it:
//! the end-of-event timeout (a C global that every `auparse_init` resets),
//! several parsers alive at once, panics in feed closures, nested calls that
//! would deadlock on the process-wide lock, threads, and when feed mode
//! delivers events. Its own test binary, since it touches process-global state.

use auparse::{Error, Event, EventRef, Feeder, Parser};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The end-of-event timeout changes how some logs group (a late record of
/// `out_of_order.log` joins its event only with a long timeout), and Parsers
/// use whatever value libauparse's global holds. Tests that set the timeout
/// or compare groupings take this lock so they do not disturb each other.
static TIMEOUT_TESTS: Mutex<()> = Mutex::new(());

fn timeout_lock() -> MutexGuard<'static, ()> {
    TIMEOUT_TESTS.lock().unwrap_or_else(|p| p.into_inner())
}

/// The default end-of-event timeout (`auditd.conf`, or libauparse's own default).
const DEFAULT_EOE: u32 = 2;

/// A Feeder with an explicit end-of-event timeout, so its grouping does not
/// depend on what other Feeders of this binary set.
fn feeder() -> Feeder {
    let mut f = Feeder::new().unwrap();
    f.set_eoe_timeout(DEFAULT_EOE);
    f
}

/// A SYSCALL record with no end marker: its event completes only by the
/// end-of-event timeout (a newer record) or by flush.
fn syscall(sec: u64, serial: u64) -> Vec<u8> {
    format!(
        "type=SYSCALL msg=audit({sec}.100:{serial}): arch=c000003e syscall=2 success=yes exit=3 \
         a0=7ffd1 a1=0 a2=1b6 a3=0 items=1 ppid=1 pid=4242 auid=0 uid=0 gid=0 euid=0 suid=0 \
         fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm=\"cat\" exe=\"/usr/bin/cat\" key=\"k\"\n"
    )
    .into_bytes()
}

/// The CWD, PATH and PROCTITLE records that end a [`syscall`] event.
fn syscall_tail(sec: u64, serial: u64) -> (Vec<u8>, Vec<u8>) {
    let cwd_path = format!(
        "type=CWD msg=audit({sec}.100:{serial}): cwd=\"/tmp\"\n\
         type=PATH msg=audit({sec}.100:{serial}): item=0 name=\"f\" inode=5 dev=fd:01 mode=0100644 \
         ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0\n"
    );
    // proctitle "cat\0f"
    let proctitle = format!("type=PROCTITLE msg=audit({sec}.100:{serial}): proctitle=6361740066\n");
    (cwd_path.into_bytes(), proctitle.into_bytes())
}

/// A single-record event (a type below 1300), complete on its own.
fn daemon_start(sec: u64, serial: u64) -> Vec<u8> {
    format!(
        "type=DAEMON_START msg=audit({sec}.000:{serial}): op=start ver=3.0.9 format=enriched \
         kernel=6.1.0 auid=4294967295 pid=100 uid=0 ses=4294967295 res=success\n"
    )
    .into_bytes()
}

/// Non-ENRICHED logs of the shared corpus, or `None` with the reason printed.
fn corpus_logs(test: &str) -> Option<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let logs: Vec<PathBuf> = [
        "auparse-selftest/test.log",
        "auparse-selftest/test3.log",
        "auparse-selftest/test4.log",
        "go-libaudit-reassembler/normal.log",
        "go-libaudit-reassembler/out_of_order.log",
    ]
    .iter()
    .map(|p| dir.join(p))
    .collect();
    if logs.iter().all(|p| p.is_file()) {
        Some(logs)
    } else {
        eprintln!(
            "{test}: skipped: the shared corpus is not at {} (it is not part of the project)",
            dir.display()
        );
        None
    }
}

/// All events of `data` fed in one call to a fresh Feeder, then flushed.
fn events_alone(data: &[u8]) -> Vec<Event> {
    let mut feeder = feeder();
    let mut out = Vec::new();
    feeder.feed(data, |ev| out.push(ev.to_event())).unwrap();
    feeder.flush(|ev| out.push(ev.to_event())).unwrap();
    out
}

fn serials(events: &[Event]) -> Vec<u64> {
    events.iter().map(|e| e.serial).collect()
}

#[test]
fn eoe_timeout_is_applied_per_feeder_after_other_inits() {
    let _serial = timeout_lock();
    let mut slow = Feeder::new().unwrap();
    slow.set_eoe_timeout(10);
    let mut got = Vec::new();
    slow.feed(&syscall(1_700_000_000, 1), |ev| got.push(ev.serial()))
        .unwrap();
    assert_eq!(got, [] as [u64; 0]);

    // Creating parsers runs auparse_init, which resets the global timeout.
    let mut fast = Feeder::new().unwrap();
    fast.set_eoe_timeout(1);
    let _pull = Parser::from_bytes(&daemon_start(1_600_000_000, 99)).unwrap();

    // Control: with a 1 s timeout, a record 5 s newer completes the event.
    let mut fast_got = Vec::new();
    for (sec, serial) in [(1_700_000_000, 10), (1_700_000_005, 11)] {
        fast.feed(&syscall(sec, serial), |ev| fast_got.push(ev.serial()))
            .unwrap();
    }
    assert_eq!(fast_got, [10], "a 1 s timeout must complete event 10");

    // The 10 s Feeder: 5 s later is not enough, even though the global was
    // reset by the inits and then set to 1 by the other Feeder.
    let _another = Feeder::new().unwrap();
    slow.feed(&syscall(1_700_000_005, 2), |ev| got.push(ev.serial()))
        .unwrap();
    assert_eq!(got, [] as [u64; 0], "the 10 s timeout was not applied");

    // 30 s later completes both waiting events, oldest first.
    slow.feed(&syscall(1_700_000_030, 3), |ev| got.push(ev.serial()))
        .unwrap();
    assert_eq!(got, [1, 2]);
    slow.flush(|ev| got.push(ev.serial())).unwrap();
    assert_eq!(got, [1, 2, 3]);
    fast.flush(|ev| fast_got.push(ev.serial())).unwrap();
    assert_eq!(fast_got, [10, 11]);
}

#[test]
fn two_feeders_used_alternately_match_one_at_a_time() {
    let Some(logs) = corpus_logs("two_feeders_used_alternately_match_one_at_a_time") else {
        return;
    };
    let _serial = timeout_lock();
    let data: Vec<Vec<u8>> = logs.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let alone: Vec<Vec<Event>> = data.iter().map(|d| events_alone(d)).collect();
    for (i, a) in data.iter().enumerate() {
        let b = &data[(i + 1) % data.len()];
        let mut fa = feeder();
        let mut fb = feeder();
        let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
        let mut ca = a.chunks(37);
        let mut cb = b.chunks(61);
        loop {
            let (na, nb) = (ca.next(), cb.next());
            if na.is_none() && nb.is_none() {
                break;
            }
            if let Some(c) = na {
                fa.feed(c, |ev| got_a.push(ev.to_event())).unwrap();
            }
            if let Some(c) = nb {
                fb.feed(c, |ev| got_b.push(ev.to_event())).unwrap();
            }
        }
        fa.flush(|ev| got_a.push(ev.to_event())).unwrap();
        fb.flush(|ev| got_b.push(ev.to_event())).unwrap();
        assert!(!got_a.is_empty(), "{}: no events", logs[i].display());
        assert_eq!(got_a, alone[i], "{} fed alternately", logs[i].display());
        assert_eq!(
            got_b,
            alone[(i + 1) % data.len()],
            "{} fed alternately",
            logs[(i + 1) % data.len()].display()
        );
    }
}

#[test]
fn two_parsers_used_alternately_match_one_at_a_time() {
    let Some(logs) = corpus_logs("two_parsers_used_alternately_match_one_at_a_time") else {
        return;
    };
    let _serial = timeout_lock();
    let read_all = |p: &Path| {
        let mut parser = Parser::from_file(p).unwrap();
        let mut out = Vec::new();
        while let Some(ev) = parser.next_owned().unwrap() {
            out.push(ev);
        }
        out
    };
    for (i, a) in logs.iter().enumerate() {
        let b = &logs[(i + 1) % logs.len()];
        let (alone_a, alone_b) = (read_all(a), read_all(b));
        let mut pa = Parser::from_file(a).unwrap();
        let mut pb = Parser::from_file(b).unwrap();
        let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
        let (mut done_a, mut done_b) = (false, false);
        while !(done_a && done_b) {
            if !done_a {
                match pa.next_owned().unwrap() {
                    Some(ev) => got_a.push(ev),
                    None => done_a = true,
                }
            }
            if !done_b {
                match pb.next_owned().unwrap() {
                    Some(ev) => got_b.push(ev),
                    None => done_b = true,
                }
            }
        }
        assert!(!got_a.is_empty(), "{}: no events", a.display());
        assert_eq!(got_a, alone_a, "{} read alternately", a.display());
        assert_eq!(got_b, alone_b, "{} read alternately", b.display());
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

#[test]
fn panic_in_feed_closure_is_reraised_and_feeder_stays_usable() {
    let mut feeder = Feeder::new().unwrap();
    let mut seen = Vec::new();
    let input = [
        daemon_start(1_700_000_000, 1),
        daemon_start(1_700_000_001, 2),
        daemon_start(1_700_000_002, 3),
    ]
    .concat();
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        feeder.feed(&input, |ev| {
            seen.push(ev.serial());
            if ev.serial() == 2 {
                panic!("closure panicked on serial 2");
            }
        })
    }));
    let payload = result.expect_err("the panic must reach the caller of feed");
    assert_eq!(panic_message(&*payload), "closure panicked on serial 2");
    // Event 3, completed in the same call after the panic, is skipped (documented).
    assert_eq!(seen, [1, 2]);
    // The lock was released: a new call on this thread is not refused as nested.
    assert!(Feeder::new().is_ok(), "the lock must be released");
    assert_eq!(feeder.events_delivered(), 3);

    // The same Feeder keeps working, and so does the rest of the process.
    let mut after = Vec::new();
    feeder
        .feed(&daemon_start(1_700_000_003, 4), |ev| {
            after.push(ev.serial())
        })
        .unwrap();
    let (cwd_path, proctitle) = syscall_tail(1_700_000_004, 5);
    feeder
        .feed(
            &[syscall(1_700_000_004, 5), cwd_path, proctitle].concat(),
            |ev| after.push(ev.serial()),
        )
        .unwrap();
    assert_eq!(after, [4, 5]);
    assert_eq!(serials(&events_alone(&daemon_start(1_700_000_005, 6))), [6]);

    // A panic in a flush closure: re-raised, and the Feeder still works.
    feeder
        .feed(&syscall(1_700_000_006, 7), |ev| after.push(ev.serial()))
        .unwrap();
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        feeder.flush(|_| panic!("flush closure panicked"))
    }));
    assert_eq!(
        panic_message(&*result.expect_err("panic from flush")),
        "flush closure panicked"
    );
    let mut last = Vec::new();
    feeder
        .feed(&daemon_start(1_700_000_010, 8), |ev| last.push(ev.serial()))
        .unwrap();
    feeder.flush(|ev| last.push(ev.serial())).unwrap();
    assert_eq!(last, [8], "event 7 went to the panicking flush closure");
}

/// The start of a line fed in the call whose closure panicked is kept: the
/// rest of the line, fed after the caller caught the panic, completes it,
/// and its event is the same as when parsed alone.
#[test]
fn panic_in_feed_closure_keeps_the_unfinished_line() {
    let mut feeder = feeder();
    let (cwd_path, proctitle) = syscall_tail(1_700_000_001, 2);
    let second = [syscall(1_700_000_001, 2), cwd_path, proctitle].concat();
    // Cut inside the SYSCALL line, after its `msg=audit(`.
    let cut = 60;
    assert!(second[..cut].windows(10).any(|w| w == b"msg=audit("));
    assert!(!second[..cut].contains(&b'\n'));
    let first_call = [&daemon_start(1_700_000_000, 1)[..], &second[..cut]].concat();
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        feeder.feed(&first_call, |ev| {
            panic!("closure panicked on serial {}", ev.serial())
        })
    }));
    assert_eq!(
        panic_message(&*result.expect_err("the panic must reach the caller of feed")),
        "closure panicked on serial 1"
    );
    assert!(feeder.has_pending().unwrap(), "the unfinished line is kept");
    let mut got = Vec::new();
    feeder
        .feed(&second[cut..], |ev| got.push(ev.to_event()))
        .unwrap();
    feeder.flush(|ev| got.push(ev.to_event())).unwrap();
    assert_eq!(got, events_alone(&second));
    assert_eq!(got[0].records.len(), 4);
}

#[test]
fn nested_calls_return_nested_instead_of_deadlocking() {
    let mut outer = Feeder::new().unwrap();
    let mut other = Feeder::new().unwrap();
    let mut parser = Parser::from_bytes(&daemon_start(1_700_000_000, 50)).unwrap();
    let mut results: Vec<(&str, bool)> = Vec::new();
    let mut serial = None;
    outer
        .feed(&daemon_start(1_700_000_000, 1), |ev| {
            serial = Some(ev.serial());
            results.push(("Feeder::new", matches!(Feeder::new(), Err(Error::Nested))));
            results.push((
                "other.feed",
                matches!(
                    other.feed(&daemon_start(1_700_000_000, 2), |_| {}),
                    Err(Error::Nested)
                ),
            ));
            results.push((
                "other.flush",
                matches!(other.flush(|_| {}), Err(Error::Nested)),
            ));
            results.push((
                "other.age_events",
                matches!(other.age_events(|_| {}), Err(Error::Nested)),
            ));
            results.push((
                "parser.next_event",
                matches!(parser.next_event(), Err(Error::Nested)),
            ));
            results.push((
                "Parser::from_bytes",
                matches!(
                    Parser::from_bytes(&daemon_start(1_700_000_000, 3)),
                    Err(Error::Nested)
                ),
            ));
            results.push((
                "read_events",
                matches!(auparse::read_events(&b""[..]), Err(Error::Nested)),
            ));
        })
        .unwrap();
    assert_eq!(serial, Some(1));
    for (what, ok) in &results {
        assert!(ok, "{what} inside a feed callback");
    }
    assert_eq!(results.len(), 7);
    assert!(Feeder::new().is_ok(), "the lock must be released");

    // Nothing was fed or consumed by the refused calls.
    let mut got = Vec::new();
    other
        .feed(&daemon_start(1_700_000_001, 4), |ev| got.push(ev.serial()))
        .unwrap();
    other.flush(|ev| got.push(ev.serial())).unwrap();
    assert_eq!(got, [4]);
    assert_eq!(serials(&[parser.next_owned().unwrap().unwrap()]), [50]);

    // Pull mode: a live event view holds the lock too.
    let mut p1 = Parser::from_bytes(&daemon_start(1_700_000_000, 60)).unwrap();
    let mut p2 = Parser::from_bytes(&daemon_start(1_700_000_000, 70)).unwrap();
    {
        let ev = p1.next_event().unwrap().unwrap();
        assert_eq!(ev.serial(), 60);
        assert!(matches!(Feeder::new(), Err(Error::Nested)));
        assert!(matches!(p2.next_event(), Err(Error::Nested)));
    }
    assert_eq!(p2.next_owned().unwrap().unwrap().serial, 70);
    assert!(p1.next_owned().unwrap().is_none());
}

#[test]
fn two_threads_with_their_own_feeders() {
    let Some(logs) = corpus_logs("two_threads_with_their_own_feeders") else {
        return;
    };
    let _serial = timeout_lock();
    let data: Vec<Vec<u8>> = logs.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let alone: Vec<Vec<Event>> = data.iter().map(|d| events_alone(d)).collect();
    std::thread::scope(|s| {
        for (t, chunk) in [(0usize, 37usize), (1, 61)] {
            let (data, alone, logs) = (&data, &alone, &logs);
            s.spawn(move || {
                for round in 0..10 {
                    let i = (t + round) % data.len();
                    let mut feeder = feeder();
                    let mut got = Vec::new();
                    for c in data[i].chunks(chunk) {
                        feeder.feed(c, |ev| got.push(ev.to_event())).unwrap();
                    }
                    feeder.flush(|ev| got.push(ev.to_event())).unwrap();
                    assert_eq!(
                        got,
                        alone[i],
                        "thread {t} round {round}: {}",
                        logs[i].display()
                    );
                }
            });
        }
    });
}

#[test]
fn flush_parses_a_final_line_without_newline() {
    let mut feeder = Feeder::new().unwrap();
    let mut got: Vec<Event> = Vec::new();
    let line = daemon_start(1_700_000_000, 21);
    feeder
        .feed(&line[..line.len() - 1], |ev| got.push(ev.to_event()))
        .unwrap();
    assert!(
        got.is_empty(),
        "an unterminated line cannot be complete yet"
    );
    feeder.flush(|ev| got.push(ev.to_event())).unwrap();
    assert_eq!(serials(&got), [21]);
    let res = got[0].records[0].field("res").expect("last field parsed");
    assert_eq!(res.raw, "success");

    // A multi-record event whose last line (PROCTITLE) lacks its newline,
    // fed in pieces after a flush: the Feeder is reusable after flush.
    let (cwd_path, proctitle) = syscall_tail(1_700_000_001, 22);
    let input = [syscall(1_700_000_001, 22), cwd_path, proctitle].concat();
    got.clear();
    for c in input[..input.len() - 1].chunks(50) {
        feeder.feed(c, |ev| got.push(ev.to_event())).unwrap();
    }
    assert!(got.is_empty());
    feeder.flush(|ev| got.push(ev.to_event())).unwrap();
    assert_eq!(serials(&got), [22]);
    assert_eq!(got[0].records.len(), 4);
    assert_eq!(
        got[0].proctitle.as_deref().unwrap(),
        [auparse::Bytes::from("cat"), "f".into()]
    );
}

#[test]
fn event_completed_by_last_line_is_delivered_in_the_same_call() {
    let mut feeder = Feeder::new().unwrap();
    let mut got: Vec<(u64, usize)> = Vec::new();
    let record = |ev: &mut EventRef<'_>, got: &mut Vec<(u64, usize)>| {
        got.push((ev.serial(), ev.num_records()))
    };

    // A single-record type, alone in one call.
    feeder
        .feed(&daemon_start(1_700_000_000, 31), |ev| record(ev, &mut got))
        .unwrap();
    assert_eq!(
        got,
        [(31, 1)],
        "DAEMON_START must come out of its own feed call"
    );

    // A SYSCALL event ended by PROCTITLE: nothing until the PROCTITLE line,
    // then delivered by the call that brought it.
    let (cwd_path, proctitle) = syscall_tail(1_700_000_001, 32);
    feeder
        .feed(&syscall(1_700_000_001, 32), |ev| record(ev, &mut got))
        .unwrap();
    feeder.feed(&cwd_path, |ev| record(ev, &mut got)).unwrap();
    assert_eq!(got, [(31, 1)]);
    feeder.feed(&proctitle, |ev| record(ev, &mut got)).unwrap();
    assert_eq!(got, [(31, 1), (32, 4)]);

    // The whole event in one call, and split so the last call holds only
    // the end of the PROCTITLE line.
    let (cwd_path, proctitle) = syscall_tail(1_700_000_002, 33);
    let whole = [syscall(1_700_000_002, 33), cwd_path, proctitle].concat();
    feeder.feed(&whole, |ev| record(ev, &mut got)).unwrap();
    assert_eq!(got.last(), Some(&(33, 4)));
    let (cwd_path, proctitle) = syscall_tail(1_700_000_003, 34);
    let whole = [syscall(1_700_000_003, 34), cwd_path, proctitle].concat();
    let (head, tail) = whole.split_at(whole.len() - 3);
    feeder.feed(head, |ev| record(ev, &mut got)).unwrap();
    assert_eq!(got.last(), Some(&(33, 4)));
    feeder.feed(tail, |ev| record(ev, &mut got)).unwrap();
    assert_eq!(got.last(), Some(&(34, 4)));

    assert!(!feeder.has_pending().unwrap());
    feeder.flush(|ev| record(ev, &mut got)).unwrap();
    assert_eq!(got.len(), 4, "nothing left for flush");
}

/// A Feeder that never called `set_eoe_timeout` should keep the timeout it
/// was created with (`auditd.conf`, default 2 s), not whatever value another
/// Feeder applied last to libauparse's global.
#[test]
fn eoe_timeout_default_is_not_taken_from_another_feeder() {
    let _serial = timeout_lock();
    let mut plain = Feeder::new().unwrap();
    let mut control = Feeder::new().unwrap();
    control.set_eoe_timeout(DEFAULT_EOE);
    let mut slow = Feeder::new().unwrap();
    slow.set_eoe_timeout(10);
    let (mut got, mut want) = (Vec::new(), Vec::new());
    for (sec, serial) in [(1_700_000_000, 1), (1_700_000_005, 2)] {
        control
            .feed(&syscall(sec, serial), |ev| want.push(ev.serial()))
            .unwrap();
        // The last timeout applied before `plain` runs is this one.
        slow.feed(&syscall(sec, serial), |_| {}).unwrap();
        plain
            .feed(&syscall(sec, serial), |ev| got.push(ev.serial()))
            .unwrap();
    }
    assert_eq!(want, [1], "control: the default timeout completes event 1");
    assert_eq!(
        got, want,
        "the Feeder without a timeout used another's 10 s"
    );
}

/// A flush refused with `Error::Nested` must not consume anything: the
/// buffered partial line is still there for a later flush.
#[test]
fn refused_flush_keeps_the_unterminated_line() {
    let mut outer = Feeder::new().unwrap();
    let mut other = Feeder::new().unwrap();
    let line = daemon_start(1_700_000_000, 5);
    let mut got = Vec::new();
    other
        .feed(&line[..line.len() - 1], |ev| got.push(ev.serial()))
        .unwrap();
    let mut refused = false;
    outer
        .feed(&daemon_start(1_700_000_000, 1), |_| {
            refused = matches!(other.flush(|_| {}), Err(Error::Nested));
        })
        .unwrap();
    assert!(refused);
    other.flush(|ev| got.push(ev.serial())).unwrap();
    assert_eq!(
        got,
        [5],
        "the unterminated line was lost by the refused flush"
    );
}
