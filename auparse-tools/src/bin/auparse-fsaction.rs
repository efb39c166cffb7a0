//! `auparse-fsaction`: the fsaction auditd plugin as its own binary, for the
//! two words of `args` auditd allows: `LOGFILE [KEY]` or `--config FILE`.
//!
//! auditd starts it with standard error on /dev/null: its reports also go
//! to the system log (see `auparse_tools::syslog`).

use std::process::ExitCode;

fn main() -> ExitCode {
    auparse_tools::syslog::always();
    let argv: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let result = auparse_tools::fsaction::args_from_plugin_argv(&argv).inspect_err(|e| {
        auparse_tools::syslog::send(auparse_tools::syslog::Severity::Err, &e.0);
    });
    let result = result.and_then(auparse_tools::fsaction::run);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("auparse-fsaction: {e}");
            ExitCode::FAILURE
        }
    }
}
