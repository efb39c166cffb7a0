//! Feed mode: push bytes in, get complete events back through a callback.

use crate::assemble::{Assembler, Grouping, LineType};
use crate::caches::{CacheSizes, Caches};
use crate::cursor::EventRef;
use crate::error::{check, last_os_error, Result};
use crate::global::{self, Guard};
use crate::types::EscapeMode;
use auparse_sys as ffi;
use rustc_hash::FxHashMap as FxMap;
use std::any::Any;
use std::cell::Cell;
use std::ffi::c_void;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::{self, NonNull};
use std::time::{Duration, Instant};

/// The closure of the feed call in progress, type-erased for the trampoline.
/// Built once: `memmem::find` would build a searcher on every line.
static AUDIT_MSG: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"msg=audit("));

type DynCallback<'c> = &'c mut dyn FnMut(&mut EventRef<'_>);

/// An event as libauparse groups records: seconds, milliseconds, serial
/// (the `node=` name is left out: a collision only makes the count of open
/// events low, and nothing relies on that count being exact).
type EventKey = (u64, u32, u64);

/// libauparse 3.0.9 keeps the events it is building in an array that only
/// grows: every record and every delivery scans it up to the most events
/// that were ever open at once, for the life of the parser. One event whose
/// last record comes late (two processes' records interleaved under load)
/// or never (auditd's plugin queue overflowed and dropped it) holds back
/// every newer event, and the array stays that big: 3,488 slots made a
/// replay of 80,000 changes 5x slower, 10,181 (after drops) 8x slower
/// (perf: 78 % of the time in `auparse_next_event` and
/// `auparse_timestamp_compare`). So once this many events have been open at
/// once, the Feeder replaces the parser by a new one at the next moment it
/// holds nothing (`auparse_feed_has_data` is 0), which changes no output.
const RENEW_AT: usize = 256;

/// Lines between checks of `auparse_feed_has_data` while the count of open
/// events says some are open (a line libauparse drops would keep it above 0).
const RECHECK_LINES: u32 = 4096;

/// State shared with the trampoline. Allocated once per Feeder, registered
/// with every libauparse parser the Feeder creates (without a destroy
/// function), and freed by the Feeder's `Drop`.
struct CallbackState {
    /// Points to a [`DynCallback`] on the stack of the feed call in progress;
    /// null between calls.
    callback: *mut c_void,
    /// A panic caught in the user's closure, re-raised when the C call returns.
    panic: Option<Box<dyn Any + Send + 'static>>,
    /// Events delivered (or skipped after a panic) so far.
    delivered: u64,
    /// The parser's escape mode.
    escape: EscapeMode,
    /// The caches of the event views (they outlive parser renewals).
    caches: Caches,
    /// Events fed to libauparse's own grouping and not delivered yet (an
    /// estimate: see [`RENEW_AT`]).
    open: FxMap<EventKey, ()>,
    /// The most events open at once in the current C parser.
    peak: usize,
    /// Lines fed since `auparse_feed_has_data` was last asked.
    unchecked: u32,
    /// Parsers replaced so far.
    renewals: u64,
}

/// The one callback registered with libauparse. Never unwinds into C.
unsafe extern "C" fn trampoline(
    au: *mut ffi::auparse_state_t,
    cb_type: ffi::auparse_cb_event_t,
    user_data: *mut c_void,
) {
    if cb_type != ffi::AUPARSE_CB_EVENT_READY || user_data.is_null() {
        return;
    }
    // SAFETY: user_data is the CallbackState registered in Feeder::new; it
    // lives until libauparse calls destroy_state, and nothing else accesses
    // it while libauparse runs this callback (the Feeder is mutably borrowed
    // by the feed call that led here).
    let state = unsafe { &mut *(user_data as *mut CallbackState) };
    state.delivered += 1;
    let Some(au) = NonNull::new(au) else { return };
    if !state.open.is_empty() {
        // SAFETY: libauparse calls us positioned on the ready event; plain
        // getters of its timestamp.
        let key = unsafe {
            (
                ffi::auparse_get_time(au.as_ptr()) as u64,
                ffi::auparse_get_milli(au.as_ptr()),
                ffi::auparse_get_serial(au.as_ptr()) as u64,
            )
        };
        state.open.remove(&key);
    }
    if state.callback.is_null() || state.panic.is_some() {
        return;
    }
    // SAFETY: `callback` points to a live `DynCallback` on the stack of the
    // feed call in progress (set just before the C call, cleared after).
    let cb = unsafe { &mut *(state.callback as *mut DynCallback<'_>) };
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: libauparse calls us with `au` positioned on the ready event,
        // whose memory lives until we return; the feed call holds the global
        // lock for the whole C call, and the view cannot outlive this closure.
        let mut ev = unsafe { EventRef::new(au, None, state.escape, &state.caches) };
        cb(&mut ev);
    }));
    if let Err(payload) = result {
        state.panic = Some(payload);
    }
}

/// `SEC.MILLI:SERIAL` after `msg=audit(` at `at` in `line`.
fn event_key(line: &[u8], at: usize) -> Option<EventKey> {
    let rest = line.get(at + b"msg=audit(".len()..)?;
    let mut fields = [0u64; 3];
    let mut i = 0;
    for (n, end) in fields.iter_mut().zip([b'.', b':', b')']) {
        let start = i;
        while let Some(d) = rest.get(i).filter(|d| d.is_ascii_digit()) {
            *n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            i += 1;
        }
        if i == start || rest.get(i) != Some(&end) {
            return None;
        }
        i += 1;
    }
    Some((fields[0], u32::try_from(fields[1]).ok()?, fields[2]))
}

/// True for an `EOE` record line.
fn is_eoe(line: &[u8]) -> bool {
    line.starts_with(b"type=EOE ") || memchr::memmem::find(line, b" type=EOE ").is_some()
}

/// A new feed-mode parser with the Feeder's callback and escape mode.
///
/// # Safety
/// The global lock is held, and `state` outlives the parser (the Feeder
/// frees it only after destroying every parser it registered it with).
unsafe fn new_parser(state: *mut CallbackState) -> Result<NonNull<ffi::auparse_state_t>> {
    // SAFETY: the lock is held (caller); FEED takes no source argument.
    let au = unsafe { ffi::auparse_init(ffi::AUSOURCE_FEED, ptr::null()) };
    let au = NonNull::new(au).ok_or_else(|| last_os_error("auparse_init"))?;
    // SAFETY: live parser, lock held; `state` is live (caller). No destroy
    // function: the Feeder frees the state itself, so replacing a parser
    // leaves it alive.
    unsafe {
        ffi::auparse_set_escape_mode(au.as_ptr(), (*state).escape.to_raw());
        ffi::auparse_add_callback(au.as_ptr(), Some(trampoline), state as *mut c_void, None);
    }
    Ok(au)
}

/// A feed-mode parser (`AUSOURCE_FEED`): give it bytes as they arrive, and it
/// calls your closure with each event as soon as libauparse completes it.
///
/// ```
/// let mut feeder = auparse::Feeder::new()?;
/// let mut serials = Vec::new();
/// let log = b"type=DAEMON_START msg=audit(1653911717.020:42): op=start ver=3.0.9 res=success\n";
/// feeder.feed(log, |ev| serials.push(ev.serial()))?;
/// feeder.flush(|ev| serials.push(ev.serial()))?;
/// assert_eq!(serials, [42]);
/// # Ok::<(), auparse::Error>(())
/// ```
///
/// # When events come out
/// An event is complete when libauparse sees its end (an `EOE` or `PROCTITLE`
/// record, a single-record type, a record at least the end-of-event timeout
/// newer in log time), when [`age_events`](Self::age_events) finds it old by
/// the wall clock, or at [`flush`](Self::flush). Events come out in timestamp
/// order. A reader of a live stream should call `age_events` on a timer; every
/// reader must call `flush` at the end of input, or the last events are lost.
///
/// With [`Grouping::Ausearch`] (see [`set_grouping`](Self::set_grouping)),
/// a Rust stage groups the lines as `ausearch` does before libauparse sees
/// them, and events come out by its rules and in its order instead.
///
/// # Panics in the closure
/// A panic in the closure is caught before it reaches C, and re-raised from
/// `feed`/`flush`/`age_events` once libauparse has returned. Events that
/// libauparse completes later in the same call are not given to the closure.
/// The Feeder stays usable: the start of a line the call left unfinished is
/// kept for the next `feed`.
pub struct Feeder {
    au: NonNull<ffi::auparse_state_t>,
    state: NonNull<CallbackState>,
    eoe_timeout: u32,
    /// The start of a line whose newline has not arrived yet. Lines are
    /// passed to libauparse whole, one `auparse_feed` per line: libauparse's
    /// delivery order depends on how its input is split, and whole lines make
    /// it the same for any chunking. `flush` terminates a final partial line,
    /// which libauparse would otherwise never parse.
    partial: Vec<u8>,
    /// Lines (and a final partial line) of a [`Feeder::try_feed`] stopped
    /// by its closure, not parsed yet: the next feed or flush starts with them.
    held: Vec<u8>,
    /// Who groups records into events.
    grouping: Grouping,
    /// The Rust-side grouper ([`Grouping::Ausearch`], [`Grouping::Indexed`]);
    /// empty otherwise.
    assembler: Assembler,
    /// The parser that reads unusual lines alone for [`Grouping::Indexed`],
    /// made when the first such line comes.
    probe: Option<Probe>,
}

/// What a feed-call operation works on, besides the C parser.
struct Ctx<'a> {
    au: *mut ffi::auparse_state_t,
    state: *mut CallbackState,
    grouping: Grouping,
    eoe_timeout: u32,
    assembler: &'a mut Assembler,
    probe: &'a mut Option<Probe>,
}

impl Ctx<'_> {
    /// Takes one whole line (ending in `\n`) through the selected grouping.
    ///
    /// A line without `msg=audit(` cannot be a record and is dropped here:
    /// libauparse 3.0.9 makes a bogus event (serial 0, no fields) of some
    /// such lines and leaks a 1,152-byte buffer doing it (seen with valgrind
    /// on a `#` comment holding C code in laurel's fork-sleep-exec.txt).
    fn line(&mut self, line: &[u8]) -> Result<()> {
        let Some(at) = AUDIT_MSG.find(line) else {
            return Ok(());
        };
        match self.grouping {
            Grouping::Libauparse => {
                if let Some(key) = event_key(line, at) {
                    // SAFETY: the state lives as long as the Feeder; the
                    // trampoline (the only other user) is not running.
                    let st = unsafe { &mut *self.state };
                    // libauparse drops an EOE whose event is complete.
                    if st.open.contains_key(&key) || !is_eoe(line) {
                        st.open.insert(key, ());
                        st.peak = st.peak.max(st.open.len());
                    }
                    st.unchecked = st.unchecked.saturating_add(1);
                }
                feed_line(self.au, self.state, line)
            }
            Grouping::Ausearch => {
                if self.assembler.add_line(line, self.eoe_timeout) {
                    self.release()?;
                }
                Ok(())
            }
            Grouping::Indexed => {
                let (probe, timeout) = (&mut *self.probe, self.eoe_timeout);
                let mut failed = None;
                let mut ask = |line: &[u8]| match probe_line(probe, timeout, line) {
                    Ok(t) => t,
                    Err(e) => {
                        failed = Some(e);
                        // Dropped: libauparse could not be asked.
                        LineType {
                            rtype: 0,
                            parsed: false,
                        }
                    }
                };
                if self.assembler.add_line_feed(line, timeout, &mut ask) {
                    self.release()?;
                }
                failed.map_or(Ok(()), Err)
            }
        }
    }

    /// Gives every event the Rust grouper releases to libauparse, one at a
    /// time: its lines, then `auparse_flush_feed`, so that libauparse
    /// delivers exactly that event (or what it makes of those lines) now.
    fn release(&mut self) -> Result<()> {
        while let Some(lines) = self.assembler.pop_ready() {
            let r = feed_event(self.au, self.state, &lines);
            self.assembler.recycle(lines);
            r?;
        }
        Ok(())
    }
}

// SAFETY: libauparse's parser state has no thread affinity; every access is
// made under the process-wide lock (crate::global), and the callback state is
// only touched during calls that borrow the Feeder mutably. The Feeder is not
// Sync: shared references allow no C calls anyway.
unsafe impl Send for Feeder {}

impl Feeder {
    /// Creates a feed-mode parser (`auparse_init(AUSOURCE_FEED)` and
    /// `auparse_add_callback`).
    ///
    /// # Errors
    /// [`Error::Nested`](crate::Error::Nested) inside another libauparse call;
    /// [`Error::Call`](crate::Error::Call) if libauparse cannot allocate.
    pub fn new() -> Result<Self> {
        let _guard = global::lock()?;
        // libauparse 3.0.9 starts in TTY mode (control characters as \ooo);
        // this crate's default is the bytes.
        let state = Box::into_raw(Box::new(CallbackState {
            callback: ptr::null_mut(),
            panic: None,
            delivered: 0,
            escape: EscapeMode::Raw,
            caches: Caches::default(),
            open: FxMap::default(),
            peak: 0,
            unchecked: 0,
            renewals: 0,
        }));
        // SAFETY: the lock is held; `state` is freed only by Drop, after the
        // parser is destroyed.
        let au = match unsafe { new_parser(state) } {
            Ok(au) => au,
            Err(e) => {
                // SAFETY: from Box::into_raw above, registered nowhere.
                drop(unsafe { Box::from_raw(state) });
                return Err(e);
            }
        };
        Ok(Feeder {
            au,
            // SAFETY: Box::into_raw never returns null.
            state: unsafe { NonNull::new_unchecked(state) },
            eoe_timeout: global::configured_eoe_timeout(),
            partial: Vec::new(),
            held: Vec::new(),
            grouping: Grouping::Libauparse,
            assembler: Assembler::default(),
            probe: None,
        })
    }

    /// Sets the end-of-event timeout in seconds of log time: an event with no
    /// explicit end is complete once a record this much newer arrives.
    ///
    /// The default is what `auparse_init` uses: `end_of_event_timeout` from
    /// `/etc/audit/auditd.conf`, or 2. libauparse keeps the value in a process
    /// global that every parser shares, so the Feeder re-applies its own
    /// value before each of its calls. libauparse refuses 0 (it would keep
    /// whatever value another parser last set), so 0 is taken as 1.
    pub fn set_eoe_timeout(&mut self, secs: u32) {
        self.eoe_timeout = secs.max(1);
    }

    /// The end-of-event timeout this Feeder applies.
    pub fn eoe_timeout(&self) -> u32 {
        self.eoe_timeout
    }

    /// Chooses who groups records into events: libauparse's feed mode
    /// ([`Grouping::Libauparse`], the default), a Rust stage that applies
    /// libauparse's own rules without its rescans ([`Grouping::Indexed`]),
    /// or one that groups and orders them exactly as `ausearch` 3.0.9 does
    /// ([`Grouping::Ausearch`]); the Rust stages give each complete event to
    /// libauparse alone. The end-of-event timeout ([`set_eoe_timeout`](Self::set_eoe_timeout))
    /// applies to both.
    ///
    /// Choose before feeding. Lines fed before a change stay with the stage
    /// that took them; [`age_events`](Self::age_events) and
    /// [`flush`](Self::flush) serve both, so nothing is lost, but the order
    /// of events around the change is then neither stage's.
    pub fn set_grouping(&mut self, grouping: Grouping) {
        self.grouping = grouping;
    }

    /// The grouping this Feeder uses for new lines.
    pub fn grouping(&self) -> Grouping {
        self.grouping
    }

    /// Sets how interpreted values are escaped (`auparse_set_escape_mode`).
    /// Interpretations are cached per field, so set this before feeding.
    /// A new Feeder uses [`EscapeMode::Raw`] (libauparse itself starts in
    /// `Tty`, which `ausearch` uses).
    ///
    /// # Errors
    /// [`Error::Nested`](crate::Error::Nested) inside another libauparse call.
    pub fn set_escape_mode(&mut self, mode: EscapeMode) -> Result<()> {
        let _guard = global::lock()?;
        // SAFETY: live parser, lock held.
        unsafe { ffi::auparse_set_escape_mode(self.au.as_ptr(), mode.to_raw()) };
        // SAFETY: the state lives as long as the parser, and no C call (so no
        // callback) is running: this method borrows the Feeder mutably.
        unsafe { (*self.state.as_ptr()).escape = mode };
        Ok(())
    }

    /// Sets the sizes of the caches the views of this Feeder's events use
    /// (see [`CacheSizes`]; a new Feeder has [`CacheSizes::default`]).
    /// Empties them: choose before feeding.
    pub fn set_cache_sizes(&mut self, sizes: CacheSizes) {
        // SAFETY: the state lives as long as the Feeder, and no C call (so
        // no callback, and no view of the caches) is running: this method
        // borrows the Feeder mutably.
        unsafe { (*self.state.as_ptr()).caches = Caches::new(sizes) };
    }

    /// The sizes of this Feeder's caches.
    pub fn cache_sizes(&self) -> CacheSizes {
        // SAFETY: as in events_delivered.
        unsafe { self.state.as_ref().caches.sizes() }
    }

    /// Number of events libauparse has completed so far (including those
    /// skipped after a panic in the closure).
    pub fn events_delivered(&self) -> u64 {
        // SAFETY: the state lives as long as the parser; no C call is running
        // (we hold &self, and C calls need &mut self).
        unsafe { self.state.as_ref().delivered }
    }

    /// How many times the C parser was replaced by a new one because its
    /// list of events had grown (see the type's documentation).
    pub fn parser_renewals(&self) -> u64 {
        // SAFETY: as in events_delivered.
        unsafe { self.state.as_ref().renewals }
    }

    /// Feeds bytes (`auparse_feed`) and calls `f` for every event they complete,
    /// before returning. Lines may be split anywhere between calls.
    ///
    /// # Errors
    /// [`Error::Nested`](crate::Error::Nested) when called from inside another
    /// libauparse call; [`Error::Call`](crate::Error::Call) if libauparse fails.
    ///
    /// # Panics
    /// Re-raises a panic of `f` after libauparse has returned.
    pub fn feed<F>(&mut self, data: &[u8], mut f: F) -> Result<()>
    where
        F: FnMut(&mut EventRef<'_>),
    {
        self.feed_until(data, &mut f, &Cell::new(false))
    }

    /// [`feed`](Self::feed) with a closure that can fail: the first error
    /// it returns stops the feed and is returned (the event it failed on is
    /// not given again). The lines of `data` that
    /// libauparse has not parsed yet are kept and parsed first by the next
    /// `feed`, `try_feed` or [`flush`](Self::flush), so no event is lost,
    /// except those that the very line which completed the failing event
    /// also completed (rare: one line can end several events), which are
    /// not given to the closure.
    ///
    /// ```
    /// use std::io::Write;
    /// let log = b"type=DAEMON_START msg=audit(1.000:1): op=start ver=3.0.9 res=success
    /// type=DAEMON_START msg=audit(2.000:2): op=start ver=3.0.9 res=success
    /// type=DAEMON_START msg=audit(3.000:3): op=start ver=3.0.9 res=success
    /// ";
    /// let mut feeder = auparse::Feeder::new()?;
    /// let mut out: Vec<u8> = Vec::new();
    /// let mut room = 1; // an output that fills up after one event
    /// let r = feeder.try_feed(log, |ev| -> Result<(), Box<dyn std::error::Error>> {
    ///     if room == 0 {
    ///         return Err("output full".into());
    ///     }
    ///     room -= 1;
    ///     writeln!(out, "{}", ev.serial())?;
    ///     Ok(())
    /// });
    /// assert_eq!(r.unwrap_err().to_string(), "output full"); // on event 2
    /// // The line of event 3 was kept: the next call parses it.
    /// feeder.flush(|ev| writeln!(out, "{}", ev.serial()).unwrap())?;
    /// assert_eq!(out, b"1\n3\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The closure's error; else as [`feed`](Self::feed), converted.
    pub fn try_feed<E, F>(&mut self, data: &[u8], mut f: F) -> std::result::Result<(), E>
    where
        F: FnMut(&mut EventRef<'_>) -> std::result::Result<(), E>,
        E: From<crate::Error>,
    {
        let stop = Cell::new(false);
        let mut failed = None;
        let result = self.feed_until(
            data,
            &mut |ev| {
                if failed.is_none() {
                    if let Err(e) = f(ev) {
                        failed = Some(e);
                        stop.set(true);
                    }
                }
            },
            &stop,
        );
        match failed {
            Some(e) => Err(e),
            None => result.map_err(E::from),
        }
    }

    /// Feeds `data` after the lines held back by a stopped [`try_feed`](Self::try_feed),
    /// line by line, until `stop` is set; what is left is held back.
    fn feed_until(
        &mut self,
        data: &[u8],
        f: &mut dyn FnMut(&mut EventRef<'_>),
        stop: &Cell<bool>,
    ) -> Result<()> {
        let held_before = self.held.len();
        let mut joined = std::mem::take(&mut self.held);
        let data = if joined.is_empty() {
            data
        } else {
            joined.extend_from_slice(data);
            &joined[..]
        };
        let mut partial = std::mem::take(&mut self.partial);
        let mut held = Vec::new();
        let mut ran = false;
        let (result, panic) = self.call_caught(f, |ctx| {
            ran = true;
            let mut rest = data;
            if !partial.is_empty() {
                match memchr::memchr(b'\n', rest) {
                    None => {
                        partial.extend_from_slice(rest);
                        return Ok(());
                    }
                    Some(i) => {
                        partial.extend_from_slice(&rest[..=i]);
                        rest = &rest[i + 1..];
                        let line = std::mem::take(&mut partial);
                        ctx.line(&line)?;
                        partial = line;
                        partial.clear();
                    }
                }
            }
            while let Some(i) = memchr::memchr(b'\n', rest) {
                if stop.get() {
                    held = rest.to_vec();
                    return Ok(());
                }
                ctx.line(&rest[..=i])?;
                rest = &rest[i + 1..];
            }
            if stop.get() {
                held = rest.to_vec();
            } else {
                partial.extend_from_slice(rest);
            }
            Ok(())
        });
        // Kept also when `f` panicked: the caller may catch it and go on.
        self.partial = partial;
        self.held = if ran {
            held
        } else {
            // Refused before reaching libauparse (Error::Nested): the held
            // lines stay held; `data` was not taken.
            joined.truncate(held_before);
            joined
        };
        if let Some(payload) = panic {
            panic::resume_unwind(payload);
        }
        result
    }

    /// Completes events that have waited longer than the end-of-event timeout
    /// by the wall clock (`auparse_feed_age_events`), and calls `f` for each.
    /// Call it on a timer while reading a live stream.
    ///
    /// With [`Grouping::Indexed`], the Rust stage ages its events exactly as
    /// libauparse does (log seconds plus the timeout against the wall
    /// clock's seconds). With [`Grouping::Ausearch`], the Rust stage's
    /// events that started at least the timeout ago are complete too; they are released in
    /// `ausearch`'s order (one that is not complete yet still holds back
    /// those with a later timestamp, until it is old enough in turn).
    ///
    /// # Errors
    /// As [`feed`](Self::feed).
    pub fn age_events<F>(&mut self, mut f: F) -> Result<()>
    where
        F: FnMut(&mut EventRef<'_>),
    {
        self.call(&mut f, |ctx| {
            if !ctx.assembler.is_empty() {
                if ctx.grouping == Grouping::Indexed {
                    // libauparse compares log seconds with time(NULL).
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs() as i64);
                    ctx.assembler.age_feed(now, ctx.eoe_timeout);
                } else {
                    let timeout = Duration::from_secs(u64::from(ctx.eoe_timeout));
                    ctx.assembler.age(Instant::now(), timeout);
                }
                ctx.release()?;
            }
            // SAFETY: live parser, lock held.
            unsafe { ffi::auparse_feed_age_events(ctx.au) };
            Ok(())
        })
    }

    /// Ends the input: parses a final line that lacks its newline, completes
    /// every buffered event (`auparse_flush_feed`) and calls `f` for each.
    /// The Feeder can be fed again afterwards.
    ///
    /// With [`Grouping::Ausearch`], every event the Rust stage holds is
    /// complete, and they come out in `ausearch`'s order.
    ///
    /// # Errors
    /// As [`feed`](Self::feed).
    pub fn flush<F>(&mut self, mut f: F) -> Result<()>
    where
        F: FnMut(&mut EventRef<'_>),
    {
        let held = std::mem::take(&mut self.held);
        let mut last = std::mem::take(&mut self.partial);
        let mut fed = false;
        let result = self.call(&mut f, |ctx| {
            fed = true;
            // Lines a stopped try_feed held back, then its partial line.
            let mut rest = &held[..];
            while let Some(i) = memchr::memchr(b'\n', rest) {
                ctx.line(&rest[..=i])?;
                rest = &rest[i + 1..];
            }
            if !rest.is_empty() {
                last = rest.to_vec();
            }
            if !last.is_empty() {
                last.push(b'\n');
                ctx.line(&last)?;
            }
            ctx.assembler.complete_all();
            ctx.release()?;
            // SAFETY: live parser, lock held.
            check("auparse_flush_feed", unsafe {
                ffi::auparse_flush_feed(ctx.au)
            })
        });
        if !fed {
            // The call was refused before reaching libauparse (Error::Nested):
            // keep the unterminated line for a later flush.
            self.partial = last;
            self.held = held;
        }
        result
    }

    /// True if events are not complete yet: libauparse holds data of some
    /// (`auparse_feed_has_data`), the Rust grouping stage holds some, or a
    /// line is waiting for its newline.
    ///
    /// # Errors
    /// [`Error::Nested`](crate::Error::Nested) inside another libauparse call.
    pub fn has_pending(&mut self) -> Result<bool> {
        let _guard = global::lock()?;
        // SAFETY: live parser, lock held.
        Ok(!self.partial.is_empty()
            || !self.held.is_empty()
            || !self.assembler.is_empty()
            || unsafe { ffi::auparse_feed_has_data(self.au.as_ptr()) } == 1)
    }

    /// Runs `op` under the lock with `f` installed as the callback, then
    /// pushes out events completed by the last line (libauparse would
    /// otherwise hold them until the next call), then re-raises a panic of `f`.
    fn call(
        &mut self,
        f: &mut dyn FnMut(&mut EventRef<'_>),
        op: impl FnOnce(&mut Ctx<'_>) -> Result<()>,
    ) -> Result<()> {
        let (result, panic) = self.call_caught(f, op);
        if let Some(payload) = panic {
            panic::resume_unwind(payload);
        }
        result
    }

    /// [`call`](Self::call), with the panic of `f` returned instead of
    /// re-raised, for a caller that has state to put back first.
    fn call_caught(
        &mut self,
        f: &mut dyn FnMut(&mut EventRef<'_>),
        op: impl FnOnce(&mut Ctx<'_>) -> Result<()>,
    ) -> (Result<()>, Option<Box<dyn Any + Send + 'static>>) {
        let guard = match global::lock() {
            Ok(g) => g,
            Err(e) => return (Err(e), None),
        };
        self.apply_settings(&guard);
        let au = self.au.as_ptr();
        let mut dynf: DynCallback<'_> = f;
        let state = self.state.as_ptr();
        // SAFETY: `state` is live (freed only by auparse_destroy in Drop) and
        // not otherwise accessed during this call; `dynf` outlives the C calls
        // below, and the pointer is cleared before `dynf` goes out of scope.
        unsafe { (*state).callback = &mut dynf as *mut DynCallback<'_> as *mut c_void };
        let mut ctx = Ctx {
            au,
            state,
            grouping: self.grouping,
            eoe_timeout: self.eoe_timeout,
            assembler: &mut self.assembler,
            probe: &mut self.probe,
        };
        let result = op(&mut ctx).and_then(|()| drain_ready(au, state));
        if result.is_ok() {
            self.renew_if_grown(&guard);
        }
        // SAFETY: as above; no C call is running any more.
        let panic = unsafe {
            (*state).callback = ptr::null_mut();
            (*state).panic.take()
        };
        drop(guard);
        (result, panic)
    }

    fn apply_settings(&self, guard: &Guard) {
        global::apply_eoe_timeout(guard, self.eoe_timeout);
    }

    /// Replaces the C parser by a new one when its list of events has grown
    /// past [`RENEW_AT`] and it holds nothing now (so no output changes).
    fn renew_if_grown(&mut self, guard: &Guard) {
        let state = self.state.as_ptr();
        // SAFETY: the state lives as long as the Feeder; no C call is
        // running, so the trampoline does not touch it meanwhile.
        let st = unsafe { &mut *state };
        let ask = if st.open.is_empty() {
            st.peak >= RENEW_AT
        } else {
            st.unchecked >= RECHECK_LINES
        };
        if !ask {
            return;
        }
        st.unchecked = 0;
        // SAFETY: live parser, lock held (`guard`).
        if unsafe { ffi::auparse_feed_has_data(self.au.as_ptr()) } != 0 {
            return;
        }
        // Nothing buffered: what the count says is open was dropped by
        // libauparse (a line it could not use).
        st.open.clear();
        if st.peak < RENEW_AT {
            return;
        }
        // SAFETY: lock held; the state outlives every parser (Drop).
        let Ok(new) = (unsafe { new_parser(state) }) else {
            // Out of memory: keep the slow parser.
            return;
        };
        let old = std::mem::replace(&mut self.au, new);
        // SAFETY: the old parser holds no event and is never used again;
        // it was registered without a destroy function, so the state lives.
        unsafe { ffi::auparse_destroy(old.as_ptr()) };
        // auparse_init reset the process-wide timeout from auditd.conf.
        self.apply_settings(guard);
        st.peak = 0;
        st.renewals += 1;
    }
}

/// Feeds one whole line and delivers what it completed.
fn feed_line(au: *mut ffi::auparse_state_t, state: *mut CallbackState, line: &[u8]) -> Result<()> {
    // SAFETY: live parser, lock held by the caller; `line` is valid for its
    // length and libauparse copies what it keeps.
    let rc = unsafe { ffi::auparse_feed(au, line.as_ptr().cast(), line.len()) };
    check("auparse_feed", rc)?;
    drain_ready(au, state)
}

/// Feeds the lines of one event grouped by the Rust stage, all at once, and
/// flushes, so libauparse delivers that event before returning and holds
/// nothing afterwards.
fn feed_event(
    au: *mut ffi::auparse_state_t,
    state: *mut CallbackState,
    lines: &[u8],
) -> Result<()> {
    // SAFETY: live parser, lock held by the caller; `lines` is valid for its
    // length and libauparse copies what it keeps.
    let rc = unsafe { ffi::auparse_feed(au, lines.as_ptr().cast(), lines.len()) };
    check("auparse_feed", rc)?;
    // SAFETY: as above.
    check("auparse_flush_feed", unsafe { ffi::auparse_flush_feed(au) })?;
    drain_ready(au, state)
}

/// libauparse delivers an event completed by the last line of a feed call
/// only on the next call; an empty feed pushes it out now. libauparse can
/// also report a ready event that it will not deliver yet (a newer event is
/// complete while an older one is still open): stop when a round delivers
/// nothing.
fn drain_ready(au: *mut ffi::auparse_state_t, state: *mut CallbackState) -> Result<()> {
    loop {
        // SAFETY: live parser, lock held by the caller.
        if unsafe { ffi::auparse_feed_has_ready_event(au) } != 1 {
            return Ok(());
        }
        // SAFETY: the callback state lives as long as the parser; the
        // trampoline only runs inside the auparse_feed call below.
        let before = unsafe { (*state).delivered };
        // SAFETY: as above; an empty buffer of length 0.
        let rc = unsafe { ffi::auparse_feed(au, b"".as_ptr().cast(), 0) };
        check("auparse_feed", rc)?;
        // SAFETY: as above.
        if unsafe { (*state).delivered } == before {
            return Ok(());
        }
    }
}

impl Drop for Feeder {
    fn drop(&mut self) {
        // Events still buffered are discarded: call flush() to get them.
        // If this thread already holds the lock (the Feeder is dropped inside
        // another parser's callback), lock() refuses, and the calls below are
        // serialized by that outer holder instead.
        let guard = global::lock();
        // SAFETY: live parser owned by us, never used again. Either we hold
        // the lock now, or this thread already held it (see above), so no
        // other thread is inside libauparse.
        unsafe { ffi::auparse_destroy(self.au.as_ptr()) };
        // Under the same lock (or outer holder) as above.
        drop(self.probe.take());
        drop(guard);
        // SAFETY: from Box::into_raw in Feeder::new; the parsers it was
        // registered with are all destroyed (without a destroy function).
        drop(unsafe { Box::from_raw(self.state.as_ptr()) });
    }
}

/// A second feed-mode parser that reads single lines for
/// [`Grouping::Indexed`]: what record type libauparse gives a line of an
/// unusual shape, and whether it parses it at all. Only the lines the Rust
/// stage cannot read plainly come here (none in a log written by auditd).
/// Used and dropped only under the global lock (by the Feeder's calls and
/// its `Drop`).
struct Probe {
    au: NonNull<ffi::auparse_state_t>,
    /// Written by [`probe_callback`]; boxed so its address stays put.
    out: Box<ProbeOut>,
}

/// What the probe's last flush delivered.
#[derive(Default)]
struct ProbeOut {
    events: u32,
    records: u32,
    /// The types of the first two records of the last event delivered.
    types: [i32; 2],
}

/// The probe parser's callback: counts events and records, keeps types.
unsafe extern "C" fn probe_callback(
    au: *mut ffi::auparse_state_t,
    cb_type: ffi::auparse_cb_event_t,
    user_data: *mut c_void,
) {
    if cb_type != ffi::AUPARSE_CB_EVENT_READY || user_data.is_null() || au.is_null() {
        return;
    }
    // SAFETY: user_data is the probe's boxed ProbeOut, which outlives its
    // parser (dropped after auparse_destroy); nothing else touches it during
    // the feed call that runs this callback.
    let out = unsafe { &mut *(user_data as *mut ProbeOut) };
    out.events += 1;
    // SAFETY: libauparse calls us positioned on the ready event's first
    // record; plain getters and a move to the next record of that event.
    unsafe {
        out.records = ffi::auparse_get_num_records(au);
        out.types[0] = ffi::auparse_get_type(au);
        out.types[1] = if ffi::auparse_next_record(au) == 1 {
            ffi::auparse_get_type(au)
        } else {
            0
        };
    }
}

impl Probe {
    /// # Safety
    /// The global lock is held.
    unsafe fn new() -> Result<Self> {
        let mut out = Box::<ProbeOut>::default();
        // SAFETY: the lock is held (caller); FEED takes no source argument.
        let au = unsafe { ffi::auparse_init(ffi::AUSOURCE_FEED, ptr::null()) };
        let au = NonNull::new(au).ok_or_else(|| last_os_error("auparse_init"))?;
        // SAFETY: live parser, lock held; `out` is boxed and lives as long
        // as the parser (Drop destroys the parser first). No destroy function.
        unsafe {
            ffi::auparse_add_callback(
                au.as_ptr(),
                Some(probe_callback),
                (&mut *out as *mut ProbeOut).cast(),
                None,
            );
        }
        Ok(Probe { au, out })
    }

    /// Feeds `lines` alone and flushes: what libauparse delivered.
    ///
    /// # Safety
    /// The global lock is held.
    unsafe fn run(&mut self, lines: &[u8]) -> Result<&ProbeOut> {
        *self.out = ProbeOut::default();
        // SAFETY: live parser, lock held (caller); `lines` is valid for its
        // length and libauparse copies it. The flush delivers every event
        // and leaves the parser empty.
        unsafe {
            check(
                "auparse_feed",
                ffi::auparse_feed(self.au.as_ptr(), lines.as_ptr().cast(), lines.len()),
            )?;
            check(
                "auparse_flush_feed",
                ffi::auparse_flush_feed(self.au.as_ptr()),
            )?;
        }
        Ok(&self.out)
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        // SAFETY: live parser, never used again; the Feeder drops the probe
        // only while this thread holds the lock (or an outer holder does).
        unsafe { ffi::auparse_destroy(self.au.as_ptr()) };
    }
}

/// What libauparse makes of `line`, asked of the probe parser: fed alone, a
/// line it parses is delivered as an event with that record's type; one it
/// drops is an `EOE` or a line it fails to parse. To tell them apart (and
/// get the type), the line is fed again as the second record of a made-up
/// event: a `CWD` (short, and it does not end an event) of key
/// `1.000:1` without a node, then `t msg=audit(1.000:1): ` followed by the
/// line. libauparse reads that second line's key from its first two words
/// (the made-up ones), so it always joins the `CWD`, whatever key, node and
/// length the line has; `parse_up_record` ignores the word `t` (no `=`,
/// before any type is known) and the `msg=audit(` word, so it reads the
/// rest exactly as the line alone: the same fields, type and failure.
/// (Made-up lines with the line's own key did not join when a long node
/// name pushed their longer key past the 340 bytes libauparse looks at.)
///
/// Called under the global lock, inside a Feeder call.
fn probe_line(probe: &mut Option<Probe>, timeout: u32, line: &[u8]) -> Result<LineType> {
    const EOE: i32 = 1320;
    const FIRST: &[u8] = b"type=CWD msg=audit(1.000:1): x=1\n";
    const PREFIX: &[u8] = b"t msg=audit(1.000:1): ";
    if probe.is_none() {
        // SAFETY: the Feeder's calls hold the lock while lines are taken.
        *probe = Some(unsafe { Probe::new() }?);
        // auparse_init has reset libauparse's global timeout.
        // SAFETY: plain setter of a global integer, lock held.
        unsafe { ffi::auparse_set_eoe_timeout(timeout as libc::time_t) };
    }
    let p = probe.as_mut().expect("made above");
    // SAFETY: lock held (see above).
    let out = unsafe { p.run(line) }?;
    if out.events > 0 {
        return Ok(LineType {
            rtype: out.types[0],
            parsed: true,
        });
    }
    let mut pair = Vec::with_capacity(FIRST.len() + PREFIX.len() + line.len());
    pair.extend_from_slice(FIRST);
    pair.extend_from_slice(PREFIX);
    pair.extend_from_slice(line);
    // SAFETY: lock held (see above).
    let out = unsafe { p.run(&pair) }?;
    if out.events == 1 && out.records == 2 {
        let rtype = out.types[1];
        // A line that parsed alone would have come out above, except an EOE.
        return Ok(LineType {
            rtype,
            parsed: rtype == EOE,
        });
    }
    // Not expected (the second line always joins): read the line as an
    // EOE, which libauparse drops as a first record too.
    Ok(LineType {
        rtype: EOE,
        parsed: true,
    })
}
