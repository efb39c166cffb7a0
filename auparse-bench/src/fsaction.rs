//! `auparse-bench fsaction`: the fsaction plugin fed as auditd feeds it
//! (issue 11), against the offline run over the same lines.
//!
//! auditd writes every record to a plugin's standard input in its own
//! write(2), and two processes changing files at once interleave their
//! records. The input here is two logs of `gen_audit_log.py` (seeds 1 and 2;
//! the second one's serials moved up by 10^9 so that no two events share an
//! identity) merged with their records alternating, so that two events are
//! open at any time. It is run through `auparse fsaction --output -`:
//!
//! - **file**: the merged log as a file argument (64 KiB reads);
//! - **pipe, one record per write**: the runner writes one record per
//!   write(2) on a pipe to the child's standard input, at `--rate` records
//!   a second (default 20,000: a burst of two processes changing files as
//!   fast as they can under auditd here made 10,000-60,000), so that a
//!   reader that keeps up wakes for every record or few, as the plugin
//!   under auditd does.
//!
//! Both outputs are hashed: they must be the same lines in the same order.
//! Figures: CPU seconds (user+sys of the child) and peak RSS (`ru_maxrss`),
//! also scaled to 100k changes (output lines), and the pipe/file ratios.

use crate::measure::{run_measured_input, Measured, Stdout};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const USAGE: &str = "\
auparse-bench fsaction: the fsaction plugin fed one record per write(2) with two producers' records interleaved, vs the same lines from a file

USAGE:
    cargo build --release -p auparse-tools
    cargo run --release -p auparse-bench -- fsaction [OPTIONS]

OPTIONS:
    --events N          events per producer log (default 100000: two logs of
                        gen_audit_log.py --no-anom, merged)
    --rate R            records a second written to the pipe (default 20000)
    --repeat R          run each way R times, keep the lowest CPU time (default 1)
    --cache DIR         where the logs go (default target/auparse-bench)
    --auparse PATH      the auparse binary (default target/release/auparse)
    --generator PATH    gen_audit_log.py (default ../shared/tools/gen_audit_log.py)
";

struct Options {
    events: u64,
    rate: u32,
    repeat: u32,
    cache: PathBuf,
    auparse: PathBuf,
    generator: PathBuf,
}

fn parse_args(args: &[OsString]) -> Result<Options, String> {
    let root = crate::workspace_root();
    let mut o = Options {
        events: 100_000,
        rate: 20_000,
        repeat: 1,
        cache: root.join("target/auparse-bench"),
        auparse: root.join("target/release/auparse"),
        generator: root.join("../shared/tools/gen_audit_log.py"),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let arg = arg.to_string_lossy();
        let mut value = |name: &str| {
            it.next()
                .ok_or_else(|| format!("{name} needs a value"))
                .map(|v| v.to_string_lossy().into_owned())
        };
        match &*arg {
            "-h" | "--help" => return Err(String::new()),
            "--events" => {
                o.events = value("--events")?
                    .parse()
                    .map_err(|e| format!("--events: {e}"))?
            }
            "--rate" => {
                o.rate = value("--rate")?
                    .parse::<u32>()
                    .map_err(|e| format!("--rate: {e}"))?
                    .max(1)
            }
            "--repeat" => {
                o.repeat = value("--repeat")?
                    .parse::<u32>()
                    .map_err(|e| format!("--repeat: {e}"))?
                    .max(1)
            }
            "--cache" => o.cache = value("--cache")?.into(),
            "--auparse" => o.auparse = value("--auparse")?.into(),
            "--generator" => o.generator = value("--generator")?.into(),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
}

/// Entry point of `auparse-bench fsaction ARGS`.
pub fn main(args: &[OsString]) -> std::process::ExitCode {
    let o = match parse_args(args) {
        Ok(o) => o,
        Err(msg) if msg.is_empty() => {
            print!("{USAGE}");
            return std::process::ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("auparse-bench fsaction: {msg}\n\n{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(&o) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("auparse-bench fsaction: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Generates (or reuses) one producer's log.
fn producer_log(o: &Options, seed: u32) -> Result<PathBuf, String> {
    let path = o
        .cache
        .join(format!("fsaction-seed{seed}-{}.log", o.events));
    if path.exists() {
        return Ok(path);
    }
    let tmp = path.with_extension("log.tmp");
    eprintln!("generating {} ...", path.display());
    let status = Command::new("python3")
        .arg(&o.generator)
        .arg(&tmp)
        .args(["--events", &o.events.to_string()])
        .args(["--seed", &seed.to_string(), "--no-anom"])
        .status()
        .map_err(|e| format!("running {}: {e}", o.generator.display()))?;
    if !status.success() {
        return Err(format!("{} failed: {status}", o.generator.display()));
    }
    std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// `line` with the serial of its `msg=audit(SEC.MILLI:SERIAL)` moved up by `by`.
fn shift_serial(line: &[u8], by: u64) -> Vec<u8> {
    let at = line
        .windows(10)
        .position(|w| w == b"msg=audit(")
        .and_then(|i| Some(i + line[i..].iter().position(|&b| b == b':')? + 1));
    let Some(start) = at else {
        return line.to_vec();
    };
    let end = start
        + line[start..]
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(0);
    let Some(serial) = std::str::from_utf8(&line[start..end])
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return line.to_vec();
    };
    let mut out = line[..start].to_vec();
    out.extend_from_slice((serial + by).to_string().as_bytes());
    out.extend_from_slice(&line[end..]);
    out
}

/// Writes the two producers' records, alternating, to `out`; returns how
/// many. Streamed, so that the runner stays small: a child's `ru_maxrss`
/// starts from the runner's size (the forked copy before exec).
fn merge(a: &Path, b: &Path, out: &Path) -> Result<u64, String> {
    use std::io::{BufRead, BufReader, BufWriter, Write};
    let open = |p: &Path| {
        std::fs::File::open(p)
            .map(BufReader::new)
            .map_err(|e| format!("{}: {e}", p.display()))
    };
    let (mut a, mut b) = (open(a)?, open(b)?);
    let io = |e: std::io::Error| format!("{}: {e}", out.display());
    let mut w = BufWriter::new(std::fs::File::create(out).map_err(io)?);
    let (mut la, mut lb) = (Vec::new(), Vec::new());
    let mut n = 0;
    loop {
        la.clear();
        lb.clear();
        let ra = a.read_until(b'\n', &mut la).map_err(io)?;
        let rb = b.read_until(b'\n', &mut lb).map_err(io)?;
        if ra == 0 && rb == 0 {
            break;
        }
        if ra > 0 {
            w.write_all(&la).map_err(io)?;
            n += 1;
        }
        if rb > 0 {
            w.write_all(&shift_serial(&lb, 1_000_000_000)).map_err(io)?;
            n += 1;
        }
    }
    w.flush().map_err(io)?;
    Ok(n)
}

fn best(repeat: u32, mut f: impl FnMut() -> Result<Measured, String>) -> Result<Measured, String> {
    let mut best: Option<Measured> = None;
    for _ in 0..repeat {
        let m = f()?;
        if !m.success() {
            return Err(m.failure());
        }
        if best.as_ref().is_none_or(|b| m.cpu < b.cpu) {
            best = Some(m);
        }
    }
    best.ok_or_else(|| "no run".into())
}

fn run(o: &Options) -> Result<(), String> {
    std::fs::create_dir_all(&o.cache).map_err(|e| format!("{}: {e}", o.cache.display()))?;
    if !o.auparse.exists() {
        return Err(format!(
            "{}: not found (cargo build --release -p auparse-tools)",
            o.auparse.display()
        ));
    }
    let (a, b) = (producer_log(o, 1)?, producer_log(o, 2)?);
    let file = o
        .cache
        .join(format!("fsaction-interleaved-{}.log", o.events));
    let records = merge(&a, &b, &file)?;
    println!(
        "# auparse-bench fsaction: 2 producers x {} events, records alternating: {} records, piped at {} records/s",
        o.events,
        records,
        o.rate
    );
    println!("machine: {}", crate::machine());
    let cmd = |input: &str| {
        let mut c = Command::new(&o.auparse);
        c.args(["fsaction", "--output", "-", input]);
        c
    };
    let off = best(o.repeat, || {
        run_measured_input(&mut cmd(file.to_str().unwrap_or("")), Stdout::Count, None)
    })?;
    let pipe = best(o.repeat, || {
        run_measured_input(&mut cmd("-"), Stdout::Count, Some((&file, o.rate)))
    })?;
    let same = off.lines == pipe.lines && off.hash == pipe.hash;
    println!();
    println!("| input | changes | CPU s | peak RSS MB | CPU s per 100k changes | wall s |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, m) in [
        ("file (offline)", &off),
        ("pipe, one record per write(2)", &pipe),
    ] {
        let per = 100_000.0 / m.lines.max(1) as f64;
        println!(
            "| {name} | {} | {:.2} | {:.1} | {:.2} | {:.2} |",
            m.lines,
            m.cpu.as_secs_f64(),
            m.max_rss_kb as f64 / 1024.0,
            m.cpu.as_secs_f64() * per,
            m.wall.as_secs_f64(),
        );
    }
    println!();
    println!(
        "pipe/file: CPU {:.2}x, peak RSS {:.2}x; outputs {}",
        pipe.cpu.as_secs_f64() / off.cpu.as_secs_f64().max(1e-9),
        pipe.max_rss_kb as f64 / off.max_rss_kb.max(1) as f64,
        if same {
            "identical (same lines, same order)"
        } else {
            "DIFFER"
        }
    );
    if same {
        Ok(())
    } else {
        Err(format!(
            "outputs differ: file {} lines, pipe {} lines",
            off.lines, pipe.lines
        ))
    }
}
