//! Wires the stages for the command line: resolve flags into a config, scan, report, decide the exit status.

use std::{
    fs,
    io::{self, IsTerminal, Write},
    path::PathBuf,
};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::cli::{Cli, ColorChoice, Command, RulesArgs, RulesFormat, ScanArgs};
use crate::engine::Engine;
use crate::report::{self, Format, ReportInput, ReportOptions};
use crate::rules;
use crate::scan::{self, ScanConfig};
use crate::source::fs::WalkOptions;
use crate::triage;

/// How a run ended; `main` maps it to 0, 1, 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything was scanned and nothing reached the failing severity.
    Clean,
    /// At least one finding at or above the failing severity.
    Findings,
    /// Something could not be scanned and nothing was found: a scan with holes must not pass.
    Error,
}

pub fn run(cli: Cli) -> Result<ExitStatus> {
    match cli.command {
        Command::Scan(args) => scan_command(args),
        Command::Rules(args) => rules_command(args),
    }
}

fn load_engine() -> Result<Engine> {
    let rules = rules::builtin().context("loading built-in rules")?;
    Engine::compile(&rules).context("compiling built-in rules")
}

fn scan_command(args: ScanArgs) -> Result<ExitStatus> {
    if args.staged {
        if args.paths.len() > 1 {
            anyhow::bail!("--staged takes at most one PATH (any place inside the repository)");
        }
        if args.paths.iter().any(|p| p.as_os_str() == "-") {
            anyhow::bail!("--staged reads the git index, not standard input");
        }
    }
    let engine = load_engine()?;
    let stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    let roots: Vec<PathBuf> = if args.staged {
        // The default `.` means the current directory, where a hook runs with git's environment
        // ($GIT_DIR, $GIT_INDEX_FILE) describing the repository.
        args.paths.iter().filter(|p| p.as_os_str() != ".").cloned().collect()
    } else {
        args.paths.iter().filter(|p| p.as_os_str() != "-").cloned().collect()
    };
    let progress = !args.staged
        && !args.no_progress
        && std::env::var_os("CI").is_none()
        && io::stderr().is_terminal()
        && !(stdin && roots.is_empty());
    let config = ScanConfig {
        roots,
        stdin,
        walk: WalkOptions {
            respect_ignore: !args.no_ignore,
            follow: args.follow,
            max_file_size: args.max_file_size,
            threads: args.threads,
        },
        progress,
        staged: args.staged,
    };

    let outcome = scan::run(&engine, &config);
    let status = if triage::fails(&outcome.findings, args.fail_on) {
        ExitStatus::Findings
    } else if !outcome.errors.is_empty() {
        ExitStatus::Error
    } else {
        ExitStatus::Clean
    };

    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && args.format == Format::Text && std::env::var_os("NO_COLOR").is_none(),
    };
    colored::control::set_override(color);
    let input = ReportInput {
        findings: &outcome.findings,
        errors: &outcome.errors,
        notices: &outcome.notices,
        stats: &outcome.stats,
    };
    let opts = ReportOptions {
        show_secrets: args.show_secrets,
        color,
    };
    // A hook's text output: the blocking findings, one line each, and nothing when the commit is clean.
    let hook = args.staged && args.format == Format::Text;
    let bytes = if hook {
        let blocking: Vec<_> = outcome
            .findings
            .iter()
            .filter(|f| f.severity >= args.fail_on)
            .cloned()
            .collect();
        report::hook::render(&blocking, &opts)
    } else {
        report::render(args.format, &input, &opts)
    };
    if !bytes.is_empty() || args.output.is_some() {
        emit(&bytes, args.output.as_ref())?;
    }

    // Machine formats go to stdout or a file; say on stderr that the scan had holes, for CI logs.
    if hook || args.format != Format::Text || args.output.is_some() {
        for e in &outcome.errors {
            eprintln!("pkhound: error: {}: {}", e.path, e.message);
        }
    }

    Ok(status)
}

/// Writes the report. A closed pipe (`pkhound … | head`) ends the run quietly.
fn emit(bytes: &[u8], output: Option<&PathBuf>) -> Result<()> {
    match output {
        Some(path) => fs::write(path, bytes).with_context(|| format!("writing {}", path.display())),
        None => {
            let mut out = io::stdout().lock();
            match out.write_all(bytes).and_then(|()| out.flush()) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("writing to standard output"),
            }
        }
    }
}

#[derive(Serialize)]
struct RuleRow<'a> {
    id: &'a str,
    name: &'a str,
    severity: &'static str,
    keywords: &'a [String],
    tags: &'a [String],
    references: &'a [String],
    remediation: &'a str,
}

fn rules_command(args: RulesArgs) -> Result<ExitStatus> {
    let engine = load_engine()?;
    let rows: Vec<RuleRow> = engine
        .rules()
        .iter()
        .map(|r| RuleRow {
            id: r.info.id.as_str(),
            name: &r.info.name,
            severity: r.info.severity.as_str(),
            keywords: &r.info.keywords,
            tags: &r.info.tags,
            references: &r.info.references,
            remediation: &r.info.remediation,
        })
        .collect();
    let mut out = Vec::new();
    match args.format {
        RulesFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &rows).context("serializing rules")?;
            out.push(b'\n');
        }
        RulesFormat::Text => {
            let w = rows.iter().map(|r| r.id.len()).max().unwrap_or(0);
            for r in &rows {
                writeln!(
                    out,
                    "{:<w$}  {:<8}  {}  [{}]",
                    r.id,
                    r.severity,
                    r.name,
                    r.keywords.join(", ")
                )?;
            }
            writeln!(out, "{} rules", rows.len())?;
        }
    }
    emit(&out, None)?;
    Ok(ExitStatus::Clean)
}
