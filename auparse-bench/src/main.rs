//! `auparse-bench`: throughput and peak RSS of auparse beside a C reference
//! loop, `ausearch` and the Python original (issue 5). See `--help`.
//!
//! Benchmarks are never timed tests: nothing here asserts on speed.

mod fsaction;
mod measure;
mod work;

use measure::{run_measured, Measured, Stdout};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "\
auparse-bench: events/s and peak RSS of auparse vs a C reference loop, ausearch and the Python original

USAGE:
    cargo build --release -p auparse-tools      # optional: adds `auparse json` / `auparse text`
    cargo run --release -p auparse-bench -- [OPTIONS]

OPTIONS:
    --events N          events per generated log (default 100000; a full run
                        then takes about 5 minutes on 2 cores, the Python original
                        most of it)
    --only LOG          run one log only: clean, known-uids, enriched, anom (repeatable)
    --skip CONTENDER    leave a contender out (repeatable): c, feeder, feeder-ausearch, owned, json, text,
                        ausearch, python
    --repeat R          run each contender R times, keep the fastest (default 1)
    --cache DIR         where logs and the Python wheel go (default target/auparse-bench)
    --auparse PATH      the auparse binary (default target/release/auparse)
    --generator PATH    gen_audit_log.py (default ../shared/tools/gen_audit_log.py)
    --no-verify         skip the extra untimed pass that counts the output lines of
                        auparse json/text and ausearch

Each contender runs in its own child process; wall time is measured around
spawn..wait4, peak RSS is the child's ru_maxrss.

`auparse-bench fsaction --help`: the fsaction plugin fed as auditd feeds it
(one record per write(2), two producers interleaved) vs the same lines from a file.

INTERNAL (one contender in this process; also what to profile):
    auparse-bench child c|feeder|feeder-ausearch|owned LOG     prints `EVENTS CHECKSUM`
";

/// A generated log: its name and the generator flags that make it.
struct LogKind {
    name: &'static str,
    flags: &'static [&'static str],
    what: &'static str,
}

const LOGS: &[LogKind] = &[
    LogKind {
        name: "clean",
        flags: &["--no-anom"],
        what: "--no-anom (2 % of events with uids unknown to this machine)",
    },
    LogKind {
        name: "known-uids",
        flags: &["--no-anom", "--unknown-uid-frac", "0"],
        what: "--no-anom --unknown-uid-frac 0",
    },
    LogKind {
        name: "enriched",
        flags: &["--no-anom", "--enriched"],
        what: "--no-anom --enriched",
    },
    LogKind {
        name: "anom",
        flags: &[],
        what: "default: with kernel ANOM_ABEND records",
    },
];

const CONTENDERS: &[&str] = &[
    "c",
    "feeder",
    "feeder-ausearch",
    "owned",
    "json",
    "text",
    "ausearch",
    "python",
];

struct Options {
    events: u64,
    only: Vec<String>,
    skip: Vec<String>,
    repeat: u32,
    cache: PathBuf,
    auparse: PathBuf,
    generator: PathBuf,
    verify: bool,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn parse_args(args: Vec<OsString>) -> Result<Options, String> {
    let root = workspace_root();
    let mut o = Options {
        events: 100_000,
        only: Vec::new(),
        skip: Vec::new(),
        repeat: 1,
        cache: root.join("target/auparse-bench"),
        auparse: root.join("target/release/auparse"),
        generator: root.join("../shared/tools/gen_audit_log.py"),
        verify: true,
    };
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let arg = arg.to_string_lossy().into_owned();
        let mut value = |name: &str| {
            it.next()
                .ok_or_else(|| format!("{name} needs a value"))
                .map(|v| v.to_string_lossy().into_owned())
        };
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--events" => {
                o.events = value("--events")?
                    .parse()
                    .map_err(|e| format!("--events: {e}"))?
            }
            "--repeat" => {
                o.repeat = value("--repeat")?
                    .parse()
                    .map_err(|e| format!("--repeat: {e}"))?;
                o.repeat = o.repeat.max(1);
            }
            "--only" => {
                let v = value("--only")?;
                if !LOGS.iter().any(|l| l.name == v) {
                    return Err(format!("--only: unknown log {v:?}"));
                }
                o.only.push(v);
            }
            "--skip" => {
                let v = value("--skip")?;
                if !CONTENDERS.contains(&v.as_str()) {
                    return Err(format!("--skip: unknown contender {v:?}"));
                }
                o.skip.push(v);
            }
            "--cache" => o.cache = value("--cache")?.into(),
            "--auparse" => o.auparse = value("--auparse")?.into(),
            "--generator" => o.generator = value("--generator")?.into(),
            "--no-verify" => o.verify = false,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_some_and(|a| a == "child") {
        return child_main(&args[1..]);
    }
    if args.first().is_some_and(|a| a == "fsaction") {
        return fsaction::main(&args[1..]);
    }
    let opts = match parse_args(args) {
        Ok(o) => o,
        Err(msg) if msg.is_empty() => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("auparse-bench: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match bench(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("auparse-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `auparse-bench child KIND LOG`: one in-process contender.
fn child_main(args: &[OsString]) -> ExitCode {
    let [kind, log] = args else {
        eprintln!("usage: auparse-bench child c|feeder|feeder-ausearch|owned LOG");
        return ExitCode::from(2);
    };
    let log = Path::new(log);
    let result = match kind.to_str() {
        Some("c") => work::c_loop(log),
        Some("feeder") => work::feeder_walk(log, auparse::Grouping::Libauparse),
        Some("feeder-ausearch") => work::feeder_walk(log, auparse::Grouping::Ausearch),
        Some("owned") => work::owned_events(log),
        _ => {
            eprintln!("unknown contender {kind:?}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(o) => {
            println!("{} {}", o.events, o.checksum);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// One row of a table.
struct Row {
    name: String,
    result: Result<Measured, String>,
    /// Events the contender reported or printed (None: not known).
    events: Option<u64>,
    notes: Vec<String>,
}

fn bench(o: &Options) -> Result<(), String> {
    std::fs::create_dir_all(&o.cache).map_err(|e| format!("{}: {e}", o.cache.display()))?;
    let me = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let tools = Tools::probe(o);
    println!("# auparse-bench: {} events per log", o.events);
    println!("machine: {}", machine());
    for note in &tools.notes {
        println!("note: {note}");
    }
    for log in LOGS {
        if !o.only.is_empty() && !o.only.iter().any(|n| n == log.name) {
            continue;
        }
        let path = generate(o, log)?;
        println!();
        println!("## log `{}` ({}): {}", log.name, log.what, path.display());
        let rows = run_log(o, &me, &tools, &path);
        print_table(&rows);
    }
    Ok(())
}

fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{model}, {cpus} CPUs available")
}

/// Generates (or reuses) the log of `kind` with `o.events` events.
fn generate(o: &Options, kind: &LogKind) -> Result<PathBuf, String> {
    let path = o.cache.join(format!("{}-{}.log", kind.name, o.events));
    if path.exists() {
        return Ok(path);
    }
    let tmp = path.with_extension("log.tmp");
    eprintln!("generating {} ...", path.display());
    let status = Command::new("python3")
        .arg(&o.generator)
        .arg(&tmp)
        .arg("--events")
        .arg(o.events.to_string())
        .args(kind.flags)
        .status()
        .map_err(|e| format!("running {}: {e}", o.generator.display()))?;
    if !status.success() {
        return Err(format!("{} failed: {status}", o.generator.display()));
    }
    std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// What the external contenders need, found once.
struct Tools {
    /// `auparse` binary, if it has the subcommand: (json, text).
    auparse_json: Option<PathBuf>,
    auparse_text: Option<PathBuf>,
    ausearch: Option<PathBuf>,
    /// The unpacked wheel dir (PYTHONPATH) and jsonify_events.py.
    python: Option<(PathBuf, PathBuf)>,
    notes: Vec<String>,
}

const TINY_LOG: &[u8] =
    b"type=DAEMON_START msg=audit(1653911717.020:42): op=start ver=3.0.9 format=raw kernel=6.1.0 auid=4294967295 pid=1 uid=0 ses=4294967295 res=success\n";

impl Tools {
    fn probe(o: &Options) -> Tools {
        let mut notes = Vec::new();
        let tiny = o.cache.join("tiny.log");
        let _ = std::fs::write(&tiny, TINY_LOG);
        let mut sub = |name: &str| -> Option<PathBuf> {
            if !o.auparse.exists() {
                notes.push(format!(
                    "auparse {name}: skipped, {} does not exist (cargo build --release -p auparse-tools)",
                    o.auparse.display()
                ));
                return None;
            }
            let out = Command::new(&o.auparse).arg(name).arg(&tiny).output();
            match out {
                Ok(out) if out.status.success() && !out.stdout.is_empty() => {
                    Some(o.auparse.clone())
                }
                Ok(out) => {
                    notes.push(format!(
                        "auparse {name}: skipped, `{} {name} LOG` printed nothing or failed ({}) on a one-event log: subcommand not there yet",
                        o.auparse.display(),
                        out.status
                    ));
                    None
                }
                Err(e) => {
                    notes.push(format!("auparse {name}: skipped ({e})"));
                    None
                }
            }
        };
        let auparse_json = sub("json");
        let auparse_text = sub("text");
        let ausearch = which("ausearch");
        if ausearch.is_none() {
            notes.push("ausearch: skipped, not installed (apt-get install auditd)".into());
        }
        let python = match python_original(&o.cache) {
            Ok(p) => Some(p),
            Err(e) => {
                notes.push(format!("python jsonify: skipped, {e}"));
                None
            }
        };
        Tools {
            auparse_json,
            auparse_text,
            ausearch,
            python,
            notes,
        }
    }
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

const PYTHON: &str = "/usr/bin/python3";

/// Downloads and unpacks auditd-tools 0.0.1 (once) and checks python3-audit.
fn python_original(cache: &Path) -> Result<(PathBuf, PathBuf), String> {
    let ok = Command::new(PYTHON)
        .args(["-c", "import auparse"])
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("{PYTHON}: {e}"))?;
    if !ok.success() {
        return Err(format!(
            "{PYTHON} cannot import auparse (apt-get install python3-audit)"
        ));
    }
    let dir = cache.join("auditd-tools-0.0.1");
    let script = dir.join("auditd_tools/jsonify_events.py");
    if script.is_file() {
        return Ok((dir, script));
    }
    let wheels = cache.join("wheels");
    let st = Command::new("pip")
        .args([
            "download",
            "--no-deps",
            "--quiet",
            "auditd-tools==0.0.1",
            "-d",
        ])
        .arg(&wheels)
        .status()
        .or_else(|_| {
            Command::new(PYTHON)
                .args(["-m", "pip", "download", "--no-deps", "--quiet"])
                .args(["auditd-tools==0.0.1", "-d"])
                .arg(&wheels)
                .status()
        })
        .map_err(|e| format!("pip download: {e}"))?;
    if !st.success() {
        return Err(format!("pip download auditd-tools==0.0.1 failed ({st})"));
    }
    let wheel = wheels.join("auditd_tools-0.0.1-py3-none-any.whl");
    let st = Command::new(PYTHON)
        .args(["-m", "zipfile", "-e"])
        .arg(&wheel)
        .arg(&dir)
        .status()
        .map_err(|e| format!("unzip: {e}"))?;
    if !st.success() || !script.is_file() {
        return Err(format!("could not unpack {}", wheel.display()));
    }
    Ok((dir, script))
}

fn run_log(o: &Options, me: &Path, tools: &Tools, log: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    let skip = |n: &str| o.skip.iter().any(|s| s == n);
    let mut c_checksum = None;
    for (id, label) in [
        ("c", "C loop (ref_loop.c)"),
        ("feeder", "Rust Feeder walk"),
        ("feeder-ausearch", "Rust Feeder walk, --grouping ausearch"),
        ("owned", "Rust to_event()"),
    ] {
        if skip(id) {
            continue;
        }
        let mut cmd = Command::new(me);
        cmd.arg("child").arg(id).arg(log);
        let result = best_of(o.repeat, || run_measured(&mut cmd, Stdout::Capture));
        let mut row = Row {
            name: label.into(),
            events: None,
            notes: Vec::new(),
            result: Err(String::new()),
        };
        match result {
            Ok(m) if m.success() => {
                let mut words = m.head.split_whitespace();
                row.events = words.next().and_then(|w| w.parse().ok());
                let sum: Option<u64> = words.next().and_then(|w| w.parse().ok());
                if id == "c" {
                    c_checksum = sum;
                } else if c_checksum.is_some() && sum != c_checksum {
                    row.notes.push("checksum differs from C".into());
                } else if c_checksum.is_some() {
                    row.notes.push("checksum = C".into());
                }
                row.result = Ok(m);
            }
            Ok(m) => row.result = Err(m.failure()),
            Err(e) => row.result = Err(e),
        }
        rows.push(row);
    }

    let mut hashes: Vec<(&str, (u64, u64))> = Vec::new();
    let mut external = |id: &'static str,
                        label: String,
                        mut cmd: Command,
                        count_note: &str,
                        rows: &mut Vec<Row>| {
        if skip(id) {
            return;
        }
        // Python is slow enough that printing to a pipe costs it nothing
        // measurable: its timed run is also its counting run.
        let piped = id == "python";
        let result = best_of(o.repeat, || {
            run_measured(&mut cmd, if piped { Stdout::Count } else { Stdout::Null })
        });
        let mut row = Row {
            name: label,
            events: None,
            notes: Vec::new(),
            result: Err(String::new()),
        };
        match result {
            Ok(m) if m.success() || (id == "ausearch" && m.status_code() == Some(1)) => {
                let counted = if piped {
                    Some(m.clone())
                } else if o.verify {
                    run_measured(&mut cmd, Stdout::Count).ok()
                } else {
                    None
                };
                if let Some(c) = counted {
                    row.events = Some(c.lines);
                    row.notes.push(count_note.to_string());
                    hashes.push((id, (c.hash, c.line_sum)));
                }
                row.result = Ok(m);
            }
            Ok(m) => row.result = Err(m.failure()),
            Err(e) => row.result = Err(e),
        }
        rows.push(row);
    };

    if let Some(bin) = &tools.auparse_json {
        let mut cmd = Command::new(bin);
        cmd.arg("json").arg(log);
        external(
            "json",
            "auparse json > /dev/null".into(),
            cmd,
            "events = output lines",
            &mut rows,
        );
    }
    if let Some(bin) = &tools.auparse_text {
        let mut cmd = Command::new(bin);
        cmd.arg("text").arg(log);
        external(
            "text",
            "auparse text > /dev/null".into(),
            cmd,
            "events = output lines",
            &mut rows,
        );
    }
    if let Some(bin) = &tools.ausearch {
        let mut cmd = Command::new(bin);
        cmd.arg("-if").arg(log).args(["--format", "text"]);
        external(
            "ausearch",
            "ausearch --format text > /dev/null".into(),
            cmd,
            "events = output lines",
            &mut rows,
        );
    }
    if let Some((dir, script)) = &tools.python {
        let mut cmd = Command::new(PYTHON);
        cmd.arg(script).arg(log).env("PYTHONPATH", dir);
        external(
            "python",
            "Python jsonify_events.py".into(),
            cmd,
            "events = output lines (stdout piped to the bench)",
            &mut rows,
        );
    }
    let text = hashes.iter().find(|(id, _)| *id == "text").map(|h| h.1);
    let ausearch = hashes.iter().find(|(id, _)| *id == "ausearch").map(|h| h.1);
    if let (Some(t), Some(a)) = (text, ausearch) {
        if let Some(row) = rows.iter_mut().find(|r| r.name.starts_with("auparse text")) {
            row.notes.push(if t == a {
                "output byte-identical to ausearch".into()
            } else if t.1 == a.1 {
                "output = ausearch's lines in another ORDER".into()
            } else {
                "output DIFFERS from ausearch".into()
            });
        }
    }
    rows
}

fn best_of(
    repeat: u32,
    mut run: impl FnMut() -> Result<Measured, String>,
) -> Result<Measured, String> {
    let mut best: Option<Measured> = None;
    for _ in 0..repeat {
        let m = run()?;
        if !m.success() {
            return Ok(m);
        }
        if best.as_ref().is_none_or(|b| m.wall < b.wall) {
            best = Some(m);
        }
    }
    best.ok_or_else(|| "no run".into())
}

fn print_table(rows: &[Row]) {
    let reference = rows
        .iter()
        .find(|r| r.name.starts_with("C loop"))
        .and_then(|r| Some((r.result.as_ref().ok()?.wall, r.events?)));
    println!();
    println!(
        "| contender | events | wall s | events/s | vs C loop | CPU s | peak RSS MB | notes |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    for r in rows {
        let mut notes = r.notes.clone();
        if let (Some((_, ref_events)), Some(ev)) = (reference, r.events) {
            if ev != ref_events {
                notes.insert(0, format!("COUNT MISMATCH: C loop has {ref_events}"));
            }
        }
        let events = r.events.map_or("?".into(), |e| e.to_string());
        match &r.result {
            Ok(m) => {
                let wall = m.wall.as_secs_f64();
                let n = reference.map(|(_, e)| e).or(r.events).unwrap_or(0);
                let rate = n as f64 / wall;
                let ratio = reference.map_or("-".into(), |(w, _)| {
                    format!("{:.2}x", w.as_secs_f64() / wall)
                });
                let mut line = String::new();
                let _ = write!(
                    line,
                    "| {} | {} | {:.2} | {:.0}k | {} | {:.2} | {:.1} | {} |",
                    r.name,
                    events,
                    wall,
                    rate / 1000.0,
                    ratio,
                    m.cpu.as_secs_f64(),
                    m.max_rss_kb as f64 / 1024.0,
                    notes.join("; ")
                );
                println!("{line}");
            }
            Err(e) => println!(
                "| {} | {} | - | - | - | - | - | FAILED: {} |",
                r.name, events, e
            ),
        }
    }
}
