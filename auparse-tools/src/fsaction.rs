//! `auparse fsaction` / `auparse-fsaction`: an auditd plugin that writes one
//! line per filesystem change in watched directories.
//!
//! Input is the audispd plugin stream (`format = string`, with EOE records) on
//! standard input, or files / `ausearch --raw` output. Output is appended to a
//! file (created 0600, never through a symlink) or standard output; SIGHUP and
//! SIGUSR1 reopen it (logrotate), SIGTERM writes what is pending and exits 0.
//! The output file's survival (deleted, moved, unopenable) is in
//! [`crate::sink`]; problem reports go to the system log ([`crate::syslog`]).

use crate::input::{self, Handler, ReadOptions, Source};
use crate::sink::Sink;
use crate::{CmdResult, Fatal};
use auparse::format::json::write_change_line;
use auparse::format::pretty::write_escaped;
use auparse::{ChangeKind, Event, Feeder, FsChange, FsTracker, Grouping};
use clap::{Args as ClapArgs, Parser, ValueEnum};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{self, Write as _};
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
key and path may repeat; a line starting with `#` is a comment.";

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
    /// oldest are dropped (counted in the system log and on stderr).
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub max_pending: usize,
    /// Read options from FILE (`option = value` lines; see below).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the audit rule, the auditd plugin conf, a logrotate snippet and
    /// auditd.conf settings for --watch DIR, then exit.
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
        // As auditd's own conf parsers: a `#` starts a comment only as the
        // first thing on the line; elsewhere it is part of the value.
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
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
                        .ok()
                        .filter(|&t: &u32| t >= 1)
                        .ok_or_else(|| bad("eoe-timeout: expected seconds, at least 1"))?,
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

/// Renders changes as log lines.
struct Plugin {
    args: Args,
    tracker: FsTracker,
    sink: Sink,
    /// The `--path` directories, absolute.
    paths: Vec<PathBuf>,
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
        self.paths.iter().any(|d| c.is_under(d))
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
                write_change_line(c, ev, &mut out);
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
        self.sink.tick();
        Ok(())
    }

    fn end(&mut self) -> CmdResult {
        let late = self.tracker.flush();
        self.emit(late);
        self.sink.finish();
        if self.sink.pending() > 0 {
            return Err(Fatal(format!(
                "{} change(s) could not be written",
                self.sink.pending()
            )));
        }
        Ok(())
    }
}

/// Where the Debian package (`cargo xtask deb`) installs the plugin binary.
pub const INSTALLED_PLUGIN: &str = "/usr/sbin/auparse-fsaction";

/// The change log of the packaged plugin conf and of `--print-config`
/// without `--output`.
pub const DEFAULT_OUTPUT: &str = "/var/log/auparse-fsaction.log";

/// The rule key of the packaged plugin conf and of `--print-config`
/// without `--key`.
pub const DEFAULT_KEY: &str = "fsaction";

/// The plugin binary a printed conf should name, and why that one.
///
/// The installed plugin ([`INSTALLED_PLUGIN`]) when it is what runs or
/// exists; otherwise the `auparse-fsaction` next to the running program (a
/// build tree, or `cargo install`), said plainly.
fn plugin_binary() -> (PathBuf, String) {
    let installed = Path::new(INSTALLED_PLUGIN);
    let exe = std::env::current_exe().ok();
    let shown = |p: &Option<PathBuf>| {
        p.as_ref()
            .map_or("an unknown path".into(), |p| p.display().to_string())
    };
    if exe.as_deref() == Some(installed) {
        return (
            installed.into(),
            "the installed plugin (this program)".into(),
        );
    }
    if installed.is_file() {
        let why = if exe.as_deref() == Some(Path::new("/usr/bin/auparse")) {
            "the installed plugin (package auparse)".into()
        } else {
            format!(
                "the installed plugin (package auparse), not the program that printed this ({})",
                shown(&exe)
            )
        };
        return (installed.into(), why);
    }
    let sibling = exe
        .as_ref()
        .map(|e| e.with_file_name("auparse-fsaction"))
        .filter(|s| s.is_file());
    match sibling {
        Some(s) => {
            let why = format!(
                "{INSTALLED_PLUGIN} does not exist, so this is the auparse-fsaction next to the program that printed this ({}), e.g. a build tree: install the Debian package (README: Installing it as a plugin) and print this again",
                shown(&exe)
            );
            (s, why)
        }
        None => (
            installed.into(),
            format!(
                "where the Debian package installs it; it does not exist yet (nor next to {})",
                shown(&exe)
            ),
        ),
    }
}

/// `text` as `#` comment lines of at most 78 columns (a longer word, e.g. a
/// path, gets a line of its own).
fn comment(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() > 1 && line.len() + 1 + word.len() > 78 {
            out += &line;
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line += word;
    }
    out += &line;
    out.push('\n');
    out
}

/// The audit rule that feeds the plugin changes under `watch`.
pub fn audit_rule(watch: &Path, key: &str) -> String {
    format!("-w {} -p wa -k {key}\n", watch.display())
}

/// An auditd plugin conf (`/etc/audit/plugins.d/auparse-fsaction.conf`)
/// that runs `bin` with `args` (at most two words: auditd 3.0.9 refuses more).
pub fn plugin_conf(bin: &Path, args: &str, active: bool) -> String {
    format!(
        "active = {}\ndirection = out\npath = {}\ntype = always\nargs = {args}\nformat = string\n",
        if active { "yes" } else { "no" },
        bin.display()
    )
}

/// A logrotate snippet (`/etc/logrotate.d/auparse-fsaction`) for `output`:
/// the plugin `bin` reopens its output on SIGHUP.
pub fn logrotate_conf(output: &Path, bin: &Path) -> String {
    format!(
        "{} {{\n    weekly\n    rotate 4\n    compress\n    delaycompress\n    missingok\n    notifempty\n    postrotate\n        pkill -HUP -f '^{}' || true\n    endscript\n}}\n",
        output.display(),
        bin.display()
    )
}

/// The auditd.conf settings for a busy tree, as comment lines.
const AUDITD_CONF_ADVICE: &str = "\
# 4. For a busy tree, in /etc/audit/auditd.conf (then restart auditd):
#    q_depth = 99999
#    overflow_action = SYSLOG
# q_depth is the size of the queue of auditd's event dispatcher towards its
# plugins (default 2000, at most 99999): when a burst of events outgrows it,
# auditd loses events. Two processes changing 80,000 files at once used up
# to 46,000 places here; a place costs auditd about 4 KB only while used. overflow_action is what auditd does then:
# SYSLOG (as Debian ships it) logs a warning, so that the loss is seen;
# IGNORE does nothing; SUSPEND stops sending events to the plugins; SINGLE
# and HALT put the system in single-user mode or shut it down. See
# auditd.conf(5).
#    end_of_event_timeout = 10
# Under such a burst the kernel can hold back the last records of one
# event for seconds (the writing process waits in the kernel's audit
# backlog). An event whose records lie further apart than this timeout
# (seconds of log time; default 2) is cut in two, and its change is not
# seen: 1 of 80,000 changes in some test runs with 2. A longer timeout
# delays only events that lost a record, and holds the newer ones in
# memory meanwhile (as raw lines); ausearch and aureport read it too.
";

fn print_config(args: &Args) -> CmdResult {
    let watch = args
        .watch
        .as_ref()
        .ok_or_else(|| Fatal("--print-config needs --watch DIR".into()))?;
    if let Some(input) = args.inputs.first() {
        return Err(Fatal(format!(
            "--print-config reads no input: for the directory to watch, use --watch {}",
            Path::new(input).display()
        )));
    }
    let watch =
        std::path::absolute(watch).map_err(|e| Fatal(format!("{}: {e}", watch.display())))?;
    let key = args
        .keys
        .first()
        .cloned()
        .unwrap_or_else(|| DEFAULT_KEY.into());
    let output = if args.output == Path::new("-") {
        PathBuf::from(DEFAULT_OUTPUT)
    } else {
        args.output.clone()
    };
    let (bin, why) = plugin_binary();
    let simple = args.keys.len() <= 1
        && args.paths.is_empty()
        && args.format == LogFormat::Text
        && !args.include_failed
        && args.eoe_timeout.is_none()
        && args.mode == 0o600
        && !output.to_string_lossy().contains(char::is_whitespace);
    let conf_path = PathBuf::from("/etc/audit/auparse-fsaction.conf");
    let mut s = String::new();
    s += "# 1. Audit rule: /etc/audit/rules.d/auparse-fsaction.rules (load with: augenrules --load)\n";
    s += &audit_rule(&watch, &key);
    s += "\n# 2. auditd plugin: /etc/audit/plugins.d/auparse-fsaction.conf (then: service auditd restart)\n";
    s += &comment(&format!("path: {why}."));
    let plugin_args = if simple {
        format!("{} {key}", output.display())
    } else {
        format!("--config {}", conf_path.display())
    };
    s += &plugin_conf(&bin, &plugin_args, true);
    s += "\n";
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
    s += "# 3. Log rotation: /etc/logrotate.d/auparse-fsaction\n";
    s += &logrotate_conf(&output, &bin);
    s += "\n";
    s += AUDITD_CONF_ADVICE;
    let mut out = io::stdout().lock();
    out.write_all(s.as_bytes())
        .map_err(crate::output::closed_pipe_or)
}

/// Runs the plugin.
///
/// # Errors
/// A one-line message: bad options or an output that cannot be opened at
/// start. Bad input is never fatal. The message also goes to the system log
/// (see [`crate::syslog`]); the caller prints it on stderr.
pub fn run(args: Args) -> CmdResult {
    let r = run_plugin(args);
    if let Err(e) = &r {
        crate::syslog::send(crate::syslog::Severity::Err, &e.0);
    }
    r
}

fn run_plugin(mut args: Args) -> CmdResult {
    if let Some(c) = args.config.clone() {
        apply_config(&mut args, &c)?;
    }
    if args.print_config {
        return print_config(&args);
    }
    // SIGPIPE needs nothing here: Rust's runtime sets it to ignored before
    // main, whatever auditd left, so a closed stdout is an EPIPE write error
    // that the Sink handles, not a silent death. SIGHUP/SIGUSR1 reopen the
    // output, SIGTERM/SIGINT end the input.
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
    // libauparse's events and order, grouped in Rust: libauparse's own
    // grouping rescans every event it holds for each record, and under a
    // burst (one event's last records late, every newer event held behind
    // it) the plugin then handled records more slowly than the kernel made
    // them, so they piled up in memory (issue 11).
    feeder.set_grouping(Grouping::Indexed);
    if let Some(t) = args.eoe_timeout {
        feeder.set_eoe_timeout(t);
    }
    let paths = args
        .paths
        .iter()
        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
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

const PLUGIN_AFTER_HELP: &str = "\
auditd passes a plugin at most two words of `args`, hence LOGFILE [KEY] or
--config FILE. The plugin reads auditd's event stream (`format = string`) on
standard input and always runs in --live mode: the events are this host's, now.
SIGHUP and SIGUSR1 reopen LOGFILE (logrotate); SIGTERM writes what is pending
and exits 0.

Files (Debian package):
  /etc/audit/plugins.d/auparse-fsaction.conf (shipped with active = no)
  /usr/share/doc/auparse/examples/auparse-fsaction.rules (a sample rule)
  /etc/logrotate.d/auparse-fsaction (rotates /var/log/auparse-fsaction.log)

Example:
  auparse-fsaction --print-config --watch /srv/data";

/// auditd plugin that logs each filesystem change in watched directories.
///
/// Run by auditd (see /etc/audit/plugins.d/auparse-fsaction.conf), it reads
/// auditd's event stream on standard input and appends one line per change
/// (created, modified, deleted, renamed, ...) under the directories watched
/// by `-w DIR -p wa -k KEY` audit rules to LOGFILE. `auparse fsaction` is the
/// same program for audit logs and `ausearch --raw` output.
#[derive(Debug, Parser)]
#[command(
    name = "auparse-fsaction",
    bin_name = "auparse-fsaction",
    version,
    after_help = PLUGIN_AFTER_HELP,
    max_term_width = 100,
    override_usage = "auparse-fsaction LOGFILE [KEY]\n       auparse-fsaction --config FILE\n       auparse-fsaction --print-config --watch DIR [OPTION]..."
)]
pub struct PluginCli {
    /// Append the change log to LOGFILE (created mode 0600, never through a
    /// symlink); `-` is standard output.
    #[arg(value_name = "LOGFILE", required_unless_present_any = ["config", "print_config"])]
    pub logfile: Option<PathBuf>,
    /// Only events with this rule key (exact match on any of the event's keys).
    #[arg(value_name = "KEY", requires = "logfile")]
    pub key: Option<String>,
    /// Read the options from FILE: one `option = value` per line, named like
    /// the long options of `auparse fsaction` (output, key, path, format,
    /// include-failed, live, eoe-timeout, mode, max-pending); key and path may
    /// repeat; `#` starts a comment.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["logfile", "key"])]
    pub config: Option<PathBuf>,
    /// Print the audit rule, the plugin conf (naming the installed plugin,
    /// /usr/sbin/auparse-fsaction, when it exists), a logrotate snippet and
    /// auditd.conf settings for --watch DIR, then exit. The options after it
    /// are those of `auparse fsaction`: --watch DIR, -o/--output PATH,
    /// -k/--key KEY, -p/--path DIR, --format, --include-failed,
    /// --eoe-timeout, --mode.
    #[arg(
        long,
        value_name = "OPTION",
        num_args = 0..,
        allow_hyphen_values = true,
        conflicts_with_all = ["logfile", "key", "config"]
    )]
    pub print_config: Option<Vec<OsString>>,
}

/// `auparse-fsaction --print-config OPTION...`: the options of `auparse fsaction`.
#[derive(Debug, Parser)]
#[command(
    name = "auparse-fsaction --print-config",
    bin_name = "auparse-fsaction",
    no_binary_name = true
)]
struct PrintConfigCli {
    #[command(flatten)]
    args: Args,
}

/// The arguments of the `auparse-fsaction` binary: `LOGFILE [KEY]`,
/// `--config FILE` (auditd passes a plugin at most two words) or
/// `--print-config OPTION...`. Help, version and usage errors are printed by
/// clap, which exits (0 for help and version, 2 for a usage error).
///
/// # Errors
/// None today; the `Result` is for callers that chain [`run`].
pub fn args_from_plugin_argv(argv: &[OsString]) -> Result<Args, Fatal> {
    let cli = PluginCli::try_parse_from(
        std::iter::once(OsString::from("auparse-fsaction")).chain(argv.iter().cloned()),
    )
    .unwrap_or_else(|e| e.exit());
    if let Some(rest) = cli.print_config {
        let inner = PrintConfigCli::try_parse_from(
            std::iter::once(OsString::from("--print-config")).chain(rest),
        )
        .unwrap_or_else(|e| e.exit());
        return Ok(inner.args);
    }
    // The plugin binary runs under auditd: the events are this host's, now.
    let mut args = Args {
        live: true,
        config: cli.config,
        ..Args::default()
    };
    if let Some(log) = cli.logfile {
        args.output = log;
    }
    args.keys.extend(cli.key);
    Ok(args)
}
