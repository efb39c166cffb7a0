//! libauparse's normalizer starts its field searches from each record's
//! field cursor. `EventRef::normalize` must give what it gives on an event
//! nobody has read, whatever the views did to the cursors before: a full
//! walk, a walk cut short, field lookups by name, an earlier normalization.

mod common;

use auparse::{Feeder, Normalized};
use std::path::{Path, PathBuf};

fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    common::walk(&root.join("tests/fixtures/live"), &mut out);
    common::walk(&root.join("tests/fixtures/enriched"), &mut out);
    out.retain(|p| p.extension().is_some_and(|e| e == "log"));
    if let Some(dir) = common::corpus_dir() {
        out.extend(common::corpus_inputs(&dir));
    }
    out.sort();
    out
}

/// What is done to an event before it is normalized.
#[derive(Clone, Copy, Debug)]
enum Before {
    Nothing,
    FullWalk,
    /// Every record's fields, the first `n` of them.
    CutWalk(usize),
    /// A field looked up by name in every record.
    Lookup(&'static str),
    /// One record moved to by number and read to its end, its field cursor
    /// forgotten instead of dropped (so it is not put back).
    LastRecordWalked,
    /// Every record read to its end, the field cursors forgotten.
    AllWalkedForgotten,
    Normalized,
}

fn normalize_all(data: &[u8], before: Before) -> Vec<Option<Normalized>> {
    let mut out = Vec::new();
    let mut f = Feeder::new().unwrap();
    let mut on_event = |ev: &mut auparse::EventRef<'_>| {
        match before {
            Before::Nothing => {}
            Before::FullWalk | Before::CutWalk(_) => {
                let limit = match before {
                    Before::CutWalk(n) => n,
                    _ => usize::MAX,
                };
                let mut recs = ev.records();
                while let Some(mut rec) = recs.next() {
                    let mut fields = rec.fields();
                    let mut n = 0;
                    while n < limit && fields.next().is_some() {
                        n += 1;
                    }
                }
            }
            Before::Lookup(name) => {
                let mut recs = ev.records();
                while let Some(mut rec) = recs.next() {
                    let _ = rec.field(name);
                }
            }
            Before::LastRecordWalked => {
                let last = ev.num_records().saturating_sub(1);
                if let Some(mut rec) = ev.record(last) {
                    let mut fields = rec.fields();
                    while fields.next().is_some() {}
                    std::mem::forget(fields);
                }
            }
            Before::AllWalkedForgotten => {
                let mut recs = ev.records();
                while let Some(mut rec) = recs.next() {
                    let mut fields = rec.fields();
                    while fields.next().is_some() {}
                    std::mem::forget(fields);
                }
            }
            Before::Normalized => {
                let _ = ev.normalize();
            }
        }
        out.push(ev.normalize().ok());
    };
    f.feed(data, &mut on_event).unwrap();
    f.flush(&mut on_event).unwrap();
    out
}

#[test]
fn normalizing_after_any_reading_is_normalizing_a_fresh_event() {
    let befores = [
        Before::FullWalk,
        Before::CutWalk(1),
        Before::CutWalk(2),
        Before::CutWalk(5),
        Before::Lookup("pid"),
        Before::Lookup("exit"),
        Before::Lookup("name"),
        Before::Lookup("no-such-field"),
        Before::LastRecordWalked,
        Before::AllWalkedForgotten,
        Before::Normalized,
    ];
    let mut events = 0;
    for path in inputs() {
        let data = std::fs::read(&path).unwrap();
        let fresh = normalize_all(&data, Before::Nothing);
        events += fresh.len();
        for before in befores {
            let got = normalize_all(&data, before);
            assert_eq!(got.len(), fresh.len(), "{} {before:?}", path.display());
            for (i, (a, b)) in fresh.iter().zip(&got).enumerate() {
                assert_eq!(a, b, "{} event {i} after {before:?}", path.display());
            }
        }
    }
    assert!(events > 100, "only {events} events read");
}
