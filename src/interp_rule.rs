//! The raw-interpretation rule: which fields libauparse interprets as a
//! plain copy of their raw value.
//!
//! Reading libauparse 3.0.9 (`auparse_do_interpretation` in `interpret.c`):
//! an UNCLASSIFIED or MAC_LABEL field is interpreted as a copy of its raw
//! value, then escaped by the escape mode; a record's own interpretations
//! (ENRICHED logs, [`crate::enriched`]) come first, but only for the field
//! names they list. So with escape mode RAW, for a field its record's
//! interpretations do not name, the interpretation *is* the raw value, and
//! the view returns it without the `strdup` and the type search libauparse
//! makes.
//!
//! These rules (this one, [`crate::typecache`], [`crate::enriched`] and the
//! non-id types of [`crate::interpcache`]) are only applied on the
//! libauparse versions they were read from (cfg `auparse_rules_3_0`, set by
//! build.rs); elsewhere every call goes to libauparse. The oracle tests
//! (`src/oracle/`) check them against libauparse field by field over every
//! corpus file and fixture, in every escape mode.

/// Whether the rules read from libauparse 3.0.9 apply to the libauparse this
/// crate was built with.
pub(crate) const ENABLED: bool = cfg!(auparse_rules_3_0);

/// True when libauparse would interpret a field of this type as a plain
/// copy of its raw value (given escape mode RAW and a record whose own
/// interpretations do not name the field, which the caller checks).
#[inline]
pub(crate) fn interpretation_is_raw(field_type: u32) -> bool {
    ENABLED
        && (field_type == auparse_sys::AUPARSE_TYPE_UNCLASSIFIED
            || field_type == auparse_sys::AUPARSE_TYPE_MAC_LABEL)
}

/// True for a value whose libauparse 3.0.9 interpretation reads past the
/// initialised part of its buffer (found by the fuzz targets under
/// AddressSanitizer; `ausearch -i` reads the same bytes). Read from
/// `print_proctitle`, `print_escaped` and `au_unescape` in `interpret.c`:
///
/// - `print_escaped` decodes the value (after a leading `00`, dropped) with
///   `au_unescape`, which copies only its prefix into a buffer as long as
///   the whole value: up to the first `)` when it starts with `(`, else its
///   leading hex digits, decoded; the rest of the buffer is left as it was
///   allocated, except that a hex prefix zeroes the bytes up to half the
///   length of what it was given.
/// - `print_proctitle` then turns every NUL before half the length of the
///   *whole* value into a space, its terminator included, and goes on
///   reading for the next NUL.
///
/// So it reads uninitialised bytes when the value starts with `(` (after an
/// optional `00`) and its `)` comes before half its length (the kernel's
/// `(null)` followed by 8 or more bytes, or `(x)xxxxx`), and when it starts
/// with `00` and fewer hex digits follow than half its length
/// (`00000.250:61):`). A value in quotes, or of hex digits without `00`,
/// is read safely. The views do not ask libauparse for such a value: its
/// interpretation is the raw value (it is neither quoted nor hex, so
/// nothing would be decoded).
#[inline]
pub(crate) fn libauparse_overreads(field_type: u32, raw: &[u8]) -> bool {
    field_type == auparse_sys::AUPARSE_TYPE_PROCTITLE && proctitle_overreads(raw)
}

/// [`libauparse_overreads`] for a PROCTITLE value.
fn proctitle_overreads(raw: &[u8]) -> bool {
    // libauparse sees the value up to its first NUL.
    let v = raw.split(|&c| c == 0).next().unwrap_or_default();
    let half = v.len() / 2;
    let (zero_prefix, body) = match v.strip_prefix(b"00") {
        Some(rest) => (true, rest),
        None => (false, v),
    };
    if body.first() == Some(&b'(') {
        // The copy ends after `)`, its terminator at index `close + 1`.
        return body
            .iter()
            .position(|&c| c == b')')
            .is_some_and(|close| close + 1 < half);
    }
    if zero_prefix {
        // Initialised: the decoded digits, zeros up to (len - 2) / 2, and
        // the copied digits with their terminator at index `digits`.
        let digits = body.iter().take_while(|c| c.is_ascii_hexdigit()).count();
        return digits >= 2 && half > digits;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::proctitle_overreads;

    #[test]
    fn proctitle_values_that_libauparse_overreads() {
        for v in [
            &b"(null)xxxxxxxx"[..],
            b"(null)syscall=2",
            b"(x)xxxxx",
            b"(nu:l)xxxxxxxxxxxxxxx",
            b"00000.250:61):",
            b"00(x)xxxxxxx",
            b"0041414141zzzzzzzzzzzzzzzz",
        ] {
            assert!(proctitle_overreads(v), "{}", String::from_utf8_lossy(v));
        }
        for v in [
            &b"(null)"[..],
            b"(null)xxxxxxx",
            b"(x)xxxx",
            b"(no close paren at all",
            b"6C73002D6C",
            b"6C73zzzzzzzzzzzzzzzzzzzz",
            b"\"ls -l\"",
            b"00414141",
            b"004zzzzzzzzzzzzz",
            b"",
        ] {
            assert!(!proctitle_overreads(v), "{}", String::from_utf8_lossy(v));
        }
    }
}
