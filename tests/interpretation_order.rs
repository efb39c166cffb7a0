//! `FieldRef::interpreted`/`realpath` and `Field::interpreted`/`realpath`
//! of file names, asked in every order, against libauparse itself.
//!
//! libauparse 3.0.x keeps one interpretation per field for both
//! `auparse_interpret_field` (what `ausearch -i` shows: the name as logged)
//! and `auparse_interpret_realpath` (the name joined to the cwd): whichever
//! is asked first decides both. The expected values here come from two
//! fresh libauparse parsers per log, driven through the raw bindings, one
//! asking only `auparse_interpret_field`, the other only
//! `auparse_interpret_realpath`, for every file-name field.
//!
//! One test function: the raw calls below do not take the crate's lock,
//! so nothing else may run in this binary at the same time.

use auparse::{ffi, EscapeMode, EventRef, FieldType, Parser};
use std::ffi::CStr;
use std::path::{Path, PathBuf};

fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in [
        root.join("tests/fixtures"),
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
        } else if p.extension().is_some_and(|x| x == "log") {
            out.push(p);
        }
    }
}

/// The buffer as `Parser::from_bytes` hands it to libauparse: cut at the
/// first NUL, ending in a newline, NUL-terminated.
fn c_buffer(data: &[u8]) -> Vec<u8> {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let mut buf = data[..end].to_vec();
    if buf.last().is_some_and(|&b| b != b'\n') {
        buf.push(b'\n');
    }
    buf.push(0);
    buf
}

fn esc(mode: EscapeMode) -> ffi::auparse_esc_t {
    match mode {
        EscapeMode::Tty => ffi::AUPARSE_ESC_TTY,
        EscapeMode::Shell => ffi::AUPARSE_ESC_SHELL,
        EscapeMode::ShellQuote => ffi::AUPARSE_ESC_SHELL_QUOTE,
        _ => ffi::AUPARSE_ESC_RAW,
    }
}

/// libauparse's answer for every file-name field of the log, in order:
/// `auparse_interpret_realpath` when `realpath`, else
/// `auparse_interpret_field`, each the first and only call on its field.
fn libauparse_answers(data: &[u8], mode: EscapeMode, realpath: bool) -> Vec<Vec<u8>> {
    let buf = c_buffer(data);
    let mut out = Vec::new();
    // SAFETY: a private parser over a NUL-terminated buffer that outlives
    // it; no other thread calls libauparse while this test runs (one test
    // function in this binary); strings are copied before the next call
    // that could free them.
    unsafe {
        let au = ffi::auparse_init(ffi::AUSOURCE_BUFFER, buf.as_ptr().cast());
        assert!(!au.is_null());
        ffi::auparse_set_escape_mode(au, esc(mode));
        while ffi::auparse_next_event(au) == 1 {
            if ffi::auparse_first_record(au) != 1 {
                continue;
            }
            loop {
                if ffi::auparse_first_field(au) == 1 {
                    loop {
                        if ffi::auparse_get_field_type(au) as u32 == ffi::AUPARSE_TYPE_ESCAPED_FILE
                        {
                            let p = if realpath {
                                ffi::auparse_interpret_realpath(au)
                            } else {
                                ffi::auparse_interpret_field(au)
                            };
                            let p = if p.is_null() {
                                ffi::auparse_get_field_str(au)
                            } else {
                                p
                            };
                            out.push(CStr::from_ptr(p).to_bytes().to_vec());
                        }
                        if ffi::auparse_next_field(au) != 1 {
                            break;
                        }
                    }
                }
                if ffi::auparse_next_record(au) != 1 {
                    break;
                }
            }
        }
        ffi::auparse_destroy(au);
    }
    out
}

/// What the views say for every file-name field, in order: (interpreted,
/// realpath), each asked in the order given.
fn views(ev: &mut EventRef<'_>, realpath_first: bool, out: &mut Vec<(Vec<u8>, Vec<u8>)>) {
    let mut recs = ev.records();
    while let Some(mut rec) = recs.next() {
        let mut fields = rec.fields();
        while let Some(f) = fields.next() {
            if f.field_type() != FieldType::EscapedFile {
                continue;
            }
            let (i, r) = if realpath_first {
                let r = f.realpath().unwrap().to_vec();
                (f.interpreted().to_vec(), r)
            } else {
                let i = f.interpreted().to_vec();
                (i, f.realpath().unwrap().to_vec())
            };
            // Asked again: the same answers.
            assert_eq!(f.interpreted(), i);
            assert_eq!(f.realpath().unwrap(), r);
            out.push((i, r));
        }
    }
}

fn owned(ev: &auparse::Event, out: &mut Vec<(Vec<u8>, Vec<u8>)>) {
    for f in ev.records.iter().flat_map(|r| &r.fields) {
        if f.field_type == FieldType::EscapedFile {
            out.push((
                f.interpreted.to_vec(),
                f.realpath.as_deref().unwrap().to_vec(),
            ));
        } else {
            assert_eq!(f.realpath, None, "{f:?}");
        }
    }
}

/// The orders a user may ask in.
#[derive(Debug, Clone, Copy)]
enum Order {
    RealpathFirst,
    InterpretedFirst,
    OwnedThenViews,
    ViewsThenOwned,
    NormalizeThenViews,
}

fn ours(data: &[u8], mode: EscapeMode, order: Order) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut p = Parser::from_bytes(data).unwrap();
    p.set_escape_mode(mode).unwrap();
    let mut out = Vec::new();
    while let Some(mut ev) = p.next_event().unwrap() {
        match order {
            Order::RealpathFirst => views(&mut ev, true, &mut out),
            Order::InterpretedFirst => views(&mut ev, false, &mut out),
            Order::OwnedThenViews => {
                let owned_ev = ev.to_event();
                let mut mine = Vec::new();
                owned(&owned_ev, &mut mine);
                views(&mut ev, false, &mut out);
                assert_eq!(mine, out[out.len() - mine.len()..]);
            }
            Order::ViewsThenOwned => {
                let mut seen = Vec::new();
                views(&mut ev, false, &mut seen);
                owned(&ev.to_event(), &mut out);
                assert_eq!(seen, out[out.len() - seen.len()..]);
            }
            Order::NormalizeThenViews => {
                let _ = ev.normalize();
                views(&mut ev, true, &mut out);
            }
        }
    }
    out
}

#[test]
fn file_names_answer_the_same_in_every_order() {
    let files = inputs();
    assert!(files.len() >= 30, "fixtures missing: {files:?}");
    let mut checked = 0usize;
    let mut joined = 0usize;
    for path in &files {
        let data = std::fs::read(path).unwrap();
        for mode in [
            EscapeMode::Raw,
            EscapeMode::Tty,
            EscapeMode::Shell,
            EscapeMode::ShellQuote,
        ] {
            let interp = libauparse_answers(&data, mode, false);
            let real = libauparse_answers(&data, mode, true);
            assert_eq!(interp.len(), real.len());
            let expected: Vec<(Vec<u8>, Vec<u8>)> = interp.into_iter().zip(real).collect();
            for order in [
                Order::RealpathFirst,
                Order::InterpretedFirst,
                Order::OwnedThenViews,
                Order::ViewsThenOwned,
                Order::NormalizeThenViews,
            ] {
                let got = ours(&data, mode, order);
                for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
                    assert_eq!(
                        g,
                        e,
                        "{} {mode:?} {order:?}: file name #{i}: {:?} vs libauparse {:?}",
                        path.display(),
                        (String::from_utf8_lossy(&g.0), String::from_utf8_lossy(&g.1)),
                        (String::from_utf8_lossy(&e.0), String::from_utf8_lossy(&e.1)),
                    );
                }
                assert_eq!(got.len(), expected.len(), "{}", path.display());
            }
            checked += expected.len();
            joined += expected.iter().filter(|(i, r)| i != r).count();
        }
    }
    eprintln!(
        "{checked} file names in {} logs, {joined} with a realpath other than the name",
        files.len()
    );
    // The logs hold relative names: the two answers really differ.
    assert!(joined > 100, "{joined}");
}
