//! The library's plugin loop (`auparse::plugin`) on a real socket pair, as
//! auditd feeds a plugin: events arrive while the stream stays open and
//! quiet, a stop flag still reads what was written, the last event is
//! flushed, and a handler's error ends the loop.

use auparse::plugin::{self, Handler, LoopOptions};
use auparse::{Event, Feeder};
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One SYSCALL + PATH event without EOE (as in audit.log): libauparse
/// completes it only when a later record or the wall clock says so.
fn event(serial: u64) -> String {
    format!(
        "type=SYSCALL msg=audit({sec}.{ms:03}:{serial}): arch=c000003e syscall=87 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"k\"\n\
         type=PATH msg=audit({sec}.{ms:03}:{serial}): item=0 name=\"/tmp/x{serial}\" inode=5 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0\n",
        sec = 1_700_000_000 + serial / 1000,
        ms = serial % 1000
    )
}

/// Forwards each event's serial to the test thread.
struct Forward(mpsc::Sender<u64>);

impl Handler for Forward {
    type Error = auparse::Error;
    fn events(&mut self, batch: &mut Vec<Event>) -> auparse::Result<()> {
        for ev in batch.drain(..) {
            let _ = self.0.send(ev.serial);
        }
        Ok(())
    }
}

#[test]
fn a_quiet_open_stream_still_delivers_its_events() {
    let (reader, mut writer) = UnixStream::pair().unwrap();
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let mut feeder = Feeder::new().unwrap();
        let mut opts = LoopOptions::default();
        opts.idle = Duration::from_millis(200);
        plugin::run(&mut feeder, reader, &opts, &mut Forward(tx)).unwrap();
    });
    writer.write_all(event(1).as_bytes()).unwrap();
    // The writer stays open and silent: the event comes by wall-clock
    // ageing (end-of-event timeout 2 s by default, plus the idle interval).
    let t = Instant::now();
    let got = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("event 1 delivered while quiet");
    assert_eq!(got, 1);
    eprintln!(
        "event delivered {:?} after it was written, stream still open",
        t.elapsed()
    );
    // The last event comes with the end of the stream (the final flush).
    writer.write_all(event(2).as_bytes()).unwrap();
    drop(writer);
    assert_eq!(rx.recv_timeout(Duration::from_secs(20)).unwrap(), 2);
    worker.join().unwrap();
}

#[test]
fn a_stop_reads_what_was_written_and_flushes() {
    let (reader, mut writer) = UnixStream::pair().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    for s in 10..20 {
        writer.write_all(event(s).as_bytes()).unwrap();
    }
    // Stopped before the loop even started, the writer still open: the
    // loop must not wait for the end of the stream, and must lose nothing.
    stop.store(true, Ordering::Relaxed);
    let (tx, rx) = mpsc::channel();
    let mut feeder = Feeder::new().unwrap();
    let mut opts = LoopOptions::default();
    opts.stop = Some(stop);
    plugin::run(&mut feeder, reader, &opts, &mut Forward(tx)).unwrap();
    let got: Vec<u64> = rx.try_iter().collect();
    assert_eq!(got, (10..20).collect::<Vec<_>>());
    drop(writer);
}

#[test]
fn a_handler_error_ends_the_loop() {
    #[derive(Debug, PartialEq)]
    struct Msg(String);
    impl From<auparse::Error> for Msg {
        fn from(e: auparse::Error) -> Msg {
            Msg(e.to_string())
        }
    }
    struct Fail;
    impl Handler for Fail {
        type Error = Msg;
        fn events(&mut self, batch: &mut Vec<Event>) -> Result<(), Msg> {
            Err(Msg(format!("no room for {}", batch[0].serial)))
        }
    }
    let (reader, mut writer) = UnixStream::pair().unwrap();
    writer.write_all(event(7).as_bytes()).unwrap();
    writer.write_all(event(8).as_bytes()).unwrap();
    drop(writer);
    let mut feeder = Feeder::new().unwrap();
    let err = plugin::run(&mut feeder, reader, &LoopOptions::default(), &mut Fail).unwrap_err();
    assert_eq!(err, Msg("no room for 7".into()));
}

#[test]
fn for_each_event_sees_every_event_of_a_file() {
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/live/all.stream");
    let want: Vec<u64> = auparse::read_events(std::fs::File::open(&file).unwrap())
        .unwrap()
        .map(|e| e.unwrap().serial)
        .collect();
    let mut got = Vec::new();
    plugin::for_each_event(std::fs::File::open(&file).unwrap(), |ev| {
        got.push(ev.serial)
    })
    .unwrap();
    assert_eq!(got, want);
    assert!(got.len() > 20);
}

/// With `read_ahead` (a reading thread, as the auparse-fsaction plugin runs
/// it): a quiet open stream still delivers, a burst of one-record writes
/// loses nothing and keeps its order, a stop still handles what was
/// written, and the final flush comes.
#[test]
fn read_ahead_delivers_everything_in_order() {
    let (reader, mut writer) = UnixStream::pair().unwrap();
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let worker = std::thread::spawn(move || {
        let mut feeder = Feeder::new().unwrap();
        let mut opts = LoopOptions::default();
        opts.idle = Duration::from_millis(200);
        opts.read_ahead = 1 << 20;
        opts.coalesce = Duration::from_millis(5);
        opts.stop = Some(stop2);
        plugin::run(&mut feeder, reader, &opts, &mut Forward(tx)).unwrap();
    });
    writer.write_all(event(1).as_bytes()).unwrap();
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(20)).unwrap(),
        1,
        "quiet stream"
    );
    // A burst, one record per write, as auditd writes to its plugins.
    for s in 2..2000u64 {
        for rec in event(s).lines() {
            writer.write_all(format!("{rec}\n").as_bytes()).unwrap();
        }
    }
    stop.store(true, Ordering::Relaxed);
    worker.join().unwrap();
    let got: Vec<u64> = rx.try_iter().collect();
    assert_eq!(
        got,
        (2..2000).collect::<Vec<_>>(),
        "after the stop, all and in order"
    );
    drop(writer);
}

/// One event whose last records come after 998 newer events (the kernel
/// delayed them): the record that completes it completes them all in one
/// feed call. The handler must get them in batches of at most `MAX_BATCH`
/// (memory does not grow with the number held), in order, and a handler
/// error in the middle of that call ends the loop with that error.
#[test]
fn events_released_together_come_in_bounded_batches() {
    let late = 1u64;
    let mut log = String::new();
    let mut lines = event(late)
        .lines()
        .map(|l| format!("{l}\n"))
        .collect::<Vec<_>>();
    log += &lines.remove(0);
    for s in 2..1000u64 {
        log += &event(s);
        log += &format!(
            "type=EOE msg=audit({}.{:03}:{s}): \n",
            1_700_000_000 + s / 1000,
            s % 1000
        );
    }
    log += &lines.concat();
    log += &format!("type=EOE msg=audit(1700000000.001:{late}): \n");
    for grouping in [auparse::Grouping::Libauparse, auparse::Grouping::Indexed] {
        struct Sizes(Vec<usize>, Vec<u64>);
        impl Handler for Sizes {
            type Error = auparse::Error;
            fn events(&mut self, batch: &mut Vec<Event>) -> auparse::Result<()> {
                self.0.push(batch.len());
                self.1.extend(batch.iter().map(|e| e.serial));
                Ok(())
            }
        }
        let (reader, mut writer) = UnixStream::pair().unwrap();
        let data = log.clone();
        let w = std::thread::spawn(move || writer.write_all(data.as_bytes()).unwrap());
        let mut feeder = Feeder::new().unwrap();
        feeder.set_grouping(grouping);
        let mut h = Sizes(Vec::new(), Vec::new());
        plugin::run(&mut feeder, reader, &LoopOptions::default(), &mut h).unwrap();
        w.join().unwrap();
        assert_eq!(h.1, (1..1000).collect::<Vec<u64>>(), "{grouping:?}");
        let most = *h.0.iter().max().unwrap();
        assert_eq!(
            most,
            plugin::MAX_BATCH,
            "{grouping:?}: batch sizes {:?}",
            h.0
        );
    }

    // A handler that fails on its second batch: the loop ends with its error.
    #[derive(Debug, PartialEq)]
    struct Msg(String);
    impl From<auparse::Error> for Msg {
        fn from(e: auparse::Error) -> Msg {
            Msg(e.to_string())
        }
    }
    struct FailSecond(usize);
    impl Handler for FailSecond {
        type Error = Msg;
        fn events(&mut self, batch: &mut Vec<Event>) -> Result<(), Msg> {
            self.0 += 1;
            if self.0 == 2 {
                return Err(Msg(format!("full at {}", batch[0].serial)));
            }
            Ok(())
        }
    }
    let (reader, mut writer) = UnixStream::pair().unwrap();
    let data = log.clone();
    let w = std::thread::spawn(move || {
        let _ = writer.write_all(data.as_bytes());
    });
    let mut feeder = Feeder::new().unwrap();
    let err = plugin::run(
        &mut feeder,
        reader,
        &LoopOptions::default(),
        &mut FailSecond(0),
    )
    .unwrap_err();
    w.join().unwrap();
    assert_eq!(err, Msg(format!("full at {}", plugin::MAX_BATCH + 1)));
}
