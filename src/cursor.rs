//! Borrowed views of the event under libauparse's cursor.
//!
//! [`EventRef`], [`RecordRef`] and [`FieldRef`] point into memory owned by
//! libauparse, which frees it when the event is done (in feed mode: when the
//! callback returns; in pull mode: at the next `next_event`). Their lifetimes
//! make it impossible to keep that memory longer. Moving the cursor takes
//! `&mut`, so at most one record view and one field view exist at a time, and
//! a view always describes the record/field the C cursor is on.
//!
//! ```compile_fail
//! // A view cannot escape the callback that lent it.
//! let mut feeder = auparse::Feeder::new().unwrap();
//! let mut kept = None;
//! feeder.feed(b"type=DAEMON_START msg=audit(1.000:1): op=start\n", |ev| {
//!     let mut records = ev.records();
//!     let mut rec = records.next().unwrap();
//!     let mut fields = rec.fields();
//!     kept = Some(fields.next().unwrap().name()); // error: borrowed data escapes the closure
//! }).unwrap();
//! # drop(kept);
//! ```

use crate::bytes::Bytes;
use crate::caches::Caches;
use crate::error::{step, Result};
use crate::global::Guard;
use crate::types::{EscapeMode, FieldType, RecordType, Timestamp};
use auparse_sys as ffi;
use std::cell::{Cell, OnceCell};
use std::ffi::{c_char, CStr};
use std::marker::PhantomData;
use std::ptr::NonNull;

/// See [`EventRef::fields_moved`].
const MOVED: u32 = 1 << 31;

/// Bytes of a C string owned by libauparse, or `None` for NULL.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that stays valid and
/// unchanged for `'a`.
#[inline]
pub(crate) unsafe fn cbytes<'a>(p: *const c_char) -> Option<&'a [u8]> {
    if p.is_null() {
        None
    } else {
        // SAFETY: non-NULL, NUL-terminated and valid for 'a (caller's contract).
        Some(unsafe { CStr::from_ptr(p) }.to_bytes())
    }
}

/// The event libauparse's cursor is on, lent by a [`Feeder`](crate::Feeder)
/// callback or by [`Parser::next_event`](crate::Parser::next_event).
///
/// All its methods call into libauparse without taking the global lock again:
/// the lock is held for as long as the view exists (by the feed call, or by
/// the view itself in pull mode).
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// let mut feeder = auparse::Feeder::new()?;
/// feeder.feed(log, |ev| {
///     assert_eq!(ev.serial(), 1001);
///     assert_eq!(ev.timestamp().sec, 1653911717);
///     assert_eq!(ev.num_records(), 5);
///     assert_eq!(ev.keys(), ["fsaction"]);
///     let n = ev.normalize().unwrap();
///     assert_eq!(n.action.unwrap(), "deleted");
///     let owned: auparse::Event = ev.to_event(); // a copy to keep
///     assert_eq!(owned.records.len(), 5);
/// })?;
/// # Ok::<(), auparse::Error>(())
/// ```
pub struct EventRef<'a> {
    au: NonNull<ffi::auparse_state_t>,
    _guard: Option<Guard>,
    /// The parser's escape mode.
    escape: EscapeMode,
    /// Whether some record's field cursor may be off its first field.
    /// libauparse's normalizer starts its field searches from there, so
    /// [`normalize`](Self::normalize) rewinds every record first unless this
    /// is 0. A new event has every record on its first field. The low bits
    /// count the field cursors ([`Fields`]) that have moved past a first
    /// field and not put it back yet (one forgotten instead of dropped stays
    /// counted); [`MOVED`] is set for good by [`RecordRef::field`] and by
    /// the normalizer.
    fields_moved: Cell<u32>,
    /// Values worked out in Rust that the views lend for the event's life.
    arena: Arena,
    /// The caches of the parser the event comes from.
    caches: &'a Caches,
    _life: PhantomData<&'a mut ffi::auparse_state_t>,
}

/// Byte strings kept until the event view is dropped, so that field views
/// can lend values libauparse does not hold (see [`FieldRef::interpreted`]).
/// Only grows while the event lives.
#[derive(Default)]
pub(crate) struct Arena(std::cell::RefCell<Vec<Box<[u8]>>>);

impl Arena {
    /// Keeps `v` and lends it for as long as the arena is borrowed.
    fn keep(&self, v: Vec<u8>) -> &[u8] {
        let b = v.into_boxed_slice();
        let p: *const [u8] = &*b;
        self.0.borrow_mut().push(b);
        // SAFETY: `p` points to the heap block of a Box now owned by the
        // arena; moving the Box (the Vec growing) does not move the block,
        // and the arena never drops or changes an entry before it is itself
        // dropped, which the borrow of `self` this slice carries prevents.
        unsafe { &*p }
    }
}

impl<'a> EventRef<'a> {
    /// # Safety
    /// `au` is a live parser positioned on a current event whose memory stays
    /// valid for `'a`, and this thread holds the global lock for all of `'a`
    /// (passed as `guard`, or held by the caller for longer). `escape` is
    /// the parser's escape mode, `caches` its caches.
    pub(crate) unsafe fn new(
        au: NonNull<ffi::auparse_state_t>,
        guard: Option<Guard>,
        escape: EscapeMode,
        caches: &'a Caches,
    ) -> Self {
        EventRef {
            au,
            _guard: guard,
            escape,
            fields_moved: Cell::new(0),
            arena: Arena::default(),
            caches,
            _life: PhantomData,
        }
    }

    /// True unless every record's field cursor is known to be on its first
    /// field.
    #[inline]
    pub(crate) fn fields_moved(&self) -> bool {
        self.fields_moved.get() != 0
    }

    /// Records that some record's field cursor may be off its first field.
    #[inline]
    pub(crate) fn set_fields_moved(&self) {
        self.fields_moved.set(self.fields_moved.get() | MOVED);
    }

    #[inline]
    pub(crate) fn raw(&self) -> *mut ffi::auparse_state_t {
        self.au.as_ptr()
    }

    /// The escape mode of the parser this event comes from.
    #[inline]
    pub(crate) fn escape_mode(&self) -> EscapeMode {
        self.escape
    }

    /// The caches of the parser this event comes from.
    #[inline]
    pub(crate) fn caches(&self) -> &'a Caches {
        self.caches
    }

    /// Serial number of the event (`auparse_get_serial`).
    pub fn serial(&self) -> u64 {
        // SAFETY: live parser on a current event, lock held (type invariant).
        unsafe { ffi::auparse_get_serial(self.raw()) as u64 }
    }

    /// Time of the event (`auparse_get_time`, `auparse_get_milli`).
    pub fn timestamp(&self) -> Timestamp {
        // SAFETY: live parser on a current event, lock held (type invariant).
        unsafe {
            Timestamp {
                sec: ffi::auparse_get_time(self.raw()) as i64,
                milli: ffi::auparse_get_milli(self.raw()),
            }
        }
    }

    /// The `node=` name of the event, if the records carry one (`auparse_get_node`,
    /// whose `malloc`ed copy is freed here). The same as [`Event::node`](crate::Event::node).
    pub fn node(&self) -> Option<Bytes> {
        // SAFETY: live parser on a current event, lock held (type invariant).
        let p = unsafe { ffi::auparse_get_node(self.raw()) };
        if p.is_null() {
            return None;
        }
        // SAFETY: `p` is a NUL-terminated string malloc'ed for us by
        // auparse_get_node; we copy it and free it exactly once.
        unsafe {
            let v = Bytes::from(CStr::from_ptr(p).to_bytes());
            libc::free(p as *mut libc::c_void);
            Some(v)
        }
    }

    /// Number of records in the event (`auparse_get_num_records`).
    pub fn num_records(&self) -> usize {
        // SAFETY: live parser on a current event, lock held (type invariant).
        unsafe { ffi::auparse_get_num_records(self.raw()) as usize }
    }

    /// Every rule key of the event, in order, without duplicates: what
    /// [`Event::keys`](crate::Event::keys) holds, without copying the event.
    /// A rule with several keys logs them hex-encoded with 0x01 separators;
    /// they are split. Moves the record/field cursor.
    ///
    /// ```
    /// let log = b"type=SYSCALL msg=audit(1.000:7): arch=c000003e syscall=2 success=yes exit=3 items=0 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"cat\" exe=\"/usr/bin/cat\" key=\"secrets\"
    /// type=PROCTITLE msg=audit(1.000:7): proctitle=636174
    /// ";
    /// let mut feeder = auparse::Feeder::new()?;
    /// let mut keys = Vec::new();
    /// feeder.feed(log, |ev| keys.extend(ev.keys()))?;
    /// assert_eq!(keys, ["secrets"]);
    /// # Ok::<(), auparse::Error>(())
    /// ```
    pub fn keys(&mut self) -> Vec<Bytes> {
        let mut keys = Vec::new();
        let mut recs = self.records();
        while let Some(mut rec) = recs.next() {
            if memchr::memmem::find(rec.text(), b"key=").is_none() {
                continue;
            }
            let mut fields = rec.fields();
            while let Some(f) = fields.next() {
                if f.name() == b"key" {
                    crate::bytes::push_keys(&mut keys, f.raw());
                }
            }
        }
        keys
    }

    /// Calls `f` with the raw libauparse handle, positioned on this event,
    /// for a libauparse function this crate does not wrap (like rusqlite's
    /// `handle()` or git2's `raw()`). The process-wide libauparse lock is
    /// held for as long as this view lives, so the call is serialized with
    /// every other parser's.
    ///
    /// Calling C functions with the pointer is `unsafe`, and their SAFETY
    /// argument is yours. What this crate relies on: inside `f`, use only
    /// calls that read the current event or move the record/field cursor
    /// within it (`auparse_get_*`, `auparse_interpret_*`, `auparse_goto_*`,
    /// `auparse_first_*`/`auparse_next_field`/`auparse_next_record`,
    /// `auparse_normalize*`); never `auparse_next_event`, `auparse_feed*`,
    /// `auparse_flush_feed`, `auparse_reset`, `auparse_add_callback` or
    /// `auparse_destroy`, which free or replace the event the views point
    /// into. Do not keep the pointer, or any string libauparse returned,
    /// after `f` returns. Moving the cursors is fine: the views and the
    /// normalizer put them back where they need them afterwards.
    ///
    /// ```
    /// let log = b"type=DAEMON_START msg=audit(1653911717.020:42): op=start ver=3.0.9 res=success\n";
    /// let mut feeder = auparse::Feeder::new()?;
    /// let mut millis = Vec::new();
    /// feeder.feed(log, |ev| {
    ///     // SAFETY: auparse_get_milli only reads the current event of a
    ///     // live parser; with_raw provides both, under the lock.
    ///     millis.push(ev.with_raw(|au| unsafe { auparse::ffi::auparse_get_milli(au) }));
    /// })?;
    /// assert_eq!(millis, [20]);
    /// # Ok::<(), auparse::Error>(())
    /// ```
    pub fn with_raw<R>(&mut self, f: impl FnOnce(*mut ffi::auparse_state_t) -> R) -> R {
        // The caller may leave field cursors anywhere.
        self.set_fields_moved();
        f(self.raw())
    }

    /// A lending cursor over the records, from the first one.
    ///
    /// ```
    /// # let mut f = auparse::Feeder::new().unwrap();
    /// # f.feed(b"type=DAEMON_START msg=audit(1.000:1): op=start\n", |ev| {
    /// let mut records = ev.records();
    /// while let Some(rec) = records.next() {
    ///     println!("{}", rec.record_type()); // DAEMON_START
    /// }
    /// # }).unwrap();
    /// ```
    pub fn records(&mut self) -> Records<'_> {
        Records {
            au: self.au,
            escape: self.escape,
            next: 0,
            len: self.num_records() as u32,
            moved: &self.fields_moved,
            arena: &self.arena,
            caches: self.caches,
            _life: PhantomData,
        }
    }

    /// The record at `index` (0-based), if there is one (`auparse_goto_record_num`).
    pub fn record(&mut self, index: usize) -> Option<RecordRef<'_>> {
        let index = u32::try_from(index).ok()?;
        // SAFETY: live parser on a current event, lock held (type invariant).
        let rc = unsafe { ffi::auparse_goto_record_num(self.raw(), index) };
        (rc == 1).then(|| {
            RecordRef::at(
                self.au,
                self.escape,
                &self.fields_moved,
                &self.arena,
                self.caches,
            )
        })
    }

    /// Moves the cursor to the first record (`auparse_first_record`); the
    /// normalizer's getters position it elsewhere.
    pub(crate) fn rewind(&mut self) -> Result<bool> {
        // SAFETY: live parser on a current event, lock held (type invariant).
        step("auparse_first_record", unsafe {
            ffi::auparse_first_record(self.raw())
        })
    }
}

/// Lending cursor over the records of an [`EventRef`].
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// let mut feeder = auparse::Feeder::new()?;
/// let mut types = Vec::new();
/// feeder.feed(log, |ev| {
///     let mut records = ev.records();
///     while let Some(rec) = records.next() {
///         types.push(rec.record_type().to_string());
///     }
/// })?;
/// assert_eq!(types, ["SYSCALL", "CWD", "PATH", "PATH", "PROCTITLE"]);
/// # Ok::<(), auparse::Error>(())
/// ```
pub struct Records<'e> {
    au: NonNull<ffi::auparse_state_t>,
    escape: EscapeMode,
    next: u32,
    len: u32,
    /// The event's [`EventRef::fields_moved`].
    moved: &'e Cell<u32>,
    /// The event's arena.
    arena: &'e Arena,
    /// The parser's caches.
    caches: &'e Caches,
    _life: PhantomData<&'e mut ffi::auparse_state_t>,
}

impl Records<'_> {
    /// The next record, or `None` after the last. Not an `Iterator`: each
    /// record view borrows the cursor, so the previous one must be dropped first.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<RecordRef<'_>> {
        if self.next >= self.len {
            return None;
        }
        // SAFETY: live parser on a current event, lock held (invariant
        // inherited from the EventRef this cursor borrows).
        let rc = unsafe { ffi::auparse_goto_record_num(self.au.as_ptr(), self.next) };
        if rc != 1 {
            self.next = self.len;
            return None;
        }
        self.next += 1;
        Some(RecordRef::at(
            self.au,
            self.escape,
            self.moved,
            self.arena,
            self.caches,
        ))
    }
}

/// The record libauparse's cursor is on.
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// use auparse::RecordType;
/// let mut feeder = auparse::Feeder::new()?;
/// feeder.feed(log, |ev| {
///     let mut rec = ev.record(3).unwrap();
///     assert_eq!(rec.record_type(), RecordType::PATH);
///     assert_eq!(rec.type_name(), Some(&b"PATH"[..]));
///     assert_eq!(rec.num_fields(), 14); // `type` first
///     assert_eq!(rec.field("nametype").unwrap().raw(), b"DELETE");
///     assert!(rec.text().starts_with(b"type=PATH msg=audit("));
/// })?;
/// # Ok::<(), auparse::Error>(())
/// ```
pub struct RecordRef<'r> {
    au: NonNull<ffi::auparse_state_t>,
    escape: EscapeMode,
    /// The event's [`EventRef::fields_moved`].
    moved: &'r Cell<u32>,
    /// The event's arena.
    arena: &'r Arena,
    /// The parser's caches.
    caches: &'r Caches,
    /// [`crate::enriched::own_names`] of this record, once a field asked.
    own: OnceCell<Box<crate::enriched::OwnNames>>,
    _life: PhantomData<&'r mut ffi::auparse_state_t>,
}

impl<'r> RecordRef<'r> {
    fn at(
        au: NonNull<ffi::auparse_state_t>,
        escape: EscapeMode,
        moved: &'r Cell<u32>,
        arena: &'r Arena,
        caches: &'r Caches,
    ) -> Self {
        RecordRef {
            au,
            escape,
            moved,
            arena,
            caches,
            own: OnceCell::new(),
            _life: PhantomData,
        }
    }

    /// What the field views of this record need to know to answer without
    /// libauparse (see [`crate::interp_rule`]).
    fn field_context(&self) -> FieldContext<'_> {
        FieldContext {
            rtype: self.record_type().0,
            escape: self.escape,
            interpretations: self.interpretations(),
            own: &self.own,
            arena: self.arena,
            caches: self.caches,
        }
    }

    #[inline]
    fn raw(&self) -> *mut ffi::auparse_state_t {
        self.au.as_ptr()
    }

    /// Record type number (`auparse_get_type`).
    pub fn record_type(&self) -> RecordType {
        // SAFETY: live parser on a current record, lock held (type invariant).
        RecordType(unsafe { ffi::auparse_get_type(self.raw()) } as u32)
    }

    /// Record type name as libauparse spells it (`auparse_get_type_name`),
    /// e.g. `SYSCALL`; `None` for a number it has no name for.
    pub fn type_name(&self) -> Option<&'r [u8]> {
        // SAFETY: the name comes from a static lookup table (or the record), valid for 'r.
        unsafe { cbytes(ffi::auparse_get_type_name(self.raw())) }
    }

    /// The type name, or `UNKNOWN[n]` like ausearch prints for unnamed types.
    #[deprecated(
        since = "0.1.1",
        note = "allocates, and is not lossy: print `record_type()` (its Display is this text) or use `type_name()`"
    )]
    pub fn type_name_lossy(&self) -> String {
        self.type_name_string()
    }

    /// The type name, or `UNKNOWN[n]`, as an owned string.
    pub(crate) fn type_name_string(&self) -> String {
        match self.type_name() {
            Some(n) => String::from_utf8_lossy(n).into_owned(),
            None => format!("UNKNOWN[{}]", self.record_type().0),
        }
    }

    /// The whole record line as read (`auparse_get_record_text`), without newline.
    pub fn text(&self) -> &'r [u8] {
        // SAFETY: owned by the current record, valid while the event lives ('r).
        unsafe { cbytes(ffi::auparse_get_record_text(self.raw())) }.unwrap_or_default()
    }

    /// The record's own interpretations (`auparse_get_record_interpretations`):
    /// the `NAME="value"` list an ENRICHED log appends after 0x1d, without
    /// it. `None` for records that carry none.
    pub fn interpretations(&self) -> Option<&'r [u8]> {
        // SAFETY: owned by the current record, valid while the event lives ('r).
        unsafe { cbytes(ffi::auparse_get_record_interpretations(self.raw())) }
            .filter(|s| !s.is_empty())
    }

    /// True for an ENRICHED record: it names its own users and groups, so
    /// their interpretation does not come from the local database.
    pub fn is_enriched(&self) -> bool {
        self.interpretations().is_some()
    }

    /// Line number of the record in its source (`auparse_get_line_number`).
    pub fn line_number(&self) -> u32 {
        // SAFETY: live parser on a current record, lock held (type invariant).
        unsafe { ffi::auparse_get_line_number(self.raw()) }
    }

    /// The file this record was read from, as the path was given to the
    /// [`Parser`](crate::Parser) (`auparse_get_filename`). `None` for feed,
    /// buffer and descriptor sources.
    pub fn filename(&self) -> Option<&'r [u8]> {
        // SAFETY: live parser on a current record, lock held (type invariant).
        // The string is the parser's own copy of the path (its source list),
        // freed only by auparse_destroy, which needs the parser that this
        // view borrows for 'r.
        unsafe { cbytes(ffi::auparse_get_filename(self.raw())) }
    }

    /// Number of fields (`auparse_get_num_fields`).
    pub fn num_fields(&self) -> usize {
        // SAFETY: live parser on a current record, lock held (type invariant).
        unsafe { ffi::auparse_get_num_fields(self.raw()) as usize }
    }

    /// A lending cursor over the fields, from the first one.
    pub fn fields(&mut self) -> Fields<'_> {
        Fields {
            au: self.au,
            ctx: self.field_context(),
            next: 0,
            len: self.num_fields() as u32,
            moved: self.moved,
            _life: PhantomData,
        }
    }

    /// Puts libauparse's field cursor of this record back on its first field.
    pub(crate) fn rewind_fields(&mut self) {
        if self.num_fields() > 0 {
            // SAFETY: live parser on a current record with fields, lock held
            // (type invariant).
            unsafe { ffi::auparse_first_field(self.raw()) };
        }
    }

    /// The first field of this record named `name`.
    pub fn field(&mut self, name: &str) -> Option<FieldRef<'_>> {
        let n = self.num_fields() as u32;
        let ctx = self.field_context();
        // The cursor stays on the field found (or the last one).
        self.moved.set(self.moved.get() | MOVED);
        for i in 0..n {
            // SAFETY: live parser on a current record, lock held; `i` is in range.
            let ok = unsafe { ffi::auparse_goto_field_num(self.raw(), i) } == 1;
            if !ok {
                break;
            }
            let f = FieldRef::at(self.au, ctx);
            if f.name() == name.as_bytes() {
                return Some(f);
            }
        }
        None
    }
}

/// What a field view knows of its record (see [`crate::enriched`]).
#[derive(Clone, Copy)]
struct FieldContext<'r> {
    /// The record type.
    rtype: u32,
    /// The parser's escape mode.
    escape: EscapeMode,
    /// The record's own interpretations (ENRICHED logs), if any.
    interpretations: Option<&'r [u8]>,
    /// The names those may answer for ([`crate::enriched::own_names`]),
    /// worked out when a field first asks (most walks never do).
    own: &'r OnceCell<Box<crate::enriched::OwnNames>>,
    /// The event's arena.
    arena: &'r Arena,
    /// The parser's caches.
    caches: &'r Caches,
}

impl FieldContext<'_> {
    #[inline]
    fn own_names(&self) -> &crate::enriched::OwnNames {
        if self.interpretations.is_none() {
            return &crate::enriched::OwnNames::NONE;
        }
        self.own
            .get_or_init(|| Box::new(crate::enriched::own_names(self.interpretations)))
    }
}

/// Lending cursor over the fields of a [`RecordRef`].
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// let mut feeder = auparse::Feeder::new()?;
/// let mut walked = Vec::new();
/// feeder.feed(log, |ev| {
///     let mut rec = ev.record(0).unwrap();
///     let mut fields = rec.fields();
///     while let Some(f) = fields.next() {
///         // Names, raw values and interpretations borrow the event.
///         walked.push(format!(
///             "{}={}",
///             String::from_utf8_lossy(f.name()),
///             String::from_utf8_lossy(f.interpreted())
///         ));
///     }
/// })?;
/// assert_eq!(walked[1..4], ["arch=x86_64", "syscall=unlinkat", "success=yes"]);
/// # Ok::<(), auparse::Error>(())
/// ```
pub struct Fields<'r> {
    au: NonNull<ffi::auparse_state_t>,
    ctx: FieldContext<'r>,
    next: u32,
    len: u32,
    /// The event's [`EventRef::fields_moved`], counting this cursor from
    /// its first move past the first field until it is dropped.
    moved: &'r Cell<u32>,
    _life: PhantomData<&'r mut ffi::auparse_state_t>,
}

impl Drop for Fields<'_> {
    /// Puts the record's field cursor back on its first field, where a new
    /// event has it (see [`EventRef::normalize`]).
    fn drop(&mut self) {
        if self.next > 1 {
            // SAFETY: live parser, lock held (inherited invariant); the
            // record cursor is still on this record: the views that could
            // move it are borrowed by this one.
            unsafe { ffi::auparse_first_field(self.au.as_ptr()) };
            self.moved.set(self.moved.get() - 1);
        }
    }
}

impl Fields<'_> {
    /// The next field, or `None` after the last.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<FieldRef<'_>> {
        if self.next >= self.len {
            return None;
        }
        let rc = if self.next == 0 {
            // SAFETY: live parser on a current record, lock held (inherited invariant).
            unsafe { ffi::auparse_first_field(self.au.as_ptr()) }
        } else {
            if self.next == 1 {
                // Counted until dropped (see EventRef::fields_moved).
                self.moved.set(self.moved.get() + 1);
            }
            // SAFETY: as above; the cursor is on field `next - 1` because no
            // other view could move it while this cursor was borrowed.
            unsafe { ffi::auparse_next_field(self.au.as_ptr()) }
        };
        if rc != 1 {
            self.next = self.len;
            return None;
        }
        self.next += 1;
        Some(FieldRef::at(self.au, self.ctx))
    }
}

/// The field libauparse's cursor is on.
///
/// Names, raw values and interpretations live in the event's memory, so the
/// slices returned here stay valid for the whole borrow `'f`.
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// use auparse::FieldType;
/// let mut feeder = auparse::Feeder::new()?;
/// feeder.feed(log, |ev| {
///     let mut rec = ev.record(0).unwrap();
///     let uid = rec.field("uid").unwrap();
///     assert_eq!(uid.raw(), b"0");
///     assert_eq!(uid.interpreted(), b"root");
///     assert_eq!(uid.field_type(), FieldType::Uid);
///     drop(rec);
///     let mut path = ev.record(3).unwrap();
///     let name = path.field("name").unwrap();
///     assert_eq!(name.raw(), b"\"bar\""); // quotes included
///     assert_eq!(name.interpreted(), b"bar"); // what ausearch -i shows
///     assert_eq!(name.realpath(), Some(&b"/tmp/bar"[..])); // joined to the cwd
/// })?;
/// # Ok::<(), auparse::Error>(())
/// ```
pub struct FieldRef<'f> {
    au: NonNull<ffi::auparse_state_t>,
    ctx: FieldContext<'f>,
    /// The type number, once asked (`u32::MAX` before).
    field_type: Cell<u32>,
    _life: PhantomData<&'f mut ffi::auparse_state_t>,
}

impl<'f> FieldRef<'f> {
    fn at(au: NonNull<ffi::auparse_state_t>, ctx: FieldContext<'f>) -> Self {
        FieldRef {
            au,
            ctx,
            field_type: Cell::new(u32::MAX),
            _life: PhantomData,
        }
    }

    /// libauparse's type number for the field (cached per record type and
    /// name where it cannot depend on the value).
    #[inline]
    pub(crate) fn type_number(&self) -> u32 {
        let known = self.field_type.get();
        if known != u32::MAX {
            return known;
        }
        let t = self
            .ctx
            .caches
            .types
            .field_type(self.ctx.rtype, self.name(), || {
                // SAFETY: live parser on a current field, lock held (type invariant).
                unsafe { ffi::auparse_get_field_type(self.raw_state()) as u32 }
            });
        self.field_type.set(t);
        t
    }

    /// False when libauparse certainly interprets this field as in a record
    /// without interpretations of its own; true when the record's ENRICHED
    /// interpretations may name it.
    #[inline]
    pub(crate) fn own_may_name(&self) -> bool {
        crate::enriched::own_may_name(self.ctx.own_names(), self.name())
    }

    #[inline]
    pub(crate) fn raw_state(&self) -> *mut ffi::auparse_state_t {
        self.au.as_ptr()
    }

    /// Field name (`auparse_get_field_name`).
    #[inline]
    pub fn name(&self) -> &'f [u8] {
        // SAFETY: owned by the current record, valid while the event lives.
        unsafe { cbytes(ffi::auparse_get_field_name(self.raw_state())) }.unwrap_or_default()
    }

    /// Raw value as it appears in the record (`auparse_get_field_str`):
    /// quotes and hex encoding included.
    #[inline]
    pub fn raw(&self) -> &'f [u8] {
        // SAFETY: owned by the current record, valid while the event lives.
        unsafe { cbytes(ffi::auparse_get_field_str(self.raw_state())) }.unwrap_or_default()
    }

    /// How libauparse classifies the field (`auparse_get_field_type`). On
    /// libauparse 3.0.x the answer is cached per record type and field name
    /// where it cannot depend on the value, by the parser the event comes
    /// from ([`CacheSizes::field_types`](crate::CacheSizes::field_types)).
    #[inline]
    pub fn field_type(&self) -> FieldType {
        FieldType::from_raw(self.type_number())
    }

    /// Interpreted value, as `auparse_interpret_field` gives it and
    /// `ausearch -i` prints it: uid to name, syscall number to name, hex
    /// decoded, and so on; the raw value where libauparse has none. A file
    /// name is the name as logged (decoded), not joined to the cwd: see
    /// [`realpath`](Self::realpath) for that. Both answers are the same
    /// whatever order they are asked in.
    ///
    /// On libauparse 3.0.x some answers are known without asking it: an
    /// UNCLASSIFIED field in escape mode RAW that the record's ENRICHED
    /// interpretations do not name is answered with its raw value, a field
    /// they name with the value they give it (quotes taken off for users and
    /// groups), and a file name they do not name by libauparse's decoding
    /// rules (its one interpretation slot per field is kept for the
    /// realpath). Where their entries cannot be read here (see
    /// `crate::enriched::OwnNames`) libauparse is asked.
    ///
    /// ```
    /// let log = b"type=SYSCALL msg=audit(1.000:7): arch=c000003e syscall=87 success=yes exit=0 items=2 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=(null)
    /// type=CWD msg=audit(1.000:7): cwd=\"/tmp\"
    /// type=PATH msg=audit(1.000:7): item=0 name=\"old\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE
    /// type=PROCTITLE msg=audit(1.000:7): proctitle=726D006F6C64
    /// ";
    /// let mut feeder = auparse::Feeder::new()?;
    /// let mut seen = Vec::new();
    /// feeder.feed(log, |ev| {
    ///     let mut rec = ev.record(2).unwrap();
    ///     let name = rec.field("name").unwrap();
    ///     // Any order: the realpath first, then the interpretation.
    ///     seen.push(name.realpath().unwrap().to_vec());
    ///     seen.push(name.interpreted().to_vec());
    /// })?;
    /// assert_eq!(seen, [b"/tmp/old".to_vec(), b"old".to_vec()]);
    /// # Ok::<(), auparse::Error>(())
    /// ```
    #[inline]
    pub fn interpreted(&self) -> &'f [u8] {
        // False when libauparse may answer from the record's own
        // interpretations: then no rule of a plain record applies.
        let mut plain = true;
        if let (true, Some(text)) = (self.own_may_name(), self.ctx.interpretations) {
            // What libauparse would copy from the record's own
            // interpretations, where that is a piece of them.
            match crate::enriched::own_interpretation(
                self.ctx.own_names(),
                text,
                self.name(),
                self.type_number(),
            ) {
                crate::enriched::Own::Piece(v) => return v,
                crate::enriched::Own::Plain => {}
                crate::enriched::Own::Ask => plain = false,
            }
        } else if self.ctx.escape == EscapeMode::Raw
            && crate::interp_rule::interpretation_is_raw(self.type_number())
        {
            // What libauparse would return: a copy of the raw value.
            return self.raw();
        }
        if crate::interp_rule::libauparse_overreads(self.type_number(), self.raw()) {
            // libauparse would return an unterminated buffer.
            return self.raw();
        }
        if plain && self.type_number() == ffi::AUPARSE_TYPE_ESCAPED_FILE {
            return match crate::escaped::file_interpretation(self.raw(), self.ctx.escape) {
                std::borrow::Cow::Borrowed(b) => b,
                std::borrow::Cow::Owned(v) => self.ctx.arena.keep(v),
            };
        }
        // SAFETY: the interpretation is cached in the field node, which lives
        // as long as the event ('f); lock held (type invariant).
        unsafe { cbytes(ffi::auparse_interpret_field(self.raw_state())) }
            .unwrap_or_else(|| self.raw())
    }

    /// For file name fields ([`FieldType::EscapedFile`]): the name joined to
    /// the event's `cwd` and normalized, as `auparse_interpret_realpath`
    /// gives it. `None` for other fields.
    ///
    /// libauparse keeps one interpretation per field for both calls; this
    /// crate never asks it for the other one of a file name, so the answer
    /// does not depend on what was asked before. (A libauparse call made
    /// through [`EventRef::with_raw`] that interprets this field first would
    /// decide it; so does [`interpreted`](Self::interpreted) in an ENRICHED
    /// record whose own interpretations may name the field but cannot be
    /// read here, where libauparse usually answers both from those.)
    #[inline]
    pub fn realpath(&self) -> Option<&'f [u8]> {
        if self.field_type() != FieldType::EscapedFile {
            return None;
        }
        self.realpath_of_file()
    }

    /// [`realpath`](Self::realpath) for a field already known to be a file
    /// name (saves asking libauparse for the type again).
    #[inline]
    pub(crate) fn realpath_of_file(&self) -> Option<&'f [u8]> {
        // SAFETY: cached in the field node like interpret_field; lock held.
        unsafe { cbytes(ffi::auparse_interpret_realpath(self.raw_state())) }
    }
}
