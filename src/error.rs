//! The crate's error type and the decoders for libauparse's return conventions.

use std::io;

/// Errors from this crate.
///
/// ```
/// use auparse::{Error, Parser};
/// match Parser::from_file("/nonexistent/audit.log") {
///     Err(Error::Open { path, source, .. }) => {
///         assert_eq!(path, std::path::Path::new("/nonexistent/audit.log"));
///         assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
///     }
///     other => panic!("{:?}", other.err()),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A libauparse call failed; `errno` was captured right after it returned.
    #[error("{call} failed: {source}")]
    Call {
        /// The C function that failed.
        call: &'static str,
        /// The OS error libauparse left in `errno`.
        #[source]
        source: io::Error,
    },
    /// libauparse could not open a log file given to
    /// [`Parser::from_file`](crate::Parser::from_file) or
    /// [`Parser::from_files`](crate::Parser::from_files).
    #[error("cannot open {}: {source} ({call} failed)", path.display())]
    Open {
        /// The file (for several files: the first one that cannot be
        /// opened, or the first one when all can be).
        path: std::path::PathBuf,
        /// The C function that failed.
        call: &'static str,
        /// The OS error libauparse left in `errno`.
        #[source]
        source: io::Error,
    },
    /// A call into libauparse was made while this thread already held the
    /// process-wide libauparse lock (for example, from inside a feed callback
    /// or while an [`EventRef`](crate::EventRef) from a [`Parser`](crate::Parser)
    /// is alive). Waiting would deadlock, so the call is refused.
    #[error("nested libauparse call: this thread is already inside libauparse (callback or live event view)")]
    Nested,
    /// Reading input failed.
    #[error("read error: {0}")]
    Io(#[from] io::Error),
    /// A path or argument contained an interior NUL byte and cannot be passed to C.
    #[error("argument contains a NUL byte: {0:?}")]
    Nul(String),
    /// The normalizer could not make sense of the current event.
    #[error("auparse_normalize failed for this event")]
    Normalize,
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Decodes the `0 = ok, -1 = error (errno set)` convention.
pub(crate) fn check(call: &'static str, rc: i32) -> Result<()> {
    if rc < 0 {
        Err(last_os_error(call))
    } else {
        Ok(())
    }
}

/// Decodes the `1 = moved, 0 = no more, -1 = error` convention of the cursor calls.
pub(crate) fn step(call: &'static str, rc: i32) -> Result<bool> {
    match rc {
        0 => Ok(false),
        r if r > 0 => Ok(true),
        _ => Err(last_os_error(call)),
    }
}

/// The error for a failed call, with `errno` read immediately.
pub(crate) fn last_os_error(call: &'static str) -> Error {
    Error::Call {
        call,
        source: io::Error::last_os_error(),
    }
}
