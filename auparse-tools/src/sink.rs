//! The fsaction plugin's output: a file (or standard output) that survives
//! what admins and tools do to it, with a bounded backlog.
//!
//! - Every [`CHECK_EVERY`] (and after [`UNCONFIRMED_MAX`] lines) the open
//!   file is compared with the file at the output path (fstat of the
//!   descriptor, lstat of the path). Deleted (no link left): the lines
//!   written since the last check went nowhere and are written again to a
//!   new file. Moved away or replaced (`mv out.log out.log.1` without
//!   SIGHUP): what was written is in the moved file; a new file is opened.
//! - An open that fails (directory missing, a directory or symlink at the
//!   path, permissions) is retried every [`RETRY_OPEN`], with no SIGHUP
//!   needed; changes stay in memory meanwhile (up to `--max-pending`, then
//!   the oldest are dropped and counted) and are written in order once it
//!   works. SIGHUP/SIGUSR1 check and reopen at once.
//! - Problems are reported through [`Reporter`] (system log and stderr),
//!   rate-limited.

use crate::syslog::{Reporter, Severity};
use crate::Fatal;
use std::collections::VecDeque;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often the open file is compared with the file at the output path.
pub const CHECK_EVERY: Duration = Duration::from_millis(500);

/// How often a failed open is retried.
pub const RETRY_OPEN: Duration = Duration::from_secs(1);

/// Lines written since the last check after which a check is due anyway
/// (bounds what is kept to write again after a deletion).
pub const UNCONFIRMED_MAX: usize = 4096;

/// The output file, or standard output, with reopen and a bounded backlog.
pub struct Sink {
    path: Option<PathBuf>,
    mode: u32,
    file: Option<File>,
    backlog: VecDeque<Vec<u8>>,
    /// Lines written to `file` since it was last seen linked at `path`:
    /// written again if it turns out to be deleted.
    unconfirmed: VecDeque<Vec<u8>>,
    max_pending: usize,
    dropped: u64,
    failing: bool,
    /// Bytes of the first backlog line already in the file (a short write
    /// on a full disk): the rest is written later, not the whole line again.
    front_done: usize,
    next_check: Instant,
    report: Reporter,
}

impl Sink {
    /// Opens the output (`-` is standard output).
    ///
    /// # Errors
    /// An output that cannot be opened at start (wrong path, permissions).
    pub fn new(output: &Path, mode: u32, max_pending: usize) -> Result<Sink, Fatal> {
        let path = (output != Path::new("-")).then(|| output.to_path_buf());
        let mut s = Sink {
            path,
            mode,
            file: None,
            backlog: VecDeque::new(),
            unconfirmed: VecDeque::new(),
            max_pending: max_pending.max(1),
            dropped: 0,
            failing: false,
            front_done: 0,
            next_check: Instant::now() + CHECK_EVERY,
            report: Reporter::new(),
        };
        if let Some(p) = &s.path {
            // A bad output at start is fatal (wrong path, permissions).
            s.file =
                Some(open_output(p, mode).map_err(|e| Fatal(format!("{}: {e}", p.display())))?);
        }
        Ok(s)
    }

    /// Changes not written yet.
    pub fn pending(&self) -> usize {
        self.backlog.len()
    }

    /// SIGHUP/SIGUSR1: checks the output and reopens it now (after
    /// logrotate moved it), then writes what waits.
    pub fn reopen(&mut self) {
        self.check();
        self.drain();
    }

    /// The idle tick: a check when due, a retry of what waits, the repeats
    /// of reports held back long enough.
    pub fn tick(&mut self) {
        self.maybe_check();
        self.drain();
        self.report.tick(false);
    }

    /// At the end: a last check (a deleted output), the last writes, every
    /// report held back.
    pub fn finish(&mut self) {
        self.check();
        self.drain();
        self.report.tick(true);
    }

    /// Queues one change line and writes what it can.
    pub fn push(&mut self, line: Vec<u8>) {
        if self.backlog.len() >= self.max_pending {
            self.backlog.pop_front();
            self.front_done = 0;
            self.dropped += 1;
            let msg = format!(
                "output not writable: {} change(s) dropped so far (--max-pending {})",
                self.dropped, self.max_pending
            );
            self.report.report("dropped", Severity::Err, msg);
        }
        self.backlog.push_back(line);
        self.maybe_check();
        self.drain();
    }

    fn name(&self) -> String {
        self.path
            .as_ref()
            .map_or("standard output".into(), |p| p.display().to_string())
    }

    fn maybe_check(&mut self) {
        if self.path.is_some()
            && (Instant::now() >= self.next_check || self.unconfirmed.len() >= UNCONFIRMED_MAX)
        {
            self.check();
        }
    }

    /// Compares the open file with the file at the path; reopens when it is
    /// gone, moved or replaced, or was never opened.
    fn check(&mut self) {
        self.next_check = Instant::now() + CHECK_EVERY;
        let Some(path) = self.path.clone() else {
            return;
        };
        if let Some(f) = &self.file {
            let open = f.metadata();
            let at_path = std::fs::symlink_metadata(&path);
            match (&open, &at_path) {
                (Ok(a), Ok(b)) if a.nlink() > 0 && same_file(a, b) => {
                    // Everything written so far is in the file at the path.
                    self.unconfirmed.clear();
                    return;
                }
                (Ok(a), _) if a.nlink() == 0 => {
                    // Deleted: what was written since the last check went
                    // nowhere anyone can read; it is written again, in
                    // order, before what waits. A line begun in the old
                    // file is written whole.
                    let again = self.unconfirmed.len();
                    while let Some(l) = self.unconfirmed.pop_back() {
                        self.backlog.push_front(l);
                    }
                    self.front_done = 0;
                    self.report.report(
                        "deleted",
                        Severity::Warning,
                        format!(
                            "{}: the output file was deleted: opening a new one ({again} change(s) written since the last check written again)",
                            path.display()
                        ),
                    );
                }
                (Ok(_), _) => {
                    // Moved away or replaced, still linked elsewhere: what
                    // was written is there.
                    self.unconfirmed.clear();
                    let what = match &at_path {
                        Err(_) => "moved away",
                        Ok(_) => "replaced",
                    };
                    self.report.report(
                        "moved",
                        Severity::Warning,
                        format!(
                            "{}: the output file was {what} without SIGHUP: opening a new one",
                            path.display()
                        ),
                    );
                }
                (Err(e), _) => {
                    self.report.report(
                        &format!("fstat:{:?}", e.kind()),
                        Severity::Err,
                        format!(
                            "{}: fstat of the open output: {e}: reopening",
                            path.display()
                        ),
                    );
                }
            }
            self.file = None;
        }
        self.open(&path);
    }

    fn open(&mut self, path: &Path) {
        match open_output(path, self.mode) {
            Ok(f) => {
                self.file = Some(f);
                self.unconfirmed.clear();
            }
            Err(e) => {
                self.next_check = Instant::now() + RETRY_OPEN;
                self.report.report(
                    &format!("open:{}", e.raw_os_error().unwrap_or(0)),
                    Severity::Err,
                    format!(
                        "reopen {}: {e}; retrying every {} s, keeping changes in memory (up to {})",
                        path.display(),
                        RETRY_OPEN.as_secs(),
                        self.max_pending
                    ),
                );
            }
        }
    }

    /// Writes the backlog, each change in one write(2), flushed.
    pub fn drain(&mut self) {
        while let Some(line) = self.backlog.front() {
            let r = match (&self.path, &mut self.file) {
                (None, _) => {
                    let mut out = io::stdout().lock();
                    out.write_all(line).and_then(|()| out.flush())
                }
                (Some(_), Some(f)) => write_rest(f, line, &mut self.front_done),
                (Some(_), None) => Err(io::Error::other("output is not open")),
            };
            match r {
                Ok(()) => {
                    if let Some(l) = self.backlog.pop_front() {
                        if self.path.is_some() {
                            self.unconfirmed.push_back(l);
                        }
                    }
                    self.front_done = 0;
                    if self.failing {
                        self.failing = false;
                        // The repeats held back first, then the recovery.
                        self.report.tick(true);
                        let dropped = if self.dropped > 0 {
                            format!("; {} change(s) dropped in all", self.dropped)
                        } else {
                            String::new()
                        };
                        self.report.report(
                            "writable",
                            Severity::Notice,
                            format!("{}: output writable again{dropped}", self.name()),
                        );
                    }
                    if self.unconfirmed.len() >= UNCONFIRMED_MAX {
                        self.check();
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe && self.path.is_none() => {
                    // Nobody reads standard output any more.
                    std::process::exit(0);
                }
                Err(_) if self.path.is_some() && self.file.is_none() => {
                    // The failed open is what was reported.
                    self.failing = true;
                    return;
                }
                Err(e) => {
                    if !self.failing {
                        self.failing = true;
                        let msg = format!(
                            "{}: {e}; keeping changes in memory (up to {}) until it works again (retried every {} s; SIGHUP reopens)",
                            self.name(),
                            self.max_pending,
                            RETRY_OPEN.as_secs()
                        );
                        let key = format!("write:{}", e.raw_os_error().unwrap_or(0));
                        self.report.report(&key, Severity::Err, msg);
                    }
                    return;
                }
            }
        }
    }
}

fn same_file(a: &Metadata, b: &Metadata) -> bool {
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// Writes `line` from byte `*done` on, normally in one write(2). After a
/// short write (disk full) `*done` records how far it got, so that the rest
/// is written later and the line is neither lost nor repeated in part.
fn write_rest(f: &mut File, line: &[u8], done: &mut usize) -> io::Result<()> {
    while *done < line.len() {
        match f.write(&line[*done..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => *done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Opens for appending, creating with `mode`, refusing a symlink in its place.
fn open_output(path: &Path, mode: u32) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}
