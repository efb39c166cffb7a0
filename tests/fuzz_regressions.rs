//! Every crash input the fuzz targets found (`tests/fuzz-regressions/TARGET/*`),
//! replayed through the targets' own code (`fuzz/src/lib.rs`, included here)
//! without libFuzzer, plus the seeds of the escaping target.

#[path = "../fuzz/src/lib.rs"]
mod harness;

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions")
        .join(target);
    // A target without crash inputs has no folder (git keeps no empty ones).
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!(
            "{target}: no crash inputs kept ({} is absent)",
            dir.display()
        );
        return 0;
    };
    let mut files: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for f in &files {
        let data = std::fs::read(f).unwrap();
        eprintln!("{target}: {} ({} bytes)", f.display(), data.len());
        run(&data);
    }
    files.len()
}

#[test]
fn feeder_formats_regressions() {
    replay("feeder_formats", harness::feeder_formats);
}

#[test]
fn grouping_regressions() {
    replay("grouping", harness::grouping);
}

#[test]
fn fschange_regressions() {
    replay("fschange", harness::fschange);
}

#[test]
fn escape_regressions() {
    replay("escape", harness::escape);
}

#[test]
fn escape_examples() {
    for s in [
        &b""[..],
        b"new\nline",
        b"\x1b[31mred\x1b[0m",
        b"caf\xe9",
        "\u{9b}2J".as_bytes(),
        "\u{85}".as_bytes(),
        b"back\\slash \\101",
        b"\x00\x7f",
    ] {
        harness::escape(s);
    }
    let mut out = Vec::new();
    auparse::format::pretty::write_escaped(&mut out, "a\u{9b}b\u{e9}".as_bytes());
    assert_eq!(out, "a\\302\\233b\u{e9}".as_bytes());
}

#[test]
fn hostile_corpus_through_the_targets() {
    // The hostile corpus with a few chunkings, as the feeder target sees it.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in rd {
        let p = e.unwrap().path();
        let data = std::fs::read(&p).unwrap();
        for head in [
            [0u8, 255, 255, 255, 255],
            [1, 1, 37, 200, 7],
            [33, 64, 3, 9, 128],
        ] {
            let mut input = head.to_vec();
            input.extend_from_slice(&data);
            harness::feeder_formats(&input);
        }
    }
}
