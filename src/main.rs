//! The binary: parse the command line, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use pkhound::app::{self, ExitStatus};
use pkhound::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match app::run(cli) {
        Ok(ExitStatus::Clean) => ExitCode::from(0),
        Ok(ExitStatus::Findings) => ExitCode::from(1),
        Ok(ExitStatus::Error) => ExitCode::from(2),
        Err(e) => {
            eprintln!("pkhound: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
