//! A seeded random workload of real `*at()` filesystem syscalls inside one
//! directory, for tests that compare what an audit consumer logged with what
//! actually changed on disk.
//!
//! [`run`] keeps an in-memory model of the tree under `root` (relative path →
//! kind), picks an operation and its targets from the model, issues the
//! syscalls through `libc`, and updates the model when they succeed. The model
//! is rebuilt by walking the real tree (`read_dir` + `symlink_metadata`, never
//! following symlinks) every [`REFRESH_EVERY`] operations, after any failed
//! operation and after any operation whose effect it cannot predict exactly.
//!
//! Every path handed to the kernel is one of:
//!
//! - a name relative to one of a few directory descriptors (root and
//!   directories 1-3 levels deep, re-opened from time to time), possibly
//!   multi-part (`a/b/file`), possibly with a detour through a real
//!   subdirectory (`sub/../sub2/x`), or climbing with `..` from the
//!   descriptor's directory when `/proc/self/fd/N` shows that directory is
//!   exactly where the model says (so it never climbs above `root`);
//! - a name relative to the working directory (`AT_FDCWD`) after `chdir` /
//!   `fchdir` into a directory under `root`, climbing only after `getcwd`
//!   confirmed where the working directory is;
//! - an absolute path under `root`.
//!
//! Symlinks are only ever created with relative, `..`-free targets, so
//! following one never leaves the directory that holds it. A final symlink is
//! only followed when the model says its target is a file or a directory (not
//! another symlink); pre-existing symlinks whose target is absolute or has
//! `..` are never followed, moved or exchanged, nor targeted by new symlinks.
//! Intermediate path components are always real directories of the model. Directory modes set by the workload always keep `u=rwx`, so the tree
//! can be removed afterwards.
//!
//! Operation kinds (the keys of [`Summary::per_kind`], counted when every
//! syscall of the operation succeeded):
//!
//! | kind | syscalls |
//! |---|---|
//! | `create` | `openat(B, new, O_CREAT\|O_WRONLY\|O_CLOEXEC[\|O_EXCL][\|O_TRUNC], 0o6x4)`, `write`, `close` |
//! | `truncate` | `openat(B, file, O_CREAT\|O_WRONLY\|O_TRUNC\|O_CLOEXEC\|O_NOFOLLOW)` (or through a symlink, with `O_NONBLOCK` instead of `O_NOFOLLOW`), `write`, `close` |
//! | `append` | `openat(B, file, O_WRONLY\|O_APPEND\|O_CLOEXEC\|O_NOFOLLOW)` (or through a symlink, `O_NONBLOCK`), `write`, `close` |
//! | `mkdir` | `mkdirat(B, new, 0o7xx)` |
//! | `unlink` | `unlinkat(B, file, 0)` |
//! | `unlink-symlink` | `unlinkat(B, symlink, 0)` |
//! | `rmdir` | `unlinkat(B, empty_dir, AT_REMOVEDIR)` |
//! | `rm-tree` | `openat(B, dir, O_RDONLY\|O_DIRECTORY\|O_NOFOLLOW\|O_CLOEXEC)`, then per level `openat(fd, sub, ...)`, `unlinkat(fd, name, 0)`, `close`, `unlinkat(fd, sub, AT_REMOVEDIR)`, finally `unlinkat(B, dir, AT_REMOVEDIR)` |
//! | `rename-file` | `renameat(B1, file_or_symlink, B2, new)` |
//! | `rename-replace` | `renameat(B1, file_or_symlink, B2, existing_file)` |
//! | `rename-replace-dir` | `renameat(B1, dir, B2, existing_empty_dir)` |
//! | `rename-dir` | `renameat(B1, non_empty_dir, B2, new)` (destination not under the source) |
//! | `noreplace` | `syscall(SYS_renameat2, B1, any, B2, new, RENAME_NOREPLACE)` |
//! | `exchange` | `syscall(SYS_renameat2, B1, x, B2, y, RENAME_EXCHANGE)`: file/file, file/dir or dir/dir |
//! | `tmpfile-link` | `openat(D, "." or dir, O_TMPFILE\|O_WRONLY\|O_CLOEXEC, 0o644)`, `write`, `linkat(AT_FDCWD, "/proc/self/fd/N", D, new, AT_SYMLINK_FOLLOW)`, `close` |
//! | `link` | `linkat(B1, file, B2, new, 0 or AT_SYMLINK_FOLLOW)` |
//! | `symlink` | `symlinkat("relative target", B, new)` (target may dangle) |
//! | `chmod` | `fchmodat(B, entry, mode, 0)` (follows a final symlink) |
//! | `chown` | `fchownat(B, entry, uid, gid, 0)`, uid and gid in {0, 1, 2} |
//! | `chown-nofollow` | `fchownat(B, entry, uid, gid, AT_SYMLINK_NOFOLLOW)` |
//! | `utimens` | `utimensat(B, entry, times or NULL, 0)` |
//! | `utimens-nofollow` | `utimensat(B, entry, times or NULL, AT_SYMLINK_NOFOLLOW)` |
//! | `proc-fd-chmod` | `openat(B, entry, O_PATH\|O_NOFOLLOW\|O_CLOEXEC)`, `chmod("/proc/self/fd/N", mode)`, `close` |
//! | `proc-fd-chown` | `openat(B, entry, O_PATH\|O_NOFOLLOW\|O_CLOEXEC)`, `chown("/proc/self/fd/N", uid, gid)`, `close` |
//! | `chdir` | `chdir(absolute or cwd-relative dir)` |
//! | `fchdir` | `fchdir(dir fd)` |
//! | `open-dir` | `open(abs, O_RDONLY\|O_DIRECTORY\|O_CLOEXEC)` or `openat(B, dir, same)`; replaces an old descriptor when 6 are open |
//!
//! `B` is a base (directory descriptor, `AT_FDCWD` with a relative name, or
//! `AT_FDCWD`/any descriptor with an absolute name); with a small probability
//! creating operations use a descriptor (or working directory) whose directory
//! was removed, and fail with `ENOENT`.
//!
//! [`run`] changes the process's working directory while it runs (and restores
//! it at the end); calls of [`run`] in one process are serialized by a lock, but
//! other threads must not depend on the working directory meanwhile.

use std::collections::BTreeMap;
use std::ffi::{CStr, CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use libc::c_int;

/// What [`run`] did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Operations performed (the `ops` argument).
    pub ops: usize,
    /// Operations whose syscalls all succeeded.
    pub ok: usize,
    /// Operations with a failed syscall (normal: counted, never fatal).
    pub failed: usize,
    /// Successful operations by kind (see the module documentation).
    pub per_kind: BTreeMap<&'static str, usize>,
}

/// The model is rebuilt from the real tree at least this often (operations).
const REFRESH_EVERY: usize = 20;
/// Above this many entries, nothing is created and removals are preferred.
const MAX_ENTRIES: usize = 150;
/// New entries are only created in directories shallower than this.
const MAX_DEPTH: usize = 7;
/// Moves and exchanges must not make the tree deeper than this.
const MAX_MOVED_DEPTH: usize = 9;
/// Open directory descriptors, root's included.
const MAX_POOL: usize = 6;
/// `rm-tree` only removes subtrees of at most this many entries.
const MAX_RM_TREE: usize = 20;

const RENAME_NOREPLACE: libc::c_uint = 1;
const RENAME_EXCHANGE: libc::c_uint = 2;

const FILE_MODES: [libc::mode_t; 6] = [0o644, 0o600, 0o640, 0o444, 0o755, 0o700];
/// Modes for directories (or symlinks that may lead to one): always `u=rwx`.
const DIR_MODES: [libc::mode_t; 6] = [0o755, 0o700, 0o750, 0o775, 0o711, 0o744];
const IDS: [u32; 3] = [0, 1, 2];

/// Kinds with their weights (normal tree, tree above [`MAX_ENTRIES`]).
const OPS: &[(&str, u32, u32)] = &[
    ("create", 10, 0),
    ("truncate", 3, 2),
    ("append", 4, 3),
    ("mkdir", 6, 0),
    ("unlink", 4, 12),
    ("unlink-symlink", 2, 6),
    ("rmdir", 3, 8),
    ("rm-tree", 2, 8),
    ("rename-file", 4, 3),
    ("rename-replace", 3, 4),
    ("rename-replace-dir", 2, 3),
    ("rename-dir", 3, 3),
    ("noreplace", 3, 3),
    ("exchange", 3, 3),
    ("tmpfile-link", 3, 0),
    ("link", 3, 0),
    ("symlink", 3, 0),
    ("chmod", 3, 3),
    ("chown", 2, 2),
    ("chown-nofollow", 2, 2),
    ("utimens", 2, 2),
    ("utimens-nofollow", 1, 1),
    ("proc-fd-chmod", 2, 2),
    ("proc-fd-chown", 2, 2),
    ("chdir", 2, 2),
    ("fchdir", 2, 2),
    ("open-dir", 2, 2),
];

/// [`run`] changes the working directory: one at a time per process.
static RUN_LOCK: Mutex<()> = Mutex::new(());

/// Runs `ops` random operations under `root` (an existing directory), seeded by `seed`. Deterministic for a given seed and starting tree.
pub fn run(seed: u64, root: &Path, ops: usize) -> Summary {
    let _serial = RUN_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    let mut summary = Summary {
        ops,
        ..Summary::default()
    };
    let root = match std::fs::canonicalize(root) {
        Ok(r) if r.is_dir() => r,
        _ => {
            summary.failed = ops;
            return summary;
        }
    };
    let Some(root_c) = cstring(&root) else {
        summary.failed = ops;
        return summary;
    };
    let root_fd = sys::openat(
        libc::AT_FDCWD,
        &root_c,
        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        0,
    );
    if root_fd < 0 {
        summary.failed = ops;
        return summary;
    }
    // Where to come back to: a descriptor (works even if the path changes),
    // else the path.
    let saved_fd = sys::openat(
        libc::AT_FDCWD,
        c".",
        libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        0,
    );
    let saved_path = std::env::current_dir().ok();

    let mut w = Workload {
        root,
        rng: Rng::new(seed),
        m: Model::default(),
        pool: vec![Slot {
            fd: root_fd,
            rel: Some(PathBuf::new()),
        }],
        cwd: None,
        cwd_removed: false,
        summary,
        dirty: true,
        since_refresh: 0,
        step: 0,
    };
    w.refresh();
    if sys::chdir(&root_c) {
        w.cwd = Some(PathBuf::new());
    }
    for _ in 0..3 {
        w.op_open_dir();
    }
    for step in 0..ops {
        w.step = step;
        if w.dirty || w.since_refresh >= REFRESH_EVERY {
            w.refresh();
        }
        w.since_refresh += 1;
        let (kind, ok) = w.one_op();
        if ok {
            w.summary.ok += 1;
            *w.summary.per_kind.entry(kind).or_insert(0) += 1;
        } else {
            w.summary.failed += 1;
            w.dirty = true;
        }
    }

    for slot in w.pool.drain(..) {
        sys::close(slot.fd);
    }
    let back = saved_fd >= 0 && sys::fchdir(saved_fd);
    if !back {
        if let Some(p) = saved_path {
            let _ = std::env::set_current_dir(p);
        }
    }
    if saved_fd >= 0 {
        sys::close(saved_fd);
    }
    w.summary
}

// ------------------------------------------------------------------ rng ----

/// xorshift64* seeded through splitmix64.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Clone>(&mut self, v: &[T]) -> Option<T> {
        if v.is_empty() {
            None
        } else {
            Some(v[self.below(v.len())].clone())
        }
    }
}

// ---------------------------------------------------------------- model ----

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    File,
    Dir,
    /// Relative target without `..`: following it stays below its directory.
    Symlink,
    /// Absolute or `..` target (only from the starting tree): never followed.
    BadSymlink,
    /// FIFOs, sockets, devices (only from the starting tree).
    Other,
}

/// Relative path (to root) → kind; root itself is the empty path.
#[derive(Default)]
struct Model {
    entries: BTreeMap<PathBuf, Kind>,
    /// (st_dev, st_ino) of every real directory, root's included.
    dir_ids: BTreeMap<(u64, u64), PathBuf>,
}

impl Model {
    fn kind(&self, p: &Path) -> Option<Kind> {
        if p.as_os_str().is_empty() {
            Some(Kind::Dir)
        } else {
            self.entries.get(p).copied()
        }
    }

    fn is_dir(&self, p: &Path) -> bool {
        self.kind(p) == Some(Kind::Dir)
    }

    fn children(&self, dir: &Path) -> Vec<(PathBuf, Kind)> {
        self.entries
            .iter()
            .filter(|(p, _)| p.parent() == Some(dir))
            .map(|(p, k)| (p.clone(), *k))
            .collect()
    }

    fn descendants(&self, dir: &Path) -> usize {
        self.entries
            .keys()
            .filter(|p| p.as_path() != dir && p.starts_with(dir))
            .count()
    }

    /// Depth of the deepest entry below `p`, relative to `p` (0 for a leaf).
    fn height(&self, p: &Path) -> usize {
        let base = depth(p);
        self.entries
            .keys()
            .filter(|q| q.starts_with(p))
            .map(|q| depth(q) - base)
            .max()
            .unwrap_or(0)
    }

    fn select(&self, f: impl Fn(&Path, Kind) -> bool) -> Vec<PathBuf> {
        self.entries
            .iter()
            .filter(|(p, k)| f(p, **k))
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Real directories, root (the empty path) first.
    fn dirs(&self) -> Vec<PathBuf> {
        let mut v = vec![PathBuf::new()];
        v.extend(self.select(|_, k| k == Kind::Dir));
        v
    }

    fn remove_subtree(&mut self, p: &Path) {
        self.entries.retain(|q, _| !q.starts_with(p));
    }

    fn move_subtree(&mut self, from: &Path, to: &Path) {
        let moved: Vec<(PathBuf, Kind)> = self
            .entries
            .iter()
            .filter(|(q, _)| q.starts_with(from))
            .map(|(q, k)| (rebase(q, from, to), *k))
            .collect();
        self.remove_subtree(from);
        self.entries.extend(moved);
    }

    fn swap_subtrees(&mut self, a: &Path, b: &Path) {
        let old = std::mem::take(&mut self.entries);
        self.entries = old
            .into_iter()
            .map(|(q, k)| {
                if q.starts_with(a) {
                    (rebase(&q, a, b), k)
                } else if q.starts_with(b) {
                    (rebase(&q, b, a), k)
                } else {
                    (q, k)
                }
            })
            .collect();
    }
}

fn depth(p: &Path) -> usize {
    p.components().count()
}

/// `q` (at or under `from`) moved to the same place under `to`.
fn rebase(q: &Path, from: &Path, to: &Path) -> PathBuf {
    match q.strip_prefix(from) {
        Ok(rest) if !rest.as_os_str().is_empty() => to.join(rest),
        _ => to.to_path_buf(),
    }
}

/// The path from directory `from` to `to` (both relative to root), with `..`
/// up to their common ancestor; `.` when they are the same.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let f: Vec<Component> = from.components().collect();
    let t: Vec<Component> = to.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c.as_os_str());
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// How to name entry `target` from directory `from` (both relative to
/// root) by climbing with `..`: through `target`'s parent, so that naming
/// `from` itself or one of its ancestors gives `../name`, never `.`.
fn relative_entry(from: &Path, target: &Path) -> Option<PathBuf> {
    let up = relative(from, target.parent()?);
    let name = target.file_name()?;
    Some(if up == Path::new(".") {
        PathBuf::from(name)
    } else {
        up.join(name)
    })
}

/// A symlink target whose resolution stays strictly below the symlink's
/// directory: relative, only normal components.
fn safe_target(t: &Path) -> bool {
    !t.as_os_str().is_empty() && t.components().all(|c| matches!(c, Component::Normal(_)))
}

/// Walks the real tree without following symlinks, in sorted order.
fn walk(root: &Path) -> Model {
    let mut m = Model::default();
    if let Ok(md) = std::fs::symlink_metadata(root) {
        m.dir_ids.insert((md.dev(), md.ino()), PathBuf::new());
    }
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = if rel.as_os_str().is_empty() {
            root.to_path_buf()
        } else {
            root.join(&rel)
        };
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<OsString> = rd.filter_map(|e| e.ok().map(|e| e.file_name())).collect();
        names.sort();
        for name in names {
            let r = rel.join(&name);
            let Ok(md) = std::fs::symlink_metadata(dir.join(&name)) else {
                continue;
            };
            let ft = md.file_type();
            let kind = if ft.is_dir() {
                m.dir_ids.insert((md.dev(), md.ino()), r.clone());
                stack.push(r.clone());
                Kind::Dir
            } else if ft.is_symlink() {
                match std::fs::read_link(dir.join(&name)) {
                    Ok(t) if safe_target(&t) => Kind::Symlink,
                    _ => Kind::BadSymlink,
                }
            } else if ft.is_file() {
                Kind::File
            } else {
                Kind::Other
            };
            m.entries.insert(r, kind);
            if m.entries.len() > 20_000 {
                return m;
            }
        }
    }
    m
}

fn cstring(p: &Path) -> Option<CString> {
    CString::new(p.as_os_str().as_bytes()).ok()
}

/// Whether `/proc/self/fd/N` says the directory behind `fd` was removed.
fn fd_is_removed(fd: c_int) -> bool {
    std::fs::read_link(format!("/proc/self/fd/{fd}"))
        .is_ok_and(|p| p.as_os_str().as_bytes().ends_with(b" (deleted)"))
}

fn proc_fd(fd: c_int) -> CString {
    CString::new(format!("/proc/self/fd/{fd}")).unwrap_or_default()
}

// ------------------------------------------------------------- workload ----

/// An open directory descriptor and where the model says its directory is
/// (`None`: the directory was removed).
struct Slot {
    fd: c_int,
    rel: Option<PathBuf>,
}

/// A (dirfd, name) pair to hand to an `*at()` call.
struct Addr {
    fd: c_int,
    name: CString,
}

struct Workload {
    /// Canonical (absolute, symlink-free) root.
    root: PathBuf,
    rng: Rng,
    m: Model,
    /// `pool[0]` is root's descriptor and is never replaced.
    pool: Vec<Slot>,
    /// Working directory relative to root (`None`: unknown or removed).
    cwd: Option<PathBuf>,
    /// The working directory is known to be a removed directory.
    cwd_removed: bool,
    summary: Summary,
    /// The model may be wrong: rebuild it before the next operation.
    dirty: bool,
    since_refresh: usize,
    step: usize,
}

impl Workload {
    fn abs(&self, rel: &Path) -> PathBuf {
        if rel.as_os_str().is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }

    /// Rebuilds the model from the real tree and relocates the descriptors
    /// and the working directory.
    fn refresh(&mut self) {
        self.m = walk(&self.root);
        self.dirty = false;
        self.since_refresh = 0;
        for i in 0..self.pool.len() {
            let fd = self.pool[i].fd;
            let rel = std::fs::metadata(format!("/proc/self/fd/{fd}"))
                .ok()
                .and_then(|md| self.m.dir_ids.get(&(md.dev(), md.ino())).cloned());
            self.pool[i].rel = rel;
        }
        self.cwd = std::env::current_dir()
            .ok()
            .and_then(|p| p.strip_prefix(&self.root).ok().map(Path::to_path_buf))
            .filter(|r| self.m.is_dir(r));
        if self.cwd.is_some() {
            self.cwd_removed = false;
        }
    }

    fn apply_remove(&mut self, p: &Path) {
        self.m.remove_subtree(p);
        for slot in &mut self.pool {
            if slot.rel.as_deref().is_some_and(|r| r.starts_with(p)) {
                slot.rel = None;
            }
        }
        if self.cwd.as_deref().is_some_and(|r| r.starts_with(p)) {
            self.cwd = None;
            self.cwd_removed = true;
        }
    }

    fn apply_move(&mut self, from: &Path, to: &Path) {
        self.m.move_subtree(from, to);
        let fix = |r: &mut Option<PathBuf>| {
            if let Some(x) = r.as_mut() {
                if x.starts_with(from) {
                    *x = rebase(x, from, to);
                }
            }
        };
        for slot in &mut self.pool {
            fix(&mut slot.rel);
        }
        fix(&mut self.cwd);
    }

    fn apply_swap(&mut self, a: &Path, b: &Path) {
        self.m.swap_subtrees(a, b);
        let fix = |r: &mut Option<PathBuf>| {
            if let Some(x) = r.as_mut() {
                if x.starts_with(a) {
                    *x = rebase(x, a, b);
                } else if x.starts_with(b) {
                    *x = rebase(x, b, a);
                }
            }
        };
        for slot in &mut self.pool {
            fix(&mut slot.rel);
        }
        fix(&mut self.cwd);
    }

    // ------------------------------------------------------- addressing ----

    /// Whether descriptor `fd`'s directory is exactly `root/rel` now (so
    /// climbing `depth(rel)` levels from it stays inside root).
    fn fd_is_at(&self, fd: c_int, rel: &Path) -> bool {
        std::fs::read_link(format!("/proc/self/fd/{fd}")).is_ok_and(|p| p == self.abs(rel))
    }

    fn cwd_is_at(&self, rel: &Path) -> bool {
        std::env::current_dir().is_ok_and(|p| p == self.abs(rel))
    }

    /// `rest` (relative to `base`) with a detour `X/..` through a real
    /// subdirectory `X` of one of its parent directories.
    fn detour(&mut self, base: &Path, rest: &Path) -> PathBuf {
        let comps: Vec<&std::ffi::OsStr> = rest.components().map(|c| c.as_os_str()).collect();
        if comps.is_empty() {
            return rest.to_path_buf();
        }
        let k = self.rng.below(comps.len());
        let mut prefix = base.to_path_buf();
        for c in &comps[..k] {
            prefix.push(c);
        }
        let subdirs: Vec<PathBuf> = self
            .m
            .children(&prefix)
            .into_iter()
            .filter(|(_, kind)| *kind == Kind::Dir)
            .map(|(p, _)| p)
            .collect();
        let Some(x) = self.rng.pick(&subdirs) else {
            return rest.to_path_buf();
        };
        let mut out = PathBuf::new();
        for c in &comps[..k] {
            out.push(c);
        }
        if let Some(name) = x.file_name() {
            out.push(name);
            out.push("..");
        }
        for c in &comps[k..] {
            out.push(c);
        }
        out
    }

    /// How to name `target` (relative to root; its parent is a directory of
    /// the model): through a directory descriptor, the working directory or
    /// an absolute path. With `stale_ok`, sometimes through a descriptor or
    /// working directory whose directory was removed (the call then fails).
    fn addr(&mut self, target: &Path, stale_ok: bool) -> Option<Addr> {
        let parent = target.parent()?.to_path_buf();
        let file_name = target.file_name()?.to_os_string();
        if stale_ok && self.rng.chance(4) {
            // Only directories the kernel too says are removed: a bare name
            // in them can only fail (ENOENT).
            let mut stale: Vec<c_int> = self
                .pool
                .iter()
                .filter(|s| s.rel.is_none() && fd_is_removed(s.fd))
                .map(|s| s.fd)
                .collect();
            if self.cwd.is_none() && self.cwd_removed && std::env::current_dir().is_err() {
                stale.push(libc::AT_FDCWD);
            }
            if let Some(fd) = self.rng.pick(&stale) {
                let name = CString::new(file_name.as_bytes()).ok()?;
                return Some(Addr { fd, name });
            }
        }
        let r = self.rng.below(100);
        let rel_name = if r < 55 {
            self.addr_fd(target, &parent)
        } else if r < 80 {
            self.addr_cwd(target, &parent)
        } else {
            None
        };
        if let Some((fd, name)) = rel_name {
            return Some(Addr {
                fd,
                name: cstring(&name)?,
            });
        }
        // Absolute: the descriptor is ignored by the kernel.
        let fd = if self.rng.chance(20) {
            let i = self.rng.below(self.pool.len());
            self.pool[i].fd
        } else {
            libc::AT_FDCWD
        };
        Some(Addr {
            fd,
            name: cstring(&self.abs(target))?,
        })
    }

    fn addr_fd(&mut self, target: &Path, parent: &Path) -> Option<(c_int, PathBuf)> {
        let mut below = Vec::new();
        let mut others = Vec::new();
        for (i, s) in self.pool.iter().enumerate() {
            match &s.rel {
                Some(d) if parent.starts_with(d) => below.push(i),
                Some(_) => others.push(i),
                None => {}
            }
        }
        if !others.is_empty() && self.rng.chance(20) {
            let i = self.rng.pick(&others)?;
            let d = self.pool[i].rel.clone()?;
            if self.fd_is_at(self.pool[i].fd, &d) {
                return Some((self.pool[i].fd, relative_entry(&d, target)?));
            }
        }
        let i = self.rng.pick(&below)?;
        let d = self.pool[i].rel.clone()?;
        let rest = target.strip_prefix(&d).ok()?.to_path_buf();
        let name = if self.rng.chance(25) {
            self.detour(&d, &rest)
        } else {
            rest
        };
        Some((self.pool[i].fd, name))
    }

    fn addr_cwd(&mut self, target: &Path, parent: &Path) -> Option<(c_int, PathBuf)> {
        let c = self.cwd.clone()?;
        if parent.starts_with(&c) {
            let rest = target.strip_prefix(&c).ok()?.to_path_buf();
            let name = if self.rng.chance(25) {
                self.detour(&c, &rest)
            } else {
                rest
            };
            Some((libc::AT_FDCWD, name))
        } else if self.cwd_is_at(&c) {
            Some((libc::AT_FDCWD, relative_entry(&c, target)?))
        } else {
            None
        }
    }

    // ---------------------------------------------------------- choosing ----

    fn pick(&mut self, f: impl Fn(&Path, Kind) -> bool) -> Option<PathBuf> {
        let v = self.m.select(f);
        self.rng.pick(&v)
    }

    /// The model's kind of what symlink `p` points to (one level: `None`
    /// when it dangles, or is not a symlink made of normal components).
    fn link_leads_to(&self, p: &Path) -> Option<Kind> {
        let t = std::fs::read_link(self.abs(p)).ok()?;
        if !safe_target(&t) {
            return None;
        }
        self.m.kind(&p.parent()?.join(t))
    }

    /// An entry for a call that follows a final symlink: a file or
    /// directory (if `dirs`), or a symlink leading to one.
    fn pick_followable(&mut self, dirs: bool) -> Option<PathBuf> {
        let ok = |k: Option<Kind>| k == Some(Kind::File) || (dirs && k == Some(Kind::Dir));
        let v: Vec<PathBuf> = self
            .m
            .entries
            .iter()
            .filter(|(p, k)| match **k {
                Kind::Symlink => ok(self.link_leads_to(p)),
                k => ok(Some(k)),
            })
            .map(|(p, _)| p.clone())
            .collect();
        self.rng.pick(&v)
    }

    /// A directory to create something in (often one with a descriptor).
    fn pick_dir_for_new(&mut self) -> Option<PathBuf> {
        let pooled: Vec<PathBuf> = self
            .pool
            .iter()
            .filter_map(|s| s.rel.clone())
            .filter(|r| depth(r) < MAX_DEPTH && self.m.is_dir(r))
            .collect();
        if !pooled.is_empty() && self.rng.chance(40) {
            return self.rng.pick(&pooled);
        }
        let dirs: Vec<PathBuf> = self
            .m
            .dirs()
            .into_iter()
            .filter(|d| depth(d) < MAX_DEPTH)
            .collect();
        self.rng.pick(&dirs)
    }

    /// A name not in the model in `dir`, as a path relative to root: mostly
    /// `f12`-like, sometimes with a space or non-ASCII characters.
    fn new_name(&mut self, dir: &Path, prefix: &str) -> Option<PathBuf> {
        for _ in 0..10 {
            let n = self.rng.below(1000);
            let name = if self.rng.chance(6) {
                match self.rng.below(3) {
                    0 => format!("{prefix} {n}"),
                    1 => format!("café{n}"),
                    _ => format!("{prefix}ü{n}"),
                }
            } else {
                format!("{prefix}{n}")
            };
            let p = dir.join(name);
            if self.m.kind(&p).is_none() {
                return Some(p);
            }
        }
        None
    }

    fn prefix_for(kind: Kind) -> &'static str {
        match kind {
            Kind::Dir => "d",
            Kind::Symlink | Kind::BadSymlink => "l",
            _ => "f",
        }
    }

    /// A destination directory for moving `src` (not inside it, not too deep).
    fn pick_dest_dir(&mut self, src: &Path) -> Option<PathBuf> {
        let h = self.m.height(src);
        let dirs: Vec<PathBuf> = self
            .m
            .dirs()
            .into_iter()
            .filter(|d| !d.starts_with(src) && depth(d) + 1 + h <= MAX_MOVED_DEPTH)
            .collect();
        self.rng.pick(&dirs)
    }

    fn content(&self, kind: &str) -> Vec<u8> {
        format!("{kind} op {}\n", self.step).into_bytes()
    }

    /// `NULL` (now), or two timespecs mixing fixed times, `UTIME_NOW` and
    /// `UTIME_OMIT`.
    fn times(&mut self) -> Option<[libc::timespec; 2]> {
        let choice = self.rng.below(4);
        if choice == 0 {
            return None;
        }
        let mut t = [libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        }; 2];
        for ts in &mut t {
            ts.tv_sec = 1_500_000_000 + self.rng.below(200_000_000) as libc::time_t;
            ts.tv_nsec = self.rng.below(1_000_000_000) as libc::c_long;
        }
        match choice {
            1 => {
                t[0].tv_nsec = libc::UTIME_NOW;
                t[1].tv_nsec = libc::UTIME_OMIT;
            }
            2 => t[0].tv_nsec = libc::UTIME_OMIT,
            _ => {}
        }
        Some(t)
    }

    // ----------------------------------------------------------- dispatch ----

    fn one_op(&mut self) -> (&'static str, bool) {
        let big = self.m.entries.len() > MAX_ENTRIES;
        let total: u32 = OPS.iter().map(|o| if big { o.2 } else { o.1 }).sum();
        for _ in 0..40 {
            let mut r = self.rng.below(total as usize) as u32;
            let mut kind = OPS[0].0;
            for &(name, normal, large) in OPS {
                let wgt = if big { large } else { normal };
                if r < wgt {
                    kind = name;
                    break;
                }
                r -= wgt;
            }
            if let Some(ok) = self.dispatch(kind) {
                return (kind, ok);
            }
        }
        match self.op_create() {
            Some(ok) => ("create", ok),
            None => ("create", false),
        }
    }

    /// `None`: not applicable now (no syscall made).
    fn dispatch(&mut self, kind: &str) -> Option<bool> {
        match kind {
            "create" => self.op_create(),
            "truncate" => self.op_open_existing(true),
            "append" => self.op_open_existing(false),
            "mkdir" => self.op_mkdir(),
            "unlink" => self.op_unlink(false),
            "unlink-symlink" => self.op_unlink(true),
            "rmdir" => self.op_rmdir(),
            "rm-tree" => self.op_rm_tree(),
            "rename-file" => self.op_rename_file(),
            "rename-replace" => self.op_rename_replace(),
            "rename-replace-dir" => self.op_rename_replace_dir(),
            "rename-dir" => self.op_rename_dir(),
            "noreplace" => self.op_noreplace(),
            "exchange" => self.op_exchange(),
            "tmpfile-link" => self.op_tmpfile_link(),
            "link" => self.op_link(),
            "symlink" => self.op_symlink(),
            "chmod" => self.op_chmod(),
            "chown" => self.op_chown(false),
            "chown-nofollow" => self.op_chown(true),
            "utimens" => self.op_utimens(false),
            "utimens-nofollow" => self.op_utimens(true),
            "proc-fd-chmod" => self.op_proc_fd(true),
            "proc-fd-chown" => self.op_proc_fd(false),
            "chdir" => self.op_chdir(),
            "fchdir" => self.op_fchdir(),
            "open-dir" => self.op_open_dir(),
            _ => None,
        }
    }

    // -------------------------------------------------------- operations ----

    /// Writes this operation's content to `fd` and closes it.
    fn write_close(&self, fd: c_int, kind: &str) -> bool {
        let ok = sys::write(fd, &self.content(kind));
        sys::close(fd);
        ok
    }

    fn op_create(&mut self) -> Option<bool> {
        let dir = self.pick_dir_for_new()?;
        let target = self.new_name(&dir, "f")?;
        let a = self.addr(&target, true)?;
        let extra = match self.rng.below(4) {
            0 => 0,
            1 => libc::O_EXCL,
            2 => libc::O_TRUNC,
            _ => libc::O_EXCL | libc::O_TRUNC,
        };
        let mode = [0o644, 0o600, 0o640, 0o664][self.rng.below(4)];
        let fd = sys::openat(
            a.fd,
            &a.name,
            libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC | extra,
            mode,
        );
        if fd < 0 {
            return Some(false);
        }
        let ok = self.write_close(fd, "create");
        self.m.entries.insert(target, Kind::File);
        Some(ok)
    }

    /// `truncate` (O_CREAT|O_TRUNC of an existing file) or `append`.
    fn op_open_existing(&mut self, truncate: bool) -> Option<bool> {
        let via_link = self.rng.chance(15);
        let target = if via_link {
            let links: Vec<PathBuf> = self
                .m
                .select(|_, k| k == Kind::Symlink)
                .into_iter()
                .filter(|p| self.link_leads_to(p) == Some(Kind::File))
                .collect();
            self.rng.pick(&links)
        } else {
            None
        }
        .or_else(|| self.pick(|_, k| k == Kind::File))?;
        let is_link = self.m.kind(&target) == Some(Kind::Symlink);
        let a = self.addr(&target, false)?;
        let mut flags = libc::O_WRONLY | libc::O_CLOEXEC;
        flags |= if truncate {
            libc::O_CREAT | libc::O_TRUNC
        } else {
            libc::O_APPEND
        };
        // A symlink may lead to a FIFO: never block on it.
        flags |= if is_link {
            libc::O_NONBLOCK
        } else {
            libc::O_NOFOLLOW
        };
        let fd = sys::openat(a.fd, &a.name, flags, 0o644);
        if is_link && truncate {
            // Only links to model files are chosen; should the model be
            // wrong, a dangling target would be created: rebuild it.
            self.dirty = true;
        }
        if fd < 0 {
            return Some(false);
        }
        Some(self.write_close(fd, if truncate { "truncate" } else { "append" }))
    }

    fn op_mkdir(&mut self) -> Option<bool> {
        let dir = self.pick_dir_for_new()?;
        let target = self.new_name(&dir, "d")?;
        let a = self.addr(&target, true)?;
        let mode = DIR_MODES[self.rng.below(DIR_MODES.len())];
        if !sys::mkdirat(a.fd, &a.name, mode) {
            return Some(false);
        }
        self.m.entries.insert(target, Kind::Dir);
        Some(true)
    }

    fn op_unlink(&mut self, symlink: bool) -> Option<bool> {
        let target = if symlink {
            self.pick(|_, k| matches!(k, Kind::Symlink | Kind::BadSymlink))?
        } else {
            self.pick(|_, k| matches!(k, Kind::File | Kind::Other))?
        };
        let a = self.addr(&target, false)?;
        if !sys::unlinkat(a.fd, &a.name, 0) {
            return Some(false);
        }
        self.apply_remove(&target);
        Some(true)
    }

    fn op_rmdir(&mut self) -> Option<bool> {
        let empty = self
            .m
            .select(|_, k| k == Kind::Dir)
            .into_iter()
            .filter(|p| self.m.descendants(p) == 0)
            .collect::<Vec<_>>();
        let target = self.rng.pick(&empty)?;
        let a = self.addr(&target, false)?;
        if !sys::unlinkat(a.fd, &a.name, libc::AT_REMOVEDIR) {
            return Some(false);
        }
        self.apply_remove(&target);
        Some(true)
    }

    fn op_rm_tree(&mut self) -> Option<bool> {
        let small: Vec<PathBuf> = self
            .m
            .select(|_, k| k == Kind::Dir)
            .into_iter()
            .filter(|p| (1..=MAX_RM_TREE).contains(&self.m.descendants(p)))
            .collect();
        let target = self.rng.pick(&small)?;
        let a = self.addr(&target, false)?;
        let fd = sys::openat(a.fd, &a.name, DIR_OPEN | libc::O_NOFOLLOW, 0);
        if fd < 0 {
            return Some(false);
        }
        let ok = self.rm_contents(fd, &target);
        sys::close(fd);
        let ok = ok && sys::unlinkat(a.fd, &a.name, libc::AT_REMOVEDIR);
        if ok {
            self.apply_remove(&target);
        } else {
            self.dirty = true;
        }
        Some(ok)
    }

    /// Removes what the model has in `dir` (open as `fd`), bottom-up, each
    /// level through its own descriptor; stops at the first failure.
    fn rm_contents(&self, fd: c_int, dir: &Path) -> bool {
        for (child, kind) in self.m.children(dir) {
            let Some(name) = child
                .file_name()
                .and_then(|n| CString::new(n.as_bytes()).ok())
            else {
                return false;
            };
            if kind == Kind::Dir {
                let cfd = sys::openat(fd, &name, DIR_OPEN | libc::O_NOFOLLOW, 0);
                if cfd < 0 {
                    return false;
                }
                let ok = self.rm_contents(cfd, &child);
                sys::close(cfd);
                if !ok || !sys::unlinkat(fd, &name, libc::AT_REMOVEDIR) {
                    return false;
                }
            } else if !sys::unlinkat(fd, &name, 0) {
                return false;
            }
        }
        true
    }

    fn op_rename_file(&mut self) -> Option<bool> {
        let src = self.pick(|_, k| matches!(k, Kind::File | Kind::Symlink | Kind::Other))?;
        let kind = self.m.kind(&src)?;
        let dir = if self.rng.chance(30) {
            src.parent()?.to_path_buf()
        } else {
            self.pick_dir_for_new()?
        };
        let dst = self.new_name(&dir, Self::prefix_for(kind))?;
        self.rename(&src, &dst, false)
    }

    /// `renameat(src, dst)` through descriptors; on success, the model
    /// follows (`replace`: what was at `dst` is gone first).
    fn rename(&mut self, src: &Path, dst: &Path, replace: bool) -> Option<bool> {
        let a = self.addr(src, false)?;
        let b = self.addr(dst, false)?;
        if !sys::renameat(a.fd, &a.name, b.fd, &b.name) {
            return Some(false);
        }
        if replace {
            self.apply_remove(dst);
        }
        self.apply_move(src, dst);
        Some(true)
    }

    fn op_rename_replace(&mut self) -> Option<bool> {
        let src = self.pick(|_, k| matches!(k, Kind::File | Kind::Symlink))?;
        let dst = self.pick(|p, k| k == Kind::File && p != src.as_path())?;
        if !self.rename(&src, &dst, true)? {
            return Some(false);
        }
        // Two hard links of one inode: rename(2) does nothing and succeeds.
        self.dirty = true;
        Some(true)
    }

    fn op_rename_replace_dir(&mut self) -> Option<bool> {
        let src = self.pick(|_, k| k == Kind::Dir)?;
        let h = self.m.height(&src);
        let empty: Vec<PathBuf> = self
            .m
            .select(|p, k| {
                k == Kind::Dir && !p.starts_with(&src) && depth(p) + h <= MAX_MOVED_DEPTH
            })
            .into_iter()
            .filter(|p| self.m.descendants(p) == 0)
            .collect();
        let dst = self.rng.pick(&empty)?;
        if !self.rename(&src, &dst, true)? {
            return Some(false);
        }
        Some(true)
    }

    fn op_rename_dir(&mut self) -> Option<bool> {
        let src = self
            .m
            .select(|_, k| k == Kind::Dir)
            .into_iter()
            .filter(|p| self.m.descendants(p) > 0)
            .collect::<Vec<_>>();
        let src = self.rng.pick(&src)?;
        let dir = self.pick_dest_dir(&src)?;
        let dst = self.new_name(&dir, "d")?;
        self.rename(&src, &dst, false)
    }

    fn op_noreplace(&mut self) -> Option<bool> {
        let src = self.pick(|_, k| k != Kind::BadSymlink)?;
        let kind = self.m.kind(&src)?;
        let dir = self.pick_dest_dir(&src)?;
        let dst = self.new_name(&dir, Self::prefix_for(kind))?;
        let a = self.addr(&src, false)?;
        let b = self.addr(&dst, false)?;
        if !sys::renameat2(a.fd, &a.name, b.fd, &b.name, RENAME_NOREPLACE) {
            return Some(false);
        }
        self.apply_move(&src, &dst);
        Some(true)
    }

    fn op_exchange(&mut self) -> Option<bool> {
        let file = |k: Kind| matches!(k, Kind::File | Kind::Symlink);
        let (first_dir, second_dir) = match self.rng.below(3) {
            0 => (false, false),
            1 => (false, true),
            _ => (true, true),
        };
        let want =
            |is_dir: bool| move |_: &Path, k: Kind| if is_dir { k == Kind::Dir } else { file(k) };
        let x = self.pick(want(first_dir))?;
        let hx = self.m.height(&x);
        let dx = depth(x.parent()?);
        let candidates: Vec<PathBuf> = self
            .m
            .select(want(second_dir))
            .into_iter()
            .filter(|y| {
                !y.starts_with(&x)
                    && !x.starts_with(y)
                    && y.parent()
                        .is_some_and(|py| depth(py) + 1 + hx <= MAX_MOVED_DEPTH)
                    && dx + 1 + self.m.height(y) <= MAX_MOVED_DEPTH
            })
            .collect();
        let y = self.rng.pick(&candidates)?;
        let a = self.addr(&x, false)?;
        let b = self.addr(&y, false)?;
        if !sys::renameat2(a.fd, &a.name, b.fd, &b.name, RENAME_EXCHANGE) {
            return Some(false);
        }
        self.apply_swap(&x, &y);
        Some(true)
    }

    fn op_tmpfile_link(&mut self) -> Option<bool> {
        let pooled: Vec<usize> = (0..self.pool.len())
            .filter(|&i| {
                self.pool[i]
                    .rel
                    .as_deref()
                    .is_some_and(|r| depth(r) < MAX_DEPTH)
            })
            .collect();
        let (dirfd, dir_name, dir) = match self.rng.pick(&pooled) {
            Some(i) if self.rng.chance(70) => (
                self.pool[i].fd,
                PathBuf::from("."),
                self.pool[i].rel.clone()?,
            ),
            _ => {
                let dir = self.pick_dir_for_new()?;
                if dir.as_os_str().is_empty() {
                    (self.pool[0].fd, PathBuf::from("."), dir)
                } else {
                    let a = self.addr(&dir, false)?;
                    let name = PathBuf::from(std::ffi::OsStr::from_bytes(a.name.as_bytes()));
                    (a.fd, name, dir)
                }
            }
        };
        let target = self.new_name(&dir, "f")?;
        let link_name = if dir_name == Path::new(".") {
            PathBuf::from(target.file_name()?)
        } else {
            dir_name.join(target.file_name()?)
        };
        let dir_c = cstring(&dir_name)?;
        let link_c = cstring(&link_name)?;
        let tfd = sys::openat(
            dirfd,
            &dir_c,
            libc::O_TMPFILE | libc::O_WRONLY | libc::O_CLOEXEC,
            0o644,
        );
        if tfd < 0 {
            return Some(false);
        }
        let wrote = sys::write(tfd, &self.content("tmpfile-link"));
        let linked = sys::linkat(
            libc::AT_FDCWD,
            &proc_fd(tfd),
            dirfd,
            &link_c,
            libc::AT_SYMLINK_FOLLOW,
        );
        sys::close(tfd);
        if linked {
            self.m.entries.insert(target, Kind::File);
        }
        Some(wrote && linked)
    }

    fn op_link(&mut self) -> Option<bool> {
        let src = self.pick(|_, k| k == Kind::File)?;
        let dir = self.pick_dir_for_new()?;
        let dst = self.new_name(&dir, "h")?;
        let a = self.addr(&src, false)?;
        let b = self.addr(&dst, true)?;
        let flags = if self.rng.chance(25) {
            libc::AT_SYMLINK_FOLLOW
        } else {
            0
        };
        if !sys::linkat(a.fd, &a.name, b.fd, &b.name, flags) {
            return Some(false);
        }
        self.m.entries.insert(dst, Kind::File);
        Some(true)
    }

    fn op_symlink(&mut self) -> Option<bool> {
        let dir = self.pick_dir_for_new()?;
        let link = self.new_name(&dir, "l")?;
        // Never towards a pre-existing unsafe symlink or a FIFO/device.
        let plain = |k: Kind| matches!(k, Kind::File | Kind::Dir | Kind::Symlink);
        let children: Vec<(PathBuf, Kind)> = self
            .m
            .children(&dir)
            .into_iter()
            .filter(|(_, k)| plain(*k))
            .collect();
        // Relative, `..`-free targets only: a sibling, a name that does not
        // exist, or something in a subdirectory.
        let target: PathBuf = match self.rng.below(4) {
            0 | 1 if !children.is_empty() => {
                let (c, _) = self.rng.pick(&children)?;
                PathBuf::from(c.file_name()?)
            }
            2 => PathBuf::from(format!("n{}", self.rng.below(100))),
            _ => {
                let deeper: Vec<PathBuf> = self
                    .m
                    .entries
                    .iter()
                    .filter(|(p, k)| {
                        plain(**k) && p.parent().and_then(Path::parent) == Some(dir.as_path())
                    })
                    .map(|(p, _)| p.clone())
                    .collect();
                match self.rng.pick(&deeper) {
                    Some(p) => p.strip_prefix(&dir).ok()?.to_path_buf(),
                    None => PathBuf::from(format!("n{}", self.rng.below(100))),
                }
            }
        };
        if !safe_target(&target) {
            return None;
        }
        let target_c = cstring(&target)?;
        let a = self.addr(&link, true)?;
        if !sys::symlinkat(&target_c, a.fd, &a.name) {
            return Some(false);
        }
        self.m.entries.insert(link, Kind::Symlink);
        Some(true)
    }

    fn op_chmod(&mut self) -> Option<bool> {
        let target = self.pick_followable(true)?;
        let mode = if self.m.kind(&target) == Some(Kind::File) {
            FILE_MODES[self.rng.below(FILE_MODES.len())]
        } else {
            DIR_MODES[self.rng.below(DIR_MODES.len())]
        };
        let a = self.addr(&target, false)?;
        Some(sys::fchmodat(a.fd, &a.name, mode))
    }

    fn op_chown(&mut self, nofollow: bool) -> Option<bool> {
        let target = if nofollow {
            if self.rng.chance(40) {
                self.pick(|_, k| matches!(k, Kind::Symlink | Kind::BadSymlink))
            } else {
                None
            }
            .or_else(|| self.pick(|_, _| true))?
        } else {
            self.pick_followable(true)?
        };
        let uid = IDS[self.rng.below(IDS.len())];
        let gid = IDS[self.rng.below(IDS.len())];
        let a = self.addr(&target, false)?;
        let flags = if nofollow {
            libc::AT_SYMLINK_NOFOLLOW
        } else {
            0
        };
        Some(sys::fchownat(a.fd, &a.name, uid, gid, flags))
    }

    fn op_utimens(&mut self, nofollow: bool) -> Option<bool> {
        let target = if nofollow {
            self.pick(|_, _| true)?
        } else {
            self.pick_followable(true)?
        };
        let times = self.times();
        let a = self.addr(&target, false)?;
        let flags = if nofollow {
            libc::AT_SYMLINK_NOFOLLOW
        } else {
            0
        };
        Some(sys::utimensat(a.fd, &a.name, times.as_ref(), flags))
    }

    /// What glibc does for `fchmodat(AT_SYMLINK_NOFOLLOW)` / `lchown`-like
    /// calls: an `O_PATH` descriptor, then the path `/proc/self/fd/N`.
    fn op_proc_fd(&mut self, chmod: bool) -> Option<bool> {
        let target = if chmod {
            self.pick(|_, k| matches!(k, Kind::File | Kind::Dir))?
        } else {
            self.pick(|_, k| matches!(k, Kind::File | Kind::Dir | Kind::Symlink))?
        };
        let mode = if self.m.kind(&target) == Some(Kind::File) {
            FILE_MODES[self.rng.below(FILE_MODES.len())]
        } else {
            DIR_MODES[self.rng.below(DIR_MODES.len())]
        };
        let uid = IDS[self.rng.below(IDS.len())];
        let gid = IDS[self.rng.below(IDS.len())];
        let a = self.addr(&target, false)?;
        let fd = sys::openat(
            a.fd,
            &a.name,
            libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            0,
        );
        if fd < 0 {
            return Some(false);
        }
        let path = proc_fd(fd);
        let ok = if chmod {
            sys::chmod(&path, mode)
        } else {
            sys::chown(&path, uid, gid)
        };
        sys::close(fd);
        Some(ok)
    }

    fn op_chdir(&mut self) -> Option<bool> {
        let dirs = self.m.dirs();
        let target = self.rng.pick(&dirs)?;
        let path = match self.cwd.clone() {
            Some(c) if self.rng.chance(60) && (target.starts_with(&c) || self.cwd_is_at(&c)) => {
                relative(&c, &target)
            }
            _ => self.abs(&target),
        };
        if !sys::chdir(&cstring(&path)?) {
            return Some(false);
        }
        self.cwd = Some(target);
        self.cwd_removed = false;
        Some(true)
    }

    fn op_fchdir(&mut self) -> Option<bool> {
        let live: Vec<usize> = (0..self.pool.len())
            .filter(|&i| self.pool[i].rel.is_some())
            .collect();
        let stale: Vec<usize> = (0..self.pool.len())
            .filter(|&i| self.pool[i].rel.is_none())
            .collect();
        let i = if !stale.is_empty() && self.rng.chance(5) {
            self.rng.pick(&stale)?
        } else {
            self.rng.pick(&live)?
        };
        if !sys::fchdir(self.pool[i].fd) {
            return Some(false);
        }
        self.cwd = self.pool[i].rel.clone();
        self.cwd_removed = self.cwd.is_none();
        Some(true)
    }

    /// Opens a directory 1-3 levels deep (root if there is none) as a new
    /// pool descriptor, closing an old one (a stale one first) when full.
    fn op_open_dir(&mut self) -> Option<bool> {
        let dirs = self.m.dirs();
        let shallow: Vec<PathBuf> = dirs
            .iter()
            .filter(|d| (1..=3).contains(&depth(d)))
            .cloned()
            .collect();
        let target = if shallow.is_empty() {
            self.rng.pick(&dirs)?
        } else {
            self.rng.pick(&shallow)?
        };
        let fd = if target.as_os_str().is_empty() || self.rng.chance(50) {
            sys::openat(libc::AT_FDCWD, &cstring(&self.abs(&target))?, DIR_OPEN, 0)
        } else {
            let a = self.addr(&target, false)?;
            sys::openat(a.fd, &a.name, DIR_OPEN, 0)
        };
        if fd < 0 {
            return Some(false);
        }
        let slot = Slot {
            fd,
            rel: Some(target),
        };
        if self.pool.len() < MAX_POOL {
            self.pool.push(slot);
        } else {
            let victim = match (1..self.pool.len()).find(|&i| self.pool[i].rel.is_none()) {
                Some(i) => i,
                None => 1 + self.rng.below(self.pool.len() - 1),
            };
            let old = std::mem::replace(&mut self.pool[victim], slot);
            sys::close(old.fd);
        }
        Some(true)
    }
}

const DIR_OPEN: c_int = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;

// --------------------------------------------------------------- syscalls ----

/// Thin wrappers: `true` (or a descriptor ≥ 0) on success, errno ignored.
mod sys {
    use super::{c_int, CStr};

    pub fn openat(dirfd: c_int, path: &CStr, flags: c_int, mode: libc::mode_t) -> c_int {
        // SAFETY: `path` is a NUL-terminated string alive for the whole call
        // and only read by the kernel; `dirfd` is AT_FDCWD or a descriptor
        // number (a bad one fails with EBADF); `mode` is the `mode_t` the
        // variadic prototype reads (only with O_CREAT/O_TMPFILE).
        unsafe { libc::openat(dirfd, path.as_ptr(), flags, mode) }
    }

    /// Closes a descriptor this module opened and forgets it.
    pub fn close(fd: c_int) {
        // SAFETY: callers pass only descriptors returned by `openat` above
        // and owned by the workload, each closed exactly once; no Rust object
        // (File, OwnedFd) owns them.
        unsafe {
            libc::close(fd);
        }
    }

    pub fn write(fd: c_int, buf: &[u8]) -> bool {
        // SAFETY: `buf` is a live slice: `buf.len()` readable bytes at
        // `buf.as_ptr()`; the kernel only reads them.
        unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) >= 0 }
    }

    pub fn mkdirat(dirfd: c_int, path: &CStr, mode: libc::mode_t) -> bool {
        // SAFETY: `path` is a NUL-terminated string alive for the call; the
        // kernel only reads it. A bad `dirfd` fails with EBADF.
        unsafe { libc::mkdirat(dirfd, path.as_ptr(), mode) == 0 }
    }

    pub fn unlinkat(dirfd: c_int, path: &CStr, flags: c_int) -> bool {
        // SAFETY: as for `mkdirat`: a borrowed NUL-terminated path, plain ints.
        unsafe { libc::unlinkat(dirfd, path.as_ptr(), flags) == 0 }
    }

    pub fn renameat(olddirfd: c_int, old: &CStr, newdirfd: c_int, new: &CStr) -> bool {
        // SAFETY: both paths are NUL-terminated strings alive for the call,
        // only read by the kernel; the descriptors are plain ints.
        unsafe { libc::renameat(olddirfd, old.as_ptr(), newdirfd, new.as_ptr()) == 0 }
    }

    pub fn renameat2(
        olddirfd: c_int,
        old: &CStr,
        newdirfd: c_int,
        new: &CStr,
        flags: libc::c_uint,
    ) -> bool {
        // SAFETY: renameat2(2) takes (int, const char *, int, const char *,
        // unsigned int), which is what is passed; both paths are
        // NUL-terminated strings alive for the call, only read.
        unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                olddirfd,
                old.as_ptr(),
                newdirfd,
                new.as_ptr(),
                flags,
            ) == 0
        }
    }

    pub fn linkat(olddirfd: c_int, old: &CStr, newdirfd: c_int, new: &CStr, flags: c_int) -> bool {
        // SAFETY: both paths are NUL-terminated strings alive for the call,
        // only read by the kernel; the rest are plain ints.
        unsafe { libc::linkat(olddirfd, old.as_ptr(), newdirfd, new.as_ptr(), flags) == 0 }
    }

    pub fn symlinkat(target: &CStr, dirfd: c_int, path: &CStr) -> bool {
        // SAFETY: both strings are NUL-terminated and alive for the call,
        // only read by the kernel.
        unsafe { libc::symlinkat(target.as_ptr(), dirfd, path.as_ptr()) == 0 }
    }

    pub fn fchmodat(dirfd: c_int, path: &CStr, mode: libc::mode_t) -> bool {
        // SAFETY: a borrowed NUL-terminated path and plain ints; flags 0 (the
        // plain fchmodat syscall).
        unsafe { libc::fchmodat(dirfd, path.as_ptr(), mode, 0) == 0 }
    }

    pub fn fchownat(dirfd: c_int, path: &CStr, uid: u32, gid: u32, flags: c_int) -> bool {
        // SAFETY: a borrowed NUL-terminated path and plain ints.
        unsafe { libc::fchownat(dirfd, path.as_ptr(), uid, gid, flags) == 0 }
    }

    pub fn utimensat(
        dirfd: c_int,
        path: &CStr,
        times: Option<&[libc::timespec; 2]>,
        flags: c_int,
    ) -> bool {
        let times = times.map_or(std::ptr::null(), |t| t.as_ptr());
        // SAFETY: `path` is a borrowed NUL-terminated string; `times` is null
        // (meaning "now") or points to two initialized timespecs that outlive
        // the call; the kernel only reads them.
        unsafe { libc::utimensat(dirfd, path.as_ptr(), times, flags) == 0 }
    }

    pub fn chmod(path: &CStr, mode: libc::mode_t) -> bool {
        // SAFETY: a borrowed NUL-terminated path, only read.
        unsafe { libc::chmod(path.as_ptr(), mode) == 0 }
    }

    pub fn chown(path: &CStr, uid: u32, gid: u32) -> bool {
        // SAFETY: a borrowed NUL-terminated path, only read.
        unsafe { libc::chown(path.as_ptr(), uid, gid) == 0 }
    }

    pub fn chdir(path: &CStr) -> bool {
        // SAFETY: a borrowed NUL-terminated path, only read.
        unsafe { libc::chdir(path.as_ptr()) == 0 }
    }

    pub fn fchdir(fd: c_int) -> bool {
        // SAFETY: plain int argument; a bad descriptor fails with EBADF.
        unsafe { libc::fchdir(fd) == 0 }
    }
}
