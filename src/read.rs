//! One-call convenience: read any `impl Read` and iterate owned events.

use crate::error::Result;
use crate::event::Event;
use crate::feeder::Feeder;
use crate::types::EscapeMode;
use std::collections::VecDeque;
use std::io::{ErrorKind, Read};

/// Iterator over the owned events of a reader, made by [`read_events`].
pub struct ReadEvents<R> {
    reader: R,
    feeder: Feeder,
    ready: VecDeque<Event>,
    buf: Box<[u8]>,
    done: bool,
    error: Option<crate::Error>,
}

/// Reads `reader` to its end through a [`Feeder`] and yields owned events,
/// flushing at the end of input so the last event is never lost.
///
/// ```
/// let log: &[u8] = b"type=DAEMON_START msg=audit(1653911717.020:42): op=start ver=3.0.9 res=success";
/// let events: Vec<auparse::Event> = auparse::read_events(log)?.collect::<Result<_, _>>()?;
/// assert_eq!(events[0].serial, 42);
/// # Ok::<(), auparse::Error>(())
/// ```
///
/// # Errors
/// [`Error::Nested`](crate::Error::Nested) if called inside a libauparse
/// callback; read errors are yielded by the iterator (once; it then ends).
pub fn read_events<R: Read>(reader: R) -> Result<ReadEvents<R>> {
    read_events_escaped(reader, EscapeMode::Raw)
}

/// Like [`read_events`], with interpretations escaped by `mode`
/// ([`EscapeMode::Tty`] gives what `ausearch` prints).
///
/// # Errors
/// As [`read_events`].
pub fn read_events_escaped<R: Read>(reader: R, mode: EscapeMode) -> Result<ReadEvents<R>> {
    let mut feeder = Feeder::new()?;
    feeder.set_escape_mode(mode)?;
    Ok(ReadEvents {
        reader,
        feeder,
        ready: VecDeque::new(),
        buf: vec![0; 64 * 1024].into_boxed_slice(),
        done: false,
        error: None,
    })
}

impl<R: Read> Iterator for ReadEvents<R> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(ev) = self.ready.pop_front() {
                return Some(Ok(ev));
            }
            if self.done {
                return self.error.take().map(Err);
            }
            let ready = &mut self.ready;
            let step = match self.reader.read(&mut self.buf) {
                Ok(0) => {
                    self.done = true;
                    self.feeder.flush(|ev| ready.push_back(ev.to_event()))
                }
                Ok(n) => self
                    .feeder
                    .feed(&self.buf[..n], |ev| ready.push_back(ev.to_event())),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Deliver what was read before the error, then the error.
                    self.done = true;
                    let _ = self.feeder.flush(|ev| ready.push_back(ev.to_event()));
                    self.error = Some(e.into());
                    continue;
                }
            };
            if let Err(e) = step {
                self.done = true;
                return Some(Err(e));
            }
        }
    }
}
