//! Pull mode: a parser over files, a buffer or a descriptor, read event by event.

use crate::caches::{CacheSizes, Caches};
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
/// [`events`](Self::events) is an iterator of owned events.
///
/// ```
/// use auparse::Parser;
/// let log = b"type=SYSCALL msg=audit(1.000:7): arch=c000003e syscall=2 success=no exit=-13 items=0 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"cat\" exe=\"/usr/bin/cat\" key=(null)
/// type=PROCTITLE msg=audit(1.000:7): proctitle=636174
/// type=DAEMON_START msg=audit(2.000:8): op=start ver=3.0.9 res=success
/// ";
/// let mut parser = Parser::from_bytes(log)?; // or Parser::from_file("/var/log/audit/audit.log")
/// let (mut events, mut failed) = (0, 0);
/// // Pull mode, no copies: each view lives until the next call.
/// while let Some(mut ev) = parser.next_event()? {
///     events += 1;
///     if let Some(mut rec) = ev.record(0) {
///         if rec.field("success").is_some_and(|f| f.raw() == b"no") {
///             failed += 1;
///         }
///     }
/// }
/// assert_eq!((events, failed), (2, 1));
/// # Ok::<(), auparse::Error>(())
/// ```
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
    /// The caches of the event views.
    caches: Caches,
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

/// [`Error::Call`] as [`Error::Open`] of `path`.
fn with_path(e: Error, path: &Path) -> Error {
    match e {
        Error::Call { call, source } => Error::Open {
            path: path.to_path_buf(),
            call,
            source,
        },
        e => e,
    }
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
            caches: Caches::default(),
            _buffer: None,
        })
    }

    /// Reads one log file (`AUSOURCE_FILE`).
    ///
    /// ```
    /// let err = auparse::Parser::from_file("/nonexistent/audit.log").err().unwrap();
    /// assert!(err.to_string().starts_with("cannot open /nonexistent/audit.log: "), "{err}");
    /// ```
    ///
    /// # Errors
    /// [`Error::Open`] (naming the file) if it cannot be opened;
    /// [`Error::Nul`] for a path with a NUL byte.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let c = cpath(path)?;
        Self::init(
            ffi::AUSOURCE_FILE,
            c.as_ptr().cast(),
            "auparse_init(AUSOURCE_FILE)",
        )
        .map_err(|e| with_path(e, path))
    }

    /// Reads several log files in order, as one stream (`AUSOURCE_FILE_ARRAY`).
    ///
    /// # Errors
    /// As [`from_file`](Self::from_file); [`Error::Open`] names the first
    /// file that cannot be opened.
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
        .map_err(|e| {
            // libauparse does not say which one: the first that cannot be
            // opened here.
            let bad = paths
                .iter()
                .map(AsRef::as_ref)
                .find(|p| std::fs::File::open(p).is_err())
                .or_else(|| paths.first().map(AsRef::as_ref));
            match bad {
                Some(p) => with_path(e, p),
                None => e,
            }
        })
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

    /// Sets the sizes of the caches the views of this Parser's events use
    /// (see [`CacheSizes`]; a new Parser has [`CacheSizes::default`]).
    /// Empties them.
    pub fn set_cache_sizes(&mut self, sizes: CacheSizes) {
        self.caches = Caches::new(sizes);
    }

    /// The sizes of this Parser's caches.
    pub fn cache_sizes(&self) -> CacheSizes {
        self.caches.sizes()
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
            EventRef::new(self.au, Some(guard), self.escape, &self.caches)
        }))
    }

    /// The next event, owned ([`EventRef::to_event`]).
    ///
    /// # Errors
    /// As [`next_event`](Self::next_event).
    pub fn next_owned(&mut self) -> Result<Option<Event>> {
        Ok(self.next_event()?.map(|mut ev| ev.to_event()))
    }

    /// The remaining events, owned, as an [`Iterator`] ([`next_owned`](Self::next_owned)
    /// until the end of the input). After an error the iterator ends.
    ///
    /// ```
    /// let log = b"type=DAEMON_START msg=audit(1653911717.020:42): op=start ver=3.0.9 res=success
    /// type=DAEMON_END msg=audit(1653911718.000:43): op=terminate auid=0 pid=1 res=success
    /// ";
    /// let mut parser = auparse::Parser::from_bytes(log)?;
    /// let serials: Vec<u64> = parser.events().map(|ev| ev.map(|ev| ev.serial)).collect::<Result<_, _>>()?;
    /// assert_eq!(serials, [42, 43]);
    /// # Ok::<(), auparse::Error>(())
    /// ```
    pub fn events(&mut self) -> Events<'_> {
        Events {
            parser: self,
            done: false,
        }
    }

    /// Calls `f` with the raw libauparse handle, under the process-wide
    /// lock, for a libauparse function this crate does not wrap. See
    /// [`EventRef::with_raw`] for what `f` may do with it (and must not):
    /// the same rules, and no event view of this parser is alive meanwhile.
    ///
    /// ```
    /// let mut parser = auparse::Parser::from_bytes(b"type=DAEMON_START msg=audit(1.000:1): op=start\n")?;
    /// // SAFETY: auparse_feed_has_data only reads the parser's state.
    /// let has = parser.with_raw(|au| unsafe { auparse::ffi::auparse_feed_has_data(au) })?;
    /// assert_eq!(has, 0);
    /// # Ok::<(), auparse::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Nested`] inside another libauparse call on this thread.
    pub fn with_raw<R>(&mut self, f: impl FnOnce(*mut ffi::auparse_state_t) -> R) -> Result<R> {
        let _guard = global::lock()?;
        Ok(f(self.au.as_ptr()))
    }
}

/// Iterator over a [`Parser`]'s owned events, made by [`Parser::events`].
///
/// ```
/// # let log = b"type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=5581f7c1e4c0 a2=0 a3=100 items=2 ppid=2000 pid=2002 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm=\"rm\" exe=\"/usr/bin/rm\" key=\"fsaction\"
/// # type=CWD msg=audit(1653911717.020:1001): cwd=\"/tmp\"
/// # type=PATH msg=audit(1653911717.020:1001): item=0 name=\"/tmp\" inode=1 dev=fd:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PATH msg=audit(1653911717.020:1001): item=1 name=\"bar\" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
/// # type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=726D00626172
/// # ";
/// let mut parser = auparse::Parser::from_bytes(log)?;
/// for ev in parser.events() {
///     let ev = ev?;
///     assert_eq!(ev.action().unwrap(), "deleted");
/// }
/// # Ok::<(), auparse::Error>(())
/// ```
pub struct Events<'p> {
    parser: &'p mut Parser,
    done: bool,
}

impl Iterator for Events<'_> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Result<Event>> {
        if self.done {
            return None;
        }
        match self.parser.next_owned() {
            Ok(Some(ev)) => Some(Ok(ev)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl std::iter::FusedIterator for Events<'_> {}

impl Drop for Parser {
    fn drop(&mut self) {
        let guard = global::lock();
        // SAFETY: live parser owned by us, never used again. Either we hold
        // the lock or this thread already holds it (dropped inside a callback).
        unsafe { ffi::auparse_destroy(self.au.as_ptr()) };
        drop(guard);
    }
}
