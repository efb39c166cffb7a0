//! Answers the views give without asking libauparse, where its answer is
//! known in advance.
//!
//! Reading libauparse 3.0.9 (`auparse_interp_adjust_type` and
//! `auparse_do_interpretation` in `interpret.c`):
//!
//! - A field's type is a function of the record type and the field name,
//!   except for a field named `acct` and for TRUSTED_APP records, where the
//!   value decides. libauparse finds it by a chain of `strcmp`s and a search
//!   of its field-name table on every call (16 % of a plain C walk), so types
//!   are cached here per (record type, name).
//! - An UNCLASSIFIED or MAC_LABEL field is interpreted as a copy of its raw
//!   value, then escaped by the escape mode; a record's own interpretations
//!   (ENRICHED logs) come first, but only for the field names they list. So
//!   with escape mode RAW, for a field its record's interpretations do not
//!   name ([`own_names`], read once per record), the
//!   interpretation *is* the raw value, and the view returns it without the
//!   `strdup` and the type search libauparse makes.
//! - A field the record's own interpretations do name is answered with the
//!   first entry of that name as it stands, or for a uid or gid with what lies
//!   between its quotes ([`own_interpretation`]); the view returns that piece
//!   of the record's text.
//!
//! These rules are only applied on the libauparse versions they were read
//! from (cfg `auparse_rules_3_0`); elsewhere every call goes to libauparse.
//! The `oracle` tests below check them against libauparse field by field
//! over every corpus file and fixture, in every escape mode.

use std::cell::RefCell;

/// Whether the shortcuts are on for the libauparse this crate was built with.
pub(crate) const ENABLED: bool = cfg!(auparse_rules_3_0);

const AUDIT_TRUSTED_APP: u32 = 1121;
const SLOTS: usize = 1024;
/// Cleared when this full (keeps probe chains short).
const MAX_FILLED: usize = SLOTS * 3 / 4;
/// Names longer than this are not cached (no real field name is).
const MAX_NAME: usize = 24;

#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    rtype: u32,
    /// The name, zero-padded (names hold no NUL).
    name: [u64; MAX_NAME / 8],
}

#[derive(Clone, Copy)]
struct Slot {
    key: Key,
    field_type: u32,
}

struct TypeCache {
    slots: Vec<Option<Slot>>,
    filled: usize,
}

thread_local! {
    static TYPES: RefCell<TypeCache> = const {
        RefCell::new(TypeCache {
            slots: Vec::new(),
            filled: 0,
        })
    };
}

/// True when the type of a field with this name in this record type does
/// not depend on its value.
#[inline]
fn type_is_static(rtype: u32, name: &[u8]) -> bool {
    rtype != AUDIT_TRUSTED_APP && name != b"acct" && name.len() <= MAX_NAME
}

#[inline]
fn key(rtype: u32, name: &[u8]) -> Key {
    let mut bytes = [0u8; MAX_NAME];
    bytes[..name.len()].copy_from_slice(name);
    let mut words = [0u64; MAX_NAME / 8];
    for (w, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
        *w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
    }
    Key { rtype, name: words }
}

#[inline]
fn slot_of(k: &Key) -> usize {
    let mut h = u64::from(k.rtype);
    for w in k.name {
        h = (h ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    (h >> 40) as usize % SLOTS
}

/// The type of field `name` of a record of type `rtype`: from the cache, or
/// from `ask` (libauparse), then remembered when it cannot depend on the value.
#[inline]
pub(crate) fn field_type(rtype: u32, name: &[u8], ask: impl FnOnce() -> u32) -> u32 {
    if !ENABLED || !type_is_static(rtype, name) {
        return ask();
    }
    let k = key(rtype, name);
    TYPES.with(|c| {
        let mut c = c.borrow_mut();
        if c.slots.is_empty() {
            c.slots = vec![None; SLOTS];
        }
        let mut i = slot_of(&k);
        loop {
            match &c.slots[i] {
                Some(s) if s.key == k => return s.field_type,
                Some(_) => i = (i + 1) % SLOTS,
                None => break,
            }
        }
        let field_type = ask();
        if c.filled >= MAX_FILLED {
            c.slots.iter_mut().for_each(|s| *s = None);
            c.filled = 0;
            i = slot_of(&k);
        }
        c.slots[i] = Some(Slot { key: k, field_type });
        c.filled += 1;
        field_type
    })
}

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
    /// outside ASCII, or a `SADDR=` list, which libauparse reads another
    /// way): [`own_interpretation`] answers nothing.
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

/// The interpretation libauparse 3.0.9 gives a field named `name`, of type
/// `field_type`, from its record's own interpretations `text` (read into
/// `own`), when that is a piece of `text`; `None` when libauparse must be
/// asked.
///
/// `auparse_do_interpretation` takes the first entry of that name and
/// returns a copy of its value as it stands, or for a uid or gid
/// `print_escaped` of it: for a value in double quotes, what lies between
/// the first two quotes. It skips values starting `unknown-` and interprets
/// the field as usual; an unquoted uid value is hex to decode. Those are
/// left to libauparse, as are empty values and what [`OwnNames`] could not
/// keep.
pub(crate) fn own_interpretation<'a>(
    own: &OwnNames,
    text: &'a [u8],
    name: &[u8],
    field_type: u32,
) -> Option<&'a [u8]> {
    if own.opaque {
        return None;
    }
    let &(_, eq, end) = own.entries[..own.len].iter().find(|&&(start, eq, _)| {
        let entry = &text[start as usize..eq as usize];
        entry.len() == name.len()
            && entry
                .iter()
                .zip(name)
                .all(|(&e, &n)| e.to_ascii_lowercase() == n)
    })?;
    let value = &text[eq as usize + 1..end as usize];
    if value.is_empty() || value.starts_with(b"unknown-") {
        return None;
    }
    if field_type == auparse_sys::AUPARSE_TYPE_UID || field_type == auparse_sys::AUPARSE_TYPE_GID {
        let inner = value.strip_prefix(b"\"")?;
        let close = inner.iter().position(|&b| b == b'"')?;
        return (close > 0).then(|| &inner[..close]);
    }
    Some(value)
}

/// True when libauparse would interpret a field of this type as a plain
/// copy of its raw value (given escape mode RAW and a record whose own
/// interpretations do not name the field, which the caller checks).
#[inline]
pub(crate) fn interpretation_is_raw(field_type: u32) -> bool {
    ENABLED
        && (field_type == auparse_sys::AUPARSE_TYPE_UNCLASSIFIED
            || field_type == auparse_sys::AUPARSE_TYPE_MAC_LABEL)
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
        assert_eq!(get(b"arch", ARCH), Some(&b"x86_64"[..]));
        assert_eq!(get(b"auid", UID), Some(&b"alice"[..]));
        // "a (no closing quote in its word), hex, unknown-: libauparse.
        assert_eq!(get(b"uid", UID), None);
        assert_eq!(get(b"euid", UID), None);
        assert_eq!(get(b"x", ARCH), None);
        // Exact names only; a quoted value of another type keeps its quotes.
        assert_eq!(get(b"AUID", UID), None);
        let pid = b"PID=\"7\"";
        assert_eq!(
            own_interpretation(&own_names(Some(pid)), pid, b"pid", 0),
            Some(&b"\"7\""[..])
        );
        let saddr = b"SADDR={ x=y }";
        assert_eq!(
            own_interpretation(&own_names(Some(saddr)), saddr, b"x", 0),
            None
        );
        // More entries than are kept: libauparse answers.
        let many: Vec<u8> = (0..40)
            .flat_map(|i| format!("N{i}=v ").into_bytes())
            .collect();
        assert_eq!(
            own_interpretation(&own_names(Some(&many)), &many, b"n1", 0),
            None
        );
        assert!(own_may_name(&own_names(Some(&many)), b"n39"));
    }

    #[test]
    fn value_dependent_types_are_never_cached() {
        assert!(!type_is_static(1300, b"acct"));
        assert!(!type_is_static(AUDIT_TRUSTED_APP, b"uid"));
        assert!(type_is_static(1300, b"uid"));
        assert!(!type_is_static(1300, &[b'a'; MAX_NAME + 1]));
    }

    #[test]
    fn cached_per_record_type_and_name() {
        if !ENABLED {
            return;
        }
        let mut asked = 0;
        for _ in 0..3 {
            assert_eq!(
                field_type(1300, b"test-uid", || {
                    asked += 1;
                    7
                }),
                7
            );
        }
        assert_eq!(asked, 1);
        assert_eq!(field_type(1302, b"test-uid", || 9), 9);
        assert_eq!(field_type(1300, b"acct", || 3), 3);
        assert_eq!(field_type(1300, b"acct", || 4), 4);
    }

    #[test]
    fn a_full_table_starts_over() {
        if !ENABLED {
            return;
        }
        for n in 0..(SLOTS * 2) {
            let name = format!("f{n}");
            assert_eq!(field_type(1, name.as_bytes(), || n as u32), n as u32);
        }
        let mut asked = false;
        let last = format!("f{}", SLOTS * 2 - 1);
        assert_eq!(
            field_type(1, last.as_bytes(), || {
                asked = true;
                0
            }),
            (SLOTS * 2 - 1) as u32
        );
        assert!(!asked);
    }
}

/// The answers of the views and of owned events against libauparse's own
/// calls on the same fields: the crate's oracle tests and, with the
/// `oracle` feature, the `shortcuts` fuzz target use it.
#[cfg(any(test, feature = "oracle"))]
pub(crate) mod check {
    use crate::cursor::cbytes;
    use auparse_sys as ffi;

    /// What [`check_event`] and [`check_owned`] found.
    #[derive(Default)]
    pub(crate) struct Tally {
        pub(crate) fields: u64,
        pub(crate) raw_answers: u64,
        pub(crate) mismatches: Vec<String>,
    }

    /// Every field of the current event: the views' type and interpretation
    /// against libauparse's own calls on the same field.
    pub(crate) fn check_event(ev: &mut crate::EventRef<'_>, t: &mut Tally, what: &str) {
        let mut recs = ev.records();
        while let Some(mut rec) = recs.next() {
            let mut fields = rec.fields();
            while let Some(f) = fields.next() {
                t.fields += 1;
                let view_type = f.field_type();
                let view_interp = f.interpreted().to_vec();
                // SAFETY: live parser on the field `f` views, lock held by the
                // feed call running this callback.
                let (c_type, c_interp) = unsafe {
                    let au = f.raw_state();
                    let ty = ffi::auparse_get_field_type(au) as u32;
                    let interp = cbytes(ffi::auparse_interpret_field(au))
                        .unwrap_or_else(|| f.raw())
                        .to_vec();
                    (ty, interp)
                };
                if view_interp == f.raw() && super::interpretation_is_raw(c_type) {
                    t.raw_answers += 1;
                }
                if view_type != crate::FieldType::from_raw(c_type) || view_interp != c_interp {
                    t.mismatches.push(format!(
                        "{what}: field {:?}: type {:?} vs libauparse {c_type}, {:?} vs {:?}",
                        String::from_utf8_lossy(f.name()),
                        view_type,
                        String::from_utf8_lossy(&view_interp),
                        String::from_utf8_lossy(&c_interp),
                    ));
                }
            }
        }
    }

    /// Owned events (`to_event`, with its interpretation cache) against
    /// libauparse's interpretation of the same fields, asked afterwards.
    /// The normalized view's field values (answered from the record's own
    /// entries, the interpretation cache or libauparse) against libauparse's
    /// interpretation of the fields a fresh normalization points at.
    pub(crate) fn check_normalized(ev: &mut crate::EventRef<'_>, t: &mut Tally, what: &str) {
        let Ok(mine) = ev.normalize() else {
            return;
        };
        {
            let mut recs = ev.records();
            while let Some(mut rec) = recs.next() {
                rec.rewind_fields();
            }
        }
        ev.set_fields_moved();
        let au = ev.raw();
        let fields: [(
            &str,
            Option<&crate::NormField>,
            crate::normalize::Positioner,
        ); 8] = [
            (
                "session",
                mine.session.as_ref(),
                ffi::auparse_normalize_session,
            ),
            (
                "subject",
                mine.subject.primary.as_ref(),
                ffi::auparse_normalize_subject_primary,
            ),
            (
                "subject2",
                mine.subject.secondary.as_ref(),
                ffi::auparse_normalize_subject_secondary,
            ),
            (
                "results",
                mine.results.as_ref(),
                ffi::auparse_normalize_get_results,
            ),
            ("key", mine.key.as_ref(), ffi::auparse_normalize_key),
            (
                "object",
                mine.object.primary.as_ref(),
                ffi::auparse_normalize_object_primary,
            ),
            (
                "object2",
                mine.object.secondary.as_ref(),
                ffi::auparse_normalize_object_secondary,
            ),
            (
                "object3",
                mine.object.primary2.as_ref(),
                ffi::auparse_normalize_object_primary2,
            ),
        ];
        // SAFETY: live parser on the current event, lock held by the feed
        // call running this callback; every record was rewound as
        // normalize() rewinds them.
        if unsafe { ffi::auparse_normalize(au, ffi::NORM_OPT_NO_ATTRS) } != 0 {
            t.mismatches
                .push(format!("{what}: libauparse cannot normalize again"));
            return;
        }
        for (label, m, call) in fields {
            let Some(m) = m else {
                continue;
            };
            t.fields += 1;
            // SAFETY: as above; `call` is the positioning function the view
            // was read with, and the strings are copied at once.
            let theirs = unsafe {
                if call(au) != 1 {
                    None
                } else {
                    let file =
                        ffi::auparse_get_field_type(au) as u32 == ffi::AUPARSE_TYPE_ESCAPED_FILE;
                    let path = if file {
                        cbytes(ffi::auparse_interpret_realpath(au))
                    } else {
                        None
                    };
                    let raw = cbytes(ffi::auparse_get_field_str(au)).unwrap_or_default();
                    Some(
                        path.or_else(|| cbytes(ffi::auparse_interpret_field(au)))
                            .unwrap_or(raw)
                            .to_vec(),
                    )
                }
            };
            if theirs.as_deref() != Some(&m.value[..]) {
                t.mismatches.push(format!(
                    "{what}: normalized {label} {:?}: {:?} vs libauparse {:?}",
                    m.field,
                    m.value,
                    theirs.map(|v| String::from_utf8_lossy(&v).into_owned()),
                ));
            }
        }
    }

    pub(crate) fn check_owned(ev: &mut crate::EventRef<'_>, t: &mut Tally, what: &str) {
        let owned = ev.to_event();
        let mut recs = ev.records();
        let mut ri = 0;
        while let Some(mut rec) = recs.next() {
            let mut fields = rec.fields();
            let mut fi = 0;
            while let Some(f) = fields.next() {
                t.fields += 1;
                // SAFETY: live parser on the field `f` views, lock held by the
                // feed call running this callback.
                let c_interp = unsafe { cbytes(ffi::auparse_interpret_field(f.raw_state())) }
                    .unwrap_or_else(|| f.raw());
                let mine = &owned.records[ri].fields[fi];
                if mine.realpath_or_interpreted()[..] != *c_interp {
                    t.mismatches.push(format!(
                        "{what}: owned field {:?} ({:?}): {:?} vs libauparse {:?}",
                        String::from_utf8_lossy(f.name()),
                        mine.field_type,
                        mine.interpreted,
                        String::from_utf8_lossy(c_interp),
                    ));
                }
                fi += 1;
            }
            ri += 1;
        }
    }
}

/// The shortcuts against libauparse itself, field by field, on every log in
/// the repository's fixtures and, when present, ../shared/corpus.
#[cfg(test)]
mod oracle {
    use super::check::{check_event, check_normalized, check_owned, Tally};
    use crate::{EscapeMode, Feeder};
    use std::path::{Path, PathBuf};

    fn inputs() -> Vec<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for dir in [
            root.join("tests/fixtures/live"),
            // ../shared/tools/gen_audit_log.py --events 150 --seed 7
            // --enriched --unknown-uid-frac 0.2: every record ENRICHED, with
            // names that differ from this machine's user database; and
            // own-names.log, written by hand: interpretations that name
            // UNCLASSIFIED fields, odd spacing, a SADDR list, non-ASCII names.
            root.join("tests/fixtures/enriched"),
            root.join("tests/hostile"),
            root.join("../shared/corpus"),
        ] {
            walk(&dir, &mut out);
        }
        out.sort();
        out
    }

    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "log" || x == "stream") {
                out.push(p);
            }
        }
    }

    /// Feeds every input in every escape mode through a Feeder, calling
    /// `check` on each event with a label; returns the number of files.
    fn each_event(mut check: impl FnMut(&mut crate::EventRef<'_>, &str)) -> usize {
        let files = inputs();
        assert!(files.len() >= 30, "fixtures missing: {files:?}");
        for mode in [
            EscapeMode::Raw,
            EscapeMode::Tty,
            EscapeMode::Shell,
            EscapeMode::ShellQuote,
        ] {
            for path in &files {
                let data = std::fs::read(path).unwrap();
                let what = format!("{} ({mode:?})", path.display());
                let mut feeder = Feeder::new().unwrap();
                feeder.set_escape_mode(mode).unwrap();
                let mut on_event = |ev: &mut crate::EventRef<'_>| check(ev, &what);
                feeder.feed(&data, &mut on_event).unwrap();
                feeder.flush(&mut on_event).unwrap();
            }
        }
        files.len()
    }

    fn assert_none_differ(t: &Tally) {
        assert!(
            t.mismatches.is_empty(),
            "{} of {} fields differ:\n{}",
            t.mismatches.len(),
            t.fields,
            t.mismatches[..t.mismatches.len().min(20)].join("\n")
        );
    }

    #[test]
    fn owned_events_interpret_like_libauparse_on_every_field() {
        let mut t = Tally::default();
        let files = each_event(|ev, what| {
            check_owned(ev, &mut t, what);
            check_normalized(ev, &mut t, what);
        });
        assert_none_differ(&t);
        let (hits, _) = crate::id_cache_stats();
        assert!(
            hits * 10 > t.fields,
            "the cache answered {hits} of {}",
            t.fields
        );
        eprintln!(
            "{} owned fields in {files} files x 4 escape modes ({hits} from the cache): all as libauparse",
            t.fields,
        );
    }

    #[test]
    fn views_answer_like_libauparse_on_every_field() {
        let mut t = Tally::default();
        let files = each_event(|ev, what| {
            check_event(ev, &mut t, what);
            // Normalizing moves libauparse's cursor and reloads its
            // interpretation list: walk again after it.
            let _ = ev.normalize();
            check_event(ev, &mut t, what);
        });
        assert_none_differ(&t);
        if super::ENABLED {
            // The shortcut was taken on a good share of the fields.
            assert!(
                t.raw_answers * 5 > t.fields,
                "{} of {}",
                t.raw_answers,
                t.fields
            );
        }
        eprintln!(
            "{} fields in {files} files x 4 escape modes: all as libauparse answers",
            t.fields
        );
    }
}
