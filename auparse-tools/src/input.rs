//! Reading the input stream: files in order, or standard input, through one
//! [`Feeder`]; `--follow` for growing and rotated files; wall-clock ageing of
//! events while the input is quiet; a progress bar for long file reads.

use crate::{CmdResult, Fatal};
use auparse::{Event, Feeder};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Seek, SeekFrom};
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Standard input (`-` or no file given).
    Stdin,
    /// A file.
    Path(PathBuf),
}

impl Source {
    /// `-` is standard input.
    pub fn from_arg(a: &std::ffi::OsStr) -> Source {
        if a == "-" {
            Source::Stdin
        } else {
            Source::Path(PathBuf::from(a))
        }
    }

    fn name(&self) -> String {
        match self {
            Source::Stdin => "standard input".into(),
            Source::Path(p) => p.display().to_string(),
        }
    }
}

/// What the read loop calls.
pub trait Handler {
    /// Events completed by the last read (owned, in delivery order). Drain it.
    fn events(&mut self, batch: &mut Vec<Event>) -> CmdResult;
    /// Called when the input was quiet for a poll interval (after ageing).
    fn idle(&mut self) -> CmdResult {
        Ok(())
    }
    /// Called at the end of input, after the final flush and its events.
    fn end(&mut self) -> CmdResult {
        Ok(())
    }
    /// Moves the events the handler is done with into `into`, for
    /// [`run_pipelined`] to free on the thread that allocated them. A handler
    /// that drops its events itself keeps the default.
    fn take_spent(&mut self, into: &mut Vec<Event>) {
        let _ = into;
    }
}

/// How to read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Keep reading a file as it grows, across rotation (like `tail -F`).
    pub follow: bool,
    /// How long to wait for input before ageing events by the wall clock.
    pub poll_interval: Duration,
    /// Show a progress bar on stderr (when it is a terminal, for files only).
    pub progress: bool,
    /// Set by a signal handler: stop reading, flush and end.
    pub stop: Option<Arc<AtomicBool>>,
    /// What the owned events hold.
    pub event: auparse::EventOptions,
    /// After a read from a pipe or stdin that did not fill the buffer, wait
    /// this long before reading (with `read_ahead`: handling) again, so that
    /// what the writer sends meanwhile is fed at once. auditd writes every record to a
    /// plugin in its own write(2): without this a plugin that keeps up wakes,
    /// polls and reads once per record, and most of its CPU time goes to
    /// those wake-ups. Zero: read as soon as anything is there.
    pub coalesce: Duration,
    /// Read standard input on a thread of its own into a buffer of at most
    /// this many bytes, so that the writer is never kept waiting while an
    /// event is handled (auditd drops records for every plugin once its
    /// queue of `q_depth` records is full). Zero: read on the handling thread.
    pub read_ahead: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            follow: false,
            poll_interval: Duration::from_millis(500),
            progress: true,
            stop: None,
            event: auparse::EventOptions::default(),
            coalesce: Duration::ZERO,
            read_ahead: 0,
        }
    }
}

const CHUNK: usize = 64 * 1024;

struct Run<'a, H: Handler> {
    feeder: &'a mut Feeder,
    handler: &'a mut H,
    batch: Vec<Event>,
    opts: &'a ReadOptions,
    bar: Option<indicatif::ProgressBar>,
    last_age: Instant,
}

impl<H: Handler> Run<'_, H> {
    fn stopped(&self) -> bool {
        self.opts
            .stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
    }

    fn feed(&mut self, data: &[u8]) -> CmdResult {
        let batch = &mut self.batch;
        let opts = self.opts.event;
        self.feeder
            .feed(data, |ev| batch.push(ev.to_event_with(opts)))
            .map_err(|e| Fatal(format!("parse error: {e}")))?;
        if let Some(bar) = &self.bar {
            bar.inc(data.len() as u64);
        }
        if !self.batch.is_empty() {
            self.hand_over()?;
        }
        Ok(())
    }

    /// Gives the batch to the handler, then frees the events it is done with
    /// (a handler may keep them for us to free: see `Handler::take_spent`).
    fn hand_over(&mut self) -> CmdResult {
        let r = self.handler.events(&mut self.batch);
        self.handler.take_spent(&mut self.batch);
        self.batch.clear();
        r
    }

    /// Ages events by the wall clock, at most once per poll interval.
    fn idle(&mut self) -> CmdResult {
        if self.last_age.elapsed() >= self.opts.poll_interval / 2 {
            self.last_age = Instant::now();
            let batch = &mut self.batch;
            let opts = self.opts.event;
            self.feeder
                .age_events(|ev| batch.push(ev.to_event_with(opts)))
                .map_err(|e| Fatal(format!("parse error: {e}")))?;
            if !self.batch.is_empty() {
                self.hand_over()?;
            }
        }
        let r = self.handler.idle();
        self.handler.take_spent(&mut self.batch);
        self.batch.clear();
        r
    }

    /// Reads a descriptor that may block (stdin, a pipe): poll with a timeout
    /// so events are aged while it is quiet.
    fn read_polled(&mut self, src: &mut dyn Read, fd: i32, name: &str) -> CmdResult {
        let mut buf = vec![0u8; CHUNK];
        let timeout = self.opts.poll_interval.as_millis().min(i32::MAX as u128) as i32;
        loop {
            if self.stopped() {
                // SIGTERM: what is already written to us is still read and
                // handled (auditd gives its plugins time to drain).
                return self.drain_readable(src, fd, &mut buf, name);
            }
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd on the stack; fd is open for the call.
            let rc = unsafe { libc::poll(&mut pfd, 1, timeout) };
            if rc == 0
                || (rc < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted)
            {
                self.idle()?;
                continue;
            }
            match src.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    self.feed(&buf[..n])?;
                    if n < buf.len() && !self.opts.coalesce.is_zero() && !self.stopped() {
                        std::thread::sleep(self.opts.coalesce);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Fatal(format!("{name}: {e}"))),
            }
        }
    }

    /// Reads descriptor `fd` on a second thread (see
    /// [`ReadOptions::read_ahead`]) and feeds what it read here, in batches.
    /// Ages events while nothing comes; on a stop, handles everything the
    /// writer had written before returning, as `read_polled` does.
    fn read_ahead(&mut self, fd: i32, name: &str) -> CmdResult {
        let shared = ReadAhead::default();
        let cap = self.opts.read_ahead.max(CHUNK);
        let stop = self.opts.stop.clone();
        std::thread::scope(|s| {
            let reader = std::thread::Builder::new()
                .name("auparse-read".into())
                .spawn_scoped(s, || shared.fill(fd, cap, stop.as_deref()))
                .map_err(|e| Fatal(format!("cannot start the reading thread: {e}")))?;
            let r = self.consume(&shared, name);
            shared.quit();
            let _ = reader.join();
            r
        })
    }

    /// The handling side of [`Run::read_ahead`].
    fn consume(&mut self, shared: &ReadAhead, name: &str) -> CmdResult {
        let mut data = Vec::new();
        loop {
            let (end, err) = shared.take(&mut data, self.opts.poll_interval);
            if !data.is_empty() {
                self.feed(&data)?;
                if data.len() < CHUNK && !self.opts.coalesce.is_zero() && !self.stopped() {
                    // Let the reader gather more before waking up again.
                    std::thread::sleep(self.opts.coalesce);
                }
            }
            if let Some(e) = err {
                return Err(Fatal(format!("{name}: {e}")));
            }
            if end {
                return Ok(());
            }
            if data.is_empty() {
                self.idle()?;
            }
        }
    }

    /// Reads what can be read without waiting, to the end of input or until
    /// nothing more is ready.
    fn drain_readable(
        &mut self,
        src: &mut dyn Read,
        fd: i32,
        buf: &mut [u8],
        name: &str,
    ) -> CmdResult {
        loop {
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd on the stack; a zero timeout.
            let rc = unsafe { libc::poll(&mut pfd, 1, 0) };
            if rc <= 0 || pfd.revents & (libc::POLLIN | libc::POLLHUP) == 0 {
                return Ok(());
            }
            match src.read(buf) {
                Ok(0) => return Ok(()),
                Ok(n) => self.feed(&buf[..n])?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Fatal(format!("{name}: {e}"))),
            }
        }
    }

    fn read_file(&mut self, path: &PathBuf) -> CmdResult {
        let name = path.display().to_string();
        let mut file = File::open(path).map_err(|e| Fatal(format!("{name}: {e}")))?;
        let meta = file.metadata().map_err(|e| Fatal(format!("{name}: {e}")))?;
        if meta.is_dir() {
            return Err(Fatal(format!("{name}: is a directory")));
        }
        if !meta.is_file() {
            // A FIFO or device: may block like stdin.
            let fd = file.as_raw_fd();
            return self.read_polled(&mut file, fd, &name);
        }
        let mut buf = vec![0u8; CHUNK];
        let mut pos: u64 = 0;
        loop {
            if self.stopped() {
                return Ok(());
            }
            match file.read(&mut buf) {
                Ok(0) => {
                    if !self.opts.follow {
                        return Ok(());
                    }
                    // tail -F: wait, age, notice rotation and truncation.
                    std::thread::sleep(self.opts.poll_interval.min(Duration::from_millis(250)));
                    self.idle()?;
                    let cur = file.metadata().ok();
                    match std::fs::metadata(path) {
                        Ok(m)
                            if cur
                                .as_ref()
                                .is_some_and(|c| c.ino() != m.ino() || c.dev() != m.dev()) =>
                        {
                            // Rotated: the old file is fully read (EOF above);
                            // continue with the new one from its start.
                            if let Ok(f) = File::open(path) {
                                file = f;
                                pos = 0;
                            }
                        }
                        Ok(m) if m.len() < pos => {
                            file.seek(SeekFrom::Start(0))
                                .map_err(|e| Fatal(format!("{name}: {e}")))?;
                            pos = 0;
                        }
                        _ => {}
                    }
                }
                Ok(n) => {
                    pos += n as u64;
                    self.feed(&buf[..n])?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Fatal(format!("{name}: {e}"))),
            }
        }
    }
}

/// How long the reading thread of [`Run::read_ahead`] pauses after a read
/// that did not fill its buffer: at 40,000 records a second (two processes
/// changing files as fast as they can) 40 records, well below what auditd's
/// socket to the plugin holds.
const READER_PAUSE: Duration = Duration::from_millis(1);

/// Bytes read ahead by the reading thread of [`Run::read_ahead`].
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
            // SAFETY: one valid pollfd on the stack; fd stays open for the
            // life of the process (standard input, never closed here).
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
            // SAFETY: `tmp` is valid for writes of its length; fd as above.
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

/// Reads every source in order as one stream through `feeder`, hands the
/// events to `handler`, and flushes at the end so the last event is never
/// lost (also when stopped by a signal). An unreadable file is a fatal error,
/// reported after the events read before it have been handled.
pub fn run<H: Handler>(
    sources: &[Source],
    feeder: &mut Feeder,
    handler: &mut H,
    opts: &ReadOptions,
) -> CmdResult {
    let sources: Vec<Source> = if sources.is_empty() {
        vec![Source::Stdin]
    } else {
        sources.to_vec()
    };
    if opts.follow && (sources.len() != 1 || sources[0] == Source::Stdin) {
        return Err(Fatal("--follow needs exactly one FILE".into()));
    }
    let bar = if opts.progress
        && !opts.follow
        && io::stderr().is_terminal()
        && sources.iter().all(|s| matches!(s, Source::Path(_)))
    {
        let total: u64 = sources
            .iter()
            .filter_map(|s| match s {
                Source::Path(p) => std::fs::metadata(p)
                    .ok()
                    .filter(|m| m.is_file())
                    .map(|m| m.len()),
                Source::Stdin => None,
            })
            .sum();
        (total > 4 * 1024 * 1024).then(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        })
    } else {
        None
    };
    let mut run = Run {
        feeder,
        handler,
        batch: Vec::new(),
        opts,
        bar,
        last_age: Instant::now(),
    };
    let mut result = Ok(());
    for src in &sources {
        let r = match src {
            Source::Stdin => {
                // fd 0 read directly (not through Stdin's buffer) so poll()
                // tells the truth; ManuallyDrop: we must not close it.
                // SAFETY: fd 0 is open for the life of the process; the File
                // is never dropped, so it is never closed here.
                let mut stdin = ManuallyDrop::new(unsafe { File::from_raw_fd(0) });
                if opts.read_ahead > 0 {
                    run.read_ahead(0, &src.name())
                } else {
                    run.read_polled(&mut *stdin, 0, &src.name())
                }
            }
            Source::Path(p) => run.read_file(p),
        };
        if let Err(e) = r {
            result = Err(e);
            break;
        }
        if run.stopped() {
            break;
        }
    }
    if let Some(bar) = &run.bar {
        bar.finish_and_clear();
    }
    // The end of the input (or a fatal error): what was read is not lost.
    let batch = &mut run.batch;
    let opts = run.opts.event;
    let flushed = run.feeder.flush(|ev| batch.push(ev.to_event_with(opts)));
    if !run.batch.is_empty() {
        let r = run.hand_over();
        if result.is_ok() {
            result = r;
        }
    }
    if let Err(e) = flushed {
        if result.is_ok() {
            result = Err(Fatal(format!("parse error: {e}")));
        }
    }
    let end = run.handler.end();
    run.handler.take_spent(&mut run.batch);
    run.batch.clear();
    result.and(end)
}

/// Batches waiting for the output thread (each holds the events of one read,
/// at most 64 KiB of input): bounds memory when the output is slower.
const PIPELINE_DEPTH: usize = 4;

enum Msg {
    Events(Vec<Event>),
    Idle,
}

/// The reading side of [`run_pipelined`]: hands batches to the output thread
/// and frees the events it hands back.
struct Front<'a> {
    tx: Option<std::sync::mpsc::SyncSender<Msg>>,
    back: std::sync::mpsc::Receiver<Vec<Event>>,
    failed: &'a AtomicBool,
}

impl Front<'_> {
    fn send(&mut self, msg: Msg) -> CmdResult {
        // Free what the output thread is done with here: glibc's free of
        // another thread's allocations contends for that thread's arena.
        while let Ok(spent) = self.back.try_recv() {
            drop(spent);
        }
        let sent = match &self.tx {
            Some(tx) if !self.failed.load(Ordering::Relaxed) => tx.send(msg).is_ok(),
            _ => false,
        };
        if sent {
            Ok(())
        } else {
            // The output thread stopped on an error: stop reading; its error
            // is the one reported (see run_pipelined).
            Err(Fatal("output stopped".into()))
        }
    }
}

impl Handler for Front<'_> {
    fn events(&mut self, batch: &mut Vec<Event>) -> CmdResult {
        self.send(Msg::Events(std::mem::take(batch)))
    }

    fn idle(&mut self) -> CmdResult {
        self.send(Msg::Idle)
    }

    fn end(&mut self) -> CmdResult {
        // Closing the channel tells the output thread to finish.
        self.tx = None;
        Ok(())
    }
}

fn output_loop<H: Handler>(
    handler: &mut H,
    rx: std::sync::mpsc::Receiver<Msg>,
    back: std::sync::mpsc::Sender<Vec<Event>>,
    failed: &AtomicBool,
) -> CmdResult {
    let mut run = || {
        for msg in rx.iter() {
            let mut spent = match msg {
                Msg::Events(mut batch) => {
                    handler.events(&mut batch)?;
                    // Emptied by the handler: its buffer goes back too.
                    batch
                }
                Msg::Idle => {
                    handler.idle()?;
                    Vec::new()
                }
            };
            handler.take_spent(&mut spent);
            if spent.capacity() > 0 {
                // The reader may be gone already (its error ends the run).
                let _ = back.send(spent);
            }
        }
        handler.end()
    };
    let result = run();
    if result.is_err() {
        failed.store(true, Ordering::Relaxed);
    }
    result
}

/// [`run`] with the handler on a second thread: reading, libauparse and the
/// owned events on this one; filtering, formatting and writing on the other,
/// so the two overlap. Events keep their order, and every event read is
/// handled before this returns. A handler error (a write error) stops the
/// reading and is the one returned; otherwise the reading's.
pub fn run_pipelined<H: Handler + Send>(
    sources: &[Source],
    feeder: &mut Feeder,
    handler: &mut H,
    opts: &ReadOptions,
) -> CmdResult {
    let failed = AtomicBool::new(false);
    let (tx, rx) = std::sync::mpsc::sync_channel(PIPELINE_DEPTH);
    let (back_tx, back_rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        let output = std::thread::Builder::new()
            .name("auparse-output".into())
            .spawn_scoped(s, || output_loop(handler, rx, back_tx, &failed))
            .map_err(|e| Fatal(format!("cannot start the output thread: {e}")))?;
        let mut front = Front {
            tx: Some(tx),
            back: back_rx,
            failed: &failed,
        };
        let read = run(sources, feeder, &mut front, opts);
        front.tx = None;
        let written = match output.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        // What came back after the last batch is freed with `front`.
        drop(front);
        written.and(read)
    })
}
