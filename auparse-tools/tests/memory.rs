//! Memory of the `auparse` command on long inputs.
//!
//! A test binary of its own: the peak RSS of a child started with
//! vfork/posix_spawn includes the parent's own high-water mark (Linux keeps
//! `maxrss` across exec, and the pre-exec memory is the parent's), so the
//! measuring process must stay small. In `cli.rs`, next to tests that hold
//! thousands of events, the figure read 52 MB for a 7 MB child.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_auparse")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/live")
}

/// Peak RSS (KiB) of `auparse ARGS -` reading COPIES copies of `file` on
/// stdin (made by a shell, so that this test process holds none of it), and
/// its exit code.
fn peak_rss_kib(args: &[&str], file: &Path, copies: usize) -> (i32, i64) {
    let script = format!(
        "for i in $(seq {copies}); do cat '{}'; done | '{}' {} - >/dev/null",
        file.display(),
        bin(),
        args.join(" ")
    );
    // Reaped by wait4 below (for its rusage, which Child::wait does not give).
    #[allow(clippy::zombie_processes)]
    let child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; both out-pointers are valid. The
    // shell's rusage includes the children it waited for (the pipeline).
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    (libc::WEXITSTATUS(status), usage.ru_maxrss)
}

#[test]
fn memory_does_not_grow_with_the_input_in_any_format() {
    // 300 copies of the recorded session (about 12 MiB): every format must
    // let go of the events it has written. The copies repeat the same
    // timestamps, so the ausearch grouping would rightly hold every event
    // until the end (time never moves past them); libauparse's grouping
    // completes each at its EOE record.
    let file = fixtures().join("all.stream");
    for format in ["json", "pretty", "text", "csv"] {
        let (code, kib) = peak_rss_kib(&[format, "--grouping", "libauparse"], &file, 300);
        assert_eq!(code, 0, "{format}");
        eprintln!("{format}: peak RSS {kib} KiB for 300 copies of all.stream");
        assert!(kib < 24 * 1024, "{format}: peak RSS {kib} KiB");
    }
}
