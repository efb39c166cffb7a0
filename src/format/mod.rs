//! Output formats for owned events.
//!
//! - [`json`]: JSON Lines in the original auditd_tools schema, extended.
//! - [`pretty`]: a readable multi-line view.
//! - [`text`] and [`csv`]: byte-identical to `ausearch --format text` /
//!   `--format csv` of audit 3.0.9 (run in the same time zone, in the C or
//!   C.UTF-8 locale).
//!
//! Times are local times in the process's time zone (the `TZ` variable, else
//! `/etc/localtime`), like ausearch's `localtime(3)`. Dates are written as the
//! C locale's `%x` (`mm/dd/yy`); ausearch in another locale would follow that
//! locale's date format instead.

pub mod csv;
pub mod json;
pub mod pretty;
pub mod text;

use chrono::{DateTime, Datelike, Local, Offset, Timelike};
use std::cell::Cell;

/// A broken-down local time, as `localtime(3)` gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LocalTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// ISO weekday, Monday = 1 ... Sunday = 7 (`%u`).
    pub weekday: u32,
    /// Seconds east of UTC (`tm_gmtoff`).
    pub gmtoff: i32,
}

thread_local! {
    /// The last conversion: consecutive events mostly share their second.
    static LAST: Cell<Option<(i64, Option<LocalTime>)>> = const { Cell::new(None) };
}

/// What ausearch's TTY escaping (libauparse's `AUPARSE_ESC_TTY`) does to
/// text, applied to `out[start..]`: each byte below 0x20 as `\ooo` octal.
/// Its output has no such byte, so it is idempotent: values that libauparse
/// already escaped (an event read in [`EscapeMode::Tty`](crate::EscapeMode))
/// come out unchanged, and values read in any other mode come out as
/// ausearch shows them. The text and csv writers apply it to each line they
/// write, so no value can break or forge a line whatever the events' mode.
pub(crate) fn tty_escape_from(out: &mut Vec<u8>, start: usize) {
    if !out[start..].iter().any(|&b| b < 0x20) {
        return;
    }
    let tail = out.split_off(start);
    for b in tail {
        if b < 0x20 {
            out.extend_from_slice(&[
                b'\\',
                b'0' + (b >> 6),
                b'0' + ((b >> 3) & 7),
                b'0' + (b & 7),
            ]);
        } else {
            out.push(b);
        }
    }
}

/// `localtime(sec)`, or `None` where it cannot be represented.
pub(crate) fn local_time(sec: i64) -> Option<LocalTime> {
    if let Some((s, t)) = LAST.with(Cell::get) {
        if s == sec {
            return t;
        }
    }
    let t = DateTime::from_timestamp(sec, 0).map(|utc| {
        let dt = utc.with_timezone(&Local);
        LocalTime {
            year: dt.year(),
            month: dt.month(),
            day: dt.day(),
            hour: dt.hour(),
            minute: dt.minute(),
            second: dt.second(),
            weekday: dt.weekday().number_from_monday(),
            gmtoff: dt.offset().fix().local_minus_utc(),
        }
    });
    LAST.with(|c| c.set(Some((sec, t))));
    t
}

/// Appends `n` in decimal.
#[inline]
pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `n` with at least two digits, zero-padded (`%02u`).
#[inline]
pub(crate) fn push_02(out: &mut Vec<u8>, n: u32) {
    if n < 10 {
        out.push(b'0');
    }
    push_u64(out, u64::from(n));
}

/// Appends `HH:MM:SS` (`%T`).
pub(crate) fn push_hms(out: &mut Vec<u8>, t: &LocalTime) {
    push_02(out, t.hour);
    out.push(b':');
    push_02(out, t.minute);
    out.push(b':');
    push_02(out, t.second);
}

/// Appends the C locale's `%x`: `mm/dd/yy`.
pub(crate) fn push_date(out: &mut Vec<u8>, t: &LocalTime) {
    push_02(out, t.month);
    out.push(b'/');
    push_02(out, t.day);
    out.push(b'/');
    push_02(out, t.year.rem_euclid(100) as u32);
}

/// `auparse_get_field_int` on a raw value: C `strtol(raw, NULL, 10)`
/// (leading white space, a sign, digits; 0 when there are none), -1 when
/// it overflows a `long`, then truncated to an `int`.
pub(crate) fn field_int(raw: &[u8]) -> i32 {
    let mut i = 0;
    while i < raw.len() && matches!(raw[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        i += 1;
    }
    let neg = match raw.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    while let Some(d) = raw.get(i).filter(|d| d.is_ascii_digit()) {
        let digit = i64::from(d - b'0');
        v = match v.checked_mul(10).and_then(|v| {
            if neg {
                v.checked_sub(digit)
            } else {
                v.checked_add(digit)
            }
        }) {
            Some(v) => v,
            None => return -1, // ERANGE
        };
        i += 1;
    }
    v as i32
}

/// True where ausearch reports success for a results field: the
/// interpretation is `yes`, starts with `suc`, or is a seccomp `allow`.
pub(crate) fn is_success(f: &crate::NormField) -> bool {
    let v = &f.value[..];
    v == b"yes"
        || v.starts_with(b"suc")
        || (f.field_type == crate::FieldType::Seccomp && v == b"allow")
}

/// ausearch 3.0.9 prints the object's field NAME, not its value, for a
/// `CONFIG_CHANGE` record whose normalized action is `set` or
/// `seccomp-logging`: `set audit_enabled`, `seccomp-logging actions`. Those
/// actions come from the `op` of a config change the kernel logged with the
/// SYSCALL record of the process that made it (`op=set audit_enabled=1 ...`;
/// a lone CONFIG_CHANGE record gets `changed-audit-configuration` and its
/// value). `record_type` is the type ausearch checks: text the first
/// record's, csv the object's record's.
pub(crate) fn object_is_field_name(
    record_type: Option<crate::RecordType>,
    action: Option<&[u8]>,
) -> bool {
    record_type == Some(crate::RecordType::CONFIG_CHANGE)
        && matches!(action, Some(b"set" | b"seccomp-logging"))
}

/// What ausearch prints for the `node` of an event: the interpretation of
/// the first field of the first record (where `node=` is).
pub(crate) fn node_text(ev: &crate::Event) -> &[u8] {
    ev.records
        .first()
        .and_then(|r| r.fields.first())
        .map_or(&[][..], |f| &f.interpreted[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtol_like() {
        assert_eq!(field_int(b"0"), 0);
        assert_eq!(field_int(b"1000"), 1000);
        assert_eq!(field_int(b"4294967295"), -1);
        assert_eq!(field_int(b"-1"), -1);
        assert_eq!(field_int(b"\"root\""), 0);
        assert_eq!(field_int(b" 12abc"), 12);
        assert_eq!(field_int(b"99999999999999999999"), -1);
    }

    #[test]
    fn tty_escape_is_ausearchs_and_idempotent() {
        let mut v = b"keep\n".to_vec();
        v.extend_from_slice(b"a\x01b\x7fc\\d\nE\x1b");
        tty_escape_from(&mut v, 5);
        // As ausearch -i prints a name with these bytes (DEL and the
        // backslash are left as they are).
        assert_eq!(v, b"keep\na\\001b\x7fc\\d\\012E\\033");
        let once = v.clone();
        tty_escape_from(&mut v, 5);
        assert_eq!(v, once);
    }

    #[test]
    fn numbers() {
        let mut v = Vec::new();
        push_u64(&mut v, 0);
        v.push(b' ');
        push_u64(&mut v, u64::MAX);
        v.push(b' ');
        push_02(&mut v, 7);
        assert_eq!(v, b"0 18446744073709551615 07");
    }
}
