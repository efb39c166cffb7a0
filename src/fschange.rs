//! Filesystem changes: what a file-watch event (`auditctl -w DIR -p wa`) did
//! to which absolute path, classified from the syscall and the PATH records'
//! `nametype`s.
//!
//! Paths are made absolute and lexically normalized here, not by libauparse
//! (whose path join leaves a trailing `..` unapplied). For `*at()` calls
//! relative to a directory descriptor (`rm -r`, `find -delete`, `chmod -R`),
//! the kernel's PARENT record names part of the name or the process's cwd,
//! never the descriptor's directory: the directory is found by its inode
//! among the entries seen in earlier events ([`FsTracker`], which says how
//! each path is found); when it cannot be known, the change is still
//! reported, with the name as the record gives it and
//! [`FsChange::dir_known`] false.

use crate::bytes::{decode_audit_string, Bytes};
use crate::event::{Event, Record};
use crate::types::{RecordType, Timestamp};
use rustc_hash::FxHashMap as FxMap;
use serde::Serialize;
use std::collections::{HashSet, VecDeque};

/// What happened to a path.
///
/// ```
/// use auparse::ChangeKind;
/// let k: ChangeKind = "dir-created".parse().unwrap();
/// assert_eq!(k, ChangeKind::DirCreated);
/// assert_eq!(k.as_str(), "dir-created");
/// assert_eq!(ChangeKind::Deleted.specific_action(), "deleted");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
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
    /// Two names swapped their entries (`renameat2(RENAME_EXCHANGE)`): both
    /// `path` and `old_path` still exist; what was at `old_path` is now at
    /// `path` and the other way round (directories with their contents).
    Exchanged,
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
            Exchanged => "exchanged",
        }
    }

    /// Every kind, in declaration order.
    pub const ALL: [ChangeKind; 13] = [
        ChangeKind::Created,
        ChangeKind::Modified,
        ChangeKind::Deleted,
        ChangeKind::Renamed,
        ChangeKind::DirCreated,
        ChangeKind::DirRemoved,
        ChangeKind::Linked,
        ChangeKind::Symlinked,
        ChangeKind::ModeChanged,
        ChangeKind::OwnerChanged,
        ChangeKind::XattrChanged,
        ChangeKind::TimesChanged,
        ChangeKind::Exchanged,
    ];

    /// A file-type name as [`FsChange::file_type`] has it (`file`, `dir`,
    /// ...), for readers of the JSON log.
    pub fn file_type_name(s: &str) -> Option<&'static str> {
        FILE_TYPES.iter().map(|(_, name)| *name).find(|t| *t == s)
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
            Exchanged => "exchanged",
        }
    }
}

impl std::str::FromStr for ChangeKind {
    type Err = String;

    /// Parses [`as_str`](Self::as_str) names (the `change` of the plugin's
    /// JSON lines).
    fn from_str(s: &str) -> Result<Self, String> {
        ChangeKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown change kind '{s}'"))
    }
}

/// One filesystem change of an event.
///
/// Serializes (and deserializes) as the JSON object described at
/// [`format::json::write_change`](crate::format::json::write_change).
///
/// ```
/// use auparse::{ChangeKind, FsChange, FsTracker};
///
/// let log = b"type=SYSCALL msg=audit(1700000000.000:7): arch=c000003e syscall=87 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"k\"
/// type=CWD msg=audit(1700000000.000:7): cwd=\"/srv\"
/// type=PATH msg=audit(1700000000.000:7): item=0 name=\"/srv\" inode=10 dev=fd:01 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// type=PATH msg=audit(1700000000.000:7): item=1 name=\"old.txt\" inode=11 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// ";
/// let mut tracker = FsTracker::default();
/// let mut changes: Vec<FsChange> = Vec::new();
/// for ev in auparse::read_events(&log[..])? {
///     changes.extend(tracker.changes(&ev?));
/// }
/// changes.extend(tracker.flush());
/// assert_eq!(changes[0].kind, ChangeKind::Deleted);
/// assert_eq!(&changes[0].path[..], b"/srv/old.txt");
/// // One JSON object per change, read back into an equal value.
/// let json = serde_json::to_string(&changes[0]).unwrap();
/// assert_eq!(serde_json::from_str::<FsChange>(&json).unwrap(), changes[0]);
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// False when the path could not be known (a name relative to a
    /// directory, or an entry known only by inode, that the tracker never
    /// saw and, live, could not find): then `path` is the name as the
    /// record gives it (`<inode N>` for a nameless record), not an absolute
    /// path.
    pub dir_known: bool,
    /// False when the event has fewer PATH records than its SYSCALL record's
    /// `items` announces: the input ended (or was cut) inside the event, so
    /// the change is classified from what arrived and may name a parent
    /// directory instead of the file.
    pub complete: bool,
}

impl FsChange {
    /// True when [`path`](Self::path) or [`old_path`](Self::old_path) is
    /// `dir` or lies below it: the question of a tool that watches some
    /// directories. The change's paths are normalized lexically (`.`, `..`
    /// and repeated `/` resolved, no symlink followed), and `dir` is
    /// normalized the same way before they are compared, so `/srv/./www/`
    /// and `/srv/www` are the same directory and `/srv/www2` is not below
    /// it. A relative `dir` matches relative paths only (see
    /// [`dir_known`](Self::dir_known)); `/` matches every absolute path.
    ///
    /// ```
    /// let log = b"type=SYSCALL msg=audit(1700000000.000:7): arch=c000003e syscall=82 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=4 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm=\"mv\" exe=\"/usr/bin/mv\" key=\"k\"
    /// type=CWD msg=audit(1700000000.000:7): cwd=\"/srv\"
    /// type=PATH msg=audit(1700000000.000:7): item=0 name=\"www/\" inode=10 dev=fd:01 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
    /// type=PATH msg=audit(1700000000.000:7): item=1 name=\"/tmp/\" inode=12 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
    /// type=PATH msg=audit(1700000000.000:7): item=2 name=\"www/index.html\" inode=11 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
    /// type=PATH msg=audit(1700000000.000:7): item=3 name=\"/tmp/index.html\" inode=11 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
    /// ";
    /// let mut changes = Vec::new();
    /// for ev in auparse::read_events(&log[..])? {
    ///     changes.extend(auparse::fs_changes(&ev?));
    /// }
    /// let c = &changes[0]; // renamed: /srv/www/index.html -> /tmp/index.html
    /// assert_eq!(&c.old_path.as_ref().unwrap()[..], b"/srv/www/index.html");
    /// assert!(c.is_under("/srv/./www/")); // the old name is below it
    /// assert!(c.is_under("/tmp"));
    /// assert!(c.is_under("/"));
    /// assert!(!c.is_under("/srv/ww"));
    /// assert!(!c.is_under("/srv/www/index.html/x"));
    /// # Ok::<(), auparse::Error>(())
    /// ```
    pub fn is_under(&self, dir: impl AsRef<std::path::Path>) -> bool {
        use std::os::unix::ffi::OsStrExt;
        let d = join_normalize(None, dir.as_ref().as_os_str().as_bytes());
        let under = |p: &[u8]| {
            if d == b"." {
                // `.` or `a/..`: every relative path.
                return p.first() != Some(&b'/');
            }
            p.starts_with(&d) && (p.len() == d.len() || p[d.len()] == b'/' || d == b"/")
        };
        under(&self.path) || self.old_path.as_deref().is_some_and(under)
    }
}

/// The file types a PATH record's `mode` tells (`S_IFMT` bits), by name.
const FILE_TYPES: [(u32, &str); 7] = [
    (0o040000, "dir"),
    (0o100000, "file"),
    (0o120000, "symlink"),
    (0o020000, "char-device"),
    (0o060000, "block-device"),
    (0o010000, "fifo"),
    (0o140000, "socket"),
];

/// One PATH record, decoded.
#[derive(Debug, Clone)]
struct Item {
    index: usize,
    name: Option<Vec<u8>>,
    nametype: Vec<u8>,
    inode: Option<u64>,
    key: Option<Key>,
    mode: Option<u32>,
}

impl Item {
    fn from_record(r: &Record, index: usize) -> Item {
        let get = |n: &str| r.field(n).map(|f| &f.raw[..]);
        let item_no = get("item")
            .and_then(|v| std::str::from_utf8(v).ok()?.parse().ok())
            .unwrap_or(index);
        let inode = get("inode").and_then(|v| std::str::from_utf8(v).ok()?.parse().ok());
        Item {
            index: item_no,
            name: get("name").and_then(decode_audit_string),
            nametype: get("nametype")
                .or(get("objtype"))
                .unwrap_or_default()
                .to_vec(),
            inode,
            key: get("dev").and_then(parse_dev).zip(inode),
            mode: get("mode")
                .and_then(|v| u32::from_str_radix(std::str::from_utf8(v).ok()?, 8).ok()),
        }
    }

    fn is(&self, nametype: &str) -> bool {
        self.nametype == nametype.as_bytes()
    }

    fn file_type(&self) -> Option<&'static str> {
        let format = self.mode? & 0o170000;
        FILE_TYPES
            .iter()
            .find(|(bits, _)| *bits == format)
            .map(|(_, name)| *name)
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
pub(crate) fn join_normalize(base: Option<&[u8]>, name: &[u8]) -> Vec<u8> {
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

/// An entry's identity: (device, inode). The device is packed from the
/// `major:minor` (hex) a PATH record shows, as `major << 32 | minor`.
type Key = (u64, u64);

fn parse_dev(v: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(v).ok()?;
    let (maj, min) = s.split_once(':')?;
    Some((u64::from_str_radix(maj, 16).ok()? << 32) | u64::from_str_radix(min, 16).ok()?)
}

/// The name without trailing `/`, split at its last `/`: (directory part
/// with its `/`, last component). `a/b/c` -> (`a/b/`, `c`); `c` -> (``, `c`).
fn split_name(name: &[u8]) -> (&[u8], &[u8]) {
    let mut end = name.len();
    while end > 1 && name[end - 1] == b'/' {
        end -= 1;
    }
    let trimmed = &name[..end];
    match trimmed.iter().rposition(|&c| c == b'/') {
        Some(pos) => (&trimmed[..=pos], &trimmed[pos + 1..]),
        None => (&[], trimmed),
    }
}

fn trim_slashes(p: &[u8]) -> &[u8] {
    let mut end = p.len();
    while end > 0 && p[end - 1] == b'/' {
        end -= 1;
    }
    &p[..end]
}

/// `N` of `/proc/self/fd/N`, `/proc/thread-self/fd/N` or `/proc/PID/fd/N`
/// (glibc's `fchmodat(AT_SYMLINK_NOFOLLOW)`, `linkat` of an `O_TMPFILE`):
/// the kernel follows such a name to the open file, so the record's inode is
/// the file's and the name says nothing of where it is.
fn proc_fd(name: &[u8]) -> Option<u64> {
    let rest = name.strip_prefix(b"/proc/")?;
    let slash = rest.iter().position(|&c| c == b'/')?;
    let who = &rest[..slash];
    if !(who == b"self" || who == b"thread-self" || who.iter().all(u8::is_ascii_digit)) {
        return None;
    }
    let n = rest[slash..].strip_prefix(b"/fd/")?;
    std::str::from_utf8(n).ok()?.parse().ok()
}

/// Where an entry is, as remembered: an absolute path, or a name inside a
/// directory known by its key (so that renaming the directory moves it).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Abs(Vec<u8>),
    Rel(Key, Vec<u8>),
}

/// Where the path of a change is.
#[derive(Debug, Clone)]
enum Loc {
    /// Known from the record alone (an absolute name, or one relative to the
    /// cwd).
    Known(Vec<u8>),
    /// The last component `name` inside the directory `dir`, known by key
    /// from the PARENT record.
    InDir {
        dir: Key,
        name: Vec<u8>,
        fallback: Vec<u8>,
    },
    /// The entry itself, by key: a record without PARENT relative to a
    /// directory descriptor, or a `/proc/.../fd/N` name.
    Entry { key: Key, fallback: Vec<u8> },
    /// Nothing to go by but the name as given.
    Unknown(Vec<u8>),
}

impl Loc {
    fn fallback(&self) -> &[u8] {
        match self {
            Loc::Known(p) | Loc::Unknown(p) => p,
            Loc::InDir { fallback, .. } | Loc::Entry { fallback, .. } => fallback,
        }
    }
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

/// An operand of a syscall located: where it is, and what that teaches
/// about its parent directory.
struct Located {
    loc: Loc,
    /// Key of the PARENT record that holds the entry.
    parent: Option<Key>,
    /// The parent directory's absolute path, when the name tells it (an
    /// absolute name or one relative to the cwd).
    parent_path: Option<Vec<u8>>,
    /// Last component of the name.
    last: Vec<u8>,
    /// The name has a directory part (`a/b` in `a/b/c`, `/` in `/c`).
    named_dir: bool,
}

/// The decoded facts of one syscall event that classification needs.
struct Call {
    syscall: String,
    success: bool,
    complete: bool,
    cwd: Option<Vec<u8>>,
    pid: Option<u32>,
    /// Directory descriptors of the first and second path argument.
    fd1: u64,
    fd2: u64,
    items: Vec<Item>,
    action: String,
    serial: u64,
    timestamp: Timestamp,
    a1: u64,
    a2: u64,
}

impl Call {
    fn parents(&self) -> impl DoubleEndedIterator<Item = &Item> {
        self.items.iter().filter(|i| i.is("PARENT"))
    }

    /// The PARENT record of `it`. The kernel writes, for a name with a `/`,
    /// the directory part of the name (with the inode of that directory);
    /// for a name without, the process's cwd (whatever the directory
    /// descriptor), so then only the order tells: in a rename the first
    /// PARENT is the new name's, the last the old name's.
    fn parent_of(&self, it: &Item, second: bool) -> Option<&Item> {
        let name = it.name.as_deref().unwrap_or_default();
        let (dir, _) = split_name(name);
        if !dir.is_empty() {
            let want = trim_slashes(dir);
            let same = |p: &&Item| p.name.as_deref().map(trim_slashes) == Some(want);
            // No PARENT of that name: not the kernel's records (a name the
            // kernel would have split); the name alone must do.
            return if second {
                self.parents().find(same)
            } else {
                self.parents().rev().find(same)
            };
        }
        if second {
            self.parents().next()
        } else {
            self.parents().next_back()
        }
    }

    /// Where the operand `it` is. `second`: the second path argument (new
    /// name of a rename or link); `with_parent`: whether a PARENT record
    /// belongs to it (not to a link's source or a symlink's target text).
    fn locate(&self, it: &Item, second: bool, with_parent: bool) -> Located {
        let name = it.name.clone().unwrap_or_default();
        let fd = if second { self.fd2 } else { self.fd1 };
        let parent = if with_parent && !it.is("PARENT") {
            self.parent_of(it, second)
        } else {
            None
        };
        let pkey = parent.and_then(|p| p.key);
        let (dir, last) = split_name(&name);
        let last = last.to_vec();
        let named_dir = !dir.is_empty();
        // A PARENT record of a call relative to a directory descriptor names
        // either part of the name or the cwd: only its inode tells.
        let parent_of_dirfd = it.is("PARENT") && !is_fdcwd(fd) && self.dirfd_call();
        // A record without a name is of a call on an open descriptor
        // (fchmod, fchown, ftruncate, utimensat(fd, NULL)): only its inode
        // tells where it is, never the cwd.
        if name.is_empty() || proc_fd(&name).is_some() || parent_of_dirfd {
            let fallback = if name.is_empty() {
                format!("<inode {}>", it.inode.unwrap_or(0)).into_bytes()
            } else {
                name
            };
            let loc = match it.key {
                Some(key) => Loc::Entry { key, fallback },
                None => Loc::Unknown(fallback),
            };
            return Located {
                loc,
                parent: None,
                parent_path: None,
                last,
                named_dir,
            };
        }
        let base: Option<&[u8]> = if name.first() == Some(&b'/') {
            Some(b"/")
        } else if is_fdcwd(fd) || !self.dirfd_call() {
            self.cwd.as_deref()
        } else {
            None
        };
        if let Some(base) = base {
            let dir_path = join_normalize(Some(base), dir);
            let path = if last.is_empty() || last == b"." || last == b".." {
                join_normalize(Some(base), &name)
            } else {
                join_normalize(Some(&dir_path), &last)
            };
            return Located {
                loc: Loc::Known(path),
                parent: pkey,
                parent_path: Some(dir_path),
                last,
                named_dir,
            };
        }
        let loc = match (pkey, it.key) {
            (Some(dir), _) if !last.is_empty() && last != b"." && last != b".." => Loc::InDir {
                dir,
                name: last.clone(),
                fallback: name,
            },
            (_, Some(key)) => Loc::Entry {
                key,
                fallback: name,
            },
            _ => Loc::Unknown(name),
        };
        Located {
            loc,
            parent: pkey,
            parent_path: None,
            last,
            named_dir,
        }
    }

    /// Syscalls whose path arguments may be relative to a directory fd.
    fn dirfd_call(&self) -> bool {
        matches!(
            self.syscall.as_str(),
            "openat"
                | "openat2"
                | "mkdirat"
                | "mknodat"
                | "unlinkat"
                | "fchmodat"
                | "fchmodat2"
                | "fchownat"
                | "utimensat"
                | "futimesat"
                | "newfstatat"
                | "renameat"
                | "renameat2"
                | "linkat"
                | "symlinkat"
                | "setxattrat"
                | "removexattrat"
                | "name_to_handle_at"
                | "open_by_handle_at"
        )
    }

    fn is(&self, names: &[&str]) -> bool {
        names.contains(&self.syscall.as_str())
    }
}

/// Looks entries up in the real filesystem, for a tracker running live on
/// the host.
struct Host {
    roots: Box<dyn FnMut() -> Vec<std::path::PathBuf> + Send>,
    last_walk: Option<std::time::Instant>,
    walks: u64,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("last_walk", &self.last_walk)
            .field("walks", &self.walks)
            .finish_non_exhaustive()
    }
}

/// `st_dev` as a [`Key`] device (glibc's `major`/`minor`).
fn key_of(md: &std::fs::Metadata) -> Key {
    use std::os::unix::fs::MetadataExt;
    let d = md.dev();
    let major = ((d >> 8) & 0xfff) | ((d >> 32) & !0xfff);
    let minor = (d & 0xff) | ((d >> 12) & !0xff);
    ((major << 32) | minor, md.ino())
}

/// Remembers where entries are (by device and inode) from the events it has
/// seen, to give every change its absolute path.
///
/// How a path is found, for each path argument of a syscall:
/// - a name without `/` relative to the cwd is joined to the cwd; an
///   absolute name or one with a directory part is the last component in
///   the directory its PARENT record names by inode when that directory is
///   known (the name may go through symlinks), else joined to the cwd;
/// - in a rename of a directory, the directories are taken by inode (the
///   CWD record is written after the call, which may have moved the cwd);
/// - a name relative to a directory descriptor is the *last* component of
///   the name inside the directory its PARENT record names by inode (the
///   kernel writes the directory part of the name there, or the cwd when the
///   name has no `/`, never the descriptor's directory);
/// - a record without PARENT (`fchmodat`, `fchownat` relative to a
///   directory descriptor) and a `/proc/self/fd/N` name are found by their
///   own inode.
///
/// Every entry the tracker sees (files too) is remembered by inode, as a
/// name inside its parent directory where the parent is known, so renaming a
/// directory moves everything under it.
///
/// `rm -r` and `find -delete` remove a tree bottom-up with `unlinkat(dirfd,
/// name)`: when the tree was made before the tracker started, each event
/// names the directory only by inode, and the chain of directories reaches a
/// known path only at the last event (the top of the tree, removed relative
/// to the cwd). Such changes wait in the tracker until their directory is
/// known, at most [`max_wait`](Self::set_max_wait) seconds of log time, or
/// until [`flush`](Self::flush). Running live on the host
/// ([`set_host_roots`](Self::set_host_roots)), an unknown inode is first
/// looked up in the real filesystem. A change whose path cannot be known is
/// still reported, with the name as the record gives it and
/// [`FsChange::dir_known`] false: one change per change, always.
///
/// Bounded: at most `capacity` entries are remembered (oldest forgotten
/// first; 14,336 by default) and at most `capacity` or 4,096 changes wait,
/// whichever is less.
///
/// ```
/// use auparse::FsTracker;
///
/// let log = b"type=SYSCALL msg=audit(1700000000.000:7): arch=c000003e syscall=87 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"k\"
/// type=CWD msg=audit(1700000000.000:7): cwd=\"/srv\"
/// type=PATH msg=audit(1700000000.000:7): item=0 name=\"/srv\" inode=10 dev=fd:01 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// type=PATH msg=audit(1700000000.000:7): item=1 name=\"old.txt\" inode=11 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// ";
/// let mut tracker = FsTracker::default();
/// let mut paths = Vec::new();
/// for ev in auparse::read_events(&log[..])? {
///     for c in tracker.changes(&ev?) {
///         paths.push(c.path.to_string());
///     }
/// }
/// for c in tracker.flush() {
///     paths.push(c.path.to_string()); // changes still waiting for a directory
/// }
/// assert_eq!(paths, ["/srv/old.txt"]);
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug)]
pub struct FsTracker {
    nodes: FxMap<Key, Node>,
    order: VecDeque<Key>,
    capacity: usize,
    pending: VecDeque<Draft>,
    max_wait: i64,
    /// Directories removed; forgotten once no waiting change may need them
    /// (their inodes get reused).
    removed: Vec<(Key, Option<Node>)>,
    /// Other names of files with hard links (the latest name is in `nodes`).
    aliases: FxMap<Key, Vec<Node>>,
    /// Files made by `O_TMPFILE`, not yet linked: they have no path.
    anonymous: VecDeque<Key>,
    host: Option<Host>,
}

impl Default for FsTracker {
    fn default() -> Self {
        // 14,336 entries fill a hash table of 16,384 buckets (7/8 load).
        Self::with_capacity(14_336)
    }
}

impl FsTracker {
    /// A tracker that remembers at most `capacity` entries.
    pub fn with_capacity(capacity: usize) -> Self {
        FsTracker {
            nodes: FxMap::default(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
            pending: VecDeque::new(),
            max_wait: 2,
            removed: Vec::new(),
            aliases: FxMap::default(),
            anonymous: VecDeque::new(),
            host: None,
        }
    }

    /// How long (seconds of log time) a change may wait for its directory.
    pub fn set_max_wait(&mut self, secs: u32) {
        self.max_wait = i64::from(secs);
    }

    /// Runs live on this host: an entry or directory the tracker does not
    /// know is looked up in the real filesystem, first through the process's
    /// open descriptor (`/proc/PID/fd/N`, checked against the inode), then
    /// by walking `roots` (the watched directories; at most one walk a
    /// second). Only for events of this host read as they happen (the
    /// plugin, `--follow`): a path looked up now is where the entry is now.
    pub fn set_host_roots(&mut self, roots: Vec<std::path::PathBuf>) {
        self.set_host_roots_from(move || roots.clone());
    }

    /// [`set_host_roots`](Self::set_host_roots) with roots asked for at
    /// each walk (the directories of the audit rules loaded at that time,
    /// say: auditd starts its plugins before the rules are loaded).
    pub fn set_host_roots_from(
        &mut self,
        roots: impl FnMut() -> Vec<std::path::PathBuf> + Send + 'static,
    ) {
        self.host = Some(Host {
            roots: Box::new(roots),
            last_walk: None,
            walks: 0,
        });
    }

    /// Number of entries remembered.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when no entry is remembered.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Number of changes waiting for their directory.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// True if a change of the event with this serial is still waiting.
    pub fn is_pending(&self, serial: u64) -> bool {
        self.pending.iter().any(|d| d.change.serial == serial)
    }

    /// Number of walks of the host's roots so far.
    pub fn host_walks(&self) -> u64 {
        self.host.as_ref().map_or(0, |h| h.walks)
    }

    fn bound(&mut self, key: Key) {
        self.order.push_back(key);
        while self.nodes.len() > self.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.nodes.remove(&old);
                }
                None => break,
            }
        }
        // Keys leave the map without leaving `order` (an entry removed) and
        // come back (the same inode learned again): drop stale and repeated
        // keys before `order` outgrows the map, or it grows without bound on
        // a long stream.
        let live = self.nodes.len();
        if self.order.len() > live + live / 4 + 64 {
            let mut seen = HashSet::with_capacity(live);
            let mut kept: VecDeque<Key> = VecDeque::with_capacity(live);
            // The latest occurrence of each live key keeps its place.
            while let Some(k) = self.order.pop_back() {
                if self.nodes.contains_key(&k) && seen.insert(k) {
                    kept.push_front(k);
                }
            }
            self.order = kept;
        }
    }

    fn set(&mut self, key: Key, node: Node) {
        if self.nodes.insert(key, node).is_none() {
            self.bound(key);
        }
    }

    /// Remembers `key` at the absolute `path`, unless what is remembered
    /// already leads there.
    fn set_abs(&mut self, key: Key, path: Vec<u8>) {
        let same = match self.nodes.get(&key) {
            Some(Node::Abs(p)) => *p == path,
            Some(Node::Rel(..)) => self.node_path(key).as_deref() == Some(&path[..]),
            None => false,
        };
        if !same {
            self.set(key, Node::Abs(path));
        }
    }

    /// Remembers `key` as `name` in the directory `dir` (or at `path` when
    /// the name is not a plain component).
    fn set_in(&mut self, key: Key, dir: Option<Key>, name: &[u8], path: Option<&[u8]>) {
        let plain = !name.is_empty() && name != b"." && name != b".." && !name.contains(&b'/');
        match (dir, path) {
            (Some(d), _) if plain && d != key => self.set(key, Node::Rel(d, name.to_vec())),
            (_, Some(p)) => self.set_abs(key, p.to_vec()),
            _ => {}
        }
    }

    /// The path of an entry, following its directories up to an absolute
    /// one.
    fn node_path(&self, key: Key) -> Option<Vec<u8>> {
        let mut names: Vec<&[u8]> = Vec::new();
        let mut k = key;
        for _ in 0..256 {
            match self.nodes.get(&k)? {
                Node::Abs(p) => {
                    let mut path = p.clone();
                    for n in names.iter().rev() {
                        if path.last() != Some(&b'/') {
                            path.push(b'/');
                        }
                        path.extend_from_slice(n);
                    }
                    return Some(path);
                }
                Node::Rel(parent, name) => {
                    names.push(name);
                    k = *parent;
                }
            }
        }
        None
    }

    fn locate(&self, loc: &Loc) -> Option<Vec<u8>> {
        match loc {
            Loc::Known(p) => Some(p.clone()),
            Loc::InDir { dir, name, .. } => {
                let mut p = self.node_path(*dir)?;
                if p.last() != Some(&b'/') {
                    p.push(b'/');
                }
                p.extend_from_slice(name);
                Some(p)
            }
            Loc::Entry { key, .. } => self.node_path(*key),
            Loc::Unknown(_) => None,
        }
    }

    /// A directory renamed from `old` to `new`: absolute paths remembered
    /// under it move with it (names inside it move by themselves).
    fn move_subtree(&mut self, old: &[u8], new: &[u8]) {
        if old == new {
            return;
        }
        for node in self.nodes.values_mut() {
            if let Node::Abs(p) = node {
                if p.len() > old.len() && p.starts_with(old) && p[old.len()] == b'/' {
                    let mut q = new.to_vec();
                    q.extend_from_slice(&p[old.len()..]);
                    *p = q;
                }
            }
        }
    }

    /// Tries the host for an unknown `key`: the process's descriptor `fd`
    /// (joined with `name` when the key is an entry inside that directory),
    /// then a walk of the roots.
    fn ask_host(&mut self, key: Key, pid: Option<u32>, fd: Option<u64>, name: Option<&[u8]>) {
        let Some(host) = self.host.as_mut() else {
            return;
        };
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        if let (Some(pid), Some(fd)) = (pid, fd) {
            if let Ok(dir) = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")) {
                let mut p = dir.into_os_string().into_vec();
                if let Some(n) = name {
                    p = join_normalize(Some(&p), n);
                }
                let path = std::path::Path::new(std::ffi::OsStr::from_bytes(&p));
                if p.first() == Some(&b'/')
                    && std::fs::symlink_metadata(path).is_ok_and(|m| key_of(&m) == key)
                {
                    self.set_abs(key, p);
                    return;
                }
            }
        }
        let now = std::time::Instant::now();
        if host
            .last_walk
            .is_some_and(|t| now.duration_since(t) < std::time::Duration::from_secs(1))
        {
            return;
        }
        host.last_walk = Some(now);
        let roots = (host.roots)();
        if roots.is_empty() {
            return;
        }
        host.walks += 1;
        // Breadth first, directories before files, at most `capacity`
        // entries learned.
        let mut found: Vec<(Key, Vec<u8>)> = Vec::new();
        let mut queue: VecDeque<std::path::PathBuf> = VecDeque::new();
        for r in roots {
            if let Ok(m) = std::fs::symlink_metadata(&r) {
                found.push((key_of(&m), r.as_os_str().as_bytes().to_vec()));
                if m.is_dir() {
                    queue.push_back(r);
                }
            }
        }
        while let Some(dir) = queue.pop_front() {
            if found.len() >= self.capacity {
                break;
            }
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                let Ok(m) = e.metadata() else { continue };
                let p = e.path();
                found.push((key_of(&m), p.as_os_str().as_bytes().to_vec()));
                if m.is_dir() {
                    queue.push_back(p);
                }
            }
        }
        for (k, p) in found {
            if !self.nodes.contains_key(&k) {
                self.set(k, Node::Abs(p));
            }
        }
    }

    /// Where `loc` is: its path and whether it is known; `None` while a
    /// directory may still become known (unless `force`).
    fn resolve(&self, loc: &Loc, force: bool) -> Option<(Vec<u8>, bool)> {
        match self.locate(loc) {
            Some(p) => Some((p, true)),
            // Only a directory may still become known.
            None if force || !matches!(loc, Loc::InDir { .. }) => {
                Some((loc.fallback().to_vec(), false))
            }
            None => None,
        }
    }

    fn finish(&self, d: &Draft, force: bool) -> Option<FsChange> {
        let (path, path_known) = self.resolve(&d.path, force)?;
        let old = match &d.old {
            Some(l) => Some(self.resolve(l, force)?),
            None => None,
        };
        let target = match &d.target {
            Some(l) => Some(self.resolve(l, force)?.0),
            None => None,
        };
        let mut change = d.change.clone();
        change.dir_known = path_known && old.as_ref().is_none_or(|(_, known)| *known);
        change.path = Bytes::from(path);
        change.old_path = old.map(|(p, _)| Bytes::from(p));
        change.target = target.map(Bytes::from);
        Some(change)
    }

    /// Forgets removed directories, unless their inode was given to a new
    /// entry meanwhile.
    fn forget_removed(&mut self) {
        for (key, node) in std::mem::take(&mut self.removed) {
            if self.nodes.get(&key) == node.as_ref() {
                self.nodes.remove(&key);
            }
        }
    }

    /// Marks the directory `key` removed (forgotten once no waiting change
    /// may need it).
    fn mark_removed(&mut self, key: Key) {
        if self.removed.len() >= self.capacity {
            self.removed.remove(0);
        }
        let node = self.nodes.get(&key).cloned();
        self.removed.push((key, node));
    }

    /// The path a remembered location leads to.
    fn node_location(&self, n: &Node) -> Option<Vec<u8>> {
        match n {
            Node::Abs(p) => Some(p.clone()),
            Node::Rel(dir, name) => {
                let mut p = self.node_path(*dir)?;
                if p.last() != Some(&b'/') {
                    p.push(b'/');
                }
                p.extend_from_slice(name);
                Some(p)
            }
        }
    }

    /// The name at `path` of the file `key` is gone: forget it, and keep
    /// the file's other names (hard links).
    fn unlink_name(&mut self, key: Key, path: Option<&[u8]>) {
        let Some(mut others) = self.aliases.remove(&key) else {
            self.nodes.remove(&key);
            return;
        };
        let primary = self.nodes.get(&key).and_then(|n| self.node_location(n));
        if path.is_some() && primary.as_deref() != path {
            // One of the other names went.
            others.retain(|n| self.node_location(n).as_deref() != path);
        } else {
            match others.pop() {
                Some(n) => {
                    self.nodes.insert(key, n);
                }
                None => {
                    self.nodes.remove(&key);
                }
            }
        }
        if !others.is_empty() {
            self.aliases.insert(key, others);
        }
    }

    /// Reports every waiting change now, with fallback paths where the
    /// directory is still unknown. Call at the end of input.
    pub fn flush(&mut self) -> Vec<FsChange> {
        let pending = std::mem::take(&mut self.pending);
        let out = pending
            .into_iter()
            .filter_map(|d| self.finish(&d, true))
            .collect();
        self.forget_removed();
        out
    }

    /// Reports waiting changes whose directory became known, and those that
    /// waited too long (by log time `now`).
    fn release(&mut self, now: Timestamp, out: &mut Vec<FsChange>) {
        let pending = std::mem::take(&mut self.pending);
        for d in pending {
            let expired = now.sec.saturating_sub(d.time.sec) > self.max_wait;
            match self.finish(&d, expired) {
                Some(c) => out.push(c),
                None => self.pending.push_back(d),
            }
        }
        self.keep_bound(out);
    }

    /// Reports the waiting changes that waited too long (by log time
    /// `now`), with fallback paths where the directory is still unknown.
    fn release_expired(&mut self, now: Timestamp, out: &mut Vec<FsChange>) {
        let max_wait = self.max_wait;
        let expired = |d: &Draft| now.sec.saturating_sub(d.time.sec) > max_wait;
        if !self.pending.iter().any(expired) {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        for d in pending {
            if expired(&d) {
                out.extend(self.finish(&d, true));
            } else {
                self.pending.push_back(d);
            }
        }
    }

    /// At most `capacity` changes wait: the oldest beyond are reported with
    /// their fallback paths.
    fn keep_bound(&mut self, out: &mut Vec<FsChange>) {
        while self.pending.len() > self.capacity.min(MAX_WAITING) {
            if let Some(d) = self.pending.pop_front() {
                if let Some(c) = self.finish(&d, true) {
                    out.push(c);
                }
            }
        }
    }

    /// The filesystem changes of `ev` (none for events that are not file
    /// syscalls), plus earlier changes that were waiting for a directory this
    /// event revealed; learns where entries are as it goes.
    pub fn changes(&mut self, ev: &Event) -> Vec<FsChange> {
        let mut out = Vec::new();
        // Changes that waited too long go first, so that directories removed
        // meanwhile are forgotten before this event names their inodes again.
        if !self.pending.is_empty() {
            self.release_expired(ev.timestamp, &mut out);
            if self.pending.is_empty() {
                self.forget_removed();
            }
        }
        let drafts = match Self::call(ev) {
            Some(call) => self.classify(&call),
            None => Vec::new(),
        };
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
            self.forget_removed();
        }
        out
    }

    /// The facts of a syscall event with PATH records.
    fn call(ev: &Event) -> Option<Call> {
        // Only syscall events with PATH records change files.
        if !ev.records.iter().any(|r| r.record_type == RecordType::PATH) {
            return None;
        }
        let sys = ev.record(RecordType::SYSCALL)?;
        let syscall = sys
            .field("syscall")
            .map(|f| f.interpreted.to_str_escaped().into_owned())
            .unwrap_or_default();
        let success = sys.field("success").is_none_or(|f| f.raw == "yes");
        let mut items: Vec<Item> = ev
            .records
            .iter()
            .filter(|r| r.record_type == RecordType::PATH)
            .enumerate()
            .map(|(i, r)| Item::from_record(r, i))
            .collect();
        let complete = sys
            .field("items")
            .and_then(|f| std::str::from_utf8(&f.raw).ok()?.parse::<usize>().ok())
            .is_none_or(|announced| items.len() >= announced);
        items.sort_by_key(|i| i.index);
        let arg = |n: &str| {
            sys.field(n)
                .and_then(|f| u64::from_str_radix(std::str::from_utf8(&f.raw).ok()?, 16).ok())
                .unwrap_or(AT_FDCWD)
        };
        let (fd1, fd2) = match syscall.as_str() {
            "openat" | "openat2" | "mkdirat" | "mknodat" | "unlinkat" | "fchmodat"
            | "fchmodat2" | "fchownat" | "utimensat" | "futimesat" | "newfstatat"
            | "setxattrat" | "removexattrat" => (arg("a0"), AT_FDCWD),
            "renameat" | "renameat2" | "linkat" => (arg("a0"), arg("a2")),
            "symlinkat" => (arg("a1"), arg("a1")),
            _ => (AT_FDCWD, AT_FDCWD),
        };
        Some(Call {
            action: ev
                .action()
                .map(|a| a.to_str_escaped().into_owned())
                .unwrap_or_default(),
            success,
            complete,
            cwd: ev
                .record(RecordType::CWD)
                .and_then(|r| r.field("cwd"))
                .and_then(|f| decode_audit_string(&f.raw)),
            pid: sys
                .field("pid")
                .and_then(|f| std::str::from_utf8(&f.raw).ok()?.parse().ok()),
            fd1,
            fd2,
            a1: arg("a1"),
            a2: arg("a2"),
            items,
            serial: ev.serial,
            timestamp: ev.timestamp,
            syscall,
        })
    }

    /// Locates an operand, learns its parent directory from it, and asks
    /// the host (when live) for what is unknown.
    fn operand(&mut self, call: &Call, it: &Item, second: bool, with_parent: bool) -> Located {
        let mut l = call.locate(it, second, with_parent);
        if let (Some(pk), Some(pp)) = (l.parent, &l.parent_path) {
            // The directory known by inode wins over the name where the name
            // may mislead: a directory part may go through symlinks (the
            // PARENT's inode is the real directory), and in a rename of a
            // directory the CWD record, written after the call, may show a
            // cwd the rename moved. A bare name in the cwd is otherwise
            // placed by the cwd, the fresher knowledge (an inode may have
            // been reused unseen).
            let plain = !l.last.is_empty() && l.last != b"." && l.last != b"..";
            let moves_dir = call.is(&["rename", "renameat", "renameat2"])
                && call.items.iter().any(|i| i.is("CREATE") && i.is_dir());
            if plain && (moves_dir || l.named_dir) && self.node_path(pk).is_some() {
                if let Loc::Known(lexical) = &l.loc {
                    l.loc = Loc::InDir {
                        dir: pk,
                        name: l.last.clone(),
                        fallback: lexical.clone(),
                    };
                }
            } else {
                self.set_abs(pk, pp.clone());
            }
        }
        if self.host.is_some() && self.locate(&l.loc).is_none() {
            let fd = if second { call.fd2 } else { call.fd1 };
            let fd = (!is_fdcwd(fd)).then_some(fd);
            match &l.loc {
                Loc::InDir { dir, fallback, .. } => {
                    let (part, _) = split_name(fallback);
                    let part = (!part.is_empty()).then(|| part.to_vec());
                    self.ask_host(*dir, call.pid, fd, part.as_deref());
                }
                // A nameless O_TMPFILE file is nowhere to be found.
                Loc::Entry { key, .. } if self.anonymous.contains(key) => {}
                Loc::Entry { key, fallback } => match proc_fd(fallback) {
                    Some(n) => self.ask_host(*key, call.pid, Some(n), None),
                    None => self.ask_host(*key, call.pid, fd, Some(fallback)),
                },
                _ => {}
            }
        }
        l
    }

    /// Remembers where the entry of `it` is, from its located operand.
    fn learn(&mut self, it: &Item, l: &Located) {
        let Some(key) = it.key else { return };
        let plain = !l.last.is_empty() && l.last != b"." && l.last != b"..";
        match l.parent {
            Some(d) if plain && d != key => self.set(key, Node::Rel(d, l.last.clone())),
            _ => {
                if let Some(p) = self.locate(&l.loc) {
                    self.set_abs(key, p);
                }
            }
        }
    }

    fn draft(
        &self,
        call: &Call,
        kind: ChangeKind,
        it: &Item,
        path: Loc,
        old: Option<Loc>,
        target: Option<Loc>,
    ) -> Draft {
        let generic = matches!(
            call.action.as_str(),
            "" | "opened-file" | "triggered-audit-rule"
        ) || matches!(
            kind,
            ChangeKind::Created
                | ChangeKind::Modified
                | ChangeKind::DirRemoved
                | ChangeKind::Linked
                | ChangeKind::Symlinked
                | ChangeKind::Exchanged
        );
        Draft {
            change: FsChange {
                kind,
                action: if generic {
                    kind.specific_action().to_string()
                } else {
                    call.action.clone()
                },
                path: Bytes::default(),
                old_path: None,
                target: None,
                file_type: it.file_type(),
                inode: it.inode,
                success: call.success,
                syscall: call.syscall.clone(),
                serial: call.serial,
                timestamp: call.timestamp,
                dir_known: true,
                complete: call.complete,
            },
            path,
            old,
            target,
            time: call.timestamp,
        }
    }

    fn classify(&mut self, call: &Call) -> Vec<Draft> {
        if call.items.is_empty() {
            return Vec::new();
        }
        if call.is(&["rename", "renameat", "renameat2"]) {
            return self.classify_rename(call);
        }
        if call.is(&["link", "linkat", "symlink", "symlinkat"]) {
            return self.classify_link(call);
        }
        if let Some(kind) = attr_kind(&call.syscall) {
            let it = call
                .items
                .iter()
                .find(|i| i.is("NORMAL"))
                .or_else(|| call.items.iter().find(|i| !i.is("PARENT")))
                .or_else(|| call.parents().next());
            let Some(it) = it else { return Vec::new() };
            let l = self.operand(call, it, false, true);
            self.learn(it, &l);
            return vec![self.draft(call, kind, it, l.loc, None, None)];
        }
        self.classify_create_delete(call)
    }

    fn classify_rename(&mut self, call: &Call) -> Vec<Draft> {
        let creates: Vec<&Item> = call.items.iter().filter(|i| i.is("CREATE")).collect();
        let deletes: Vec<&Item> = call.items.iter().filter(|i| i.is("DELETE")).collect();
        // An exchange (renameat2 RENAME_EXCHANGE): two CREATEs, each with the
        // inode of the other name's DELETE. Both names stay.
        if creates.len() >= 2 {
            let (a, b) = (creates[0], creates[1]);
            let la = self.operand(call, a, true, true);
            let lb = self.operand(call, b, false, true);
            let (pa, pb) = (self.locate(&la.loc), self.locate(&lb.loc));
            if let (Some(ka), Some(kb)) = (a.key, b.key) {
                // After the exchange, a's inode is at a's name (its new
                // place) and b's at b's name.
                self.set_in(ka, la.parent, &la.last, pa.as_deref());
                self.set_in(kb, lb.parent, &lb.last, pb.as_deref());
                if a.is_dir() || b.is_dir() {
                    if let (Some(pa), Some(pb)) = (&pa, &pb) {
                        self.swap_subtrees(pa, pb);
                    }
                }
            }
            return vec![self.draft(call, ChangeKind::Exchanged, a, la.loc, Some(lb.loc), None)];
        }
        let new = creates.first().copied();
        let old = deletes
            .iter()
            .find(|d| new.is_none_or(|n| d.inode == n.inode))
            .or(deletes.first())
            .copied();
        let (Some(o), Some(n)) = (old, new) else {
            // A failed rename logs only the parents.
            return match call.parents().next() {
                Some(p) => {
                    let l = self.operand(call, p, false, false);
                    vec![self.draft(call, ChangeKind::Renamed, p, l.loc, None, None)]
                }
                None => Vec::new(),
            };
        };
        let lo = self.operand(call, o, false, true);
        let ln = self.operand(call, n, true, true);
        let old_path = self.locate(&lo.loc);
        if call.success {
            // A replaced target is gone.
            for d in &deletes {
                if d.key.is_some() && d.key != o.key {
                    if let Some(k) = d.key {
                        if d.is_dir() {
                            self.mark_removed(k);
                        } else {
                            let l = self.operand(call, d, true, true);
                            let p = self.locate(&l.loc);
                            self.unlink_name(k, p.as_deref());
                        }
                    }
                }
            }
            self.learn(n, &ln);
            if n.is_dir() {
                if let (Some(op), Some(np)) = (&old_path, self.locate(&ln.loc)) {
                    self.move_subtree(op, &np);
                }
            }
        }
        vec![self.draft(call, ChangeKind::Renamed, n, ln.loc, Some(lo.loc), None)]
    }

    /// Exchanged directories: absolute paths remembered under each move to
    /// the other.
    fn swap_subtrees(&mut self, a: &[u8], b: &[u8]) {
        let tmp = b"\0swap".to_vec();
        self.move_subtree(a, &tmp);
        self.move_subtree(b, a);
        self.move_subtree(&tmp, b);
    }

    fn classify_link(&mut self, call: &Call) -> Vec<Draft> {
        let symbolic = call.syscall.starts_with("sym");
        let Some(n) = call.items.iter().find(|i| i.is("CREATE")) else {
            let kind = if symbolic {
                ChangeKind::Symlinked
            } else {
                ChangeKind::Linked
            };
            return match call.parents().next() {
                Some(p) => {
                    let l = self.operand(call, p, false, false);
                    vec![self.draft(call, kind, p, l.loc, None, None)]
                }
                None => Vec::new(),
            };
        };
        let ln = self.operand(call, n, true, true);
        if symbolic {
            let target = call
                .items
                .iter()
                .find(|i| i.is("UNKNOWN"))
                .and_then(|i| i.name.clone())
                .map(Loc::Known);
            if call.success {
                self.learn(n, &ln);
            }
            return vec![self.draft(call, ChangeKind::Symlinked, n, ln.loc, None, target)];
        }
        let source = call.items.iter().find(|i| i.is("NORMAL"));
        let target = source.map(|s| self.operand(call, s, false, false));
        // A link of an O_TMPFILE file (through /proc/self/fd/N) gives a
        // nameless file its first name: a file created.
        let anon = n.key.is_some() && self.anonymous.iter().any(|k| Some(*k) == n.key);
        let unnamed = target
            .as_ref()
            .is_some_and(|t| proc_fd(t.loc.fallback()).is_some() && self.locate(&t.loc).is_none());
        if call.success {
            // The file keeps its other name.
            if let Some(k) = n.key {
                if let Some(old) = self.nodes.get(&k).cloned() {
                    if self.aliases.len() >= self.capacity {
                        self.aliases.clear();
                    }
                    let names = self.aliases.entry(k).or_default();
                    if names.len() < 64 {
                        names.push(old);
                    }
                }
            }
            self.learn(n, &ln);
            if anon {
                self.anonymous.retain(|k| Some(*k) != n.key);
            }
        }
        if anon || unnamed {
            return vec![self.draft(call, ChangeKind::Created, n, ln.loc, None, None)];
        }
        vec![self.draft(
            call,
            ChangeKind::Linked,
            n,
            ln.loc,
            None,
            target.map(|t| t.loc),
        )]
    }

    fn classify_create_delete(&mut self, call: &Call) -> Vec<Draft> {
        let mut out = Vec::new();
        let s = call.syscall.as_str();
        let opens = call.is(&["open", "openat", "openat2", "creat", "open_by_handle_at"]);
        let flags = if s == "open" || s == "creat" {
            call.a1
        } else {
            call.a2
        };
        // O_TMPFILE: a file without a name (no directory entry changes),
        // until linkat gives it one.
        // (Open flags are a C int: a wider value is not flags.)
        if opens
            && s != "openat2"
            && s != "creat"
            && flags <= u64::from(u32::MAX)
            && flags & O_TMPFILE == O_TMPFILE
        {
            if let Some(k) = call
                .items
                .iter()
                .find(|i| !i.is("PARENT"))
                .and_then(|i| i.key)
            {
                if self.anonymous.len() >= 64 {
                    self.anonymous.pop_front();
                }
                self.anonymous.push_back(k);
            }
            return out;
        }
        for d in call.items.iter().filter(|i| i.is("DELETE")) {
            let l = self.operand(call, d, false, true);
            let dir =
                d.is_dir() || s == "rmdir" || (s == "unlinkat" && call.a2 & AT_REMOVEDIR != 0);
            if dir {
                // Kept until no waiting change may need it.
                self.learn(d, &l);
                if let Some(k) = d.key {
                    self.mark_removed(k);
                }
            } else if let (Some(k), true) = (d.key, call.success) {
                let p = self.locate(&l.loc);
                self.unlink_name(k, p.as_deref());
            }
            let kind = if dir {
                ChangeKind::DirRemoved
            } else {
                ChangeKind::Deleted
            };
            out.push(self.draft(call, kind, d, l.loc, None, None));
        }
        for c in call.items.iter().filter(|i| i.is("CREATE")) {
            let l = self.operand(call, c, false, true);
            let dir = c.is_dir() || s == "mkdir" || s == "mkdirat";
            if call.success {
                self.learn(c, &l);
            }
            let kind = if dir {
                ChangeKind::DirCreated
            } else {
                ChangeKind::Created
            };
            out.push(self.draft(call, kind, c, l.loc, None, None));
        }
        if !out.is_empty() {
            return out;
        }
        if !opens {
            return out;
        }
        // O_WRONLY | O_RDWR | O_TRUNC (openat2 keeps its flags in a struct: assume write).
        let writes = s == "creat" || s == "openat2" || flags & 0o3 != 0 || flags & 0o1000 != 0;
        if !writes {
            return out;
        }
        if let Some(it) = call.items.iter().find(|i| i.is("NORMAL")) {
            let l = self.operand(call, it, false, true);
            if call.success {
                self.learn(it, &l);
            }
            out.push(self.draft(call, ChangeKind::Modified, it, l.loc, None, None));
        } else if !call.success {
            // A failed create logs only the directory.
            if let Some(p) = call.parents().next() {
                let l = self.operand(call, p, false, false);
                out.push(self.draft(call, ChangeKind::Created, p, l.loc, None, None));
            }
        }
        out
    }
}

/// At most this many changes wait for their directory (each holds a whole
/// change).
const MAX_WAITING: usize = 4096;

/// `O_TMPFILE` on x86, arm and most architectures (`__O_TMPFILE | O_DIRECTORY`).
const O_TMPFILE: u64 = 0o20_200_000;

/// The change of a syscall that changes an entry in place.
fn attr_kind(s: &str) -> Option<ChangeKind> {
    Some(match s {
        "chmod" | "fchmod" | "fchmodat" | "fchmodat2" => ChangeKind::ModeChanged,
        "chown" | "fchown" | "lchown" | "fchownat" | "chown32" | "fchown32" | "lchown32" => {
            ChangeKind::OwnerChanged
        }
        "setxattr" | "lsetxattr" | "fsetxattr" | "removexattr" | "lremovexattr"
        | "fremovexattr" | "setxattrat" | "removexattrat" => ChangeKind::XattrChanged,
        "utime" | "utimes" | "utimensat" | "futimesat" | "utimensat_time64" => {
            ChangeKind::TimesChanged
        }
        "truncate" | "ftruncate" | "truncate64" | "ftruncate64" | "fallocate" => {
            ChangeKind::Modified
        }
        _ => return None,
    })
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

    #[test]
    fn is_under_compares_normalized_paths() {
        let change = |path: &str, old: Option<&str>| FsChange {
            kind: ChangeKind::Renamed,
            action: "renamed".into(),
            path: path.into(),
            old_path: old.map(Into::into),
            target: None,
            file_type: None,
            inode: None,
            success: true,
            syscall: "rename".into(),
            serial: 1,
            timestamp: Timestamp { sec: 1, milli: 0 },
            dir_known: true,
            complete: true,
        };
        let c = change("/srv/www/a", Some("/home/u/a"));
        for (dir, under) in [
            ("/srv/www", true),
            ("/srv/www/", true),
            ("/srv//www/.", true),
            ("/srv/www/a", true),
            ("/srv/www/a/", true),
            ("/srv/ww", false),
            ("/srv/www/a/b", false),
            ("/home/u", true),
            ("/home/x/../u", true),
            ("/", true),
            ("srv/www", false),
            (".", false),
        ] {
            assert_eq!(c.is_under(dir), under, "{dir}");
        }
        let rel = change("../x/y", None);
        for (dir, under) in [
            (".", true),
            ("a/..", true),
            ("../x", true),
            ("../x/", true),
            ("../xy", false),
            ("x", false),
            ("/", false),
        ] {
            assert_eq!(rel.is_under(dir), under, "{dir}");
        }
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
        let live = tracker.nodes.len();
        assert!(
            tracker.order.len() <= live + live / 4 + 65,
            "{} keys queued for {live} known directories",
            tracker.order.len()
        );
    }
}
