//! Raw FFI bindings to libauparse, the Linux audit event parsing library.
//!
//! The bindings are generated at build time by bindgen from the `auparse.h`
//! that pkg-config finds, so they always match the installed library. C enums
//! are plain integer constants (`AUSOURCE_FEED`, `AUPARSE_TYPE_UID`, ...): the
//! library grows new values between releases, and a Rust enum holding a value
//! it does not list would be undefined behaviour.
//!
//! This crate has no safe API; use the `auparse` crate for that. Things the
//! header does not say, which every caller must respect:
//!
//! - libauparse 3.0.x keeps process-global state (interpretation list, uid/gid
//!   caches, a static path buffer, the end-of-event timeout): serialize all calls.
//! - Strings returned by accessors are owned by the current event and die with
//!   it (in feed mode: when the callback returns).
//! - `auparse_get_node` returns a `malloc`ed string the caller must `free`.
//! - `AUSOURCE_DESCRIPTOR` and `AUSOURCE_FILE_POINTER` sources close what they are given.
//!
//! One libaudit function the header does not declare is here too,
//! [`audit_name_to_msg_type`], found at run time (see its documentation).
//!
//! The library version found at build time is [`LIBAUPARSE_VERSION`]; dependents
//! also get it in their build scripts as `DEP_AUPARSE_VERSION`.

#![allow(non_upper_case_globals, non_camel_case_types, non_snake_case)]
#![allow(missing_docs, clippy::all)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

/// Version of libauparse (from pkg-config) the bindings were generated from.
pub const LIBAUPARSE_VERSION: &str = env!("AUPARSE_SYS_LIBAUPARSE_VERSION");

/// The C signature of libaudit's `audit_name_to_msg_type` (libaudit.h:
/// `int audit_name_to_msg_type(const char *msg_type)`).
type NameToMsgType = unsafe extern "C" fn(*const core::ffi::c_char) -> core::ffi::c_int;

/// libaudit's `audit_name_to_msg_type`: the record type number of a record
/// type name (`"SYSCALL"` is 1300, `"UNKNOWN[1999]"` is 1999, an unknown name
/// -1). `None` only if the libaudit in the process does not export it.
///
/// Safe to call: the function only reads the NUL-terminated string it is
/// given and touches no shared mutable state (libaudit 3.0.9 `lookup_table.c`:
/// a binary search of constant tables, then `strtol` for `UNKNOWN[n]`), so it
/// needs neither the libauparse lock nor anything of the caller.
///
/// How it is found, and why not by linking: libauparse needs libaudit
/// (`libauparse.so.0` has `NEEDED libaudit.so.1`), so libaudit is in every
/// process that uses these bindings; but its headers and its `libaudit.so`
/// link name come in `libaudit-dev`, which Debian 12's `libauparse-dev` does
/// not depend on, and a symbol reached only through libauparse's own
/// dependency cannot be linked to (ld: "DSO missing from command line").
/// Linking `-laudit` would make every build need one more -dev package for
/// one function; looking the symbol up in the loaded objects needs nothing.
pub fn audit_name_to_msg_type(name: &core::ffi::CStr) -> Option<core::ffi::c_int> {
    static F: std::sync::OnceLock<Option<NameToMsgType>> = std::sync::OnceLock::new();
    let f = (*F.get_or_init(|| {
        // Keep libauparse (and with it libaudit) a needed library of any
        // binary that calls this, even one that calls nothing else here.
        std::hint::black_box(auparse_init as *const ());
        // SAFETY: dlsym with RTLD_DEFAULT searches the objects already
        // loaded and takes a NUL-terminated name; it has no other
        // precondition.
        let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"audit_name_to_msg_type".as_ptr()) };
        if p.is_null() {
            None
        } else {
            // SAFETY: the symbol is libaudit's `audit_name_to_msg_type`,
            // whose C signature (libaudit.h, every libaudit since 1.x) is
            // exactly `NameToMsgType`; a function pointer and a data pointer
            // have the same size and representation on the platforms
            // libaudit exists for (Linux, POSIX dlsym).
            Some(unsafe { std::mem::transmute::<*mut libc::c_void, NameToMsgType>(p) })
        }
    }))?;
    // SAFETY: `name` is a valid NUL-terminated string that outlives the call;
    // the function only reads it and uses no shared mutable state (above).
    Some(unsafe { f(name.as_ptr()) })
}
