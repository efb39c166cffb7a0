//! The process-wide lock around libauparse, and its other process-global settings.
//!
//! libauparse 3.0.x keeps global state shared by every parser in the process: the
//! ENRICHED interpretation list, the uid/gid name caches, a static buffer used to
//! normalize paths, the end-of-event timeout and the normalizer's success flag.
//! Every call into C made by this crate happens while this thread holds [`lock`].
//!
//! The lock is not re-entrant. A thread that already holds it (inside a feed
//! callback, or while a pull-mode [`EventRef`](crate::EventRef) is alive) and asks
//! again gets [`Error::Nested`] instead of a deadlock.

use crate::error::{Error, Result};
use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::{Mutex, MutexGuard};

static LOCK: Mutex<()> = Mutex::new(());

thread_local! {
    static HELD: Cell<bool> = const { Cell::new(false) };
}

/// Proof that this thread holds the libauparse lock. Not `Send`: it must be
/// released by the thread that took it.
pub(crate) struct Guard {
    _guard: MutexGuard<'static, ()>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        HELD.with(|h| h.set(false));
    }
}

/// Takes the process-wide libauparse lock.
///
/// # Errors
/// [`Error::Nested`] if this thread already holds it.
pub(crate) fn lock() -> Result<Guard> {
    if HELD.with(|h| h.get()) {
        return Err(Error::Nested);
    }
    // A panic while holding the lock never leaves libauparse half-updated from
    // Rust's point of view (user closures run inside catch_unwind), so a
    // poisoned mutex is safe to take over.
    let guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    HELD.with(|h| h.set(true));
    Ok(Guard {
        _guard: guard,
        _not_send: PhantomData,
    })
}

/// The end-of-event timeout `auparse_init` applies: `end_of_event_timeout`
/// from `/etc/audit/auditd.conf`, or 2 when the file or setting is missing
/// (read once per process, as libauparse reads it).
pub fn configured_eoe_timeout() -> u32 {
    static VALUE: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *VALUE.get_or_init(|| {
        let text = std::fs::read_to_string("/etc/audit/auditd.conf").unwrap_or_default();
        text.lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim() == "end_of_event_timeout")
            .and_then(|(_, v)| v.trim().parse().ok())
            .filter(|&v| v > 0)
            .unwrap_or(2)
    })
}

/// Sets libauparse's global end-of-event timeout (seconds of log time), under the lock.
///
/// `auparse_init` resets this global from `/etc/audit/auditd.conf`, so a value set
/// here lasts only until the next parser is created, and another parser may
/// change it: each Feeder and Parser re-applies its own value before every call.
pub(crate) fn apply_eoe_timeout(_guard: &Guard, secs: u32) {
    // SAFETY: plain setter of a global integer; the caller holds the lock
    // (witnessed by `_guard`), so no other thread is inside libauparse.
    unsafe {
        auparse_sys::auparse_set_eoe_timeout(secs as libc::time_t);
    }
}
