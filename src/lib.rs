//! Safe Rust bindings to libauparse, the Linux audit event parser.
//!
//! ```
//! use auparse::Feeder;
//!
//! let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
//! type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
//! type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
//! type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
//! type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
//! ";
//! let mut feeder = Feeder::new()?;
//! let mut events = Vec::new();
//! feeder.feed(log, |ev| events.push(ev.to_event()))?;
//! feeder.flush(|ev| events.push(ev.to_event()))?; // end of input: never lose the last event
//!
//! let ev = &events[0];
//! assert_eq!(ev.serial, 1001);
//! assert_eq!(ev.keys[0], "fsaction");
//! assert_eq!(ev.action().unwrap(), "deleted");
//! let name = ev.records[3].field("name").unwrap();
//! assert_eq!(name.interpreted, "bar"); // what `ausearch -i` shows
//! assert_eq!(name.realpath.as_ref().unwrap(), "/tmp/bar"); // joined to the cwd
//! assert_eq!(ev.proctitle.as_deref().unwrap(), [auparse::Bytes::from("rm"), "bar".into()]);
//! # Ok::<(), auparse::Error>(())
//! ```
//!
//! # Design
//!
//! **Two modes.** [`Feeder`] is feed mode (`AUSOURCE_FEED`): you push bytes,
//! and a closure sees each event as soon as libauparse completes it, within the
//! same call. [`Parser`] is pull mode over files, a buffer or a descriptor.
//! [`read_events`] wraps a Feeder around any `impl Read` and yields owned events.
//! By default libauparse groups records into events; [`Grouping::Ausearch`]
//! groups them in Rust as `ausearch` does (its order; no slowdown on kernel
//! `ANOM_*` records or out-of-order logs) and hands libauparse one event at a
//! time; [`Grouping::Indexed`] does the same with libauparse's own rules and
//! order (the same events as the default, without libauparse 3.0.9's scan of
//! every held event per record, which made a burst with one late event
//! quadratic). Lines whose record type is not of the usual shape are read by
//! a second, private libauparse parser, so the rules are libauparse's own.
//!
//! **What borrows what.** [`EventRef`], [`RecordRef`] and [`FieldRef`] are views
//! of libauparse's memory, valid only while libauparse keeps the event (in feed
//! mode: until the closure returns). Their lifetimes make it a compile error
//! to keep them longer; cursor moves take `&mut`. [`EventRef::to_event`] copies
//! everything into an owned [`Event`], which serde writes and reads back
//! losslessly (as do [`FsChange`] and [`Bytes`]). Values are bytes first:
//! audit data is not UTF-8 ([`Bytes`]; [`bytes`] for the one escaping
//! scheme of every text output, and its decoder).
//!
//! **Threads.** libauparse 3.0.x keeps process-global state (uid/gid caches,
//! the ENRICHED interpretation list, a path buffer, the end-of-event timeout),
//! so every call into C takes one process-wide lock. Feeders and Parsers are
//! `Send` but not `Sync`; they may live on different threads, and their calls
//! are serialized. The lock is held during a feed call (so inside its closure)
//! and while a pull-mode [`EventRef`] lives; a libauparse call made by the same
//! thread in that time returns [`Error::Nested`] instead of deadlocking. Even
//! serialized, two live parsers that read ENRICHED records can swap each
//! other's user names (a libauparse 3.0.9 limitation): use one parser at a time
//! for ENRICHED logs.
//!
//! **Answers known in advance.** On libauparse 3.0.x the views answer some
//! questions without asking libauparse, by rules read from 3.0.9's source
//! (`interpret.c`), one file each: `src/typecache.rs` caches field types
//! per (record type, name); `src/interp_rule.rs` answers an UNCLASSIFIED
//! field's interpretation with its raw value (escape mode RAW, and the
//! record's ENRICHED interpretations, if any, do not name the field), and
//! holds the switch that turns these rules off on other versions;
//! `src/enriched.rs` reads a record's own ENRICHED interpretations once and
//! answers a field they name with the value they give it.
//! [`EventRef::to_event`] and [`EventRef::normalize`] also use
//! `src/interpcache.rs`, per field type and escape mode, for the
//! interpretations 3.0.9 derives from the raw value alone (uid and gid names
//! on every version). `src/oracle/` checks every rule field by field against libauparse, on
//! every fixture and corpus file (the crate's tests) and on fuzzed input
//! (feature `oracle`); no library module imports it, and
//! `tests/import_graph.rs` keeps the modules of `src/` free of import cycles.
//!
//! **Caches** belong to the [`Feeder`] or [`Parser`] whose events use them
//! (`src/caches.rs`): the views reach them through the borrow of the parser
//! they already hold, so parsers share no entry, and a parser's caches go
//! with it. Their sizes are set with [`CacheSizes`] (`set_cache_sizes`, or
//! [`ReadOptions::cache_sizes`]); 0 turns a cache off, and no size changes
//! an answer (`tests/cache_sizes.rs`). By default the type cache holds 1024
//! slots of (record type, name up to 24 bytes) -> type and starts over when
//! 3/4 full; the interpretation cache holds, for each of 31 field types x 4
//! escape modes, up to 4096 raw values (of at most 96 bytes) ->
//! interpretation, each map starting over when full and all emptied after
//! 60 s so that new users show up (a few MB at worst). ENRICHED fields are
//! never cached (their records name them). Besides the lock's flag, the
//! thread-locals left are formatting's: `format` keeps the last second converted to local time,
//! and `format::json` the last second's formatted date. Other helpers live
//! in their own rooms: `src/assemble.rs` groups records as `ausearch` does
//! or as libauparse's feed mode does
//! (libaudit's type names come from [`ffi::audit_name_to_msg_type`], and
//! [`RecordType::name`] from [`ffi::audit_msg_type_to_name`]: libaudit's
//! bindings live in auparse-sys),
//! `src/fschange.rs` and `src/fsindex.rs` turn events into [`FsChange`]s
//! and index them; `src/format/` writes json, text, csv and pretty output.
//!
//! **Panics** in a feed closure are caught before they reach C and re-raised
//! after libauparse returns; the Feeder stays usable.
//!
//! Built against libauparse [`LIBAUPARSE_VERSION`]; tested with 3.0.9.

#![deny(unsafe_op_in_unsafe_fn)]

mod assemble;
pub mod bytes;
mod caches;
mod cursor;
mod enriched;
mod error;
mod escaped;
mod event;
mod feeder;
pub mod format;
mod fschange;
mod fsindex;
mod global;
mod interp_rule;
mod interpcache;
mod normalize;
mod parser;
pub mod plugin;
mod read;
mod typecache;
mod types;

pub use assemble::Grouping;
pub use auparse_sys as ffi;
pub use bytes::Bytes;
pub use caches::CacheSizes;
pub use cursor::{EventRef, FieldRef, Fields, RecordRef, Records};
pub use error::{Error, Result};
pub use event::{Event, EventOptions, Field, Id, Record, Value};
pub use feeder::Feeder;
pub use fschange::{fs_changes, ChangeKind, FsChange, FsTracker};
pub use fsindex::FsIndex;
pub use global::configured_eoe_timeout;
pub use normalize::{NormField, Normalized, Object, Outcome, Subject};
pub use parser::{Events, Parser};
pub use read::{read_events, read_events_escaped, read_events_with, ReadEvents, ReadOptions};
pub use types::{EscapeMode, FieldType, RecordType, Timestamp};

/// Checks of this crate's answers against libauparse's own, for fuzzing
/// (feature `oracle`; not part of the API).
#[cfg(any(test, feature = "oracle"))]
#[doc(hidden)]
pub mod oracle;

/// The README's Rust examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The libauparse version this crate was built against (from pkg-config).
pub const LIBAUPARSE_VERSION: &str = env!("AUPARSE_LIBAUPARSE_VERSION");
