//! Owned events: everything libauparse knows about an event, copied out of
//! its memory so it can be kept, sent to another thread and serialized.

use crate::bytes::{decode_audit_string, Bytes};
use crate::cursor::EventRef;
use crate::normalize::Normalized;
use crate::types::{FieldType, RecordType, Timestamp};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// A complete audit event, owned.
///
/// `Serialize` writes every member (bytes in the lossless
/// [escaping scheme](crate::bytes), `timestamp` as `{"sec","milli"}`, each
/// field with its `value` as well), `Deserialize` reads that back into an
/// equal event.
/// This is what `auparse json --schema event` writes.
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// let events: Vec<auparse::Event> = auparse::read_events(&log[..])?.collect::<Result<_, _>>()?;
/// let ev = &events[0];
/// assert_eq!((ev.serial, ev.timestamp.milli), (1001, 20));
/// assert_eq!(ev.keys, ["fsaction"]);
/// assert_eq!(ev.uid().unwrap().to_string(), "0(root)");
/// assert_eq!(ev.proctitle.as_ref().unwrap()[..], ["rm", "bar"]);
/// // serde writes it losslessly and reads it back.
/// let json = serde_json::to_string(ev).unwrap();
/// let back: auparse::Event = serde_json::from_str(&json).unwrap();
/// assert_eq!(&back, ev);
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Event {
    /// Serial number (`msg=audit(...:SERIAL)`).
    pub serial: u64,
    /// Time of the event.
    pub timestamp: Timestamp,
    /// The `node=` name, when the records carry one.
    pub node: Option<Bytes>,
    /// Every rule key of the event, in order, without duplicates. A rule with
    /// several keys logs them hex-encoded with 0x01 separators; they are split.
    pub keys: Vec<Bytes>,
    /// The records, in the order libauparse grouped them.
    pub records: Vec<Record>,
    /// The normalized view (`None` if libauparse could not normalize the event).
    pub normalized: Option<Normalized>,
    /// The normalized view computed with attributes (`NORM_OPT_ALL`), as
    /// `ausearch --format csv --extra-labels` uses it: it fills the subject and
    /// object labels, and libauparse may pick other fields in this mode (a
    /// lone AVC record gets `tcontext` as its object). Filled only when
    /// asked for ([`EventOptions::normalize_attrs`]); serialized only when
    /// filled. Boxed: it is rarely filled, and an event without it stays small.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalized_all: Option<Box<Normalized>>,
    /// The EXECVE argument list, joined from `aN`, `aN_len` and `aN[i]` chunks
    /// across all EXECVE records of the event.
    pub argv: Option<Vec<Bytes>>,
    /// The PROCTITLE argument list, split at NUL bytes of the raw hex value.
    pub proctitle: Option<Vec<Bytes>>,
}

/// One record of an [`Event`].
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// # let ev = auparse::read_events(&log[..])?.next().unwrap()?;
/// use auparse::RecordType;
/// let cwd = ev.record(RecordType::CWD).unwrap();
/// assert_eq!(cwd.type_name, "CWD");
/// assert_eq!(cwd.field("cwd").unwrap().interpreted, "/tmp");
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Record {
    /// Type number.
    #[serde(rename = "type")]
    pub record_type: RecordType,
    /// Type name as libauparse spells it (`SYSCALL`), or `UNKNOWN[n]`.
    pub type_name: String,
    /// The fields, in order.
    pub fields: Vec<Field>,
}

impl Record {
    /// The first field named `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// One field of a [`Record`].
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// # let ev = auparse::read_events(&log[..])?.next().unwrap()?;
/// use auparse::{FieldType, RecordType, Value};
/// let sys = ev.record(RecordType::SYSCALL).unwrap();
/// let pid = sys.field("pid").unwrap();
/// assert_eq!(pid.as_u64(), Some(2002));
/// assert_eq!(pid.value(), Value::Int(2002));
/// assert_eq!(sys.field("a0").unwrap().as_hex_u64(), Some(0xffffff9c));
/// let name = ev.records[3].field("name").unwrap();
/// assert_eq!(name.field_type, FieldType::EscapedFile);
/// assert_eq!(name.interpreted, "bar");
/// assert_eq!(name.realpath.as_ref().unwrap(), "/tmp/bar");
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Field {
    /// Field name.
    pub name: Bytes,
    /// Value as written in the record (quotes and hex encoding included).
    pub raw: Bytes,
    /// Value as libauparse interprets it (`auparse_interpret_field`), what
    /// `ausearch -i` prints: for a file name, the name as logged, decoded
    /// (see [`realpath`](Self::realpath) for the full path).
    pub interpreted: Bytes,
    /// libauparse's classification of the field.
    pub field_type: FieldType,
    /// For file names ([`FieldType::EscapedFile`]; `name` in PATH records,
    /// for example): the name joined to the event's cwd and normalized
    /// (`auparse_interpret_realpath`). `None` for every other field, and for
    /// the fields [`EventOptions::skip_fields`] keeps uninterpreted.
    pub realpath: Option<Bytes>,
}

/// A user or group id with its name, from [`Event::uid`] and friends.
///
/// `Display` prints `id(name)`, as `ausearch -i` would print both.
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// # let ev = auparse::read_events(&log[..])?.next().unwrap()?;
/// let auid = ev.auid().unwrap();
/// assert_eq!(auid.id, 0);
/// assert_eq!(auid.name, "root");
/// assert!(!auid.is_unset());
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Id {
    /// The number. `4294967295` (`u32::MAX`, also written `-1`) is
    /// "unset": see [`is_unset`](Self::is_unset).
    pub id: u32,
    /// The name libauparse gives it ([`Field::interpreted`]): the local
    /// user database's, the record's own (ENRICHED logs), `unset`, or
    /// `unknown(N)`.
    pub name: Bytes,
}

impl Id {
    /// The id in `f`, if its raw value is a decimal number (or `-1`).
    pub fn from_field(f: &Field) -> Option<Id> {
        let id = match &f.raw[..] {
            b"-1" => u32::MAX,
            raw => std::str::from_utf8(raw).ok()?.parse().ok()?,
        };
        Some(Id {
            id,
            name: f.interpreted.clone(),
        })
    }

    /// True for the id the kernel uses for "not set" (`4294967295`), as
    /// the login uid of a process started before anyone logged in.
    pub fn is_unset(&self) -> bool {
        self.id == u32::MAX
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.id, self.name)
    }
}

/// The typed value of a field.
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// # let ev = auparse::read_events(&log[..])?.next().unwrap()?;
/// use auparse::Value;
/// let sys = &ev.records[0];
/// assert_eq!(sys.field("exit").unwrap().value(), Value::Int(0));
/// assert_eq!(sys.field("comm").unwrap().value(), Value::Text(b"rm"));
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// A real number: see [`Field::value`].
    Int(i64),
    /// Text (the interpreted value).
    Text(&'a [u8]),
    /// `(null)`: the kernel had no value.
    Null,
}

impl Field {
    /// The raw value as an unsigned decimal number (`pid`, `ppid`, `uid`,
    /// `inode`, `items`...); `None` for anything else (quoted or hex text,
    /// a negative number, `(null)`, hexadecimal fields such as `a0`: see
    /// [`as_hex_u64`](Self::as_hex_u64)).
    pub fn as_u64(&self) -> Option<u64> {
        if self.raw.is_empty() || !self.raw.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(&self.raw).ok()?.parse().ok()
    }

    /// The raw value as a signed decimal number (`exit=-2`, `ses=-1`).
    pub fn as_i64(&self) -> Option<i64> {
        let digits = self.raw.strip_prefix(b"-").unwrap_or(&self.raw);
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(&self.raw).ok()?.parse().ok()
    }

    /// The raw value as a hexadecimal number, as the kernel writes `a0`-`a3`
    /// and `arch` (`c000003e`).
    pub fn as_hex_u64(&self) -> Option<u64> {
        if self.raw.is_empty() || !self.raw.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u64::from_str_radix(std::str::from_utf8(&self.raw).ok()?, 16).ok()
    }

    /// [`realpath`](Self::realpath) for a file name, else
    /// [`interpreted`](Self::interpreted): the most complete text of the
    /// value, what the JSON and text outputs show.
    pub fn realpath_or_interpreted(&self) -> &Bytes {
        self.realpath.as_ref().unwrap_or(&self.interpreted)
    }

    /// The typed value: an integer only where the field really is a number,
    /// that is, libauparse leaves it uninterpreted (or it is a syscall exit
    /// code that is not an error, or a session id that is set), it is not
    /// quoted or hex-encoded text, and it
    /// is written as a canonical decimal integer (`0`, `42`, `-1`; not `007`,
    /// `1e3` or `0x10`). A file named `123` stays text. The text of a file
    /// name is its [`realpath`](Self::realpath).
    pub fn value(&self) -> Value<'_> {
        // The kernel writes an unquoted `(null)` for a value it does not
        // have; a file name's interpretation joins even that to the cwd.
        if self.raw == "(null)" {
            return Value::Null;
        }
        if matches!(
            self.field_type,
            FieldType::Unclassified | FieldType::Exit | FieldType::Session
        ) && self.raw.first() != Some(&b'"')
        {
            if let Some(n) = canonical_int(&self.interpreted) {
                return Value::Int(n);
            }
        }
        Value::Text(self.realpath_or_interpreted())
    }
}

impl Serialize for Field {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Field", 6)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("raw", &self.raw)?;
        st.serialize_field("interpreted", &self.interpreted)?;
        st.serialize_field("field_type", &self.field_type)?;
        if let Some(p) = &self.realpath {
            st.serialize_field("realpath", p)?;
        } else {
            st.skip_field("realpath")?;
        }
        st.serialize_field("value", &self.value())?;
        st.end()
    }
}

/// Reads what `Serialize` writes; `value` is derived, so it is not read.
impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Repr {
            name: Bytes,
            raw: Bytes,
            interpreted: Bytes,
            field_type: FieldType,
            #[serde(default)]
            realpath: Option<Bytes>,
        }
        let r = Repr::deserialize(d)?;
        Ok(Field {
            name: r.name,
            raw: r.raw,
            interpreted: r.interpreted,
            field_type: r.field_type,
            realpath: r.realpath,
        })
    }
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Value::Int(n) => s.serialize_i64(n),
            Value::Text(t) => s.serialize_str(&crate::bytes::escape(t)),
            Value::Null => s.serialize_none(),
        }
    }
}

/// `Some(n)` for a canonical decimal integer that fits in i64.
pub(crate) fn canonical_int(b: &[u8]) -> Option<i64> {
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if digits.is_empty()
        || !digits.iter().all(u8::is_ascii_digit)
        || (digits.len() > 1 && digits[0] == b'0')
        || (b.len() != digits.len() && digits == b"0")
    {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

impl Event {
    /// The first record of the given type.
    pub fn record(&self, ty: RecordType) -> Option<&Record> {
        self.records.iter().find(|r| r.record_type == ty)
    }

    /// The field `name` of the first record of type `ty` (that record may
    /// lack it: later records of the type are not searched).
    ///
    /// ```
    /// # let log: &[u8] = b"type=SYSCALL msg=audit(1.000:7): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=2 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"id\" exe=\"/usr/bin/id\" key=(null)\ntype=PROCTITLE msg=audit(1.000:7): proctitle=6964\n";
    /// # let ev = auparse::read_events(log)?.next().unwrap()?;
    /// use auparse::RecordType;
    /// let exe = ev.field(RecordType::SYSCALL, "exe").unwrap();
    /// assert_eq!(exe.interpreted, "/usr/bin/id");
    /// assert_eq!(ev.field(RecordType::SYSCALL, "pid").unwrap().as_u64(), Some(2));
    /// # Ok::<(), auparse::Error>(())
    /// ```
    pub fn field(&self, ty: RecordType, name: &str) -> Option<&Field> {
        self.record(ty)?.field(name)
    }

    /// The first field named `name` in any record, in record order.
    pub fn find_field(&self, name: &str) -> Option<&Field> {
        self.records.iter().find_map(|r| r.field(name))
    }

    /// The user or group id in the first field named `name` of any record
    /// (`uid`, `auid`, `euid`, `ouid`, `gid`, ...): number and name.
    /// `None` when no record has the field or its raw value is not a number.
    pub fn id(&self, name: &str) -> Option<Id> {
        Id::from_field(self.find_field(name)?)
    }

    /// The `uid` of the event (the first record that has one): number and
    /// name, as [`id`](Self::id).
    ///
    /// ```
    /// # let log: &[u8] = b"type=SYSCALL msg=audit(1.000:7): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=2 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"id\" exe=\"/usr/bin/id\" key=(null)\ntype=PROCTITLE msg=audit(1.000:7): proctitle=6964\n";
    /// # let ev = auparse::read_events(log)?.next().unwrap()?;
    /// let uid = ev.uid().unwrap();
    /// assert_eq!((uid.id, &uid.name[..]), (0, &b"root"[..]));
    /// let auid = ev.auid().unwrap();
    /// assert!(auid.is_unset());
    /// assert_eq!(auid.name, "unset");
    /// assert_eq!(ev.gid().unwrap().to_string(), "0(root)");
    /// # Ok::<(), auparse::Error>(())
    /// ```
    pub fn uid(&self) -> Option<Id> {
        self.id("uid")
    }

    /// The login uid (`auid`), as [`uid`](Self::uid).
    pub fn auid(&self) -> Option<Id> {
        self.id("auid")
    }

    /// The `gid`, as [`uid`](Self::uid).
    pub fn gid(&self) -> Option<Id> {
        self.id("gid")
    }

    /// The first key, as the original tool's `key`.
    pub fn key(&self) -> Option<&Bytes> {
        self.keys.first()
    }

    /// The normalized action (`opened-file`, `deleted`, ...), if any.
    pub fn action(&self) -> Option<&Bytes> {
        self.normalized.as_ref()?.action.as_ref()
    }
}

impl EventRef<'_> {
    /// Copies the whole event out of libauparse: every record and field (raw,
    /// interpreted, type), keys, EXECVE and PROCTITLE argument lists, and the
    /// normalized view. Moves the record/field cursor.
    pub fn to_event(&mut self) -> Event {
        self.to_event_with(EventOptions::default())
    }

    /// [`to_event`](Self::to_event) with options: what to compute beyond
    /// the records.
    // One function of about 100 lines on purpose: it is the hottest path of
    // every command (one walk of libauparse's cursors per event, each field
    // decided where it is read: type cache, own ENRICHED entry, raw rule,
    // interpretation cache, file-name decoding), and the per-field state
    // (record, cursor, key finder, arena) would otherwise be threaded
    // through helpers field by field. The per-field decisions themselves
    // live in their rooms (typecache, enriched, interp_rule, interpcache,
    // escaped).
    pub fn to_event_with(&mut self, opts: EventOptions) -> Event {
        static KEY_EQ: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"key="));
        let caches = self.caches();
        caches.interpretations.tick();
        let serial = self.serial();
        let timestamp = self.timestamp();
        let node = self.node();
        let escape = self.escape_mode();
        let mut records = Vec::with_capacity(self.num_records());
        {
            let mut recs = self.records();
            while let Some(mut rec) = recs.next() {
                let record_type = rec.record_type();
                let type_name = rec.type_name_string();
                // With skip_fields: the first field, and room for a key.
                let mut fields = Vec::with_capacity(if opts.skip_fields {
                    2
                } else {
                    rec.num_fields()
                });
                // A field named `key` shows as `key=` in the record's text:
                // without that, the first field is all that is kept.
                let keys_here = !opts.skip_fields || KEY_EQ.find(rec.text()).is_some();
                // Only the first record's first field is interpreted (it is
                // what ausearch prints as the node).
                let first_record = records.is_empty();
                let mut it = rec.fields();
                let mut first = true;
                while let Some(f) = it.next() {
                    let first_field = std::mem::take(&mut first);
                    if opts.skip_fields && !(first_field && first_record) {
                        if !first_field && !keys_here {
                            break;
                        }
                        // The first field and the keys, uninterpreted (keys are
                        // decoded from the raw value).
                        let key = f.name() == b"key";
                        if first_field || key {
                            fields.push(Field {
                                name: f.name().into(),
                                raw: f.raw().into(),
                                interpreted: f.raw().into(),
                                field_type: if key {
                                    FieldType::EscapedKey
                                } else {
                                    f.field_type()
                                },
                                realpath: None,
                            });
                        }
                        continue;
                    }
                    let field_type = f.field_type();
                    let raw = f.raw();
                    // ENRICHED records answer for the fields they name
                    // after 0x1d themselves; the cache is for the others.
                    let mut realpath = None;
                    let interpreted =
                        if crate::interpcache::cacheable(field_type) && !f.own_may_name() {
                            caches
                                .interpretations
                                .interpret(field_type, escape, raw, || f.interpreted())
                        } else if field_type == FieldType::EscapedFile {
                            // libauparse keeps one interpretation per field: it
                            // is asked for the realpath, and the name as logged
                            // is worked out from the raw value (no C call)
                            // unless the record's own interpretations may name
                            // it and cannot be read here (then libauparse
                            // answers both, from those where they name it).
                            let name = f.interpreted();
                            realpath = Some(Bytes::from(f.realpath_of_file().unwrap_or(name)));
                            Bytes::from(name)
                        } else {
                            Bytes::from(f.interpreted())
                        };
                    fields.push(Field {
                        name: f.name().into(),
                        raw: raw.into(),
                        interpreted,
                        field_type,
                        realpath,
                    });
                }
                records.push(Record {
                    record_type,
                    type_name,
                    fields,
                });
            }
        }
        // The walk above left every record on its first field: moving to a
        // record puts it there, and a field cursor puts it back when dropped.
        let normalized = self.normalize_rewound(false).ok();
        let normalized_all = if opts.normalize_attrs {
            self.normalize_with(true).ok().map(Box::new)
        } else {
            None
        };
        Event {
            serial,
            timestamp,
            node,
            keys: collect_keys(&records),
            argv: collect_argv(&records),
            proctitle: collect_proctitle(&records),
            records,
            normalized,
            normalized_all,
        }
    }
}

/// What [`EventRef::to_event_with`] computes beyond the records.
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// use auparse::EventOptions;
/// let mut feeder = auparse::Feeder::new()?;
/// let mut slim = Vec::new();
/// feeder.feed(log, |ev| {
///     slim.push(ev.to_event_with(EventOptions::default().with_skip_fields(true)))
/// })?;
/// assert_eq!(slim[0].keys, ["fsaction"]); // kept
/// assert_eq!(slim[0].records[3].fields.len(), 1); // only `type`
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventOptions {
    /// Also fill [`Event::normalized_all`] (a second normalization that
    /// collects attributes; `format::csv` needs it for `extra_labels`).
    pub normalize_attrs: bool,
    /// Leave out the fields: records keep their type, their first field
    /// (interpreted in the first record only: ausearch prints it as the
    /// node) and their `key` fields, uninterpreted, so [`Event::keys`] is
    /// still right. What `format::text` and `format::csv` need, without the
    /// cost of interpreting every field.
    pub skip_fields: bool,
}

impl EventOptions {
    /// Options with `normalize_attrs` set as given.
    pub fn normalize_attrs(yes: bool) -> Self {
        EventOptions {
            normalize_attrs: yes,
            ..Self::default()
        }
    }

    /// These options with [`skip_fields`](Self::skip_fields) set as given.
    pub fn with_skip_fields(mut self, yes: bool) -> Self {
        self.skip_fields = yes;
        self
    }
}

/// Every key of the event, split at 0x01, in order, without duplicates.
pub(crate) fn collect_keys(records: &[Record]) -> Vec<Bytes> {
    let mut keys: Vec<Bytes> = Vec::new();
    for f in records.iter().flat_map(|r| &r.fields) {
        if f.name != "key" {
            continue;
        }
        crate::bytes::push_keys(&mut keys, &f.raw);
    }
    keys
}

/// Joins EXECVE `aN` / `aN[i]` values (raw, decoded) across records.
pub(crate) fn collect_argv(records: &[Record]) -> Option<Vec<Bytes>> {
    let mut args: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut argc: Option<u64> = None;
    let mut seen = false;
    for r in records
        .iter()
        .filter(|r| r.record_type == RecordType::EXECVE)
    {
        seen = true;
        for f in &r.fields {
            let name = &f.name[..];
            if name == b"argc" {
                argc = std::str::from_utf8(&f.raw)
                    .ok()
                    .and_then(|s| s.parse().ok());
                continue;
            }
            let Some(rest) = name.strip_prefix(b"a") else {
                continue;
            };
            let digits_end = rest
                .iter()
                .position(|b| !b.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits_end == 0 {
                continue;
            }
            let Some(idx) = std::str::from_utf8(&rest[..digits_end])
                .ok()
                .and_then(|s| s.parse().ok())
            else {
                continue;
            };
            let tail = &rest[digits_end..];
            let is_chunk = tail.first() == Some(&b'[') && tail.last() == Some(&b']');
            if !(tail.is_empty() || is_chunk) {
                continue; // aN_len
            }
            let value = decode_audit_string(&f.raw).unwrap_or_default();
            args.entry(idx).or_default().extend_from_slice(&value);
        }
    }
    if !seen {
        return None;
    }
    let len = argc
        .unwrap_or(0)
        .max(args.keys().next_back().map_or(0, |k| k.saturating_add(1)));
    // Cap the gap-filling so a hostile argc cannot allocate without bound.
    let len = len.min(args.len() as u64 + 1024);
    Some(
        (0..len)
            .map(|i| Bytes::from(args.remove(&i).unwrap_or_default()))
            .collect(),
    )
}

/// Splits the PROCTITLE value at NUL bytes.
pub(crate) fn collect_proctitle(records: &[Record]) -> Option<Vec<Bytes>> {
    let r = records
        .iter()
        .find(|r| r.record_type == RecordType::PROCTITLE)?;
    let f = r.field("proctitle")?;
    let raw = &f.raw[..];
    let quoted = raw.len() >= 2 && raw[0] == b'"' && raw[raw.len() - 1] == b'"';
    let bytes = decode_audit_string(raw)?;
    if quoted {
        return Some(vec![Bytes::from(bytes)]);
    }
    let mut parts: Vec<Bytes> = bytes.split(|&b| b == 0).map(Bytes::from).collect();
    while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_ints() {
        assert_eq!(canonical_int(b"0"), Some(0));
        assert_eq!(canonical_int(b"42"), Some(42));
        assert_eq!(canonical_int(b"-13"), Some(-13));
        for bad in [
            &b"007"[..],
            b"-0",
            b"",
            b"-",
            b"1e3",
            b"0x10",
            b"99999999999999999999",
            b" 1",
        ] {
            assert_eq!(canonical_int(bad), None, "{bad:?}");
        }
    }
}
