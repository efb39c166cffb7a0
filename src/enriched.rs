//! The interpretations an ENRICHED record carries itself: the text after
//! 0x1d (`UID="root" ARCH=x86_64 ...`), read once per record.
//!
//! Reading libauparse 3.0.9 (`load_interpretation_list` and
//! `auparse_do_interpretation` in `interpret.c`): a record's own
//! interpretations are asked first, but only for the field names they list.
//! So a field they do not name ([`own_may_name`] says "certainly not" from a
//! 64-bit filter) is interpreted as in a plain record; a field they do name
//! is answered with the first entry of that name as it stands, or for a uid
//! or gid with what lies between its quotes ([`own_interpretation`]), and the
//! view returns that piece of the record's text instead of asking
//! libauparse. Only on the libauparse versions this was read from
//! ([`crate::interp_rule::ENABLED`]); the oracle tests (`src/oracle/`) check
//! it against libauparse.

use crate::interp_rule::ENABLED;

/// Entries of a record's own interpretations kept in [`OwnNames`].
const OWN_MAX: usize = 32;

/// What a record's own interpretations (the text after 0x1d in an ENRICHED
/// log) can answer for, read once per record. libauparse 3.0.9
/// (`load_interpretation_list`) splits that text at spaces and takes each
/// word's part before `=`, lowercased, as a name and the rest as its value;
/// `auparse_do_interpretation` answers a field of that exact name from the
/// first such entry, and interprets every other field as in a plain record.
#[derive(Clone, Copy)]
pub(crate) struct OwnNames {
    /// A 64-bit filter of the names: 0 for a record without any; every bit
    /// when a name has a byte outside ASCII (whose lowercase depends on the
    /// locale).
    filter: u64,
    /// The entries could not all be kept (more than [`OWN_MAX`], a name
    /// outside ASCII, an empty name, or a `SADDR=` list, which libauparse
    /// reads another way): [`own_interpretation`] says [`Own::Ask`].
    opaque: bool,
    len: usize,
    /// (name start, `=`, word end), as offsets into the text.
    entries: [(u32, u32, u32); OWN_MAX],
}

impl OwnNames {
    /// A record without interpretations of its own.
    pub(crate) const NONE: OwnNames = OwnNames {
        filter: 0,
        opaque: true,
        len: 0,
        entries: [(0, 0, 0); OWN_MAX],
    };
}

/// Reads a record's own interpretations (`None` for a record without them).
pub(crate) fn own_names(interpretations: Option<&[u8]>) -> OwnNames {
    let mut own = OwnNames::NONE;
    let Some(text) = interpretations else {
        return own;
    };
    if !ENABLED || u32::try_from(text.len()).is_err() {
        own.filter = u64::MAX;
        return own;
    }
    own.opaque = text.starts_with(b"SADDR=");
    let mut start = 0;
    for word in text.split(|&b| b == b' ') {
        let here = start;
        start += word.len() + 1;
        let Some(eq) = word.iter().position(|&b| b == b'=') else {
            continue;
        };
        let name = &word[..eq];
        // An empty name (`=value`): libauparse does not answer a field of
        // that name from it (found by the `shortcuts` fuzz target), and
        // how it reads the entries after one is not known: ask it.
        if name.is_empty() {
            own.opaque = true;
        }
        if !name.is_ascii() {
            own.filter = u64::MAX;
            own.opaque = true;
            return own;
        }
        own.filter |= fnv_bit(
            name.iter()
                .fold(FNV_OFFSET, |h, &b| fnv_step(h, b.to_ascii_lowercase())),
        );
        if own.len < OWN_MAX {
            // Offsets fit: the text's length does.
            own.entries[own.len] = (here as u32, (here + eq) as u32, (here + word.len()) as u32);
            own.len += 1;
        } else {
            own.opaque = true;
        }
    }
    own
}

/// True if a record whose [`own_names`] are `own` may answer for a field
/// named `name` from its own interpretations (false: it certainly does not).
#[inline]
pub(crate) fn own_may_name(own: &OwnNames, name: &[u8]) -> bool {
    own.filter != 0 && own.filter & name_bit(name) != 0
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

#[inline]
fn fnv_step(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
}

#[inline]
fn fnv_bit(h: u64) -> u64 {
    1 << (h >> 58)
}

#[inline]
fn name_bit(name: &[u8]) -> u64 {
    fnv_bit(name.iter().fold(FNV_OFFSET, |h, &b| fnv_step(h, b)))
}

/// What libauparse 3.0.9 answers for a field from its record's own
/// interpretations ([`own_interpretation`]).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Own<'a> {
    /// This piece of the text.
    Piece(&'a [u8]),
    /// Nothing: the field is interpreted as in a plain record (no entry of
    /// its name, or the first one's value starts `unknown-`).
    Plain,
    /// Not worked out here: only libauparse knows (it may answer from the
    /// record's own interpretations).
    Ask,
}

/// The interpretation libauparse 3.0.9 gives a field named `name`, of type
/// `field_type`, from its record's own interpretations `text` (read into
/// `own`).
///
/// `auparse_do_interpretation` takes the first entry of that name and
/// returns a copy of its value as it stands, or for a uid or gid
/// `print_escaped` of it: for a value in double quotes, what lies between
/// the first two quotes ([`Own::Piece`]). It skips values starting
/// `unknown-` and interprets the field as usual ([`Own::Plain`], as for a
/// name without an entry); an unquoted uid value is hex to decode. Those are
/// left to libauparse ([`Own::Ask`]), as are empty values and what
/// [`OwnNames`] could not keep.
pub(crate) fn own_interpretation<'a>(
    own: &OwnNames,
    text: &'a [u8],
    name: &[u8],
    field_type: u32,
) -> Own<'a> {
    if own.opaque {
        return Own::Ask;
    }
    let Some(&(_, eq, end)) = own.entries[..own.len].iter().find(|&&(start, eq, _)| {
        let entry = &text[start as usize..eq as usize];
        entry.len() == name.len()
            && entry
                .iter()
                .zip(name)
                .all(|(&e, &n)| e.to_ascii_lowercase() == n)
    }) else {
        return Own::Plain;
    };
    let value = &text[eq as usize + 1..end as usize];
    if value.starts_with(b"unknown-") {
        return Own::Plain;
    }
    if value.is_empty() {
        return Own::Ask;
    }
    if field_type == auparse_sys::AUPARSE_TYPE_UID || field_type == auparse_sys::AUPARSE_TYPE_GID {
        let quoted = value.strip_prefix(b"\"").and_then(|inner| {
            let close = inner.iter().position(|&b| b == b'"')?;
            (close > 0).then(|| &inner[..close])
        });
        return quoted.map_or(Own::Ask, Own::Piece);
    }
    Own::Piece(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_names_as_libauparse_reads_them() {
        if !ENABLED {
            return;
        }
        assert_eq!(own_names(None).filter, 0);
        assert_eq!(own_names(Some(b"no names here")).filter, 0);
        let own = own_names(Some(
            b"ARCH=x86_64 SYSCALL=openat  AUID=\"root\" UID=\"a b=c\"",
        ));
        for name in [&b"arch"[..], b"syscall", b"auid", b"uid", b"b"] {
            assert!(
                own_may_name(&own, name),
                "{}",
                String::from_utf8_lossy(name)
            );
        }
        // Field names are compared exactly with the lowercased names.
        let misses = [
            &b"pid"[..],
            b"ppid",
            b"items",
            b"exit",
            b"inode",
            b"dev",
            b"ses",
        ]
        .iter()
        .filter(|n| !own_may_name(&own, n))
        .count();
        assert!(
            misses >= 5,
            "a 64-bit filter of 5 names lets most others through"
        );
        let own = own_names(Some(b"SADDR={ saddr_fam=inet laddr=127.0.0.1 lport=53 }"));
        assert!(own_may_name(&own, b"saddr"));
        assert_eq!(own_names(Some("N\u{e9}=x".as_bytes())).filter, u64::MAX);
    }

    #[test]
    fn own_interpretations_as_libauparse_gives_them() {
        if !ENABLED {
            return;
        }
        use auparse_sys::{AUPARSE_TYPE_ARCH as ARCH, AUPARSE_TYPE_UID as UID};
        let text = b"ARCH=x86_64 AUID=\"alice\" UID=\"a b\" EUID=726F6F74 X=unknown-3 AUID=\"bob\"";
        let own = own_names(Some(text));
        let get = |name: &[u8], t| own_interpretation(&own, text, name, t);
        assert_eq!(get(b"arch", ARCH), Own::Piece(b"x86_64"));
        assert_eq!(get(b"auid", UID), Own::Piece(b"alice"));
        // "a (no closing quote in its word), hex: libauparse.
        assert_eq!(get(b"uid", UID), Own::Ask);
        assert_eq!(get(b"euid", UID), Own::Ask);
        // unknown-: interpreted as in a plain record.
        assert_eq!(get(b"x", ARCH), Own::Plain);
        // Exact names only; a quoted value of another type keeps its quotes.
        assert_eq!(get(b"AUID", UID), Own::Plain);
        assert_eq!(get(b"pid", UID), Own::Plain);
        let pid = b"PID=\"7\"";
        assert_eq!(
            own_interpretation(&own_names(Some(pid)), pid, b"pid", 0),
            Own::Piece(b"\"7\"")
        );
        let saddr = b"SADDR={ x=y }";
        assert_eq!(
            own_interpretation(&own_names(Some(saddr)), saddr, b"x", 0),
            Own::Ask
        );
        // An entry with an empty name: libauparse answers (every field).
        let empty = b"=v A=b";
        assert_eq!(
            own_interpretation(&own_names(Some(empty)), empty, b"", 0),
            Own::Ask
        );
        assert_eq!(
            own_interpretation(&own_names(Some(empty)), empty, b"a", 0),
            Own::Ask
        );
        // An empty value: libauparse answers it (an empty string).
        let empty_value = b"NAME= A=b";
        assert_eq!(
            own_interpretation(&own_names(Some(empty_value)), empty_value, b"name", 0),
            Own::Ask
        );
        // More entries than are kept: libauparse answers.
        let many: Vec<u8> = (0..40)
            .flat_map(|i| format!("N{i}=v ").into_bytes())
            .collect();
        assert_eq!(
            own_interpretation(&own_names(Some(&many)), &many, b"n1", 0),
            Own::Ask
        );
        assert!(own_may_name(&own_names(Some(&many)), b"n39"));
    }
}
