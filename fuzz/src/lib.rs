//! The fuzz targets' code, shared with `tests/fuzz_regressions.rs` (which
//! includes this file with `#[path]`), so that a crash input found by
//! `cargo fuzz` is replayed through exactly the same code without libFuzzer.
//!
//! Each function panics when a property does not hold; libFuzzer records the
//! input as a crash.

#![allow(missing_docs)]

use auparse::format::csv::{CsvOptions, CsvWriter};
use auparse::format::{json, pretty, text};
use auparse::{Event, Feeder, FsChange, FsTracker, Grouping};
use std::os::unix::ffi::OsStrExt;

/// Target `grouping`: [`Grouping::Indexed`] must give what libauparse's own
/// feed mode gives (the same events, with the same records' text, keys and
/// order, from the same feed call) for any bytes split at any points.
///
/// Input: byte 0 = end-of-event timeout (1 + its low two bits), bytes 1..5 =
/// chunk sizes used in turn (0 counts as 1), the rest = the log bytes.
pub fn grouping(data: &[u8]) {
    if data.len() < 5 {
        return;
    }
    let timeout = 1 + u32::from(data[0] & 3);
    let sizes: Vec<usize> = data[1..5].iter().map(|&b| usize::from(b)).collect();
    let log = &data[5..];
    let lib = grouping_events(log, Grouping::Libauparse, &sizes, timeout);
    let idx = grouping_events(log, Grouping::Indexed, &sizes, timeout);
    if lib != idx {
        let at = lib.iter().zip(&idx).position(|(a, b)| a != b);
        panic!(
            "Indexed differs from libauparse: {} vs {} events, first difference at {at:?}:\n{:?}\n{:?}",
            lib.len(),
            idx.len(),
            at.and_then(|i| lib.get(i)),
            at.and_then(|i| idx.get(i)),
        );
    }
}

/// One event as grouping decides it: (feed call that delivered it, serial,
/// timestamp, node, its records' text). Interpretations are left out: both
/// groupings give libauparse the same records, and libauparse 3.0.9 reads
/// past the end of some PROCTITLE values, whose interpretation is then heap
/// garbage that differs between any two runs.
pub type GroupedEvent = (usize, u64, (i64, u32), Option<Vec<u8>>, Vec<Vec<u8>>);

/// `log` fed through a Feeder with `grouping` and `timeout`, in chunks of
/// the sizes of `sizes` in turn (0 counts as 1), then flushed: each event
/// delivered, in order. Shared with `tests/grouping_indexed.rs`.
pub fn grouping_events(
    log: &[u8],
    grouping: Grouping,
    sizes: &[usize],
    timeout: u32,
) -> Vec<GroupedEvent> {
    let mut feeder = Feeder::new().expect("Feeder::new");
    feeder.set_grouping(grouping);
    feeder.set_eoe_timeout(timeout);
    let mut out: Vec<GroupedEvent> = Vec::new();
    let mut take = |call: usize, ev: &mut auparse::EventRef<'_>| {
        let mut raw = Vec::new();
        {
            let mut records = ev.records();
            while let Some(r) = records.next() {
                raw.push(r.text().to_vec());
            }
        }
        let t = ev.timestamp();
        out.push((
            call,
            ev.serial(),
            (t.sec, t.milli),
            ev.node().map(|n| n.as_bytes().to_vec()),
            raw,
        ));
    };
    let (mut rest, mut call) = (log, 0);
    while !rest.is_empty() {
        let n = sizes[call % sizes.len()].clamp(1, rest.len());
        feeder.feed(&rest[..n], |ev| take(call, ev)).expect("feed");
        rest = &rest[n..];
        call += 1;
    }
    feeder.flush(|ev| take(call, ev)).expect("flush");
    assert!(
        !feeder.has_pending().expect("has_pending"),
        "held after flush"
    );
    out
}

/// Target `feeder_formats`: arbitrary bytes split at arbitrary points through
/// the Feeder into owned events and every output format.
///
/// Input: byte 0 = flags (bit 0: ausearch grouping; bit 1: call `age_events`
/// between chunks; bits 2-3: end-of-event timeout 0..3 s; bit 4: colour in
/// pretty; bit 5: every csv extra column), bytes 1..5 = chunk sizes used in
/// turn (a size of 0 means "flush here, then go on with 1 byte"), the rest =
/// the log bytes.
pub fn feeder_formats(data: &[u8]) {
    if data.len() < 5 {
        return;
    }
    let flags = data[0];
    let sizes = &data[1..5];
    let log = &data[5..];
    let grouping = if flags & 1 != 0 {
        Grouping::Ausearch
    } else {
        Grouping::Libauparse
    };
    let age = flags & 2 != 0;
    let timeout = u32::from((flags >> 2) & 3);
    let color = flags & 16 != 0;
    let extra = flags & 32 != 0;

    let mut feeder = Feeder::new().expect("Feeder::new");
    feeder.set_grouping(grouping);
    feeder.set_eoe_timeout(timeout);
    let mut events: Vec<Event> = Vec::new();
    let mut rest = log;
    let mut i = 0;
    let mut mid_flush = false;
    while !rest.is_empty() {
        let size = sizes[i % sizes.len()] as usize;
        i += 1;
        if size == 0 {
            feeder
                .flush(|ev| events.push(ev.to_event()))
                .expect("flush");
            mid_flush = true;
        }
        let n = size.clamp(1, rest.len());
        feeder
            .feed(&rest[..n], |ev| events.push(ev.to_event()))
            .expect("feed");
        rest = &rest[n..];
        if age {
            feeder
                .age_events(|ev| events.push(ev.to_event()))
                .expect("age_events");
        }
    }
    feeder
        .flush(|ev| events.push(ev.to_event()))
        .expect("flush");
    assert!(
        !feeder.has_pending().expect("has_pending"),
        "flush left events pending"
    );

    // Fed in one piece, the same events come out (libauparse grouping:
    // whole lines make its delivery independent of the chunking; the Rust
    // grouper's is by construction). Wall-clock aging and mid-stream
    // flushes legitimately change the grouping, so compare only without.
    if !age && !mid_flush {
        let mut whole = Feeder::new().expect("Feeder::new");
        whole.set_grouping(grouping);
        whole.set_eoe_timeout(timeout);
        let mut once: Vec<Event> = Vec::new();
        whole
            .feed(log, |ev| once.push(ev.to_event()))
            .expect("feed");
        whole.flush(|ev| once.push(ev.to_event())).expect("flush");
        assert_eq!(events, once, "chunked feed differs from one-piece feed");
    }

    write_all_formats(&events, color, extra);
}

/// Every output format of `events`, each line checked: a JSON line parses as
/// an object and reads back into the same `Event` (the `event` schema) or
/// the same changes; a text, csv or pretty line holds no control character
/// (text and csv: one line per event, as ausearch: no byte below 0x20 but
/// the newline); the fsaction log lines (text and JSON) likewise.
pub fn write_all_formats(events: &[Event], color: bool, extra: bool) {
    let mut tracker = FsTracker::with_capacity(64);
    let jopts = json::JsonOptions::new(false);
    let popts = pretty::PrettyOptions::new(color, false);
    let topts = text::TextOptions::default();
    let csv = CsvWriter::new(CsvOptions {
        extra_time: extra,
        extra_labels: extra,
        extra_keys: extra,
        extra_obj2: extra,
    });

    let mut out = Vec::new();
    csv.header(&mut out);
    check_text_lines("csv header", &out, 1);
    for ev in events {
        let changes = tracker.changes(ev);
        out.clear();
        json::write_event(ev, &changes, &jopts, &mut out);
        let v = check_json_line(&out);
        let listed = v["changes"].as_array().expect("changes[] is an array");
        assert_eq!(listed.len(), changes.len(), "one JSON object per change");
        for (c, j) in changes.iter().zip(listed) {
            let back: FsChange = serde_json::from_value(j.clone()).expect("change reads back");
            assert_eq!(&back, c, "a change of the event line reads back unequal");
        }
        check_event_round_trip(ev);

        out.clear();
        text::write_text(ev, &topts, &mut out);
        check_text_lines("text", &out, 1);
        out.clear();
        csv.row(ev, &mut out);
        check_text_lines("csv", &out, 1);
        out.clear();
        pretty::write_event(ev, &changes, &popts, &mut out);
        check_pretty_lines(&out);
        for c in &changes {
            check_change(c, Some(ev));
        }
    }
    for c in tracker.flush() {
        check_change(&c, None);
    }
}

/// An event through serde_json and back is the same event.
pub fn check_event_round_trip(ev: &Event) {
    let js = serde_json::to_string(ev).expect("an event serializes");
    assert!(!js.contains('\n'), "a newline inside the event's JSON");
    let back: Event = serde_json::from_str(&js)
        .unwrap_or_else(|e| panic!("event JSON does not read back ({e}): {js}"));
    assert_eq!(&back, ev, "event JSON reads back unequal: {js}");
}

/// Lines of text output: `n` lines, each ending in a newline, no other
/// byte below 0x20.
pub fn check_text_lines(what: &str, out: &[u8], n: usize) {
    assert_eq!(out.last(), Some(&b'\n'), "{what} ends in a newline");
    let lines = out.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(
        lines,
        n,
        "{what}: {lines} lines instead of {n}: {:?}",
        String::from_utf8_lossy(out)
    );
    if let Some(b) = out.iter().find(|&&b| b < 0x20 && b != b'\n') {
        panic!(
            "{what}: control byte {b:#04x} in {:?}",
            String::from_utf8_lossy(out)
        );
    }
}

/// Pretty output: no control character but the newline (and ESC of the
/// colour codes the writer itself adds).
fn check_pretty_lines(out: &[u8]) {
    let text = std::str::from_utf8(out).expect("pretty output is UTF-8");
    // Colour codes are `ESC [ digits ; m`: take them out, then nothing but
    // newlines may be a control character.
    let mut plain = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('\x1b') {
        plain.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after
            .strip_prefix('[')
            .and_then(|a| {
                a.find('m')
                    .filter(|&m| a[..m].bytes().all(|b| b.is_ascii_digit() || b == b';'))
            })
            .unwrap_or_else(|| panic!("a raw ESC in pretty output: {text:?}"));
        rest = &after[end + 2..];
    }
    plain.push_str(rest);
    if let Some(c) = plain.chars().find(|&c| c.is_control() && c != '\n') {
        panic!(
            "control character U+{:04X} in pretty output {text:?}",
            c as u32
        );
    }
}

/// One JSON line: ends in a newline, has no other, parses as an object.
fn check_json_line(line: &[u8]) -> serde_json::Value {
    assert_eq!(line.last(), Some(&b'\n'), "JSON line ends in a newline");
    let body = &line[..line.len() - 1];
    assert!(!body.contains(&b'\n'), "a newline inside a JSON line");
    let v: serde_json::Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("invalid JSON ({e}): {}", String::from_utf8_lossy(body)));
    assert!(v.is_object(), "JSON line is an object");
    v
}

/// A change's JSON object is serde_json's, byte for byte, and reads back
/// equal; the fsaction log's JSON line of it reads back equal too, and its
/// text line is one clean line.
fn check_change(c: &FsChange, ev: Option<&Event>) {
    let mut out = Vec::new();
    json::write_change(c, &mut out);
    let serde = serde_json::to_vec(c).expect("a change serializes");
    assert_eq!(
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&serde),
        "write_change differs from serde_json"
    );
    let back: FsChange = serde_json::from_slice(&out).unwrap_or_else(|e| {
        panic!(
            "change JSON does not read back ({e}): {}",
            String::from_utf8_lossy(&out)
        )
    });
    assert_eq!(&back, c, "change JSON reads back unequal");

    out.clear();
    json::write_change_line(c, ev, &mut out);
    check_json_line(&out);
    let back: FsChange = serde_json::from_slice(&out).expect("log line reads back");
    assert_eq!(&back, c, "log line reads back unequal");

    for p in [Some(&c.path), c.old_path.as_ref(), c.target.as_ref()]
        .into_iter()
        .flatten()
    {
        check_pretty_escape(p);
    }
}

/// Record types target `fschange` builds records of, by the first byte of a line.
const TYPES: &[&str] = &[
    "SYSCALL",
    "CWD",
    "PATH",
    "PATH",
    "PATH",
    "PROCTITLE",
    "EOE",
    "CONFIG_CHANGE",
];

/// Target `fschange`: events built from fuzzed record text through the
/// filesystem-change classification.
///
/// Input: byte 0 = tracker capacity (1..=16, small so eviction happens) and
/// maximum wait (bits 4-5); then lines. Each line's first byte picks the
/// record type (low 3 bits) and whether the serial advances (bit 3) and the
/// second advances (bit 4); the rest of the line is the record's field text.
/// Each line becomes `type=T msg=audit(SEC.MS:SERIAL): TEXT`.
pub fn fschange(data: &[u8]) {
    let Some((&head, body)) = data.split_first() else {
        return;
    };
    let capacity = usize::from(head & 15) + 1;
    let max_wait = u32::from((head >> 4) & 3);
    let mut log = Vec::new();
    let mut serial = 100u64;
    let mut sec = 1_700_000_000u64;
    for line in body.split(|&b| b == b'\n') {
        let Some((&sel, text)) = line.split_first() else {
            continue;
        };
        if sel & 8 != 0 {
            serial += 1;
        }
        if sel & 16 != 0 {
            sec += u64::from(sel >> 5);
        }
        let ty = TYPES[usize::from(sel & 7)];
        log.extend_from_slice(format!("type={ty} msg=audit({sec}.123:{serial}): ").as_bytes());
        log.extend_from_slice(text);
        log.push(b'\n');
    }
    let mut feeder = Feeder::new().expect("Feeder::new");
    feeder.set_eoe_timeout(2);
    let mut events = Vec::new();
    feeder
        .feed(&log, |ev| events.push(ev.to_event()))
        .expect("feed");
    feeder
        .flush(|ev| events.push(ev.to_event()))
        .expect("flush");

    let mut tracker = FsTracker::with_capacity(capacity);
    tracker.set_max_wait(max_wait);
    let mut changes = Vec::new();
    for ev in &events {
        changes.extend(tracker.changes(ev));
        assert!(tracker.len() <= capacity, "tracker over its capacity");
        assert!(tracker.pending() <= capacity, "pending over the capacity");
    }
    changes.extend(tracker.flush());
    assert_eq!(tracker.pending(), 0, "flush left changes pending");
    for c in &changes {
        check_change(c, None);
        // Paths are joined to the cwd and normalized lexically (they stay
        // relative when the event has no absolute cwd). A change whose
        // directory is unknown keeps the name as its record gives it
        // (`FsChange::dir_known`).
        for p in [Some(&c.path), c.old_path.as_ref()].into_iter().flatten() {
            assert!(!p.is_empty(), "empty path");
            if !c.dir_known {
                continue;
            }
            assert!(is_normalized(p), "path not normalized: {c:?}");
            let as_dir = std::path::Path::new(std::ffi::OsStr::from_bytes(p.as_bytes()));
            assert!(c.is_under(as_dir), "not under its own path: {c:?}");
        }
    }
    write_all_formats(&events, false, true);
}

/// A lexically normalized path: `/` alone, or components without `.`, empty
/// ones (`//`, a trailing `/`) or `..`, except a relative path's leading `..`s.
fn is_normalized(p: &[u8]) -> bool {
    if p == b"/" {
        return true;
    }
    let rel = p.first() != Some(&b'/');
    let mut parts = p.split(|&b| b == b'/');
    if !rel {
        parts.next(); // before the leading `/`
    }
    let mut leading = rel;
    parts.all(|c| {
        leading &= c == b"..";
        !c.is_empty() && c != b"." && (c != b".." || leading)
    })
}

/// Target `escape`: `json::write_str` writes the bytes as serde_json writes
/// their escaped text ([`auparse::bytes::escape`]), byte for byte; the JSON
/// parses, and unescaping gives the input back; the one-line form
/// (`escape_text`, `Bytes`' `Display`) has no control character and
/// unescapes to the input; `pretty::write_escaped` is one clean line.
pub fn escape(data: &[u8]) {
    let mut out = Vec::new();
    json::write_str(&mut out, data);
    let serde = serde_json::to_vec(&*auparse::bytes::escape(data)).expect("serializes");
    assert_eq!(
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&serde),
        "write_str differs from serde_json"
    );
    let decoded: String = serde_json::from_slice(&out).unwrap_or_else(|e| {
        panic!(
            "write_str gave invalid JSON ({e}): {}",
            String::from_utf8_lossy(&out)
        )
    });
    assert_eq!(
        auparse::bytes::unescape(&decoded).expect("unescapes"),
        data,
        "JSON string does not decode to the input"
    );
    let back: auparse::Bytes = serde_json::from_slice(&out).expect("Bytes deserializes");
    assert_eq!(&back[..], data);
    assert!(!out.contains(&b'\n'), "raw newline in a JSON string");

    let shown = auparse::Bytes::from(data).to_string();
    assert!(
        !shown.chars().any(char::is_control),
        "control character in Display: {shown:?}"
    );
    assert_eq!(auparse::bytes::unescape(&shown).expect("unescapes"), data);
    check_pretty_escape(data);
}

/// `pretty::write_escaped(s)`: valid UTF-8 with no control character (so no
/// newline, no ESC), and `\ooo` unescaping gives `s` back.
pub fn check_pretty_escape(s: &[u8]) {
    let mut out = Vec::new();
    pretty::write_escaped(&mut out, s);
    let text = std::str::from_utf8(&out).expect("write_escaped output is UTF-8");
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        panic!(
            "control character U+{:04X} in escaped output {text:?}",
            c as u32
        );
    }
    assert_eq!(
        unescape_octal(&out),
        s,
        "escaped output does not unescape to the input"
    );
}

/// Reverses `\ooo` escapes.
pub fn unescape_octal(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' && i + 4 <= s.len() {
            let digits = &s[i + 1..i + 4];
            if digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                let v = digits.iter().fold(0u32, |a, d| a * 8 + u32::from(d - b'0'));
                out.push(v as u8);
                i += 4;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}
