//! The field-type cache of the views.
//!
//! In libauparse 3.0.9 (`auparse_interp_adjust_type` in `interpret.c`) a
//! field's type is a function of the record type and the field name, except
//! for a field named `acct` and for TRUSTED_APP records, where the value
//! decides. libauparse finds it by a chain of `strcmp`s and a search of its
//! field-name table on every call (16 % of a plain C walk), so the views keep
//! types here, per (record type, name): an open-addressing table owned by
//! the [`Feeder`](crate::Feeder) or [`Parser`](crate::Parser) whose events
//! the views borrow ([`crate::caches`]), of 1024 slots by default (settable,
//! 0 for none), emptied when three quarters full. Only on the libauparse
//! versions this rule was read from ([`crate::interp_rule::ENABLED`]);
//! elsewhere every call goes to libauparse. The oracle tests (`src/oracle/`)
//! check every answer against libauparse's.

use crate::interp_rule::ENABLED;
use std::cell::RefCell;

const AUDIT_TRUSTED_APP: u32 = 1121;
/// The default number of slots.
pub(crate) const DEFAULT_SLOTS: usize = 1024;
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

struct Table {
    /// Empty until the first type is remembered; then `mask + 1` slots.
    slots: Vec<Option<Slot>>,
    filled: usize,
}

/// Field types per (record type, name), for the views of one parser.
pub(crate) struct TypeCache {
    table: RefCell<Table>,
    /// Slots minus one (a power of two minus one); unused when disabled.
    mask: usize,
    /// Cleared when this full (keeps probe chains short). Always below the
    /// number of slots, so a probe always meets an empty slot.
    max_filled: usize,
    enabled: bool,
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
fn hash(k: &Key) -> usize {
    let mut h = u64::from(k.rtype);
    for w in k.name {
        h = (h ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    (h >> 40) as usize
}

impl TypeCache {
    /// A cache of `slots` slots, rounded up to a power of two and to at
    /// least 2; 0 for no cache. Nothing is allocated before the first use.
    pub(crate) fn new(slots: usize) -> Self {
        let n = if slots == 0 {
            0
        } else {
            slots
                .max(2)
                .checked_next_power_of_two()
                .unwrap_or(1 << (usize::BITS - 1))
        };
        TypeCache {
            table: RefCell::new(Table {
                slots: Vec::new(),
                filled: 0,
            }),
            mask: n.saturating_sub(1),
            max_filled: n * 3 / 4,
            enabled: n > 0,
        }
    }

    /// The type of field `name` of a record of type `rtype`: from the
    /// cache, or from `ask` (libauparse), then remembered when it cannot
    /// depend on the value.
    #[inline]
    pub(crate) fn field_type(&self, rtype: u32, name: &[u8], ask: impl FnOnce() -> u32) -> u32 {
        if !ENABLED || !self.enabled || !type_is_static(rtype, name) {
            return ask();
        }
        let k = key(rtype, name);
        let mut i = hash(&k) & self.mask;
        {
            let c = self.table.borrow();
            if !c.slots.is_empty() {
                loop {
                    match &c.slots[i] {
                        Some(s) if s.key == k => return s.field_type,
                        Some(_) => i = (i + 1) & self.mask,
                        None => break,
                    }
                }
            }
        }
        // Asked with no borrow held: `ask` is libauparse, but a view's
        // closure must never find the table borrowed.
        let field_type = ask();
        let mut c = self.table.borrow_mut();
        if c.slots.is_empty() {
            c.slots = vec![None; self.mask + 1];
        }
        if c.filled >= self.max_filled {
            c.slots.iter_mut().for_each(|s| *s = None);
            c.filled = 0;
        }
        // Probe again: the table may have just been allocated or cleared.
        i = hash(&k) & self.mask;
        while let Some(s) = &c.slots[i] {
            if s.key == k {
                return field_type;
            }
            i = (i + 1) & self.mask;
        }
        c.slots[i] = Some(Slot { key: k, field_type });
        c.filled += 1;
        field_type
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let c = TypeCache::new(DEFAULT_SLOTS);
        let mut asked = 0;
        for _ in 0..3 {
            assert_eq!(
                c.field_type(1300, b"test-uid", || {
                    asked += 1;
                    7
                }),
                7
            );
        }
        assert_eq!(asked, 1);
        assert_eq!(c.field_type(1302, b"test-uid", || 9), 9);
        assert_eq!(c.field_type(1300, b"acct", || 3), 3);
        assert_eq!(c.field_type(1300, b"acct", || 4), 4);
    }

    #[test]
    fn a_full_table_starts_over() {
        if !ENABLED {
            return;
        }
        for slots in [1, 2, 3, 5, DEFAULT_SLOTS] {
            let c = TypeCache::new(slots);
            let n = (slots * 2) as u32;
            for round in 0..2 {
                for t in 0..n {
                    let name = format!("f{t}");
                    let got = c.field_type(1, name.as_bytes(), || t + round);
                    // Answers come from the cache (round 0's) or from `ask`.
                    assert!(got == t || got == t + round, "{slots} slots: {got} for {t}");
                }
            }
            // The last one asked is always remembered.
            let last = format!("f{}", n - 1);
            let mut asked = false;
            let got = c.field_type(1, last.as_bytes(), || {
                asked = true;
                0
            });
            assert!(!asked && got >= n - 1, "{slots} slots");
            assert!(c.table.borrow().filled < c.mask + 1);
        }
    }

    #[test]
    fn size_zero_asks_every_time() {
        let c = TypeCache::new(0);
        let mut asked = 0;
        for _ in 0..3 {
            c.field_type(1300, b"uid", || {
                asked += 1;
                1
            });
        }
        assert_eq!(asked, 3);
    }
}
