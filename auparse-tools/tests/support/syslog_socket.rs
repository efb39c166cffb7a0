//! A unix datagram socket standing in for /dev/log: the plugin is pointed at
//! it with `AUPARSE_SYSLOG_SOCKET`, and each datagram it receives is parsed
//! as RFC 3164 (`<PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE`), as a syslog
//! daemon reads it.

#![allow(dead_code)]

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One parsed syslog message.
#[derive(Debug, Clone)]
pub struct Message {
    pub facility: u8,
    pub severity: u8,
    pub ident: String,
    pub pid: u32,
    pub text: String,
}

/// Parses one datagram the way rsyslog's RFC 3164 parser does; `None` if
/// it is not that form.
pub fn parse(d: &str) -> Option<Message> {
    let rest = d.strip_prefix('<')?;
    let (pri, rest) = rest.split_once('>')?;
    let pri: u8 = pri.parse().ok()?;
    // "Mmm dd hh:mm:ss " (day padded with a space).
    let stamp = rest.get(..15)?;
    let b = stamp.as_bytes();
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    if !months.contains(&&stamp[..3])
        || b[3] != b' '
        || b[6] != b' '
        || b[9] != b':'
        || b[12] != b':'
        || rest.as_bytes().get(15) != Some(&b' ')
    {
        return None;
    }
    let rest = &rest[16..];
    let (tag, text) = rest.split_once(": ")?;
    let (ident, pid) = tag.strip_suffix(']')?.split_once('[')?;
    Some(Message {
        facility: pri >> 3,
        severity: pri & 7,
        ident: ident.to_string(),
        pid: pid.parse().ok()?,
        text: text.to_string(),
    })
}

pub struct SyslogSocket {
    pub path: PathBuf,
    raw: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl SyslogSocket {
    /// Binds `path` (removed first) and collects what arrives.
    pub fn bind(path: &Path) -> SyslogSocket {
        let _ = std::fs::remove_file(path);
        let sock = UnixDatagram::bind(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let raw = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (raw.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while !s.load(Ordering::Relaxed) {
                if let Ok(n) = sock.recv(&mut buf) {
                    r.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                }
            }
        });
        SyslogSocket {
            path: path.to_path_buf(),
            raw,
            stop,
        }
    }

    /// Every datagram received so far.
    pub fn raw(&self) -> Vec<String> {
        self.raw.lock().unwrap().clone()
    }

    /// The messages of process `pid`, checked to be facility daemon with
    /// ident auparse-fsaction (panics on a datagram of another form).
    pub fn of(&self, pid: u32) -> Vec<Message> {
        self.raw()
            .iter()
            .map(|d| parse(d).unwrap_or_else(|| panic!("not an RFC 3164 datagram: {d:?}")))
            .filter(|m| m.pid == pid)
            .inspect(|m| {
                assert_eq!(m.facility, 3, "facility daemon: {m:?}");
                assert_eq!(m.ident, "auparse-fsaction", "{m:?}");
            })
            .collect()
    }

    /// Waits (at most `timeout`) for a message of `pid` containing every
    /// one of `needles`; returns it.
    pub fn wait_for(&self, pid: u32, needles: &[&str], timeout: Duration) -> Message {
        let start = Instant::now();
        loop {
            if let Some(m) = self
                .of(pid)
                .into_iter()
                .find(|m| needles.iter().all(|n| m.text.contains(n)))
            {
                return m;
            }
            assert!(
                start.elapsed() < timeout,
                "no syslog message of pid {pid} with {needles:?} within {timeout:?}; got: {:#?}",
                self.raw()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SyslogSocket {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = std::fs::remove_file(&self.path);
    }
}
