//! Writing to standard output: a closed pipe ends the program quietly.

use crate::Fatal;
use std::io::{self, Write};

/// Buffered standard output that turns a closed pipe into a quiet exit.
pub struct Out {
    w: io::BufWriter<io::Stdout>,
    /// Flush after every batch (live input).
    pub eager: bool,
}

impl Default for Out {
    fn default() -> Self {
        Self::new()
    }
}

impl Out {
    /// Standard output, buffered.
    pub fn new() -> Self {
        Out {
            w: io::BufWriter::with_capacity(256 * 1024, io::stdout()),
            eager: false,
        }
    }

    /// Writes bytes.
    ///
    /// # Errors
    /// A write error other than a closed pipe; a closed pipe exits with 0.
    pub fn write(&mut self, b: &[u8]) -> Result<(), Fatal> {
        self.w.write_all(b).map_err(closed_pipe_or)
    }

    /// Flushes when eager (after a batch of live events).
    ///
    /// # Errors
    /// As [`write`](Self::write).
    pub fn batch_done(&mut self) -> Result<(), Fatal> {
        if self.eager {
            self.flush()?;
        }
        Ok(())
    }

    /// Flushes.
    ///
    /// # Errors
    /// As [`write`](Self::write).
    pub fn flush(&mut self) -> Result<(), Fatal> {
        self.w.flush().map_err(closed_pipe_or)
    }
}

/// Exits quietly with 0 on a closed pipe (`auparse json | head`); otherwise
/// a one-line error.
pub fn closed_pipe_or(e: io::Error) -> Fatal {
    if e.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    Fatal(format!("write error: {e}"))
}
