//! Filesystem changes: what a file-watch event (`auditctl -w DIR -p wa`) did
//! to which absolute path, classified from the syscall and the PATH records'
//! `nametype`s.
//!
//! Paths are made absolute and lexically normalized here, not by libauparse
//! (whose path join leaves a trailing `..` unapplied). For `*at()` calls
//! relative to a directory descriptor (`rm -r`, `find -delete`), the kernel's
//! PARENT record names the process's cwd rather than the directory, so the
//! directory is found by its inode in a cache of directories seen in earlier
//! events ([`FsTracker`]); when it is unknown, the PARENT record's name is used
//! and the change says so ([`FsChange::dir_known`] is false).

use crate::bytes::{decode_audit_string, Bytes};
use crate::event::{Event, Record};
use crate::types::{RecordType, Timestamp};
use serde::Serialize;
use std::collections::{HashMap, HashSet, VecDeque};

/// What happened to a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ChangeKind {
    /// A file (or device, fifo, socket) was created.
    Created,
    /// A file was opened for writing, or truncated.
    Modified,
    /// A file was removed.
    Deleted,
    /// A file or directory was renamed or moved (`old_path` -> `path`).
    Renamed,
    /// A directory was created.
    DirCreated,
    /// A directory was removed.
    DirRemoved,
    /// A hard link `path` to `target` was created.
    Linked,
    /// A symbolic link `path` pointing to `target` was created.
    Symlinked,
    /// Permissions changed (chmod).
    ModeChanged,
    /// Owner or group changed (chown).
    OwnerChanged,
    /// Extended attributes were set or removed.
    XattrChanged,
    /// Access or modification times were set (touch, utimensat).
    TimesChanged,
}

impl ChangeKind {
    /// Stable lower-case name (`created`, `dir-removed`, ...).
    pub fn as_str(self) -> &'static str {
        use ChangeKind::*;
        match self {
            Created => "created",
            Modified => "modified",
            Deleted => "deleted",
            Renamed => "renamed",
            DirCreated => "dir-created",
            DirRemoved => "dir-removed",
            Linked => "linked",
            Symlinked => "symlinked",
            ModeChanged => "mode-changed",
            OwnerChanged => "owner-changed",
            XattrChanged => "xattr-changed",
            TimesChanged => "times-changed",
        }
    }

    /// The action name for the log line when libauparse's normalized action
    /// is generic (`opened-file`, `triggered-audit-rule`) or missing.
    pub fn specific_action(self) -> &'static str {
        use ChangeKind::*;
        match self {
            Created => "created-file",
            Modified => "modified-file",
            Deleted => "deleted",
            Renamed => "renamed",
            DirCreated => "created-directory",
            DirRemoved => "removed-directory",
            Linked => "created-hard-link",
            Symlinked => "created-symlink",
            ModeChanged => "changed-file-permissions-of",
            OwnerChanged => "changed-file-ownership-of",
            XattrChanged => "changed-file-attributes-of",
            TimesChanged => "changed-timestamp-of",
        }
    }
}

/// One filesystem change of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FsChange {
    /// What happened.
    pub kind: ChangeKind,
    /// The action name: libauparse's normalized action, or a specific name
    /// where that is generic (see [`ChangeKind::specific_action`]).
    pub action: String,
    /// Absolute, normalized path of the object (the new name of a rename).
    pub path: Bytes,
    /// The old name of a rename.
    pub old_path: Option<Bytes>,
    /// Target of a hard link (absolute) or symlink (as written).
    pub target: Option<Bytes>,
    /// `file`, `dir`, `symlink`, `char-device`, `block-device`, `fifo`,
    /// `socket`, from the PATH record's mode, when it has one.
    pub file_type: Option<&'static str>,
    /// Inode of the object, when the record has one.
    pub inode: Option<u64>,
    /// The syscall succeeded.
    pub success: bool,
    /// The syscall name (`openat`, `unlinkat`, ...).
    pub syscall: String,
    /// Serial of the event the change belongs to.
    pub serial: u64,
    /// Time of that event.
    pub timestamp: Timestamp,
    /// False when the path is relative to a directory descriptor whose
    /// directory was not seen before: then the PARENT record's name stands in
    /// for it and the path may be wrong.
    pub dir_known: bool,
    /// False when the event has fewer PATH records than its SYSCALL record's
    /// `items` announces: the input ended (or was cut) inside the event, so
    /// the change is classified from what arrived and may name a parent
    /// directory instead of the file.
    pub complete: bool,
}

/// One PATH record, decoded.
#[derive(Debug, Clone)]
struct Item {
    index: usize,
    name: Option<Vec<u8>>,
    nametype: Vec<u8>,
    inode: Option<u64>,
    dev: Option<Vec<u8>>,
    mode: Option<u32>,
}

impl Item {
    fn from_record(r: &Record, index: usize) -> Item {
        let get = |n: &str| r.field(n).map(|f| &f.raw[..]);
        let item_no = get("item")
            .and_then(|v| std::str::from_utf8(v).ok()?.parse().ok())
            .unwrap_or(index);
        Item {
            index: item_no,
            name: get("name").and_then(decode_audit_string),
            nametype: get("nametype")
                .or(get("objtype"))
                .unwrap_or_default()
                .to_vec(),
            inode: get("inode").and_then(|v| std::str::from_utf8(v).ok()?.parse().ok()),
            dev: get("dev").map(<[u8]>::to_vec),
            mode: get("mode")
                .and_then(|v| u32::from_str_radix(std::str::from_utf8(v).ok()?, 8).ok()),
        }
    }

    fn is(&self, nametype: &str) -> bool {
        self.nametype == nametype.as_bytes()
    }

    fn file_type(&self) -> Option<&'static str> {
        Some(match self.mode? & 0o170000 {
            0o040000 => "dir",
            0o100000 => "file",
            0o120000 => "symlink",
            0o020000 => "char-device",
            0o060000 => "block-device",
            0o010000 => "fifo",
            0o140000 => "socket",
            _ => return None,
        })
    }

    fn is_dir(&self) -> bool {
        self.file_type() == Some("dir")
    }
}

const AT_FDCWD: u64 = 0xffffff9c;
const AT_FDCWD_64: u64 = 0xffff_ffff_ffff_ff9c;
const AT_REMOVEDIR: u64 = 0x200;

fn is_fdcwd(v: u64) -> bool {
    v == AT_FDCWD || v == AT_FDCWD_64
}

/// Joins `name` to `base` (when relative) and normalizes lexically: no `//`,
/// no `.`, every `..` applied (never above `/`). A trailing `/` is dropped.
pub fn join_normalize(base: Option<&[u8]>, name: &[u8]) -> Vec<u8> {
    let absolute = name.first() == Some(&b'/') || base.is_some_and(|b| b.first() == Some(&b'/'));
    let mut parts: Vec<&[u8]> = Vec::new();
    let base = if name.first() == Some(&b'/') {
        None
    } else {
        base
    };
    for comp in base
        .into_iter()
        .chain(std::iter::once(name))
        .flat_map(|s| s.split(|&c| c == b'/'))
    {
        match comp {
            b"" | b"." => {}
            b".." => {
                if parts.last().is_some_and(|p| *p != b"..") {
                    parts.pop();
                } else if !absolute {
                    parts.push(b"..");
                }
            }
            c => parts.push(c),
        }
    }
    let mut out = Vec::with_capacity(name.len() + base.map_or(0, <[u8]>::len) + 1);
    if absolute {
        out.push(b'/');
    }
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(p);
    }
    if out.is_empty() {
        out.push(b'.');
    }
    out
}

type DirKey = (Vec<u8>, u64);

/// Where a path is: known, or a name inside a directory known only by inode.
#[derive(Debug, Clone)]
enum Loc {
    Known(Vec<u8>),
    InDir {
        dir: DirKey,
        name: Vec<u8>,
        fallback: Vec<u8>,
    },
}

/// A change whose path may still wait for its directory to be known.
#[derive(Debug)]
struct Draft {
    change: FsChange,
    path: Loc,
    old: Option<Loc>,
    target: Option<Loc>,
    time: Timestamp,
}

/// Remembers where directories are (by device and inode) from the events it
/// has seen, to resolve paths relative to directory descriptors.
///
/// `rm -r` and `find -delete` remove a tree bottom-up with `unlinkat(dirfd,
/// name)`: each event names the directory only by inode, and the chain of
/// directories reaches a known path only at the last event (the top of the
/// tree, removed relative to the cwd). Such changes wait in the tracker until
/// their directory is known, at most [`max_wait`](Self::set_max_wait) seconds
/// of log time, or until [`flush`](Self::flush); then they are reported with
/// the PARENT record's name standing in (`dir_known = false`).
///
/// Bounded: at most `capacity` directories are remembered (oldest forgotten
/// first) and at most `capacity` changes wait.
#[derive(Debug)]
pub struct FsTracker {
    dirs: HashMap<DirKey, Vec<u8>>,
    /// A directory seen only relative to another one: (parent, name).
    links: HashMap<DirKey, (DirKey, Vec<u8>)>,
    order: VecDeque<DirKey>,
    capacity: usize,
    pending: VecDeque<Draft>,
    max_wait: i64,
    /// Directories removed; forgotten once no waiting change may need them
    /// (their inodes get reused).
    removed: Vec<DirKey>,
}

impl Default for FsTracker {
    fn default() -> Self {
        Self::with_capacity(16_384)
    }
}

impl FsTracker {
    /// A tracker that remembers at most `capacity` directories.
    pub fn with_capacity(capacity: usize) -> Self {
        FsTracker {
            dirs: HashMap::new(),
            links: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
            pending: VecDeque::new(),
            max_wait: 2,
            removed: Vec::new(),
        }
    }

    /// How long (seconds of log time) a change may wait for its directory.
    pub fn set_max_wait(&mut self, secs: u32) {
        self.max_wait = i64::from(secs);
    }

    /// Number of directories remembered.
    pub fn len(&self) -> usize {
        self.dirs.len() + self.links.len()
    }

    /// True when no directory is remembered.
    pub fn is_empty(&self) -> bool {
        self.dirs.is_empty() && self.links.is_empty()
    }

    /// Number of changes waiting for their directory.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// True if a change of the event with this serial is still waiting.
    pub fn is_pending(&self, serial: u64) -> bool {
        self.pending.iter().any(|d| d.change.serial == serial)
    }

    fn bound(&mut self, key: DirKey) {
        self.order.push_back(key);
        while self.dirs.len() + self.links.len() > self.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.dirs.remove(&old);
                    self.links.remove(&old);
                }
                None => break,
            }
        }
        // Keys leave the maps without leaving `order` (a directory removed,
        // a link that became a known directory) and come back (the same
        // inode learned again): drop stale and repeated keys before `order`
        // outgrows the maps, or it grows without bound on a long stream.
        let live = self.dirs.len() + self.links.len();
        if self.order.len() > 2 * live + 64 {
            let mut seen = HashSet::with_capacity(live);
            let mut kept: VecDeque<DirKey> = VecDeque::with_capacity(live);
            // The latest occurrence of each live key keeps its place.
            while let Some(k) = self.order.pop_back() {
                if (self.dirs.contains_key(&k) || self.links.contains_key(&k))
                    && seen.insert(k.clone())
                {
                    kept.push_front(k);
                }
            }
            self.order = kept;
        }
    }

    fn remember(&mut self, dev: &Option<Vec<u8>>, inode: Option<u64>, path: &[u8]) {
        let (Some(dev), Some(ino)) = (dev, inode) else {
            return;
        };
        let key = (dev.clone(), ino);
        self.links.remove(&key);
        if self.dirs.insert(key.clone(), path.to_vec()).is_none() {
            self.bound(key);
        }
    }

    fn link(&mut self, dev: &Option<Vec<u8>>, inode: Option<u64>, parent: DirKey, name: &[u8]) {
        let (Some(dev), Some(ino)) = (dev, inode) else {
            return;
        };
        let key = (dev.clone(), ino);
        if self.dirs.contains_key(&key) {
            return;
        }
        if self
            .links
            .insert(key.clone(), (parent, name.to_vec()))
            .is_none()
        {
            self.bound(key);
        }
    }

    /// The path of a directory, following inode links up to a known one.
    fn dir_path(&self, key: &DirKey) -> Option<Vec<u8>> {
        let mut names: Vec<&[u8]> = Vec::new();
        let mut k = key;
        for _ in 0..256 {
            if let Some(p) = self.dirs.get(k) {
                let mut path = p.clone();
                for n in names.iter().rev() {
                    path = join_normalize(Some(&path), n);
                }
                return Some(path);
            }
            let (parent, name) = self.links.get(k)?;
            names.push(name);
            k = parent;
        }
        None
    }

    fn locate(&self, loc: &Loc) -> Option<Vec<u8>> {
        match loc {
            Loc::Known(p) => Some(p.clone()),
            Loc::InDir { dir, name, .. } => Some(join_normalize(Some(&self.dir_path(dir)?), name)),
        }
    }

    fn finish(&self, d: &Draft, force: bool) -> Option<FsChange> {
        let get = |loc: &Option<Loc>| -> Result<Option<Vec<u8>>, ()> {
            match loc {
                None => Ok(None),
                Some(l) => match self.locate(l) {
                    Some(p) => Ok(Some(p)),
                    None if force => Ok(Some(match l {
                        Loc::InDir { fallback, .. } => fallback.clone(),
                        Loc::Known(p) => p.clone(),
                    })),
                    None => Err(()),
                },
            }
        };
        let (Ok(Some(path)), Ok(old), Ok(target)) =
            (get(&Some(d.path.clone())), get(&d.old), get(&d.target))
        else {
            return None;
        };
        let unresolved = |l: &Loc| matches!(l, Loc::InDir { .. }) && self.locate(l).is_none();
        let mut change = d.change.clone();
        change.dir_known = !(unresolved(&d.path) || d.old.as_ref().is_some_and(unresolved));
        change.path = Bytes::from(path);
        change.old_path = old.map(Bytes::from);
        change.target = target.map(Bytes::from);
        Some(change)
    }

    /// Reports every waiting change now, with fallback paths where the
    /// directory is still unknown. Call at the end of input.
    pub fn flush(&mut self) -> Vec<FsChange> {
        let pending = std::mem::take(&mut self.pending);
        let out = pending
            .into_iter()
            .filter_map(|d| self.finish(&d, true))
            .collect();
        for key in std::mem::take(&mut self.removed) {
            self.dirs.remove(&key);
            self.links.remove(&key);
        }
        out
    }

    /// Reports waiting changes whose directory became known, and those that
    /// waited too long (by log time `now`).
    fn release(&mut self, now: Timestamp, out: &mut Vec<FsChange>) {
        let pending = std::mem::take(&mut self.pending);
        for d in pending {
            let expired = now.sec - d.time.sec > self.max_wait;
            match self.finish(&d, expired) {
                Some(c) => out.push(c),
                None => self.pending.push_back(d),
            }
        }
        self.keep_bound(out);
    }

    /// At most `capacity` changes wait: the oldest beyond are reported with
    /// their fallback paths.
    fn keep_bound(&mut self, out: &mut Vec<FsChange>) {
        while self.pending.len() > self.capacity {
            if let Some(d) = self.pending.pop_front() {
                if let Some(c) = self.finish(&d, true) {
                    out.push(c);
                }
            }
        }
    }

    /// The filesystem changes of `ev` (none for events that are not file
    /// syscalls), plus earlier changes that were waiting for a directory this
    /// event revealed; learns directory locations as it goes.
    pub fn changes(&mut self, ev: &Event) -> Vec<FsChange> {
        let mut out = Vec::new();
        let drafts = self.classify(ev);
        // Waiting changes first: they happened before this event (`rm -r`
        // removes the contents, then the top directory that reveals them).
        if !self.pending.is_empty() {
            self.release(ev.timestamp, &mut out);
        }
        for d in drafts {
            match self.finish(&d, false) {
                Some(c) => out.push(c),
                None => self.pending.push_back(d),
            }
        }
        // Keep the bound after this event's drafts too.
        self.keep_bound(&mut out);
        if self.pending.is_empty() {
            for key in std::mem::take(&mut self.removed) {
                self.dirs.remove(&key);
                self.links.remove(&key);
            }
        }
        out
    }

    fn classify(&mut self, ev: &Event) -> Vec<Draft> {
        // Only syscall events with PATH records change files.
        if !ev.records.iter().any(|r| r.record_type == RecordType::PATH) {
            return Vec::new();
        }
        let Some(sys) = ev.record(RecordType::SYSCALL) else {
            return Vec::new();
        };
        let syscall = sys
            .field("syscall")
            .map(|f| f.interpreted.to_str_escaped().into_owned())
            .unwrap_or_default();
        let success = sys.field("success").is_none_or(|f| f.raw == "yes");
        let path_records = ev
            .records
            .iter()
            .filter(|r| r.record_type == RecordType::PATH)
            .count();
        let complete = sys
            .field("items")
            .and_then(|f| std::str::from_utf8(&f.raw).ok()?.parse::<usize>().ok())
            .is_none_or(|announced| path_records >= announced);
        let arg = |n: &str| {
            sys.field(n)
                .and_then(|f| u64::from_str_radix(std::str::from_utf8(&f.raw).ok()?, 16).ok())
                .unwrap_or(AT_FDCWD)
        };
        let cwd: Option<Vec<u8>> = ev
            .record(RecordType::CWD)
            .and_then(|r| r.field("cwd"))
            .and_then(|f| decode_audit_string(&f.raw));
        let mut items: Vec<Item> = ev
            .records
            .iter()
            .filter(|r| r.record_type == RecordType::PATH)
            .enumerate()
            .map(|(i, r)| Item::from_record(r, i))
            .collect();
        items.sort_by_key(|i| i.index);
        if items.is_empty() {
            return Vec::new();
        }

        // Which directory descriptor each path argument is relative to.
        let s = syscall.as_str();
        let (dirfd1, dirfd2) = match s {
            "openat" | "openat2" | "mkdirat" | "mknodat" | "unlinkat" | "fchmodat"
            | "fchmodat2" | "fchownat" | "utimensat" | "futimesat" | "newfstatat" => {
                (arg("a0"), AT_FDCWD)
            }
            "renameat" | "renameat2" | "linkat" => (arg("a0"), arg("a2")),
            "symlinkat" => (arg("a1"), arg("a1")),
            _ => (AT_FDCWD, AT_FDCWD),
        };
        let dirfd_relative = !is_fdcwd(dirfd1) || !is_fdcwd(dirfd2);
        let parents: Vec<&Item> = items.iter().filter(|i| i.is("PARENT")).collect();

        // Where an item's name points. `second` selects the second path
        // argument (new name of rename/link).
        let locate = |it: &Item, second: bool| -> Option<Loc> {
            let name = it.name.as_deref()?;
            if name.first() == Some(&b'/') {
                return Some(Loc::Known(join_normalize(None, name)));
            }
            let fd = if second { dirfd2 } else { dirfd1 };
            if is_fdcwd(fd) {
                return Some(Loc::Known(join_normalize(cwd.as_deref(), name)));
            }
            // Relative to a directory descriptor: the PARENT record has the
            // directory's inode (its name is the cwd, not the directory).
            let parent = if parents.len() >= 2 && second {
                parents[0]
            } else {
                parents.last().copied()?
            };
            let base = parent
                .name
                .as_deref()
                .map(|p| join_normalize(cwd.as_deref(), p));
            let fallback = join_normalize(base.as_deref().or(cwd.as_deref()), name);
            match (&parent.dev, parent.inode) {
                (Some(dev), Some(ino)) => Some(Loc::InDir {
                    dir: (dev.clone(), ino),
                    name: name.to_vec(),
                    fallback,
                }),
                _ => Some(Loc::Known(fallback)),
            }
        };

        let creates: Vec<&Item> = items.iter().filter(|i| i.is("CREATE")).collect();
        let deletes: Vec<&Item> = items.iter().filter(|i| i.is("DELETE")).collect();
        let normals: Vec<&Item> = items.iter().filter(|i| i.is("NORMAL")).collect();
        let norm_action = ev
            .action()
            .map(|a| a.to_str_escaped().into_owned())
            .unwrap_or_default();
        let mut out: Vec<Draft> = Vec::new();
        let mut emit = |kind: ChangeKind,
                        it: &Item,
                        path: Option<Loc>,
                        old: Option<Loc>,
                        target: Option<Loc>| {
            let Some(path) = path else { return };
            let generic = matches!(
                norm_action.as_str(),
                "" | "opened-file" | "triggered-audit-rule"
            ) || matches!(
                kind,
                ChangeKind::Created
                    | ChangeKind::Modified
                    | ChangeKind::DirRemoved
                    | ChangeKind::Linked
                    | ChangeKind::Symlinked
            );
            out.push(Draft {
                change: FsChange {
                    kind,
                    action: if generic {
                        kind.specific_action().to_string()
                    } else {
                        norm_action.clone()
                    },
                    path: Bytes::default(),
                    old_path: None,
                    target: None,
                    file_type: it.file_type(),
                    inode: it.inode,
                    success,
                    syscall: syscall.clone(),
                    serial: ev.serial,
                    timestamp: ev.timestamp,
                    dir_known: true,
                    complete,
                },
                path,
                old,
                target,
                time: ev.timestamp,
            });
        };

        // Learn directories: from PARENT records of cwd-relative calls (their
        // names are only trustworthy then), from directories created, renamed
        // or removed, and, for dirfd-relative calls, as links to their parent.
        let learn = |this: &mut FsTracker, it: &Item, loc: &Option<Loc>| match loc {
            Some(Loc::Known(p)) => this.remember(&it.dev, it.inode, p),
            Some(Loc::InDir { dir, name, .. }) => this.link(&it.dev, it.inode, dir.clone(), name),
            None => {}
        };
        if !dirfd_relative {
            for p in &parents {
                let loc = locate(p, false);
                learn(self, p, &loc);
            }
        }

        let is = |names: &[&str]| names.contains(&s);
        if is(&["rename", "renameat", "renameat2"]) {
            // DELETE of the old name, CREATE of the new one (and a second
            // DELETE of a replaced target, which is part of the same rename).
            let new = creates.first();
            let old = deletes
                .iter()
                .find(|d| new.is_none_or(|n| d.inode == n.inode))
                .or(deletes.first());
            match (old, new) {
                (Some(o), Some(n)) => {
                    let op = locate(o, false);
                    let np = locate(n, true);
                    if n.is_dir() {
                        learn(self, n, &np);
                    }
                    emit(ChangeKind::Renamed, n, np, op, None);
                }
                _ => {
                    // A failed rename logs only the parents.
                    if let Some(p) = parents.first() {
                        emit(ChangeKind::Renamed, p, locate(p, false), None, None);
                    }
                }
            }
            return out;
        }
        if is(&["link", "linkat", "symlink", "symlinkat"]) {
            let symbolic = s.starts_with("sym");
            let kind = if symbolic {
                ChangeKind::Symlinked
            } else {
                ChangeKind::Linked
            };
            if let Some(n) = creates.first() {
                let target = if symbolic {
                    items
                        .iter()
                        .find(|i| i.is("UNKNOWN"))
                        .and_then(|i| i.name.clone())
                        .map(Loc::Known)
                } else {
                    normals.first().and_then(|t| locate(t, false))
                };
                emit(kind, n, locate(n, true), None, target);
            } else if let Some(p) = parents.first() {
                emit(kind, p, locate(p, false), None, None);
            }
            return out;
        }
        let attr_kind = match s {
            "chmod" | "fchmod" | "fchmodat" | "fchmodat2" => Some(ChangeKind::ModeChanged),
            "chown" | "fchown" | "lchown" | "fchownat" | "chown32" | "fchown32" | "lchown32" => {
                Some(ChangeKind::OwnerChanged)
            }
            "setxattr" | "lsetxattr" | "fsetxattr" | "removexattr" | "lremovexattr"
            | "fremovexattr" | "setxattrat" | "removexattrat" => Some(ChangeKind::XattrChanged),
            "utime" | "utimes" | "utimensat" | "futimesat" | "utimensat_time64" => {
                Some(ChangeKind::TimesChanged)
            }
            "truncate" | "ftruncate" | "truncate64" | "ftruncate64" | "fallocate" => {
                Some(ChangeKind::Modified)
            }
            _ => None,
        };
        if let Some(kind) = attr_kind {
            let it = normals
                .first()
                .copied()
                .or_else(|| items.iter().find(|i| !i.is("PARENT")))
                .or(parents.first().copied());
            if let Some(it) = it {
                emit(kind, it, locate(it, false), None, None);
            }
            return out;
        }
        // Create / delete / open-for-write, by nametype.
        for d in &deletes {
            let loc = locate(d, false);
            let dir =
                d.is_dir() || s == "rmdir" || (s == "unlinkat" && arg("a2") & AT_REMOVEDIR != 0);
            if dir {
                learn(self, d, &loc);
                if let (Some(dev), Some(ino)) = (&d.dev, d.inode) {
                    if self.removed.len() >= self.capacity {
                        self.removed.remove(0);
                    }
                    self.removed.push((dev.clone(), ino));
                }
            }
            emit(
                if dir {
                    ChangeKind::DirRemoved
                } else {
                    ChangeKind::Deleted
                },
                d,
                loc,
                None,
                None,
            );
        }
        for c in &creates {
            let loc = locate(c, false);
            let dir = c.is_dir() || s == "mkdir" || s == "mkdirat";
            if dir {
                learn(self, c, &loc);
            }
            emit(
                if dir {
                    ChangeKind::DirCreated
                } else {
                    ChangeKind::Created
                },
                c,
                loc,
                None,
                None,
            );
        }
        if deletes.is_empty() && creates.is_empty() {
            let opens = matches!(
                s,
                "open" | "openat" | "openat2" | "creat" | "open_by_handle_at"
            );
            if opens {
                let flags = if s == "open" || s == "creat" {
                    arg("a1")
                } else {
                    arg("a2")
                };
                // O_WRONLY | O_RDWR | O_TRUNC (openat2 keeps its flags in a struct: assume write).
                let writes =
                    s == "creat" || s == "openat2" || flags & 0o3 != 0 || flags & 0o1000 != 0;
                if writes {
                    if let Some(it) = normals.first() {
                        emit(ChangeKind::Modified, it, locate(it, false), None, None);
                    } else if !success {
                        // A failed create logs only the directory.
                        if let Some(p) = parents.first() {
                            emit(ChangeKind::Created, p, locate(p, false), None, None);
                        }
                    }
                }
            }
        }
        out
    }
}

/// The filesystem changes of one event, without knowledge of earlier events
/// (paths relative to unknown directory descriptors use the fallback).
pub fn fs_changes(ev: &Event) -> Vec<FsChange> {
    let mut t = FsTracker::with_capacity(1024);
    let mut out = t.changes(ev);
    out.extend(t.flush());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_and_normalize() {
        let j = |b: &str, n: &str| {
            String::from_utf8(join_normalize(Some(b.as_bytes()), n.as_bytes())).unwrap()
        };
        assert_eq!(j("/home/joerg/tmp", "bar"), "/home/joerg/tmp/bar");
        assert_eq!(j("/a/b/c", "../.."), "/a");
        assert_eq!(j("/a/b/c", "../x/./y//z.txt"), "/a/b/x/y/z.txt");
        assert_eq!(j("/", "../../etc"), "/etc");
        assert_eq!(j("/tmp", "/abs/./p/"), "/abs/p");
        assert_eq!(
            String::from_utf8(join_normalize(None, b"rel/../x")).unwrap(),
            "x"
        );
        assert_eq!(
            String::from_utf8(join_normalize(None, b"../x")).unwrap(),
            "../x"
        );
    }

    /// Directories created and removed again and again (the same inodes, as
    /// in the repeated fixture) must not grow the eviction queue: it grew by
    /// one key per directory learned again, without bound.
    #[test]
    fn eviction_queue_stays_bounded() {
        let fixture = include_bytes!("../tests/fixtures/live/all.stream");
        let mut tracker = FsTracker::default();
        let mut feeder = crate::Feeder::new().unwrap();
        let mut events = Vec::new();
        for _ in 0..300 {
            feeder
                .feed(fixture, |ev| events.push(ev.to_event()))
                .unwrap();
            for ev in events.drain(..) {
                tracker.changes(&ev);
            }
        }
        let live = tracker.dirs.len() + tracker.links.len();
        assert!(
            tracker.order.len() <= 2 * live + 65,
            "{} keys queued for {live} known directories",
            tracker.order.len()
        );
    }
}
