//! Output formats for owned events.
//!
//! - [`text`] and [`csv`]: byte-identical to `ausearch --format text` / `--format csv`.
