//! Applying the filesystem-change log: a set of paths with their entry
//! kinds, kept true by the [`FsChange`]s of the events that changed them.

use crate::fschange::{ChangeKind, FsChange};
use std::collections::BTreeMap;
use std::path::Path;

/// A set of absolute paths, each with its entry kind (`file`, `dir`,
/// `symlink`, ... as in [`FsChange::file_type`]), kept true by applying the
/// change log: what a search index built on the log needs.
///
/// The log's promise is that applying it to the tree as it was gives the
/// tree as it is. [`apply`](Self::apply) does what each change did:
///
/// | change | effect |
/// |---|---|
/// | `created`, `dir-created`, `symlinked`, `linked` | the path is added (with the change's kind; a link has its target's kind) |
/// | `deleted`, `dir-removed` | the path (and anything still listed under it) is removed |
/// | `renamed` | the old path and everything under it move to the new path; what was at the new path (a replaced file or empty directory) is gone |
/// | `exchanged` | the two paths swap what is at and under them; both stay |
/// | `modified`, `mode-changed`, `owner-changed`, `xattr-changed`, `times-changed` | nothing moves; the path is added if it was missing (the change proves it exists) |
///
/// Changes whose syscall failed change nothing, and a change whose
/// directory could not be known ([`FsChange::dir_known`] false) cannot be
/// placed: [`apply`](Self::apply) returns false for both.
///
/// ```
/// use auparse::{Feeder, FsIndex, FsTracker};
///
/// // mkdir /w/d; touch /w/d/f; mv /w/d /w/e (recorded from a live auditd, abridged)
/// let log = br#"type=SYSCALL msg=audit(1700000000.001:1): arch=c000003e syscall=83 success=yes exit=0 a0=1 a1=1ed a2=0 a3=0 items=2 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm="mkdir" exe="/usr/bin/mkdir" key="w"
/// type=CWD msg=audit(1700000000.001:1): cwd="/w"
/// type=PATH msg=audit(1700000000.001:1): item=0 name="/w" inode=10 dev=fe:00 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
/// type=PATH msg=audit(1700000000.001:1): item=1 name="d" inode=11 dev=fe:00 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
/// type=SYSCALL msg=audit(1700000000.002:2): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=1 a2=941 a3=1b6 items=2 ppid=1 pid=3 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm="touch" exe="/usr/bin/touch" key="w"
/// type=CWD msg=audit(1700000000.002:2): cwd="/w"
/// type=PATH msg=audit(1700000000.002:2): item=0 name="d/" inode=11 dev=fe:00 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
/// type=PATH msg=audit(1700000000.002:2): item=1 name="d/f" inode=12 dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
/// type=SYSCALL msg=audit(1700000000.003:3): arch=c000003e syscall=82 success=yes exit=0 a0=1 a1=2 a2=0 a3=0 items=4 ppid=1 pid=4 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm="mv" exe="/usr/bin/mv" key="w"
/// type=CWD msg=audit(1700000000.003:3): cwd="/w"
/// type=PATH msg=audit(1700000000.003:3): item=0 name="/w" inode=10 dev=fe:00 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
/// type=PATH msg=audit(1700000000.003:3): item=1 name="/w" inode=10 dev=fe:00 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
/// type=PATH msg=audit(1700000000.003:3): item=2 name="d" inode=11 dev=fe:00 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
/// type=PATH msg=audit(1700000000.003:3): item=3 name="e" inode=11 dev=fe:00 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
/// "#;
/// let mut index = FsIndex::new();
/// index.insert("/w", "dir");
/// let mut tracker = FsTracker::default();
/// let mut feeder = Feeder::new()?;
/// let mut changes = Vec::new();
/// feeder.feed(log, |ev| changes.extend(tracker.changes(&ev.to_event())))?;
/// feeder.flush(|ev| changes.extend(tracker.changes(&ev.to_event())))?;
/// changes.extend(tracker.flush());
/// for c in &changes {
///     index.apply(c);
/// }
/// let paths: Vec<(String, &str)> = index
///     .iter()
///     .map(|(p, k)| (String::from_utf8_lossy(p).into_owned(), k))
///     .collect();
/// assert_eq!(paths, [("/w".into(), "dir"), ("/w/e".into(), "dir"), ("/w/e/f".into(), "file")]);
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FsIndex {
    entries: BTreeMap<Vec<u8>, &'static str>,
}

/// The range of keys strictly under `dir` (`dir/...`).
fn under(dir: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut lo = dir.to_vec();
    lo.push(b'/');
    let mut hi = dir.to_vec();
    // '/' + 1: every `dir/...` sorts before `dir0`.
    hi.push(b'0');
    (lo, hi)
}

impl FsIndex {
    /// An empty index.
    pub fn new() -> Self {
        FsIndex::default()
    }

    /// The entries at and under `root` in the real filesystem, without
    /// following symbolic links (what the index should hold before the log
    /// is applied, and what it should equal after).
    ///
    /// # Errors
    /// The first directory that cannot be read.
    pub fn scan(root: &Path) -> std::io::Result<FsIndex> {
        use std::os::unix::ffi::OsStrExt;
        let mut index = FsIndex::new();
        let md = std::fs::symlink_metadata(root)?;
        index.insert(root.as_os_str().as_bytes(), kind_of(&md.file_type()));
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir)? {
                let e = e?;
                let ft = e.file_type()?;
                let p = e.path();
                index.insert(p.as_os_str().as_bytes(), kind_of(&ft));
                if ft.is_dir() {
                    stack.push(p);
                }
            }
        }
        Ok(index)
    }

    /// Adds (or replaces) `path` with its entry kind.
    pub fn insert(&mut self, path: impl Into<Vec<u8>>, kind: &'static str) {
        self.entries.insert(path.into(), kind);
    }

    /// The kind of the entry at `path`, if listed.
    pub fn get(&self, path: &[u8]) -> Option<&'static str> {
        self.entries.get(path).copied()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no entry is listed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry, sorted by path.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &'static str)> {
        self.entries.iter().map(|(p, k)| (&p[..], *k))
    }

    /// Removes `path` and everything under it; returns what was removed,
    /// with paths relative to `path` (empty for `path` itself).
    fn take_subtree(&mut self, path: &[u8]) -> Vec<(Vec<u8>, &'static str)> {
        let mut out = Vec::new();
        if let Some(k) = self.entries.remove(path) {
            out.push((Vec::new(), k));
        }
        let (lo, hi) = under(path);
        let keys: Vec<Vec<u8>> = self.entries.range(lo..hi).map(|(k, _)| k.clone()).collect();
        for k in keys {
            if let Some(kind) = self.entries.remove(&k) {
                out.push((k[path.len()..].to_vec(), kind));
            }
        }
        out
    }

    fn put_subtree(&mut self, path: &[u8], entries: Vec<(Vec<u8>, &'static str)>) {
        for (rel, kind) in entries {
            let mut p = path.to_vec();
            p.extend_from_slice(&rel);
            self.entries.insert(p, kind);
        }
    }

    /// Applies one change (see the table above). Returns false when the
    /// change cannot change the tree: its syscall failed, or its directory
    /// is unknown.
    pub fn apply(&mut self, c: &FsChange) -> bool {
        if !c.success || !c.dir_known {
            return false;
        }
        self.apply_parts(
            c.kind,
            &c.path,
            c.old_path.as_deref(),
            c.target.as_deref(),
            c.file_type,
        );
        true
    }

    /// Applies a successful change given by its parts, as a reader of the
    /// plugin's JSON log has them (`change`, `path`, `old_path`, `target`,
    /// `file_type`; [`ChangeKind`] parses the `change` names).
    pub fn apply_parts(
        &mut self,
        change: ChangeKind,
        path: &[u8],
        old_path: Option<&[u8]>,
        target: Option<&[u8]>,
        file_type: Option<&'static str>,
    ) {
        let kind = file_type.unwrap_or("file");
        match change {
            ChangeKind::Created => self.insert(path, kind),
            ChangeKind::DirCreated => self.insert(path, "dir"),
            ChangeKind::Symlinked => self.insert(path, "symlink"),
            ChangeKind::Linked => {
                let k = file_type
                    .or_else(|| target.and_then(|t| self.get(t)))
                    .unwrap_or("file");
                self.insert(path, k);
            }
            ChangeKind::Deleted | ChangeKind::DirRemoved => {
                self.take_subtree(path);
            }
            ChangeKind::Renamed => {
                let Some(old) = old_path else {
                    self.insert(path, kind);
                    return;
                };
                if old == path {
                    return;
                }
                let moved = self.take_subtree(old);
                self.take_subtree(path);
                if moved.is_empty() {
                    // The old name was never listed: what is known.
                    self.insert(path, kind);
                } else {
                    self.put_subtree(path, moved);
                }
            }
            ChangeKind::Exchanged => {
                let Some(other) = old_path else {
                    return;
                };
                let a = self.take_subtree(path);
                let b = self.take_subtree(other);
                self.put_subtree(path, b);
                self.put_subtree(other, a);
            }
            ChangeKind::Modified
            | ChangeKind::ModeChanged
            | ChangeKind::OwnerChanged
            | ChangeKind::XattrChanged
            | ChangeKind::TimesChanged => {
                self.entries.entry(path.to_vec()).or_insert(kind);
            }
        }
    }
}

/// The entry kind name of a file type, as in [`FsChange::file_type`].
fn kind_of(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_dir() {
        "dir"
    } else if ft.is_symlink() {
        "symlink"
    } else if ft.is_char_device() {
        "char-device"
    } else if ft.is_block_device() {
        "block-device"
    } else if ft.is_fifo() {
        "fifo"
    } else if ft.is_socket() {
        "socket"
    } else {
        "file"
    }
}
