//! Pull mode: a parser over files, a buffer or a descriptor, read event by event.

use crate::cursor::EventRef;
use crate::error::{step, Error, Result};
use crate::event::Event;
use crate::global;
use crate::types::EscapeMode;
use auparse_sys as ffi;
use std::ffi::{c_char, CString};
use std::os::fd::{IntoRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::NonNull;

/// A pull-mode parser: libauparse reads the source itself, and
/// [`next_event`](Self::next_event) hands out one event at a time.
///
/// `next_event` lends an [`EventRef`] that borrows the parser, so it is not an
/// [`Iterator`]: libauparse frees the previous event when it moves to the next.
/// Use [`next_owned`](Self::next_owned) for owned events.
///
/// The event view holds the process-wide libauparse lock while it lives: drop
/// it before calling into another parser on the same thread.
pub struct Parser {
    au: NonNull<ffi::auparse_state_t>,
    /// End-of-event timeout re-applied before each call (libauparse keeps it
    /// in a global that other parsers change).
    eoe_timeout: u32,
    /// The escape mode.
    escape: EscapeMode,
    /// Keeps the NUL-terminated buffer of a buffer source alive (libauparse
    /// reads it in place).
    _buffer: Option<Vec<u8>>,
}

// SAFETY: the parser state has no thread affinity and every access happens
// under the process-wide lock; not Sync.
unsafe impl Send for Parser {}

fn cpath(p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| Error::Nul(p.display().to_string()))
}

impl Parser {
    fn init(
        source: ffi::ausource_t,
        arg: *const std::ffi::c_void,
        call: &'static str,
    ) -> Result<Self> {
        let _guard = global::lock()?;
        // SAFETY: lock held; `arg` is valid for the source kind (checked by
        // each constructor) for the duration of the call.
        let au = unsafe { ffi::auparse_init(source, arg) };
        let au = NonNull::new(au).ok_or_else(|| crate::error::last_os_error(call))?;
        // SAFETY: live parser, lock held; see Feeder::new for why Raw.
        unsafe { ffi::auparse_set_escape_mode(au.as_ptr(), EscapeMode::Raw.to_raw()) };
        Ok(Parser {
            au,
            eoe_timeout: global::configured_eoe_timeout(),
            escape: EscapeMode::Raw,
            _buffer: None,
        })
    }

    /// Reads one log file (`AUSOURCE_FILE`).
    ///
    /// # Errors
    /// [`Error::Call`] if the file cannot be opened; [`Error::Nul`] for a path with a NUL byte.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let c = cpath(path.as_ref())?;
        Self::init(
            ffi::AUSOURCE_FILE,
            c.as_ptr().cast(),
            "auparse_init(AUSOURCE_FILE)",
        )
    }

    /// Reads several log files in order, as one stream (`AUSOURCE_FILE_ARRAY`).
    ///
    /// # Errors
    /// As [`from_file`](Self::from_file).
    pub fn from_files<P: AsRef<Path>>(paths: &[P]) -> Result<Self> {
        let owned: Vec<CString> = paths
            .iter()
            .map(|p| cpath(p.as_ref()))
            .collect::<Result<_>>()?;
        let mut ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        Self::init(
            ffi::AUSOURCE_FILE_ARRAY,
            ptrs.as_ptr().cast(),
            "auparse_init(AUSOURCE_FILE_ARRAY)",
        )
    }

    /// Parses a byte buffer (`AUSOURCE_BUFFER`). libauparse reads text up to
    /// the first NUL byte, so the buffer is cut there; a final newline is
    /// added when missing.
    ///
    /// # Errors
    /// [`Error::Call`] if libauparse cannot allocate.
    pub fn from_bytes(data: &[u8]) -> Result<Self> {
        let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
        let mut buf = Vec::with_capacity(end + 2);
        buf.extend_from_slice(&data[..end]);
        if buf.last().is_some_and(|&b| b != b'\n') {
            buf.push(b'\n');
        }
        buf.push(0);
        let mut p = Self::init(
            ffi::AUSOURCE_BUFFER,
            buf.as_ptr().cast(),
            "auparse_init(AUSOURCE_BUFFER)",
        )?;
        p._buffer = Some(buf);
        Ok(p)
    }

    /// Reads from a descriptor (`AUSOURCE_DESCRIPTOR`). libauparse closes it
    /// when the parser is dropped, so it takes ownership.
    ///
    /// # Errors
    /// [`Error::Call`] if libauparse cannot allocate (the descriptor is closed).
    pub fn from_fd(fd: OwnedFd) -> Result<Self> {
        let raw = fd.into_raw_fd();
        match Self::init(
            ffi::AUSOURCE_DESCRIPTOR,
            raw as isize as *const std::ffi::c_void,
            "auparse_init(AUSOURCE_DESCRIPTOR)",
        ) {
            Ok(p) => Ok(p),
            Err(e) => {
                // SAFETY: libauparse did not take the descriptor; we still own it.
                unsafe { libc::close(raw) };
                Err(e)
            }
        }
    }

    /// Sets the escape mode of interpretations (`auparse_set_escape_mode`);
    /// a new Parser uses [`EscapeMode::Raw`].
    ///
    /// # Errors
    /// [`Error::Nested`] inside another libauparse call.
    pub fn set_escape_mode(&mut self, mode: EscapeMode) -> Result<()> {
        let _guard = global::lock()?;
        // SAFETY: live parser, lock held.
        unsafe { ffi::auparse_set_escape_mode(self.au.as_ptr(), mode.to_raw()) };
        self.escape = mode;
        Ok(())
    }

    /// Sets the end-of-event timeout (seconds of log time); the default is
    /// `auparse_init`'s (`/etc/audit/auditd.conf`, or 2). See
    /// [`Feeder::set_eoe_timeout`](crate::Feeder::set_eoe_timeout).
    pub fn set_eoe_timeout(&mut self, secs: u32) {
        self.eoe_timeout = secs;
    }

    /// Moves to the next event (`auparse_next_event`) and lends a view of it.
    /// `Ok(None)` at the end of the input.
    ///
    /// # Errors
    /// [`Error::Nested`] while another libauparse view is alive on this thread;
    /// [`Error::Call`] if libauparse fails to read.
    pub fn next_event(&mut self) -> Result<Option<EventRef<'_>>> {
        let guard = global::lock()?;
        global::apply_eoe_timeout(&guard, self.eoe_timeout);
        // SAFETY: live parser, lock held.
        let more = step("auparse_next_event", unsafe {
            ffi::auparse_next_event(self.au.as_ptr())
        })?;
        if !more {
            return Ok(None);
        }
        // SAFETY: the parser is on a current event that stays valid until the
        // next auparse_next_event, which needs &mut self; the view owns the
        // lock guard for its whole life.
        Ok(Some(unsafe {
            EventRef::new(self.au, Some(guard), self.escape)
        }))
    }

    /// The next event, owned ([`EventRef::to_event`]).
    ///
    /// # Errors
    /// As [`next_event`](Self::next_event).
    pub fn next_owned(&mut self) -> Result<Option<Event>> {
        Ok(self.next_event()?.map(|mut ev| ev.to_event()))
    }
}

impl Drop for Parser {
    fn drop(&mut self) {
        let guard = global::lock();
        // SAFETY: live parser owned by us, never used again. Either we hold
        // the lock or this thread already holds it (dropped inside a callback).
        unsafe { ffi::auparse_destroy(self.au.as_ptr()) };
        drop(guard);
    }
}
