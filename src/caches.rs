//! The caches a [`Feeder`](crate::Feeder) or [`Parser`](crate::Parser)
//! keeps for the views of its events, and their sizes.
//!
//! Each parser owns one [`Caches`]; its event views reach it through the
//! borrow they already hold of the parser, so two parsers never share an
//! entry, and dropping the parser frees them. What each cache holds, and why
//! its answers equal libauparse's, is in its own room: [`crate::typecache`]
//! and [`crate::interpcache`].

use crate::interpcache::InterpCache;
use crate::typecache::TypeCache;

/// Sizes of the caches a [`Feeder`](crate::Feeder) or a
/// [`Parser`](crate::Parser) keeps, set with `set_cache_sizes` (or
/// [`ReadOptions::cache_sizes`](crate::ReadOptions::cache_sizes)). The
/// caches change no answer, only how often libauparse is asked; 0 turns a
/// cache off. Each is allocated when first used and freed with its parser.
///
/// ```
/// use auparse::{CacheSizes, Feeder};
/// let log = b"type=DAEMON_START msg=audit(1653911717.020:42): op=start ver=3.0.9 auid=0 res=success\n";
///
/// // Many parsers alive at once (one per source, say): smaller caches.
/// let small = CacheSizes::new().field_types(64).interpretations(256);
/// let mut feeder = Feeder::new()?;
/// feeder.set_cache_sizes(small);
/// assert_eq!(feeder.cache_sizes(), small);
///
/// // Or none at all: every answer comes from libauparse, and they are the same.
/// let mut uncached = Feeder::new()?;
/// uncached.set_cache_sizes(CacheSizes::none());
/// let (mut a, mut b) = (Vec::new(), Vec::new());
/// feeder.feed(log, |ev| a.push(ev.to_event()))?;
/// uncached.feed(log, |ev| b.push(ev.to_event()))?;
/// assert_eq!(a, b);
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheSizes {
    /// Slots of the field-type cache of the views: one per (record type,
    /// field name), rounded up to a power of two (and to at least 2); the
    /// table starts over when three quarters full. Default 1024 (16 KB in
    /// use); 0: every [`FieldRef::field_type`](crate::FieldRef::field_type)
    /// asks libauparse. Used on libauparse 3.0.x only, whose rule it relies on.
    pub field_types: usize,
    /// Entries of the interpretation cache of
    /// [`EventRef::to_event`](crate::EventRef::to_event) and
    /// [`EventRef::normalize`](crate::EventRef::normalize), for each of its
    /// 31 field types (uid and gid names, exit codes, modes, ...) and 4
    /// escape modes: raw value (of at most 96 bytes) -> interpretation. A
    /// full table starts over, and all are emptied once a minute so that
    /// users added to the system show up. Default 4096 (a few MB at worst,
    /// usually far less); 0: every interpretation is asked of libauparse,
    /// which looks unknown uids up in the user database each time.
    pub interpretations: usize,
}

impl Default for CacheSizes {
    fn default() -> Self {
        CacheSizes {
            field_types: crate::typecache::DEFAULT_SLOTS,
            interpretations: crate::interpcache::DEFAULT_ENTRIES,
        }
    }
}

impl CacheSizes {
    /// The default sizes (what a new Feeder or Parser uses).
    pub fn new() -> Self {
        Self::default()
    }

    /// No caches: every answer comes from libauparse.
    pub fn none() -> Self {
        CacheSizes {
            field_types: 0,
            interpretations: 0,
        }
    }

    /// Sets [`field_types`](Self::field_types).
    pub fn field_types(mut self, slots: usize) -> Self {
        self.field_types = slots;
        self
    }

    /// Sets [`interpretations`](Self::interpretations).
    pub fn interpretations(mut self, entries: usize) -> Self {
        self.interpretations = entries;
        self
    }
}

/// The caches of one parser (see the module documentation).
pub(crate) struct Caches {
    pub(crate) types: TypeCache,
    pub(crate) interpretations: InterpCache,
    sizes: CacheSizes,
}

impl Caches {
    pub(crate) fn new(sizes: CacheSizes) -> Self {
        Caches {
            types: TypeCache::new(sizes.field_types),
            interpretations: InterpCache::new(sizes.interpretations),
            sizes,
        }
    }

    /// The sizes these caches were made with.
    pub(crate) fn sizes(&self) -> CacheSizes {
        self.sizes
    }
}

impl Default for Caches {
    fn default() -> Self {
        Self::new(CacheSizes::default())
    }
}
