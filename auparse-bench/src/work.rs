//! The contenders that run inside this binary: the C reference loop, the
//! Rust `Feeder` walk over borrowed views, and the owned-event conversion.
//!
//! Each reads the log in 64 KiB chunks and does the reference work of issue 5
//! on every event (walk every record and field, interpret every field with the
//! realpath first for file names, normalize and read every getter). Each
//! returns the number of events and a checksum of the lengths and numbers it
//! saw; the Feeder walk sums exactly what the C loop sums, so equal checksums
//! show that both did the same work on the same data.

use auparse::{EventRef, Feeder, Grouping, NormField, Normalized};
use std::ffi::{c_char, c_longlong, c_ulonglong, CString};
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

extern "C" {
    /// `c/ref_loop.c`: returns the event count (or -1) and stores a checksum.
    fn ref_loop(path: *const c_char, checksum: *mut c_ulonglong) -> c_longlong;
}

/// Events and checksum of one contender's pass over a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Events delivered.
    pub events: u64,
    /// Sum of lengths and numbers seen (see the module docs).
    pub checksum: u64,
}

const CHUNK: usize = 64 * 1024;

/// Runs the C reference loop.
pub fn c_loop(path: &Path) -> io::Result<Outcome> {
    let cpath = CString::new(path.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut checksum: c_ulonglong = 0;
    // SAFETY: `cpath` is a NUL-terminated string and `checksum` a valid
    // out-pointer, both live for the call; ref_loop keeps neither. This
    // process makes no other libauparse call while it runs (the child
    // process runs one contender only), so libauparse's globals are ours.
    let n = unsafe { ref_loop(cpath.as_ptr(), &mut checksum) };
    if n < 0 {
        return Err(io::Error::other(format!(
            "ref_loop failed on {}",
            path.display()
        )));
    }
    Ok(Outcome {
        events: n as u64,
        checksum,
    })
}

/// Feeds `path` to a Feeder in 64 KiB chunks and calls `on_event` for each event.
fn feed_file(
    path: &Path,
    grouping: Grouping,
    mut on_event: impl FnMut(&mut EventRef<'_>),
) -> io::Result<()> {
    let mut file = File::open(path)?;
    let mut feeder = Feeder::new().map_err(io::Error::other)?;
    feeder.set_grouping(grouping);
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        feeder
            .feed(&buf[..n], &mut on_event)
            .map_err(io::Error::other)?;
    }
    feeder.flush(&mut on_event).map_err(io::Error::other)
}

fn sum_norm_field(sum: &mut u64, f: &Option<NormField>) {
    if let Some(f) = f {
        *sum = sum
            .wrapping_add(f.field.len() as u64)
            .wrapping_add(f.raw.len() as u64)
            .wrapping_add(f.value.len() as u64)
            .wrapping_add(f.record as u64);
    }
}

fn sum_normalized(sum: &mut u64, n: &Normalized) {
    for meta in [&n.kind, &n.subject.kind, &n.action, &n.object.kind, &n.how]
        .into_iter()
        .flatten()
    {
        *sum = sum.wrapping_add(meta.len() as u64);
    }
    if let Some(sock) = &n.object.primary_sock {
        *sum = sum.wrapping_add(sock.len() as u64);
    }
    for f in [
        &n.session,
        &n.subject.primary,
        &n.subject.secondary,
        &n.object.primary,
        &n.object.secondary,
        &n.object.primary2,
        &n.results,
        &n.key,
    ] {
        sum_norm_field(sum, f);
    }
}

/// The reference work through borrowed views: every record and field (name,
/// raw, type, realpath or interpretation), then `normalize()`.
pub fn feeder_walk(path: &Path, grouping: Grouping) -> io::Result<Outcome> {
    let mut out = Outcome {
        events: 0,
        checksum: 0,
    };
    feed_file(path, grouping, |ev| {
        out.events += 1;
        let mut sum = out.checksum;
        let ts = ev.timestamp();
        sum = sum
            .wrapping_add(ev.serial())
            .wrapping_add(ts.sec as u64)
            .wrapping_add(u64::from(ts.milli));
        {
            let mut records = ev.records();
            while let Some(mut rec) = records.next() {
                sum = sum.wrapping_add(u64::from(rec.record_type().0));
                sum = sum.wrapping_add(rec.type_name().map_or(0, |n| n.len() as u64));
                let mut fields = rec.fields();
                while let Some(f) = fields.next() {
                    let value = match f.realpath() {
                        Some(p) => p,
                        None => f.interpreted(),
                    };
                    sum = sum
                        .wrapping_add(f.name().len() as u64)
                        .wrapping_add(f.raw().len() as u64)
                        .wrapping_add(value.len() as u64);
                }
            }
        }
        if let Ok(n) = ev.normalize() {
            sum_normalized(&mut sum, &n);
        }
        out.checksum = sum;
    })?;
    Ok(out)
}

/// The reference work through owned events: `EventRef::to_event()` for every
/// event (which walks, interprets, normalizes and copies everything), then a
/// checksum over the copy. Type names of unnamed record types differ from the
/// C loop's (`UNKNOWN[n]` instead of nothing), so the checksum can too.
pub fn owned_events(path: &Path) -> io::Result<Outcome> {
    let mut out = Outcome {
        events: 0,
        checksum: 0,
    };
    feed_file(path, Grouping::Libauparse, |ev| {
        let event = ev.to_event();
        out.events += 1;
        let mut sum = out.checksum;
        sum = sum
            .wrapping_add(event.serial)
            .wrapping_add(event.timestamp.sec as u64)
            .wrapping_add(u64::from(event.timestamp.milli));
        for r in &event.records {
            sum = sum
                .wrapping_add(u64::from(r.record_type.0))
                .wrapping_add(r.type_name.len() as u64);
            for f in &r.fields {
                sum = sum
                    .wrapping_add(f.name.len() as u64)
                    .wrapping_add(f.raw.len() as u64)
                    .wrapping_add(f.realpath_or_interpreted().len() as u64);
            }
        }
        if let Some(n) = &event.normalized {
            sum_normalized(&mut sum, n);
        }
        out.checksum = sum;
    })?;
    Ok(out)
}
