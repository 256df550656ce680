//! Wires the stages for the command line: resolve flags into a config, scan, report, decide the exit status.

use std::{
    fs,
    io::{self, IsTerminal, Write},
    path::{Path, PathBuf},
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::cli::{Cli, ColorChoice, Command, RulesAction, RulesArgs, RulesFormat, ScanArgs};
use crate::engine::{check_examples, Engine, EngineError};
use crate::history::{self, HistoryConfig};
use crate::report::{self, Format, ReportInput, ReportOptions, ScanTimes};
use crate::rules::{
    self,
    config::{self, ConfigKind, UserConfig},
    LoadedRule,
};
use crate::scan::{self, ScanConfig, ScanOutcome};
use crate::source::fs::{PathPrune, WalkOptions};
use crate::source::git::{Repo, Selection};
use crate::triage::{self, baseline::Baseline, Policy};

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
        Command::Scan(args) => scan_command(*args),
        Command::Rules(args) => rules_command(args),
    }
}

/// The config for a scan: `--config FILE`, else `.pkhound.toml` in the one directory being scanned.
/// Returns it with the path (as the walker reports it) of the config file inside the scanned tree, if any.
fn find_config(args: &ScanArgs, roots: &[PathBuf]) -> Result<Option<(UserConfig, Option<String>)>> {
    let single_dir = match roots {
        [only] if only.is_dir() => Some(only.as_path()),
        _ => None,
    };
    if let Some(path) = &args.config {
        let cfg = config::load_file(path)?;
        let inside = single_dir.and_then(|root| relative_to(path, root));
        return Ok(Some((cfg, inside)));
    }
    if args.no_config {
        return Ok(None);
    }
    let Some(root) = single_dir else {
        return Ok(None);
    };
    let path = root.join(config::DEFAULT_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let cfg = config::load_file(&path)?;
    Ok(Some((cfg, Some(config::DEFAULT_FILE.to_string()))))
}

/// `path` relative to `root`, `/`-separated, when it lies inside it.
fn relative_to(path: &Path, root: &Path) -> Option<String> {
    let path = path.canonicalize().ok()?;
    let root = root.canonicalize().ok()?;
    let rel = path.strip_prefix(root).ok()?;
    Some(rel.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/"))
}

/// Keeps the rules `--only` names (if any) and drops those `--skip` names; an unknown id is an error.
fn select(rules: &mut Vec<LoadedRule>, only: &[String], skip: &[String]) -> Result<()> {
    for (flag, ids) in [("--only", only), ("--skip", skip)] {
        if let Some(bad) = ids.iter().find(|id| !rules.iter().any(|r| r.spec.id == **id)) {
            bail!("{flag}: unknown rule id `{bad}` (see `pkhound rules`)");
        }
    }
    if !only.is_empty() {
        rules.retain(|r| only.contains(&r.spec.id));
    }
    rules.retain(|r| !skip.contains(&r.spec.id));
    Ok(())
}

/// The rules a scan runs and their compiled engine: built-ins merged with the config, narrowed by
/// `--only`/`--skip`; the config's own rules' examples are checked through the real engine. Warnings (a
/// gitleaks feature pkhound does not support) are returned for the caller to print.
pub fn load_rules(cfg: Option<&UserConfig>, only: &[String], skip: &[String]) -> Result<(Engine, Vec<String>)> {
    load_rule_set(cfg, only, skip).map(|(_, engine, warnings)| (engine, warnings))
}

/// [`load_rules`], with the rules the engine was compiled from (same order, same indices).
fn load_rule_set(
    cfg: Option<&UserConfig>,
    only: &[String],
    skip: &[String],
) -> Result<(Vec<LoadedRule>, Engine, Vec<String>)> {
    let builtin = rules::builtin().context("loading built-in rules")?;
    let resolved = config::resolve(builtin, cfg)?;
    let mut rules = resolved.rules;
    select(&mut rules, only, skip)?;
    let engine = Engine::compile(&rules).map_err(engine_error)?;
    // Built-in regexes compile lazily (the example test vouches for them); a config's are compiled now, so
    // that a bad one is an error at load.
    if let Some(cfg) = cfg {
        engine.prepare(custom_indices(&rules, cfg)).map_err(engine_error)?;
    }
    if let Some(cfg) = cfg.filter(|c| c.kind == ConfigKind::Pkhound) {
        let custom = custom_indices(&rules, cfg);
        let problems = check_examples(&engine, &rules, &custom, false);
        if !problems.is_empty() {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            bail!("{}", lines.join("\n"));
        }
    }
    Ok((rules, engine, resolved.warnings))
}

fn custom_indices(rules: &[LoadedRule], cfg: &UserConfig) -> Vec<usize> {
    (0..rules.len())
        .filter(|&i| {
            cfg.rules
                .iter()
                .any(|r| r.spec.id == rules[i].spec.id && r.file == rules[i].file)
        })
        .collect()
}

/// Regex errors span lines; our errors are one line each.
fn engine_error(e: EngineError) -> anyhow::Error {
    match e {
        EngineError::Regex {
            file,
            rule,
            field,
            message,
        } => anyhow::anyhow!("{file}: rule `{rule}`: {field}: {}", config::one_line(&message)),
        other => other.into(),
    }
}

fn scan_command(args: ScanArgs) -> Result<ExitStatus> {
    if args.staged {
        if args.history_mode() {
            anyhow::bail!("--staged scans the index; it does not combine with --history/--branch/--range/--since");
        }
        if args.paths.len() > 1 {
            anyhow::bail!("--staged takes at most one PATH (any place inside the repository)");
        }
        if args.paths.iter().any(|p| p.as_os_str() == "-") {
            anyhow::bail!("--staged reads the git index, not standard input");
        }
    }
    let stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    let roots: Vec<PathBuf> = if args.staged {
        // The default `.` means the current directory, where a hook runs with git's environment
        // ($GIT_DIR, $GIT_INDEX_FILE) describing the repository.
        args.paths.iter().filter(|p| p.as_os_str() != ".").cloned().collect()
    } else {
        args.paths.iter().filter(|p| p.as_os_str() != "-").cloned().collect()
    };
    // A staged scan runs where the hook runs: its config is the one in the current directory.
    let config_roots = if args.staged && roots.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        roots.clone()
    };
    let found = find_config(&args, &config_roots)?;
    let (cfg, config_in_tree) = match found {
        Some((c, inside)) => (Some(c), inside),
        None => (None, None),
    };
    let (engine, warnings) = load_rules(cfg.as_ref(), &args.only, &args.skip)?;
    for w in &warnings {
        eprintln!("pkhound: warning: {w}");
    }
    let baseline = match &args.baseline {
        Some(path) => Some(Baseline::load(path)?),
        None => None,
    };

    let mut policy = Policy::default();
    if let Some(cfg) = cfg {
        policy.allowlists = cfg.allowlists;
        policy.rule_paths = cfg.rule_paths;
    }
    // The config's own example secrets would be reported by its own rules.
    policy.skip_files.extend(config_in_tree);
    let policy = Arc::new(policy);
    let prune = (!policy.skip_files.is_empty() || !policy.allowlists.is_empty()).then(|| {
        let p = policy.clone();
        PathPrune(Arc::new(move |path: &str| p.prunes(path)))
    });
    let progress = !args.staged
        && !args.no_progress
        && std::env::var_os("CI").is_none()
        && io::stderr().is_terminal()
        && !(stdin && roots.is_empty());
    let walk = WalkOptions {
        respect_ignore: !args.no_ignore,
        follow: args.follow,
        max_file_size: args.max_file_size,
        threads: args.threads,
        prune,
    };

    let started = unix_now();
    let mut outcome = if args.history_mode() {
        history_scan(&engine, &args, walk, &policy)?
    } else {
        let config = ScanConfig {
            roots,
            stdin,
            walk,
            progress,
            policy,
            staged: args.staged,
        };
        scan::run(&engine, &config)
    };
    let times = ScanTimes {
        started,
        finished: unix_now(),
    };
    if let Some(path) = &args.baseline_out {
        triage::baseline::write(&outcome.findings, path)?;
    }
    if let Some(b) = &baseline {
        let known = b.apply(&mut outcome.findings);
        if known > 0 {
            // Quiet, not secret: say how much the baseline hides, so an old leak is not forgotten.
            eprintln!("pkhound: {known} finding(s) already in the baseline not reported");
        }
    }
    let status = if triage::fails(&outcome.findings, args.fail_on) {
        ExitStatus::Findings
    } else if !outcome.errors.is_empty() {
        ExitStatus::Error
    } else {
        ExitStatus::Clean
    };
    finish(&args, &outcome, times, status)
}

/// `--history` (and `--worktree`): one repository's history, and its working tree when asked.
fn history_scan(engine: &Engine, args: &ScanArgs, walk: WalkOptions, policy: &Arc<Policy>) -> Result<ScanOutcome> {
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
    // Config allowlists by path, secret and stopword (history has no line at hand for line targets).
    outcome.findings.retain(|f| !policy.suppresses(f, None));
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
            walk,
            progress: false,
            policy: policy.clone(),
            staged: false,
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
fn finish(args: &ScanArgs, outcome: &ScanOutcome, times: ScanTimes, status: ExitStatus) -> Result<ExitStatus> {
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
        times,
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

/// Seconds since the Unix epoch; a clock before 1970 reads as the epoch.
fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
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
    category: Option<&'static str>,
    keywords: &'a [String],
    tags: &'a [String],
    references: &'a [String],
    remediation: &'a str,
}

/// `pkhound rules check FILE…`: one line per problem on stdout, exit 1 if any.
fn rules_check(files: &[PathBuf]) -> Result<ExitStatus> {
    let builtin = rules::builtin().context("loading built-in rules")?;
    let mut out = Vec::new();
    let mut failed = false;
    for path in files {
        let mut problems: Vec<String> = Vec::new();
        let cfg = match config::check_file(path) {
            Ok(c) => c,
            Err(e) => {
                writeln!(out, "{e}")?;
                failed = true;
                continue;
            }
        };
        for w in &cfg.warnings {
            eprintln!("pkhound: warning: {w}");
        }
        problems.extend(cfg.problems.iter().map(ToString::to_string));
        // The file's rules beside the built-ins they do not redefine, so examples meet the real rule set.
        let mut all: Vec<LoadedRule> = builtin
            .iter()
            .filter(|b| !cfg.rules.iter().any(|r| r.spec.id == b.spec.id))
            .cloned()
            .collect();
        for rule in &cfg.rules {
            match Engine::compile(std::slice::from_ref(rule)).and_then(|e| e.prepare([0])) {
                Ok(_) => all.push(rule.clone()),
                Err(e) => problems.push(engine_error(e).to_string()),
            }
        }
        if cfg.kind == ConfigKind::Pkhound {
            for r in cfg.rules.iter().filter(|r| r.spec.examples.positive.is_empty()) {
                problems.push(format!(
                    "{}: rule `{}`: needs at least one positive example",
                    cfg.file, r.spec.id
                ));
            }
        }
        match Engine::compile(&all) {
            Ok(engine) => {
                let custom = custom_indices(&all, &cfg);
                problems.extend(
                    check_examples(&engine, &all, &custom, false)
                        .iter()
                        .map(ToString::to_string),
                );
            }
            Err(e) => problems.push(engine_error(e).to_string()),
        }
        if problems.is_empty() {
            writeln!(out, "{}: ok ({} rules)", cfg.file, cfg.rules.len())?;
        } else {
            failed = true;
            for p in &problems {
                writeln!(out, "{p}")?;
            }
        }
    }
    emit(&out, None)?;
    Ok(if failed {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

fn rules_command(args: RulesArgs) -> Result<ExitStatus> {
    if let Some(RulesAction::Check { files }) = &args.action {
        return rules_check(files);
    }
    // With --config: the rules a scan with that config would run (built-ins merged with the config's).
    let cfg = match &args.config {
        Some(path) => Some(config::load_file(path)?),
        None => None,
    };
    let (rules, _, warnings) = load_rule_set(cfg.as_ref(), &[], &[])?;
    for w in &warnings {
        eprintln!("pkhound: warning: {w}");
    }
    fn row(r: &LoadedRule) -> RuleRow<'_> {
        RuleRow {
            id: &r.spec.id,
            name: &r.spec.name,
            severity: r.spec.severity.as_str(),
            category: r.spec.category.map(|c| c.as_str()),
            keywords: &r.spec.keywords,
            tags: &r.spec.tags,
            references: &r.spec.references,
            remediation: &r.spec.remediation,
        }
    }
    let mut out = Vec::new();
    match args.format {
        RulesFormat::Json => {
            let rows: Vec<RuleRow> = rules.iter().map(row).collect();
            serde_json::to_writer_pretty(&mut out, &rows).context("serializing rules")?;
            out.push(b'\n');
        }
        RulesFormat::Markdown => out.extend_from_slice(rules::doc::markdown(&rules).as_bytes()),
        RulesFormat::Text => {
            let w = rules.iter().map(|r| r.spec.id.len()).max().unwrap_or(0);
            for (category, group) in rules::doc::grouped(&rules) {
                writeln!(out, "{} ({})", rules::doc::title(category), group.len())?;
                for r in group {
                    writeln!(
                        out,
                        "  {:<w$}  {:<8}  {}  [{}]",
                        r.spec.id,
                        r.spec.severity.as_str(),
                        r.spec.name,
                        r.spec.keywords.join(", ")
                    )?;
                }
                writeln!(out)?;
            }
            writeln!(out, "{} rules", rules.len())?;
        }
    }
    emit(&out, None)?;
    Ok(ExitStatus::Clean)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn fixtures(kind: &str) -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config").join(kind);
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .expect("fixture dir")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        files
    }

    /// Loads a fixture the way a scan does (load, resolve, compile, check examples); `name` is the file name.
    fn load(path: &Path) -> Result<(Engine, Vec<String>)> {
        let name = path.file_name().and_then(|n| n.to_str()).expect("UTF-8 name");
        let text = fs::read_to_string(path).expect("fixture reads");
        let cfg = config::load_str(name, &text)?;
        load_rules(Some(&cfg), &[], &[])
    }

    #[test]
    fn valid_configs_load() {
        let files = fixtures("valid");
        assert!(files.len() >= 3);
        for f in files {
            if let Err(e) = load(&f) {
                panic!("{}: {e:#}", f.display());
            }
        }
    }

    /// Each invalid fixture opens with `# expect: MESSAGE` lines: the exact error it must produce, one line
    /// per problem.
    #[test]
    fn invalid_configs_fail_with_their_exact_message() {
        let files = fixtures("invalid");
        assert!(files.len() >= 10);
        let mut failures = Vec::new();
        for f in files {
            let text = fs::read_to_string(&f).expect("fixture reads");
            let expected: Vec<&str> = text.lines().map_while(|l| l.strip_prefix("# expect: ")).collect();
            assert!(
                !expected.is_empty(),
                "{}: first line must be `# expect: MESSAGE`",
                f.display()
            );
            let expected = expected.join("\n");
            match load(&f) {
                Ok(_) => failures.push(format!("{}: loaded, expected `{expected}`", f.display())),
                Err(e) if format!("{e:#}") != expected => {
                    failures.push(format!("{}:\n  expected: {expected}\n  got:      {e:#}", f.display()))
                }
                Err(_) => {}
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
