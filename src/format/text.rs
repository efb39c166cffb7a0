//! `ausearch --format text`: one English sentence per event.
//!
//! ```
//! use auparse::format::text::{write_text, TextOptions};
//!
//! let log: &[u8] = b"type=DAEMON_START msg=audit(1653911600.000:6543): op=start ver=3.0.9 format=enriched kernel=5.15.0 auid=4294967295 pid=1 uid=0 ses=4294967295 res=success\n";
//! let mut out = Vec::new();
//! for ev in auparse::read_events(log)? {
//!     write_text(&ev?, &TextOptions::default(), &mut out);
//! }
//! // "At HH:MM:SS mm/dd/yy system, acting as root, successfully started-audit using init\n"
//! // (in local time)
//! assert!(out.ends_with(b" system, acting as root, successfully started-audit using init\n"));
//! # Ok::<(), auparse::Error>(())
//! ```
//!
//! The sentence is built from the event's [normalized view](crate::Normalized):
//! `At TIME DATE` (`On NODE at ...` when the records carry a node), the
//! subject (`unset` shown as `system`), `, acting as UID,` when the secondary
//! subject is another id, `successfully`/`unsuccessfully`, the action
//! (`did-unknown` when there is none), the object, `to OBJECT2`, and
//! `using HOW` except for actions starting with `e` (ended-session, ...).

use super::{
    field_int, is_success, local_time, node_text, object_is_field_name, push_date, push_hms,
    tty_escape_from,
};
use crate::event::Event;
use crate::normalize::Normalized;
use crate::types::{FieldType, RecordType};

/// Options of the text format. None yet: the output is fixed by ausearch.
///
/// ```
/// use auparse::format::text::{write_text, TextOptions};
/// let mut out = Vec::new();
/// for ev in auparse::read_events(&b"type=DAEMON_START msg=audit(1700000000.000:1): op=start ver=3.0.9 res=success\n"[..])? {
///     write_text(&ev?, &TextOptions::default(), &mut out);
/// }
/// assert!(out.starts_with(b"At ") && out.ends_with(b"\n"));
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TextOptions {}

/// The normalized view of an event libauparse cannot normalize.
static EMPTY: Normalized = Normalized {
    kind: None,
    session: None,
    subject: crate::normalize::Subject {
        primary: None,
        secondary: None,
        kind: None,
        label: None,
    },
    action: None,
    object: crate::normalize::Object {
        primary: None,
        secondary: None,
        primary2: None,
        kind: None,
        primary_sock: None,
        label: None,
    },
    results: None,
    how: None,
    key: None,
};

/// Appends the text line of `ev` to `out`, as `ausearch --format text` prints it.
///
/// Always one line: control characters in values are escaped as ausearch's
/// TTY mode does (`\ooo`), whatever escape mode the event was read in.
pub fn write_text(ev: &Event, _opts: &TextOptions, out: &mut Vec<u8>) {
    let n = ev.normalized.as_ref().unwrap_or(&EMPTY);
    let start = out.len();

    write_when(ev, out);

    let mut id = -2;
    if let Some(s) = &n.subject.primary {
        id = field_int(&s.raw);
        if s.value == "unset" {
            out.extend_from_slice(b"system");
        } else {
            out.extend_from_slice(&s.value);
        }
    }
    if let Some(s) = &n.subject.secondary {
        if field_int(&s.raw) != id && id != -2 {
            out.extend_from_slice(b", acting as ");
            out.extend_from_slice(&s.value);
            out.push(b',');
        }
    }

    match &n.results {
        Some(r) if is_success(r) => out.extend_from_slice(b" successfully "),
        Some(_) => out.extend_from_slice(b" unsuccessfully "),
        None => out.push(b' '),
    }

    let action = n.action.as_deref();
    out.extend_from_slice(action.unwrap_or(b"did-unknown"));
    out.push(b' ');

    if let Some(o) = &n.object.primary {
        let violated = action.is_some_and(|a| a.windows(8).any(|w| w == b"violated"));
        let first_type = ev.records.first().map(|r| r.record_type);
        let val: &[u8] = match o.field_type {
            // The interpretation of a file name is its realpath (see
            // `Field::interpreted`).
            FieldType::EscapedFile => &o.value,
            FieldType::Sockaddr => n.object.primary_sock.as_deref().unwrap_or(&o.value),
            _ if object_is_field_name(first_type, action) => &o.field,
            // ausearch checks the record type before "violated": a
            // CONFIG_CHANGE event gets the value.
            _ if first_type == Some(RecordType::CONFIG_CHANGE) => &o.value,
            _ if violated => b"accessing ",
            _ => &o.value,
        };
        out.extend_from_slice(val);
        out.push(b' ');
    }

    if let Some(o) = &n.object.primary2 {
        out.extend_from_slice(b"to ");
        out.extend_from_slice(&o.value);
        out.push(b' ');
    }

    if let (Some(how), Some(action)) = (&n.how, action) {
        if action.first() != Some(&b'e') {
            out.extend_from_slice(b"using ");
            out.extend_from_slice(how);
        }
    }
    // Values as ausearch shows them, whatever the events' escape mode.
    tty_escape_from(out, start);
    out.push(b'\n');
}

/// `On NODE at ` or `At `, then the time and date (`?` when the time has no
/// local time) and a space.
fn write_when(ev: &Event, out: &mut Vec<u8>) {
    if ev.node.is_some() {
        out.extend_from_slice(b"On ");
        out.extend_from_slice(node_text(ev));
        out.extend_from_slice(b" at ");
    } else {
        out.extend_from_slice(b"At ");
    }
    match local_time(ev.timestamp.sec) {
        Some(t) => {
            push_hms(out, &t);
            out.push(b' ');
            push_date(out, &t);
        }
        None => out.push(b'?'),
    }
    out.push(b' ');
}
