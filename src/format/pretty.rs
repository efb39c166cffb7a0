//! A readable multi-line view of an event: the normalized one-line summary,
//! then each record's fields as `name = interpreted`, with the raw value
//! beside it where it differs.
//!
//! ```text
//! 2022-05-30T11:55:17.020+00:00 #1001 unknown(4242) opened-file /home/joerg/tmp/bar using bash: success [fsaction]
//!   SYSCALL
//!     arch    = x86_64  (c000003e)
//!     syscall = openat  (257)
//!     ...
//! ```
//! Control characters and invalid UTF-8 in values are shown as `\ooo` octal
//! escapes, so a value can never break or forge a line.

use crate::event::Event;
use crate::format::json::rfc3339;
use crate::fschange::FsChange;
use crate::normalize::Outcome;
use std::io::Write as _;

/// Options of the pretty writer.
///
/// ```
/// use auparse::format::pretty::{write_event, PrettyOptions};
/// let mut out = Vec::new();
/// for ev in auparse::read_events(&b"type=DAEMON_START msg=audit(1700000000.000:1): op=start ver=3.0.9 res=success\n"[..])? {
///     write_event(&ev?, &[], &PrettyOptions::new(false, false), &mut out);
/// }
/// assert!(out.starts_with(b"2023-11-14T22:13:20.000+00:00 #1 "));
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PrettyOptions {
    /// Use ANSI colours.
    pub color: bool,
    /// Times in the local time zone instead of UTC.
    pub local_time: bool,
}

impl PrettyOptions {
    /// Options with colour on or off, times local or UTC.
    pub fn new(color: bool, local_time: bool) -> Self {
        PrettyOptions { color, local_time }
    }
}

/// Appends `s` with control characters (C0, DEL and the C1 range U+0080 to
/// U+009F, which terminals may obey: U+009B is CSI), backslash and invalid
/// UTF-8 as `\ooo` (each byte of the character).
pub fn write_escaped(out: &mut Vec<u8>, s: &[u8]) {
    for chunk in s.utf8_chunks() {
        let mut buf = [0u8; 4];
        for c in chunk.valid().chars() {
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            if c.is_control() || c == '\\' || is_format_char(c) {
                for &b in bytes {
                    let _ = write!(out, "\\{b:03o}");
                }
            } else {
                out.extend_from_slice(bytes);
            }
        }
        for &b in chunk.invalid() {
            let _ = write!(out, "\\{b:03o}");
        }
    }
}

/// Characters that change how a terminal shows the text around them:
/// bidirectional overrides and isolates, line and paragraph separators,
/// zero-width and byte-order marks.
fn is_format_char(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

fn escaped_width(s: &[u8]) -> usize {
    let mut v = Vec::new();
    write_escaped(&mut v, s);
    String::from_utf8_lossy(&v).chars().count()
}

struct Style {
    on: bool,
}

impl Style {
    fn put(&self, out: &mut Vec<u8>, code: &str, body: impl FnOnce(&mut Vec<u8>)) {
        if self.on {
            let _ = write!(out, "\x1b[{code}m");
        }
        body(out);
        if self.on {
            out.extend_from_slice(b"\x1b[0m");
        }
    }
}

/// Writes the one-line summary of an event (no newline).
pub fn write_summary(ev: &Event, changes: &[FsChange], opts: &PrettyOptions, out: &mut Vec<u8>) {
    let st = Style { on: opts.color };
    st.put(out, "1", |out| {
        let _ = write!(
            out,
            "{} #{}",
            rfc3339(ev.timestamp.sec, ev.timestamp.milli, opts.local_time),
            ev.serial
        );
    });
    let n = ev.normalized.clone().unwrap_or_default();
    out.push(b' ');
    let subj = n
        .subject
        .primary
        .as_ref()
        .map(|f| &f.value[..])
        .unwrap_or(b"?");
    write_escaped(out, if subj == b"unset" { b"system" } else { subj });
    out.push(b' ');
    st.put(out, "33", |out| {
        write_escaped(out, n.action.as_deref().unwrap_or(b"?"))
    });
    let object = match changes.first() {
        Some(c) => Some(&c.path[..]),
        None => n.object.primary.as_ref().map(|f| &f.value[..]),
    };
    if let Some(o) = object {
        out.push(b' ');
        write_escaped(out, o);
    }
    if let Some(how) = &n.how {
        out.extend_from_slice(b" using ");
        write_escaped(out, how);
    }
    match n.outcome() {
        Some(Outcome::Success) => out.extend_from_slice(b": success"),
        Some(Outcome::Failure) => st.put(out, "31", |out| out.extend_from_slice(b": failed")),
        None => {}
    }
    if !ev.keys.is_empty() {
        out.extend_from_slice(b" [");
        for (i, k) in ev.keys.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_escaped(out, k);
        }
        out.push(b']');
    }
}

/// Writes one event: summary line, changes, then records and fields; a blank line after.
pub fn write_event(ev: &Event, changes: &[FsChange], opts: &PrettyOptions, out: &mut Vec<u8>) {
    let st = Style { on: opts.color };
    write_summary(ev, changes, opts, out);
    out.push(b'\n');
    for c in changes {
        out.extend_from_slice(b"  change: ");
        st.put(out, "32", |out| {
            out.extend_from_slice(c.kind.as_str().as_bytes())
        });
        out.push(b' ');
        if let Some(old) = &c.old_path {
            write_escaped(out, old);
            out.extend_from_slice(b" -> ");
        }
        write_escaped(out, &c.path);
        if let Some(t) = &c.target {
            out.extend_from_slice(b" => ");
            write_escaped(out, t);
        }
        out.push(b'\n');
    }
    for r in &ev.records {
        out.extend_from_slice(b"  ");
        st.put(out, "36;1", |out| {
            out.extend_from_slice(r.type_name.as_bytes())
        });
        out.push(b'\n');
        let width = r
            .fields
            .iter()
            .skip(1)
            .map(|f| escaped_width(&f.name))
            .max()
            .unwrap_or(0);
        // The first field is `type`, already shown as the heading.
        for f in r.fields.iter().skip(1) {
            out.extend_from_slice(b"    ");
            write_escaped(out, &f.name);
            for _ in escaped_width(&f.name)..width {
                out.push(b' ');
            }
            out.extend_from_slice(b" = ");
            write_escaped(out, f.realpath_or_interpreted());
            if f.raw != *f.realpath_or_interpreted() {
                out.extend_from_slice(b"  ");
                st.put(out, "2", |out| {
                    out.push(b'(');
                    write_escaped(out, &f.raw);
                    out.push(b')');
                });
            }
            out.push(b'\n');
        }
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_cannot_break_lines() {
        let mut out = Vec::new();
        write_escaped(&mut out, b"a\nb\\c\xe9\x1b[1m");
        assert_eq!(out, b"a\\012b\\134c\\351\\033[1m");
        out.clear();
        write_escaped(&mut out, "x\u{202E}y".as_bytes());
        assert_eq!(out, b"x\\342\\200\\256y");
    }
}
