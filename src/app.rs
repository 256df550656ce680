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
use crate::history::{self, HistoryConfig};
use crate::report::{self, Format, ReportInput, ReportOptions};
use crate::rules;
use crate::scan::{self, ScanConfig, ScanOutcome};
use crate::source::fs::WalkOptions;
use crate::source::git::{Repo, Selection};
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
    let engine = load_engine()?;
    if args.history_mode() {
        let outcome = history_scan(&engine, &args)?;
        return finish(&args, &outcome);
    }
    let stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    let roots: Vec<PathBuf> = args.paths.iter().filter(|p| p.as_os_str() != "-").cloned().collect();
    let progress = !args.no_progress
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
    };

    let outcome = scan::run(&engine, &config);
    finish(&args, &outcome)
}

/// `--history` (and `--worktree`): one repository's history, and its working tree when asked.
fn history_scan(engine: &Engine, args: &ScanArgs) -> Result<ScanOutcome> {
    let root = match args.paths.as_slice() {
        [one] if one.as_os_str() != "-" => one.clone(),
        _ => anyhow::bail!("--history scans one repository: give one PATH (not `-`)"),
    };
    let repo = Repo::open(&root)?;
    let selection = match (&args.branch, &args.range) {
        (_, Some(range)) => Selection::Range(range.clone()),
        (Some(branch), None) => Selection::Branch(branch.clone()),
        (None, None) => Selection::All,
    };
    let cfg = HistoryConfig {
        selection,
        since: args.since,
        max_file_size: args.max_file_size,
        threads: args.threads,
        all_occurrences: args.all_occurrences,
    };
    let workdir = repo.workdir().map(PathBuf::from);
    let mut outcome = history::run(engine, repo, &cfg)?;
    if args.worktree {
        let Some(workdir) = workdir else {
            anyhow::bail!(
                "--worktree: {} is a bare repository, it has no working tree",
                root.display()
            );
        };
        let config = ScanConfig {
            roots: vec![workdir],
            stdin: false,
            walk: WalkOptions {
                respect_ignore: !args.no_ignore,
                follow: args.follow,
                max_file_size: args.max_file_size,
                threads: args.threads,
            },
            progress: false,
        };
        let elapsed = outcome.stats.elapsed_ms;
        let mut tree = scan::run(engine, &config);
        // One finding per secret: a key the history already reports (with its place in HEAD) is not
        // reported again from the working tree; uncommitted keys are.
        let known: std::collections::HashSet<_> = outcome
            .findings
            .iter()
            .map(|f| (f.rule.id.clone(), f.fingerprint.clone()))
            .collect();
        tree.findings
            .retain(|f| !known.contains(&(f.rule.id.clone(), f.fingerprint.clone())));
        let tree_ms = tree.stats.elapsed_ms;
        outcome.absorb(tree);
        outcome.stats.elapsed_ms = elapsed.saturating_add(tree_ms);
        triage::finish(&mut outcome.findings);
    }
    Ok(outcome)
}

/// Renders the report, writes it, and decides the exit status.
fn finish(args: &ScanArgs, outcome: &ScanOutcome) -> Result<ExitStatus> {
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
    let bytes = report::render(args.format, &input, &opts);
    emit(&bytes, args.output.as_ref())?;

    // Machine formats go to stdout or a file; say on stderr that the scan had holes, for CI logs.
    if args.format != Format::Text || args.output.is_some() {
        for e in &outcome.errors {
            eprintln!("pkhound: error: {}: {}", e.path, e.message);
        }
    }

    Ok(if triage::fails(&outcome.findings, args.fail_on) {
        ExitStatus::Findings
    } else if !outcome.errors.is_empty() {
        ExitStatus::Error
    } else {
        ExitStatus::Clean
    })
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
