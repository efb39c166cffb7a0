//! Opt-in end-to-end tests of the `auparse-fsaction` plugin under a real
//! auditd (issues 4 and 6).
//!
//! They run only as root with `AUPARSE_LIVE_TESTS=1` (`.ci/run` does this):
//!
//! ```text
//! sudo AUPARSE_LIVE_TESTS=1 cargo test -p auparse-tools --test live_auditd -- --nocapture
//! ```
//!
//! Each test starts a private `auditd -n -c WORK` (WORK a fresh temporary
//! directory holding its auditd.conf, RAW log and plugin dir; nothing under
//! /etc/audit is read or written) whose one plugin runs the built
//! `auparse-fsaction OUTPUT KEY` with `format = string`, adds
//! `auditctl -w WORK/w -p wa -k KEY`, changes files in WORK/w, and checks what
//! the plugin wrote. The plugin is started through a small generated `sh`
//! wrapper that only forwards signals and records the plugin's pid and exit
//! status (auditd reaps its children, so the status is not visible otherwise),
//! and points the plugin's system log at WORK/syslog.sock
//! (`AUPARSE_SYSLOG_SOCKET`), a socket the test binds and reads.
//!
//! They refuse to run (and pass, with a message) when an auditd is already
//! running, a daemon is registered with the kernel, the audit configuration
//! is locked, or any audit rule is loaded. Whatever happens (assertion
//! failure, panic, SIGINT/SIGTERM/SIGHUP of the test process), they delete
//! their rule, restore the kernel's backlog settings and `enabled` flag, stop
//! their auditd and the plugin by pid, and remove WORK
//! (`AUPARSE_LIVE_KEEP=1` keeps WORK for debugging). Only a SIGKILL of the
//! test process can leave something behind.
//!
//! `AUPARSE_FSACTION_BIN=/usr/sbin/auparse-fsaction` runs an installed plugin
//! instead of the built one, and `AUPARSE_FSACTION_CONF=FILE` takes the
//! plugin conf from FILE (the Debian package's
//! /etc/audit/plugins.d/auparse-fsaction.conf) with its `active`, `path` and
//! `args` lines set as the test needs (its `path` must be the plugin under
//! test): `.ci/package` runs these tests against the installed package.
//!
//! - `fsaction_plugin_under_auditd` (issue 4): a scripted list of operations
//!   covering every change kind, with relative, absolute and dirfd-relative
//!   paths and odd names, 1,000 files created and deleted, and a logrotate
//!   style rotation (rename + SIGHUP) midway; the exact list of change lines
//!   across both files, their mode, the latency of each change and the
//!   plugin's exit status on SIGTERM.
//! - `fsaction_plugin_loses_nothing_under_load` (issue 6): 20,000 file
//!   operations as fast as a Rust loop makes them; every change that
//!   `ausearch -k KEY` shows in the private audit log is in the plugin's log.
//! - issue 11, the output survives with no SIGHUP: `fsaction_output_*` (the
//!   file deleted, renamed, its directory removed and recreated, a directory
//!   in its place, in the middle of 900 changes; 0 lost, 0 doubled, the
//!   problem in the plugin's system log while its stderr is /dev/null) and
//!   `fsaction_reports_reach_a_real_rsyslogd` (when rsyslogd is installed).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, Once, PoisonError};
use std::time::{Duration, Instant};

#[path = "support/syslog_socket.rs"]
mod syslog_socket;

use syslog_socket::SyslogSocket;

/// The plugin under test: the one this `cargo test` built, or
/// `AUPARSE_FSACTION_BIN` (.ci/package sets the Debian package's
/// /usr/sbin/auparse-fsaction).
fn plugin_bin() -> PathBuf {
    std::env::var_os("AUPARSE_FSACTION_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_auparse-fsaction")),
        PathBuf::from,
    )
}

/// The auditd plugin conf of a test: `active`, `path` (the wrapper) and
/// `args` as the test needs them. With `AUPARSE_FSACTION_CONF` (.ci/package
/// sets the package's /etc/audit/plugins.d/auparse-fsaction.conf), that file
/// with those three lines replaced and every other line kept, after checking
/// that its `path` is the plugin under test.
fn plugin_conf(wrapper: &Path, args: &str) -> String {
    let Some(file) = std::env::var_os("AUPARSE_FSACTION_CONF") else {
        return format!(
            "active = yes\ndirection = out\npath = {}\ntype = always\nargs = {args}\nformat = string\n",
            wrapper.display()
        );
    };
    let text = fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("AUPARSE_FSACTION_CONF {}: {e}", Path::new(&file).display()));
    let mut out = String::new();
    let mut replaced = BTreeSet::new();
    for line in text.lines() {
        let (key, value) = line.split_once('=').unwrap_or((line, ""));
        let (key, value) = (key.trim(), value.trim());
        let line = match key {
            "active" => "active = yes".to_string(),
            "path" => {
                assert_eq!(
                    Path::new(value),
                    plugin_bin(),
                    "the path of AUPARSE_FSACTION_CONF is not the plugin under test"
                );
                format!("path = {}", wrapper.display())
            }
            "args" => format!("args = {args}"),
            _ => line.to_string(),
        };
        replaced.insert(key.to_string());
        out += &line;
        out.push('\n');
    }
    for key in ["active", "direction", "path", "type", "args", "format"] {
        assert!(
            replaced.contains(key),
            "AUPARSE_FSACTION_CONF has no `{key}` line:\n{text}"
        );
    }
    out
}

/// How long a change may take to appear in the plugin's output. The plugin
/// promises 2 s; the bound allows for a loaded machine.
const LATENCY_BOUND: Duration = Duration::from_secs(5);

/// The tests of this file never run at the same time.
static SERIAL: Mutex<()> = Mutex::new(());

/// What must be undone; taken (and undone) by [`cleanup_now`] from the
/// test's guard, or from the signal thread.
static CLEANUP: Mutex<Option<Cleanup>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

// ------------------------------------------------------------ preflight ----

#[derive(Clone)]
struct Tools {
    auditd: PathBuf,
    auditctl: PathBuf,
    ausearch: PathBuf,
}

fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Runs a command to completion; panics with its stderr when it fails.
fn run(prog: &Path, args: &[&str]) -> String {
    let out = Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", prog.display()));
    assert!(
        out.status.success(),
        "{} {:?}: {}\n{}{}",
        prog.display(),
        args,
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `auditctl -s` as name -> value.
fn audit_status(auditctl: &Path) -> Result<HashMap<String, String>, String> {
    let out = Command::new(auditctl)
        .arg("-s")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("auditctl -s: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "auditctl -s: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().to_string()))
        })
        .collect())
}

fn audit_rules(auditctl: &Path) -> String {
    run(auditctl, &["-l"]).trim().to_string()
}

/// Pids of processes named `auditd`.
fn running_auditds() -> Vec<u32> {
    let mut pids = Vec::new();
    for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "auditd") {
            pids.push(pid);
        }
    }
    pids
}

/// The tools and the kernel's audit status, or `None` (after saying why)
/// when the test must not run here.
fn preflight(test: &str) -> Option<(Tools, HashMap<String, String>)> {
    let skip = |why: &str| {
        eprintln!("{test}: SKIPPED: {why}");
        None
    };
    if std::env::var("AUPARSE_LIVE_TESTS").as_deref() != Ok("1") {
        return skip(
            "opt-in live auditd test; run as root with AUPARSE_LIVE_TESTS=1 (it starts its own auditd)",
        );
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return skip("AUPARSE_LIVE_TESTS=1 but not running as root");
    }
    // Explicitly asked for: missing tools or kernel support are failures.
    let need = |name: &str| {
        find_tool(name).unwrap_or_else(|| {
            panic!(
                "{test}: AUPARSE_LIVE_TESTS=1 but `{name}` is not installed (apt-get install -y auditd attr)"
            )
        })
    };
    let tools = Tools {
        auditd: need("auditd"),
        auditctl: need("auditctl"),
        ausearch: need("ausearch"),
    };
    for t in ["bash", "setfattr", "setpriv", "perl", "mkfifo", "truncate"] {
        need(t);
    }
    let pids = running_auditds();
    if !pids.is_empty() {
        return skip(&format!(
            "an auditd is already running (pid {pids:?}); this test starts its own and will not disturb it (stop it first, e.g. systemctl stop auditd)"
        ));
    }
    let status = audit_status(&tools.auditctl).unwrap_or_else(|e| {
        panic!("{test}: AUPARSE_LIVE_TESTS=1 but kernel audit is not usable: {e}")
    });
    if status.get("enabled").map(String::as_str) == Some("2") {
        return skip("the kernel's audit configuration is locked (enabled 2)");
    }
    if status.get("pid").is_some_and(|p| p != "0") {
        return skip(&format!(
            "an audit daemon (pid {}) is registered with the kernel",
            status["pid"]
        ));
    }
    let rules = audit_rules(&tools.auditctl);
    if rules != "No rules" {
        return skip(&format!(
            "audit rules are loaded; this test adds and removes its own and will not run beside others:\n{rules}"
        ));
    }
    Some((tools, status))
}

// -------------------------------------------------------------- cleanup ----

/// Everything a test changed, undone in [`Cleanup::run`].
struct Cleanup {
    auditctl: PathBuf,
    work: PathBuf,
    orig_enabled: String,
    /// Original `backlog_limit` and `backlog_wait_time`, once changed.
    orig_backlog: Option<(String, String)>,
    /// `auditctl -W` arguments deleting the rule, once added.
    rule: Option<Vec<String>>,
    auditd: Option<Child>,
}

impl Cleanup {
    /// Undoes everything, best effort; returns the problems met.
    fn run(mut self) -> Vec<String> {
        let mut problems = Vec::new();
        let auditctl = |args: &[String]| -> Result<(), String> {
            let out = Command::new(&self.auditctl)
                .args(args)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| e.to_string())?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "auditctl {args:?}: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
        };
        if let Some(rule) = self.rule.take() {
            if let Err(e) = auditctl(&rule) {
                problems.push(e);
            }
        }
        if let Some((limit, wait)) = self.orig_backlog.take() {
            let args = ["-b".into(), limit, "--backlog_wait_time".into(), wait];
            if let Err(e) = auditctl(&args) {
                problems.push(e);
            }
        }
        if let Some(child) = self.auditd.take() {
            if let Err(e) = stop_auditd(child) {
                problems.push(e);
            }
        }
        problems.extend(kill_leftover_plugin(&self.work));
        if let Err(e) = auditctl(&["-e".into(), self.orig_enabled.clone()]) {
            problems.push(e);
        }
        match audit_status(&self.auditctl) {
            Ok(s) => {
                if s.get("pid").is_some_and(|p| p != "0") {
                    problems.push(format!(
                        "an audit daemon is still registered: pid {}",
                        s["pid"]
                    ));
                }
                if s.get("enabled") != Some(&self.orig_enabled) {
                    problems.push(format!(
                        "enabled is {:?}, was {}",
                        s.get("enabled"),
                        self.orig_enabled
                    ));
                }
            }
            Err(e) => problems.push(e),
        }
        let rules = audit_rules(&self.auditctl);
        if rules != "No rules" {
            problems.push(format!("rules left: {rules}"));
        }
        if std::env::var("AUPARSE_LIVE_KEEP").as_deref() == Ok("1") {
            eprintln!(
                "live_auditd: AUPARSE_LIVE_KEEP=1: kept {}",
                self.work.display()
            );
        } else if let Err(e) = remove_dir_retrying(&self.work) {
            problems.push(format!("remove {}: {e}", self.work.display()));
        }
        problems
    }
}

/// Removes a directory tree; retries while the test's main thread may still
/// be creating files in it (cleanup from the signal thread).
fn remove_dir_retrying(dir: &Path) -> std::io::Result<()> {
    let mut tries = 0;
    loop {
        match fs::remove_dir_all(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(_) if tries < 50 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            r => return r,
        }
    }
}

fn send_signal(pid: u32, sig: i32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill has no memory-safety preconditions; pid is a positive pid
    // of a process this test started (never 0 or -1, which would signal a group).
    pid > 0 && unsafe { libc::kill(pid, sig) } == 0
}

/// SIGTERM (auditd stops its plugins, gives them 3 s, and exits), then
/// SIGKILL after 15 s.
fn stop_auditd(mut child: Child) -> Result<std::process::ExitStatus, String> {
    send_signal(child.id(), libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("auditd did not stop within 15 s of SIGTERM: killed".into());
            }
            Err(e) => return Err(format!("waiting for auditd: {e}")),
        }
    }
}

/// The wrapper and plugin pids recorded in WORK/plugin.pid.
fn plugin_pids(work: &Path) -> Option<(u32, u32)> {
    let text = fs::read_to_string(work.join("plugin.pid")).ok()?;
    let mut it = text.split_whitespace().map(|s| s.parse::<u32>().ok());
    let pids = (it.next()??, it.next()??);
    text.ends_with('\n').then_some(pids)
}

/// The command line of a live process, if it mentions `needle`.
fn cmdline_mentions(pid: u32, needle: &Path) -> bool {
    fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&*needle.to_string_lossy()))
}

/// Kills (by pid, after checking its command line names WORK) a wrapper or
/// plugin that outlived auditd.
fn kill_leftover_plugin(work: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let Some((wrapper, plugin)) = plugin_pids(work) else {
        return problems;
    };
    for pid in [plugin, wrapper] {
        if cmdline_mentions(pid, work) {
            problems.push(format!("process {pid} outlived auditd: killed"));
            send_signal(pid, libc::SIGKILL);
            let deadline = Instant::now() + Duration::from_secs(5);
            while cmdline_mentions(pid, work) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    problems
}

/// Runs the registered cleanup (holding the lock, so that a signal arriving
/// meanwhile waits for it to finish).
fn cleanup_now() -> Vec<String> {
    let mut slot = lock(&CLEANUP);
    match slot.take() {
        Some(c) => c.run(),
        None => Vec::new(),
    }
}

fn with_cleanup<R>(f: impl FnOnce(&mut Cleanup) -> R) -> R {
    f(lock(&CLEANUP)
        .as_mut()
        .expect("cleanup registered by Live::start"))
}

/// SIGINT/SIGTERM/SIGHUP of the test process: clean up, then exit.
fn install_signal_cleanup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            Ok(mut signals) => {
                std::thread::spawn(move || {
                    if let Some(sig) = signals.forever().next() {
                        eprintln!("live_auditd: signal {sig}: cleaning up");
                        for p in cleanup_now() {
                            eprintln!("live_auditd: cleanup: {p}");
                        }
                        std::process::exit(128 + sig);
                    }
                });
            }
            Err(e) => eprintln!("live_auditd: no signal cleanup: {e}"),
        }
    });
}

/// Cleans up on drop (a failed assertion or panic unwinds through it).
struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        for p in cleanup_now() {
            eprintln!("live_auditd: cleanup: {p}");
        }
    }
}

// ------------------------------------------------------- private auditd ----

/// A running private auditd with the plugin, and the watched directory.
struct Live {
    tools: Tools,
    work: PathBuf,
    /// The watched directory, WORK/w.
    watch: PathBuf,
    /// An unwatched directory, WORK/outside.
    outside: PathBuf,
    /// The plugin's output file, WORK/out.log.
    output: PathBuf,
    key: String,
    plugin_pid: u32,
    /// The plugin's system log: the socket WORK/syslog.sock, named to it by
    /// AUPARSE_SYSLOG_SOCKET (set by the wrapper).
    syslog: SyslogSocket,
}

/// True if `dir` is on a file system mounted noexec.
fn noexec(dir: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: statvfs is plain old data, valid when zeroed.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` a valid, writable statvfs.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    rc == 0 && st.f_flag & libc::ST_NOEXEC != 0
}

/// Where WORK goes: /tmp, unless it is mounted noexec (auditd must execute
/// the wrapper there); then cargo's per-target temporary directory. The path
/// may not contain white space (auditd splits `args` on it).
fn work_base() -> PathBuf {
    let base = [Path::new("/tmp"), Path::new(env!("CARGO_TARGET_TMPDIR"))]
        .into_iter()
        .find(|d| !noexec(d))
        .expect("/tmp and the cargo target directory are both mounted noexec");
    assert!(
        !base.to_string_lossy().contains(char::is_whitespace),
        "{}: white space in the path of the work directory",
        base.display()
    );
    base.to_path_buf()
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if done() {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Live {
    /// Starts auditd with the plugin (registering everything for cleanup).
    /// The watch is not added yet: see [`Live::add_watch`].
    fn start(tools: Tools, status: &HashMap<String, String>, key: &str) -> Live {
        Self::start_with(tools, status, key, None)
    }

    /// [`Live::start`], with the plugin run as `auparse-fsaction --config
    /// WORK/fsaction.conf` when `plugin_extra` gives extra config lines
    /// (`output` and `key` are added; `{watch}` stands for WORK/w).
    fn start_with(
        tools: Tools,
        status: &HashMap<String, String>,
        key: &str,
        plugin_extra: Option<&str>,
    ) -> Live {
        Self::start_opts(tools, status, key, plugin_extra, "out.log", true)
    }

    /// auditd without our plugin (its conf is written with `active = no`;
    /// `plugin_pid` is 0) and with `cat >/dev/null` as a plugin instead: a
    /// plugin that reads auditd's stream and does nothing else. The benchmark's baseline: the same workload
    /// and audit traffic, and what reading the stream costs.
    fn start_with_cat_plugin(tools: Tools, status: &HashMap<String, String>, key: &str) -> Live {
        Self::start_opts(tools, status, key, None, "out.log", false)
    }

    /// [`Live::start_with`], with the output at WORK/`output` (its
    /// directory created first) and, when `plugin_active` is false, `cat`
    /// in the plugin's place ([`Live::start_with_cat_plugin`]).
    fn start_opts(
        tools: Tools,
        status: &HashMap<String, String>,
        key: &str,
        plugin_extra: Option<&str>,
        output: &str,
        plugin_active: bool,
    ) -> Live {
        let orig_enabled = status.get("enabled").cloned().unwrap_or_else(|| "0".into());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let work = work_base().join(format!("auparse-live.{}.{nanos:09}", std::process::id()));
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&work)
            .unwrap_or_else(|e| panic!("{}: {e}", work.display()));
        *lock(&CLEANUP) = Some(Cleanup {
            auditctl: tools.auditctl.clone(),
            work: work.clone(),
            orig_enabled,
            orig_backlog: None,
            rule: None,
            auditd: None,
        });
        install_signal_cleanup();

        let w = |p: &str| work.join(p);
        let syslog = SyslogSocket::bind(&w("syslog.sock"));
        fs::create_dir(w("plugins.d")).unwrap();
        fs::create_dir(w("w")).unwrap();
        fs::create_dir(w("outside")).unwrap();
        fs::set_permissions(w("w"), fs::Permissions::from_mode(0o755)).unwrap();
        let conf = format!(
            "local_events = yes\nwrite_logs = yes\nlog_file = {log}\nlog_format = RAW\n\
             log_group = root\nflush = INCREMENTAL_ASYNC\nfreq = 50\nmax_log_file = 1000\n\
             num_logs = 2\nmax_log_file_action = IGNORE\nspace_left = 2\n\
             space_left_action = IGNORE\nadmin_space_left = 1\nadmin_space_left_action = IGNORE\n\
             disk_full_action = IGNORE\ndisk_error_action = IGNORE\nname_format = NONE\n\
             plugin_dir = {plugins}\nq_depth = 99999\noverflow_action = SYSLOG\n\
             max_restarts = 10\nend_of_event_timeout = 2\n",
            log = w("audit.log").display(),
            plugins = w("plugins.d").display(),
        );
        // The wrapper only forwards signals and records the plugin's pid and
        // exit status; the plugin reads auditd's socket as its stdin and gets
        // the args exactly as auditd passes them. auditd runs plugins with an
        // empty environment: builtins only.
        let wrapper = format!(
            "#!/bin/sh\n\
             child=\n\
             trap 'kill -TERM $child 2>/dev/null' TERM\n\
             trap 'kill -INT $child 2>/dev/null' INT\n\
             trap 'kill -HUP $child 2>/dev/null' HUP\n\
             trap 'kill -USR1 $child 2>/dev/null' USR1\n\
             exec 3<&0\n\
             AUPARSE_SYSLOG_SOCKET='{work}/syslog.sock'\n\
             export AUPARSE_SYSLOG_SOCKET\n\
             '{plugin}' \"$@\" <&3 3<&- &\n\
             child=$!\n\
             exec 3<&-\n\
             echo \"$$ $child\" >'{work}/plugin.pid'\n\
             while :; do\n\
             \x20   wait $child\n\
             \x20   rc=$?\n\
             \x20   kill -0 $child 2>/dev/null || break\n\
             done\n\
             echo $rc >'{work}/plugin.status'\n",
            plugin = plugin_bin().display(),
            work = work.display(),
        );
        let output = w(output);
        fs::create_dir_all(output.parent().unwrap()).unwrap();
        let plugin_args = match plugin_extra {
            None => format!("{} {key}", output.display()),
            Some(extra) => {
                let text = format!(
                    "output = {}\nkey = {key}\n{}\n",
                    output.display(),
                    extra.replace("{watch}", w("w").to_str().unwrap())
                );
                fs::write(w("fsaction.conf"), text).unwrap();
                format!("--config {}", w("fsaction.conf").display())
            }
        };
        let mut plugin_conf = plugin_conf(&w("plugin-wrapper"), &plugin_args);
        if !plugin_active {
            plugin_conf = plugin_conf.replace("active = yes", "active = no");
        }
        let write = |name: &str, text: &str, mode: u32| {
            fs::write(w(name), text).unwrap();
            fs::set_permissions(w(name), fs::Permissions::from_mode(mode)).unwrap();
        };
        write("auditd.conf", &conf, 0o600);
        write("plugin-wrapper", &wrapper, 0o755);
        write("plugins.d/auparse-fsaction.conf", &plugin_conf, 0o600);
        if !plugin_active {
            // A plugin inherits auditd's standard output, here the test's
            // WORK/auditd.stderr: `cat` writes to /dev/null instead (the
            // shell execs it, so the process auditd started is `cat`).
            let cat = find_tool("cat").expect("cat");
            write(
                "cat-plugin",
                &format!("#!/bin/sh\nexec '{}' >/dev/null\n", cat.display()),
                0o755,
            );
            let conf = format!(
                "active = yes\ndirection = out\npath = {}\ntype = always\nformat = string\n",
                w("cat-plugin").display()
            );
            write("plugins.d/cat.conf", &conf, 0o600);
        }

        let stderr = fs::File::create(w("auditd.stderr")).unwrap();
        let child = Command::new(&tools.auditd)
            .arg("-n")
            .arg("-c")
            .arg(&work)
            .stdin(Stdio::null())
            .stdout(stderr.try_clone().unwrap())
            .stderr(stderr)
            // Its own process group: a Ctrl-C reaches only this test, whose
            // signal thread stops auditd in order.
            .process_group(0)
            .spawn()
            .expect("start auditd");
        with_cleanup(|c| c.auditd = Some(child));
        let log = w("audit.log");
        wait_until("auditd's DAEMON_START", Duration::from_secs(15), || {
            let exited = with_cleanup(|c| c.auditd.as_mut().and_then(|ch| ch.try_wait().ok()?));
            if let Some(st) = exited {
                panic!(
                    "auditd exited at start ({st}): {}",
                    fs::read_to_string(w("auditd.stderr")).unwrap_or_default()
                );
            }
            fs::read_to_string(&log).is_ok_and(|t| t.contains("type=DAEMON_START"))
        });
        if !plugin_active {
            return Live {
                tools,
                watch: w("w"),
                outside: w("outside"),
                output,
                key: key.into(),
                plugin_pid: 0,
                work,
                syslog,
            };
        }
        wait_until("the plugin to start", Duration::from_secs(15), || {
            plugin_pids(&work).is_some()
        });
        let (_, plugin_pid) = plugin_pids(&work).unwrap();
        // The process really is our binary (found by pid via /proc). The
        // wrapper records the pid right after the fork: until the child has
        // exec'd, its exe is still the shell.
        let plugin = fs::canonicalize(plugin_bin()).unwrap();
        let exe_of = || fs::read_link(format!("/proc/{plugin_pid}/exe")).ok();
        wait_until("the plugin to exec", Duration::from_secs(5), || {
            exe_of().is_some_and(|e| e == plugin)
        });
        let exe = exe_of().unwrap();
        assert_eq!(
            exe,
            fs::canonicalize(plugin_bin()).unwrap(),
            "plugin pid {plugin_pid}"
        );
        wait_until(
            "the plugin to create its output",
            Duration::from_secs(5),
            || output.exists(),
        );
        Live {
            tools,
            watch: w("w"),
            outside: w("outside"),
            output,
            key: key.into(),
            plugin_pid,
            work,
            syslog,
        }
    }

    /// Adds `-w WORK/w -p wa -k KEY` (registered for deletion first).
    fn add_watch(&self) {
        let watch = self.watch.to_str().unwrap().to_string();
        let args = ["-w", &watch, "-p", "wa", "-k", &self.key];
        run(&self.tools.auditctl, &args);
        let mut delete: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        delete[0] = "-W".into();
        with_cleanup(|c| c.rule = Some(delete));
    }

    /// Stops auditd (SIGTERM: it stops the plugin, which must write what is
    /// pending and exit 0); returns the plugin's exit status.
    fn stop(&self) -> i32 {
        // Under the lock: a signal meanwhile waits for auditd to be gone.
        let status = with_cleanup(|c| c.auditd.take().map(stop_auditd))
            .expect("auditd running")
            .unwrap_or_else(|e| panic!("{e}"));
        eprintln!("auditd stopped: {status}");
        if self.plugin_pid == 0 {
            return 0;
        }
        let file = self.work.join("plugin.status");
        wait_until("the plugin's exit status", Duration::from_secs(10), || {
            fs::read_to_string(&file).is_ok_and(|t| t.ends_with('\n'))
        });
        let stderr = fs::read_to_string(self.work.join("auditd.stderr")).unwrap();
        assert!(
            !stderr.contains("auparse-fsaction") && !stderr.contains("panicked"),
            "the plugin reported errors on stderr:\n{stderr}"
        );
        fs::read_to_string(&file).unwrap().trim().parse().unwrap()
    }
}

/// A big kernel backlog, and senders wait rather than drop when it is full
/// (the original settings, from `status`, are restored by the cleanup).
fn big_backlog(live: &Live, status: &HashMap<String, String>) {
    let orig = (
        status
            .get("backlog_limit")
            .cloned()
            .unwrap_or_else(|| "64".into()),
        status
            .get("backlog_wait_time")
            .cloned()
            .unwrap_or_else(|| "15000".into()),
    );
    with_cleanup(|c| c.orig_backlog = Some(orig));
    run(
        &live.tools.auditctl,
        &["-b", "65536", "--backlog_wait_time", "60000"],
    );
}

// --------------------------------------------------------------- output ----

/// The complete lines of a file (none if it does not exist). The plugin's
/// escaping guarantees valid UTF-8.
fn lines_of(path: &Path) -> Vec<String> {
    let Ok(data) = fs::read(path) else {
        return Vec::new();
    };
    let text =
        String::from_utf8(data).unwrap_or_else(|e| panic!("{}: not UTF-8: {e}", path.display()));
    let complete = text.rfind('\n').map_or("", |i| &text[..=i]);
    complete.lines().map(str::to_string).collect()
}

fn line(action: &str, path: &str) -> String {
    format!("{action:<30}: {path}")
}

fn mode_of(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

// ------------------------------------------------------------- issue 4 -----

/// One scripted operation: a `bash -c` command and the change lines it must
/// produce.
struct Step {
    name: &'static str,
    cwd: PathBuf,
    cmd: String,
    /// The command is expected to fail (the kernel refuses; failed calls are
    /// not logged by default).
    fails: bool,
    expect: Vec<String>,
    /// The lines may come in any order (the order of a directory listing).
    any_order: bool,
}

fn step(name: &'static str, cwd: &Path, cmd: &str, expect: Vec<String>) -> Step {
    Step {
        name,
        cwd: cwd.to_path_buf(),
        cmd: cmd.to_string(),
        fails: false,
        expect,
        any_order: false,
    }
}

struct Session<'a> {
    live: &'a Live,
    /// The rotated file, once rotated.
    rotated: Option<PathBuf>,
    /// Every line expected so far, in order.
    expected: Vec<String>,
    /// How many of them belong in the rotated file.
    before_rotation: usize,
    latencies: Vec<(String, Duration)>,
}

impl Session<'_> {
    fn all_lines(&self) -> Vec<String> {
        let mut v = self.rotated.as_deref().map(lines_of).unwrap_or_default();
        v.extend(lines_of(&self.live.output));
        v
    }

    fn run(&mut self, s: Step) {
        let before = self.expected.len();
        let out = Command::new("bash")
            .arg("-c")
            .arg(&s.cmd)
            .current_dir(&s.cwd)
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(
            !out.status.success(),
            s.fails,
            "step {}: `{}` in {}: {}\n{}",
            s.name,
            s.cmd,
            s.cwd.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let done = Instant::now();
        self.expected.extend(s.expect.iter().cloned());
        if s.expect.is_empty() {
            return;
        }
        let want = self.expected.len();
        let mut got = Vec::new();
        let start = Instant::now();
        while start.elapsed() < LATENCY_BOUND {
            got = self.all_lines();
            if got.len() >= want {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let latency = done.elapsed();
        let mut new: Vec<String> = got.get(before..).unwrap_or_default().to_vec();
        let mut exp = s.expect.clone();
        if s.any_order {
            new.sort();
            exp.sort();
        }
        assert_eq!(
            new,
            exp,
            "step {}: `{}` in {}: the plugin's new lines (after {latency:?}) differ",
            s.name,
            s.cmd,
            s.cwd.display()
        );
        self.latencies.push((s.name.to_string(), latency));
    }

    /// logrotate: rename the output, SIGHUP the plugin, wait for the new file.
    fn rotate(&mut self) {
        let old = self.live.work.join("out.log.1");
        fs::rename(&self.live.output, &old).unwrap();
        self.rotated = Some(old);
        self.before_rotation = self.expected.len();
        assert!(
            send_signal(self.live.plugin_pid, libc::SIGHUP),
            "SIGHUP to the plugin (pid {})",
            self.live.plugin_pid
        );
        let took = wait_until(
            "the plugin to reopen its output after SIGHUP",
            LATENCY_BOUND,
            || self.live.output.exists(),
        );
        eprintln!("rotation: new output file created {took:?} after SIGHUP");
    }
}

fn scripted_steps(live: &Live) -> (Vec<Step>, Vec<Step>) {
    let d = live.watch.to_str().unwrap().to_string();
    let o = live.outside.to_str().unwrap().to_string();
    let dp = live.watch.clone();
    let root = Path::new("/");
    let p = |rel: &str| format!("{d}/{rel}");
    let created = |rel: &str| line("created-file", &p(rel));
    let modified = |rel: &str| line("modified-file", &p(rel));
    let deleted = |rel: &str| line("deleted", &p(rel));
    let mkdir = |rel: &str| line("created-directory", &p(rel));
    let rmdir = |rel: &str| line("removed-directory", &p(rel));
    let renamed = |a: &str, b: &str| line("renamed", &format!("{a} -> {b}"));

    let mut first = vec![
        step(
            "create",
            &dp,
            "echo hello > created.txt",
            vec![created("created.txt")],
        ),
        step(
            "append",
            &dp,
            "echo more >> created.txt",
            vec![modified("created.txt")],
        ),
        step(
            "overwrite",
            &dp,
            "echo new > created.txt",
            vec![modified("created.txt")],
        ),
        step(
            "truncate(1)",
            &dp,
            "truncate -s 0 created.txt",
            vec![modified("created.txt")],
        ),
        step(
            "truncate(2) by path",
            &dp,
            "perl -e 'truncate(q(created.txt), 0) or die $!'",
            vec![modified("created.txt")],
        ),
        // Timestamps: touch on an existing file opens it for writing (that
        // is what the watch reports) and sets the times on the fd.
        step(
            "touch existing",
            &dp,
            "touch created.txt",
            vec![modified("created.txt")],
        ),
        // utimensat on a path is in neither the write nor the attribute
        // class of `-p wa`: the kernel reports nothing.
        step(
            "utimensat by path",
            &dp,
            "touch -h -d @1000000000 created.txt",
            vec![],
        ),
    ];
    if cfg!(target_arch = "x86_64") {
        // Nor utime(2), utimes(2), futimesat(2), utimensat(2) themselves.
        first.push(step(
            "utime syscalls",
            &dp,
            "perl -e '$f = q(created.txt); $t = pack(q(q4), 1, 0, 2, 0); \
             syscall(132, $f, 0) == 0 or die qq(utime $!); \
             syscall(235, $f, $t) == 0 or die qq(utimes $!); \
             syscall(261, -100, $f, $t) == 0 or die qq(futimesat $!); \
             syscall(280, -100, $f, $t, 0) == 0 or die qq(utimensat $!)'",
            vec![],
        ));
    }
    first.extend([
        step("mkfifo", &dp, "mkfifo fifo", vec![created("fifo")]),
        step("mkdir", &dp, "mkdir sub", vec![mkdir("sub")]),
        step(
            "absolute create, cwd /",
            root,
            &format!("echo abs > '{d}/sub/abs.txt'"),
            vec![created("sub/abs.txt")],
        ),
        step(
            "relative with ..",
            &live.watch.join("sub"),
            "echo x > ../dotdot.txt",
            vec![created("dotdot.txt")],
        ),
        step(
            "relative with directories, cwd the watch's parent",
            &live.work,
            "echo x > w/sub/deep.txt",
            vec![created("sub/deep.txt")],
        ),
        step(
            "rename",
            &dp,
            "mv dotdot.txt renamed.txt",
            vec![renamed(&p("dotdot.txt"), &p("renamed.txt"))],
        ),
        // mv first tries renameat2(RENAME_NOREPLACE), which fails (EEXIST,
        // not logged by default), then renameat.
        step(
            "rename over an existing file, across directories",
            &dp,
            "mv renamed.txt sub/deep.txt",
            vec![renamed(&p("renamed.txt"), &p("sub/deep.txt"))],
        ),
        step(
            "hard link",
            &dp,
            "ln created.txt hard.txt",
            vec![line("created-hard-link", &format!("{} -> {}", p("hard.txt"), p("created.txt")))],
        ),
        step(
            "symlink",
            &dp,
            "ln -s created.txt sym.txt",
            vec![line("created-symlink", &format!("{} -> created.txt", p("sym.txt")))],
        ),
        step(
            "chmod",
            &dp,
            "chmod 640 created.txt",
            vec![line("changed-file-permissions-of", &p("created.txt"))],
        ),
        step(
            "chown",
            &dp,
            "chown 65534:65534 created.txt",
            vec![line("changed-file-ownership-of", &p("created.txt"))],
        ),
        step(
            "setxattr",
            &dp,
            "setfattr -n trusted.auparse -v 1 created.txt",
            vec![line("changed-file-attributes-of", &p("created.txt"))],
        ),
        step(
            "removexattr",
            &dp,
            "setfattr -x trusted.auparse created.txt",
            vec![line("changed-file-attributes-of", &p("created.txt"))],
        ),
        Step {
            fails: true,
            ..step(
                "failed create (EACCES, as nobody): not logged by default",
                &dp,
                "setpriv --reuid=65534 --regid=65534 --clear-groups -- bash -c 'echo x > sub/denied.txt'",
                vec![],
            )
        },
        step(
            "directory created and removed",
            &dp,
            "mkdir gone && rmdir gone",
            vec![mkdir("gone"), rmdir("gone")],
        ),
        step(
            "directory renamed, file created in it",
            &dp,
            "mkdir olddir && mv olddir newdir && echo x > newdir/inside.txt",
            vec![
                mkdir("olddir"),
                renamed(&p("olddir"), &p("newdir")),
                created("newdir/inside.txt"),
            ],
        ),
        step(
            "moved in from an unwatched directory",
            root,
            &format!("mv '{o}/incoming.txt' '{d}/incoming.txt'"),
            vec![renamed(&format!("{o}/incoming.txt"), &p("incoming.txt"))],
        ),
        step(
            "moved out to an unwatched directory",
            root,
            &format!("mv '{d}/incoming.txt' '{o}/outgoing.txt'"),
            vec![renamed(&p("incoming.txt"), &format!("{o}/outgoing.txt"))],
        ),
        step("rm, relative", &dp, "rm hard.txt", vec![deleted("hard.txt")]),
        step(
            "rm, absolute, cwd /",
            root,
            &format!("rm '{d}/sym.txt'"),
            vec![deleted("sym.txt")],
        ),
    ]);

    let mut loop_lines: Vec<String> = (1..=1000)
        .map(|i| created(&format!("loop-{i}.txt")))
        .collect();
    loop_lines.extend((1..=1000).map(|i| deleted(&format!("loop-{i}.txt"))));
    let second = vec![
        step(
            "name with a space",
            &dp,
            "echo x > 'with space.txt'",
            vec![created("with space.txt")],
        ),
        step(
            "name with a newline",
            &dp,
            "echo x > $'new\\nline.txt'",
            vec![created("new\\012line.txt")],
        ),
        step(
            "name not UTF-8 (Latin-1 e acute)",
            &dp,
            "echo x > $'caf\\xe9.txt'",
            vec![created("caf\\351.txt")],
        ),
        step(
            "name in UTF-8 (kept as is)",
            &dp,
            "echo x > 'caf\u{e9}-utf8.txt'",
            vec![created("caf\u{e9}-utf8.txt")],
        ),
        step(
            "name with a backslash and an escape sequence",
            &dp,
            "echo x > 'back\\slash.txt' && echo x > $'esc\\e[1mbold.txt'",
            vec![
                created("back\\134slash.txt"),
                created("esc\\033[1mbold.txt"),
            ],
        ),
        step(
            "rename between odd names",
            &dp,
            "mv $'caf\\xe9.txt' $'new\\nline 2.txt'",
            vec![renamed(&p("caf\\351.txt"), &p("new\\012line 2.txt"))],
        ),
        // A tree made before the watch: its directories are unknown, so the
        // dirfd-relative deletions wait for the top directory's event.
        step(
            "rm -r of a tree the plugin never saw (dirfd-relative)",
            &dp,
            "rm -r pre",
            vec![
                deleted("pre/a/b/f"),
                rmdir("pre/a/b"),
                rmdir("pre/a"),
                rmdir("pre"),
            ],
        ),
        step(
            "tree moved in from an unwatched directory",
            root,
            &format!("mv '{o}/mtree' '{d}/mtree'"),
            vec![renamed(&format!("{o}/mtree"), &p("mtree"))],
        ),
        step(
            "find -delete of the moved-in tree, cwd / (dirfd-relative)",
            root,
            &format!("find '{d}/mtree' -delete"),
            vec![deleted("mtree/x/y"), rmdir("mtree/x"), rmdir("mtree")],
        ),
        step(
            "tree made while watched",
            &dp,
            "mkdir -p tree/a/b && echo 1 > tree/a/b/f3",
            vec![
                mkdir("tree"),
                mkdir("tree/a"),
                mkdir("tree/a/b"),
                created("tree/a/b/f3"),
            ],
        ),
        step(
            "rm -r of it (dirfd-relative)",
            &dp,
            "rm -r tree",
            vec![
                deleted("tree/a/b/f3"),
                rmdir("tree/a/b"),
                rmdir("tree/a"),
                rmdir("tree"),
            ],
        ),
        step(
            "directory of two files",
            &dp,
            "mkdir ftree && echo > ftree/x && echo > ftree/y",
            vec![mkdir("ftree"), created("ftree/x"), created("ftree/y")],
        ),
        Step {
            any_order: true,
            ..step(
                "find -delete of it, cwd / (order of the directory listing)",
                root,
                &format!("find '{d}/ftree' -delete"),
                vec![deleted("ftree/x"), deleted("ftree/y"), rmdir("ftree")],
            )
        },
        step(
            "1,000 files created then deleted in a loop",
            &dp,
            "for i in $(seq 1 1000); do echo $i > loop-$i.txt; done; \
             for i in $(seq 1 1000); do rm loop-$i.txt; done",
            loop_lines,
        ),
        step(
            "last changes",
            &dp,
            "rm fifo created.txt newdir/inside.txt && rmdir newdir",
            vec![
                deleted("fifo"),
                deleted("created.txt"),
                deleted("newdir/inside.txt"),
                rmdir("newdir"),
            ],
        ),
    ];
    (first, second)
}

#[test]
fn fsaction_plugin_under_auditd() {
    let _serial = lock(&SERIAL);
    let test = "fsaction_plugin_under_auditd";
    let Some((tools, status)) = preflight(test) else {
        return;
    };
    let _guard = Guard;
    let live = Live::start(tools, &status, "auparse-live");
    eprintln!(
        "{test}: auditd pid {:?}, plugin pid {}, watching {}",
        with_cleanup(|c| c.auditd.as_ref().map(Child::id)),
        live.plugin_pid,
        live.watch.display()
    );
    // Made before the watch: not reported.
    fs::create_dir_all(live.watch.join("pre/a/b")).unwrap();
    fs::write(live.watch.join("pre/a/b/f"), "f").unwrap();
    fs::write(live.outside.join("incoming.txt"), "in").unwrap();
    fs::create_dir_all(live.outside.join("mtree/x")).unwrap();
    fs::write(live.outside.join("mtree/x/y"), "y").unwrap();
    live.add_watch();

    let (first, second) = scripted_steps(&live);
    let mut s = Session {
        live: &live,
        rotated: None,
        expected: Vec::new(),
        before_rotation: 0,
        latencies: Vec::new(),
    };
    let started = Instant::now();
    for st in first {
        s.run(st);
    }
    s.rotate();
    for st in second {
        s.run(st);
    }
    let ops_time = started.elapsed();

    let exit = live.stop();
    let old = lines_of(s.rotated.as_ref().unwrap());
    let new = lines_of(&live.output);
    assert_eq!(
        old,
        s.expected[..s.before_rotation],
        "the rotated file: exactly the lines before the rotation"
    );
    assert_eq!(
        new,
        s.expected[s.before_rotation..],
        "the new file: exactly the lines after the rotation"
    );
    for f in [s.rotated.as_ref().unwrap(), &live.output] {
        assert_eq!(mode_of(f), 0o600, "{}", f.display());
        let data = fs::read(f).unwrap();
        assert!(
            data.ends_with(b"\n"),
            "{}: ends with a whole line",
            f.display()
        );
    }
    assert_eq!(exit, 0, "the plugin's exit status after auditd's SIGTERM");

    let mut lat: Vec<Duration> = s.latencies.iter().map(|(_, d)| *d).collect();
    lat.sort();
    let (worst_step, worst) = s
        .latencies
        .iter()
        .max_by_key(|(_, d)| *d)
        .cloned()
        .unwrap_or_default();
    let over_2s = lat.iter().filter(|d| **d > Duration::from_secs(2)).count();
    eprintln!(
        "{test}: {} change lines ({} before the rotation, {} after) from {} steps in {ops_time:.2?}; \
         latency from the end of a step's command to its last line: median {:?}, max {worst:?} ({worst_step}), {over_2s} over 2 s",
        s.expected.len(),
        old.len(),
        new.len(),
        s.latencies.len(),
        lat[lat.len() / 2],
    );
    let problems = cleanup_now();
    assert!(problems.is_empty(), "cleanup: {problems:#?}");
}

// ------------------------------------------------------------- issue 6 -----

/// (kind, path) of every successful create and delete in `ausearch --raw`
/// output, from the PATH records' nametypes.
fn ausearch_changes(raw: &str) -> Vec<(String, String)> {
    let field = |rec: &str, name: &str| -> Option<String> {
        let start = rec.find(&format!(" {name}="))? + name.len() + 2;
        let rest = &rec[start..];
        Some(if let Some(q) = rest.strip_prefix('"') {
            q[..q.find('"')?].to_string()
        } else {
            rest.split(' ').next()?.to_string()
        })
    };
    let mut events: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for rec in raw.lines() {
        if let Some(i) = rec.find("msg=audit(") {
            let id = &rec[i..rec[i..].find(')').map_or(rec.len(), |j| i + j)];
            events.entry(id.to_string()).or_default().push(rec);
        }
    }
    let mut out = Vec::new();
    for recs in events.values() {
        let sys = recs.iter().find(|r| r.starts_with("type=SYSCALL "));
        if sys.and_then(|r| field(r, "success")).as_deref() != Some("yes") {
            continue;
        }
        let cwd = recs
            .iter()
            .find(|r| r.starts_with("type=CWD "))
            .and_then(|r| field(r, "cwd"));
        for r in recs.iter().filter(|r| r.starts_with("type=PATH ")) {
            let kind = match field(r, "nametype").as_deref() {
                Some("CREATE") => "created-file",
                Some("DELETE") => "deleted",
                _ => continue,
            };
            let name = field(r, "name").unwrap_or_default();
            let path = if name.starts_with('/') {
                name
            } else {
                format!("{}/{name}", cwd.clone().unwrap_or_default())
            };
            out.push((kind.to_string(), path));
        }
    }
    out
}

#[test]
fn fsaction_plugin_loses_nothing_under_load() {
    const FILES: usize = 10_000;
    let _serial = lock(&SERIAL);
    let test = "fsaction_plugin_loses_nothing_under_load";
    let Some((tools, status)) = preflight(test) else {
        return;
    };
    let _guard = Guard;
    let live = Live::start(tools, &status, "auparse-load");
    big_backlog(&live, &status);
    let lost_before = audit_status(&live.tools.auditctl)
        .unwrap()
        .get("lost")
        .cloned()
        .unwrap_or_default();
    live.add_watch();

    let names: Vec<PathBuf> = (0..FILES)
        .map(|i| live.watch.join(format!("load-{i:05}")))
        .collect();
    let start = Instant::now();
    for n in &names {
        fs::File::create(n).unwrap();
    }
    for n in &names {
        fs::remove_file(n).unwrap();
    }
    let ops_time = start.elapsed();
    let ops = 2 * FILES;
    wait_until(
        "the plugin to log all 20,000 changes",
        Duration::from_secs(120),
        || lines_of(&live.output).len() >= ops,
    );
    let caught_up = start.elapsed();
    let lost_after = audit_status(&live.tools.auditctl)
        .unwrap()
        .get("lost")
        .cloned()
        .unwrap_or_default();
    let exit = live.stop();

    let raw = Command::new(&live.tools.ausearch)
        .arg("-if")
        .arg(live.work.join("audit.log"))
        .args(["-k", &live.key, "--raw"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let reference: BTreeSet<(String, String)> =
        ausearch_changes(&String::from_utf8_lossy(&raw.stdout))
            .into_iter()
            .collect();
    let logged = lines_of(&live.output);
    let parsed: Vec<(String, String)> = logged
        .iter()
        .map(|l| {
            assert_eq!(l.get(30..32), Some(": "), "line layout: {l:?}");
            (l[..30].trim_end().to_string(), l[32..].to_string())
        })
        .collect();
    let plugin: BTreeSet<(String, String)> = parsed.iter().cloned().collect();
    let missing: Vec<_> = reference.difference(&plugin).take(10).collect();
    let extra: Vec<_> = plugin.difference(&reference).take(10).collect();
    eprintln!(
        "{test}: {ops} file operations in {ops_time:.2?} = {:.0} ops/s sustained; \
         plugin caught up {caught_up:.2?} after the first operation ({:.2?} after the last); \
         ausearch -k shows {} changes, the plugin logged {} lines; kernel lost counter {lost_before} -> {lost_after}",
        ops as f64 / ops_time.as_secs_f64(),
        caught_up.saturating_sub(ops_time),
        reference.len(),
        logged.len(),
    );
    assert_eq!(
        reference.len(),
        ops,
        "ausearch -k {} should show every operation (kernel lost counter {lost_before} -> {lost_after})",
        live.key
    );
    assert!(
        missing.is_empty() && extra.is_empty(),
        "plugin vs ausearch: {} missing (first: {missing:#?}), {} extra (first: {extra:#?})",
        reference.difference(&plugin).count(),
        plugin.difference(&reference).count()
    );
    assert_eq!(parsed.len(), plugin.len(), "no change logged twice");
    assert_eq!(exit, 0, "the plugin's exit status after auditd's SIGTERM");
    assert_eq!(mode_of(&live.output), 0o600);
    let problems = cleanup_now();
    assert!(problems.is_empty(), "cleanup: {problems:#?}");
}

// ------------------------------------------------------------ issue 10 -----
//
// Ground truth: real programs change a watched tree; the plugin's JSON log,
// applied with `FsIndex` to the tree as it was (read from the filesystem
// before), must give the tree as it is (read from the filesystem after).
// Nothing here computes a path the way the plugin does: the expected values
// are the two scans of the real filesystem.

#[path = "support/at_workload.rs"]
mod at_workload;

use auparse::{ChangeKind, FsIndex};

/// One change line of the plugin's JSON log.
#[derive(Debug, Clone)]
struct Logged {
    change: ChangeKind,
    path: String,
    old_path: Option<String>,
    target: Option<String>,
    file_type: Option<&'static str>,
    success: bool,
    dir_known: bool,
}

fn parse_logged(line: &str) -> Logged {
    // The library's own reader of the change schema (bytes unescaped).
    let c: auparse::FsChange =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not a change line ({e}): {line}"));
    let s = |b: &[u8]| String::from_utf8(b.to_vec()).expect("the workloads use UTF-8 names");
    Logged {
        change: c.kind,
        path: s(&c.path),
        old_path: c.old_path.as_deref().map(s),
        target: c.target.as_deref().map(s),
        file_type: c.file_type,
        success: c.success,
        dir_known: c.dir_known,
    }
}

/// What a workload's replay found.
#[derive(Debug, Default)]
struct Replay {
    lines: usize,
    missing: Vec<String>,
    extra: Vec<String>,
    wrong_kind: Vec<String>,
    outside: Vec<String>,
    unknown: Vec<String>,
}

impl Replay {
    fn ok(&self) -> bool {
        self.missing.is_empty()
            && self.extra.is_empty()
            && self.wrong_kind.is_empty()
            && self.outside.is_empty()
            && self.unknown.is_empty()
    }
}

fn show_index(i: &FsIndex) -> BTreeMap<String, &'static str> {
    i.iter()
        .map(|(p, k)| (String::from_utf8_lossy(p).into_owned(), k))
        .collect()
}

/// Applies `logged` to `before` and compares with `after`.
fn replay(watch: &Path, before: &FsIndex, logged: &[Logged], after: &FsIndex) -> Replay {
    let root = watch.to_str().unwrap();
    let inside = |p: &str| p == root || p.starts_with(&format!("{root}/"));
    let mut r = Replay {
        lines: logged.len(),
        ..Replay::default()
    };
    let mut index = before.clone();
    for l in logged {
        if !l.dir_known {
            r.unknown.push(l.path.clone());
        }
        for p in std::iter::once(&l.path).chain(l.old_path.as_ref()) {
            if !inside(p) {
                r.outside.push(p.clone());
            }
        }
        if l.success && l.dir_known {
            index.apply_parts(
                l.change,
                l.path.as_bytes(),
                l.old_path.as_deref().map(str::as_bytes),
                l.target.as_deref().map(str::as_bytes),
                l.file_type,
            );
        }
    }
    let (got, want) = (show_index(&index), show_index(after));
    for (p, k) in &want {
        match got.get(p) {
            None => r.missing.push(format!("{p} ({k})")),
            Some(g) if g != k => r.wrong_kind.push(format!("{p}: replay {g}, real {k}")),
            _ => {}
        }
    }
    for (p, k) in &got {
        if !want.contains_key(p) {
            r.extra.push(format!("{p} ({k})"));
        }
    }
    r
}

/// The at-workload in a child process (started after auditd, so it has an
/// audit context): this test binary, run for `at_workload_child` only.
#[test]
#[ignore = "run by fsaction_log_replays_to_the_real_tree in a child process"]
fn at_workload_child() {
    let (Ok(root), Ok(seed), Ok(ops)) = (
        std::env::var("AUPARSE_AT_ROOT"),
        std::env::var("AUPARSE_AT_SEED"),
        std::env::var("AUPARSE_AT_OPS"),
    ) else {
        return;
    };
    let s = at_workload::run(
        seed.parse().unwrap(),
        Path::new(&root),
        ops.parse().unwrap(),
    );
    eprintln!(
        "at_workload seed {seed}: {} ops, {} ok, {} failed: {:?}",
        s.ops, s.ok, s.failed, s.per_kind
    );
}

struct ReplaySession<'a> {
    live: &'a Live,
    /// Lines of the output already replayed.
    seen: usize,
    sync: usize,
    report: Vec<String>,
    failures: Vec<String>,
    /// `AUPARSE_RECORD_REPLAY=DIR`: each workload's audit records and the
    /// trees scanned before and after it are written there (the offline
    /// fixture of tests/replay.rs).
    record: Option<PathBuf>,
}

/// `kind<TAB>path` lines of an index (names here have no tab or newline).
fn listing(i: &FsIndex) -> String {
    i.iter()
        .map(|(p, k)| format!("{k}\t{}\n", String::from_utf8_lossy(p)))
        .collect()
}

impl ReplaySession<'_> {
    /// Waits for the plugin to log the sentinel file the workload ended
    /// with, then for its output to stay still (changes that waited for a
    /// directory come at most a second later).
    fn settle(&mut self, sentinel: &Path) -> Vec<Logged> {
        let name = sentinel.to_str().unwrap().to_string();
        wait_until(
            &format!("the sentinel {name} in the plugin's log"),
            Duration::from_secs(60),
            || {
                lines_of(&self.live.output)
                    .iter()
                    .skip(self.seen)
                    .any(|l| l.contains(&format!("\"path\":\"{name}\"")))
            },
        );
        let mut n = lines_of(&self.live.output).len();
        let mut still = Instant::now();
        while still.elapsed() < Duration::from_millis(1500) {
            std::thread::sleep(Duration::from_millis(100));
            let m = lines_of(&self.live.output).len();
            if m != n {
                n = m;
                still = Instant::now();
            }
        }
        let lines = lines_of(&self.live.output);
        let new: Vec<Logged> = lines[self.seen..].iter().map(|l| parse_logged(l)).collect();
        self.seen = lines.len();
        new
    }

    /// Runs `cmd` (bash, in `cwd`), then checks the replay; returns the
    /// logged changes.
    fn workload(&mut self, name: &str, cwd: &Path, cmd: &str) -> Vec<Logged> {
        self.sync += 1;
        let sentinel = self.live.watch.join(format!(".sync-{:03}", self.sync));
        let before = FsIndex::scan(&self.live.watch).unwrap();
        let audit_log = self.live.work.join("audit.log");
        let log_start = fs::metadata(&audit_log).map_or(0, |m| m.len());
        let full = format!("set -e\n{cmd}\n: > '{}'", sentinel.display());
        let started = Instant::now();
        let out = Command::new("bash")
            .arg("-c")
            .arg(&full)
            .current_dir(cwd)
            .env("LC_ALL", "C")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", &self.live.work)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "workload {name}: `{cmd}`: {}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let ran = started.elapsed();
        let logged = self.settle(&sentinel);
        let after = FsIndex::scan(&self.live.watch).unwrap();
        if let Some(dir) = &self.record {
            let quoted = format!("name=\"{}\"", sentinel.display());
            wait_until(
                "the sentinel in auditd's log",
                Duration::from_secs(30),
                || fs::read_to_string(&audit_log).is_ok_and(|t| t.contains(&quoted)),
            );
            let data = fs::read(&audit_log).unwrap();
            let mut part = data[log_start as usize..].to_vec();
            part.truncate(part.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1));
            let stem = format!("{:02}", self.sync);
            fs::write(dir.join(format!("{stem}.log")), part).unwrap();
            fs::write(dir.join(format!("{stem}.before")), listing(&before)).unwrap();
            fs::write(dir.join(format!("{stem}.after")), listing(&after)).unwrap();
            let mut index = fs::read_to_string(dir.join("workloads.tsv")).unwrap_or_default();
            index += &format!("{stem}\t{name}\n");
            fs::write(dir.join("workloads.tsv"), index).unwrap();
        }
        let r = replay(&self.live.watch, &before, &logged, &after);
        let line = format!(
            "{name}: {} entries before, {} after, {} changes logged in {ran:.2?}; missing {}, extra {}, wrong kind {}, outside the tree {}, directory unknown {}",
            before.len(),
            after.len(),
            r.lines,
            r.missing.len(),
            r.extra.len(),
            r.wrong_kind.len(),
            r.outside.len(),
            r.unknown.len()
        );
        eprintln!("{line}");
        self.report.push(line);
        if !r.ok() {
            self.failures.push(format!(
                "{name}: missing {:?}\nextra {:?}\nwrong kind {:?}\noutside {:?}\nunknown {:?}",
                first(&r.missing),
                first(&r.extra),
                first(&r.wrong_kind),
                first(&r.outside),
                first(&r.unknown)
            ));
        }
        logged
    }

    /// For a recursive chmod/chown/chgrp of `dir`: every entry under it
    /// (symlinks excepted for chmod, which never changes them) has exactly
    /// one `kind` change in `logged`.
    fn every_entry_once(&mut self, name: &str, dir: &Path, kind: ChangeKind, logged: &[Logged]) {
        let tree = FsIndex::scan(dir).unwrap();
        let want: BTreeSet<String> = tree
            .iter()
            .filter(|(_, k)| kind != ChangeKind::ModeChanged || *k != "symlink")
            .map(|(p, _)| String::from_utf8_lossy(p).into_owned())
            .collect();
        let mut count: BTreeMap<String, usize> = BTreeMap::new();
        for l in logged.iter().filter(|l| l.change == kind) {
            *count.entry(l.path.clone()).or_default() += 1;
        }
        let missing: Vec<&String> = want.iter().filter(|p| !count.contains_key(*p)).collect();
        let twice: Vec<(&String, &usize)> = count.iter().filter(|(_, n)| **n != 1).collect();
        let stray: Vec<&String> = count.keys().filter(|p| !want.contains(*p)).collect();
        let line = format!(
            "{name}: {} entries touched, {} {} changes logged; {} without a change, {} logged more than once, {} not an entry",
            want.len(),
            count.values().sum::<usize>(),
            kind.as_str(),
            missing.len(),
            twice.len(),
            stray.len()
        );
        eprintln!("{line}");
        self.report.push(line);
        if !missing.is_empty() || !twice.is_empty() || !stray.is_empty() {
            self.failures.push(format!(
                "{name}: without a change {:?}; more than once {:?}; not an entry {:?}",
                first(&missing),
                &twice[..twice.len().min(10)],
                first(&stray)
            ));
        }
    }
}

fn first<T: std::fmt::Debug>(v: &[T]) -> &[T] {
    &v[..v.len().min(10)]
}

/// A tree of `dirs` x `files` under `root`, with a symlink per directory:
/// 1 + dirs * (1 + files + 1) entries plus the nested level.
fn make_tree(root: &Path, dirs: usize, files: usize) {
    for d in 0..dirs {
        let dir = root.join(format!("d{d}"));
        fs::create_dir_all(dir.join("inner")).unwrap();
        for f in 0..files {
            fs::write(dir.join(format!("f{f}")), format!("{d}/{f}")).unwrap();
        }
        fs::write(dir.join("inner/deep.txt"), "deep").unwrap();
        std::os::unix::fs::symlink("f0", dir.join("link")).unwrap();
    }
}

#[test]
fn fsaction_log_replays_to_the_real_tree() {
    let _serial = lock(&SERIAL);
    let test = "fsaction_log_replays_to_the_real_tree";
    let Some((tools, status)) = preflight(test) else {
        return;
    };
    let _guard = Guard;
    let live = Live::start_with(
        tools,
        &status,
        "auparse-replay",
        // No `path`: the plugin walks the directory of its loaded rule.
        Some("format = json\nlive = yes"),
    );
    big_backlog(&live, &status);
    // Made before the watch and before the plugin saw anything: the plugin
    // must find these entries on the host (124 entries).
    let pre = live.watch.join("pre");
    fs::create_dir(&pre).unwrap();
    make_tree(&pre, 10, 8);
    fs::write(pre.join("top.txt"), "top").unwrap();
    fs::write(pre.join("top2.txt"), "top").unwrap();
    fs::create_dir(pre.join("empty")).unwrap();
    assert_eq!(FsIndex::scan(&pre).unwrap().len(), 124);
    live.add_watch();
    let w = live.watch.clone();
    let mut s = ReplaySession {
        live: &live,
        seen: 0,
        sync: 0,
        report: Vec::new(),
        failures: Vec::new(),
        record: std::env::var_os("AUPARSE_RECORD_REPLAY").map(|d| {
            let d = PathBuf::from(d);
            fs::create_dir_all(&d).unwrap();
            let _ = fs::remove_file(d.join("workloads.tsv"));
            d
        }),
    };

    // Recursive tools on the tree made before the plugin started.
    let l = s.workload(
        "chmod -R (tree from before the start)",
        &w,
        "chmod -R g+w pre",
    );
    s.every_entry_once("chmod -R g+w pre", &pre, ChangeKind::ModeChanged, &l);
    let l = s.workload("chown -R", &w, "chown -R 1:1 pre");
    s.every_entry_once("chown -R 1:1 pre", &pre, ChangeKind::OwnerChanged, &l);
    let l = s.workload("chgrp -R", &pre, "chgrp -R 2 .");
    s.every_entry_once("chgrp -R 2 .", &pre, ChangeKind::OwnerChanged, &l);
    s.workload("cp -r", &w, "cp -r pre copy");
    s.workload("cp -a", &w, "cp -a pre archive");
    s.workload(
        "tar -x",
        &w,
        &format!(
            "tar -cf {out}/t.tar -C {w} copy && mkdir untar && tar -xf {out}/t.tar -C untar",
            out = live.outside.display(),
            w = w.display()
        ),
    );
    s.workload("mv of whole trees", &w, "mv copy moved && mkdir deeper && mv moved deeper/ && mv deeper/moved/d1 deeper/moved/d1b && mv deeper moved2");
    let l = s.workload("chmod -R on moved trees", &w, "chmod -R o-r moved2");
    s.every_entry_once(
        "chmod -R o-r moved2",
        &w.join("moved2"),
        ChangeKind::ModeChanged,
        &l,
    );
    let l = s.workload("chown -R on moved trees", &w, "chown -R 2:2 moved2");
    s.every_entry_once(
        "chown -R 2:2 moved2",
        &w.join("moved2"),
        ChangeKind::OwnerChanged,
        &l,
    );
    s.workload(
        "touch, ln, ln -s",
        &w.join("moved2"),
        "touch moved/d0/f0 new1 moved/d2/new2 && ln moved/d0/f1 hard && ln -s moved/d0/f2 soft && ln -s ../pre dirlink && touch -h soft",
    );
    s.workload(
        "through symlinked directories",
        &w.join("moved2"),
        "ln -s moved/d0 sl && touch sl/viasym && mv sl/viasym sl/viasym2 && mkdir sl/dir && echo x > sl/dir/f \
         && cd sl && touch here && mv here ../sl/there && chmod 600 there && rm ../sl/viasym2",
    );
    s.workload("find -delete", &w, "find untar -delete");
    s.workload(
        "rm -rf",
        &w,
        "rm -rf moved2/moved archive/d3 && rm -r archive",
    );
    if find_tool("git").is_some() {
        s.workload(
            "git",
            &w,
            "git init -q -b main repo && cd repo && echo a > a.txt && mkdir -p src/x && echo b > src/x/b.rs \
             && git add -A && git -c user.name=t -c user.email=t@t commit -qm one \
             && git checkout -qb other && git rm -q a.txt && echo c > src/c.rs && mkdir docs && echo d > docs/d.md \
             && git add -A && git -c user.name=t -c user.email=t@t commit -qm two \
             && git checkout -q main && git gc -q",
        );
    } else {
        eprintln!("{test}: git not installed: its workload skipped");
    }
    if find_tool("rsync").is_some() {
        s.workload(
            "rsync -a",
            &w,
            "rsync -a pre/ rsynced/ && rsync -a --delete pre/d1/ rsynced/d2/",
        );
    } else {
        eprintln!("{test}: rsync not installed: its workload skipped");
    }
    if find_tool("cpio").is_some() {
        s.workload(
            "cpio -p",
            &w,
            "mkdir cp-out && find pre -depth -print | cpio -pdm --quiet cp-out",
        );
    } else {
        eprintln!("{test}: cpio not installed: its workload skipped");
    }
    if find_tool("unzip").is_some() && find_tool("zip").is_some() {
        s.workload(
            "unzip",
            &w,
            &format!(
                "(cd pre && zip -qr {out}/p.zip .) && unzip -q {out}/p.zip -d unzipped && unzip -qo {out}/p.zip -d unzipped",
                out = live.outside.display()
            ),
        );
    } else {
        eprintln!("{test}: zip/unzip not installed: their workload skipped");
    }

    // Seeded random *at() workloads from a child process.
    let exe = std::env::current_exe().unwrap();
    for seed in [1u64, 2, 3, 4] {
        let root = w.join(format!("at{seed}"));
        let cmd = format!(
            "mkdir '{root}' && AUPARSE_AT_ROOT='{root}' AUPARSE_AT_SEED={seed} AUPARSE_AT_OPS=400 '{exe}' at_workload_child --exact --include-ignored --nocapture --test-threads=1 >/dev/null",
            root = root.display(),
            exe = exe.display()
        );
        s.workload(&format!("at-workload seed {seed}"), &w, &cmd);
    }

    let exit = live.stop();
    eprintln!("{test}: summary\n  {}", s.report.join("\n  "));
    assert!(
        s.failures.is_empty(),
        "the log does not replay to the real tree:\n{}",
        s.failures.join("\n\n")
    );
    assert_eq!(exit, 0, "the plugin's exit status after auditd's SIGTERM");
    let problems = cleanup_now();
    assert!(problems.is_empty(), "cleanup: {problems:#?}");
}

// ------------------------------------------------------------ issue 11 -----
//
// The output file survives what admins and tools do to it, with no SIGHUP,
// under a real auditd whose plugin has stderr on /dev/null; each problem
// reaches the system log (the socket the harness binds). A workload process
// started after auditd creates batches of files in the watched tree; the
// changes are counted from the plugin's JSON output files against the
// workload's list of names.

/// A `bash` started after auditd that creates files in the watched tree in
/// batches the test asks for on its stdin (`PREFIX COUNT HOW`; HOW `touch`
/// runs touch(1) per file, which spreads a batch over time; anything else
/// uses the shell's own `: > NAME`), answering `done PREFIX` when a batch is
/// made.
struct Workload {
    child: Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
    dir: PathBuf,
    /// Every file made (absolute paths), in order.
    made: Vec<String>,
    /// How many of `made` each batch made, by prefix.
    batches: Vec<(String, usize)>,
}

impl Workload {
    fn start(dir: &Path) -> Workload {
        let script = "while read prefix count how; do \
             for ((i = 0; i < count; i++)); do \
               if [ \"$how\" = touch ]; then touch \"$prefix-$i\"; else : > \"$prefix-$i\"; fi; \
             done; echo \"done $prefix\"; done";
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        Workload {
            stdin: child.stdin.take().unwrap(),
            stdout: std::io::BufReader::new(child.stdout.take().unwrap()),
            child,
            dir: dir.to_path_buf(),
            made: Vec::new(),
            batches: Vec::new(),
        }
    }

    /// Starts a batch (returns at once).
    fn begin(&mut self, prefix: &str, count: usize, how: &str) {
        use std::io::Write as _;
        writeln!(self.stdin, "{prefix} {count} {how}").unwrap();
        self.stdin.flush().unwrap();
        for i in 0..count {
            self.made
                .push(format!("{}/{prefix}-{i}", self.dir.display()));
        }
        self.batches.push((prefix.to_string(), count));
    }

    /// Waits for the batch `prefix` to be made.
    fn wait(&mut self, prefix: &str) {
        use std::io::BufRead as _;
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        assert_eq!(line.trim_end(), format!("done {prefix}"), "the workload");
    }

    fn batch(&mut self, prefix: &str, count: usize, how: &str) {
        self.begin(prefix, count, how);
        self.wait(prefix);
    }
}

impl Drop for Workload {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The paths of the `created` changes in a JSON change log (checked JSON).
fn created_paths(data: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(data);
    let complete = text.rfind('\n').map_or("", |i| &text[..=i]);
    complete
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            assert_eq!(v["kind"], "created", "only files are created: {l}");
            v["path"].as_str().unwrap().to_string()
        })
        .collect()
}

/// The process state letter of `pid` (`T` when stopped).
fn proc_state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.chars().next()
}

/// Stops the plugin (SIGSTOP, waiting until it is stopped, so that no write
/// of it is in flight), runs `f`, and lets it go on (SIGCONT).
fn with_plugin_stopped<R>(live: &Live, f: impl FnOnce() -> R) -> R {
    let pid = live.plugin_pid;
    assert!(send_signal(pid, libc::SIGSTOP), "SIGSTOP {pid}");
    wait_until("the plugin to stop", Duration::from_secs(10), || {
        proc_state(pid) == Some('t') || proc_state(pid) == Some('T')
    });
    let r = f();
    assert!(send_signal(pid, libc::SIGCONT), "SIGCONT {pid}");
    r
}

/// What the admin does to the output, and the syslog text it must cause.
struct Trouble {
    /// The output's path under WORK.
    output: &'static str,
    /// Done while the plugin is stopped, in the middle of a batch.
    break_it: fn(&Live),
    /// Every one of these in one syslog message of the plugin.
    report: &'static [&'static str],
    /// The syslog severity of that message.
    severity: u8,
    /// Done after the report arrived and a batch was made meanwhile (None:
    /// nothing to fix).
    fix: Option<fn(&Live)>,
    /// The output file is deleted by `break_it` (what was in it at that
    /// moment is gone by the admin's hand).
    deletes: bool,
}

/// Runs one case: batches A (logged before the trouble), B (the trouble
/// comes in the middle of it), C (made after the report, before the fix),
/// D (after the fix); then counts made / logged / lost / doubled.
fn survive(test: &str, key: &str, t: Trouble) {
    const A: usize = 200;
    const B: usize = 300;
    const C: usize = 200;
    const D: usize = 200;
    let _serial = lock(&SERIAL);
    let Some((tools, status)) = preflight(test) else {
        return;
    };
    let _guard = Guard;
    let live = Live::start_opts(tools, &status, key, Some("format = json"), t.output, true);
    big_backlog(&live, &status);
    live.add_watch();
    let pid = live.plugin_pid;
    // The premise: auditd gave the plugin no stderr anyone can read.
    assert_eq!(
        fs::read_link(format!("/proc/{pid}/fd/2")).unwrap(),
        Path::new("/dev/null"),
        "the plugin's stderr under auditd"
    );
    let out = live.output.clone();
    let rotated = out.with_extension("log.1");
    // The files that survive at the end, read whole.
    let surviving = || -> Vec<String> {
        let mut v = created_paths(&fs::read(&rotated).unwrap_or_default());
        if out.is_file() {
            v.extend(created_paths(&fs::read(&out).unwrap_or_default()));
        }
        v
    };

    let mut w = Workload::start(&live.watch);
    w.batch("a", A, "shell");
    let want_a: BTreeSet<String> = w.made.iter().cloned().collect();
    wait_until("batch A logged", Duration::from_secs(60), || {
        want_a.is_subset(&surviving().into_iter().collect())
    });

    // The trouble, in the middle of batch B (once some of it is logged).
    w.begin("b", B, "touch");
    wait_until(
        "the first changes of batch B",
        Duration::from_secs(60),
        || surviving().iter().any(|p| p.contains("/b-")),
    );
    // What the deleted file held when it was deleted: read through a
    // descriptor opened before, up to its size then.
    // (The descriptor stays open: what the plugin wrote into the deleted
    // file after that is counted at the end.)
    let (gone, mut held) = with_plugin_stopped(&live, || {
        let held = t.deletes.then(|| {
            use std::io::Read as _;
            let mut f = fs::File::open(&out).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (data, f)
        });
        (t.break_it)(&live);
        match held {
            Some((d, f)) => (created_paths(&d), Some(f)),
            None => (Vec::new(), None),
        }
    });
    let broke = Instant::now();
    let m = live.syslog.wait_for(pid, t.report, Duration::from_secs(30));
    let noticed = broke.elapsed();
    assert_eq!(m.severity, t.severity, "{m:?}");
    w.wait("b");
    w.batch("c", C, "shell");
    if let Some(fix) = t.fix {
        // Still broken: nothing was made at the output path meanwhile (the
        // plugin creates no directories and removes nothing).
        assert!(!out.is_file(), "{} is not a file yet", out.display());
        fix(&live);
    }
    w.batch("d", D, "shell");
    let made: Vec<String> = w.made.clone();
    assert_eq!(made.len(), A + B + C + D);

    // Every change is in a surviving file, or was in the deleted one.
    let accounted = |surv: &[String]| -> usize {
        let have: BTreeSet<&String> = surv.iter().chain(&gone).collect();
        made.iter().filter(|p| have.contains(p)).count()
    };
    // Polled with a generous deadline; when it passes, the counts below
    // say what is missing.
    let start = Instant::now();
    while accounted(&surviving()) < made.len() && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let waited = start.elapsed();
    drop(w);
    let exit = live.stop();
    let surv = surviving();
    let logged = accounted(&surv);
    let mut seen = BTreeSet::new();
    let doubled: Vec<&String> = surv.iter().filter(|p| !seen.insert(*p)).collect();
    let madeset: BTreeSet<&String> = made.iter().collect();
    let unknown: Vec<&String> = surv.iter().filter(|p| !madeset.contains(p)).collect();
    let in_new = created_paths(&fs::read(&out).unwrap_or_default()).len();
    // Written into the deleted file after it was deleted (before the plugin
    // noticed): every one of them must be in the surviving files too.
    let after_delete = held.as_mut().map_or_else(Vec::new, |f| {
        use std::io::Read as _;
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        created_paths(&data)
    });
    let survset: BTreeSet<&String> = surv.iter().collect();
    let missing_after: Vec<&String> = after_delete
        .iter()
        .filter(|p| !survset.contains(p))
        .collect();
    eprintln!(
        "{test}: made {} changes, logged {logged} ({} in the surviving files: {} in {}, {} in the deleted file when it was deleted, {} written into it after), lost {}, doubled {}; noticed {noticed:.2?} after the trouble; syslog: {:?}; last change in {waited:.2?}",
        made.len(),
        surv.len(),
        in_new,
        out.display(),
        gone.len(),
        after_delete.len(),
        made.len() - logged,
        doubled.len(),
        m.text,
    );
    for m in live.syslog.of(pid) {
        eprintln!("  syslog <{}>: {}", m.severity, m.text);
    }
    assert_eq!(
        made.len() - logged,
        0,
        "lost (first: {:?})",
        made.iter()
            .filter(|p| !surv.contains(p) && !gone.contains(p))
            .take(5)
            .collect::<Vec<_>>()
    );
    assert!(
        missing_after.is_empty(),
        "written only into the deleted file: {missing_after:?}"
    );
    assert!(doubled.is_empty(), "doubled: {doubled:?}");
    assert!(unknown.is_empty(), "not made by the workload: {unknown:?}");
    assert!(in_new >= D, "the new output file holds at least batch D");
    assert_eq!(exit, 0, "the plugin's exit status after auditd's SIGTERM");
    assert_eq!(mode_of(&out), 0o600);
    let problems = cleanup_now();
    assert!(problems.is_empty(), "cleanup: {problems:#?}");
}

#[test]
fn fsaction_output_deleted_mid_workload() {
    survive(
        "fsaction_output_deleted_mid_workload",
        "auparse-rm",
        Trouble {
            output: "out.log",
            break_it: |l| fs::remove_file(&l.output).unwrap(),
            report: &["the output file was deleted"],
            severity: 4,
            fix: None,
            deletes: true,
        },
    );
}

#[test]
fn fsaction_output_renamed_without_sighup() {
    survive(
        "fsaction_output_renamed_without_sighup",
        "auparse-mv",
        Trouble {
            output: "out.log",
            break_it: |l| fs::rename(&l.output, l.output.with_extension("log.1")).unwrap(),
            report: &["moved away without SIGHUP"],
            severity: 4,
            fix: None,
            deletes: false,
        },
    );
}

#[test]
fn fsaction_output_directory_removed_then_recreated() {
    survive(
        "fsaction_output_directory_removed_then_recreated",
        "auparse-rmdir",
        Trouble {
            output: "logs/out.log",
            break_it: |l| fs::remove_dir_all(l.output.parent().unwrap()).unwrap(),
            report: &["No such file or directory", "retrying every 1 s"],
            severity: 3,
            fix: Some(|l| fs::create_dir(l.output.parent().unwrap()).unwrap()),
            deletes: true,
        },
    );
}

#[test]
fn fsaction_output_unopenable_then_fixed() {
    survive(
        "fsaction_output_unopenable_then_fixed",
        "auparse-isdir",
        Trouble {
            output: "out.log",
            // A directory where the file was: every open fails (EISDIR),
            // root or not.
            break_it: |l| {
                fs::remove_file(&l.output).unwrap();
                fs::create_dir(&l.output).unwrap();
            },
            report: &["Is a directory", "retrying every 1 s"],
            severity: 3,
            fix: Some(|l| fs::remove_dir(&l.output).unwrap()),
            deletes: true,
        },
    );
}

/// A real rsyslogd (Debian's `rsyslog`, with a private config: its own
/// socket, daemon.* to a file, nothing else of the system's) files the
/// plugin's reports under facility daemon with ident auparse-fsaction: a
/// fatal error at start and an error while running. Opt-in like the others
/// (run under the live-auditd lock); skipped when rsyslogd is not installed.
#[test]
fn fsaction_reports_reach_a_real_rsyslogd() {
    let test = "fsaction_reports_reach_a_real_rsyslogd";
    let _serial = lock(&SERIAL);
    if std::env::var("AUPARSE_LIVE_TESTS").as_deref() != Ok("1") {
        eprintln!("{test}: SKIPPED: opt-in (AUPARSE_LIVE_TESTS=1, as root)");
        return;
    }
    let Some(rsyslogd) = find_tool("rsyslogd") else {
        eprintln!("{test}: SKIPPED: rsyslogd is not installed (apt-get install -y rsyslog)");
        return;
    };
    let dir = work_base().join(format!("auparse-rsyslog.{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
    struct Rm(PathBuf, Option<Child>);
    impl Drop for Rm {
        fn drop(&mut self) {
            if let Some(mut c) = self.1.take() {
                send_signal(c.id(), libc::SIGTERM);
                let _ = c.wait();
            }
            let _ = fs::remove_dir_all(&self.0);
        }
    }
    let mut guard = Rm(dir.clone(), None);
    let sock = dir.join("log.sock");
    let daemon_log = dir.join("daemon.log");
    fs::write(
        dir.join("rsyslog.conf"),
        format!(
            "global(workDirectory=\"{d}\")\n\
             module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
             input(type=\"imuxsock\" Socket=\"{s}\")\n\
             daemon.* action(type=\"omfile\" file=\"{l}\")\n",
            d = dir.display(),
            s = sock.display(),
            l = daemon_log.display()
        ),
    )
    .unwrap();
    let rs = Command::new(&rsyslogd)
        .arg("-n")
        .arg("-f")
        .arg(dir.join("rsyslog.conf"))
        .arg("-i")
        .arg(dir.join("rsyslogd.pid"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start rsyslogd");
    guard.1 = Some(rs);
    wait_until("rsyslogd's socket", Duration::from_secs(15), || {
        sock.exists()
    });
    let logged = |pid: u32, what: &str| {
        fs::read_to_string(&daemon_log).is_ok_and(|t| {
            t.lines()
                .any(|l| l.contains(&format!(" auparse-fsaction[{pid}]: ")) && l.contains(what))
        })
    };

    // Fatal at start: the output's directory does not exist.
    let missing = dir.join("no-such-dir/out.log");
    let mut p = Command::new(plugin_bin())
        .arg(&missing)
        .env("AUPARSE_SYSLOG_SOCKET", &sock)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let st = p.wait().unwrap();
    assert_eq!(st.code(), Some(1));
    let pid = p.id();
    wait_until(
        "the fatal error in daemon.log",
        Duration::from_secs(15),
        || {
            logged(
                pid,
                &format!("{}: No such file or directory", missing.display()),
            )
        },
    );

    // While running: the output's directory removed.
    let logs = dir.join("logs");
    fs::create_dir(&logs).unwrap();
    let mut p = Command::new(plugin_bin())
        .arg(logs.join("out.log"))
        .env("AUPARSE_SYSLOG_SOCKET", &sock)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = p.id();
    wait_until("the output", Duration::from_secs(15), || {
        logs.join("out.log").exists()
    });
    fs::remove_dir_all(&logs).unwrap();
    wait_until(
        "the reopen error in daemon.log",
        Duration::from_secs(15),
        || logged(pid, "No such file or directory (os error 2); retrying"),
    );
    drop(p.stdin.take());
    assert_eq!(p.wait().unwrap().code(), Some(0));
    eprintln!(
        "{test}: rsyslogd's daemon.* file:\n{}",
        fs::read_to_string(&daemon_log).unwrap()
    );
}

// The plugin's cost under auditd against the offline run over auditd's own
// log of the same run. A benchmark: it prints figures and asserts nothing
// about them (only that every change was logged). Four measurements:
//   1. the plugin under a private auditd during the workload;
//   2. `auparse fsaction` over auditd's log of that run, the machine quiet;
//   3. the same offline run again during the same workload, under a second
//      private auditd that has no fsaction plugin;
//   4. in that second auditd, `cat` as a plugin: it reads the stream and
//      does nothing else, so its cost is that of reading auditd's
//      one-record writes.
// 3/2 is what sharing two CPUs with the workload costs any program; 1/3 is
// the plugin's own cost; (3 + 4)/2 is what a plugin with no cost of its own
// beyond reading would measure against 2.
// Opt-in twice (it takes a minute or more):
//
//   cargo test --release -p auparse-tools --test live_auditd --no-run
//   flock /tmp/live-auditd.lock env AUPARSE_LIVE_TESTS=1 AUPARSE_LIVE_BENCH=1 \
//     cargo test --release -p auparse-tools --test live_auditd -- --nocapture fsaction_plugin_cost
//
// AUPARSE_LIVE_BENCH_CHANGES sets the number of changes (default 80000, made
// by two processes at once, each creating, chmodding, renaming and
// unlinking its own files).

/// CPU seconds (utime, stime) and peak RSS (VmHWM, KiB) of a live process.
fn proc_cost(pid: u32) -> ((f64, f64), u64) {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let (_, _, times) = parse_stat(&stat).unwrap();
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    (times, hwm)
}

/// A `/proc/PID[/task/TID]/stat` line: (command name, parent pid, CPU
/// seconds (utime, stime)).
fn parse_stat(stat: &str) -> Option<(&str, u32, (f64, f64))> {
    // The command name is in parentheses and may hold any byte: it ends at
    // the last ')'.
    let (comm, rest) = stat.split_once(" (")?.1.rsplit_once(") ")?;
    let rest: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state, ppid, ... utime and stime (fields 14 and 15,
    // 1-based, so 11 and 12 here).
    let ppid = rest.get(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let secs = |i: usize| Some(rest.get(i)?.parse::<u64>().ok()? as f64 / hz);
    Some((comm, ppid, (secs(11)?, secs(12)?)))
}

/// Runs a command to completion (its output goes to a file it is told of,
/// as the plugin's does); its CPU seconds (user, system), peak RSS (KiB)
/// and context switches (voluntary, involuntary) from wait4.
fn measured(cmd: &mut Command) -> ((f64, f64), u64, (u64, u64)) {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain old data, valid when zeroed.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: our own child, not reaped yet (std's Child is dropped without
    // wait below); valid out-pointers.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    drop(child);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "offline run failed: status {status}"
    );
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (
        (secs(ru.ru_utime), secs(ru.ru_stime)),
        ru.ru_maxrss as u64,
        (ru.ru_nvcsw as u64, ru.ru_nivcsw as u64),
    )
}

/// `auparse fsaction --key KEY --output OUT LOG`, measured: (CPU s (user,
/// system), peak RSS KiB, lines written, context switches).
fn offline_fsaction(log: &Path, key: &str, out: &Path) -> ((f64, f64), u64, usize, (u64, u64)) {
    let (cpu, rss, sw) = measured(
        Command::new(env!("CARGO_BIN_EXE_auparse"))
            .args(["fsaction", "--key", key, "--output"])
            .arg(out)
            .arg(log),
    );
    (cpu, rss, count_lines(out), sw)
}

/// The benchmark's workload: two perl processes (started now, so after
/// auditd), each making `files` files in `dir` and changing each four
/// times (create, chmod, rename, unlink). Returns them running.
fn cost_workload(dir: &Path, files: usize) -> Vec<Child> {
    let script = "my ($d, $t, $n) = @ARGV; for my $i (0 .. $n - 1) { my $p = \"$d/$t-$i\"; \
                  open(my $f, '>', $p) or die \"$p: $!\"; close($f); chmod(0600, $p) or die; \
                  rename($p, \"$p.r\") or die; unlink(\"$p.r\") or die; }";
    ["a", "b"]
        .iter()
        .map(|tag| {
            Command::new("perl")
                .args(["-e", script])
                .arg(dir)
                .arg(tag)
                .arg(files.to_string())
                .stdin(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect()
}

/// SYSCALL records of `key` in an audit log: one per change of the workload.
/// Read a line at a time: this process's peak RSS becomes that of the
/// children it starts (exec records the parent's high-water mark in the
/// child's `ru_maxrss`), so it never holds a whole log.
fn syscalls_with_key(log: &Path, key: &str) -> usize {
    use std::io::BufRead;
    let key_field = format!(" key=\"{key}\"");
    let mut n = 0;
    for line in std::io::BufReader::new(fs::File::open(log).unwrap()).split(b'\n') {
        let line = line.unwrap();
        if line.starts_with(b"type=SYSCALL ")
            && line
                .windows(key_field.len())
                .any(|w| w == key_field.as_bytes())
        {
            n += 1;
        }
    }
    n
}

/// Complete lines in a file (0 if it does not exist), read a piece at a
/// time (see [`syscalls_with_key`] for why).
fn count_lines(path: &Path) -> usize {
    let Ok(mut f) = fs::File::open(path) else {
        return 0;
    };
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0;
    loop {
        match std::io::Read::read(&mut f, &mut buf) {
            Ok(0) | Err(_) => return n,
            Ok(k) => n += buf[..k].iter().filter(|&&b| b == b'\n').count(),
        }
    }
}

/// CPU seconds (utime, stime) of the threads of a live process whose name
/// (`comm`) is `name`.
fn thread_cost(pid: u32, name: &str) -> (f64, f64) {
    let mut sum = (0.0, 0.0);
    for t in fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let stat = fs::read_to_string(t.path().join("stat")).unwrap_or_default();
        if let Some((comm, _, (user, sys))) = parse_stat(&stat) {
            if comm == name {
                sum.0 += user;
                sum.1 += sys;
            }
        }
    }
    sum
}

/// Context switches of a live process, all threads: (voluntary, involuntary).
fn proc_switches(pid: u32) -> (u64, u64) {
    let mut sum = (0, 0);
    for t in fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let text = fs::read_to_string(t.path().join("status")).unwrap_or_default();
        let get = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        sum.0 += get("voluntary_ctxt_switches:");
        sum.1 += get("nonvoluntary_ctxt_switches:");
    }
    sum
}

/// The pid of a child of `ppid` whose command is `comm`.
fn child_named(ppid: u32, comm: &str) -> Option<u32> {
    fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let stat = fs::read_to_string(e.path().join("stat")).ok()?;
        let (name, parent, _) = parse_stat(&stat)?;
        (parent == ppid && name == comm).then_some(pid)
    })
}

/// Removes a file when dropped (a failed assertion unwinds through it).
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// auditd's own report of its plugin queue (SIGCONT writes
/// /var/run/auditd.state): `max plugin queue depth used` and
/// `plugin queue overflow detected`.
fn auditd_queue_report(auditd: u32) -> Option<(u64, bool)> {
    let path = Path::new("/var/run/auditd.state");
    let before = fs::metadata(path).and_then(|m| m.modified()).ok();
    if !send_signal(auditd, libc::SIGCONT) {
        return None;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let now = fs::metadata(path).and_then(|m| m.modified()).ok();
        if now.is_some() && now != before {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(100));
    let text = fs::read_to_string(path).ok()?;
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().strip_prefix('='))
            .map(|v| v.trim().to_string())
    };
    Some((
        value("max plugin queue depth used")?.parse().ok()?,
        value("plugin queue overflow detected")? == "yes",
    ))
}

#[test]
fn fsaction_plugin_cost_live_vs_offline() {
    let _serial = lock(&SERIAL);
    let test = "fsaction_plugin_cost_live_vs_offline";
    if std::env::var("AUPARSE_LIVE_BENCH").as_deref() != Ok("1") {
        eprintln!("{test}: SKIPPED: a benchmark; set AUPARSE_LIVE_BENCH=1 (with AUPARSE_LIVE_TESTS=1, as root, --release)");
        return;
    }
    let Some((tools, status)) = preflight(test) else {
        return;
    };
    if cfg!(debug_assertions) {
        eprintln!(
            "{test}: WARNING: a debug build of the plugin; run with --release for real figures"
        );
    }
    let changes: usize = std::env::var("AUPARSE_LIVE_BENCH_CHANGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(80_000);
    // Two processes, each this many files, four changes per file.
    let files = changes / 8;
    let made = files * 8;
    let _guard = Guard;

    // 1. The plugin under auditd, during the workload.
    let live = Live::start(tools.clone(), &status, "auparse-cost");
    big_backlog(&live, &status);
    let auditd = with_cleanup(|c| c.auditd.as_ref().map(Child::id)).unwrap();
    let lost_before = audit_status(&live.tools.auditctl).unwrap()["lost"].clone();
    live.add_watch();
    let (cpu0, _) = proc_cost(live.plugin_pid);
    let sw0 = proc_switches(live.plugin_pid);
    let reader0 = thread_cost(live.plugin_pid, "auparse-read");
    let start = Instant::now();
    for mut w in cost_workload(&live.watch, files) {
        assert!(w.wait().unwrap().success(), "workload failed");
    }
    let ops_time = start.elapsed();
    // Until the plugin has logged every change, or nothing new for 10 s
    // (changes lost when auditd's queue overflowed never come).
    let mut last = (0, Instant::now());
    loop {
        let n = count_lines(&live.output);
        if n >= made || last.1.elapsed() > Duration::from_secs(10) {
            break;
        }
        if n != last.0 {
            last = (n, Instant::now());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let caught_up = start.elapsed();
    let (cpu1, hwm) = proc_cost(live.plugin_pid);
    let live_sw = proc_switches(live.plugin_pid);
    let reader1 = thread_cost(live.plugin_pid, "auparse-read");
    let reader_us = (reader1.0 - reader0.0, reader1.1 - reader0.1);
    let live_us = (cpu1.0 - cpu0.0, cpu1.1 - cpu0.1);
    let live_sw = (live_sw.0 - sw0.0, live_sw.1 - sw0.1);
    let queue = auditd_queue_report(auditd);
    // What auditd's queue cost auditd itself.
    let (_, auditd_hwm) = proc_cost(auditd);
    let lost_after = audit_status(&live.tools.auditctl).unwrap()["lost"].clone();
    let exit = live.stop();
    let logged = count_lines(&live.output);
    let log = live.work.join("audit.log");
    // What the workload did is in auditd's log (the kernel lost nothing).
    let in_log = syscalls_with_key(&log, &live.key);

    // 2. The same program over auditd's log of that run, on the quiet
    //    machine, writing a file as the plugin does.
    let (off_us, off_rss, off_lines, off_sw) =
        offline_fsaction(&log, &live.key, &live.work.join("offline.out"));
    // Kept for step 3 (the cleanup removes the run's directory), then moved
    // into step 3's directory, which its cleanup removes.
    let kept = RemoveOnDrop(work_base().join(format!("auparse-cost-log.{}", std::process::id())));
    fs::rename(&log, &kept.0).unwrap();
    let key = live.key.clone();
    drop(live);
    let problems = cleanup_now();
    assert!(problems.is_empty(), "cleanup: {problems:#?}");

    // 3. The same offline run again, during the same workload under a
    //    private auditd without the plugin: what sharing the machine with
    //    the workload (two busy writers, the kernel's audit thread, auditd)
    //    costs the same work, whoever does it.
    let base = Live::start_with_cat_plugin(tools, &status, &key);
    let run1_log = base.work.join("run1-audit.log");
    fs::rename(&kept.0, &run1_log).unwrap();
    drop(kept);
    big_backlog(&base, &status);
    let auditd2 = with_cleanup(|c| c.auditd.as_ref().map(Child::id)).unwrap();
    let mut cat = None;
    wait_until("auditd to start cat", Duration::from_secs(10), || {
        cat = child_named(auditd2, "cat");
        cat.is_some()
    });
    let cat = cat.unwrap();
    base.add_watch();
    let (cat0, _) = proc_cost(cat);
    let cat_sw0 = proc_switches(cat);
    let start2 = Instant::now();
    let workers = cost_workload(&base.watch, files);
    let (load_us, load_rss, load_lines, load_sw) =
        offline_fsaction(&run1_log, &key, &base.work.join("offline-under-load.out"));
    let load_done = start2.elapsed();
    for mut w in workers {
        assert!(w.wait().unwrap().success(), "workload failed");
    }
    let ops_time2 = start2.elapsed();
    // Until auditd has logged every change (or nothing new for 10 s).
    let log2 = base.work.join("audit.log");
    let mut last = (0, Instant::now());
    loop {
        let n = syscalls_with_key(&log2, &key);
        if n >= made || last.1.elapsed() > Duration::from_secs(10) {
            break;
        }
        if n != last.0 {
            last = (n, Instant::now());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let (cat1, cat_hwm) = proc_cost(cat);
    let cat_sw1 = proc_switches(cat);
    let cat_us = (cat1.0 - cat0.0, cat1.1 - cat0.1);
    let cat_sw = (cat_sw1.0 - cat_sw0.0, cat_sw1.1 - cat_sw0.1);
    assert_eq!(base.stop(), 0);
    let in_log2 = syscalls_with_key(&log2, &key);

    let per = |x: f64, n: usize| x * 100_000.0 / n.max(1) as f64;
    let (depth, overflow) = queue.map_or(("unknown".to_string(), "unknown"), |(d, o)| {
        (d.to_string(), if o { "YES" } else { "no" })
    });
    eprintln!(
        "{test}: {made} changes by 2 processes in {ops_time:.2?} ({:.0} changes/s); plugin caught up {caught_up:.2?} after the start",
        made as f64 / ops_time.as_secs_f64()
    );
    eprintln!(
        "{test}: changes made {made}, syscalls in auditd's log {in_log}, logged by the plugin {logged}, by the offline run {off_lines}; \
         auditd plugin queue: max depth used {depth} of q_depth 99999, overflow {overflow}; auditd's peak RSS {:.0} MB; \
         kernel lost {lost_before} -> {lost_after}",
        auditd_hwm as f64 / 1024.0
    );
    eprintln!(
        "{test}: the same workload again without the plugin: {ops_time2:.2?} (syscalls in auditd's log {in_log2}); \
         the offline run beside it ended {load_done:.2?} after its start"
    );
    eprintln!(
        "| run | changes | CPU s (user + system) | CPU s per 100k changes | peak RSS MB | context switches (voluntary, involuntary) |"
    );
    eprintln!("|---|---:|---:|---:|---:|---:|");
    let row = |name: &str, n: usize, (u, s): (f64, f64), rss: u64, (v, i): (u64, u64)| {
        eprintln!(
            "| {name} | {n} | {:.2} ({u:.2} + {s:.2}) | {:.2} | {:.1} | {v}, {i} |",
            u + s,
            per(u + s, n),
            rss as f64 / 1024.0
        );
    };
    row("live plugin under auditd", logged, live_us, hwm, live_sw);
    eprintln!(
        "| - of which its reading thread | {logged} | {:.2} ({:.2} + {:.2}) | {:.2} | | |",
        reader_us.0 + reader_us.1,
        reader_us.0,
        reader_us.1,
        per(reader_us.0 + reader_us.1, logged)
    );
    row(
        "offline `auparse fsaction` over auditd's log, quiet machine",
        off_lines,
        off_us,
        off_rss,
        off_sw,
    );
    row(
        "the same offline run during the same workload (no plugin)",
        load_lines,
        load_us,
        load_rss,
        load_sw,
    );
    row(
        "`cat` as the plugin during that workload (reads the stream, nothing else)",
        in_log2,
        cat_us,
        cat_hwm,
        cat_sw,
    );
    let (live_cpu, off_cpu, load_cpu) = (
        live_us.0 + live_us.1,
        off_us.0 + off_us.1,
        load_us.0 + load_us.1,
    );
    eprintln!(
        "{test}: live/offline (quiet): CPU per change {:.2}x, peak RSS {:.2}x (target: within 1.5x)",
        per(live_cpu, logged) / per(off_cpu, off_lines).max(1e-9),
        hwm as f64 / off_rss.max(1) as f64
    );
    eprintln!(
        "{test}: live/offline during the workload: CPU per change {:.2}x (the plugin's own cost); \
         offline during the workload/quiet: {:.2}x (the machine's)",
        per(live_cpu, logged) / per(load_cpu, load_lines).max(1e-9),
        per(load_cpu, load_lines) / per(off_cpu, off_lines).max(1e-9),
    );
    let cat_cpu = cat_us.0 + cat_us.1;
    let reader_cpu = reader_us.0 + reader_us.1;
    eprintln!(
        "{test}: the plugin's handling thread/offline during the workload: {:.2}x; \
         its reading thread/`cat`: {:.2}x; (offline during the workload + the plugin's reading thread)/quiet offline = {:.2}x",
        per(live_cpu - reader_cpu, logged) / per(load_cpu, load_lines).max(1e-9),
        per(reader_cpu, logged) / per(cat_cpu, in_log2).max(1e-9),
        (per(load_cpu, load_lines) + per(reader_cpu, logged)) / per(off_cpu, off_lines).max(1e-9),
    );
    eprintln!(
        "{test}: reading auditd's stream alone (`cat`) costs {:.2}x the quiet offline run; \
         (offline during the workload + `cat`)/quiet offline = {:.2}x: a plugin with no cost of its own would measure that",
        per(cat_cpu, in_log2) / per(off_cpu, off_lines).max(1e-9),
        (per(load_cpu, load_lines) + per(cat_cpu, in_log2)) / per(off_cpu, off_lines).max(1e-9),
    );
    if load_done > ops_time2 {
        eprintln!(
            "{test}: WARNING: the offline run outlasted the workload ({load_done:.2?} > {ops_time2:.2?}): part of it ran on a quiet machine"
        );
    }
    assert_eq!(
        in_log, made,
        "syscalls in auditd's log vs changes made (kernel lost {lost_before} -> {lost_after})"
    );
    assert_eq!(
        in_log2, made,
        "syscalls in the second run's log vs changes made"
    );
    assert_eq!(
        load_lines, off_lines,
        "the two offline runs of the same log"
    );
    if queue.is_some_and(|(_, o)| !o) {
        assert_eq!(
            logged, off_lines,
            "no queue overflow: the plugin logs what the offline run does"
        );
    }
    assert_eq!(exit, 0, "the plugin's exit status after auditd's SIGTERM");
    let problems = cleanup_now();
    assert!(problems.is_empty(), "cleanup: {problems:#?}");
}
