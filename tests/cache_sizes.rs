//! The caches a Feeder or Parser keeps ([`CacheSizes`]) change no answer:
//! over every fixture and corpus input, in every escape mode, the owned
//! events and every field view's type, interpretation and realpath are the
//! same with the default caches, with none (every answer from libauparse)
//! and with caches so small that they start over on almost every entry.

mod common;

use auparse::{CacheSizes, EscapeMode, Event, Feeder, FieldType, Parser, ReadOptions};
use std::path::{Path, PathBuf};

/// The fixtures' logs and streams, and the corpus inputs when present.
fn inputs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    common::walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
        &mut out,
    );
    out.retain(|p| p.extension().is_some_and(|x| x == "log" || x == "stream"));
    if let Some(dir) = common::corpus_or_skip("cache_sizes (corpus part)") {
        out.extend(common::corpus_inputs(&dir));
    }
    out.sort();
    assert!(out.len() >= 30, "fixtures missing: {out:?}");
    if common::quick() {
        // Under valgrind (.ci/valgrind): every sixth file.
        out = out.into_iter().step_by(6).collect();
    }
    out
}

/// What one field view answers.
type ViewField = (FieldType, Vec<u8>, Option<Vec<u8>>);

/// Each event's fields through the views, then the event owned.
fn run(data: &[u8], mode: EscapeMode, sizes: CacheSizes) -> (Vec<ViewField>, Vec<Event>) {
    let mut feeder = Feeder::new().unwrap();
    feeder.set_escape_mode(mode).unwrap();
    feeder.set_cache_sizes(sizes);
    assert_eq!(feeder.cache_sizes(), sizes);
    let mut views = Vec::new();
    let mut events = Vec::new();
    let mut on_event = |ev: &mut auparse::EventRef<'_>| {
        let mut recs = ev.records();
        while let Some(mut rec) = recs.next() {
            let mut fields = rec.fields();
            while let Some(f) = fields.next() {
                views.push((
                    f.field_type(),
                    f.interpreted().to_vec(),
                    f.realpath().map(<[u8]>::to_vec),
                ));
            }
        }
        events.push(ev.to_event());
    };
    feeder.feed(data, &mut on_event).unwrap();
    feeder.flush(&mut on_event).unwrap();
    (views, events)
}

#[test]
fn cache_sizes_change_no_answer() {
    let tiny = CacheSizes::new().field_types(1).interpretations(1);
    let small = CacheSizes::new().field_types(5).interpretations(3);
    let (mut files, mut fields) = (0, 0);
    for path in inputs() {
        let data = std::fs::read(&path).unwrap();
        for mode in [
            EscapeMode::Raw,
            EscapeMode::Tty,
            EscapeMode::Shell,
            EscapeMode::ShellQuote,
        ] {
            let (views, events) = run(&data, mode, CacheSizes::default());
            for sizes in [CacheSizes::none(), tiny, small] {
                let (v, e) = run(&data, mode, sizes);
                assert!(
                    v == views,
                    "{} ({mode:?}): field views differ with {sizes:?}",
                    path.display()
                );
                assert_eq!(e.len(), events.len(), "{}", path.display());
                for (a, b) in e.iter().zip(&events) {
                    assert_eq!(a, b, "{} ({mode:?}) with {sizes:?}", path.display());
                }
            }
            fields += views.len();
        }
        files += 1;
    }
    eprintln!("{files} files x 4 escape modes, {fields} fields: the same with any cache sizes");
}

/// The same through a Parser and through `read_events_with`.
#[test]
fn parser_and_reader_take_cache_sizes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/live");
    let mut files = Vec::new();
    common::walk(&dir, &mut files);
    // (utimes-path.log is empty: its scenario logged no event.)
    files.retain(|p| p.extension().is_some_and(|x| x == "log") && p.metadata().unwrap().len() > 0);
    files.sort();
    assert!(!files.is_empty());
    for path in &files {
        let owned = |sizes: CacheSizes| -> Vec<Event> {
            let mut p = Parser::from_file(path).unwrap();
            p.set_cache_sizes(sizes);
            assert_eq!(p.cache_sizes(), sizes);
            p.events().collect::<Result<_, _>>().unwrap()
        };
        let want = owned(CacheSizes::default());
        assert!(!want.is_empty(), "{}", path.display());
        assert_eq!(owned(CacheSizes::none()), want, "{}", path.display());
        let read = |sizes| -> Vec<Event> {
            let opts = ReadOptions::new().cache_sizes(sizes);
            let f = std::fs::File::open(path).unwrap();
            auparse::read_events_with(f, opts)
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let want = read(CacheSizes::default());
        assert_eq!(read(CacheSizes::none()), want, "{}", path.display());
        assert_eq!(
            read(CacheSizes::new().field_types(1).interpretations(1)),
            want
        );
    }
}

/// A Feeder whose escape mode changes between inputs keeps its caches:
/// what it cached in one mode is never an answer in another.
#[test]
fn escape_mode_changes_keep_caches_apart() {
    let modes = [
        EscapeMode::Raw,
        EscapeMode::Tty,
        EscapeMode::Shell,
        EscapeMode::ShellQuote,
    ];
    for path in inputs() {
        let data = std::fs::read(&path).unwrap();
        let mut feeder = Feeder::new().unwrap();
        for mode in modes.into_iter().chain(modes) {
            feeder.set_escape_mode(mode).unwrap();
            let mut got = Vec::new();
            feeder.feed(&data, |ev| got.push(ev.to_event())).unwrap();
            feeder.flush(|ev| got.push(ev.to_event())).unwrap();
            let (_, want) = run(&data, mode, CacheSizes::none());
            assert!(got == want, "{} ({mode:?})", path.display());
        }
    }
}
