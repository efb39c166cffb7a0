//! Checks of this crate's answers against libauparse's own, field by field:
//! the views' types and interpretations (`crate::typecache`,
//! `crate::enriched`, `crate::interp_rule`), owned events
//! (`crate::interpcache`) and the normalized view. Compiled for the
//! crate's tests and with the `oracle` feature (for the `shortcuts` fuzz
//! target); not part of the API, and no library module imports it.

use crate::cursor::cbytes;
use auparse_sys as ffi;

/// What [`check_event`] and [`check_owned`] found.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) fields: u64,
    pub(crate) raw_answers: u64,
    /// Interpretations [`check_owned`] found in the parser's cache.
    pub(crate) cache_hits: u64,
    pub(crate) mismatches: Vec<String>,
}

/// A field libauparse must not be asked about
/// ([`crate::interp_rule::libauparse_overreads`]): its answer is whatever lies
/// in memory.
fn libauparse_overreads(f: &crate::FieldRef<'_>) -> bool {
    crate::interp_rule::libauparse_overreads(f.type_number(), f.raw())
}

/// Every field of the current event: the views' type and interpretation
/// against libauparse's own calls on the same field.
pub(crate) fn check_event(ev: &mut crate::EventRef<'_>, t: &mut Tally, what: &str) {
    let mut recs = ev.records();
    while let Some(mut rec) = recs.next() {
        let mut fields = rec.fields();
        while let Some(f) = fields.next() {
            if libauparse_overreads(&f) {
                continue;
            }
            t.fields += 1;
            let view_type = f.field_type();
            let view_interp = f.interpreted().to_vec();
            // SAFETY: live parser on the field `f` views, lock held by the
            // feed call running this callback.
            let (c_type, c_interp) = unsafe {
                let au = f.raw_state();
                let ty = ffi::auparse_get_field_type(au) as u32;
                let interp = cbytes(ffi::auparse_interpret_field(au))
                    .unwrap_or_else(|| f.raw())
                    .to_vec();
                (ty, interp)
            };
            if view_interp == f.raw() && crate::interp_rule::interpretation_is_raw(c_type) {
                t.raw_answers += 1;
            }
            if view_type != crate::FieldType::from_raw(c_type) || view_interp != c_interp {
                t.mismatches.push(format!(
                    "{what}: field {:?}: type {:?} vs libauparse {c_type}, {:?} vs {:?}",
                    String::from_utf8_lossy(f.name()),
                    view_type,
                    String::from_utf8_lossy(&view_interp),
                    String::from_utf8_lossy(&c_interp),
                ));
            }
        }
    }
}

/// The normalized view's field values (answered from the record's own
/// entries, the interpretation cache or libauparse) against libauparse's
/// interpretation of the fields a fresh normalization points at.
pub(crate) fn check_normalized(ev: &mut crate::EventRef<'_>, t: &mut Tally, what: &str) {
    let Ok(mine) = ev.normalize() else {
        return;
    };
    {
        let mut recs = ev.records();
        while let Some(mut rec) = recs.next() {
            rec.rewind_fields();
        }
    }
    ev.set_fields_moved();
    let au = ev.raw();
    let fields: [(
        &str,
        Option<&crate::NormField>,
        crate::normalize::Positioner,
    ); 8] = [
        (
            "session",
            mine.session.as_ref(),
            ffi::auparse_normalize_session,
        ),
        (
            "subject",
            mine.subject.primary.as_ref(),
            ffi::auparse_normalize_subject_primary,
        ),
        (
            "subject2",
            mine.subject.secondary.as_ref(),
            ffi::auparse_normalize_subject_secondary,
        ),
        (
            "results",
            mine.results.as_ref(),
            ffi::auparse_normalize_get_results,
        ),
        ("key", mine.key.as_ref(), ffi::auparse_normalize_key),
        (
            "object",
            mine.object.primary.as_ref(),
            ffi::auparse_normalize_object_primary,
        ),
        (
            "object2",
            mine.object.secondary.as_ref(),
            ffi::auparse_normalize_object_secondary,
        ),
        (
            "object3",
            mine.object.primary2.as_ref(),
            ffi::auparse_normalize_object_primary2,
        ),
    ];
    // SAFETY: live parser on the current event, lock held by the feed
    // call running this callback; every record was rewound as
    // normalize() rewinds them.
    if unsafe { ffi::auparse_normalize(au, ffi::NORM_OPT_NO_ATTRS) } != 0 {
        t.mismatches
            .push(format!("{what}: libauparse cannot normalize again"));
        return;
    }
    for (label, m, call) in fields {
        let Some(m) = m else {
            continue;
        };
        t.fields += 1;
        // SAFETY: as above; `call` is the positioning function the view
        // was read with, and the strings are copied at once.
        let theirs = unsafe {
            if call(au) != 1 {
                None
            } else {
                let file = ffi::auparse_get_field_type(au) as u32 == ffi::AUPARSE_TYPE_ESCAPED_FILE;
                let path = if file {
                    cbytes(ffi::auparse_interpret_realpath(au))
                } else {
                    None
                };
                let raw = cbytes(ffi::auparse_get_field_str(au)).unwrap_or_default();
                Some(
                    path.or_else(|| cbytes(ffi::auparse_interpret_field(au)))
                        .unwrap_or(raw)
                        .to_vec(),
                )
            }
        };
        if theirs.as_deref() != Some(&m.value[..]) {
            t.mismatches.push(format!(
                "{what}: normalized {label} {:?}: {:?} vs libauparse {:?}",
                m.field,
                m.value,
                theirs.map(|v| String::from_utf8_lossy(&v).into_owned()),
            ));
        }
    }
}

/// Owned events (`to_event`, with its interpretation cache) against
/// libauparse's interpretation of the same fields, asked afterwards.
pub(crate) fn check_owned(ev: &mut crate::EventRef<'_>, t: &mut Tally, what: &str) {
    let (hits_before, _) = ev.caches().interpretations.stats();
    let owned = ev.to_event();
    t.cache_hits += ev.caches().interpretations.stats().0 - hits_before;
    let mut recs = ev.records();
    let mut ri = 0;
    while let Some(mut rec) = recs.next() {
        let mut fields = rec.fields();
        let mut fi = 0;
        while let Some(f) = fields.next() {
            if libauparse_overreads(&f) {
                fi += 1;
                continue;
            }
            t.fields += 1;
            // SAFETY: live parser on the field `f` views, lock held by the
            // feed call running this callback.
            let c_interp = unsafe { cbytes(ffi::auparse_interpret_field(f.raw_state())) }
                .unwrap_or_else(|| f.raw());
            let mine = &owned.records[ri].fields[fi];
            if mine.realpath_or_interpreted()[..] != *c_interp {
                t.mismatches.push(format!(
                    "{what}: owned field {:?} ({:?}): {:?} vs libauparse {:?}",
                    String::from_utf8_lossy(f.name()),
                    mine.field_type,
                    mine.interpreted,
                    String::from_utf8_lossy(c_interp),
                ));
            }
            fi += 1;
        }
        ri += 1;
    }
}

/// Every field of `ev` through the views, then after normalizing, then
/// as an owned event, and the normalized view's fields, each against
/// libauparse's own answer for it: one line per difference.
pub fn mismatches(ev: &mut crate::EventRef<'_>) -> Vec<String> {
    let mut t = Tally::default();
    check_event(ev, &mut t, "view");
    let _ = ev.normalize();
    check_event(ev, &mut t, "view after normalize");
    check_owned(ev, &mut t, "owned");
    check_normalized(ev, &mut t, "normalized");
    t.mismatches
}

#[cfg(test)]
mod tests;
