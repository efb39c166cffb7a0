//! `auparse text` and `auparse csv` against `ausearch -if FILE --format
//! text|csv` on every corpus file and fixture, byte for byte (the library's
//! formatters are tested the same way in tests/ausearch_compat.rs; this runs
//! the command itself: reading, grouping, escaping, output).

use std::path::{Path, PathBuf};
use std::process::Command;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut all = Vec::new();
    let corpus = root.join("../shared/corpus");
    if corpus.is_dir() {
        walk(&corpus, &mut all);
    } else {
        eprintln!("note: ../shared/corpus is not present: comparing the fixtures only");
    }
    walk(&root.join("tests/fixtures"), &mut all);
    all.retain(|p| {
        let s = p.to_string_lossy();
        let name = p.file_name().unwrap().to_string_lossy();
        !s.contains("/expected/")
            && !name.starts_with("README")
            && (name.ends_with(".log")
                || name.ends_with(".stream")
                || (name.ends_with(".txt")
                    && (s.contains("/laurel/") || s.contains("/linux-audit-parser/"))))
    });
    all.sort();
    all
}

fn run(cmd: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(cmd)
        .args(args)
        .env("TZ", "UTC")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap();
    out.stdout
}

#[test]
fn text_and_csv_commands_match_ausearch() {
    if Command::new("ausearch").arg("-v").output().is_err() {
        eprintln!("skipped: ausearch is not installed (apt-get install auditd)");
        return;
    }
    let tmp = std::env::temp_dir().join(format!("auparse-cli-cmp-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let (mut same, mut skipped) = (0, 0);
    let mut failures = Vec::new();
    for path in inputs() {
        let data = std::fs::read(&path).unwrap();
        // ausearch discards whole AppArmor AVC events (its AVC parser expects
        // SELinux text); ours prints them. Those files are not comparable.
        if data.windows(9).any(|w| w == b"apparmor=") {
            skipped += 1;
            continue;
        }
        // Leading `#` comment lines (laurel's files): the same bytes for both.
        let text: Vec<u8> = data
            .split_inclusive(|&b| b == b'\n')
            .filter(|l| !l.starts_with(b"#"))
            .flatten()
            .copied()
            .collect();
        let file = tmp.join("in.log");
        std::fs::write(&file, &text).unwrap();
        let f = file.to_str().unwrap();
        for (ours, theirs) in [
            (vec!["text", f], vec!["-if", f, "--format", "text"]),
            (vec!["csv", f], vec!["-if", f, "--format", "csv"]),
            (
                vec![
                    "csv",
                    "--extra-time",
                    "--extra-labels",
                    "--extra-keys",
                    "--extra-obj2",
                    f,
                ],
                vec![
                    "-if",
                    f,
                    "--format",
                    "csv",
                    "--extra-time",
                    "--extra-labels",
                    "--extra-keys",
                    "--extra-obj2",
                ],
            ),
        ] {
            let a = run(env!("CARGO_BIN_EXE_auparse"), &ours);
            let b = run("ausearch", &theirs);
            if a == b {
                same += 1;
            } else {
                failures.push(format!(
                    "{} ({})",
                    path.display(),
                    ours[..ours.len() - 1].join(" ")
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    eprintln!("{same} outputs byte-identical to ausearch; {skipped} files with AppArmor AVC events skipped");
    assert!(
        failures.is_empty(),
        "differ from ausearch:\n{}",
        failures.join("\n")
    );
    assert!(same > 100, "{same}");
}
