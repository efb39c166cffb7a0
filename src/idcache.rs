//! A cache of uid/gid interpretations.
//!
//! libauparse looks up every uid and gid it interprets in the user database
//! and does not remember ids it could not find: each unknown id costs a full
//! NSS lookup (dozens of file opens) every time. The name of an id depends
//! only on the raw value and the local database, so it is cached here, per
//! thread, keyed by raw value. Records in ENRICHED format carry their own
//! names and are never served from or stored in the cache. Entries expire
//! after a minute, so users added later show up.

use crate::bytes::Bytes;
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const MAX_ENTRIES: usize = 16 * 1024;
const MAX_AGE: Duration = Duration::from_secs(60);

struct IdCache {
    uid: HashMap<Bytes, Bytes>,
    gid: HashMap<Bytes, Bytes>,
    born: Instant,
    hits: u64,
    misses: u64,
}

thread_local! {
    static CACHE: RefCell<IdCache> = RefCell::new(IdCache {
        uid: HashMap::new(),
        gid: HashMap::new(),
        born: Instant::now(),
        hits: 0,
        misses: 0,
    });
}

/// Drops entries older than the expiry; called once per event.
pub(crate) fn tick() {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.born.elapsed() > MAX_AGE {
            c.uid.clear();
            c.gid.clear();
            c.born = Instant::now();
        }
    });
}

/// The interpretation of a uid (`gid == false`) or gid with this raw value:
/// from the cache, or from `interpret` (then remembered).
pub(crate) fn interpret<'a>(gid: bool, raw: &[u8], interpret: impl FnOnce() -> &'a [u8]) -> Bytes {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let hit = {
            let map = if gid { &c.gid } else { &c.uid };
            // Clones of short names are inline: no allocation.
            map.get(raw).cloned()
        };
        if let Some(v) = hit {
            c.hits += 1;
            return v;
        }
        c.misses += 1;
        let v = Bytes::from(interpret());
        let map = if gid { &mut c.gid } else { &mut c.uid };
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(Bytes::from(raw), v.clone());
        v
    })
}

/// (hits, misses) of this thread's cache, for benchmarks.
pub fn stats() -> (u64, u64) {
    CACHE.with(|c| {
        let c = c.borrow();
        (c.hits, c.misses)
    })
}
