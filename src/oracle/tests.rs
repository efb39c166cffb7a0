//! The views, owned events and normalized values against libauparse itself,
//! field by field, on every log in the repository's fixtures and, when
//! present, ../shared/corpus.

use super::{check_event, check_normalized, check_owned, Tally};
use crate::{CacheSizes, EscapeMode, Feeder};
use std::path::{Path, PathBuf};

fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in [
        root.join("tests/fixtures/live"),
        // ../shared/tools/gen_audit_log.py --events 150 --seed 7
        // --enriched --unknown-uid-frac 0.2: every record ENRICHED, with
        // names that differ from this machine's user database; and
        // own-names.log, written by hand: interpretations that name
        // UNCLASSIFIED fields, odd spacing, a SADDR list, non-ASCII names.
        root.join("tests/fixtures/enriched"),
        root.join("tests/hostile"),
        root.join("../shared/corpus"),
    ] {
        walk(&dir, &mut out);
    }
    out.sort();
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "log" || x == "stream") {
            out.push(p);
        }
    }
}

/// Feeds every input in every escape mode through a Feeder with caches of
/// these sizes, calling `check` on each event with a label; returns the
/// number of files.
fn each_event_with(
    sizes: CacheSizes,
    mut check: impl FnMut(&mut crate::EventRef<'_>, &str),
) -> usize {
    let files = inputs();
    assert!(files.len() >= 30, "fixtures missing: {files:?}");
    for mode in [
        EscapeMode::Raw,
        EscapeMode::Tty,
        EscapeMode::Shell,
        EscapeMode::ShellQuote,
    ] {
        for path in &files {
            let data = std::fs::read(path).unwrap();
            let what = format!("{} ({mode:?})", path.display());
            let mut feeder = Feeder::new().unwrap();
            feeder.set_escape_mode(mode).unwrap();
            feeder.set_cache_sizes(sizes);
            let mut on_event = |ev: &mut crate::EventRef<'_>| check(ev, &what);
            feeder.feed(&data, &mut on_event).unwrap();
            feeder.flush(&mut on_event).unwrap();
        }
    }
    files.len()
}

/// [`each_event_with`] the default cache sizes.
fn each_event(check: impl FnMut(&mut crate::EventRef<'_>, &str)) -> usize {
    each_event_with(CacheSizes::default(), check)
}

fn assert_none_differ(t: &Tally) {
    assert!(
        t.mismatches.is_empty(),
        "{} of {} fields differ:\n{}",
        t.mismatches.len(),
        t.fields,
        t.mismatches[..t.mismatches.len().min(20)].join("\n")
    );
}

#[test]
fn owned_events_interpret_like_libauparse_on_every_field() {
    let mut t = Tally::default();
    let files = each_event(|ev, what| {
        check_owned(ev, &mut t, what);
        check_normalized(ev, &mut t, what);
    });
    assert_none_differ(&t);
    let hits = t.cache_hits;
    assert!(
        hits * 10 > t.fields,
        "the cache answered {hits} of {}",
        t.fields
    );
    eprintln!(
        "{} owned fields in {files} files x 4 escape modes ({hits} from the cache): all as libauparse",
        t.fields,
    );
}

#[test]
fn views_answer_like_libauparse_on_every_field() {
    let mut t = Tally::default();
    let files = each_event(|ev, what| {
        check_event(ev, &mut t, what);
        // Normalizing moves libauparse's cursor and reloads its
        // interpretation list: walk again after it.
        let _ = ev.normalize();
        check_event(ev, &mut t, what);
    });
    assert_none_differ(&t);
    if crate::interp_rule::ENABLED {
        // The shortcut was taken on a good share of the fields.
        assert!(
            t.raw_answers * 5 > t.fields,
            "{} of {}",
            t.raw_answers,
            t.fields
        );
    }
    eprintln!(
        "{} fields in {files} files x 4 escape modes: all as libauparse answers",
        t.fields
    );
}

/// Caches of the smallest sizes, emptied on almost every new entry: every
/// answer still libauparse's (the eviction paths).
#[test]
fn tiny_caches_answer_like_libauparse() {
    let mut t = Tally::default();
    let tiny = CacheSizes::new().field_types(1).interpretations(1);
    let files = each_event_with(tiny, |ev, what| {
        check_event(ev, &mut t, what);
        check_owned(ev, &mut t, what);
        check_normalized(ev, &mut t, what);
    });
    assert_none_differ(&t);
    eprintln!(
        "{} fields in {files} files x 4 escape modes, with tiny caches: all as libauparse",
        t.fields
    );
}

/// Crash inputs of the `shortcuts` fuzz target (tests/fuzz-regressions/
/// shortcuts/), replayed as the target does (byte 0: bits 0-1 escape mode,
/// bit 2 ausearch grouping; the rest: the log).
#[test]
fn shortcuts_fuzz_regressions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions/shortcuts");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no inputs in {}", dir.display());
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let Some((&flags, log)) = data.split_first() else {
            continue;
        };
        let mode = [
            EscapeMode::Raw,
            EscapeMode::Tty,
            EscapeMode::Shell,
            EscapeMode::ShellQuote,
        ][usize::from(flags & 3)];
        let mut feeder = Feeder::new().unwrap();
        feeder.set_escape_mode(mode).unwrap();
        if flags & 4 != 0 {
            feeder.set_grouping(crate::Grouping::Ausearch);
        }
        let mut bad = Vec::new();
        let mut check = |ev: &mut crate::EventRef<'_>| bad.extend(super::mismatches(ev));
        feeder.feed(log, &mut check).unwrap();
        feeder.flush(&mut check).unwrap();
        assert!(bad.is_empty(), "{}:\n{}", path.display(), bad.join("\n"));
    }
}
