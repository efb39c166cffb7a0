//! The normalized view of an event (`auparse_normalize`): who did what to
//! what, how, and with which result.

use crate::bytes::Bytes;
use crate::cursor::{cbytes, EventRef};
use crate::error::{Error, Result};
use crate::types::FieldType;
use auparse_sys as ffi;
use serde::Serialize;

/// A field the normalizer pointed at: where it is and what it says.
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// # let ev = auparse::read_events(&log[..])?.next().unwrap()?;
/// let n = ev.normalized.as_ref().unwrap();
/// let obj = n.object.primary.as_ref().unwrap();
/// assert_eq!((obj.field.as_bytes(), obj.record), (&b"name"[..], 3));
/// assert_eq!(obj.value, "/tmp/bar");
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct NormField {
    /// Field name (`auid`, `name`, ...).
    pub field: Bytes,
    /// Raw value as in the record.
    pub raw: Bytes,
    /// Interpreted value (`auparse_interpret_field`). For a file name, the
    /// name joined to the cwd (`auparse_interpret_realpath`), as
    /// `ausearch --format text` and `csv` print objects: the
    /// [`Field::realpath`](crate::Field::realpath) of the field, not its
    /// [`Field::interpreted`](crate::Field::interpreted).
    pub value: Bytes,
    /// Index of the record that holds it (0-based).
    pub record: usize,
    /// libauparse's classification of the field (`auparse_get_field_type`).
    pub field_type: FieldType,
}

impl NormField {
    /// The value as `ausearch` prints a subject: `unset` (the login uid of
    /// a process no one logged in to start, `auid=4294967295`) reads
    /// `system`; any other value as it is.
    ///
    /// ```
    /// let log: &[u8] = b"type=DAEMON_START msg=audit(1653911717.020:42): op=start ver=3.0.9 format=enriched kernel=6.1.0 auid=4294967295 pid=6543 uid=0 ses=4294967295 subj=unconfined res=success";
    /// let ev = auparse::read_events(log)?.next().unwrap()?;
    /// let who = ev.normalized.as_ref().unwrap().subject.primary.as_ref().unwrap();
    /// assert_eq!(who.value, "unset");
    /// assert_eq!(who.subject_value(), b"system");
    /// # Ok::<(), auparse::Error>(())
    /// ```
    pub fn subject_value(&self) -> &[u8] {
        if self.value == "unset" {
            b"system"
        } else {
            &self.value
        }
    }
}

/// Whether the action succeeded.
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// # let ev = auparse::read_events(&log[..])?.next().unwrap()?;
/// use auparse::Outcome;
/// assert_eq!(ev.normalized.as_ref().unwrap().outcome(), Some(Outcome::Success));
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// `success=yes`, `res=success`, `res=1`, ...
    Success,
    /// `success=no`, `res=failed`, `res=0`, ...
    Failure,
}

/// The actor of a normalized event.
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// # let ev = auparse::read_events(&log[..])?.next().unwrap()?;
/// let s = &ev.normalized.as_ref().unwrap().subject;
/// assert_eq!(s.primary.as_ref().unwrap().field, "auid");
/// assert_eq!(s.primary.as_ref().unwrap().value, "root");
/// assert_eq!(s.kind.as_ref().unwrap(), "privileged-acct");
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Subject {
    /// Usually the login uid (`auid`).
    pub primary: Option<NormField>,
    /// Usually the effective uid (`uid`).
    pub secondary: Option<NormField>,
    /// What kind of actor (`auparse_normalize_subject_kind`), e.g. `user-acct`.
    pub kind: Option<Bytes>,
    /// The first subject attribute named `subj` (the MAC label), found the
    /// way `ausearch --extra-labels` looks for it. Only filled by a
    /// normalization that collects attributes ([`Event::normalized_all`](crate::Event::normalized_all)).
    pub label: Option<NormField>,
}

/// The target of a normalized event.
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// # let ev = auparse::read_events(&log[..])?.next().unwrap()?;
/// let o = &ev.normalized.as_ref().unwrap().object;
/// assert_eq!(o.kind.as_ref().unwrap(), "file");
/// assert_eq!(o.primary.as_ref().unwrap().value, "/tmp/bar");
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Object {
    /// Usually a path, address or account.
    pub primary: Option<NormField>,
    /// Usually an inode, port or id.
    pub secondary: Option<NormField>,
    /// A second primary object (the new name of a rename, for example).
    pub primary2: Option<NormField>,
    /// What kind of object (`auparse_normalize_object_kind`), e.g. `file`.
    pub kind: Option<Bytes>,
    /// For a primary object that is a socket address (`saddr`):
    /// `auparse_interpret_sock_address`, or `auparse_interpret_sock_family`
    /// where there is no address.
    pub primary_sock: Option<Bytes>,
    /// The first object attribute named `obj` (the MAC label), found the way
    /// `ausearch --extra-labels` looks for it. Only filled by a normalization
    /// that collects attributes ([`Event::normalized_all`](crate::Event::normalized_all)).
    pub label: Option<NormField>,
}

/// The normalized view of one event, computed by a fresh `auparse_normalize`
/// call on that event (never left over from another event).
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// # let ev = auparse::read_events(&log[..])?.next().unwrap()?;
/// // Who did what to what, how: "root deleted /tmp/bar using /usr/bin/rm".
/// let n = ev.normalized.as_ref().unwrap();
/// let line = format!(
///     "{} {} {} using {}",
///     String::from_utf8_lossy(n.subject_text().unwrap()),
///     n.action.as_ref().unwrap(),
///     n.object.primary.as_ref().unwrap().value,
///     n.how.as_ref().unwrap(),
/// );
/// assert_eq!(line, "root deleted /tmp/bar using /usr/bin/rm");
/// assert_eq!(n.kind.as_ref().unwrap(), "audit-rule");
/// assert_eq!(n.key.as_ref().unwrap().value, "fsaction");
/// # Ok::<(), auparse::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Normalized {
    /// Event kind (`auparse_normalize_get_event_kind`), e.g. `audit-rule`.
    pub kind: Option<Bytes>,
    /// Session id field (`auparse_normalize_session`).
    pub session: Option<NormField>,
    /// Who.
    pub subject: Subject,
    /// What was done (`auparse_normalize_get_action`), e.g. `opened-file`.
    pub action: Option<Bytes>,
    /// To what.
    pub object: Object,
    /// The field telling success or failure (`auparse_normalize_get_results`).
    pub results: Option<NormField>,
    /// With what (`auparse_normalize_how`), usually the executable.
    pub how: Option<Bytes>,
    /// The rule key field (`auparse_normalize_key`).
    pub key: Option<NormField>,
}

impl Normalized {
    /// Who, as `ausearch` prints the subject: the primary subject's
    /// [`NormField::subject_value`] (`system` for `unset`).
    pub fn subject_text(&self) -> Option<&[u8]> {
        self.subject.primary.as_ref().map(NormField::subject_value)
    }

    /// Success or failure, from the results field.
    pub fn outcome(&self) -> Option<Outcome> {
        let r = self.results.as_ref()?;
        match &r.value[..] {
            b"yes" | b"success" => Some(Outcome::Success),
            b"no" | b"failed" | b"fail" => Some(Outcome::Failure),
            _ => match &r.raw[..] {
                b"yes" | b"success" | b"1" => Some(Outcome::Success),
                b"no" | b"failed" | b"0" => Some(Outcome::Failure),
                _ => None,
            },
        }
    }
}

pub(crate) type Positioner = unsafe extern "C" fn(*mut ffi::auparse_state_t) -> std::ffi::c_int;
type Getter = unsafe extern "C" fn(*mut ffi::auparse_state_t) -> *const std::ffi::c_char;

/// Runs a normalize positioning call and reads the field it left the cursor on.
fn positioned(ev: &mut EventRef<'_>, call: Positioner) -> Option<NormField> {
    let au = ev.raw();
    // SAFETY: `call` is one of libauparse's normalize positioning functions,
    // called on a live parser positioned on a current, normalized event with
    // the lock held (EventRef invariant).
    if unsafe { call(au) } != 1 {
        return None;
    }
    current_field(ev)
}

/// Copies the field the cursor is on (after a successful positioning call).
fn current_field(ev: &mut EventRef<'_>) -> Option<NormField> {
    let au = ev.raw();
    // SAFETY: the cursor is on a field of the current event; the strings live
    // with the event, and we copy them at once. Lock held (EventRef invariant).
    unsafe {
        let field = cbytes(ffi::auparse_get_field_name(au))?;
        let raw = cbytes(ffi::auparse_get_field_str(au)).unwrap_or_default();
        // The views' type cache (see crate::typecache).
        let rtype = ffi::auparse_get_type(au) as u32;
        let caches = ev.caches();
        let field_type = FieldType::from_raw(
            caches
                .types
                .field_type(rtype, field, || ffi::auparse_get_field_type(au) as u32),
        );
        // File names joined to the cwd, as to_event and ausearch show them
        // (realpath and interpretation share libauparse's cache slot: asking
        // for the realpath first decides it).
        let interpret = || {
            if field_type == FieldType::EscapedFile {
                if let Some(p) = cbytes(ffi::auparse_interpret_realpath(au)) {
                    return p;
                }
            }
            cbytes(ffi::auparse_interpret_field(au)).unwrap_or(raw)
        };
        let enriched =
            || cbytes(ffi::auparse_get_record_interpretations(au)).is_some_and(|s| !s.is_empty());
        // The same cache as EventRef::to_event, ENRICHED records excepted
        // here: working out which names they carry would cost more than it
        // saves on a handful of fields.
        let value = if crate::interpcache::cacheable(field_type) && !enriched() {
            caches
                .interpretations
                .interpret(field_type, ev.escape_mode(), raw, interpret)
        } else {
            Bytes::from(interpret())
        };
        let record = ffi::auparse_get_record_num(au) as usize;
        Some(NormField {
            field: field.into(),
            raw: raw.into(),
            value,
            record,
            field_type,
        })
    }
}

/// Walks an attribute list the way ausearch's csv report does: only when the
/// first attribute can be reached, the first attribute field named `name`.
fn labelled_attr(
    ev: &mut EventRef<'_>,
    first: Positioner,
    next: Positioner,
    name: &[u8],
) -> Option<NormField> {
    let au = ev.raw();
    // SAFETY: `first` is auparse_normalize_{subject,object}_first_attribute,
    // called on a live, normalized event with the lock held (EventRef invariant).
    if unsafe { first(au) } != 1 {
        return None;
    }
    loop {
        // SAFETY: the cursor is on a field of the current event (the last
        // positioning call returned 1); the name lives with the event and is
        // only compared here. Lock held (EventRef invariant).
        let here = unsafe { cbytes(ffi::auparse_get_field_name(au)) };
        if here == Some(name) {
            return current_field(ev);
        }
        // SAFETY: `next` is the matching *_next_attribute call, same
        // conditions as `first` above.
        if unsafe { next(au) } != 1 {
            return None;
        }
    }
}

/// For a primary object that is a socket address, what `ausearch --format
/// text` prints for it: the address, or else the family.
fn sock_text(ev: &mut EventRef<'_>, primary: Option<&NormField>) -> Option<Bytes> {
    if primary?.field_type != FieldType::Sockaddr {
        return None;
    }
    let au = ev.raw();
    // SAFETY: live, normalized event, lock held (EventRef invariant); the
    // positioning call moves the cursor onto the primary object, and the two
    // interpreters read that field and return NULL or a string owned by
    // libauparse that stays valid until the next interpretation call: each is
    // copied at once, before any other call.
    unsafe {
        if ffi::auparse_normalize_object_primary(au) != 1 {
            return None;
        }
        if let Some(a) = cbytes(ffi::auparse_interpret_sock_address(au)) {
            return Some(a.into());
        }
        cbytes(ffi::auparse_interpret_sock_family(au)).map(Bytes::from)
    }
}

/// Runs a normalize metadata getter and copies the string it returns.
fn metadata(ev: &mut EventRef<'_>, call: Getter) -> Option<Bytes> {
    // SAFETY: `call` is one of libauparse's normalize metadata getters, called
    // on a live, normalized event with the lock held; it returns NULL or a
    // pointer into static tables or the normalizer's data, copied at once.
    unsafe { cbytes(call(ev.raw())) }.map(Bytes::from)
}

impl EventRef<'_> {
    /// Normalizes this event (`auparse_normalize` with `NORM_OPT_NO_ATTRS`)
    /// and reads every getter. Moves the record/field cursor.
    ///
    /// # Errors
    /// [`Error::Normalize`] if libauparse cannot normalize the event.
    pub fn normalize(&mut self) -> Result<Normalized> {
        self.normalize_with(false)
    }

    /// Normalizes this event with `NORM_OPT_ALL` when `all_attrs` (libauparse
    /// then also collects subject and object attributes, which fills
    /// [`Subject::label`] and [`Object::label`], and for a lone AVC record takes
    /// `tcontext` as the object), else with `NORM_OPT_NO_ATTRS` like
    /// [`normalize`](Self::normalize). Moves the record/field cursor.
    ///
    /// # Errors
    /// [`Error::Normalize`] if libauparse cannot normalize the event.
    pub fn normalize_with(&mut self, all_attrs: bool) -> Result<Normalized> {
        // libauparse keeps a field cursor per record, and the normalizer's
        // field searches start from it in the records it steps into without
        // rewinding them: put every record back on its first field, as in an
        // event nobody has read yet (what ausearch normalizes).
        // Views put their record back when done, so this is needed only when
        // something left one elsewhere.
        if self.fields_moved() {
            let mut recs = self.records();
            while let Some(mut rec) = recs.next() {
                rec.rewind_fields();
            }
        }
        let n = self.normalize_rewound(all_attrs);
        let _ = self.rewind();
        n
    }

    /// [`normalize_with`](Self::normalize_with) for an event whose records
    /// are all on their first field already (each move to another record
    /// costs an ENRICHED record a reload of its interpretation list). Leaves
    /// the cursor where the normalizer's getters put it.
    pub(crate) fn normalize_rewound(&mut self, all_attrs: bool) -> Result<Normalized> {
        let au = self.raw();
        let opt = if all_attrs {
            ffi::NORM_OPT_ALL
        } else {
            ffi::NORM_OPT_NO_ATTRS
        };
        // SAFETY: live parser on a current event, lock held (EventRef invariant).
        let rc = unsafe { ffi::auparse_normalize(au, opt) };
        // The normalizer and its getters leave field cursors anywhere.
        self.set_fields_moved();
        if rc != 0 {
            let _ = self.rewind();
            return Err(Error::Normalize);
        }
        let kind = metadata(self, ffi::auparse_normalize_get_event_kind);
        let session = positioned(self, ffi::auparse_normalize_session);
        let s_primary = positioned(self, ffi::auparse_normalize_subject_primary);
        let s_secondary = positioned(self, ffi::auparse_normalize_subject_secondary);
        let s_kind = metadata(self, ffi::auparse_normalize_subject_kind);
        let action = metadata(self, ffi::auparse_normalize_get_action);
        // Results and key are usually in the subject's record: read them
        // before moving to the object's (each move to another record costs
        // an ENRICHED record a reload of its interpretation list).
        let results = positioned(self, ffi::auparse_normalize_get_results);
        let key = positioned(self, ffi::auparse_normalize_key);
        let o_primary = positioned(self, ffi::auparse_normalize_object_primary);
        let o_secondary = positioned(self, ffi::auparse_normalize_object_secondary);
        let o_primary2 = positioned(self, ffi::auparse_normalize_object_primary2);
        let o_kind = metadata(self, ffi::auparse_normalize_object_kind);
        let how = metadata(self, ffi::auparse_normalize_how);
        let primary_sock = sock_text(self, o_primary.as_ref());
        let (s_label, o_label) = if all_attrs {
            (
                labelled_attr(
                    self,
                    ffi::auparse_normalize_subject_first_attribute,
                    ffi::auparse_normalize_subject_next_attribute,
                    b"subj",
                ),
                labelled_attr(
                    self,
                    ffi::auparse_normalize_object_first_attribute,
                    ffi::auparse_normalize_object_next_attribute,
                    b"obj",
                ),
            )
        } else {
            (None, None)
        };
        Ok(Normalized {
            kind,
            session,
            subject: Subject {
                primary: s_primary,
                secondary: s_secondary,
                kind: s_kind,
                label: s_label,
            },
            action,
            object: Object {
                primary: o_primary,
                secondary: o_secondary,
                primary2: o_primary2,
                kind: o_kind,
                primary_sock,
                label: o_label,
            },
            results,
            how,
            key,
        })
    }
}
