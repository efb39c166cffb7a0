//! Small value types that mirror libauparse's C enums. Conversions from C
//! integers are total: values this crate does not know become `Unknown(n)`.

use auparse_sys as ffi;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// How libauparse classifies a field, which decides how it is interpreted
/// (`auparse_get_field_type`).
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// # let ev = auparse::read_events(&log[..])?.next().unwrap()?;
/// use auparse::FieldType;
/// let types: Vec<FieldType> = ev.records[0].fields[1..3].iter().map(|f| f.field_type).collect();
/// assert_eq!(types, [FieldType::Arch, FieldType::Syscall]);
/// assert_eq!(ev.records[0].field("uid").unwrap().field_type, FieldType::Uid);
/// assert_eq!("EscapedFile".parse::<FieldType>(), Ok(FieldType::EscapedFile));
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum FieldType {
    Unclassified,
    Uid,
    Gid,
    Syscall,
    Arch,
    Exit,
    Escaped,
    Perm,
    Mode,
    Sockaddr,
    Flags,
    Promisc,
    Capability,
    Success,
    A0,
    A1,
    A2,
    A3,
    Signal,
    List,
    TtyData,
    Session,
    CapBitmap,
    Nfproto,
    Icmptype,
    Protocol,
    Addr,
    Personality,
    Seccomp,
    Oflag,
    Mmap,
    ModeShort,
    MacLabel,
    Proctitle,
    Hook,
    Netaction,
    Macproto,
    IoctlReq,
    EscapedKey,
    EscapedFile,
    Fanotify,
    Nlmcgrp,
    Resolve,
    /// A type this crate does not know (newer libauparse).
    Unknown(u32),
}

impl FieldType {
    /// Converts libauparse's `AUPARSE_TYPE_*` value.
    pub fn from_raw(v: u32) -> Self {
        use FieldType::*;
        match v {
            ffi::AUPARSE_TYPE_UNCLASSIFIED => Unclassified,
            ffi::AUPARSE_TYPE_UID => Uid,
            ffi::AUPARSE_TYPE_GID => Gid,
            ffi::AUPARSE_TYPE_SYSCALL => Syscall,
            ffi::AUPARSE_TYPE_ARCH => Arch,
            ffi::AUPARSE_TYPE_EXIT => Exit,
            ffi::AUPARSE_TYPE_ESCAPED => Escaped,
            ffi::AUPARSE_TYPE_PERM => Perm,
            ffi::AUPARSE_TYPE_MODE => Mode,
            ffi::AUPARSE_TYPE_SOCKADDR => Sockaddr,
            ffi::AUPARSE_TYPE_FLAGS => Flags,
            ffi::AUPARSE_TYPE_PROMISC => Promisc,
            ffi::AUPARSE_TYPE_CAPABILITY => Capability,
            ffi::AUPARSE_TYPE_SUCCESS => Success,
            ffi::AUPARSE_TYPE_A0 => A0,
            ffi::AUPARSE_TYPE_A1 => A1,
            ffi::AUPARSE_TYPE_A2 => A2,
            ffi::AUPARSE_TYPE_A3 => A3,
            ffi::AUPARSE_TYPE_SIGNAL => Signal,
            ffi::AUPARSE_TYPE_LIST => List,
            ffi::AUPARSE_TYPE_TTY_DATA => TtyData,
            ffi::AUPARSE_TYPE_SESSION => Session,
            ffi::AUPARSE_TYPE_CAP_BITMAP => CapBitmap,
            ffi::AUPARSE_TYPE_NFPROTO => Nfproto,
            ffi::AUPARSE_TYPE_ICMPTYPE => Icmptype,
            ffi::AUPARSE_TYPE_PROTOCOL => Protocol,
            ffi::AUPARSE_TYPE_ADDR => Addr,
            ffi::AUPARSE_TYPE_PERSONALITY => Personality,
            ffi::AUPARSE_TYPE_SECCOMP => Seccomp,
            ffi::AUPARSE_TYPE_OFLAG => Oflag,
            ffi::AUPARSE_TYPE_MMAP => Mmap,
            ffi::AUPARSE_TYPE_MODE_SHORT => ModeShort,
            ffi::AUPARSE_TYPE_MAC_LABEL => MacLabel,
            ffi::AUPARSE_TYPE_PROCTITLE => Proctitle,
            ffi::AUPARSE_TYPE_HOOK => Hook,
            ffi::AUPARSE_TYPE_NETACTION => Netaction,
            ffi::AUPARSE_TYPE_MACPROTO => Macproto,
            ffi::AUPARSE_TYPE_IOCTL_REQ => IoctlReq,
            ffi::AUPARSE_TYPE_ESCAPED_KEY => EscapedKey,
            ffi::AUPARSE_TYPE_ESCAPED_FILE => EscapedFile,
            ffi::AUPARSE_TYPE_FANOTIFY => Fanotify,
            ffi::AUPARSE_TYPE_NLMCGRP => Nlmcgrp,
            ffi::AUPARSE_TYPE_RESOLVE => Resolve,
            other => Unknown(other),
        }
    }
}

impl Serialize for FieldType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{self:?}"))
    }
}

/// The name `Serialize` writes (`EscapedFile`, `Unknown(77)`).
impl std::str::FromStr for FieldType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        use FieldType::*;
        Ok(match s {
            "Unclassified" => Unclassified,
            "Uid" => Uid,
            "Gid" => Gid,
            "Syscall" => Syscall,
            "Arch" => Arch,
            "Exit" => Exit,
            "Escaped" => Escaped,
            "Perm" => Perm,
            "Mode" => Mode,
            "Sockaddr" => Sockaddr,
            "Flags" => Flags,
            "Promisc" => Promisc,
            "Capability" => Capability,
            "Success" => Success,
            "A0" => A0,
            "A1" => A1,
            "A2" => A2,
            "A3" => A3,
            "Signal" => Signal,
            "List" => List,
            "TtyData" => TtyData,
            "Session" => Session,
            "CapBitmap" => CapBitmap,
            "Nfproto" => Nfproto,
            "Icmptype" => Icmptype,
            "Protocol" => Protocol,
            "Addr" => Addr,
            "Personality" => Personality,
            "Seccomp" => Seccomp,
            "Oflag" => Oflag,
            "Mmap" => Mmap,
            "ModeShort" => ModeShort,
            "MacLabel" => MacLabel,
            "Proctitle" => Proctitle,
            "Hook" => Hook,
            "Netaction" => Netaction,
            "Macproto" => Macproto,
            "IoctlReq" => IoctlReq,
            "EscapedKey" => EscapedKey,
            "EscapedFile" => EscapedFile,
            "Fanotify" => Fanotify,
            "Nlmcgrp" => Nlmcgrp,
            "Resolve" => Resolve,
            _ => s
                .strip_prefix("Unknown(")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|n| n.parse().ok())
                .map(Unknown)
                .ok_or_else(|| format!("unknown field type '{s}'"))?,
        })
    }
}

impl<'de> Deserialize<'de> for FieldType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An audit record type number (`type=` in the log, e.g. 1300 for SYSCALL).
///
/// A newtype rather than an enum: the kernel and user space add record types
/// all the time, and every number is valid. Common types have constants;
/// [`name`](Self::name) and `Display` give the name libaudit knows it by,
/// as [`RecordRef::type_name`](crate::RecordRef::type_name) does.
///
/// ```
/// use auparse::RecordType;
/// assert_eq!(RecordType::SYSCALL.to_string(), "SYSCALL");
/// assert_eq!(RecordType(1300), RecordType::SYSCALL);
/// assert_eq!(RecordType(99999).to_string(), "UNKNOWN[99999]"); // as ausearch prints it
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordType(pub u32);

#[allow(missing_docs)]
impl RecordType {
    pub const LOGIN: Self = Self(1006);
    pub const DAEMON_START: Self = Self(1200);
    pub const CONFIG_CHANGE: Self = Self(1305);
    pub const SYSCALL: Self = Self(1300);
    pub const PATH: Self = Self(1302);
    pub const IPC: Self = Self(1303);
    pub const SOCKETCALL: Self = Self(1304);
    pub const SOCKADDR: Self = Self(1306);
    pub const CWD: Self = Self(1307);
    pub const EXECVE: Self = Self(1309);
    pub const EOE: Self = Self(1320);
    pub const PROCTITLE: Self = Self(1327);
    pub const AVC: Self = Self(1400);
    pub const ANOM_PROMISCUOUS: Self = Self(1700);
    pub const ANOM_ABEND: Self = Self(1701);

    /// True for kernel anomaly records (`ANOM_*`, 1700-1799 except the user-space range).
    pub fn is_kernel_anomaly(self) -> bool {
        (1700..=1799).contains(&self.0)
    }
}

impl RecordType {
    /// The type's name as libaudit spells it (`audit_msg_type_to_name`,
    /// what `auparse_get_type_name` returns), e.g. `SYSCALL`; `None` for a
    /// number it has no name for.
    pub fn name(self) -> Option<&'static str> {
        let n = std::ffi::c_int::try_from(self.0).ok()?;
        auparse_sys::audit_msg_type_to_name(n)?.to_str().ok()
    }
}

/// The name ([`RecordType::name`]), or `UNKNOWN[n]` as `ausearch` prints a
/// number without one. `{:?}` shows the number.
impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "UNKNOWN[{}]", self.0),
        }
    }
}

/// How libauparse escapes interpreted values (`auparse_set_escape_mode`).
///
/// ```
/// use auparse::EscapeMode;
/// // A file name with a newline in it, hex-encoded by the kernel.
/// let log = b"type=PATH msg=audit(1.000:1): item=0 name=610A62 inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=CREATE\n";
/// let name = |mode| -> auparse::Result<auparse::Bytes> {
///     let ev = auparse::read_events_escaped(&log[..], mode)?.next().unwrap()?;
///     Ok(ev.records[0].field("name").unwrap().interpreted.clone())
/// };
/// assert_eq!(name(EscapeMode::Raw)?, "a\nb");
/// assert_eq!(name(EscapeMode::Tty)?, "a\\012b"); // as ausearch -i prints it
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EscapeMode {
    /// No escaping: the decoded bytes as they are (this crate's default).
    #[default]
    Raw,
    /// Control characters as `\ooo` octal escapes (libauparse's own default,
    /// and what `ausearch` prints).
    Tty,
    /// Control characters and shell metacharacters escaped.
    Shell,
    /// Like `Shell`, plus quoting characters.
    ShellQuote,
}

impl EscapeMode {
    pub(crate) fn to_raw(self) -> ffi::auparse_esc_t {
        match self {
            EscapeMode::Raw => ffi::AUPARSE_ESC_RAW,
            EscapeMode::Tty => ffi::AUPARSE_ESC_TTY,
            EscapeMode::Shell => ffi::AUPARSE_ESC_SHELL,
            EscapeMode::ShellQuote => ffi::AUPARSE_ESC_SHELL_QUOTE,
        }
    }
}

/// Time of an event: seconds since the epoch and milliseconds, as in `msg=audit(S.MMM:serial)`.
///
/// Serialized as `{"sec":S,"milli":M}`, exact for every value (a float
/// would lose the milliseconds of far-off seconds).
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// # let ev = auparse::read_events(&log[..])?.next().unwrap()?;
/// let t = ev.timestamp;
/// assert_eq!((t.sec, t.milli), (1653911717, 20));
/// assert_eq!(t.to_datetime().unwrap().to_rfc3339(), "2022-05-30T11:55:17.020+00:00");
/// let _when: std::time::SystemTime = t.into();
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
pub struct Timestamp {
    /// Seconds since 1970-01-01 UTC.
    pub sec: i64,
    /// Milliseconds (0-999).
    pub milli: u32,
}

impl Timestamp {
    /// Seconds as a float (`1653911717.02`), the original tool's `timestamp`.
    pub fn as_f64(self) -> f64 {
        self.sec as f64 + f64::from(self.milli) / 1000.0
    }

    /// The time as a [`SystemTime`](std::time::SystemTime).
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// let t = auparse::Timestamp { sec: 1653911717, milli: 20 };
    /// assert_eq!(t.to_system_time(), UNIX_EPOCH + Duration::from_millis(1653911717020));
    /// ```
    pub fn to_system_time(self) -> std::time::SystemTime {
        let milli = std::time::Duration::from_millis(u64::from(self.milli));
        let secs = std::time::Duration::from_secs(self.sec.unsigned_abs());
        if self.sec >= 0 {
            std::time::UNIX_EPOCH + secs + milli
        } else {
            std::time::UNIX_EPOCH - secs + milli
        }
    }

    /// The time as a chrono [`DateTime<Utc>`](chrono::DateTime); `None` if
    /// it is out of chrono's range (or `milli` is over 999).
    ///
    /// ```
    /// let t = auparse::Timestamp { sec: 1653911717, milli: 20 };
    /// let dt = t.to_datetime().unwrap();
    /// assert_eq!(dt.to_rfc3339(), "2022-05-30T11:55:17.020+00:00");
    /// ```
    pub fn to_datetime(self) -> Option<chrono::DateTime<chrono::Utc>> {
        if self.milli > 999 {
            return None;
        }
        chrono::DateTime::from_timestamp(self.sec, self.milli * 1_000_000)
    }
}

impl From<Timestamp> for std::time::SystemTime {
    fn from(t: Timestamp) -> Self {
        t.to_system_time()
    }
}
