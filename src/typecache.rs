//! The field-type cache of the views.
//!
//! In libauparse 3.0.9 (`auparse_interp_adjust_type` in `interpret.c`) a
//! field's type is a function of the record type and the field name, except
//! for a field named `acct` and for TRUSTED_APP records, where the value
//! decides. libauparse finds it by a chain of `strcmp`s and a search of its
//! field-name table on every call (16 % of a plain C walk), so the views keep
//! types here, per thread, per (record type, name): an open-addressing table
//! of 1024 slots, emptied when three quarters full. Only on the libauparse
//! versions this rule was read from ([`crate::interp_rule::ENABLED`]);
//! elsewhere every call goes to libauparse. The oracle tests (`src/oracle/`)
//! check every answer against libauparse's.

use crate::interp_rule::ENABLED;
use std::cell::RefCell;

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
