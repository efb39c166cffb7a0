//! Problem reports of the fsaction plugin, where an admin sees them: the
//! system log (facility daemon, ident `auparse-fsaction`), and standard error.
//!
//! auditd starts its plugins with standard error on /dev/null, so the system
//! log is the only place a running plugin can be heard. Messages are written
//! as syslog(3) does: one RFC 3164 datagram `<PRI>Mmm dd hh:mm:ss
//! auparse-fsaction[PID]: MESSAGE` to the unix socket `/dev/log` (read by
//! journald or rsyslog), or to the socket `AUPARSE_SYSLOG_SOCKET` names when
//! that is set (tests bind their own). A missing or full socket never blocks
//! or stops the plugin: the message is then only on standard error.
//!
//! [`Reporter`] sends one line per distinct problem, at most once per
//! interval (60 s; `AUPARSE_SYSLOG_INTERVAL=SECS` changes it); repeats within
//! the interval are counted and reported in one line when it has passed
//! (`MESSAGE [repeated N time(s) in the last S s]`, the latest text), or with
//! the next report of the problem (`MESSAGE [N repeat(s) in the last S s not
//! shown]`).

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The syslog ident (also the prefix of the lines on standard error).
pub const IDENT: &str = "auparse-fsaction";

/// The environment variable naming another syslog socket (tests).
pub const SOCKET_ENV: &str = "AUPARSE_SYSLOG_SOCKET";

/// The environment variable setting the rate-limit interval in seconds.
pub const INTERVAL_ENV: &str = "AUPARSE_SYSLOG_INTERVAL";

/// The default socket of the system log.
const DEFAULT_SOCKET: &str = "/dev/log";

/// Facility daemon (3), shifted as in `<PRI>`.
const LOG_DAEMON: u8 = 3 << 3;

/// Longest message sent (syslog daemons accept at least 1 KiB; rsyslog's
/// default is 8 KiB).
const MAX_MESSAGE: usize = 2048;

/// How bad a problem is (syslog severities).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Changes are, or may be, lost or delayed.
    Err = 3,
    /// Something an admin did that the plugin worked around.
    Warning = 4,
    /// Back to normal.
    Notice = 5,
}

static ALWAYS: AtomicBool = AtomicBool::new(false);

/// Send reports to the system log whatever standard error is (the
/// `auparse-fsaction` plugin binary). Otherwise they go there only when
/// standard error is not a terminal.
pub fn always() {
    ALWAYS.store(true, Ordering::Relaxed);
}

/// True if reports go to the system log.
pub fn enabled() -> bool {
    ALWAYS.load(Ordering::Relaxed) || !std::io::stderr().is_terminal()
}

struct Socket {
    sock: Option<UnixDatagram>,
    path: PathBuf,
}

fn socket() -> &'static Socket {
    static SOCKET: OnceLock<Socket> = OnceLock::new();
    SOCKET.get_or_init(|| {
        let path = std::env::var_os(SOCKET_ENV)
            .filter(|p| !p.is_empty())
            .map_or_else(|| PathBuf::from(DEFAULT_SOCKET), PathBuf::from);
        // Non-blocking: a stalled syslog daemon must not stall the plugin
        // (auditd would then queue, then drop, events for it).
        let sock = UnixDatagram::unbound()
            .ok()
            .filter(|s| s.set_nonblocking(true).is_ok());
        Socket { sock, path }
    })
}

/// Control characters as `\ooo`, so a message is one line whatever a path
/// holds; at most [`MAX_MESSAGE`] bytes.
fn one_line(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    for c in msg.chars() {
        if out.len() >= MAX_MESSAGE {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\{b:03o}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The datagram syslog(3) would send for `msg`.
fn datagram(sev: Severity, msg: &str) -> String {
    let stamp = chrono::Local::now().format("%b %e %H:%M:%S");
    format!(
        "<{}>{stamp} {IDENT}[{}]: {}",
        LOG_DAEMON | sev as u8,
        std::process::id(),
        one_line(msg)
    )
}

/// Sends one message to the system log (when [`enabled`]); true if the
/// socket took it.
pub fn send(sev: Severity, msg: &str) -> bool {
    if !enabled() {
        return false;
    }
    let s = socket();
    s.sock
        .as_ref()
        .is_some_and(|sock| sock.send_to(datagram(sev, msg).as_bytes(), &s.path).is_ok())
}

/// Writes one message to standard error and to the system log.
pub fn report_now(sev: Severity, msg: &str) {
    let line = one_line(msg);
    // Standard error may be closed or /dev/null: never fatal.
    let _ = writeln!(std::io::stderr().lock(), "{IDENT}: {line}");
    send(sev, &line);
}

/// What was last reported for one problem.
struct Seen {
    last: Instant,
    /// Reports held back since `last`, and the latest of them.
    suppressed: u64,
    latest: Option<(Severity, String)>,
}

/// Rate-limited reports: each problem (a key) at most once per interval;
/// the repeats held back are counted and reported when it has passed.
pub struct Reporter {
    interval: Duration,
    seen: HashMap<String, Seen>,
}

impl Default for Reporter {
    fn default() -> Self {
        Self::new()
    }
}

impl Reporter {
    /// The interval from `AUPARSE_SYSLOG_INTERVAL` (seconds), or 60 s.
    pub fn new() -> Reporter {
        let secs = std::env::var(INTERVAL_ENV)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(60);
        Reporter {
            interval: Duration::from_secs(secs),
            seen: HashMap::new(),
        }
    }

    /// The interval between two reports of one problem.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Reports `msg` for problem `key`, unless it was reported less than an
    /// interval ago (then it is counted, and its latest text kept).
    pub fn report(&mut self, key: &str, sev: Severity, msg: String) {
        let now = Instant::now();
        if let Some(s) = self.seen.get_mut(key) {
            if now.duration_since(s.last) < self.interval {
                s.suppressed += 1;
                s.latest = Some((sev, msg));
                return;
            }
            let held = s.suppressed;
            let since = now.duration_since(s.last);
            *s = Seen {
                last: now,
                suppressed: 0,
                latest: None,
            };
            report_now(sev, &with_count(&msg, held, since));
        } else {
            self.seen.insert(
                key.to_string(),
                Seen {
                    last: now,
                    suppressed: 0,
                    latest: None,
                },
            );
            report_now(sev, &msg);
        }
    }

    /// Reports the repeats held back for an interval or more (`all`: every
    /// repeat held back, e.g. before a recovery or at exit).
    pub fn tick(&mut self, all: bool) {
        let now = Instant::now();
        for s in self.seen.values_mut() {
            let since = now.duration_since(s.last);
            if s.suppressed > 0 && (all || since >= self.interval) {
                if let Some((sev, msg)) = s.latest.take() {
                    report_now(
                        sev,
                        &format!(
                            "{msg} [repeated {} time(s) in the last {} s]",
                            s.suppressed,
                            since.as_secs().max(1)
                        ),
                    );
                }
                s.suppressed = 0;
                s.last = now;
            }
        }
    }
}

fn with_count(msg: &str, held: u64, since: Duration) -> String {
    if held == 0 {
        msg.to_string()
    } else {
        format!(
            "{msg} [{held} repeat(s) in the last {} s not shown]",
            since.as_secs().max(1)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(one_line("a\nb\tc\u{1b}d"), "a\\012b\\011c\\033d");
        assert_eq!(one_line("caf\u{e9}"), "caf\u{e9}");
        assert!(one_line(&"x".repeat(5000)).len() <= MAX_MESSAGE + 3);
    }

    #[test]
    fn datagram_framing() {
        let d = datagram(Severity::Err, "x");
        // <27>Dec  2 01:02:03 auparse-fsaction[PID]: x
        assert!(d.starts_with("<27>"), "{d}");
        let pid = std::process::id();
        assert!(d.ends_with(&format!(" auparse-fsaction[{pid}]: x")), "{d}");
        assert_eq!(
            d.len(),
            "<27>".len() + 15 + format!(" auparse-fsaction[{pid}]: x").len()
        );
    }
}
