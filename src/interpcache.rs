//! A cache of interpretations that depend only on the raw value.
//!
//! libauparse looks up every uid and gid it interprets in the user database
//! and does not remember ids it could not find: each unknown id costs a full
//! NSS lookup (dozens of file opens) every time. The name of an id depends
//! only on the raw value and the local database; and in libauparse 3.0.9 the
//! interpretation of many other field types (exit codes, modes, permissions,
//! success, capability sets, keys, ...) is a function of the raw value alone,
//! then escaped by the escape mode (`auparse_do_interpretation`). So those
//! are cached here, keyed by field type, escape mode and raw value, by the
//! [`Feeder`](crate::Feeder) or [`Parser`](crate::Parser) whose events are
//! copied ([`crate::caches`]). A record in ENRICHED format answers for the fields it names after
//! 0x1d itself (`auparse_do_interpretation` looks there first): those fields
//! are never served from or stored in the cache (see
//! `crate::enriched`). Entries expire after a minute,
//! so users added later show up. The oracle tests (`src/oracle/`) check every cached answer
//! against libauparse's on every fixture and corpus file.

use crate::bytes::Bytes;
use crate::types::{EscapeMode, FieldType};
use rustc_hash::FxHashMap as FxMap;
use std::cell::RefCell;
use std::time::{Duration, Instant};

/// Entries per map (one per type and escape mode) by default; a full map
/// starts over. Bounded so that a hostile log can neither grow memory nor
/// make probe chains long.
pub(crate) const DEFAULT_ENTRIES: usize = 4 * 1024;
/// Longer raw values are not cached. An interpretation is at most about four
/// times its raw value (an escape mode writes a byte as `\ooo`), so a full
/// map holds a few MB at worst, and memory stays flat on varied logs.
const MAX_RAW: usize = 96;
const MAX_AGE: Duration = Duration::from_secs(60);
const MODES: usize = 4;

struct Maps {
    /// Empty until the first interpretation is remembered; then one map per
    /// type and escape mode.
    maps: Vec<FxMap<Bytes, Bytes>>,
    born: Instant,
    hits: u64,
    misses: u64,
}

/// Interpretations per (field type, escape mode, raw value), for the events
/// of one parser.
pub(crate) struct InterpCache {
    maps: RefCell<Maps>,
    /// Entries per map; 0: no cache.
    max_entries: usize,
}

/// Which table a field type's interpretations go to, for the types whose
/// libauparse 3.0.9 interpretation reads nothing but the raw value (`print_*`
/// functions of `val` only); `None` for the others (syscall, arch and the
/// syscall arguments need the record; file names are asked for their
/// realpath, which needs the cwd).
fn type_slot(t: FieldType) -> Option<usize> {
    use FieldType::*;
    let i = match t {
        Uid => 0,
        Gid => 1,
        Exit => 2,
        Perm => 3,
        Mode => 4,
        ModeShort => 5,
        Flags => 6,
        Promisc => 7,
        Capability => 8,
        Success => 9,
        Signal => 10,
        List => 11,
        Session => 12,
        CapBitmap => 13,
        Nfproto => 14,
        Icmptype => 15,
        Protocol => 16,
        Personality => 17,
        Seccomp => 18,
        Oflag => 19,
        Mmap => 20,
        Hook => 21,
        Netaction => 22,
        Macproto => 23,
        IoctlReq => 24,
        EscapedKey => 25,
        Fanotify => 26,
        Nlmcgrp => 27,
        Resolve => 28,
        // `print_escaped` of the value: `auparse_interpret_field` clears the
        // record's cwd first, so only the realpath joins it.
        Escaped => 29,
        Proctitle => 30,
        _ => return None,
    };
    // Ids are cached on every libauparse (they only avoid NSS lookups); the
    // other types only where their rules were read (see crate::interp_rule).
    (i < 2 || crate::interp_rule::ENABLED).then_some(i)
}

const TYPES: usize = 31;

fn mode_slot(m: EscapeMode) -> usize {
    match m {
        EscapeMode::Raw => 0,
        EscapeMode::Tty => 1,
        EscapeMode::Shell => 2,
        EscapeMode::ShellQuote => 3,
    }
}

/// True when interpretations of fields of this type are cached (by a cache
/// of any size but 0).
pub(crate) fn cacheable(t: FieldType) -> bool {
    type_slot(t).is_some()
}

impl InterpCache {
    /// A cache of up to `max_entries` per type and escape mode; 0 for no
    /// cache. Nothing is allocated before the first use.
    pub(crate) fn new(max_entries: usize) -> Self {
        InterpCache {
            maps: RefCell::new(Maps {
                maps: Vec::new(),
                born: Instant::now(),
                hits: 0,
                misses: 0,
            }),
            max_entries,
        }
    }

    /// Drops entries older than the expiry; called once per event.
    pub(crate) fn tick(&self) {
        let mut c = self.maps.borrow_mut();
        if !c.maps.is_empty() && c.born.elapsed() > MAX_AGE {
            c.maps.iter_mut().for_each(FxMap::clear);
            c.born = Instant::now();
        }
    }

    /// The interpretation of a field of type `t` (one that is
    /// [`cacheable`]) with this raw value, in escape mode `mode`: from the
    /// cache, or from `interpret` (then remembered). The caller makes sure
    /// the record's own interpretations (ENRICHED) do not name the field.
    pub(crate) fn interpret<'a>(
        &self,
        t: FieldType,
        mode: EscapeMode,
        raw: &[u8],
        interpret: impl FnOnce() -> &'a [u8],
    ) -> Bytes {
        let Some(ts) = type_slot(t).filter(|_| raw.len() <= MAX_RAW && self.max_entries > 0) else {
            return Bytes::from(interpret());
        };
        let slot = ts * MODES + mode_slot(mode);
        {
            let mut c = self.maps.borrow_mut();
            if c.maps.is_empty() {
                c.maps = (0..TYPES * MODES).map(|_| FxMap::default()).collect();
                c.born = Instant::now();
            }
            // Clones of short values are inline: no allocation.
            if let Some(v) = c.maps[slot].get(raw).cloned() {
                c.hits += 1;
                return v;
            }
            c.misses += 1;
        }
        // Asked with no borrow held (`interpret` reaches the views).
        let v = Bytes::from(interpret());
        let mut c = self.maps.borrow_mut();
        let map = &mut c.maps[slot];
        if map.len() >= self.max_entries {
            map.clear();
        }
        map.insert(Bytes::from(raw), v.clone());
        v
    }

    /// (hits, misses) so far, for the oracle tests.
    #[cfg(any(test, feature = "oracle"))]
    pub(crate) fn stats(&self) -> (u64, u64) {
        let c = self.maps.borrow();
        (c.hits, c.misses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Interprets `raw` through `c`, counting the calls of the interpreter.
    fn ask(c: &InterpCache, t: FieldType, mode: EscapeMode, raw: &str, calls: &mut u32) -> Bytes {
        c.interpret(t, mode, raw.as_bytes(), || {
            *calls += 1;
            b"answer"
        })
    }

    #[test]
    fn remembered_per_type_mode_and_value() {
        let c = InterpCache::new(DEFAULT_ENTRIES);
        let mut calls = 0;
        for _ in 0..3 {
            assert_eq!(
                ask(&c, FieldType::Uid, EscapeMode::Raw, "0", &mut calls),
                "answer"
            );
        }
        assert_eq!(calls, 1);
        ask(&c, FieldType::Gid, EscapeMode::Raw, "0", &mut calls);
        ask(&c, FieldType::Uid, EscapeMode::Tty, "0", &mut calls);
        ask(&c, FieldType::Uid, EscapeMode::Raw, "1", &mut calls);
        assert_eq!(calls, 4);
        assert_eq!(c.stats(), (2, 4));
    }

    #[test]
    fn zero_entries_ask_every_time() {
        let c = InterpCache::new(0);
        let mut calls = 0;
        for _ in 0..3 {
            ask(&c, FieldType::Uid, EscapeMode::Raw, "0", &mut calls);
        }
        assert_eq!(calls, 3);
        assert!(c.maps.borrow().maps.is_empty(), "nothing allocated");
    }

    #[test]
    fn a_full_map_starts_over() {
        let c = InterpCache::new(1);
        let mut calls = 0;
        ask(&c, FieldType::Uid, EscapeMode::Raw, "0", &mut calls);
        ask(&c, FieldType::Uid, EscapeMode::Raw, "0", &mut calls);
        assert_eq!(calls, 1);
        ask(&c, FieldType::Uid, EscapeMode::Raw, "1", &mut calls);
        ask(&c, FieldType::Uid, EscapeMode::Raw, "0", &mut calls);
        assert_eq!(calls, 3, "0 was dropped to make room for 1");
        let slot = type_slot(FieldType::Uid).unwrap() * MODES;
        assert_eq!(c.maps.borrow().maps[slot].len(), 1);
    }

    #[test]
    fn other_types_and_long_values_are_not_cached() {
        let c = InterpCache::new(DEFAULT_ENTRIES);
        let mut calls = 0;
        let long = "7".repeat(MAX_RAW + 1);
        for _ in 0..2 {
            ask(&c, FieldType::Syscall, EscapeMode::Raw, "2", &mut calls);
            ask(&c, FieldType::Uid, EscapeMode::Raw, &long, &mut calls);
        }
        assert_eq!(calls, 4);
        assert!(!cacheable(FieldType::Syscall) && cacheable(FieldType::Uid));
    }
}
