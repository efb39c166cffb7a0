//! `auparse fsaction` / `auparse-fsaction`: an auditd plugin that writes one
//! line per filesystem change in watched directories.
//!
//! Input is the audispd plugin stream (`format = string`, with EOE records) on
//! standard input, or files / `ausearch --raw` output. Output is appended to a
//! file (created 0600, never through a symlink) or standard output; SIGHUP and
//! SIGUSR1 reopen it (logrotate), SIGTERM writes what is pending and exits 0.

use crate::input::{self, Handler, ReadOptions, Source};
use crate::{CmdResult, Fatal};
use auparse::format::json::{
    rfc3339, write_change_fields, write_change_outcome, write_opt, write_str,
};
use auparse::format::pretty::write_escaped;
use auparse::{join_normalize, ChangeKind, Event, Feeder, FsChange, FsTracker, RecordType};
use clap::{Args as ClapArgs, ValueEnum};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Line format of the change log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `ACTION (padded to 30): PATH`, `OLD -> NEW` for renames (the original's layout).
    Text,
    /// One JSON object per change.
    Json,
}

const AFTER_HELP: &str = "\
Examples:
  ausearch --raw -k fsaction | auparse fsaction --key fsaction
  auparse fsaction --print-config --watch /srv/data --key fsaction --output /var/log/fsaction.log

As an auditd plugin, use the auparse-fsaction binary (auditd passes at most two
words of args): `auparse-fsaction LOGFILE [KEY]` or `auparse-fsaction --config FILE`.
A config file has one `option = value` per line, named like the long options
(output, key, path, format, include-failed, live, eoe-timeout, mode, max-pending);
key and path may repeat; `#` starts a comment.";

/// Options of `auparse fsaction`.
#[derive(Debug, Clone, ClapArgs)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Inputs (audit logs or the plugin stream); `-` or none reads standard input.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<OsString>,
    /// Where to append the change log; `-` is standard output.
    #[arg(short, long, value_name = "PATH", default_value = "-")]
    pub output: PathBuf,
    /// Only events with this rule key (exact match on any key). Repeatable.
    #[arg(short = 'k', long = "key", value_name = "KEY")]
    pub keys: Vec<String>,
    /// Only changes at or under DIR. Repeatable.
    #[arg(short = 'p', long = "path", value_name = "DIR")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub format: LogFormat,
    /// Also log changes whose syscall failed (skipped by default).
    #[arg(long)]
    pub include_failed: bool,
    /// End-of-event timeout in seconds of log time (default: auditd.conf's, or 2).
    #[arg(long, value_name = "SECS")]
    pub eoe_timeout: Option<u32>,
    /// Permissions of a newly created output file, in octal.
    #[arg(long, value_name = "OCTAL", default_value = "600", value_parser = parse_mode)]
    pub mode: u32,
    /// Changes kept in memory while the output cannot be written, before the
    /// oldest are dropped (each drop is reported on stderr).
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub max_pending: usize,
    /// Read options from FILE (`option = value` lines; see below).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the audit rule, the auditd plugin conf and a logrotate snippet for
    /// --watch DIR, then exit.
    #[arg(long, requires = "watch")]
    pub print_config: bool,
    /// The directory to watch (with --print-config).
    #[arg(long, value_name = "DIR")]
    pub watch: Option<PathBuf>,
    /// The events happen on this host now (auditd's plugin stream): an entry
    /// the log has not shown yet (the tree existed before the plugin
    /// started) is looked up in the real filesystem, through the process's
    /// open directory descriptor or by walking the --path directories (by
    /// default, the directories of the loaded `-w` audit rules with --key's
    /// keys, asked from the kernel as `auditctl -l` does). Always on for the
    /// auparse-fsaction plugin binary.
    #[arg(long)]
    pub live: bool,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            inputs: Vec::new(),
            output: PathBuf::from("-"),
            keys: Vec::new(),
            paths: Vec::new(),
            format: LogFormat::Text,
            include_failed: false,
            eoe_timeout: None,
            mode: 0o600,
            max_pending: 100_000,
            config: None,
            print_config: false,
            watch: None,
            live: false,
        }
    }
}

fn parse_mode(s: &str) -> Result<u32, String> {
    u32::from_str_radix(s.trim_start_matches("0o"), 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| format!("bad mode '{s}': expected octal like 600"))
}

/// Applies a config file on top of `args` (options given on the command line
/// for repeatable lists are kept and extended).
///
/// # Errors
/// One line naming the file, line and problem.
pub fn apply_config(args: &mut Args, path: &Path) -> Result<(), Fatal> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Fatal(format!("{}: {e}", path.display())))?;
    for (no, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let bad = |msg: &str| Fatal(format!("{}:{}: {msg}", path.display(), no + 1));
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| bad("expected `option = value`"))?;
        let (k, v) = (k.trim(), v.trim());
        let yes = |v: &str| -> Result<bool, Fatal> {
            match v {
                "yes" | "true" | "1" | "on" => Ok(true),
                "no" | "false" | "0" | "off" => Ok(false),
                _ => Err(bad("expected yes or no")),
            }
        };
        match k {
            "output" => args.output = PathBuf::from(v),
            "key" => args.keys.push(v.to_string()),
            "path" => args.paths.push(PathBuf::from(v)),
            "format" => {
                args.format = match v {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    _ => return Err(bad("format is text or json")),
                }
            }
            "include-failed" => args.include_failed = yes(v)?,
            "live" => args.live = yes(v)?,
            "eoe-timeout" => {
                args.eoe_timeout = Some(
                    v.parse()
                        .map_err(|_| bad("eoe-timeout: expected seconds"))?,
                )
            }
            "mode" => args.mode = parse_mode(v).map_err(|e| bad(&e))?,
            "max-pending" => {
                args.max_pending = v
                    .parse()
                    .map_err(|_| bad("max-pending: expected a number"))?
            }
            _ => return Err(bad(&format!("unknown option '{k}'"))),
        }
    }
    Ok(())
}

/// The output file, or standard output, with reopen and a bounded backlog.
struct Sink {
    path: Option<PathBuf>,
    mode: u32,
    file: Option<File>,
    backlog: VecDeque<Vec<u8>>,
    max_pending: usize,
    dropped: u64,
    failing: bool,
    /// Bytes of the first backlog line already in the file (a short write
    /// on a full disk): the rest is written later, not the whole line again.
    front_done: usize,
}

impl Sink {
    fn new(output: &Path, mode: u32, max_pending: usize) -> Result<Sink, Fatal> {
        let path = (output != Path::new("-")).then(|| output.to_path_buf());
        let mut s = Sink {
            path,
            mode,
            file: None,
            backlog: VecDeque::new(),
            max_pending: max_pending.max(1),
            dropped: 0,
            failing: false,
            front_done: 0,
        };
        if let Some(p) = &s.path {
            // A bad output at start is fatal (wrong path, permissions).
            s.file =
                Some(open_output(p, mode).map_err(|e| Fatal(format!("{}: {e}", p.display())))?);
        }
        Ok(s)
    }

    /// Closes and reopens the output (after logrotate moved it).
    fn reopen(&mut self) {
        if let Some(p) = &self.path {
            let old = self.file.take().and_then(|f| f.metadata().ok());
            match open_output(p, self.mode) {
                Ok(f) => {
                    // A line begun in another file (rotated or deleted) is
                    // written whole to the new one.
                    let same = old
                        .zip(f.metadata().ok())
                        .is_some_and(|(a, b)| a.dev() == b.dev() && a.ino() == b.ino());
                    if !same {
                        self.front_done = 0;
                    }
                    self.file = Some(f);
                }
                Err(e) => eprintln!("auparse-fsaction: reopen {}: {e}", p.display()),
            }
        }
        self.drain();
    }

    fn push(&mut self, line: Vec<u8>) {
        if self.backlog.len() >= self.max_pending {
            self.backlog.pop_front();
            self.front_done = 0;
            self.dropped += 1;
            if self.dropped == 1 || self.dropped.is_power_of_two() {
                eprintln!(
                    "auparse-fsaction: output not writable: {} change(s) dropped so far (--max-pending {})",
                    self.dropped, self.max_pending
                );
            }
        }
        self.backlog.push_back(line);
        self.drain();
    }

    /// Writes the backlog, each change in one write(2), flushed.
    fn drain(&mut self) {
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
                    self.backlog.pop_front();
                    self.front_done = 0;
                    if self.failing {
                        self.failing = false;
                        eprintln!("auparse-fsaction: output writable again");
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe && self.path.is_none() => {
                    // Nobody reads standard output any more.
                    std::process::exit(0);
                }
                Err(e) => {
                    if !self.failing {
                        self.failing = true;
                        let name = self
                            .path
                            .as_ref()
                            .map_or("standard output".into(), |p| p.display().to_string());
                        eprintln!(
                            "auparse-fsaction: {name}: {e}; keeping changes in memory (up to {}) until it works again (SIGHUP reopens)",
                            self.max_pending
                        );
                    }
                    return;
                }
            }
        }
    }
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

/// Renders changes as log lines.
struct Plugin {
    args: Args,
    tracker: FsTracker,
    sink: Sink,
    paths: Vec<Vec<u8>>,
    reopen: Arc<AtomicBool>,
    events: VecDeque<Event>,
    /// Since when changes have been waiting for their directory.
    pending_since: Option<Instant>,
}

impl Plugin {
    fn wanted_event(&self, ev: &Event) -> bool {
        self.args.keys.is_empty()
            || ev
                .keys
                .iter()
                .any(|k| self.args.keys.iter().any(|want| k[..] == *want.as_bytes()))
    }

    fn wanted_change(&self, c: &FsChange) -> bool {
        if !c.success && !self.args.include_failed {
            return false;
        }
        // A change whose directory could not be known is never dropped: its
        // path is the name as the record gives it.
        if self.paths.is_empty() || !c.dir_known {
            return true;
        }
        let under = |p: &[u8]| {
            self.paths.iter().any(|d| {
                p.starts_with(d)
                    && (p.len() == d.len() || p[d.len()] == b'/' || d.last() == Some(&b'/'))
            })
        };
        under(&c.path) || c.old_path.as_deref().is_some_and(under)
    }

    fn line(&self, c: &FsChange) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        match self.args.format {
            LogFormat::Text => {
                let _ = write!(out, "{:<30}: ", c.action);
                if let Some(old) = &c.old_path {
                    write_escaped(&mut out, old);
                    // An exchange leaves both names in place.
                    out.extend_from_slice(if c.kind == ChangeKind::Exchanged {
                        b" <-> "
                    } else {
                        b" -> "
                    });
                }
                write_escaped(&mut out, &c.path);
                if let Some(t) = &c.target {
                    out.extend_from_slice(b" -> ");
                    write_escaped(&mut out, t);
                }
                if !c.success {
                    out.extend_from_slice(b" (failed)");
                }
                if !c.dir_known {
                    // A path whose directory could not be known: the name
                    // as the record gives it.
                    out.extend_from_slice(b" (directory unknown)");
                }
                if !c.complete {
                    // The input ended inside the event (SIGTERM in a burst,
                    // a cut stream): classified from the records that came.
                    out.extend_from_slice(b" (incomplete event)");
                }
                out.push(b'\n');
            }
            LogFormat::Json => {
                let ev = self.events.iter().rev().find(|e| e.serial == c.serial);
                json_line(c, ev, &mut out);
            }
        }
        out
    }

    fn emit(&mut self, changes: Vec<FsChange>) {
        for c in changes {
            if self.wanted_change(&c) {
                let line = self.line(&c);
                self.sink.push(line);
            }
        }
    }

    fn check_signals(&mut self) {
        if self.reopen.swap(false, Ordering::Relaxed) {
            self.sink.reopen();
        }
    }
}

/// A change as one JSON object: the change, plus who did it.
fn json_line(c: &FsChange, ev: Option<&Event>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"time\":");
    write_str(
        out,
        rfc3339(c.timestamp.sec, c.timestamp.milli, false).as_bytes(),
    );
    let _ = write!(out, ",\"serial\":{},\"change\":", c.serial);
    write_str(out, c.kind.as_str().as_bytes());
    out.push(b',');
    write_change_fields(c, out);
    let sys = ev.and_then(|e| e.record(RecordType::SYSCALL));
    let raw = |n: &str| sys.and_then(|r| r.field(n)).map(|f| &f.raw[..]);
    let interp = |n: &str| sys.and_then(|r| r.field(n)).map(|f| &f.interpreted[..]);
    for (name, field) in [("uid", "uid"), ("auid", "auid")] {
        let _ = write!(out, ",\"{name}\":");
        match raw(field).and_then(|r| std::str::from_utf8(r).ok()?.parse::<u64>().ok()) {
            Some(n) => {
                let _ = write!(out, "{n}");
            }
            None => out.extend_from_slice(b"null"),
        }
        let _ = write!(out, ",\"{name}_name\":");
        write_opt(out, interp(field));
    }
    out.extend_from_slice(b",\"pid\":");
    match raw("pid").and_then(|r| std::str::from_utf8(r).ok()?.parse::<u64>().ok()) {
        Some(n) => {
            let _ = write!(out, "{n}");
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"exe\":");
    write_opt(out, interp("exe"));
    out.extend_from_slice(b",\"comm\":");
    write_opt(out, interp("comm"));
    out.extend_from_slice(b",\"key\":");
    write_opt(out, ev.and_then(|e| e.keys.first()).map(|k| &k[..]));
    write_change_outcome(c, out);
    out.extend_from_slice(b"}\n");
}

impl Handler for Plugin {
    fn events(&mut self, batch: &mut Vec<Event>) -> CmdResult {
        for ev in batch.drain(..) {
            if !self.wanted_event(&ev) {
                continue;
            }
            let changes = self.tracker.changes(&ev);
            if self.args.format == LogFormat::Json {
                self.events.push_back(ev);
                while self.events.len() > 4096 {
                    self.events.pop_front();
                }
            }
            self.emit(changes);
        }
        if self.tracker.pending() == 0 {
            self.events.clear();
            self.pending_since = None;
        } else if self.pending_since.is_none() {
            self.pending_since = Some(Instant::now());
        }
        self.check_signals();
        Ok(())
    }

    fn idle(&mut self) -> CmdResult {
        self.check_signals();
        // Held-back dirfd-relative changes: log time stops when the input is
        // quiet, so release them by the wall clock too, once they have
        // waited a second.
        if self
            .pending_since
            .is_some_and(|t| t.elapsed() >= Duration::from_secs(1))
        {
            let late = self.tracker.flush();
            self.emit(late);
            self.pending_since = None;
        }
        self.sink.drain();
        Ok(())
    }

    fn end(&mut self) -> CmdResult {
        let late = self.tracker.flush();
        self.emit(late);
        self.sink.drain();
        if !self.sink.backlog.is_empty() {
            return Err(Fatal(format!(
                "{} change(s) could not be written",
                self.sink.backlog.len()
            )));
        }
        Ok(())
    }
}

/// The directory of this program's binaries.
fn plugin_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/usr/local/bin/auparse"));
    exe.with_file_name("auparse-fsaction")
}

fn print_config(args: &Args) -> CmdResult {
    let watch = args
        .watch
        .as_ref()
        .ok_or_else(|| Fatal("--print-config needs --watch DIR".into()))?;
    let watch =
        std::path::absolute(watch).map_err(|e| Fatal(format!("{}: {e}", watch.display())))?;
    let key = args
        .keys
        .first()
        .cloned()
        .unwrap_or_else(|| "fsaction".into());
    let output = if args.output == Path::new("-") {
        PathBuf::from("/var/log/auparse-fsaction.log")
    } else {
        args.output.clone()
    };
    let bin = plugin_binary();
    let simple = args.keys.len() <= 1
        && args.paths.is_empty()
        && args.format == LogFormat::Text
        && !args.include_failed
        && args.eoe_timeout.is_none()
        && args.mode == 0o600
        && !output.to_string_lossy().contains(char::is_whitespace);
    let conf_path = PathBuf::from("/etc/audit/auparse-fsaction.conf");
    let mut s = String::new();
    s += &format!("# 1. Audit rule: /etc/audit/rules.d/auparse-fsaction.rules (load with: augenrules --load)\n-w {} -p wa -k {key}\n\n", watch.display());
    s += "# 2. auditd plugin: /etc/audit/plugins.d/auparse-fsaction.conf (then: systemctl restart auditd)\n";
    s += &format!(
        "active = yes\ndirection = out\npath = {}\ntype = always\n",
        bin.display()
    );
    if simple {
        s += &format!("args = {} {key}\n", output.display());
    } else {
        s += &format!("args = --config {}\n", conf_path.display());
    }
    s += "format = string\n\n";
    if !simple {
        s += &format!("# 2b. Plugin options: {}\n", conf_path.display());
        s += &format!("output = {}\n", output.display());
        for k in if args.keys.is_empty() {
            vec![key.clone()]
        } else {
            args.keys.clone()
        } {
            s += &format!("key = {k}\n");
        }
        for p in &args.paths {
            s += &format!("path = {}\n", p.display());
        }
        s += &format!(
            "format = {}\ninclude-failed = {}\nmode = {:o}\n",
            if args.format == LogFormat::Json {
                "json"
            } else {
                "text"
            },
            if args.include_failed { "yes" } else { "no" },
            args.mode
        );
        if let Some(t) = args.eoe_timeout {
            s += &format!("eoe-timeout = {t}\n");
        }
        s += "\n";
    }
    s += &format!(
        "# 3. Log rotation: /etc/logrotate.d/auparse-fsaction\n{} {{\n    weekly\n    rotate 4\n    compress\n    delaycompress\n    missingok\n    notifempty\n    postrotate\n        pkill -HUP -f '^{}' || true\n    endscript\n}}\n",
        output.display(),
        bin.display()
    );
    let mut out = io::stdout().lock();
    out.write_all(s.as_bytes())
        .map_err(crate::output::closed_pipe_or)
}

/// Runs the plugin.
///
/// # Errors
/// A one-line message: bad options or an output that cannot be opened at
/// start. Bad input is never fatal.
pub fn run(mut args: Args) -> CmdResult {
    if let Some(c) = args.config.clone() {
        apply_config(&mut args, &c)?;
    }
    if args.print_config {
        return print_config(&args);
    }
    // auditd starts plugins with SIGPIPE ignored or not; make a closed
    // stdout an error we handle, not a silent death.
    let reopen = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGHUP, signal_hook::consts::SIGUSR1] {
        signal_hook::flag::register(sig, reopen.clone())
            .map_err(|e| Fatal(format!("signal setup: {e}")))?;
    }
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, stop.clone())
            .map_err(|e| Fatal(format!("signal setup: {e}")))?;
    }
    let sink = Sink::new(&args.output, args.mode, args.max_pending)?;
    let mut feeder = Feeder::new().map_err(|e| Fatal(e.to_string()))?;
    if let Some(t) = args.eoe_timeout {
        feeder.set_eoe_timeout(t);
    }
    let paths = args
        .paths
        .iter()
        .map(|p| {
            let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
            join_normalize(None, abs.as_os_str().as_encoded_bytes())
        })
        .collect();
    let sources: Vec<Source> = args.inputs.iter().map(|f| Source::from_arg(f)).collect();
    let mut tracker = FsTracker::default();
    if args.live && !args.paths.is_empty() {
        tracker.set_host_roots(
            args.paths
                .iter()
                .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
                .collect(),
        );
    } else if args.live {
        // The directories of the loaded `-w` rules of our keys, asked when a
        // walk is due (rules are loaded after auditd starts its plugins).
        let keys = args.keys.clone();
        tracker.set_host_roots_from(move || crate::rules::watched_paths(&keys).unwrap_or_default());
    }
    let mut plugin = Plugin {
        args,
        tracker,
        sink,
        paths,
        reopen,
        events: VecDeque::new(),
        pending_since: None,
    };
    let opts = ReadOptions {
        follow: false,
        poll_interval: Duration::from_millis(250),
        progress: false,
        stop: Some(stop),
        event: auparse::EventOptions::default(),
        // auditd writes each record in its own write(2): read them in
        // batches (5 ms of them) rather than waking for each one.
        coalesce: Duration::from_millis(5),
        // Read auditd's stream ahead of the handling, so that auditd's own
        // queue does not fill (and drop records) while an event is handled.
        read_ahead: 256 << 20,
    };
    input::run(&sources, &mut feeder, &mut plugin, &opts)
}

/// `auparse-fsaction LOGFILE [KEY]` or `auparse-fsaction --config FILE`
/// (auditd passes a plugin at most two words).
///
/// # Errors
/// A usage message.
pub fn args_from_plugin_argv(argv: &[OsString]) -> Result<Args, Fatal> {
    let usage = "usage: auparse-fsaction LOGFILE [KEY] | auparse-fsaction --config FILE  (LOGFILE '-' is standard output)";
    // The plugin binary runs under auditd: the events are this host's, now.
    let mut args = Args {
        live: true,
        ..Args::default()
    };
    match argv {
        [flag, file] if flag == "--config" => args.config = Some(PathBuf::from(file)),
        [flag] if flag == "--help" || flag == "-h" => {
            println!(
                "{usage}\nSee `auparse fsaction --help` for the options a config file may set."
            );
            std::process::exit(0);
        }
        [flag] if flag == "--version" || flag == "-V" => {
            println!("auparse-fsaction {}", env!("CARGO_PKG_VERSION"));
            std::process::exit(0);
        }
        [log] if !log.to_string_lossy().starts_with("--") => args.output = PathBuf::from(log),
        [log, key] if !log.to_string_lossy().starts_with("--") => {
            args.output = PathBuf::from(log);
            args.keys.push(key.to_string_lossy().into_owned());
        }
        _ => return Err(Fatal(usage.into())),
    }
    Ok(args)
}
