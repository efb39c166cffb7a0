//! The `auparse` command line: subcommands json, pretty, text, csv, fsaction.

use crate::filter::Filter;
use crate::fsaction;
use crate::input::{self, Handler, ReadOptions, Source};
use crate::output::Out;
use crate::timespec::parse_time;
use crate::{CmdResult, Fatal};
use auparse::format::csv::{CsvOptions, CsvWriter};
use auparse::format::json::{self, JsonOptions};
use auparse::format::pretty::{self, PrettyOptions};
use auparse::format::text::{self, TextOptions};
use auparse::{EscapeMode, Event, Feeder, FsChange, FsTracker, Grouping};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::IsTerminal;

const EXAMPLES: &str = "\
Examples:
  auparse json /var/log/audit/audit.log            one JSON object per event
  ausearch --raw -k fsaction | auparse json         events of one rule key, from ausearch
  auparse pretty --key fsaction --since today audit.log
  auparse text audit.log                            same as ausearch -if audit.log --format text
  auparse csv --extra-time --extra-keys audit.log
  auparse json --follow /var/log/audit/audit.log    keep reading as the log grows (and rotates)
  auparse fsaction --print-config --watch /srv/data install the plugin";

/// Linux audit events (auditd records) as JSON lines, readable text,
/// ausearch-compatible text and CSV, and a log of filesystem changes.
#[derive(Debug, Parser)]
#[command(name = "auparse", version, after_help = EXAMPLES, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub cmd: Cmd,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// One JSON object per event per line (JSON Lines).
    #[command(after_help = "Example:\n  auparse json --key fsaction audit.log | jq .filepath")]
    Json(JsonArgs),
    /// A readable multi-line view of each event, headed by its one-line summary.
    #[command(after_help = "Example:\n  auparse pretty --since recent /var/log/audit/audit.log")]
    Pretty(PrettyArgs),
    /// The same lines as `ausearch --format text`.
    #[command(
        after_help = "Example:\n  auparse text audit.log   # = ausearch -if audit.log --format text"
    )]
    Text(CommonArgs),
    /// The same lines as `ausearch --format csv` (header first).
    #[command(after_help = "Example:\n  auparse csv --extra-time --extra-labels audit.log")]
    Csv(CsvArgs),
    /// Log of filesystem changes in watched directories (the auditd plugin).
    Fsaction(fsaction::Args),
}

/// Options every event-printing subcommand takes.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Audit logs, read in order as one stream; `-` or none reads standard input
    /// (audit.log form, `ausearch --raw` output, or the audispd plugin stream).
    #[arg(value_name = "FILE")]
    pub files: Vec<OsString>,
    /// Keep reading FILE as it grows, across rotation (like `tail -F`); events
    /// are aged by the wall clock so each appears within about 2 s.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Only events with this rule key (exact match against any of the
    /// event's keys). Repeat for several keys.
    #[arg(short = 'k', long = "key", value_name = "KEY")]
    pub keys: Vec<String>,
    /// Only events whose normalized action (e.g. opened-file, deleted,
    /// renamed) or filesystem-change action is ACTION. Repeatable.
    #[arg(short = 'a', long = "action", value_name = "ACTION")]
    pub actions: Vec<String>,
    /// Only events at or after TIME: now, recent, today, yesterday, this-week,
    /// week-ago, this-month, this-year, MM/DD/YYYY [HH:MM:SS], YYYY-MM-DD
    /// [HH:MM:SS], RFC 3339, or @SECONDS.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub since: Option<i64>,
    /// Only events at or before TIME (same forms as --since).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<i64>,
    /// Never show a progress bar (it is shown only on a terminal, for large files).
    #[arg(long)]
    pub no_progress: bool,
    /// End-of-event timeout in seconds of log time, at least 1 (default:
    /// auditd.conf's, or 2).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u32).range(1..))]
    pub eoe_timeout: Option<u32>,
    /// Who groups records into events: a Rust grouper that does what
    /// ausearch does (the default: ausearch's event order, fast on logs with
    /// kernel ANOM_* records or out-of-order timestamps), libauparse's
    /// feed mode (the order the original auditd_tools printed), or
    /// libauparse's rules applied in Rust (indexed: the same events as
    /// libauparse, fast where it slows down).
    #[arg(long, value_enum, value_name = "WHO")]
    pub grouping: Option<GroupingArg>,
}

/// `--grouping`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GroupingArg {
    /// libauparse's feed mode (the order the original tool printed).
    Libauparse,
    /// ausearch's grouper, re-implemented in Rust.
    Ausearch,
    /// libauparse's feed-mode rules and order, applied in Rust: the same
    /// events as `libauparse`, without its slowdown when many events wait
    /// behind a late one.
    Indexed,
}

/// Options of `auparse json`.
#[derive(Debug, Args)]
pub struct JsonArgs {
    /// Inputs and filters.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Write `datetime` in the local time zone (default: UTC).
    #[arg(long)]
    pub local_time: bool,
    /// The shape of each line: `auditd-tools` (the original tool's object,
    /// extended) or `event` (the library's `Event`, every member, lossless:
    /// it reads back into equal values with serde, plus `changes`).
    #[arg(long, value_enum, default_value_t = JsonSchema::AuditdTools)]
    pub schema: JsonSchema,
}

/// `auparse json --schema`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JsonSchema {
    /// The original auditd_tools object: `records[]` with `_type`, `_raw`
    /// and typed values, `normalized`, `key`, `filepath`, `action`, ...
    AuditdTools,
    /// `auparse::Event` as serde writes it (and reads it back), plus
    /// `changes[]`.
    Event,
}

/// One line of `--schema event`.
#[derive(serde::Serialize)]
struct EventLine<'a> {
    #[serde(flatten)]
    event: &'a Event,
    changes: &'a [FsChange],
}

/// When to colour.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Options of `auparse pretty`.
#[derive(Debug, Args)]
pub struct PrettyArgs {
    /// Inputs and filters.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Times in the local time zone (default: UTC).
    #[arg(long)]
    pub local_time: bool,
    /// Colour the output.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
}

/// Options of `auparse csv`.
#[derive(Debug, Args)]
pub struct CsvArgs {
    /// Inputs and filters.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Add ausearch's extra time columns (DATE, TIME with milliseconds, ...).
    #[arg(long)]
    pub extra_time: bool,
    /// Add the subject and object label columns.
    #[arg(long)]
    pub extra_labels: bool,
    /// Add the KEY column.
    #[arg(long)]
    pub extra_keys: bool,
    /// Add the second object column.
    #[arg(long)]
    pub extra_obj2: bool,
}

enum Format {
    Json(JsonOptions),
    EventJson,
    Pretty(PrettyOptions),
    Text,
    Csv(CsvWriter, bool),
}

/// Prints events in one format, in input order; events whose filesystem
/// changes wait for a directory (rm -r) are held back with everything after them.
struct Printer {
    out: Out,
    filter: Filter,
    tracker: FsTracker,
    format: Format,
    queue: VecDeque<(Event, Vec<FsChange>)>,
    buf: Vec<u8>,
    /// Compute filesystem changes (json and pretty show them; --action may
    /// match them).
    track: bool,
    /// Events done with, handed back to the reading thread to be freed there
    /// (see `input::Handler::take_spent`).
    spent: Vec<Event>,
}

impl Printer {
    fn print(&mut self, ev: &Event, changes: &[FsChange]) -> CmdResult {
        let actions: Vec<&str> = changes.iter().map(|c| c.action.as_str()).collect();
        if !self.filter.matches_action(ev, &actions) {
            return Ok(());
        }
        self.buf.clear();
        match &mut self.format {
            Format::Json(o) => json::write_event(ev, changes, o, &mut self.buf),
            Format::EventJson => {
                let line = EventLine { event: ev, changes };
                serde_json::to_writer(&mut self.buf, &line)
                    .map_err(|e| Fatal(format!("event {}: {e}", ev.serial)))?;
                self.buf.push(b'\n');
            }
            Format::Pretty(o) => pretty::write_event(ev, changes, o, &mut self.buf),
            Format::Text => text::write_text(ev, &TextOptions::default(), &mut self.buf),
            Format::Csv(w, header_done) => {
                if !*header_done {
                    w.header(&mut self.buf);
                    *header_done = true;
                }
                w.row(ev, &mut self.buf);
            }
        }
        self.out.write(&self.buf)
    }

    fn drain(&mut self, all: bool) -> CmdResult {
        while let Some((ev, _)) = self.queue.front() {
            if !all && self.tracker.is_pending(ev.serial) {
                break;
            }
            let (ev, changes) = self.queue.pop_front().expect("front exists");
            let printed = self.print(&ev, &changes);
            self.spent.push(ev);
            printed?;
        }
        Ok(())
    }

    fn attach(&mut self, changes: Vec<FsChange>) {
        for c in changes {
            if let Some((_, list)) = self
                .queue
                .iter_mut()
                .rev()
                .find(|(e, _)| e.serial == c.serial)
            {
                list.push(c);
            }
        }
    }
}

/// Events held back while an earlier one waits for its directory (rm -r of a
/// tree seen for the first time): beyond this, the waiting changes are
/// reported with the PARENT name standing in, so memory stays bounded.
const MAX_HELD: usize = 256;

impl Handler for Printer {
    fn events(&mut self, batch: &mut Vec<Event>) -> CmdResult {
        for ev in batch.drain(..) {
            if !self.filter.matches_event(&ev) {
                self.spent.push(ev);
                continue;
            }
            if !self.track {
                // text and csv show no filesystem changes.
                let printed = self.print(&ev, &[]);
                self.spent.push(ev);
                printed?;
                continue;
            }
            let changes = self.tracker.changes(&ev);
            self.queue.push_back((ev, Vec::new()));
            self.attach(changes);
            if self.queue.len() > MAX_HELD {
                let late = self.tracker.flush();
                self.attach(late);
                self.drain(true)?;
            }
        }
        self.drain(false)?;
        self.out.batch_done()
    }

    fn idle(&mut self) -> CmdResult {
        // Held-back changes expire by log time, which stops when the input
        // is quiet: release them now.
        if !self.queue.is_empty() {
            let late = self.tracker.flush();
            self.attach(late);
            self.drain(true)?;
        }
        self.out.batch_done()
    }

    fn end(&mut self) -> CmdResult {
        let late = self.tracker.flush();
        self.attach(late);
        self.drain(true)?;
        self.out.flush()
    }

    fn take_spent(&mut self, into: &mut Vec<Event>) {
        into.append(&mut self.spent);
    }
}

fn run_format(common: &CommonArgs, format: Format, escape: EscapeMode) -> CmdResult {
    let mut feeder = Feeder::new().map_err(|e| Fatal(e.to_string()))?;
    feeder
        .set_escape_mode(escape)
        .map_err(|e| Fatal(e.to_string()))?;
    let needs_attrs = matches!(&format, Format::Csv(w, _) if w.options().extra_labels);
    let track = matches!(
        format,
        Format::Json(_) | Format::EventJson | Format::Pretty(_)
    ) || !common.actions.is_empty();
    // The Rust grouper by default: it is what ausearch does (text and csv
    // must match it), and libauparse's own grouping slows down by a large
    // factor on logs with kernel ANOM_* records or out-of-order timestamps.
    feeder.set_grouping(match common.grouping {
        Some(GroupingArg::Libauparse) => Grouping::Libauparse,
        Some(GroupingArg::Ausearch) | None => Grouping::Ausearch,
        Some(GroupingArg::Indexed) => Grouping::Indexed,
    });
    if let Some(t) = common.eoe_timeout {
        feeder.set_eoe_timeout(t);
    }
    let live = common.follow || common.files.is_empty() || common.files.iter().any(|f| f == "-");
    let mut out = Out::new();
    out.eager = live;
    let mut printer = Printer {
        out,
        filter: Filter {
            keys: common.keys.clone(),
            actions: common.actions.clone(),
            since: common.since,
            until: common.until,
        },
        tracker: {
            let mut t = FsTracker::default();
            // Following the live log of this host: entries the log has not
            // shown yet are looked up through the process's descriptors.
            if common.follow {
                t.set_host_roots(Vec::new());
            }
            t
        },
        format,
        queue: VecDeque::new(),
        buf: Vec::with_capacity(64 * 1024),
        track,
        spent: Vec::new(),
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    if common.follow {
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(sig, stop.clone())
                .map_err(|e| Fatal(format!("signal setup: {e}")))?;
        }
    }
    let sources: Vec<Source> = common.files.iter().map(|f| Source::from_arg(f)).collect();
    let opts = ReadOptions {
        event: auparse::EventOptions::normalize_attrs(needs_attrs).with_skip_fields(!track),
        follow: common.follow,
        progress: !common.no_progress,
        stop: Some(stop),
        ..ReadOptions::default()
    };
    if matches!(
        printer.format,
        Format::Json(_) | Format::EventJson | Format::Pretty(_)
    ) {
        // Parsing on this thread; filesystem changes, formatting and writing
        // (a third of json's work) on another. text and csv write too little
        // to gain from it.
        input::run_pipelined(&sources, &mut feeder, &mut printer, &opts)
    } else {
        input::run(&sources, &mut feeder, &mut printer, &opts)
    }
}

/// Runs the parsed command line.
///
/// # Errors
/// A one-line message for the user.
pub fn run(cli: Cli) -> CmdResult {
    match cli.cmd {
        Cmd::Json(a) => run_format(
            &a.common,
            match a.schema {
                JsonSchema::AuditdTools => Format::Json(JsonOptions::new(a.local_time)),
                JsonSchema::Event => Format::EventJson,
            },
            EscapeMode::Raw,
        ),
        Cmd::Pretty(a) => {
            let color = match a.color {
                ColorWhen::Always => true,
                ColorWhen::Never => false,
                ColorWhen::Auto => {
                    std::io::stdout().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                }
            };
            run_format(
                &a.common,
                Format::Pretty(PrettyOptions::new(color, a.local_time)),
                EscapeMode::Raw,
            )
        }
        Cmd::Text(a) => run_format(&a, Format::Text, EscapeMode::Tty),
        Cmd::Csv(a) => {
            let opts = CsvOptions {
                extra_time: a.extra_time,
                extra_labels: a.extra_labels,
                extra_keys: a.extra_keys,
                extra_obj2: a.extra_obj2,
            };
            run_format(
                &a.common,
                Format::Csv(CsvWriter::new(opts), false),
                EscapeMode::Tty,
            )
        }
        Cmd::Fsaction(a) => fsaction::run(a),
    }
}
