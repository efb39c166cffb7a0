//! Running one contender in a child process: wall time around spawn..wait4,
//! CPU time and peak RSS from the child's rusage.

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// What to do with the child's standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdout {
    /// `> /dev/null`.
    Null,
    /// Read it all: count lines, hash it, keep the first bytes in `head`.
    Capture,
    /// As `Capture` (the name says why it is used).
    Count,
}

/// One finished child process.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Wall time from spawn to reaped.
    pub wall: Duration,
    /// User + system CPU time of the child.
    pub cpu: Duration,
    /// Peak resident set size of the child (`ru_maxrss`), KiB.
    pub max_rss_kb: u64,
    /// Raw wait status.
    pub status: i32,
    /// Lines of standard output (when read).
    pub lines: u64,
    /// FNV-1a hash of standard output (when read).
    pub hash: u64,
    /// Sum of the FNV-1a hashes of each output line: equal for the same
    /// lines in another order.
    pub line_sum: u64,
    /// The first bytes of standard output (when read), lossily as text.
    pub head: String,
    /// The last bytes of standard error.
    pub stderr_tail: String,
}

impl Measured {
    /// Exit code, if the child exited normally.
    pub fn status_code(&self) -> Option<i32> {
        libc::WIFEXITED(self.status).then(|| libc::WEXITSTATUS(self.status))
    }

    /// Exited with status 0.
    pub fn success(&self) -> bool {
        self.status_code() == Some(0)
    }

    /// A one-line description of how it failed.
    pub fn failure(&self) -> String {
        let how = match self.status_code() {
            Some(c) => format!("exit status {c}"),
            None if libc::WIFSIGNALED(self.status) => {
                format!("killed by signal {}", libc::WTERMSIG(self.status))
            }
            None => format!("wait status {}", self.status),
        };
        let err = self.stderr_tail.trim().replace('\n', " / ");
        if err.is_empty() {
            how
        } else {
            format!("{how}: {err}")
        }
    }
}

#[derive(Default)]
struct Counted {
    lines: u64,
    hash: u64,
    line_sum: u64,
    head: Vec<u8>,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

const HEAD: usize = 4096;

fn count(mut r: impl Read) -> Counted {
    let mut c = Counted {
        hash: FNV_OFFSET,
        ..Counted::default()
    };
    let mut line = FNV_OFFSET;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        if c.head.len() < HEAD {
            let take = (HEAD - c.head.len()).min(n);
            c.head.extend_from_slice(&chunk[..take]);
        }
        for &b in chunk {
            c.hash = (c.hash ^ u64::from(b)).wrapping_mul(FNV_PRIME);
            line = (line ^ u64::from(b)).wrapping_mul(FNV_PRIME);
            if b == b'\n' {
                c.lines += 1;
                c.line_sum = c.line_sum.wrapping_add(line);
                line = FNV_OFFSET;
            }
        }
    }
    if line != FNV_OFFSET {
        c.line_sum = c.line_sum.wrapping_add(line);
    }
    c
}

fn tail(mut r: impl Read) -> String {
    let mut all = Vec::new();
    let _ = r.read_to_end(&mut all);
    let start = all.len().saturating_sub(600);
    String::from_utf8_lossy(&all[start..]).into_owned()
}

fn timeval(tv: libc::timeval) -> Duration {
    Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64)
}

/// Runs `cmd` to completion and measures it.
pub fn run_measured(cmd: &mut Command, stdout: Stdout) -> Result<Measured, String> {
    run_measured_input(cmd, stdout, None)
}

/// Writes the lines of `file` to `pipe`, each in its own write(2), at
/// `rate` lines a second (as auditd passes records on as the kernel sends
/// them): a reader that keeps up wakes and reads about once per record.
fn write_paced(mut pipe: std::process::ChildStdin, file: &std::path::Path, rate: u32) {
    use std::io::{BufRead, Write};
    let Ok(f) = std::fs::File::open(file) else {
        return;
    };
    let start = Instant::now();
    let per = Duration::from_secs(1) / rate.max(1);
    for (i, r) in std::io::BufReader::new(f).split(b'\n').enumerate() {
        let Ok(mut r) = r else { return };
        r.push(b'\n');
        // Each record at its own time: sleep when far ahead, else yield
        // (a sleep shorter than a timer tick would write bursts).
        let due = per * u32::try_from(i).unwrap_or(u32::MAX);
        loop {
            let now = start.elapsed();
            if now >= due {
                break;
            }
            if due - now > Duration::from_millis(2) {
                thread::sleep(due - now - Duration::from_millis(1));
            } else {
                thread::yield_now();
            }
        }
        if pipe.write_all(&r).is_err() {
            return;
        }
    }
}

/// [`run_measured`], with `input` (when given: a file and a rate in
/// lines a second) written to the child's standard input one record per
/// write(2) (see [`write_paced`]).
pub fn run_measured_input(
    cmd: &mut Command,
    stdout: Stdout,
    input: Option<(&std::path::Path, u32)>,
) -> Result<Measured, String> {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stderr(Stdio::piped());
    cmd.stdout(match stdout {
        Stdout::Null => Stdio::null(),
        Stdout::Capture | Stdout::Count => Stdio::piped(),
    });
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("{:?}: {e}", cmd.get_program()))?;
    let out = child.stdout.take().map(|s| thread::spawn(move || count(s)));
    let writer = match (child.stdin.take(), input) {
        (Some(pipe), Some((file, rate))) => {
            let file = file.to_path_buf();
            Some(thread::spawn(move || write_paced(pipe, &file, rate)))
        }
        _ => None,
    };
    let err = child.stderr.take().map(|s| thread::spawn(move || tail(s)));
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is a plain C struct for which all-zero bytes are valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own child, not yet reaped (std's Child is never
        // waited on: it is dropped below without wait); the out-pointers are
        // valid locals.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("wait4: {e}"));
        }
    }
    let wall = start.elapsed();
    drop(child);
    if let Some(w) = writer {
        let _ = w.join();
    }
    let counted = out
        .map(|h| h.join().unwrap_or_default())
        .unwrap_or_default();
    let stderr_tail = err
        .map(|h| h.join().unwrap_or_default())
        .unwrap_or_default();
    Ok(Measured {
        wall,
        cpu: timeval(ru.ru_utime) + timeval(ru.ru_stime),
        max_rss_kb: ru.ru_maxrss as u64,
        status,
        lines: counted.lines,
        hash: counted.hash,
        line_sum: counted.line_sum,
        head: String::from_utf8_lossy(&counted.head).into_owned(),
        stderr_tail,
    })
}
