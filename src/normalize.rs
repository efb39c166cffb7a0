//! The normalized view of an event (`auparse_normalize`): who did what to
//! what, how, and with which result.

use crate::bytes::Bytes;
use crate::cursor::{cbytes, EventRef};
use crate::error::{Error, Result};
use auparse_sys as ffi;
use serde::Serialize;

/// A field the normalizer pointed at: where it is and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NormField {
    /// Field name (`auid`, `name`, ...).
    pub field: Bytes,
    /// Raw value as in the record.
    pub raw: Bytes,
    /// Interpreted value.
    pub value: Bytes,
    /// Index of the record that holds it (0-based).
    pub record: usize,
}

/// Whether the action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// `success=yes`, `res=success`, `res=1`, ...
    Success,
    /// `success=no`, `res=failed`, `res=0`, ...
    Failure,
}

/// The actor of a normalized event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Subject {
    /// Usually the login uid (`auid`).
    pub primary: Option<NormField>,
    /// Usually the effective uid (`uid`).
    pub secondary: Option<NormField>,
    /// What kind of actor (`auparse_normalize_subject_kind`), e.g. `user-acct`.
    pub kind: Option<Bytes>,
}

/// The target of a normalized event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Object {
    /// Usually a path, address or account.
    pub primary: Option<NormField>,
    /// Usually an inode, port or id.
    pub secondary: Option<NormField>,
    /// A second primary object (the new name of a rename, for example).
    pub primary2: Option<NormField>,
    /// What kind of object (`auparse_normalize_object_kind`), e.g. `file`.
    pub kind: Option<Bytes>,
}

/// The normalized view of one event, computed by a fresh `auparse_normalize`
/// call on that event (never left over from another event).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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

type Positioner = unsafe extern "C" fn(*mut ffi::auparse_state_t) -> std::ffi::c_int;
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
    // SAFETY: the cursor is on a field of the current event; the strings live
    // with the event, and we copy them at once. Lock held (EventRef invariant).
    unsafe {
        let field = cbytes(ffi::auparse_get_field_name(au))?;
        let raw = cbytes(ffi::auparse_get_field_str(au)).unwrap_or_default();
        let value = cbytes(ffi::auparse_interpret_field(au)).unwrap_or(raw);
        let record = ffi::auparse_get_record_num(au) as usize;
        Some(NormField {
            field: field.into(),
            raw: raw.into(),
            value: value.into(),
            record,
        })
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
        let au = self.raw();
        // SAFETY: live parser on a current event, lock held (EventRef invariant).
        let rc = unsafe { ffi::auparse_normalize(au, ffi::NORM_OPT_NO_ATTRS) };
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
        let o_primary = positioned(self, ffi::auparse_normalize_object_primary);
        let o_secondary = positioned(self, ffi::auparse_normalize_object_secondary);
        let o_primary2 = positioned(self, ffi::auparse_normalize_object_primary2);
        let o_kind = metadata(self, ffi::auparse_normalize_object_kind);
        let results = positioned(self, ffi::auparse_normalize_get_results);
        let how = metadata(self, ffi::auparse_normalize_how);
        let key = positioned(self, ffi::auparse_normalize_key);
        let _ = self.rewind();
        Ok(Normalized {
            kind,
            session,
            subject: Subject {
                primary: s_primary,
                secondary: s_secondary,
                kind: s_kind,
            },
            action,
            object: Object {
                primary: o_primary,
                secondary: o_secondary,
                primary2: o_primary2,
                kind: o_kind,
            },
            results,
            how,
            key,
        })
    }
}
