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
//! Two libaudit functions the header does not declare are here too,
//! [`audit_name_to_msg_type`] and [`audit_msg_type_to_name`], found at run
//! time in the objects the process has loaded: libauparse needs libaudit,
//! but its link name comes with `libaudit-dev`, which `libauparse-dev` does
//! not require (see their documentation).
//!
//! The library version found at build time is [`LIBAUPARSE_VERSION`]; dependents
//! also get it in their build scripts as `DEP_AUPARSE_VERSION`.

#![allow(non_upper_case_globals, non_camel_case_types, non_snake_case)]
#![allow(missing_docs, clippy::all)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

/// Version of libauparse (from pkg-config) the bindings were generated from.
pub const LIBAUPARSE_VERSION: &str = env!("AUPARSE_SYS_LIBAUPARSE_VERSION");

/// A libaudit function, looked up by name in the objects the process has
/// loaded (libaudit comes with libauparse); null if none exports it.
///
/// How libaudit is found, and why not by linking: libauparse needs libaudit
/// (`libauparse.so.0` has `NEEDED libaudit.so.1`), so libaudit is in every
/// process that uses these bindings; but its headers and its `libaudit.so`
/// link name come in `libaudit-dev`, which Debian 12's `libauparse-dev` does
/// not depend on, and a symbol reached only through libauparse's own
/// dependency cannot be linked to (ld: "DSO missing from command line").
/// Linking `-laudit` would make every build need one more -dev package for
/// two functions; looking the symbols up in the loaded objects needs nothing.
fn libaudit_symbol(name: &core::ffi::CStr) -> *mut libc::c_void {
    // Keep libauparse (and with it libaudit) a needed library of any
    // binary that calls this, even one that calls nothing else here
    // (tests/libaudit_alone.rs).
    std::hint::black_box(auparse_init as *const ());
    // SAFETY: dlsym with RTLD_DEFAULT searches the objects already loaded and
    // takes a NUL-terminated name; it has no other precondition.
    unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) }
}

/// The C signature of libaudit's `audit_name_to_msg_type` (libaudit.h:
/// `int audit_name_to_msg_type(const char *msg_type)`).
type NameToMsgType = unsafe extern "C" fn(*const core::ffi::c_char) -> core::ffi::c_int;

/// The C signature of libaudit's `audit_msg_type_to_name` (libaudit.h:
/// `const char *audit_msg_type_to_name(int msg_type)`).
type MsgTypeToName = unsafe extern "C" fn(core::ffi::c_int) -> *const core::ffi::c_char;

/// libaudit's `audit_name_to_msg_type`: the record type number of a record
/// type name (`"SYSCALL"` is 1300, `"UNKNOWN[1999]"` is 1999, an unknown name
/// -1). `None` only if the libaudit in the process does not export it.
///
/// Safe to call: the function only reads the NUL-terminated string it is
/// given and touches no shared mutable state (libaudit 3.0.9 `lookup_table.c`:
/// a binary search of constant tables, then `strtol` for `UNKNOWN[n]`), so it
/// needs neither the libauparse lock nor anything of the caller. libaudit is
/// looked up in the loaded objects, not linked (see the crate documentation).
pub fn audit_name_to_msg_type(name: &core::ffi::CStr) -> Option<core::ffi::c_int> {
    static F: std::sync::OnceLock<Option<NameToMsgType>> = std::sync::OnceLock::new();
    let f = (*F.get_or_init(|| {
        let p = libaudit_symbol(c"audit_name_to_msg_type");
        // SAFETY: the symbol is libaudit's `audit_name_to_msg_type`, whose C
        // signature (libaudit.h, every libaudit since 1.x) is exactly
        // `NameToMsgType`; a function pointer and a data pointer have the
        // same size and representation on the platforms libaudit exists for
        // (Linux, POSIX dlsym).
        (!p.is_null())
            .then(|| unsafe { std::mem::transmute::<*mut libc::c_void, NameToMsgType>(p) })
    }))?;
    // SAFETY: `name` is a valid NUL-terminated string that outlives the call;
    // the function only reads it and uses no shared mutable state (above).
    Some(unsafe { f(name.as_ptr()) })
}

/// libaudit's `audit_msg_type_to_name`: the name of a record type number
/// (1300 is `"SYSCALL"`), as `auparse_get_type_name` gives it; `None` for a
/// number libaudit has no name for, or if the libaudit in the process does
/// not export the function.
///
/// Safe to call: the function looks the number up in a constant table and
/// returns NULL or a pointer into it (libaudit 3.0.9 `lookup_table.c`,
/// `msg_type_i2s`), valid and unchanged for the life of the process; it
/// touches no shared mutable state, so it needs no lock. libaudit is looked
/// up in the loaded objects, not linked (see the crate documentation).
pub fn audit_msg_type_to_name(msg_type: core::ffi::c_int) -> Option<&'static core::ffi::CStr> {
    static F: std::sync::OnceLock<Option<MsgTypeToName>> = std::sync::OnceLock::new();
    let f = (*F.get_or_init(|| {
        let p = libaudit_symbol(c"audit_msg_type_to_name");
        // SAFETY: the symbol is libaudit's `audit_msg_type_to_name`, whose C
        // signature (libaudit.h, every libaudit since 1.x) is exactly
        // `MsgTypeToName`; function and data pointers have the same
        // representation on Linux (POSIX dlsym).
        (!p.is_null())
            .then(|| unsafe { std::mem::transmute::<*mut libc::c_void, MsgTypeToName>(p) })
    }))?;
    // SAFETY: takes a plain int; no shared mutable state (above).
    let p = unsafe { f(msg_type) };
    // SAFETY: NULL, or a NUL-terminated string in a static constant table
    // (above), so valid and unchanged for 'static.
    (!p.is_null()).then(|| unsafe { core::ffi::CStr::from_ptr(p) })
}
