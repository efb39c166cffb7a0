//! One JSON object per event per line (JSON Lines), in the schema of the
//! original auditd_tools `jsonify_events.py`, plus what it lacked.
//!
//! ```text
//! {"serial":1001,"timestamp":1653911717.02,"datetime":"2022-05-30T11:55:17.020+00:00",
//!  "node":null,"records":[{"_type":"SYSCALL","_raw":{...},"type":"SYSCALL",...},...],
//!  "normalized":{"event_kind":"audit-rule","session":"3","subject.primary.field":"auid",...},
//!  "key":"fsaction","keys":["fsaction"],"filepath":"/home/joerg/tmp/bar",
//!  "action":"opened-file","result":"success","argv":[...],"proctitle":[...],
//!  "changes":[{"kind":"created","action":"created-file","path":"/home/joerg/tmp/bar",...}]}
//! ```
//!
//! - `records[]`: `_type`, then `_raw` (the raw values that differ from their
//!   interpretation), then every field as `name: value` in record order. A value
//!   is a JSON integer only where the field really is a number
//!   ([`Field::value`](crate::Field::value)), `null` for `(null)`, else a string.
//!   A name that occurs twice in a record keeps its first position and its
//!   last value (as the original's dictionaries did).
//! - `normalized`: the original's key names; a missing part is left out, as
//!   there; a subject of `unset` reads `system`, as there.
//! - `key`: the first rule key (`keys` has them all), `null` when none.
//! - `filepath`: the absolute path of the first filesystem change, else of the
//!   file the normalized event acted on, else `""`.
//! - Strings: bytes in the lossless [escaping scheme](crate::bytes)
//!   (backslash doubled, invalid UTF-8 as `\xHH`), then as a JSON string,
//!   byte for byte as `serde_json` writes that text:
//!   [`bytes::unescape`](crate::bytes::unescape) of the parsed string gives
//!   back the exact bytes.
//! - `null` where libauparse shows `(null)`: a record value the kernel wrote
//!   as an unquoted `(null)` (it had none; the original also wrote `null`,
//!   except for file names, which it joined to the cwd as `/cwd/(null)`),
//!   and a normalized value that is `(null)` or comes from such a field (the
//!   original wrote the string); `filepath` is then `""`.

use crate::bytes::Bytes;
use crate::event::{Event, Record, Value};
use crate::fschange::FsChange;
use crate::normalize::{NormField, Normalized, Outcome};
use chrono::{DateTime, FixedOffset, Local, TimeZone, Utc};
use std::io::Write as _;

/// Options of the JSON writer.
///
/// ```
/// use auparse::format::json::{write_event, JsonOptions};
/// let mut out = Vec::new();
/// for ev in auparse::read_events(&b"type=DAEMON_START msg=audit(1700000000.000:1): op=start ver=3.0.9 res=success\n"[..])? {
///     write_event(&ev?, &[], &JsonOptions::new(false), &mut out);
/// }
/// let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
/// assert_eq!(v["datetime"], "2023-11-14T22:13:20.000+00:00");
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JsonOptions {
    /// Write `datetime` in the local time zone instead of UTC.
    pub local_time: bool,
}

impl JsonOptions {
    /// Options with `datetime` in local time (`true`) or UTC.
    pub fn new(local_time: bool) -> Self {
        JsonOptions { local_time }
    }
}

/// Bytes that need more than a copy: control characters, `"`, `\\`, and
/// every non-ASCII byte (checked as UTF-8).
const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i < 0x20 || i == b'"' as usize || i == b'\\' as usize || i >= 0x80;
        i += 1;
    }
    t
};

/// True if any byte of `x` is special: below 0x20, `"`, `\\` or non-ASCII
/// (the classic "has a zero byte" bit tricks, eight bytes at once).
#[inline]
fn any_special(x: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let below_space = x.wrapping_sub(LO * 0x20) & !x & HI;
    (x & HI) | below_space | zero(x ^ (LO * u64::from(b'"'))) | zero(x ^ (LO * u64::from(b'\\')))
        != 0
}

/// Appends `s` as a JSON string (quotes included) in the lossless
/// [escaping scheme](crate::bytes): the same bytes as
/// `serde_json::to_string(&auparse::bytes::escape(s))`, faster.
pub fn write_str(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    // Fast path: runs of plain ASCII are copied as they are.
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        // Eight bytes at a time while none of them is special.
        if i + 8 <= s.len() {
            let mut word = [0u8; 8];
            word.copy_from_slice(&s[i..i + 8]);
            if !any_special(u64::from_le_bytes(word)) {
                i += 8;
                continue;
            }
        }
        let b = s[i];
        if !SPECIAL[b as usize] {
            i += 1;
            continue;
        }
        out.extend_from_slice(&s[start..i]);
        if b >= 0x80 {
            // Non-ASCII: the rest goes through UTF-8 validation.
            write_utf8(out, &s[i..]);
            out.push(b'"');
            return;
        }
        write_valid(out, &s[i..=i]);
        i += 1;
        start = i;
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}

/// Valid UTF-8 with JSON escapes; invalid bytes as `\xHH`.
fn write_utf8(out: &mut Vec<u8>, s: &[u8]) {
    for chunk in s.utf8_chunks() {
        write_valid(out, chunk.valid().as_bytes());
        for b in chunk.invalid() {
            let _ = write!(out, "\\\\x{b:02x}");
        }
    }
}

/// Valid UTF-8 as a JSON string's content, escaped as serde_json does
/// (`\b`, `\f`, `\n`, `\r`, `\t`, `\u00xx` for other controls), a backslash
/// doubled first by the escaping scheme (so four in the JSON text).
fn write_valid(out: &mut Vec<u8>, s: &[u8]) {
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{:04x}", b);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&s[start..]);
}

/// `null` for libauparse's `(null)` (no value), else the JSON string.
fn write_null_or_str(out: &mut Vec<u8>, s: &[u8]) {
    write_opt(out, (s != b"(null)").then_some(s));
}

/// Appends `s` as a JSON string, or `null`.
pub fn write_opt(out: &mut Vec<u8>, s: Option<&[u8]>) {
    match s {
        Some(s) => write_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

fn write_list(out: &mut Vec<u8>, items: &[Bytes]) {
    out.push(b'[');
    for (i, a) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, a);
    }
    out.push(b']');
}

fn write_value(out: &mut Vec<u8>, v: Value<'_>) {
    match v {
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Text(t) => write_str(out, t),
        Value::Null => out.extend_from_slice(b"null"),
    }
}

/// `datetime`: RFC 3339 with milliseconds and an offset.
pub fn rfc3339(sec: i64, milli: u32, local_time: bool) -> String {
    let mut out = Vec::with_capacity(32);
    write_datetime(&mut out, sec, milli, local_time);
    String::from_utf8(out).unwrap_or_default()
}

thread_local! {
    /// The last second formatted: (sec, local, "YYYY-MM-DDTHH:MM:SS", "+HH:MM").
    static LAST_SECOND: std::cell::RefCell<Option<(i64, bool, String, String)>> =
        const { std::cell::RefCell::new(None) };
}

/// Appends the RFC 3339 time (consecutive events mostly share their second,
/// so the formatted second is cached).
pub fn write_datetime(out: &mut Vec<u8>, sec: i64, milli: u32, local_time: bool) {
    LAST_SECOND.with(|cell| {
        let mut cache = cell.borrow_mut();
        if !matches!(&*cache, Some((s, l, _, _)) if *s == sec && *l == local_time) {
            let formatted = format_second(sec, local_time);
            *cache = formatted.map(|(a, b)| (sec, local_time, a, b));
        }
        if let Some((_, _, date, offset)) = &*cache {
            out.extend_from_slice(date.as_bytes());
            let _ = write!(out, ".{:03}", milli.min(999));
            out.extend_from_slice(offset.as_bytes());
        }
    });
}

fn format_second(sec: i64, local_time: bool) -> Option<(String, String)> {
    let full = if local_time {
        Local
            .timestamp_opt(sec, 0)
            .single()
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
    } else {
        None
    };
    let full = match full {
        Some(f) => f,
        None => DateTime::<Utc>::from_timestamp(sec, 0)?
            .with_timezone(&FixedOffset::east_opt(0).expect("zero offset"))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
    };
    // "2022-05-30T11:55:17+00:00": the offset is the last six characters.
    let split = full.len().checked_sub(6)?;
    Some((full[..split].to_string(), full[split..].to_string()))
}

/// The file path of an event, as the `filepath` of the JSON object.
pub fn filepath<'a>(ev: &'a Event, changes: &'a [FsChange]) -> &'a [u8] {
    if let Some(c) = changes.first() {
        return &c.path;
    }
    let Some(n) = &ev.normalized else { return b"" };
    if n.object.kind.as_deref() != Some(b"file") {
        return b"";
    }
    match &n.object.primary {
        Some(f) if f.field == "name" && f.raw != "(null)" && f.value.first() == Some(&b'/') => {
            &f.value
        }
        _ => b"",
    }
}

/// Writes one event as a JSON object and a newline. `changes` are its
/// filesystem changes ([`FsTracker::changes`](crate::FsTracker::changes)).
pub fn write_event(ev: &Event, changes: &[FsChange], opts: &JsonOptions, out: &mut Vec<u8>) {
    write_head(ev, opts, out);
    out.extend_from_slice(b",\"node\":");
    write_opt(out, ev.node.as_deref());
    out.extend_from_slice(b",\"records\":[");
    write_records(&ev.records, out);
    out.extend_from_slice(b"],\"normalized\":{");
    if let Some(n) = &ev.normalized {
        write_normalized(n, out);
    }
    out.push(b'}');
    write_tail(ev, changes, out);
}

/// `"serial"`, `"timestamp"` and `"datetime"`: the start of an event's object.
fn write_head(ev: &Event, opts: &JsonOptions, out: &mut Vec<u8>) {
    let _ = write!(out, "{{\"serial\":{},\"timestamp\":", ev.serial);
    // Seconds with the milliseconds as a decimal fraction, like the original
    // (1653911717.02): trailing zeros dropped.
    let _ = write!(out, "{}", ev.timestamp.sec);
    if ev.timestamp.milli > 0 {
        let frac = format!("{:03}", ev.timestamp.milli.min(999));
        let _ = write!(out, ".{}", frac.trim_end_matches('0'));
    } else {
        out.extend_from_slice(b".0");
    }
    out.extend_from_slice(b",\"datetime\":\"");
    write_datetime(out, ev.timestamp.sec, ev.timestamp.milli, opts.local_time);
    out.push(b'"');
}

/// The members of `"records"`: each record's type, its raw values where they
/// differ from the interpreted ones, and its values.
fn write_records(records: &[Record], out: &mut Vec<u8>) {
    let mut seen: Vec<(&[u8], usize)> = Vec::new();
    for (ri, r) in records.iter().enumerate() {
        if ri > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"_type\":");
        write_str(out, r.type_name.as_bytes());
        out.extend_from_slice(b",\"_raw\":{");
        // Fields by name: first position, last value. Names rarely repeat:
        // a 64-bit filter on (length, first byte) skips most comparisons.
        seen.clear();
        let mut filter = 0u64;
        for (i, f) in r.fields.iter().enumerate() {
            let bit = 1u64
                << ((f.name.len() * 31 + usize::from(f.name.first().copied().unwrap_or(0))) % 64);
            if filter & bit != 0 {
                if let Some(slot) = seen.iter_mut().find(|(n, _)| *n == &f.name[..]) {
                    slot.1 = i;
                    continue;
                }
            }
            filter |= bit;
            seen.push((&f.name, i));
        }
        let mut first = true;
        for &(name, i) in &seen {
            let f = &r.fields[i];
            if f.raw != *f.realpath_or_interpreted() {
                if !first {
                    out.push(b',');
                }
                first = false;
                write_str(out, name);
                out.push(b':');
                write_str(out, &f.raw);
            }
        }
        out.push(b'}');
        for &(name, i) in &seen {
            out.push(b',');
            write_str(out, name);
            out.push(b':');
            write_value(out, r.fields[i].value());
        }
        out.push(b'}');
    }
}

/// The members of `"normalized"`.
fn write_normalized(n: &Normalized, out: &mut Vec<u8>) {
    let mut first = true;
    let mut put = |out: &mut Vec<u8>, k: &str, v: &[u8]| {
        if !first {
            out.push(b',');
        }
        first = false;
        write_str(out, k.as_bytes());
        out.push(b':');
        write_null_or_str(out, v);
    };
    put(out, "event_kind", n.kind.as_deref().unwrap_or_default());
    if let Some(s) = &n.session {
        put(out, "session", &s.value);
    }
    let mut part = |out: &mut Vec<u8>, name: &str, f: &Option<NormField>, system: bool| {
        if let Some(f) = f {
            put(out, &format!("{name}.field"), &f.field);
            let v: &[u8] = if system && f.value == "unset" {
                b"system"
            } else if f.raw == "(null)" {
                // No value (a file name's interpretation joins even
                // that to the cwd): written `null`.
                b"(null)"
            } else {
                &f.value
            };
            put(out, name, v);
        }
    };
    part(out, "subject.primary", &n.subject.primary, true);
    part(out, "subject.secondary", &n.subject.secondary, false);
    part(out, "object.primary", &n.object.primary, false);
    part(out, "object.secondary", &n.object.secondary, false);
    put(out, "action", n.action.as_deref().unwrap_or_default());
    put(
        out,
        "object_kind",
        n.object.kind.as_deref().unwrap_or_default(),
    );
    put(out, "how", n.how.as_deref().unwrap_or_default());
}

/// The rest of an event's object: key(s), file path, action, result, argv,
/// proctitle and changes.
fn write_tail(ev: &Event, changes: &[FsChange], out: &mut Vec<u8>) {
    out.extend_from_slice(b",\"key\":");
    write_opt(out, ev.keys.first().map(|k| &k[..]));
    out.extend_from_slice(b",\"keys\":");
    write_list(out, &ev.keys);
    out.extend_from_slice(b",\"filepath\":");
    write_str(out, filepath(ev, changes));
    out.extend_from_slice(b",\"action\":");
    write_str(out, ev.action().map(|a| &a[..]).unwrap_or_default());
    out.extend_from_slice(b",\"result\":");
    match ev.normalized.as_ref().and_then(|n| n.outcome()) {
        Some(Outcome::Success) => out.extend_from_slice(b"\"success\""),
        Some(Outcome::Failure) => out.extend_from_slice(b"\"failed\""),
        None => out.extend_from_slice(b"null"),
    }
    if let Some(argv) = &ev.argv {
        out.extend_from_slice(b",\"argv\":");
        write_list(out, argv);
    }
    if let Some(pt) = &ev.proctitle {
        out.extend_from_slice(b",\"proctitle\":");
        write_list(out, pt);
    }
    out.extend_from_slice(b",\"changes\":[");
    for (i, c) in changes.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_change(c, out);
    }
    out.extend_from_slice(b"]}\n");
}

/// Writes a change as its JSON object (no newline): the one schema of a
/// filesystem change, also used for `changes[]` of an event, for the
/// fsaction log ([`write_change_line`]) and by `FsChange`'s `Serialize`
/// (`serde_json::to_string(&change)` gives the same bytes):
///
/// ```text
/// {"kind":"created","action":"created-file","path":"/srv/a","old_path":null,"target":null,
///  "file_type":"file","inode":1048578,"syscall":"openat","success":true,"dir_known":true,
///  "complete":true,"serial":1001,"timestamp":{"sec":1653911717,"milli":20},
///  "time":"2022-05-30T11:55:17.020+00:00"}
/// ```
///
/// `time` is `timestamp` in RFC 3339 (UTC), for people; `null` for a time
/// out of its range. It reads back into an equal `FsChange`
/// (`serde_json::from_str`), extra members ignored.
pub fn write_change(c: &FsChange, out: &mut Vec<u8>) {
    write_change_members(c, out);
    out.push(b'}');
}

/// A change as one line of the fsaction log: the change's members
/// ([`write_change`]), then who made it, from the event's SYSCALL record:
/// `uid`, `uid_name`, `auid`, `auid_name`, `pid` (numbers, `null` when
/// missing), `exe`, `comm` and `key` (strings, `null` when missing or
/// `(null)`); and a newline.
pub fn write_change_line(c: &FsChange, ev: Option<&Event>, out: &mut Vec<u8>) {
    write_change_members(c, out);
    let sys = ev.and_then(|e| e.record(crate::RecordType::SYSCALL));
    let field = |n: &str| sys.and_then(|r| r.field(n));
    let number = |out: &mut Vec<u8>, n: &str| match field(n)
        .and_then(|f| std::str::from_utf8(&f.raw).ok()?.parse::<u64>().ok())
    {
        Some(n) => {
            let _ = write!(out, "{n}");
        }
        None => out.extend_from_slice(b"null"),
    };
    for name in ["uid", "auid"] {
        let _ = write!(out, ",\"{name}\":");
        number(out, name);
        let _ = write!(out, ",\"{name}_name\":");
        write_opt(
            out,
            field(name)
                .map(|f| &f.interpreted[..])
                .filter(|v| *v != b"(null)"),
        );
    }
    out.extend_from_slice(b",\"pid\":");
    number(out, "pid");
    for name in ["exe", "comm"] {
        let _ = write!(out, ",\"{name}\":");
        write_opt(
            out,
            field(name)
                .map(|f| &f.interpreted[..])
                .filter(|v| *v != b"(null)"),
        );
    }
    out.extend_from_slice(b",\"key\":");
    write_opt(out, ev.and_then(|e| e.keys.first()).map(|k| &k[..]));
    out.extend_from_slice(b"}\n");
}

/// `{"kind":…,…,"time":…` of a change: everything but the closing brace.
fn write_change_members(c: &FsChange, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"kind\":\"");
    out.extend_from_slice(c.kind.as_str().as_bytes());
    out.extend_from_slice(b"\",\"action\":");
    write_str(out, c.action.as_bytes());
    out.extend_from_slice(b",\"path\":");
    write_str(out, &c.path);
    out.extend_from_slice(b",\"old_path\":");
    write_opt(out, c.old_path.as_deref());
    out.extend_from_slice(b",\"target\":");
    write_opt(out, c.target.as_deref());
    out.extend_from_slice(b",\"file_type\":");
    write_opt(out, c.file_type.map(str::as_bytes));
    match c.inode {
        Some(i) => {
            let _ = write!(out, ",\"inode\":{i}");
        }
        None => out.extend_from_slice(b",\"inode\":null"),
    }
    out.extend_from_slice(b",\"syscall\":");
    write_str(out, c.syscall.as_bytes());
    let _ = write!(
        out,
        ",\"success\":{},\"dir_known\":{},\"complete\":{},\"serial\":{},\"timestamp\":{{\"sec\":{},\"milli\":{}}},\"time\":",
        c.success, c.dir_known, c.complete, c.serial, c.timestamp.sec, c.timestamp.milli
    );
    write_time(out, c.timestamp);
}

/// `"2022-05-30T11:55:17.020+00:00"` (UTC), or `null` out of range.
fn write_time(out: &mut Vec<u8>, t: crate::Timestamp) {
    let at = out.len();
    out.push(b'"');
    write_datetime(out, t.sec, t.milli, false);
    if out.len() == at + 1 {
        out.truncate(at);
        out.extend_from_slice(b"null");
    } else {
        out.push(b'"');
    }
}

/// The change schema of [`write_change`].
impl serde::Serialize for FsChange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("FsChange", 15)?;
        st.serialize_field("kind", &self.kind)?;
        st.serialize_field("action", &Bytes::from(self.action.as_str()))?;
        st.serialize_field("path", &self.path)?;
        st.serialize_field("old_path", &self.old_path)?;
        st.serialize_field("target", &self.target)?;
        st.serialize_field("file_type", &self.file_type.map(Bytes::from))?;
        st.serialize_field("inode", &self.inode)?;
        st.serialize_field("syscall", &Bytes::from(self.syscall.as_str()))?;
        st.serialize_field("success", &self.success)?;
        st.serialize_field("dir_known", &self.dir_known)?;
        st.serialize_field("complete", &self.complete)?;
        st.serialize_field("serial", &self.serial)?;
        st.serialize_field("timestamp", &self.timestamp)?;
        let time = rfc3339(self.timestamp.sec, self.timestamp.milli, false);
        st.serialize_field("time", &(!time.is_empty()).then_some(time))?;
        st.end()
    }
}

/// Reads the change schema of [`write_change`] (and fsaction log lines:
/// their actor members are ignored).
impl<'de> serde::Deserialize<'de> for FsChange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        struct Repr {
            kind: crate::ChangeKind,
            action: Bytes,
            path: Bytes,
            old_path: Option<Bytes>,
            target: Option<Bytes>,
            file_type: Option<Bytes>,
            inode: Option<u64>,
            syscall: Bytes,
            success: bool,
            dir_known: bool,
            complete: bool,
            serial: u64,
            timestamp: crate::Timestamp,
        }
        use serde::de::Error as _;
        let r = Repr::deserialize(d)?;
        let text = |b: Bytes, what: &str| {
            String::from_utf8(b.into_vec())
                .map_err(|_| D::Error::custom(format!("{what} is not UTF-8")))
        };
        let file_type = match r.file_type {
            None => None,
            Some(t) => Some(
                t.as_str()
                    .and_then(crate::ChangeKind::file_type_name)
                    .ok_or_else(|| D::Error::custom(format!("unknown file_type '{t}'")))?,
            ),
        };
        Ok(FsChange {
            kind: r.kind,
            action: text(r.action, "action")?,
            path: r.path,
            old_path: r.old_path,
            target: r.target,
            file_type,
            inode: r.inode,
            success: r.success,
            syscall: text(r.syscall, "syscall")?,
            serial: r.serial,
            timestamp: r.timestamp,
            dir_known: r.dir_known,
            complete: r.complete,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_valid_json_and_lossless() {
        let input = b"a\"b\\c\nd\x01e\x1b[31m caf\xe9 \xc3\xa9 \\xe9\x7f";
        let mut out = Vec::new();
        write_str(&mut out, input);
        let s = String::from_utf8(out).unwrap();
        // The backslash doubled, then JSON-escaped: four in the JSON text.
        assert_eq!(
            s,
            "\"a\\\"b\\\\\\\\c\\nd\\u0001e\\u001b[31m caf\\\\xe9 é \\\\\\\\xe9\x7f\""
        );
        assert_eq!(
            s,
            serde_json::to_string(&crate::bytes::escape(input)).unwrap()
        );
        let v: String = serde_json::from_str(&s).unwrap();
        assert_eq!(crate::bytes::unescape(&v).unwrap(), input);
    }

    #[test]
    fn word_scan_agrees_with_the_table() {
        for b in 0..=255u8 {
            for pos in 0..8 {
                let mut w = *b"abcdefgh";
                w[pos] = b;
                assert_eq!(
                    any_special(u64::from_le_bytes(w)),
                    SPECIAL[b as usize],
                    "byte {b:#x} at {pos}"
                );
            }
        }
    }

    #[test]
    fn datetime_is_rfc3339() {
        assert_eq!(
            rfc3339(1653911717, 20, false),
            "2022-05-30T11:55:17.020+00:00"
        );
    }
}
