//! The examples, run as a user runs them, on input that tries to break them.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `target/debug/examples/NAME`, built now (a test run filtered to this
/// file does not build the examples, and a stale one proves nothing).
fn example(name: &str) -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--example", name])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(status.success(), "cargo build --example {name}");
    let exe = std::env::current_exe().unwrap();
    // target/debug/deps/examples-HASH -> target/debug/examples/NAME
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name)
}

/// `dump_normalized` prints one line per event, whatever the names hold
/// (newlines, escape sequences, invalid UTF-8, backslashes): as many lines
/// as the library reads events, each unescaping to the event's values.
#[test]
fn dump_normalized_prints_one_line_per_event() {
    let bin = example("dump_normalized");
    let hostile = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let mut checked = 0;
    for name in [
        "escape-sequences-in-names.log",
        "stream-with-noise.stream",
        "invalid-hex.log",
        "null-values.log",
    ] {
        let file = hostile.join(name);
        let out = Command::new(&bin).arg(&file).output().unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let events: Vec<auparse::Event> = auparse::read_events(std::fs::File::open(&file).unwrap())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let text = String::from_utf8(out.stdout).expect("UTF-8 output");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), events.len(), "{name}: {text}");
        for (line, ev) in lines.iter().zip(&events) {
            assert!(!line.chars().any(char::is_control), "{name}: {line:?}");
            // obj=WORD unescapes to the normalized object.
            let n = ev.normalized.clone().unwrap_or_default();
            let word = line
                .split(' ')
                .find_map(|w| w.strip_prefix("obj="))
                .unwrap_or_else(|| panic!("{name}: no obj= in {line:?}"));
            if let Some(o) = &n.object.primary {
                assert_eq!(
                    auparse::bytes::unescape(word).unwrap(),
                    &o.value[..],
                    "{line}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
}
