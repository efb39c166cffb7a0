//! cargo fuzz target `shortcuts`: every answer the views and owned events
//! give without asking libauparse (cached types, UNCLASSIFIED values, a
//! record's own ENRICHED interpretations, the interpretation cache) must be
//! libauparse's own answer for the same field, on arbitrary input.
//!
//! Input: byte 0 = flags (bits 0-1: escape mode; bit 2: ausearch grouping),
//! the rest = the log bytes.
#![no_main]

use auparse::{EscapeMode, EventRef, Feeder, Grouping};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&flags, log)) = data.split_first() else {
        return;
    };
    let mode = match flags & 3 {
        0 => EscapeMode::Raw,
        1 => EscapeMode::Tty,
        2 => EscapeMode::Shell,
        _ => EscapeMode::ShellQuote,
    };
    let mut feeder = Feeder::new().expect("Feeder::new");
    feeder.set_escape_mode(mode).expect("set_escape_mode");
    if flags & 4 != 0 {
        feeder.set_grouping(Grouping::Ausearch);
    }
    let mut bad = Vec::new();
    let mut check = |ev: &mut EventRef<'_>| bad.extend(auparse::oracle::mismatches(ev));
    feeder.feed(log, &mut check).expect("feed");
    feeder.flush(&mut check).expect("flush");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
});
