//! The hostile-input corpus (`tests/hostile/`, see tests/hostile.rs) through
//! the commands: every subcommand exits 0 on every file; `json` gives valid
//! JSON lines, as many as the library gives events; `fsaction` gives one
//! escaped line per change (no raw control character), the same changes as
//! its JSON form, and the `auparse-fsaction` plugin binary the same lines.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/hostile");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log" || e == "stream"))
        .collect();
    files.sort();
    assert!(files.len() >= 16, "hostile corpus: {} files", files.len());
    files
}

/// Runs `bin` with `args`, `stdin` on standard input; returns (exit code, stdout, stderr).
fn run(bin: &str, args: &[&str], stdin: Option<&[u8]>) -> (i32, Vec<u8>, String) {
    let mut child = Command::new(bin)
        .args(args)
        .env("TZ", "UTC")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(data) = stdin {
        let mut w = child.stdin.take().unwrap();
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = w.write_all(&data);
        });
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn auparse(args: &[&str], stdin: Option<&[u8]>) -> (i32, Vec<u8>, String) {
    run(env!("CARGO_BIN_EXE_auparse"), args, stdin)
}

/// Events the library gives for `data` (libauparse grouping, as `json`).
fn library_events(data: &[u8]) -> Vec<auparse::Event> {
    let mut feeder = auparse::Feeder::new().unwrap();
    let mut events = Vec::new();
    feeder.feed(data, |ev| events.push(ev.to_event())).unwrap();
    feeder.flush(|ev| events.push(ev.to_event())).unwrap();
    events
}

fn json_lines(name: &str, out: &[u8]) -> Vec<serde_json::Value> {
    let text = std::str::from_utf8(out).unwrap_or_else(|e| panic!("{name}: JSON not UTF-8: {e}"));
    text.lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: invalid JSON line {l}: {e}"))
        })
        .collect()
}

/// Lines of text output: UTF-8, newline-terminated, no control character.
fn clean_lines(name: &str, what: &str, out: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(out).unwrap_or_else(|e| panic!("{name} {what}: not UTF-8: {e}"));
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "{name} {what}: last line unterminated"
    );
    text.lines()
        .map(|l| {
            if let Some(c) = l.chars().find(|c| c.is_control()) {
                panic!(
                    "{name} {what}: raw control character U+{:04X} in {l:?}",
                    c as u32
                );
            }
            l.to_string()
        })
        .collect()
}

#[test]
fn every_subcommand_on_every_hostile_file() {
    for path in corpus() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let file = path.to_str().unwrap();
        let data = std::fs::read(&path).unwrap();
        let want = library_events(&data).len();

        for grouping in ["libauparse", "ausearch"] {
            let (code, out, err) = auparse(&["json", "--grouping", grouping, file], None);
            assert_eq!(code, 0, "{name}: json --grouping {grouping}: {err}");
            let lines = json_lines(&name, &out);
            assert_eq!(
                lines.len(),
                want,
                "{name}: json --grouping {grouping}: one line per event"
            );
        }
        // Standard input, as the plugin and pipes give it.
        let (code, out, err) = auparse(&["json"], Some(&data));
        assert_eq!(code, 0, "{name}: json from stdin: {err}");
        assert_eq!(
            json_lines(&name, &out).len(),
            want,
            "{name}: json from stdin"
        );

        for sub in ["pretty", "text", "csv"] {
            for grouping in ["libauparse", "ausearch"] {
                let (code, _out, err) = auparse(&[sub, "--grouping", grouping, file], None);
                assert_eq!(code, 0, "{name}: {sub} --grouping {grouping}: {err}");
            }
        }
        let (code, out, err) = auparse(&["pretty", "--color", "never", file], None);
        assert_eq!(code, 0, "{name}: pretty: {err}");
        // Pretty output: names are escaped; only the layout's own lines.
        clean_lines(&name, "pretty", &out);

        let (code, text_out, err) = auparse(&["fsaction", "--include-failed", file], None);
        assert_eq!(code, 0, "{name}: fsaction: {err}");
        let text_lines = clean_lines(&name, "fsaction", &text_out);
        let (code, json_out, err) = auparse(
            &["fsaction", "--include-failed", "--format", "json", file],
            None,
        );
        assert_eq!(code, 0, "{name}: fsaction --format json: {err}");
        let changes = json_lines(&name, &json_out);
        assert_eq!(
            text_lines.len(),
            changes.len(),
            "{name}: fsaction: one text line per change"
        );
        for (line, c) in text_lines.iter().zip(&changes) {
            let action = c["action"].as_str().unwrap();
            assert!(
                line.starts_with(action),
                "{name}: fsaction line {line:?} is not the change {c}"
            );
        }
        // The plugin binary, on standard input, writing to standard output.
        let (code, plugin_out, err) =
            run(env!("CARGO_BIN_EXE_auparse-fsaction"), &["-"], Some(&data));
        assert_eq!(code, 0, "{name}: auparse-fsaction: {err}");
        let (_, default_out, _) = auparse(&["fsaction", file], None);
        assert_eq!(
            plugin_out, default_out,
            "{name}: the plugin's lines differ from `auparse fsaction`"
        );
        eprintln!("{name}: {want} events, {} changes", text_lines.len());
    }
}

#[test]
fn names_with_escape_sequences_are_one_escaped_line_each() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/hostile/escape-sequences-in-names.log");
    let (code, out, err) = auparse(&["fsaction", file.to_str().unwrap()], None);
    assert_eq!(code, 0, "{err}");
    let lines = clean_lines("escape-sequences-in-names.log", "fsaction", &out);
    // Twelve names, twelve created files; none forges a line of its own.
    assert_eq!(lines.len(), 12, "{lines:#?}");
    for l in &lines {
        assert!(l.starts_with("created-file "), "{l:?}");
    }
    assert!(
        lines[0].contains("\\033[2J\\033[31mred\\033[0m.txt"),
        "{}",
        lines[0]
    );
    assert!(lines[1].contains("new\\012line.txt"), "{}", lines[1]);
    assert!(lines[4].contains("c1\\302\\2332Jcsi"), "{}", lines[4]);
    // JSON: the exact name back.
    let (code, out, err) = auparse(
        &["fsaction", "--format", "json", file.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let changes = json_lines("escape-sequences-in-names.log", &out);
    assert_eq!(changes.len(), 12);
    assert_eq!(
        changes[2]["path"].as_str().unwrap(),
        "/tmp/\u{1b}[1mcwd\n/forged\ncreated-file                  : /etc/passwd"
    );
}
