//! Self-test of the random `*at()` workload (`tests/support/at_workload.rs`)
//! that the live auditd tests run: no auditd needed. It checks that the
//! workload changes nothing outside its root, that every kind of operation
//! succeeds at least once, and that a seed on a starting tree always gives the
//! same final tree.

#[path = "support/at_workload.rs"]
mod at_workload;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Path, PathBuf};

/// Every kind the workload has, each of which must succeed at least once.
/// (As non-root, the `chown` kinds, to uids and gids 0, 1 and 2, can only
/// fail: they are then not required.)
const KINDS: &[&str] = &[
    "create",
    "truncate",
    "append",
    "mkdir",
    "unlink",
    "unlink-symlink",
    "rmdir",
    "rm-tree",
    "rename-file",
    "rename-replace",
    "rename-replace-dir",
    "rename-dir",
    "noreplace",
    "exchange",
    "tmpfile-link",
    "link",
    "symlink",
    "chmod",
    "chown",
    "chown-nofollow",
    "utimens",
    "utimens-nofollow",
    "proc-fd-chmod",
    "proc-fd-chown",
    "chdir",
    "fchdir",
    "open-dir",
];

/// The kinds that need root to succeed.
const ROOT_ONLY: &[&str] = &["chown", "chown-nofollow", "proc-fd-chown"];

const SEEDS: [u64; 3] = [1, 2, 0xdead_beef];
const OPS: usize = 400;

/// Removes the temporary directory, even when an assertion fails.
struct TempBase(PathBuf);

impl Drop for TempBase {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The same small tree each time: three levels of directories, files, a
/// symlink, odd names.
fn build_tree(root: &Path) {
    for d in ["a/b/c", "d/e", "g h", "café"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    for (f, text) in [
        ("f1", "one\n"),
        ("a/f2", "two\n"),
        ("a/b/f3", "three\n"),
        ("a/b/c/f4", "four\n"),
        ("d/e/f5", "five\n"),
        ("g h/f 6", "six\n"),
        ("café/f7", "seven\n"),
    ] {
        fs::write(root.join(f), text).unwrap();
    }
    symlink("f2", root.join("a/l1")).unwrap();
    symlink("e/f5", root.join("d/l2")).unwrap();
}

/// Relative path → kind, size or target, mode, owner; never following
/// symlinks.
fn listing(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for e in fs::read_dir(root.join(&rel)).unwrap() {
            let name = e.unwrap().file_name();
            let r = rel.join(&name);
            let md = fs::symlink_metadata(root.join(&r)).unwrap();
            let ft = md.file_type();
            let what = if ft.is_dir() {
                stack.push(r.clone());
                "dir".to_string()
            } else if ft.is_symlink() {
                format!("symlink -> {:?}", fs::read_link(root.join(&r)).unwrap())
            } else if ft.is_file() {
                format!("file {} bytes", md.len())
            } else {
                "other".to_string()
            };
            let line = format!("{what} mode {:o} {}:{}", md.mode(), md.uid(), md.gid());
            out.insert(r, line);
        }
    }
    out
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Runs one seed into a fresh `PARENT/root` and checks that nothing but
/// `root`'s contents changed.
fn run_in_fresh_root(
    base: &Path,
    label: &str,
    seed: u64,
) -> (at_workload::Summary, BTreeMap<PathBuf, String>) {
    let parent = base.join(label);
    let root = parent.join("root");
    fs::create_dir_all(&root).unwrap();
    build_tree(&root);
    let parent_before = fs::symlink_metadata(&parent).unwrap();
    let root_before = fs::symlink_metadata(&root).unwrap();
    let cwd_before = std::env::current_dir().unwrap();

    let summary = at_workload::run(seed, &root, OPS);

    assert_eq!(std::env::current_dir().unwrap(), cwd_before, "cwd restored");
    assert_eq!(names(&parent), ["root"], "{label}: only root in its parent");
    let parent_after = fs::symlink_metadata(&parent).unwrap();
    assert_eq!(
        (parent_after.mtime(), parent_after.mtime_nsec()),
        (parent_before.mtime(), parent_before.mtime_nsec()),
        "{label}: parent directory untouched"
    );
    assert_eq!(parent_after.mode(), parent_before.mode());
    let root_after = fs::symlink_metadata(&root).unwrap();
    assert!(root_after.is_dir());
    assert_eq!(
        (
            root_after.ino(),
            root_after.mode(),
            root_after.uid(),
            root_after.gid()
        ),
        (
            root_before.ino(),
            root_before.mode(),
            root_before.uid(),
            root_before.gid()
        ),
        "{label}: root itself kept its inode, mode and owner"
    );
    (summary, listing(&root))
}

#[test]
fn workload_stays_in_root_covers_every_kind_and_is_deterministic() {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let base = std::env::temp_dir().join(format!(
        "at-workload-selftest-{}-{stamp}",
        std::process::id()
    ));
    fs::create_dir_all(&base).unwrap();
    let _cleanup = TempBase(base.clone());

    let mut totals: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut labels = Vec::new();
    for seed in SEEDS {
        let (first, tree_a) = run_in_fresh_root(&base, &format!("s{seed}-a"), seed);
        let (second, tree_b) = run_in_fresh_root(&base, &format!("s{seed}-b"), seed);
        labels.push(format!("s{seed}-a"));
        labels.push(format!("s{seed}-b"));
        eprintln!(
            "seed {seed}: {} ops, {} ok, {} failed, {} entries at the end; {:?}",
            first.ops,
            first.ok,
            first.failed,
            tree_a.len(),
            first.per_kind
        );
        assert_eq!(first.ops, OPS);
        assert_eq!(first.ok + first.failed, OPS);
        assert_eq!(first.per_kind.values().sum::<usize>(), first.ok);
        assert!(
            first.ok * 10 >= OPS * 7,
            "seed {seed}: most operations should succeed: {first:?}"
        );
        assert_eq!(
            (first.ok, first.failed, &first.per_kind),
            (second.ok, second.failed, &second.per_kind),
            "seed {seed}: same counts on the same starting tree"
        );
        assert_eq!(tree_a, tree_b, "seed {seed}: same final tree");
        for (k, n) in first.per_kind {
            *totals.entry(k).or_insert(0) += n;
        }
    }
    labels.sort();
    assert_eq!(
        names(&base),
        labels,
        "nothing else appeared next to the roots"
    );
    // Whoever created `base` is who runs the workload.
    let as_root = fs::metadata(&base).unwrap().uid() == 0;
    let missing: Vec<&&str> = KINDS
        .iter()
        .filter(|k| !totals.contains_key(**k) && (as_root || !ROOT_ONLY.contains(k)))
        .collect();
    assert!(
        missing.is_empty(),
        "kinds never successful: {missing:?} (ran: {totals:?})"
    );
    let unknown: Vec<&&str> = totals.keys().filter(|k| !KINDS.contains(k)).collect();
    assert!(unknown.is_empty(), "kinds not in the list: {unknown:?}");
}
