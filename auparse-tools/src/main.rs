//! `auparse`: Linux audit events as JSON lines, readable text,
//! ausearch-compatible text and CSV, and the fsaction plugin.

use clap::Parser as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = auparse_tools::cli::Cli::parse();
    match auparse_tools::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("auparse: {e}");
            ExitCode::FAILURE
        }
    }
}
