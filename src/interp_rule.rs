//! The raw-interpretation rule: which fields libauparse interprets as a
//! plain copy of their raw value.
//!
//! Reading libauparse 3.0.9 (`auparse_do_interpretation` in `interpret.c`):
//! an UNCLASSIFIED or MAC_LABEL field is interpreted as a copy of its raw
//! value, then escaped by the escape mode; a record's own interpretations
//! (ENRICHED logs, [`crate::enriched`]) come first, but only for the field
//! names they list. So with escape mode RAW, for a field its record's
//! interpretations do not name, the interpretation *is* the raw value, and
//! the view returns it without the `strdup` and the type search libauparse
//! makes.
//!
//! These rules (this one, [`crate::typecache`], [`crate::enriched`] and the
//! non-id types of [`crate::interpcache`]) are only applied on the
//! libauparse versions they were read from (cfg `auparse_rules_3_0`, set by
//! build.rs); elsewhere every call goes to libauparse. The oracle tests
//! (`src/oracle/`) check them against libauparse field by field over every
//! corpus file and fixture, in every escape mode.

/// Whether the rules read from libauparse 3.0.9 apply to the libauparse this
/// crate was built with.
pub(crate) const ENABLED: bool = cfg!(auparse_rules_3_0);

/// True when libauparse would interpret a field of this type as a plain
/// copy of its raw value (given escape mode RAW and a record whose own
/// interpretations do not name the field, which the caller checks).
#[inline]
pub(crate) fn interpretation_is_raw(field_type: u32) -> bool {
    ENABLED
        && (field_type == auparse_sys::AUPARSE_TYPE_UNCLASSIFIED
            || field_type == auparse_sys::AUPARSE_TYPE_MAC_LABEL)
}

/// True for a value whose libauparse 3.0.9 interpretation reads past its
/// buffer: a PROCTITLE value that starts with `(null)` and goes on (found by
/// the fuzz target `feeder_formats` under AddressSanitizer; `ausearch -i`
/// reads the same uninitialised bytes). It is not hex and not quoted, so
/// nothing is decoded: its interpretation is the raw value, and libauparse
/// must not be asked.
#[inline]
pub(crate) fn libauparse_overreads(field_type: u32, raw: &[u8]) -> bool {
    field_type == auparse_sys::AUPARSE_TYPE_PROCTITLE && raw.len() > 6 && raw.starts_with(b"(null)")
}
