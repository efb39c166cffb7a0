//! Reading the input stream: files in order, or standard input, through one
//! [`Feeder`]; `--follow` for growing and rotated files; wall-clock ageing of
//! events while the input is quiet; a progress bar for long file reads.

use crate::{CmdResult, Fatal};
use auparse::{Event, Feeder};
use std::fs::File;
use std::io::{self, IsTerminal, Read, Seek, SeekFrom};
use std::mem::ManuallyDrop;
use std::os::fd::{AsFd, FromRawFd};
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

/// A command's [`Handler`] as the library's plugin-loop handler.
struct Adapter<'h, H: Handler> {
    handler: &'h mut H,
}

/// An error of the plugin loop: reading or parsing, or the handler's.
enum LoopError {
    Read(auparse::Error),
    Handler(Fatal),
}

impl From<auparse::Error> for LoopError {
    fn from(e: auparse::Error) -> Self {
        LoopError::Read(e)
    }
}

impl<H: Handler> auparse::plugin::Handler for Adapter<'_, H> {
    type Error = LoopError;

    fn events(&mut self, batch: &mut Vec<Event>) -> Result<(), LoopError> {
        let r = self.handler.events(batch);
        // Events the handler is done with are freed on this thread.
        self.handler.take_spent(batch);
        r.map_err(LoopError::Handler)
    }

    fn idle(&mut self) -> Result<(), LoopError> {
        let mut spent = Vec::new();
        let r = self.handler.idle();
        self.handler.take_spent(&mut spent);
        r.map_err(LoopError::Handler)
    }
}

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
        let (batch, opts, handler) = (&mut self.batch, self.opts.event, &mut *self.handler);
        self.feeder
            .try_feed(data, |ev| {
                batch.push(ev.to_event_with(opts));
                hand_over_full(handler, batch)
            })
            .map_err(FeedError::into_fatal)?;
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
            let (batch, opts, handler) = (&mut self.batch, self.opts.event, &mut *self.handler);
            let mut failed = None;
            self.feeder
                .age_events(|ev| {
                    if failed.is_none() {
                        batch.push(ev.to_event_with(opts));
                        failed = hand_over_full(handler, batch).err();
                    }
                })
                .map_err(|e| Fatal(format!("parse error: {e}")))?;
            failed.map_or(Ok(()), |e| Err(e.into_fatal()))?;
            if !self.batch.is_empty() {
                self.hand_over()?;
            }
        }
        let r = self.handler.idle();
        self.handler.take_spent(&mut self.batch);
        self.batch.clear();
        r
    }

    /// Reads a descriptor that may block (stdin, a pipe, a FIFO) with the
    /// library's plugin loop ([`auparse::plugin::run`]): polled with the
    /// poll interval as timeout, events aged by the wall clock while it is
    /// quiet, what is readable still read after a stop. The flush at the
    /// end of all sources is `run`'s.
    fn read_polled<R: Read + AsFd>(&mut self, src: R, name: &str) -> CmdResult {
        let mut opts = auparse::plugin::LoopOptions::default();
        opts.idle = self.opts.poll_interval;
        opts.event = self.opts.event;
        opts.stop = self.opts.stop.clone();
        opts.flush_at_end = false;
        opts.coalesce = self.opts.coalesce;
        opts.read_ahead = self.opts.read_ahead;
        let mut adapter = Adapter {
            handler: &mut *self.handler,
        };
        auparse::plugin::run(self.feeder, src, &opts, &mut adapter).map_err(|e| match e {
            LoopError::Read(auparse::Error::Io(e)) => Fatal(format!("{name}: {e}")),
            LoopError::Read(e) => Fatal(format!("parse error: {e}")),
            LoopError::Handler(f) => f,
        })
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
            return self.read_polled(file, &name);
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
                            // Rotated. What was written to the old file since
                            // the EOF above (before or after the rename) is
                            // read first; then the new one from its start.
                            loop {
                                match file.read(&mut buf) {
                                    Ok(0) => break,
                                    Ok(n) => self.feed(&buf[..n])?,
                                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                                    Err(e) => return Err(Fatal(format!("{name}: {e}"))),
                                }
                            }
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
                run.read_polled(&mut *stdin, &src.name())
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
    let (batch, opts, handler) = (&mut run.batch, run.opts.event, &mut *run.handler);
    let mut failed = None;
    let flushed = run.feeder.flush(|ev| {
        if failed.is_none() {
            batch.push(ev.to_event_with(opts));
            failed = hand_over_full(handler, batch).err();
        }
    });
    if let Some(e) = failed {
        if result.is_ok() {
            result = Err(e.into_fatal());
        }
    }
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

/// An error inside a feed call: libauparse's, or the handler's (given a full
/// batch from inside the call).
enum FeedError {
    Parse(auparse::Error),
    Handler(Fatal),
}

impl From<auparse::Error> for FeedError {
    fn from(e: auparse::Error) -> Self {
        FeedError::Parse(e)
    }
}

impl FeedError {
    fn into_fatal(self) -> Fatal {
        match self {
            FeedError::Parse(e) => Fatal(format!("parse error: {e}")),
            FeedError::Handler(f) => f,
        }
    }
}

/// Hands a batch of [`auparse::plugin::MAX_BATCH`] events to the handler
/// from inside a feed call (one call can complete thousands at once: those
/// held behind a late event), then frees them, so that memory does not grow
/// with the number held.
fn hand_over_full<H: Handler>(handler: &mut H, batch: &mut Vec<Event>) -> Result<(), FeedError> {
    if batch.len() < auparse::plugin::MAX_BATCH {
        return Ok(());
    }
    let r = handler.events(batch);
    handler.take_spent(batch);
    batch.clear();
    r.map_err(FeedError::Handler)
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
