//! `auparse-fsaction`: the fsaction auditd plugin as its own binary, for the
//! two words of `args` auditd allows: `LOGFILE [KEY]` or `--config FILE`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let result = auparse_tools::fsaction::args_from_plugin_argv(&argv)
        .and_then(auparse_tools::fsaction::run);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("auparse-fsaction: {e}");
            ExitCode::FAILURE
        }
    }
}
