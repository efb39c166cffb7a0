//! A ready read loop for an auditd plugin, or any live stream of records.
//!
//! auditd starts a plugin with the event stream on its standard input
//! (`format = string`: one record per line, an EOE record after each
//! event) and sends SIGTERM to stop it. A plugin must then:
//! read without blocking forever (so that an event whose last record has
//! come is delivered while the stream is quiet: libauparse completes events
//! by log time, which stops when nothing arrives), age events by the wall
//! clock while it waits, read what auditd already wrote when asked to stop,
//! and flush at the end so that the last event is not lost. This module
//! does all of it:
//!
//! ```no_run
//! // A whole plugin: every event auditd sends, as an owned Event.
//! auparse::plugin::for_each_event(std::io::stdin(), |ev| {
//!     println!("{} {:?}", ev.serial, ev.action());
//! })?;
//! # Ok::<(), auparse::Error>(())
//! ```
//!
//! [`run`] is the same loop with the options spelled out ([`LoopOptions`]:
//! the idle interval, coalescing of small writes, what the owned events
//! hold, a stop flag for a signal handler), your [`Feeder`] (its grouping,
//! escape mode and end-of-event timeout) and a [`Handler`] that receives
//! the events in batches and may fail.
//!
//! ```
//! use auparse::plugin::{self, Handler, LoopOptions};
//! use auparse::{Event, Feeder};
//!
//! struct Count(usize);
//! impl Handler for Count {
//!     type Error = auparse::Error;
//!     fn events(&mut self, batch: &mut Vec<Event>) -> Result<(), auparse::Error> {
//!         self.0 += batch.len();
//!         Ok(())
//!     }
//! }
//!
//! // Any readable descriptor: standard input, a pipe, a FIFO, a file.
//! let path = std::env::temp_dir().join(format!("plugin-doc-{}.log", std::process::id()));
//! std::fs::write(&path, "type=DAEMON_START msg=audit(1700000000.000:1): op=start ver=3.0.9 res=success\n")?;
//! let input = std::fs::File::open(&path)?;
//! let mut feeder = Feeder::new()?;
//! let mut count = Count(0);
//! plugin::run(&mut feeder, input, &LoopOptions::default(), &mut count)?;
//! std::fs::remove_file(&path)?;
//! assert_eq!(count.0, 1); // flushed at the end: the last event is not lost
//! # Ok::<(), auparse::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::event::{Event, EventOptions};
use crate::feeder::Feeder;
use std::collections::VecDeque;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What receives the events of [`run`] (an example is in the
/// [module](self) docs).
///
/// ```
/// use auparse::plugin::Handler;
/// use auparse::Event;
///
/// /// Keeps the serials; a full list is an error that stops the loop.
/// struct Serials(Vec<u64>);
/// impl Handler for Serials {
///     type Error = auparse::Error;
///     fn events(&mut self, batch: &mut Vec<Event>) -> Result<(), auparse::Error> {
///         if self.0.len() > 1_000_000 {
///             return Err(std::io::Error::other("too many events").into());
///         }
///         self.0.extend(batch.iter().map(|ev| ev.serial));
///         Ok(())
///     }
/// }
/// ```
pub trait Handler {
    /// The handler's error. Read and parse errors of the loop convert into
    /// it, so one type carries both.
    type Error: From<Error>;

    /// The events completed by one read (or by ageing, or by the final
    /// flush), in order, at most [`MAX_BATCH`] at a time. The loop clears
    /// `batch` afterwards; a handler may also take the events out of it.
    /// A full batch is handed over from inside the Feeder's call, where a
    /// Feeder or Parser of the same thread answers [`Error::Nested`].
    fn events(&mut self, batch: &mut Vec<Event>) -> Result<(), Self::Error>;

    /// Called each time the input has been quiet for the idle interval,
    /// after the wall-clock ageing. The default does nothing.
    fn idle(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Options of [`run`].
///
/// ```
/// use std::time::Duration;
/// // As the auparse-fsaction plugin runs: a reading thread, small writes
/// // gathered for 5 ms, the caller's flush.
/// let mut opts = auparse::plugin::LoopOptions::default();
/// opts.read_ahead = 256 << 20;
/// opts.coalesce = Duration::from_millis(5);
/// assert_eq!(opts.idle, Duration::from_millis(500));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoopOptions {
    /// How long the input may be quiet before events are aged by the wall
    /// clock and [`Handler::idle`] is called (default 500 ms). An event
    /// whose records have all come is delivered within about this time plus
    /// the Feeder's end-of-event timeout.
    pub idle: Duration,
    /// After a read that did not fill the buffer, wait this long before the
    /// next read (default 0: read as soon as anything is there). auditd
    /// writes each record to its plugins in its own `write(2)`: without a
    /// pause, a plugin that keeps up wakes, polls and reads once per record.
    /// A few milliseconds let the records of a burst be read together.
    pub coalesce: Duration,
    /// What the owned events hold.
    pub event: EventOptions,
    /// Set it (from a signal handler: `signal_hook::flag::register`) to stop:
    /// what can be read without waiting is still read and delivered, then
    /// the loop ends (with the final flush if [`flush_at_end`](Self::flush_at_end)).
    pub stop: Option<Arc<AtomicBool>>,
    /// Flush the Feeder at the end of the input (default true): the events
    /// still open are completed and delivered. False when more input will
    /// follow through the same Feeder.
    pub flush_at_end: bool,
    /// Read the input on a thread of its own into a buffer of at most this
    /// many bytes (default 0: read on the calling thread), so that the
    /// writer is never kept waiting while events are handled: auditd drops
    /// records for every plugin once its queue of `q_depth` records is
    /// full, and the socket to a plugin holds only a few hundred one-record
    /// writes. The reading thread pauses 1 ms after a partial read; the
    /// calling thread handles what it gathered in 64 KiB batches (with
    /// [`coalesce`](Self::coalesce) as its pause after a small one).
    pub read_ahead: usize,
}

impl Default for LoopOptions {
    fn default() -> Self {
        LoopOptions {
            idle: Duration::from_millis(500),
            coalesce: Duration::ZERO,
            event: EventOptions::default(),
            stop: None,
            flush_at_end: true,
            read_ahead: 0,
        }
    }
}

const CHUNK: usize = 64 * 1024;

/// Reads `input` to its end (or until [`LoopOptions::stop`] is set) through
/// `feeder`, handing each batch of completed events to `handler`: polls
/// with the idle interval as timeout, ages events by the wall clock while
/// the input is quiet, and flushes at the end.
///
/// # Errors
/// A read error ([`Error::Io`]) or a libauparse error, converted into the
/// handler's error; or the first error the handler returns. Events read
/// before the error have been handed over.
pub fn run<R, H>(
    feeder: &mut Feeder,
    mut input: R,
    opts: &LoopOptions,
    handler: &mut H,
) -> Result<(), H::Error>
where
    R: Read + AsFd,
    H: Handler,
{
    let fd = input.as_fd().as_raw_fd();
    let mut lp = Loop {
        feeder,
        opts,
        handler,
        batch: Vec::new(),
        last_age: Instant::now(),
    };
    if opts.read_ahead > 0 {
        lp.read_ahead(fd)?;
    } else {
        lp.read_here(&mut input, fd)?;
    }
    if opts.flush_at_end {
        let (batch, ev_opts, handler) = (&mut lp.batch, opts.event, &mut *lp.handler);
        let mut failed = None;
        lp.feeder.flush(|ev| {
            if failed.is_none() {
                batch.push(ev.to_event_with(ev_opts));
                failed = hand_over_full(handler, batch).err();
            }
        })?;
        failed.map_or(Ok(()), Err)?;
        lp.hand_over()?;
    }
    // The input is dropped only here: a reading thread has ended by now.
    drop(input);
    Ok(())
}

impl<H: Handler> Loop<'_, H> {
    /// Reads on this thread: poll with the idle interval as timeout.
    fn read_here<R: Read>(&mut self, input: &mut R, fd: i32) -> Result<(), H::Error> {
        let mut buf = vec![0u8; CHUNK];
        let timeout = self.opts.idle.as_millis().min(i32::MAX as u128) as i32;
        loop {
            if self.stopped() {
                self.drain_readable(input, fd, &mut buf)?;
                break;
            }
            match poll_in(fd, timeout) {
                Ok(false) => {
                    self.idle()?;
                    continue;
                }
                Ok(true) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    // A signal (SIGTERM, SIGHUP): check the flag, age, go on.
                    self.idle()?;
                    continue;
                }
                Err(e) => return Err(Error::Io(e).into()),
            }
            match input.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    self.feed(&buf[..n])?;
                    if n < buf.len() && !self.opts.coalesce.is_zero() && !self.stopped() {
                        std::thread::sleep(self.opts.coalesce);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Io(e).into()),
            }
        }
        Ok(())
    }

    /// Reads `fd` on a second thread ([`LoopOptions::read_ahead`]) and
    /// handles what it read here, in batches; ages events while nothing
    /// comes. On a stop, handles everything the writer had written.
    fn read_ahead(&mut self, fd: i32) -> Result<(), H::Error> {
        let shared = ReadAhead::default();
        let cap = self.opts.read_ahead.max(CHUNK);
        let stop = self.opts.stop.clone();
        std::thread::scope(|s| {
            let reader = std::thread::Builder::new()
                .name("auparse-read".into())
                .spawn_scoped(s, || shared.fill(fd, cap, stop.as_deref()))
                .map_err(Error::Io)?;
            let r = self.consume(&shared);
            shared.quit();
            let _ = reader.join();
            r
        })
    }

    /// The handling side of [`Loop::read_ahead`].
    fn consume(&mut self, shared: &ReadAhead) -> Result<(), H::Error> {
        let mut data = Vec::new();
        loop {
            let (end, err) = shared.take(&mut data, self.opts.idle);
            if !data.is_empty() {
                self.feed(&data)?;
                if data.len() < CHUNK && !self.opts.coalesce.is_zero() && !self.stopped() {
                    // Let the reader gather more before waking up again.
                    std::thread::sleep(self.opts.coalesce);
                }
            }
            if let Some(e) = err {
                return Err(Error::Io(e).into());
            }
            if end {
                return Ok(());
            }
            if data.is_empty() {
                self.idle()?;
            }
        }
    }
}

/// [`run`] on a new [`Feeder`] with the default options, calling `f` with
/// each event: the shortest complete plugin (see the [module](self) docs).
///
/// # Errors
/// As [`run`].
pub fn for_each_event<R, F>(input: R, f: F) -> Result<()>
where
    R: Read + AsFd,
    F: FnMut(Event),
{
    struct Each<F>(F);
    impl<F: FnMut(Event)> Handler for Each<F> {
        type Error = Error;
        fn events(&mut self, batch: &mut Vec<Event>) -> Result<()> {
            batch.drain(..).for_each(&mut self.0);
            Ok(())
        }
    }
    let mut feeder = Feeder::new()?;
    run(&mut feeder, input, &LoopOptions::default(), &mut Each(f))
}

struct Loop<'a, H: Handler> {
    feeder: &'a mut Feeder,
    opts: &'a LoopOptions,
    handler: &'a mut H,
    batch: Vec<Event>,
    last_age: Instant,
}

impl<H: Handler> Loop<'_, H> {
    fn stopped(&self) -> bool {
        self.opts
            .stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
    }

    fn feed(&mut self, data: &[u8]) -> Result<(), H::Error> {
        let (batch, opts, handler) = (&mut self.batch, self.opts.event, &mut *self.handler);
        self.feeder.try_feed(data, |ev| {
            batch.push(ev.to_event_with(opts));
            hand_over_full(handler, batch)
        })?;
        self.hand_over()
    }

    fn hand_over(&mut self) -> Result<(), H::Error> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let r = self.handler.events(&mut self.batch);
        self.batch.clear();
        r
    }

    /// Ages events by the wall clock (at most twice per idle interval),
    /// then tells the handler the input is quiet.
    fn idle(&mut self) -> Result<(), H::Error> {
        if self.last_age.elapsed() >= self.opts.idle / 2 {
            self.last_age = Instant::now();
            let (batch, opts, handler) = (&mut self.batch, self.opts.event, &mut *self.handler);
            let mut failed = None;
            self.feeder.age_events(|ev| {
                if failed.is_none() {
                    batch.push(ev.to_event_with(opts));
                    failed = hand_over_full(handler, batch).err();
                }
            })?;
            failed.map_or(Ok(()), Err)?;
            self.hand_over()?;
        }
        self.handler.idle()
    }

    /// Reads what can be read without waiting: to the end of the input or
    /// until nothing more is ready.
    fn drain_readable<R: Read>(
        &mut self,
        input: &mut R,
        fd: i32,
        buf: &mut [u8],
    ) -> Result<(), H::Error> {
        loop {
            match poll_in(fd, 0) {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::Io(e).into()),
            }
            match input.read(buf) {
                Ok(0) => return Ok(()),
                Ok(n) => self.feed(&buf[..n])?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Io(e).into()),
            }
        }
    }
}

/// The most events handed to [`Handler::events`] at once. One feed call can
/// complete thousands of events at a time (all those held behind one whose
/// last records came late), and an owned event takes several times the
/// memory of its lines: handing them over in bounded batches, from inside
/// the feed call, keeps the loop's memory independent of how many were held.
pub const MAX_BATCH: usize = 256;

/// Hands `batch` to `handler` (and clears it) once it holds [`MAX_BATCH`]
/// events. Called from inside a feed call: the handler then runs while this
/// thread holds the libauparse lock, so it must not use a Feeder or Parser
/// (it gets [`Error::Nested`]).
fn hand_over_full<H: Handler>(handler: &mut H, batch: &mut Vec<Event>) -> Result<(), H::Error> {
    if batch.len() < MAX_BATCH {
        return Ok(());
    }
    let r = handler.events(batch);
    batch.clear();
    r
}

/// Waits up to `timeout_ms` for `fd` to be readable (or at its end):
/// `Ok(false)` on timeout.
fn poll_in(fd: i32, timeout_ms: i32) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid, initialized pollfd on the stack, count 1; `fd` is
    // borrowed from the caller's `AsFd` input, open for the whole call.
    let rc = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
    match rc {
        0 => Ok(false),
        _ if rc > 0 && pfd.revents & libc::POLLNVAL != 0 => {
            Err(io::Error::from_raw_os_error(libc::EBADF))
        }
        _ if rc > 0 => Ok(pfd.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0),
        _ => Err(io::Error::last_os_error()),
    }
}

/// How long the reading thread of [`LoopOptions::read_ahead`] pauses after a read
/// that did not fill its buffer: at 40,000 records a second (two processes
/// changing files as fast as they can) 40 records, well below what auditd's
/// socket to the plugin holds.
const READER_PAUSE: Duration = Duration::from_millis(1);

/// Bytes read ahead by the reading thread of [`LoopOptions::read_ahead`].
#[derive(Default)]
struct ReadAhead {
    state: std::sync::Mutex<Ahead>,
    changed: std::sync::Condvar,
}

#[derive(Default)]
struct Ahead {
    /// What each read returned, oldest first.
    chunks: VecDeque<Vec<u8>>,
    /// Bytes in `chunks`.
    bytes: usize,
    /// End of input, or (on a stop) nothing more was ready.
    end: bool,
    err: Option<io::Error>,
    /// The handling side is gone: the reader stops.
    quit: bool,
}

impl ReadAhead {
    fn lock(&self) -> std::sync::MutexGuard<'_, Ahead> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn quit(&self) {
        self.lock().quit = true;
        self.changed.notify_all();
    }

    /// Moves the oldest reads, up to about [`CHUNK`] bytes, into `out`
    /// (waiting up to `wait` for something); returns (end of input, read
    /// error). A backlog is handled a chunk at a time, as a file is.
    fn take(&self, out: &mut Vec<u8>, wait: Duration) -> (bool, Option<io::Error>) {
        out.clear();
        let mut st = self.lock();
        if st.chunks.is_empty() && !st.end && st.err.is_none() {
            st = self
                .changed
                .wait_timeout(st, wait)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        while out.len() < CHUNK {
            let Some(c) = st.chunks.pop_front() else {
                break;
            };
            st.bytes -= c.len();
            out.extend_from_slice(&c);
        }
        let r = (
            st.end && st.chunks.is_empty() && out.is_empty(),
            st.err.take(),
        );
        drop(st);
        // Room again for a reader that waited.
        self.changed.notify_all();
        r
    }

    /// The reading thread: reads `fd` until its end, an error, `quit`, or
    /// (once `stop` is set) until nothing more is ready; keeps at most `cap`
    /// bytes waiting. After a read that did not fill its buffer it pauses
    /// only [`READER_PAUSE`]: auditd writes to its plugins through a Unix
    /// socket that holds only a few hundred one-record writes, and a plugin
    /// that lets it fill (pausing 5 ms was enough) makes auditd's queue
    /// overflow under a burst; reading every record as it comes costs a
    /// wake-up per record.
    fn fill(&self, fd: i32, cap: usize, stop: Option<&AtomicBool>) {
        let mut tmp = vec![0u8; CHUNK];
        loop {
            if self.lock().quit {
                return;
            }
            let stopping = stop.is_some_and(|s| s.load(Ordering::Relaxed));
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd on the stack; `fd` is borrowed from the
            // caller's input, which `run` keeps alive (a scoped thread) until
            // this thread has ended.
            let rc = unsafe { libc::poll(&mut pfd, 1, if stopping { 0 } else { 100 }) };
            if rc < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            if rc == 0 {
                if stopping {
                    self.lock().end = true;
                    self.changed.notify_all();
                    return;
                }
                continue;
            }
            // SAFETY: `tmp` is valid for writes of its length; `fd` as above.
            let n = unsafe { libc::read(fd, tmp.as_mut_ptr().cast(), tmp.len()) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                self.lock().err = Some(e);
                self.changed.notify_all();
                return;
            }
            let n = n as usize;
            let mut st = self.lock();
            if n == 0 {
                st.end = true;
                drop(st);
                self.changed.notify_all();
                return;
            }
            while st.bytes >= cap && !st.quit {
                st = self
                    .changed
                    .wait(st)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            st.bytes += n;
            // Small reads (one record each, from auditd) share a chunk.
            match st.chunks.back_mut() {
                Some(last) if last.len() + n <= CHUNK => last.extend_from_slice(&tmp[..n]),
                _ => {
                    let mut c = Vec::with_capacity(CHUNK.max(n));
                    c.extend_from_slice(&tmp[..n]);
                    st.chunks.push_back(c);
                }
            }
            drop(st);
            self.changed.notify_all();
            if n < tmp.len() && !stopping {
                std::thread::sleep(READER_PAUSE);
            }
        }
    }
}
