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
            // Line by line: a message may span lines, but a control character from a path must not
            // reach the terminal raw.
            let message = format!("{e:#}");
            let lines: Vec<_> = message.lines().map(pkhound::report::visible).collect();
            eprintln!("pkhound: error: {}", lines.join("\n"));
            ExitCode::from(2)
        }
    }
}
