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
//! The library version found at build time is [`LIBAUPARSE_VERSION`]; dependents
//! also get it in their build scripts as `DEP_AUPARSE_VERSION`.

#![allow(non_upper_case_globals, non_camel_case_types, non_snake_case)]
#![allow(missing_docs, clippy::all)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

/// Version of libauparse (from pkg-config) the bindings were generated from.
pub const LIBAUPARSE_VERSION: &str = env!("AUPARSE_SYS_LIBAUPARSE_VERSION");
