//! The `auparse` command and the `auparse-fsaction` auditd plugin, as a
//! library so both binaries share one implementation. Not a stable API.

// Doc comments of the clap types are the --help text, where `[HH:MM:SS]`
// means "optional", not an intra-doc link.
#![allow(rustdoc::broken_intra_doc_links)]

pub mod cli;
pub mod filter;
pub mod fsaction;
pub mod input;
pub mod output;
pub mod rules;
pub mod sink;
pub mod syslog;
pub mod timespec;

/// One-line error messages for the command line.
#[derive(Debug)]
pub struct Fatal(pub String);

impl std::fmt::Display for Fatal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Fatal {}

/// Result of a command: `Err` is printed as `auparse: MESSAGE` with exit code 1.
pub type CmdResult = Result<(), Fatal>;
