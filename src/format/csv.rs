//! `ausearch --format csv`: a header line, then one row of normalized columns
//! per event.
//!
//! ```
//! use auparse::format::csv::{CsvOptions, CsvWriter};
//!
//! let log: &[u8] = b"type=DAEMON_START msg=audit(1653911600.000:6543): op=start ver=3.0.9 format=enriched kernel=5.15.0 auid=4294967295 pid=1 uid=0 ses=4294967295 res=success\n";
//! let csv = CsvWriter::new(CsvOptions { extra_keys: true, ..CsvOptions::default() });
//! let mut out = Vec::new();
//! csv.header(&mut out);
//! for ev in auparse::read_events(log)? {
//!     csv.row(&ev?, &mut out);
//! }
//! let text = String::from_utf8(out).unwrap();
//! assert!(text.starts_with("NODE,EVENT,DATE,TIME,SERIAL_NUM,EVENT_KIND,"));
//! assert!(text.ends_with(",6543,audit-daemon,unset,system,root,auditd,started-audit,success,,,service,init,\n"));
//! # Ok::<(), auparse::Error>(())
//! ```
//!
//! Quirks of ausearch 3.0.9 kept on purpose: an event libauparse cannot
//! normalize gets a row of empty columns that is one column short when
//! `extra_obj2` is on; `GMT_OFFSET` minutes are `(offset % 3600) % 60`,
//! so always `00` for whole-minute offsets; an unknown object kind is `(null)`.

use super::{
    is_success, local_time, node_text, object_is_field_name, push_02, push_date, push_hms,
    push_u64, LocalTime,
};
use crate::event::Event;
use crate::normalize::{NormField, Normalized};

/// The optional columns, as ausearch's `--extra-*` flags.
///
/// ```
/// use auparse::format::csv::{CsvOptions, CsvWriter};
/// let opts = CsvOptions { extra_time: true, extra_keys: true, ..CsvOptions::default() };
/// let mut out = Vec::new();
/// CsvWriter::new(opts).header(&mut out);
/// assert!(out.ends_with(b",KEY\n"));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CsvOptions {
    /// `--extra-time`: `YEAR,MONTH,DAY,WEEKDAY,HOUR,MILLI,GMT_OFFSET` after `TIME`.
    pub extra_time: bool,
    /// `--extra-labels`: `SUBJ_LABEL` and `OBJ_LABEL` (normalization with
    /// attributes, [`Event::normalized_all`]).
    pub extra_labels: bool,
    /// `--extra-keys`: `KEY` at the end.
    pub extra_keys: bool,
    /// `--extra-obj2`: `OBJ2`, the second object.
    pub extra_obj2: bool,
}

/// Writes ausearch's csv: [`header`](Self::header) once, then a
/// [`row`](Self::row) per event. Stateless; each call appends to `out`.
///
/// ```
/// use auparse::format::csv::CsvWriter;
/// let csv = CsvWriter::default();
/// let mut out = Vec::new();
/// csv.header(&mut out);
/// for ev in auparse::read_events(&b"type=DAEMON_START msg=audit(1700000000.000:1): op=start ver=3.0.9 auid=4294967295 pid=1 uid=0 ses=4294967295 res=success\n"[..])? {
///     csv.row(&ev?, &mut out);
/// }
/// assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 2); // header + one row
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CsvWriter {
    opts: CsvOptions,
}

impl CsvWriter {
    /// A writer with these columns.
    pub fn new(opts: CsvOptions) -> Self {
        CsvWriter { opts }
    }

    /// The columns this writer writes.
    pub fn options(&self) -> CsvOptions {
        self.opts
    }

    /// Appends the header line. ausearch prints it before the first row only,
    /// so an input without events has no header.
    pub fn header(&self, out: &mut Vec<u8>) {
        let o = &self.opts;
        out.extend_from_slice(b"NODE,EVENT,DATE,TIME,");
        if o.extra_time {
            out.extend_from_slice(b"YEAR,MONTH,DAY,WEEKDAY,HOUR,MILLI,GMT_OFFSET,");
        }
        out.extend_from_slice(b"SERIAL_NUM,EVENT_KIND,SESSION,SUBJ_PRIME,SUBJ_SEC,SUBJ_KIND,");
        if o.extra_labels {
            out.extend_from_slice(b"SUBJ_LABEL,");
        }
        out.extend_from_slice(b"ACTION,RESULT,OBJ_PRIME,OBJ_SEC,");
        if o.extra_obj2 {
            out.extend_from_slice(b"OBJ2,");
        }
        if o.extra_labels {
            out.extend_from_slice(b"OBJ_LABEL,");
        }
        out.extend_from_slice(b"OBJ_KIND,HOW");
        if o.extra_keys {
            out.extend_from_slice(b",KEY");
        }
        out.push(b'\n');
    }

    /// Appends the row of `ev`: always one line, control characters in
    /// values escaped as ausearch's TTY mode does (`\ooo`), whatever escape
    /// mode the event was read in.
    pub fn row(&self, ev: &Event, out: &mut Vec<u8>) {
        let start = out.len();
        self.row_as_read(ev, out);
        // Every row ends in its newline: escape what comes before it.
        let newline = out.pop();
        debug_assert_eq!(newline, Some(b'\n'));
        super::tty_escape_from(out, start);
        out.push(b'\n');
    }

    /// The row with the values as the event holds them.
    fn row_as_read(&self, ev: &Event, out: &mut Vec<u8>) {
        let o = &self.opts;
        event_columns(ev, o, out);
        let norm = if o.extra_labels {
            ev.normalized_all.as_deref()
        } else {
            ev.normalized.as_ref()
        };
        let Some(n) = norm else {
            out.extend_from_slice(b",,,,,,,,,");
            if o.extra_labels {
                out.extend_from_slice(b",,");
            }
            if o.extra_keys {
                out.push(b',');
            }
            out.push(b'\n');
            return;
        };

        out.extend_from_slice(n.kind.as_deref().unwrap_or(b"unknown"));
        out.push(b',');
        value(out, n.session.as_ref());
        subject_columns(n, o, out);
        out.extend_from_slice(n.action.as_deref().unwrap_or(b"did-unknown"));
        out.push(b',');
        match &n.results {
            Some(r) if is_success(r) => out.extend_from_slice(b"success"),
            Some(_) => out.extend_from_slice(b"failed"),
            None => {}
        }
        out.push(b',');
        object_columns(ev, n, o, out);
        if let Some(h) = &n.how {
            out.extend_from_slice(h);
        }
        if o.extra_keys {
            out.push(b',');
            if let Some(k) = &n.key {
                out.extend_from_slice(&k.value);
            }
        }
        out.push(b'\n');
    }
}

/// NODE, EVENT, DATE, TIME, the `--extra-time` columns and SERIAL_NUM.
fn event_columns(ev: &Event, o: &CsvOptions, out: &mut Vec<u8>) {
    // NODE
    if ev.node.is_some() {
        out.extend_from_slice(node_text(ev));
    }
    out.push(b',');
    // EVENT: the type of the first record, empty when libauparse has no name.
    if let Some(r) = ev.records.first() {
        if !r.type_name.starts_with("UNKNOWN[") {
            out.extend_from_slice(r.type_name.as_bytes());
        }
    }
    out.push(b',');

    let t = local_time(ev.timestamp.sec);
    if let Some(t) = &t {
        push_date(out, t);
    }
    out.push(b',');
    if let Some(t) = &t {
        push_hms(out, t);
    }
    out.push(b',');
    if o.extra_time {
        extra_time_columns(ev, t.as_ref(), out);
    }
    push_u64(out, ev.serial);
    out.push(b',');
}

/// YEAR, MONTH, DAY, WEEKDAY, HOUR, MILLI and GMT_OFFSET (`--extra-time`).
fn extra_time_columns(ev: &Event, t: Option<&LocalTime>, out: &mut Vec<u8>) {
    if let Some(t) = t {
        push_u64(out, t.year as u64);
        out.push(b',');
        push_02(out, t.month);
        out.push(b',');
        push_02(out, t.day);
        out.push(b',');
        push_u64(out, u64::from(t.weekday));
        out.push(b',');
        if t.hour < 10 {
            out.push(b' ');
        }
        push_u64(out, u64::from(t.hour));
        out.push(b',');
        push_u64(out, u64::from(ev.timestamp.milli));
        out.push(b',');
        out.push(if t.gmtoff >= 0 { b'+' } else { b'-' });
        let total = t.gmtoff.unsigned_abs();
        let hour = total / 3600;
        push_02(out, hour);
        out.push(b':');
        push_02(out, (total - hour * 3600) % 60);
        out.push(b',');
    } else {
        out.extend_from_slice(b",,,,,");
        push_u64(out, u64::from(ev.timestamp.milli));
        out.extend_from_slice(b",,");
    }
}

/// SUBJ_PRIME, SUBJ_SEC, SUBJ_KIND and (`--extra-labels`) SUBJ_LABEL.
fn subject_columns(n: &Normalized, o: &CsvOptions, out: &mut Vec<u8>) {
    if let Some(s) = &n.subject.primary {
        if s.value == "unset" {
            out.extend_from_slice(b"system");
        } else {
            out.extend_from_slice(&s.value);
        }
    }
    out.push(b',');
    value(out, n.subject.secondary.as_ref());
    if let Some(k) = &n.subject.kind {
        out.extend_from_slice(k);
    }
    out.push(b',');
    if o.extra_labels {
        value(out, n.subject.label.as_ref());
    }
}

/// OBJ_PRIME, OBJ_SEC, (`--extra-obj2`) OBJ2, (`--extra-labels`) OBJ_LABEL
/// and OBJ_KIND.
fn object_columns(ev: &Event, n: &Normalized, o: &CsvOptions, out: &mut Vec<u8>) {
    // File names: the interpretation already is the realpath (ausearch
    // checks for one before the config-change case).
    match &n.object.primary {
        Some(f)
            if f.field_type != crate::FieldType::EscapedFile
                && object_is_field_name(
                    ev.records.get(f.record).map(|r| r.record_type),
                    n.action.as_deref(),
                ) =>
        {
            out.extend_from_slice(&f.field);
            out.push(b',');
        }
        f => value(out, f.as_ref()),
    }
    value(out, n.object.secondary.as_ref());
    if o.extra_obj2 {
        value(out, n.object.primary2.as_ref());
    }
    if o.extra_labels {
        value(out, n.object.label.as_ref());
    }
    out.extend_from_slice(n.object.kind.as_deref().unwrap_or(b"(null)"));
    out.push(b',');
}

/// The interpreted value (if any) and a comma.
#[inline]
fn value(out: &mut Vec<u8>, f: Option<&NormField>) {
    if let Some(f) = f {
        out.extend_from_slice(&f.value);
    }
    out.push(b',');
}
