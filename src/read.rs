//! One-call convenience: read any `impl Read` and iterate owned events.

use crate::assemble::Grouping;
use crate::caches::CacheSizes;
use crate::error::Result;
use crate::event::{Event, EventOptions};
use crate::feeder::Feeder;
use crate::types::EscapeMode;
use std::collections::VecDeque;
use std::io::{ErrorKind, Read};

/// Iterator over the owned events of a reader, made by [`read_events`].
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// // Any reader: a file, a socket, stdin (auditd's plugin stream), a slice.
/// let mut counts = std::collections::BTreeMap::new();
/// for ev in auparse::read_events(&log[..])? {
///     let ev = ev?;
///     *counts.entry(ev.action().map(|a| a.to_string())).or_insert(0) += 1;
/// }
/// assert_eq!(counts[&Some("deleted".to_string())], 1);
/// # Ok::<(), auparse::Error>(())
/// ```
pub struct ReadEvents<R> {
    reader: R,
    feeder: Feeder,
    ready: VecDeque<Event>,
    buf: Box<[u8]>,
    done: bool,
    error: Option<crate::Error>,
    event: EventOptions,
}

/// Reads `reader` to its end through a [`Feeder`] and yields owned events,
/// flushing at the end of input so the last event is never lost.
///
/// ```
/// let log: &[u8] = b"type=DAEMON_START msg=audit(1653911717.020:42): op=start ver=3.0.9 res=success";
/// let events: Vec<auparse::Event> = auparse::read_events(log)?.collect::<Result<_, _>>()?;
/// assert_eq!(events[0].serial, 42);
/// # Ok::<(), auparse::Error>(())
/// ```
///
/// # Errors
/// [`Error::Nested`](crate::Error::Nested) if called inside a libauparse
/// callback; read errors are yielded by the iterator (once; it then ends).
pub fn read_events<R: Read>(reader: R) -> Result<ReadEvents<R>> {
    read_events_escaped(reader, EscapeMode::Raw)
}

/// Like [`read_events`], with interpretations escaped by `mode`
/// ([`EscapeMode::Tty`] gives what `ausearch` prints).
///
/// # Errors
/// As [`read_events`].
pub fn read_events_escaped<R: Read>(reader: R, mode: EscapeMode) -> Result<ReadEvents<R>> {
    read_events_with(reader, ReadOptions::new().escape_mode(mode))
}

/// Options of [`read_events_with`]. The default is what [`read_events`] does.
///
/// ```
/// use auparse::{EscapeMode, Grouping, ReadOptions};
/// let opts = ReadOptions::new().escape_mode(EscapeMode::Tty).grouping(Grouping::Ausearch);
/// assert_eq!(opts.grouping, Grouping::Ausearch);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ReadOptions {
    /// How interpretations are escaped ([`EscapeMode::Raw`] by default;
    /// [`EscapeMode::Tty`] gives what `ausearch` prints).
    pub escape_mode: EscapeMode,
    /// Who groups records into events ([`Grouping::Libauparse`] by default;
    /// [`Grouping::Ausearch`] gives `ausearch`'s events in its order).
    pub grouping: Grouping,
    /// What the owned events hold beyond their records.
    pub event: EventOptions,
    /// The sizes of the Feeder's caches ([`CacheSizes::default`] by default).
    pub cache_sizes: CacheSizes,
}

impl ReadOptions {
    /// The default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`escape_mode`](Self::escape_mode).
    pub fn escape_mode(mut self, mode: EscapeMode) -> Self {
        self.escape_mode = mode;
        self
    }

    /// Sets [`grouping`](Self::grouping).
    pub fn grouping(mut self, grouping: Grouping) -> Self {
        self.grouping = grouping;
        self
    }

    /// Sets [`event`](Self::event).
    pub fn event_options(mut self, event: EventOptions) -> Self {
        self.event = event;
        self
    }

    /// Sets [`cache_sizes`](Self::cache_sizes).
    pub fn cache_sizes(mut self, sizes: CacheSizes) -> Self {
        self.cache_sizes = sizes;
        self
    }
}

/// Like [`read_events`], with the given options.
///
/// ```
/// use auparse::{Grouping, ReadOptions};
/// // A kernel ANOM_ABEND record, then an older event: ausearch's order.
/// let log: &[u8] = b"type=ANOM_ABEND msg=audit(1700000100.000:7): auid=0 uid=0 gid=0 ses=1 pid=5 comm=\"x\" exe=\"/x\" sig=11 res=1
/// type=DAEMON_START msg=audit(1700000099.000:6): op=start ver=3.0.9 res=success
/// ";
/// let opts = ReadOptions::new().grouping(Grouping::Ausearch);
/// let serials: Vec<u64> = auparse::read_events_with(log, opts)?
///     .map(|ev| ev.map(|ev| ev.serial))
///     .collect::<Result<_, _>>()?;
/// assert_eq!(serials, [6, 7]);
/// # Ok::<(), auparse::Error>(())
/// ```
///
/// # Errors
/// As [`read_events`].
pub fn read_events_with<R: Read>(reader: R, options: ReadOptions) -> Result<ReadEvents<R>> {
    let mut feeder = Feeder::new()?;
    feeder.set_escape_mode(options.escape_mode)?;
    feeder.set_grouping(options.grouping);
    feeder.set_cache_sizes(options.cache_sizes);
    Ok(ReadEvents {
        reader,
        feeder,
        ready: VecDeque::new(),
        buf: vec![0; 64 * 1024].into_boxed_slice(),
        done: false,
        error: None,
        event: options.event,
    })
}

impl<R: Read> Iterator for ReadEvents<R> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(ev) = self.ready.pop_front() {
                return Some(Ok(ev));
            }
            if self.done {
                return self.error.take().map(Err);
            }
            let ready = &mut self.ready;
            let opts = self.event;
            let step = match self.reader.read(&mut self.buf) {
                Ok(0) => {
                    self.done = true;
                    self.feeder
                        .flush(|ev| ready.push_back(ev.to_event_with(opts)))
                }
                Ok(n) => self
                    .feeder
                    .feed(&self.buf[..n], |ev| ready.push_back(ev.to_event_with(opts))),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Deliver what was read before the error, then the error.
                    self.done = true;
                    let _ = self
                        .feeder
                        .flush(|ev| ready.push_back(ev.to_event_with(opts)));
                    self.error = Some(e.into());
                    continue;
                }
            };
            if let Err(e) = step {
                self.done = true;
                return Some(Err(e));
            }
        }
    }
}
