//! Grouping records into events in Rust, the way `ausearch` does it
//! ([`Grouping::Ausearch`]) or the way libauparse's feed mode does it
//! ([`Grouping::Indexed`]).
//!
//! libauparse's feed mode groups records into events by its own rules
//! (see [`Feeder`](crate::Feeder)). `ausearch` (audit 3.0.9) does not use
//! them: its "list of lists" (`src/ausearch-lol.c`) groups lines itself and
//! gives each complete event, alone, to libauparse. [`Grouping::Ausearch`]
//! selects the same grouper here. Its rules, checked against the real
//! `ausearch` 3.0.9:
//!
//! - **Key.** Each line is read only as far as its key: an optional first
//!   word starting with `n` (`node=NAME`; the name is what follows its first
//!   five bytes), the type word (`type=NAME`), and the timestamp inside the
//!   `msg=audit(SEC.MILLI:SERIAL)` word. Only the first 80 bytes are looked at
//!   (340 when the line starts with `n`), up to a NUL byte. Words are split
//!   at spaces. A line is skipped (as `ausearch` skips it) when it has no such
//!   words, when the `msg` word is 18 bytes or shorter or has no `(`, when a
//!   number overflows, or when the milliseconds exceed 999. Numbers are read
//!   like C's `strtoul`: leading white space and a sign are accepted, and no
//!   digits read as 0.
//! - **Events.** A line whose key (seconds, milliseconds, serial and node)
//!   equals that of an event still being built joins it; otherwise it starts
//!   a new event, except a standalone `EOE`, which is dropped.
//! - **Completion** is checked only when a new event starts: every event
//!   being built whose seconds plus the end-of-event timeout are at most the
//!   new event's seconds is complete, and the new event is complete at once
//!   if its (first) record type is a single-record type: below 1300
//!   (including names libaudit does not know), `PROCTITLE`, `KERNEL`,
//!   `MAC_UNLBL_ALLOW`..`MAC_CALIPSO_DEL`, or 2100 and above. Kernel `ANOM_*`
//!   records (1700-1799) are *not* single-record types for `ausearch` 3.0.9
//!   either: they wait for the timeout like every other event, but here that
//!   costs nothing (no rescans).
//! - **Order.** After each line, events are released while the event with
//!   the lowest (seconds, milliseconds, serial) among all those held, complete
//!   or not, is complete; among equal timestamps the one in the lowest slot
//!   of `ausearch`'s table goes first (a freed slot is reused, lowest first).
//!   At the end of input every event is complete and all come out in that
//!   order.
//!
//! Type names are mapped to numbers by libaudit's own
//! `audit_name_to_msg_type` ([`auparse_sys::audit_name_to_msg_type`], found at
//! run time in the libaudit that libauparse is linked to).
//!
//! [`Grouping::Indexed`] follows libauparse 3.0.9's feed mode instead
//! (`au_auparse_next_event`, `au_check_events`, `au_get_ready_event` in
//! `auparse.c`; `aup_list_append` in `ellist.c`): the key as
//! `extract_timestamp` reads it (a first word starting with `n` names the
//! node only if longer than five bytes); after each line it keeps and parses,
//! every event being built is complete if it is at least the timeout older
//! than that line or if its last record is an `EOE`, a `PROCTITLE` or a
//! single-record type; a line libauparse fails to parse (an `AVC` whose
//! permissions run over 255 bytes) starts no event, and joined to one it
//! stays there without that check; events are released while the lowest
//! held one (seconds, milliseconds, serial, then slot) is complete, after
//! every line, as the Feeder (fed a line at a time) delivers them. Wall-clock
//! ageing compares log seconds with `time(NULL)`, as
//! `auparse_feed_age_events` does. The record type of a line of the usual
//! shape is libaudit's number for its `type=` word; any other line is fed
//! alone to a private libauparse parser to learn what libauparse makes of
//! it (`probe_line` in `feeder.rs`). `tests/grouping_indexed.rs` and the
//! fuzz target `grouping` compare the result with libauparse's own.
//!
//! Deliberate differences from `ausearch`: lines are whole lines of any
//! length (`ausearch` reads at most 8,969 bytes at a time and treats the rest
//! of a longer line as further lines), and a line keeps the bytes after a NUL
//! (libauparse stops reading a record at its NUL anyway).

use rustc_hash::FxHashMap as FxMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ffi::CString;
use std::time::{Duration, Instant};

/// Which stage groups records into events in a [`Feeder`](crate::Feeder)
/// (see [`Feeder::set_grouping`](crate::Feeder::set_grouping)).
///
/// ```
/// use auparse::{Feeder, Grouping};
///
/// let mut feeder = Feeder::new()?;
/// assert_eq!(feeder.grouping(), Grouping::Libauparse); // the default
/// feeder.set_grouping(Grouping::Ausearch); // ausearch's events, in its order
/// feeder.set_grouping(Grouping::Indexed); // libauparse's, without its scans
/// let mut serials = Vec::new();
/// feeder.feed(b"type=DAEMON_START msg=audit(1700000000.000:1): op=start ver=3.0.9 res=success\n", |ev| serials.push(ev.serial()))?;
/// feeder.flush(|ev| serials.push(ev.serial()))?;
/// assert_eq!(serials, [1]);
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Grouping {
    /// libauparse's feed mode groups the records (the default): events come
    /// out as soon as libauparse sees their end, in timestamp order.
    #[default]
    Libauparse,
    /// A Rust stage groups the lines exactly as `ausearch` 3.0.9 does, and
    /// releases complete events in `ausearch`'s order; each is then given
    /// to libauparse alone and flushed. `format::text`/`csv` output is then
    /// byte-identical to `ausearch --format text/csv`, including the order
    /// of events, and logs with kernel `ANOM_*` records or out-of-order
    /// timestamps do not slow libauparse down. Multi-record events come out
    /// once a record at least the end-of-event timeout newer (log time)
    /// arrives, at [`Feeder::age_events`](crate::Feeder::age_events), or at
    /// [`Feeder::flush`](crate::Feeder::flush).
    Ausearch,
    /// A Rust stage applies libauparse's own feed-mode rules (the same
    /// events, records and order as [`Libauparse`](Self::Libauparse), at the
    /// same moments), and gives each complete event to libauparse alone.
    /// It finds an event by a hash lookup and the next one to deliver from
    /// a heap, where libauparse 3.0.9 scans every event it holds for each
    /// record: when one event's last records come late (a process that
    /// waited in the kernel's audit backlog under a burst) and every newer
    /// event waits behind it, libauparse slows down with the number held,
    /// and holds them parsed, at several times the size of the lines kept
    /// here. The `auparse-fsaction` plugin uses it.
    ///
    /// A line whose record type is not of the usual shape (see the crate's
    /// tests) is read by a second, private libauparse parser, alone, to
    /// learn what libauparse makes of it.
    Indexed,
}

const AUDIT_FIRST_EVENT: i32 = 1300;
const AUDIT_USER_AVC: i32 = 1107;
const AUDIT_EOE: i32 = 1320;
const AUDIT_PROCTITLE: i32 = 1327;
const AUDIT_AVC: i32 = 1400;
const AUDIT_MAC_UNLBL_ALLOW: i32 = 1406;
const AUDIT_MAC_CALIPSO_DEL: i32 = 1419;
const AUDIT_KERNEL: i32 = 2000;
const AUDIT_FIRST_ANOM_MSG: i32 = 2100;

/// `ausearch` 3.0.9's test for an event that is complete with its first record.
fn is_single_record_type(t: i32) -> bool {
    t == AUDIT_PROCTITLE
        || !(AUDIT_FIRST_EVENT..AUDIT_FIRST_ANOM_MSG).contains(&t)
        || t == AUDIT_KERNEL
        || (AUDIT_MAC_UNLBL_ALLOW..=AUDIT_MAC_CALIPSO_DEL).contains(&t)
}

/// The record type number libaudit gives `name` (-1 when unknown, like
/// libaudit). Without libaudit, every name counts as a multi-record type
/// (events then wait for the timeout; only their order can differ).
fn name_to_type(name: &[u8]) -> i32 {
    let Ok(c) = CString::new(name) else {
        return -1;
    };
    auparse_sys::audit_name_to_msg_type(&c).unwrap_or(AUDIT_FIRST_EVENT)
}

/// C's `strtoul(s, NULL, 10)` on bytes: the value and whether it overflowed.
fn strtoul(s: &[u8]) -> (u64, bool) {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let mut v: u64 = 0;
    let mut overflow = false;
    while i < s.len() && s[i].is_ascii_digit() {
        match v
            .checked_mul(10)
            .and_then(|x| x.checked_add(u64::from(s[i] - b'0')))
        {
            Some(x) => v = x,
            None => overflow = true,
        }
        i += 1;
    }
    if overflow {
        (u64::MAX, true)
    } else if neg {
        (v.wrapping_neg(), false)
    } else {
        (v, false)
    }
}

/// The identity of an event in `ausearch`'s grouper.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    sec: i64,
    milli: u32,
    serial: u64,
    node: Option<Box<[u8]>>,
}

/// The words of a line `ausearch` looks at: node (if any), type name, and
/// the timestamp bytes.
struct Parsed<'a> {
    node: Option<&'a [u8]>,
    type_name: &'a [u8],
    key: (i64, u32, u64),
}

/// The first `c` in `s`. The slices searched here are a line's first 80
/// (or 340) bytes and words within them: a plain loop beats `memchr`'s setup.
fn find(c: u8, s: &[u8]) -> Option<usize> {
    s.iter().position(|&b| b == c)
}

/// Splits at spaces like libaudit's `audit_strsplit`.
fn next_word<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let s = *rest;
    let start = s.iter().position(|&c| c != b' ')?;
    let s = &s[start..];
    match find(b' ', s) {
        Some(end) => {
            *rest = &s[end + 1..];
            Some(&s[..end])
        }
        None => {
            *rest = &[];
            Some(s)
        }
    }
}

/// Reads a line's key as `ausearch` 3.0.9 does (`extract_timestamp` and
/// `str2event`), or `None` for a line it skips.
fn parse_line(line: &[u8], timeout: i64) -> Option<Parsed<'_>> {
    match parse_plain(line) {
        Some(p) => Some(p),
        None => parse_any(line, timeout, NodeRule::Ausearch),
    }
}

/// Reads a line's key as libauparse 3.0.9's feed mode does
/// (`extract_timestamp` and `str2event` in `auparse.c`), or `None` for a
/// line it skips. The one difference from `ausearch`: a first word starting
/// with `n` is a node name only if it is longer than five bytes; a shorter
/// one is read as the type word.
fn parse_line_feed(line: &[u8], timeout: i64) -> Option<Parsed<'_>> {
    match parse_plain(line) {
        Some(p) => Some(p),
        None => parse_any(line, timeout, NodeRule::Libauparse),
    }
}

/// When the first word of a line names its node.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NodeRule {
    /// Any first word starting with `n` (`ausearch`).
    Ausearch,
    /// A first word starting with `n` and longer than five bytes (libauparse).
    Libauparse,
}

/// Digits at the start of `s`, as a number, and how many there were; at
/// most 18 digits, so that no number read here can overflow.
fn digits(s: &[u8]) -> (u64, usize) {
    let mut v = 0u64;
    let mut n = 0;
    while n < s.len() && n < 18 && s[n].is_ascii_digit() {
        v = v * 10 + u64::from(s[n] - b'0');
        n += 1;
    }
    (v, n)
}

/// The key of a line of the usual shape, `type=NAME msg=audit(S.MMM:N)`
/// within the 80 bytes [`parse_any`] looks at, without a NUL or extra
/// spaces: the same answer for less work. `None` for any other line (not
/// necessarily one that `parse_any` skips).
fn parse_plain(line: &[u8]) -> Option<Parsed<'_>> {
    const MSG: &[u8] = b"msg=audit(";
    let head = &line[..line.len().min(80)];
    let rest = head.strip_prefix(b"type=")?;
    let sp = rest.iter().position(|&c| c == b' ' || c == 0)?;
    if rest[sp] != b' ' {
        return None;
    }
    let type_name = &rest[..sp];
    let msg = rest[sp + 1..].strip_prefix(MSG)?;
    let (sec, n) = digits(msg);
    if n == 0 || msg.get(n) != Some(&b'.') {
        return None;
    }
    let ms = &msg[n + 1..];
    let (milli, m) = digits(ms);
    if m == 0 || milli > 999 || ms.get(m) != Some(&b':') {
        return None;
    }
    let ser = &ms[m + 1..];
    let (serial, k) = digits(ser);
    // The msg word runs at least through ')', which must lie within the
    // 80 bytes, and must be longer than 18 bytes, as `parse_any` requires.
    if k == 0 || ser.get(k) != Some(&b')') {
        return None;
    }
    let word_len = MSG.len() + n + 1 + m + 1 + k + 1;
    if word_len <= 18 || 5 + sp + 1 + word_len > head.len() {
        return None;
    }
    Some(Parsed {
        node: None,
        type_name,
        key: (sec as i64, milli as u32, serial),
    })
}

/// [`parse_line`] (or [`parse_line_feed`]) for any line.
fn parse_any(line: &[u8], timeout: i64, rule: NodeRule) -> Option<Parsed<'_>> {
    let limit = if line.first() == Some(&b'n') { 340 } else { 80 };
    let mut head = &line[..line.len().min(limit)];
    if let Some(nul) = memchr::memchr(0, head) {
        head = &head[..nul];
    }
    let mut rest = head;
    let mut word = next_word(&mut rest)?;
    let mut node = None;
    if word[0] == b'n' && (rule == NodeRule::Ausearch || word.len() > 5) {
        node = Some(word.get(5..).unwrap_or(&[]));
        word = next_word(&mut rest)?;
    }
    let type_name = word.get(5..).unwrap_or(&[]);
    let msg = next_word(&mut rest)?;
    if msg.len() <= 18 {
        return None;
    }
    let open = if msg[9] == b'(' { 9 } else { find(b'(', msg)? };
    let mut ts = &msg[open + 1..];
    if let Some(close) = find(b')', ts) {
        ts = &ts[..close];
    }
    let (sec, over) = strtoul(ts);
    let sec = sec as i64;
    if over || i128::from(sec) > i128::from(i64::MAX) - i128::from(timeout) - 1 {
        return None;
    }
    let mut s = ts;
    let mut milli = 0u32;
    if let Some(dot) = find(b'.', s) {
        let (m, over) = strtoul(&s[dot + 1..]);
        milli = m as u32;
        if over || milli > 999 {
            return None;
        }
        s = &s[dot..];
    }
    let mut serial = 0;
    if let Some(colon) = find(b':', s) {
        let (v, over) = strtoul(&s[colon + 1..]);
        if over {
            return None;
        }
        serial = v;
    }
    Some(Parsed {
        node,
        type_name,
        key: (sec, milli, serial),
    })
}

/// One event held by the grouper: a slot of `ausearch`'s table.
struct Pending {
    key: Key,
    complete: bool,
    /// Its lines, each ending in `\n`, in arrival order.
    lines: Vec<u8>,
    /// When it started, by the wall clock (for [`Assembler::age`]).
    born: Instant,
    /// Tells this event from a later one in the same slot.
    id: u64,
    /// The type of its last record as libauparse reads it
    /// ([`Grouping::Indexed`] only).
    last_type: i32,
}

/// True if the event `id` still holds `slot` and is being built.
fn live(slots: &[Option<Pending>], id: u64, slot: usize) -> bool {
    slots[slot]
        .as_ref()
        .is_some_and(|ev| ev.id == id && !ev.complete)
}

/// The grouper behind [`Grouping::Ausearch`]: lines in, complete events
/// (their lines) out, in `ausearch`'s order.
#[derive(Default)]
pub(crate) struct Assembler {
    /// `ausearch`'s table; `None` is an empty slot.
    slots: Vec<Option<Pending>>,
    /// Empty slots, lowest first (the table never shrinks, as in `ausearch`).
    free: BinaryHeap<Reverse<usize>>,
    /// Events still being built, by key.
    building: FxMap<Key, usize>,
    /// The event the last line joined or started, while it is being built:
    /// most records follow the one before them.
    last: Option<usize>,
    /// Multi-record events by seconds (for the timeout), as (seconds, id,
    /// slot), lowest first. An entry whose event has completed otherwise is
    /// dropped when it comes up or at [`Assembler::age`].
    by_sec: BinaryHeap<Reverse<(i64, u64, usize)>>,
    /// Every held event, lowest (seconds, milliseconds, serial, slot) first:
    /// the release order. Events leave it only from the top.
    order: BinaryHeap<Reverse<(i64, u32, u64, usize)>>,
    /// The id of the next event.
    next_id: u64,
    /// Record type numbers by name.
    types: FxMap<Box<[u8]>, i32>,
    /// Buffers of released events, for reuse.
    spare: Vec<Vec<u8>>,
    /// [`Grouping::Indexed`]: events (id, slot) whose last record libauparse
    /// failed to parse; libauparse checks their last record's type only at
    /// its next check of all events.
    unchecked: Vec<(u64, usize)>,
}

/// What libauparse makes of one record line ([`Grouping::Indexed`]): the
/// record type it reads, and whether it parsed the line (`aup_list_append`
/// returned 0). A line it fails to parse (an `AVC` whose permissions run
/// over 255 bytes) starts no event; joined to an event, it stays there, but
/// libauparse skips its check of events after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineType {
    pub(crate) rtype: i32,
    pub(crate) parsed: bool,
}

/// libauparse 3.0.9's test (`au_check_events`) for an event that is complete
/// with the record it last appended.
fn ends_event(t: i32) -> bool {
    t == AUDIT_EOE || is_single_record_type(t)
}

/// The type name of a line whose record type libauparse reads without
/// surprises: `type=NAME ` first (or after `node=HOST `), NAME of letters,
/// digits and `_` (or `UNKNOWN[digits]`), and no interpretation separator
/// (0x1d) or NUL before it. `None` for any other line. The caller still
/// sends a NAME of type `AVC` or `USER_AVC` to the probe (their parsing can
/// fail): libaudit reads names without regard to case and numbers as
/// numbers, so `avc`, `1400` and `UNKNOWN[1400]` are `AVC` too.
fn plain_type_name(line: &[u8]) -> Option<&[u8]> {
    let mut rest = line;
    if let Some(after) = rest.strip_prefix(b"node=") {
        let sp = after.iter().position(|&c| c == b' ')?;
        if sp == 0 || after[..sp].iter().any(|&c| c == 0x1d || c == 0) {
            return None;
        }
        rest = &after[sp + 1..];
    }
    let rest = rest.strip_prefix(b"type=")?;
    let sp = rest.iter().position(|&c| c == b' ')?;
    let name = &rest[..sp];
    let word =
        |n: &[u8]| !n.is_empty() && n.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_');
    let ok = word(name)
        || name
            .strip_prefix(b"UNKNOWN[")
            .and_then(|n| n.strip_suffix(b"]"))
            .is_some_and(|d| !d.is_empty() && d.iter().all(u8::is_ascii_digit));
    if !ok {
        return None;
    }
    Some(name)
}

impl Assembler {
    /// True if no event is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    fn type_of(&mut self, name: &[u8]) -> i32 {
        if let Some(&t) = self.types.get(name) {
            return t;
        }
        let t = name_to_type(name);
        self.types.insert(name.into(), t);
        t
    }

    /// Adds one line (ending in `\n`); `timeout` is the end-of-event timeout
    /// in seconds. Returns false if the line was skipped or dropped. Call
    /// [`pop_ready`](Self::pop_ready) until it returns `None` afterwards.
    pub(crate) fn add_line(&mut self, line: &[u8], timeout: u32) -> bool {
        let timeout = i64::from(timeout);
        let Some(p) = parse_line(line, timeout) else {
            return false;
        };
        let (sec, milli, serial) = p.key;
        if let Some(slot) = self.building_slot(&p) {
            let ev = self.slots[slot].as_mut().expect("building slot is held");
            ev.lines.extend_from_slice(line);
            self.last = Some(slot);
            return true;
        }
        let key = Key {
            sec,
            milli,
            serial,
            node: p.node.map(Box::from),
        };
        let rtype = self.type_of(p.type_name);
        if rtype == AUDIT_EOE {
            // A standalone EOE: its event was complete already.
            return false;
        }
        let single = is_single_record_type(rtype);
        let slot = self.start(key, line, rtype);
        if !single {
            let id = self.slots[slot].as_ref().expect("new slot is held").id;
            self.by_sec.push(Reverse((sec, id, slot)));
        }
        // Completion by time: every event being built that is old enough.
        self.complete_timed_out(sec, timeout);
        if single {
            self.complete(slot);
        }
        true
    }

    /// [`Grouping::Indexed`]: adds one line (ending in `\n`) by the rules of
    /// libauparse 3.0.9's feed mode (`au_auparse_next_event`), with `probe`
    /// asked for what libauparse makes of a line whose type is not plain.
    /// Returns false if the line was skipped or dropped. Call
    /// [`pop_ready`](Self::pop_ready) until it returns `None` afterwards:
    /// the Feeder, fed a line at a time, delivers after every line.
    ///
    /// The rules: a line whose key libauparse cannot read is skipped. One
    /// whose key (seconds, milliseconds, serial, node) equals that of an
    /// event being built joins it; else it starts a new event, unless it is
    /// an `EOE` or libauparse fails to parse it (then it is dropped). After
    /// each line kept and parsed, every event being built is complete if its
    /// seconds plus the timeout are at most the line's seconds, or if its
    /// last record is an `EOE`, a `PROCTITLE` or a single-record type.
    pub(crate) fn add_line_feed(
        &mut self,
        line: &[u8],
        timeout: u32,
        probe: &mut dyn FnMut(&[u8]) -> LineType,
    ) -> bool {
        // libauparse reads a line without its newline (`readline_buf`):
        // with it, a last word of 18 bytes would pass the length test of
        // `extract_timestamp`, which it fails there.
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let Some(p) = parse_line_feed(text, i64::from(timeout)) else {
            return false;
        };
        let (sec, milli, serial) = p.key;
        let plain = plain_type_name(text)
            .map(|name| self.type_of(name))
            .filter(|&t| t != AUDIT_AVC && t != AUDIT_USER_AVC);
        let lt = match plain {
            Some(rtype) => LineType {
                rtype,
                parsed: true,
            },
            None => probe(line),
        };
        let joined = self.building_slot(&p);
        let slot = match joined {
            Some(slot) => {
                let ev = self.slots[slot].as_mut().expect("building slot is held");
                ev.lines.extend_from_slice(line);
                ev.last_type = lt.rtype;
                self.last = Some(slot);
                if !lt.parsed {
                    self.unchecked.push((ev.id, slot));
                    return true;
                }
                slot
            }
            None => {
                if !lt.parsed || lt.rtype == AUDIT_EOE {
                    return false;
                }
                let key = Key {
                    sec,
                    milli,
                    serial,
                    node: p.node.map(Box::from),
                };
                let slot = self.start(key, line, lt.rtype);
                let id = self.slots[slot].as_ref().expect("new slot is held").id;
                self.by_sec.push(Reverse((sec, id, slot)));
                slot
            }
        };
        self.check_feed(sec, timeout, Some(slot));
        true
    }

    /// The event being built that a line of key `p` joins: the one the last
    /// line went to (most records follow the one before them), else the
    /// one of that key, if any.
    fn building_slot(&self, p: &Parsed<'_>) -> Option<usize> {
        let (sec, milli, serial) = p.key;
        if let Some(slot) = self.last {
            let ev = self.slots[slot].as_ref().expect("last slot is held");
            if !ev.complete
                && ev.key.sec == sec
                && ev.key.milli == milli
                && ev.key.serial == serial
                && ev.key.node.as_deref() == p.node
            {
                return Some(slot);
            }
        }
        self.building
            .get(&Key {
                sec,
                milli,
                serial,
                node: p.node.map(Box::from),
            })
            .copied()
    }

    /// Completes every event being built whose seconds plus `timeout` are at
    /// most `sec`.
    fn complete_timed_out(&mut self, sec: i64, timeout: i64) {
        while let Some(&Reverse((s, id, i))) = self.by_sec.peek() {
            if i128::from(s) + i128::from(timeout) > i128::from(sec) {
                break;
            }
            self.by_sec.pop();
            if live(&self.slots, id, i) {
                self.complete(i);
            }
        }
    }

    /// A new event in the lowest free slot, being built, in the release order.
    fn start(&mut self, key: Key, line: &[u8], rtype: i32) -> usize {
        let mut lines = self.spare.pop().unwrap_or_default();
        lines.extend_from_slice(line);
        let slot = match self.free.pop() {
            Some(Reverse(i)) => i,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        let id = self.next_id;
        self.next_id += 1;
        self.order
            .push(Reverse((key.sec, key.milli, key.serial, slot)));
        self.building.insert(key.clone(), slot);
        self.slots[slot] = Some(Pending {
            key,
            complete: false,
            lines,
            born: Instant::now(),
            id,
            last_type: rtype,
        });
        self.last = Some(slot);
        slot
    }

    /// libauparse's `au_check_events(sec)`: completes the events being built
    /// that are `timeout` seconds older than `sec`, and those whose last
    /// record ends an event (`just`, the event a line just went to, and the
    /// events whose last line was not checked).
    fn check_feed(&mut self, sec: i64, timeout: u32, just: Option<usize>) {
        self.complete_timed_out(sec, i64::from(timeout));
        if let Some(slot) = just {
            if self.slots[slot]
                .as_ref()
                .is_some_and(|ev| !ev.complete && ends_event(ev.last_type))
            {
                self.complete(slot);
            }
        }
        for (id, slot) in std::mem::take(&mut self.unchecked) {
            if self.slots[slot]
                .as_ref()
                .is_some_and(|ev| ev.id == id && !ev.complete && ends_event(ev.last_type))
            {
                self.complete(slot);
            }
        }
    }

    /// [`Grouping::Indexed`]: libauparse's `auparse_feed_age_events`, which
    /// checks every event against the wall clock's seconds (`time(NULL)`)
    /// as if a record of that time had arrived.
    pub(crate) fn age_feed(&mut self, now_sec: i64, timeout: u32) {
        self.check_feed(now_sec, timeout, None);
        self.compact();
    }

    /// Drops the timeout entries of events completed otherwise, once they
    /// outnumber the live ones (only wall-clock ageing leaves them behind).
    fn compact(&mut self) {
        if self.by_sec.len() > 2 * self.building.len() + 64 {
            let slots = &self.slots;
            self.by_sec
                .retain(|&Reverse((_, id, i))| live(slots, id, i));
        }
    }

    fn complete(&mut self, slot: usize) {
        let ev = self.slots[slot].as_mut().expect("completed slot is held");
        if ev.complete {
            return;
        }
        ev.complete = true;
        if self.last == Some(slot) {
            self.last = None;
        }
        self.building.remove(&ev.key);
    }

    /// Marks every event complete (end of input).
    pub(crate) fn complete_all(&mut self) {
        let slots: Vec<usize> = self.building.values().copied().collect();
        for slot in slots {
            self.complete(slot);
        }
        self.by_sec.clear();
    }

    /// Marks complete the events that started at least `timeout` ago by the
    /// wall clock.
    pub(crate) fn age(&mut self, now: Instant, timeout: Duration) {
        let old: Vec<usize> = self
            .building
            .values()
            .copied()
            .filter(|&i| {
                let ev = self.slots[i].as_ref().expect("building slot is held");
                now.saturating_duration_since(ev.born) >= timeout
            })
            .collect();
        for slot in old {
            self.complete(slot);
        }
        self.compact();
    }

    /// The lines of the next event to release, if the lowest held event is
    /// complete. Give the buffer back with [`recycle`](Self::recycle).
    pub(crate) fn pop_ready(&mut self) -> Option<Vec<u8>> {
        let &Reverse((_, _, _, slot)) = self.order.peek()?;
        if !self.slots[slot].as_ref().is_some_and(|ev| ev.complete) {
            return None;
        }
        self.order.pop();
        let ev = self.slots[slot].take().expect("ordered slot is held");
        self.free.push(Reverse(slot));
        Some(ev.lines)
    }

    /// Keeps a released event's buffer for a later event.
    pub(crate) fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.spare.len() < 64 && buf.capacity() <= 64 * 1024 {
            buf.clear();
            self.spare.push(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoul_like_c() {
        assert_eq!(strtoul(b"123abc"), (123, false));
        assert_eq!(strtoul(b"  +7"), (7, false));
        assert_eq!(strtoul(b"-5"), (5u64.wrapping_neg(), false));
        assert_eq!(strtoul(b"x"), (0, false));
        assert!(strtoul(b"99999999999999999999999").1);
    }

    #[test]
    fn keys_as_ausearch_reads_them() {
        let p = parse_line(
            b"node=h1 type=SYSCALL msg=audit(1700000000.123:45): a=b\n",
            2,
        )
        .unwrap();
        assert_eq!(p.node, Some(&b"h1"[..]));
        assert_eq!(p.type_name, b"SYSCALL");
        assert_eq!(p.key, (1_700_000_000, 123, 45));
        // msg word of 18 bytes or less, milli above 999, overflow: skipped.
        assert!(parse_line(b"type=X msg=audit(1.00:3): a\n", 2).is_none());
        assert!(parse_line(b"type=X msg=audit(10.00:3): a\n", 2).is_some());
        assert!(parse_line(b"type=X msg=audit(100.1234:5): a\n", 2).is_none());
        assert!(parse_line(b"type=X msg=audit(99999999999999999999999.000:5): a\n", 2).is_none());
        assert!(parse_line(b"garbage\n", 2).is_none());
        assert!(parse_line(b"\n", 2).is_none());
        assert!(parse_line(b"\0type=X msg=audit(100.000:5): a\n", 2).is_none());
    }

    /// `parse_plain` answers only where `parse_any` gives the same answer:
    /// checked on usual lines and on every one-byte change, cut and NUL of
    /// them, with type names long enough to push the key past 80 bytes.
    #[test]
    fn plain_lines_read_like_any_line() {
        let mut bases: Vec<Vec<u8>> = Vec::new();
        for name_len in [0, 1, 7, 20, 40, 50, 52, 53, 54, 55, 56, 60, 70] {
            for ts in [
                &b"1700000000.123:45"[..],
                b"1.0:1",
                b"12.1:1",
                b"1.12:1",
                b"123.456:7",
                b"999999999999999999.999:999999999999999999",
                b"1700000000.1234:5",
            ] {
                let mut l = b"type=".to_vec();
                l.extend(std::iter::repeat_n(b'A', name_len));
                l.extend_from_slice(b" msg=audit(");
                l.extend_from_slice(ts);
                l.extend_from_slice(b"): pid=1 uid=0\n");
                bases.push(l);
            }
        }
        let mut plain = 0;
        let mut checked = 0;
        let mut check = |l: &[u8]| {
            checked += 1;
            if let Some(p) = parse_plain(l) {
                plain += 1;
                let q = parse_any(l, 2, NodeRule::Ausearch).unwrap_or_else(|| {
                    panic!("{:?} skipped by parse_any", String::from_utf8_lossy(l))
                });
                assert_eq!(
                    (p.node, p.type_name, p.key),
                    (q.node, q.type_name, q.key),
                    "{:?}",
                    String::from_utf8_lossy(l)
                );
            }
        };
        for base in &bases {
            check(base);
            for i in 0..base.len().min(100) {
                check(&base[..i]);
                for b in [b' ', 0, b'0', b'9', b'(', b')', b'.', b':', b'-', b'n'] {
                    let mut l = base.clone();
                    l[i] = b;
                    check(&l);
                    let mut l = base.clone();
                    l.insert(i, b);
                    check(&l);
                }
            }
        }
        assert!(plain > checked / 20, "{plain} of {checked} read as plain");
        // The generator's and the kernel's usual line is plain.
        assert!(parse_plain(b"type=SYSCALL msg=audit(1700000000.123:45): a=b\n").is_some());
    }

    /// Events completed by the wall clock leave no timeout entries behind.
    #[test]
    fn aged_events_leave_nothing_behind() {
        let mut a = Assembler::default();
        let mut out = Vec::new();
        for round in 0..5u64 {
            for i in 0..200u64 {
                let serial = round * 1000 + i;
                let l = format!("type=SYSCALL msg=audit(100.000:{serial}): a=b\n");
                assert!(a.add_line(l.as_bytes(), 2));
            }
            assert!(a.pop_ready().is_none(), "nothing is complete yet");
            a.age(
                Instant::now() + Duration::from_secs(5),
                Duration::from_secs(2),
            );
            out.extend(released(&mut a));
            assert!(a.is_empty());
            assert!(a.by_sec.len() <= 64, "{} entries left", a.by_sec.len());
        }
        assert_eq!(out.len(), 1000);
        assert!(out.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn types_from_libaudit() {
        assert_eq!(name_to_type(b"SYSCALL"), 1300);
        assert_eq!(name_to_type(b"ANOM_ABEND"), 1701);
        assert_eq!(name_to_type(b"UNKNOWN[1999]"), 1999);
        assert_eq!(name_to_type(b"NO_SUCH"), -1);
        assert!(!is_single_record_type(1701));
        assert!(is_single_record_type(-1));
    }

    fn released(a: &mut Assembler) -> Vec<u64> {
        let mut out = Vec::new();
        while let Some(buf) = a.pop_ready() {
            let p = parse_line(&buf, 2).unwrap();
            out.push(p.key.2);
        }
        out
    }

    #[test]
    fn ausearch_order() {
        let mut a = Assembler::default();
        let mut out = Vec::new();
        // ANOM_ABEND at 100 waits; a single-record event at 100.5 is held
        // behind it; one at 99 goes first.
        for l in [
            &b"type=ANOM_ABEND msg=audit(100.000:1): a=b\n"[..],
            b"type=DAEMON_START msg=audit(100.500:2): a=b\n",
            b"type=DAEMON_START msg=audit(99.000:3): a=b\n",
        ] {
            a.add_line(l, 2);
            out.extend(released(&mut a));
        }
        assert_eq!(out, [3]);
        a.complete_all();
        out.extend(released(&mut a));
        assert_eq!(out, [3, 1, 2]);
        assert!(a.is_empty());
    }
}
