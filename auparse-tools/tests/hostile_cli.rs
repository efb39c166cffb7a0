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

/// Lines of ausearch-style text (text, csv): newline-terminated, no byte
/// below 0x20 but the newline (ausearch's TTY escaping: `\ooo`). Returns
/// the number of lines.
fn one_line_each(name: &str, what: &str, out: &[u8]) -> usize {
    assert!(
        out.is_empty() || out.ends_with(b"\n"),
        "{name} {what}: last line unterminated"
    );
    for line in out.split(|&b| b == b'\n') {
        if let Some(b) = line.iter().find(|&&b| b < 0x20) {
            panic!(
                "{name} {what}: raw control byte {b:#04x} in {:?}",
                String::from_utf8_lossy(line)
            );
        }
    }
    out.iter().filter(|&&b| b == b'\n').count()
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
                let (code, out, err) = auparse(&[sub, "--grouping", grouping, file], None);
                assert_eq!(code, 0, "{name}: {sub} --grouping {grouping}: {err}");
                if sub != "pretty" {
                    // One line per event (csv: and its header), whatever
                    // the names hold.
                    let header = usize::from(sub == "csv" && want > 0);
                    assert_eq!(
                        one_line_each(&name, sub, &out),
                        want + header,
                        "{name}: {sub} --grouping {grouping}: one line per event"
                    );
                }
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
        for line in std::str::from_utf8(&json_out).unwrap().lines() {
            let _: auparse::FsChange = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{name}: a log line is not a change ({e}): {line}"));
        }
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

/// Values the kernel did not have (an unquoted `(null)`) are JSON `null`
/// in every JSON output, never the string `(null)` or a path ending in it;
/// a real file named `(null)` (quoted in its record) keeps its name.
#[test]
fn kernel_null_values_are_json_null() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/hostile/null-values.log");
    let file = file.to_str().unwrap();
    let (code, out, err) = auparse(&["json", file], None);
    assert_eq!(code, 0, "{err}");
    let events = json_lines("null-values.log", &out);
    assert_eq!(events.len(), 2);
    let sys = &events[0]["records"][0];
    for k in ["comm", "exe", "subj", "key"] {
        assert!(sys[k].is_null(), "SYSCALL {k}: {}", sys[k]);
    }
    assert!(events[0]["records"][1]["cwd"].is_null());
    // PATH item 0: name=(null), the kernel had no name.
    assert!(
        events[0]["records"][2]["name"].is_null(),
        "{}",
        events[0]["records"][2]
    );
    assert!(events[0]["records"][2]["obj"].is_null());
    // PATH item 1: name="(null)", a file really named so.
    assert_eq!(
        events[0]["records"][3]["name"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next(),
        Some("(null)")
    );
    let login = &events[1]["records"][0];
    for k in ["subj", "acct", "exe", "hostname", "addr", "terminal"] {
        assert!(login[k].is_null(), "USER_LOGIN {k}: {}", login[k]);
    }
    for ev in &events {
        for (k, v) in ev["normalized"].as_object().unwrap() {
            assert_ne!(v.as_str(), Some("(null)"), "normalized {k}");
        }
    }
    // The plugin's line: exe and comm are null, not "(null)".
    let (code, out, err) = auparse(
        &["fsaction", "--include-failed", "--format", "json", file],
        None,
    );
    assert_eq!(code, 0, "{err}");
    for c in json_lines("null-values.log", &out) {
        assert!(c["exe"].is_null() && c["comm"].is_null(), "{c}");
    }
}

/// A small deterministic generator (xorshift64*), so a failure names a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Bytes that break naive writers: controls, quote, backslash, `\xHH`
/// look-alikes, invalid UTF-8, C1 and bidi characters.
const NASTY: &[&[u8]] = &[
    b"\x08",
    b"\n",
    b"\r",
    b"\x1b[2J",
    b"\x00",
    b"\x7f",
    b"\"",
    b"\\",
    b"'",
    b"\\xe9",
    b"\xe9",
    b"\xff\xfe",
    "\u{9b}".as_bytes(),
    "\u{202e}".as_bytes(),
    b",",
    b"\t",
    b"}\n{",
];

/// One mutation of a real log: a hex-encoded nasty name in place of a
/// quoted value, a nasty ENRICHED `SYSCALL=` entry, or nasty bytes
/// dropped into a random place.
fn mutate(log: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = log.to_vec();
    for _ in 0..1 + rng.below(4) {
        let nasty: Vec<u8> = (0..1 + rng.below(3))
            .flat_map(|_| NASTY[rng.below(NASTY.len())].to_vec())
            .collect();
        match rng.below(3) {
            0 => {
                // name="x" -> name=HEX of bytes with the nasty ones inside.
                let quotes: Vec<usize> = out
                    .windows(2)
                    .enumerate()
                    .filter(|(_, w)| w[0] == b'=' && w[1] == b'"')
                    .map(|(i, _)| i + 1)
                    .collect();
                if quotes.is_empty() {
                    continue;
                }
                let at = quotes[rng.below(quotes.len())];
                let Some(len) = out[at + 1..].iter().position(|&b| b == b'"') else {
                    continue;
                };
                let mut value = out[at + 1..at + 1 + len].to_vec();
                value.extend_from_slice(&nasty);
                let hex: String = value.iter().map(|b| format!("{b:02X}")).collect();
                out.splice(at..at + len + 2, hex.into_bytes());
            }
            1 => {
                // ENRICHED: libauparse takes the syscall's name from the
                // record's `SYSCALL=` entry (after 0x1d); give a SYSCALL
                // record one with a nasty name.
                let starts: Vec<usize> = std::iter::once(0)
                    .chain(
                        out.iter()
                            .enumerate()
                            .filter(|(_, &b)| b == b'\n')
                            .map(|(i, _)| i + 1),
                    )
                    .filter(|&i| out[i..].starts_with(b"type=SYSCALL "))
                    .collect();
                if starts.is_empty() {
                    continue;
                }
                let at = starts[rng.below(starts.len())];
                let end = out[at..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(out.len(), |e| at + e);
                let line = &out[at..end];
                let mut entry = b"\x1dARCH=x86_64 SYSCALL=open".to_vec();
                entry.extend_from_slice(&nasty);
                entry.extend_from_slice(b"at");
                let cut = line.iter().position(|&b| b == 0x1d).map_or(end, |p| at + p);
                out.splice(cut..end, entry);
            }
            _ => {
                let at = rng.below(out.len().max(1));
                out.splice(at..at, nasty);
            }
        }
    }
    out
}

/// Real recorded logs, mutated (names with control characters, quotes,
/// backslashes and invalid UTF-8; ENRICHED syscall names; bytes dropped
/// anywhere): every line of every output stays valid. JSON parses (and the
/// `event` schema reads back into the library's own events); text and csv
/// are one escaped line per event; pretty and the fsaction text log have no
/// raw control character; the fsaction JSON log reads back into changes.
#[test]
fn mutated_real_logs_keep_every_output_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    let mut logs: Vec<PathBuf> = ["live", "enriched"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    logs.sort();
    let dir = std::env::temp_dir().join(format!("auparse-mutated-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let (mut files, mut lines) = (0, 0);
    for (i, log) in logs.iter().enumerate() {
        // Every log once, the two richest a few more times.
        let rounds = if log.ends_with("all.log") || log.ends_with("generated-150.log") {
            4
        } else {
            1
        };
        for round in 0..rounds {
            let data = mutate(&std::fs::read(log).unwrap(), &mut rng);
            let name = format!("{}#{round}", log.file_name().unwrap().to_string_lossy());
            let path = dir.join(format!("m{i}-{round}.log"));
            std::fs::write(&path, &data).unwrap();
            let file = path.to_str().unwrap();
            let want = auparse::read_events_with(
                &data[..],
                auparse::ReadOptions::new().grouping(auparse::Grouping::Ausearch),
            )
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();

            let (code, out, err) = auparse(&["json", file], None);
            assert_eq!(code, 0, "{name}: {err}");
            assert_eq!(json_lines(&name, &out).len(), want.len(), "{name}: json");
            let (code, out, err) = auparse(&["json", "--schema", "event", file], None);
            assert_eq!(code, 0, "{name}: {err}");
            let text = std::str::from_utf8(&out).expect("JSON is UTF-8");
            assert_eq!(
                text.lines().count(),
                want.len(),
                "{name}: json --schema event"
            );
            for (line, w) in text.lines().zip(&want) {
                let got: auparse::Event = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{name}: does not read back ({e}): {line}"));
                assert_eq!(&got, w, "{name}: event {} reads back unequal", w.serial);
            }
            for sub in ["text", "csv"] {
                let (code, out, err) = auparse(&[sub, file], None);
                assert_eq!(code, 0, "{name}: {sub}: {err}");
                let header = usize::from(sub == "csv" && !want.is_empty());
                assert_eq!(
                    one_line_each(&name, sub, &out),
                    want.len() + header,
                    "{name}: {sub}"
                );
            }
            let (code, out, err) = auparse(&["pretty", "--color", "never", file], None);
            assert_eq!(code, 0, "{name}: pretty: {err}");
            clean_lines(&name, "pretty", &out);
            let (code, out, err) = auparse(&["fsaction", "--include-failed", file], None);
            assert_eq!(code, 0, "{name}: fsaction: {err}");
            let n = clean_lines(&name, "fsaction", &out).len();
            let (code, out, err) = auparse(
                &["fsaction", "--include-failed", "--format", "json", file],
                None,
            );
            assert_eq!(code, 0, "{name}: fsaction json: {err}");
            let text = std::str::from_utf8(&out).expect("JSON is UTF-8");
            assert_eq!(text.lines().count(), n, "{name}: fsaction text and json");
            for line in text.lines() {
                let _: auparse::FsChange = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{name}: not a change ({e}): {line}"));
            }
            files += 1;
            lines += want.len() * 5 + 2 * n;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("{files} mutated logs, {lines} output lines checked");
    assert!(files >= 40, "{files}");
}
