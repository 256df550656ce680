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

use crate::audit;
use crate::cli::{AuditArgs, Cli, ColorChoice, Command, MergeArgs, RulesAction, RulesArgs, RulesFormat, ScanArgs};
use crate::engine::{check_examples, Engine, EngineError};
use crate::finding::{ErrorKind, FingerprintKey, RuleId, ScanError};
use crate::fingerprint_key::{self, KeySource};
use crate::report::{
    self, visible, AppliedConfig, Format, Outcome, ReportInput, ReportOptions, RunInfo, ScanTimes, ShardOf, ShardUnit,
    SourceRoot,
};
use crate::rules::{
    self,
    config::{self, ConfigKind, UserConfig},
    LoadedRule, Text,
};
use crate::scan::history::{self, HistoryConfig, StateInput};
use crate::scan::state::State;
use crate::scan::{self, ScanConfig, ScanOutcome, Scanner};
use crate::source::archive;
use crate::source::fs::{PathPrune, WalkOptions};
use crate::source::git::{Repo, Selection};
use crate::source::staged;
use crate::triage::{self, baseline::Baseline, Policy};
use crate::verify::{self, Verifiers};

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
        Command::Audit(args) => audit_command(*args),
        Command::Merge(args) => merge_command(*args),
        Command::Rules(args) => rules_command(args),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cli_command(), "pkhound", &mut out);
            emit(&out, None)?;
            Ok(ExitStatus::Clean)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cli_command())
                .render(&mut out)
                .context("rendering the manual page")?;
            emit(&out, None)?;
            Ok(ExitStatus::Clean)
        }
    }
}

fn cli_command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command()
}

/// A config the scan applies, with where it came from.
struct FoundConfig {
    cfg: UserConfig,
    /// Why it applies, as reports say it: `--config`, `scan root`, `base of --range`, `--config-ref`.
    source: &'static str,
    /// The path (as the walker reports it) of the config file inside the scanned tree, if it is there.
    in_tree: Option<String>,
}

/// The config for a scan: `--config FILE`; else `.pkhound.toml` as of a trusted commit (`--config-ref
/// REF`, or the base of `--range A..B`: the change under review must not weaken its own scan); else
/// `.pkhound.toml` in the one directory being scanned.
fn find_config(args: &ScanArgs, roots: &[PathBuf]) -> Result<Option<FoundConfig>> {
    let single_dir = match roots {
        [only] if only.is_dir() => Some(only.as_path()),
        _ => None,
    };
    if let Some(path) = &args.config {
        let cfg = config::load_file(path)?;
        let in_tree = single_dir.and_then(|root| relative_to(path, root));
        return Ok(Some(FoundConfig {
            cfg,
            source: "--config",
            in_tree,
        }));
    }
    if args.no_config {
        return Ok(None);
    }
    let trusted = match (&args.config_ref, &args.range) {
        (Some(r), _) => Some((r.clone(), "--config-ref")),
        (None, Some(range)) => Some((range_base(range), "base of --range")),
        _ => None,
    };
    let root = single_dir.unwrap_or(Path::new("."));
    if let Some((rev, source)) = trusted {
        let found = config_at_ref(root, &rev)
            .with_context(|| format!("{source}: reading {} at `{rev}`", config::DEFAULT_FILE))?;
        if found.is_none() && root.join(config::DEFAULT_FILE).is_file() {
            eprintln!(
                "pkhound: note: {} of the working tree not applied: the config comes from `{rev}` ({source}), which has none",
                config::DEFAULT_FILE
            );
        }
        return Ok(found.map(|cfg| FoundConfig {
            cfg,
            source,
            in_tree: None,
        }));
    }
    let Some(root) = single_dir else {
        return Ok(None);
    };
    let path = root.join(config::DEFAULT_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let cfg = config::load_file(&path)?;
    Ok(Some(FoundConfig {
        cfg,
        source: "scan root",
        in_tree: Some(config::DEFAULT_FILE.to_string()),
    }))
}

/// `A` of `A..B` or `A...B` (`HEAD` when empty).
fn range_base(range: &str) -> String {
    let base = range.split_once("..").map_or(range, |(a, _)| a);
    if base.is_empty() {
        "HEAD".to_string()
    } else {
        base.to_string()
    }
}

/// `.pkhound.toml` of the directory `dir` (inside a git work tree, or a bare repository) as committed at
/// `rev`; `None` when that commit has no such file.
fn config_at_ref(dir: &Path, rev: &str) -> Result<Option<UserConfig>> {
    let repo = git2::Repository::discover(dir).context("not inside a git repository")?;
    let commit = repo
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| anyhow::anyhow!("`{rev}` is not a commit: {}", e.message()))?;
    // The scanned directory's place in the work tree: its config sits there in the commit too.
    let within = repo
        .workdir()
        .and_then(|w| relative_to(dir, w))
        .filter(|r| !r.is_empty());
    let in_repo = match &within {
        Some(w) => format!("{w}/{}", config::DEFAULT_FILE),
        None => config::DEFAULT_FILE.to_string(),
    };
    let tree = commit.tree().map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    let Ok(entry) = tree.get_path(Path::new(&in_repo)) else {
        return Ok(None);
    };
    let blob = entry
        .to_object(&repo)
        .and_then(|o| o.peel_to_blob())
        .map_err(|e| anyhow::anyhow!("{in_repo} at `{rev}` is not a file: {}", e.message()))?;
    let text = std::str::from_utf8(blob.content()).map_err(|_| anyhow::anyhow!("{in_repo} at `{rev}`: not UTF-8"))?;
    Ok(Some(config::load_str(&format!("{rev}:{in_repo}"), text)?))
}

/// `path` relative to `root`, `/`-separated, when it lies inside it.
fn relative_to(path: &Path, root: &Path) -> Option<String> {
    let path = path.canonicalize().ok()?;
    let root = root.canonicalize().ok()?;
    let rel = path.strip_prefix(root).ok()?;
    Some(rel.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/"))
}

/// Checks that every id `--only` and `--skip` name is a rule; an unknown id is an error.
fn check_selection(rules: &[LoadedRule], only: &[String], skip: &[String]) -> Result<()> {
    for (flag, ids) in [("--only", only), ("--skip", skip)] {
        if let Some(bad) = ids.iter().find(|id| !rules.iter().any(|r| r.spec.id == **id)) {
            match did_you_mean(bad, rules.iter().map(|r| r.spec.id.as_str())) {
                Some(near) => bail!("{flag}: unknown rule id `{bad}`; did you mean `{near}`? (see `pkhound rules`)"),
                None => bail!("{flag}: unknown rule id `{bad}` (see `pkhound rules`)"),
            }
        }
    }
    Ok(())
}

/// The known id closest to `wrong`, when it is close enough to be a typo (or `wrong` is part of it).
fn did_you_mean<'a>(wrong: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    known
        .map(|k| (strsim::jaro_winkler(wrong, k), k))
        .filter(|(score, k)| *score > 0.85 || (wrong.len() >= 4 && k.contains(wrong)))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
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
    let rules = resolved.rules;
    check_selection(&rules, only, skip)?;
    let mut engine = scan::compile(&rules).map_err(engine_error)?;
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
    // Rules `--only`/`--skip` leave out stay in the engine, inactive: they report nothing, but a snippet
    // still masks what they would match.
    engine.retain_active(|id| (only.is_empty() || only.iter().any(|o| o == id)) && !skip.iter().any(|s| s == id));
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
    let mut roots: Vec<PathBuf> = if args.staged {
        // The default `.` means the current directory, where a hook runs with git's environment
        // ($GIT_DIR, $GIT_INDEX_FILE) describing the repository.
        args.paths.iter().filter(|p| p.as_os_str() != ".").cloned().collect()
    } else {
        args.paths.iter().filter(|p| p.as_os_str() != "-").cloned().collect()
    };
    // A path that does not exist is said on stderr as the shell would say it. When nothing is left to
    // scan that is the whole answer (exit 2, no report: a "no secrets found" would mislead); otherwise
    // the scan goes on and the report is incomplete.
    let missing = take_missing(&mut roots);
    if !missing.is_empty() && roots.is_empty() && !stdin {
        for e in &missing {
            eprintln!("pkhound: {}: {}", visible(&e.path), e.message);
        }
        return Ok(ExitStatus::Error);
    }
    // A pre-commit hook's time is mostly start-up: git lists the staged change on a thread of its own
    // while the rules load on this one (listing needs no rules).
    let prefetch = args.staged.then(|| {
        staged::Prefetch::start(
            roots.first().cloned(),
            staged::StagedOptions {
                respect_ignore: !args.no_ignore,
                archives: !args.no_archives,
            },
        )
    });
    // A staged scan runs where the hook runs: its config is the one in the current directory.
    let config_roots = if args.staged && roots.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        roots.clone()
    };
    let key = install_fingerprint_key(&args)?;
    let threads = bound_threads(args.threads);
    let found = find_config(&args, &config_roots)?;
    let (rules, engine, warnings) =
        load_rule_set(found.as_ref().map(|f| &f.cfg), &args.rule_set.only, &args.rule_set.skip)?;
    // Only the JSON report names the rule set; its digest formats every rule, so other formats (a
    // pre-commit hook's text) skip it.
    let rule_set =
        (args.out.format == Format::Json).then(|| rule_set(&rules, &args.rule_set.only, &args.rule_set.skip));
    for w in &warnings {
        eprintln!("pkhound: warning: {}", visible(w));
    }
    let applied = found.as_ref().map(applied_config).transpose()?;
    if let Some(a) = &applied {
        if !(args.out.quiet && a.weakens.is_empty()) {
            announce_config(a);
        }
    }
    let verifiers = verifiers(&args, found.as_ref())?;
    let baseline = args
        .triage
        .baseline
        .as_deref()
        .map(|p| load_baseline(p, key.id()))
        .transpose()?;

    let mut policy = Policy::default();
    // The config file itself is scanned (a key pasted into it is a leak); only its own rules' example
    // strings are not reported.
    let mut own_examples: Vec<String> = Vec::new();
    let config_in_tree = found.as_ref().and_then(|f| f.in_tree.clone());
    if let Some(found) = found {
        own_examples = example_strings(&found.cfg);
        policy.allowlists = found.cfg.allowlists;
        policy.rule_paths = found.cfg.rule_paths;
    }
    let policy = Arc::new(policy);
    let prune = (!policy.allowlists.is_empty()).then(|| {
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
        threads,
        prune,
        archives: (!args.no_archives).then(|| archive::Limits {
            depth: args.max_archive_depth,
            window: usize::try_from(args.max_file_size).unwrap_or(usize::MAX).max(1 << 20),
            ..archive::Limits::default()
        }),
    };

    let root = source_root(&args, &roots);
    let (display_prefix, paths_relative_to) = path_bases(&args, &roots, root.as_ref());
    let started = unix_now();
    let mut outcome = if args.history_mode() {
        let state = StateKeys {
            settings: state_settings(&engine, &args, applied.as_ref()),
            fingerprint_key: key.id().to_string(),
        };
        history_scan(&engine, &args, walk, &policy, threads, progress, &state)?
    } else {
        let config = ScanConfig {
            roots,
            stdin,
            walk,
            progress,
            policy,
            staged: args.staged,
            prefetch,
        };
        scan::run(&engine, &config)
    };
    let times = ScanTimes {
        started,
        finished: unix_now(),
    };
    outcome.errors.extend(missing);
    outcome.errors.sort_by(|a, b| a.path.cmp(&b.path));
    outcome.stats.skipped_files.sort_by(|a, b| a.path.cmp(&b.path));
    outcome.stats.ignored_files.sort();
    if !own_examples.is_empty() {
        outcome.findings.retain(|f| {
            let in_config = config_in_tree.as_deref() == Some(f.path.as_str())
                || f.path.rsplit('/').next() == Some(config::DEFAULT_FILE);
            !(in_config && is_example(f.secret.expose(), &own_examples))
        });
    }
    triage_and_verify(&args, baseline.as_ref(), verifiers.as_ref(), &mut outcome.findings)?;
    let decided = Outcome::of(&outcome.findings, args.fail_on, !outcome.errors.is_empty());
    debug_assert_eq!(decided.blocking > 0, triage::fails(&outcome.findings, args.fail_on));
    let status = exit_status(decided);
    let run = RunInfo {
        source_root: root,
        fingerprint_key: key.id().to_string(),
        config: applied,
        display_prefix,
        paths_relative_to,
        outcome: decided,
        rules: rule_set,
        shard: args.shard.map(|s| ShardOf {
            index: s.index,
            count: s.count,
            of: ShardUnit::Blobs,
        }),
    };
    // The rules and the engine live until exit: freeing their thousands of small allocations one by one
    // cost a pre-commit hook about a tenth of its CPU, and the process is about to end.
    std::mem::forget((rules, engine));
    finish(&args, &outcome, times, status, &run)
}

/// Names the resolved rules (built-ins and config) and the selection: the digest covers every rule's
/// definition, so two runs agree on it exactly when they ran the same rules.
fn rule_set(rules: &[LoadedRule], only: &[String], skip: &[String]) -> report::RuleSet {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for r in rules {
        // The definition only: not the file it came from, whose path differs between machines.
        h.update(format!("{:?}", r.spec).as_bytes());
        h.update([0u8]);
    }
    let digest: String = h.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect();
    let mut only = only.to_vec();
    let mut skip = skip.to_vec();
    only.sort();
    only.dedup();
    skip.sort();
    skip.dedup();
    report::RuleSet {
        digest,
        count: rules.len(),
        only,
        skip,
    }
}

/// `pkhound scan` with every default, for the parts of audit and merge that share the scan's code
/// (fingerprint key, verification, rendering). Parsed, so that a flag added to `scan` gets its default
/// here too.
fn default_scan_args() -> ScanArgs {
    use clap::Parser;
    match Cli::try_parse_from(["pkhound", "scan"]) {
        Ok(Cli {
            command: Command::Scan(args),
        }) => *args,
        _ => unreachable!("`pkhound scan` parses with its defaults"),
    }
}

/// `pkhound audit`: find the repositories, take the shard's share, scan each history, fold, report.
fn audit_command(a: AuditArgs) -> Result<ExitStatus> {
    if a.paths.is_empty() && a.repos.is_none() {
        bail!("audit: give repositories or directories to search (PATH…), or --repos FILE");
    }
    let repos_text = match &a.repos {
        Some(p) => Some(fs::read_to_string(p).with_context(|| format!("--repos: reading {}", p.display()))?),
        None => None,
    };
    let (mut targets, mut missing) = audit::discover(&a.paths, repos_text.as_deref(), a.max_depth);
    if let Some(shard) = a.shard {
        targets.retain(|t| audit::in_shard(&t.key, shard));
        missing.retain(|e| audit::in_shard(&e.path, shard));
    }
    if a.list {
        let mut out = Vec::new();
        for t in &targets {
            writeln!(out, "{}", visible(&t.name))?;
        }
        emit(&out, a.out.output.as_ref())?;
        for e in &missing {
            eprintln!("pkhound: {}: {}", visible(&e.path), visible(&e.message));
        }
        return Ok(if missing.is_empty() {
            ExitStatus::Clean
        } else {
            ExitStatus::Error
        });
    }
    let mut args = default_scan_args();
    args.paths = Vec::new();
    args.history = true;
    args.out = a.out.clone();
    args.fail_on = a.fail_on;
    args.threads = a.threads;
    args.no_progress = a.no_progress;
    args.config = a.config.clone();
    args.rule_set = a.rule_set.clone();
    args.triage = a.triage.clone();
    args.since = a.since;
    args.all_occurrences = a.all_occurrences;
    args.max_file_size = a.max_file_size;
    args.verification = a.verification.clone();

    let key = install_fingerprint_key(&args)?;
    let threads = bound_threads(args.threads);
    // Only a config named on the command line: a repository's own `.pkhound.toml` is content under audit.
    let found = match &a.config {
        Some(path) => Some(FoundConfig {
            cfg: config::load_file(path)?,
            source: "--config",
            in_tree: None,
        }),
        None => None,
    };
    let (rules, engine, warnings) =
        load_rule_set(found.as_ref().map(|f| &f.cfg), &args.rule_set.only, &args.rule_set.skip)?;
    for w in &warnings {
        eprintln!("pkhound: warning: {}", visible(w));
    }
    let applied = found.as_ref().map(applied_config).transpose()?;
    if let Some(c) = &applied {
        if !(args.out.quiet && c.weakens.is_empty()) {
            announce_config(c);
        }
    }
    let verifiers = verifiers(&args, found.as_ref())?;
    let baseline = args
        .triage
        .baseline
        .as_deref()
        .map(|p| load_baseline(p, key.id()))
        .transpose()?;
    let mut policy = Policy::default();
    if let Some(found) = found {
        policy.allowlists = found.cfg.allowlists;
        policy.rule_paths = found.cfg.rule_paths;
    }
    let progress = !args.no_progress && std::env::var_os("CI").is_none() && io::stderr().is_terminal();
    let started = unix_now();
    let cfg = audit::AuditConfig {
        since: args.since,
        max_file_size: args.max_file_size,
        threads,
        all_occurrences: args.all_occurrences,
        progress,
    };
    let mut outcome = audit::run(&engine, &policy, &targets, &cfg);
    let times = ScanTimes {
        started,
        finished: unix_now(),
    };
    outcome.stats.repositories_failed += missing.len() as u64;
    outcome.errors.extend(missing);
    outcome.errors.sort_by(|x, y| x.path.cmp(&y.path));
    triage_and_verify(&args, baseline.as_ref(), verifiers.as_ref(), &mut outcome.findings)?;
    let decided = Outcome::of(&outcome.findings, args.fail_on, !outcome.errors.is_empty());
    let run = RunInfo {
        source_root: None,
        fingerprint_key: key.id().to_string(),
        config: applied,
        display_prefix: String::new(),
        // Each finding's path is relative to its repository (`repository.path`).
        paths_relative_to: String::new(),
        outcome: decided,
        rules: Some(rule_set(&rules, &args.rule_set.only, &args.rule_set.skip)),
        shard: a.shard.map(|s| ShardOf {
            index: s.index,
            count: s.count,
            of: ShardUnit::Repositories,
        }),
    };
    let status = finish(&args, &outcome, times, exit_status(decided), &run)?;
    if !args.out.quiet {
        eprintln!("pkhound: {}", audit_summary(&outcome));
    }
    Ok(status)
}

/// After a scan or audit: writes `--baseline-out` (every finding), hides what `--baseline` knows, then
/// verifies what is left with the providers when asked.
/// Loads `--baseline` for scan and audit alike; a format-1 (unkeyed) baseline still works, with a warning.
fn load_baseline(path: &Path, key_id: &str) -> anyhow::Result<Baseline> {
    let b = Baseline::load(path, key_id)?;
    if b.is_legacy() {
        eprintln!(
            "pkhound: warning: baseline {} has unkeyed fingerprints (format 1), which can be brute-forced: \
             re-record it with --baseline-out",
            visible(&path.display().to_string())
        );
    }
    Ok(b)
}

fn triage_and_verify(
    args: &ScanArgs,
    baseline: Option<&Baseline>,
    verifiers: Option<&Verifiers>,
    findings: &mut Vec<crate::finding::Finding>,
) -> Result<()> {
    if let Some(path) = &args.triage.baseline_out {
        triage::baseline::write(findings, path)?;
    }
    if let Some(b) = baseline {
        let known = b.apply(findings);
        if known > 0 {
            // Quiet, not secret: say how much the baseline hides, so an old leak is not forgotten.
            eprintln!("pkhound: {known} finding(s) already in the baseline not reported");
        }
    }
    if let Some(verifiers) = verifiers {
        verify_findings(args, findings, verifiers);
    }
    Ok(())
}

fn exit_status(o: Outcome) -> ExitStatus {
    match o.exit_code {
        1 => ExitStatus::Findings,
        2 => ExitStatus::Error,
        _ => ExitStatus::Clean,
    }
}

/// `audit: 48 repositories scanned, 2 failed; 3 secrets (1 still in HEAD, 1 live)`.
fn audit_summary(outcome: &ScanOutcome) -> String {
    let t = audit::tally(&outcome.findings);
    let s = &outcome.stats;
    let mut line = format!(
        "audit: {} {} scanned, {} failed; {} {}",
        s.repositories,
        if s.repositories == 1 {
            "repository"
        } else {
            "repositories"
        },
        s.repositories_failed,
        t.findings,
        if t.findings == 1 { "secret" } else { "secrets" },
    );
    if t.findings > 0 {
        line.push_str(&format!(" ({} still in HEAD", t.in_head));
        if outcome.findings.iter().any(|f| f.verification.is_some()) {
            line.push_str(&format!(", {} live", t.live));
        }
        line.push(')');
    }
    line
}

/// `pkhound merge`: shard reports in, one report out, as a single run would have written it.
fn merge_command(m: MergeArgs) -> Result<ExitStatus> {
    let cfg = m.config.as_ref().map(|p| config::load_file(p)).transpose()?;
    let (rules, engine, _) = load_rule_set(cfg.as_ref(), &[], &[])?;
    let ours = rule_set(&rules, &[], &[]);
    let infos: std::collections::HashMap<String, Arc<crate::finding::RuleInfo>> = engine
        .rules()
        .iter()
        .map(|r| (r.info.id.as_str().to_string(), r.info.clone()))
        .collect();
    let mut reports = Vec::new();
    for path in &m.reports {
        let shown = visible(&path.display().to_string()).into_owned();
        let bytes = fs::read(path).with_context(|| format!("reading {shown}"))?;
        let r = report::read::read(&bytes, &infos).with_context(|| shown.clone())?;
        if r.version != env!("CARGO_PKG_VERSION") {
            bail!(
                "{shown}: written by pkhound {}, this is {}: merge reports of the version that merges them",
                visible(&r.version),
                env!("CARGO_PKG_VERSION")
            );
        }
        let Some(theirs) = &r.rules else {
            bail!("{shown}: the report does not say which rules it ran");
        };
        if theirs.digest != ours.digest || theirs.count != ours.count {
            bail!(
                "{shown}: made with other rules ({} rules, digest {}) than this merge loaded ({} rules, digest {}):                  give merge the same --config as the shards",
                theirs.count,
                visible(&theirs.digest),
                ours.count,
                ours.digest
            );
        }
        reports.push((shown, r));
    }
    let Some((first_name, first)) = reports.first() else {
        bail!("merge: no report given");
    };
    for (name, r) in &reports[1..] {
        if r.fingerprint_key != first.fingerprint_key {
            bail!(
                "{name}: fingerprints made with key {}, {first_name} with key {}: shards must share one fingerprint key                  ({} or --fingerprint-key-file)",
                visible(&r.fingerprint_key),
                visible(&first.fingerprint_key),
                fingerprint_key::ENV
            );
        }
        if r.rules != first.rules {
            bail!("{name}: ran other rules (--only/--skip) than {first_name}");
        }
        if r.outcome.fail_on != first.outcome.fail_on {
            bail!(
                "{name}: --fail-on {}, {first_name}: --fail-on {}; shards must share it",
                r.outcome.fail_on,
                first.outcome.fail_on
            );
        }
        if r.config != first.config {
            bail!("{name}: applied another config than {first_name}");
        }
    }
    let (division, missing) = check_shards(&reports)?;
    if m.out.show_secrets && !reports.iter().all(|(_, r)| r.has_secrets || r.findings.is_empty()) {
        bail!("--show-secrets: the reports hold no raw secrets (they were written without --show-secrets)");
    }
    let fingerprint_key = first.fingerprint_key.clone();
    let config_applied = first.config.clone();
    let fail_on = first.outcome.fail_on;
    let rules_of_run = first.rules.clone();
    let mut paths_relative_to = first.paths_relative_to.clone();
    if reports.iter().any(|(_, r)| r.paths_relative_to != paths_relative_to) {
        paths_relative_to = String::new();
    }
    let mut outcome = ScanOutcome::default();
    let mut fold = audit::Fold::default();
    for (_, r) in reports {
        let commits = outcome.stats.commits;
        outcome.stats.add_counts(&r.stats);
        if division == Some(ShardUnit::Blobs) {
            // Every blob shard walked all the repository's commits.
            outcome.stats.commits = commits.max(r.stats.commits);
        }
        outcome.stats.elapsed_ms = outcome.stats.elapsed_ms.saturating_add(r.stats.elapsed_ms);
        outcome.stats.skipped_files.extend(r.stats.skipped_files);
        outcome.stats.ignored_files.extend(r.stats.ignored_files);
        outcome.errors.extend(r.errors);
        outcome.notices.extend(r.notices);
        for f in r.findings {
            fold.add(f);
        }
    }
    outcome.findings = fold.finish();
    outcome.errors.extend(missing);
    outcome
        .errors
        .sort_by(|x, y| (&x.path, &x.message).cmp(&(&y.path, &y.message)));
    outcome.errors.dedup();
    outcome
        .notices
        .sort_by(|x, y| (&x.path, &x.message).cmp(&(&y.path, &y.message)));
    outcome.notices.dedup();
    outcome.stats.skipped_files.sort_by(|x, y| x.path.cmp(&y.path));
    outcome.stats.ignored_files.sort();
    outcome.stats.ignored_files.dedup();
    let decided = Outcome::of(&outcome.findings, fail_on, !outcome.errors.is_empty());
    let run = RunInfo {
        source_root: None,
        fingerprint_key,
        config: config_applied,
        display_prefix: String::new(),
        paths_relative_to,
        outcome: decided,
        rules: rules_of_run,
        shard: None,
    };
    let mut args = default_scan_args();
    args.out = m.out.clone();
    args.fail_on = fail_on;
    let now = unix_now();
    let times = ScanTimes {
        started: now,
        finished: now,
    };
    let status = finish(&args, &outcome, times, exit_status(decided), &run)?;
    if !m.out.quiet && outcome.stats.repositories + outcome.stats.repositories_failed > 0 {
        eprintln!("pkhound: {}", audit_summary(&outcome));
    }
    Ok(status)
}

/// Checks that sharded reports are the shares of one run, each given once: all of them sharded the
/// same way or none. Returns what was divided and, for each share not given, an error entry, so that
/// the merged report says it is incomplete rather than leaving a silent hole.
fn check_shards(reports: &[(String, report::read::ReadReport)]) -> Result<(Option<ShardUnit>, Vec<ScanError>)> {
    let Some((first_name, first)) = reports.iter().find_map(|(n, r)| r.shard.map(|s| (n, s))) else {
        return Ok((None, Vec::new()));
    };
    let unit = |s: ShardOf| match s.of {
        ShardUnit::Blobs => "blobs",
        ShardUnit::Repositories => "repositories",
    };
    let mut given: Vec<Option<&str>> = vec![None; first.count as usize];
    for (name, r) in reports {
        let Some(s) = r.shard else {
            bail!(
                "{name} is a whole run's report and {first_name} shard {}/{}: merge the shards of one run, or whole runs",
                first.index,
                first.count
            );
        };
        if s.count != first.count || s.of != first.of {
            bail!(
                "{name} is shard {}/{} of the {}, {first_name} shard {}/{} of the {}: merge the shards of one run",
                s.index,
                s.count,
                unit(s),
                first.index,
                first.count,
                unit(first)
            );
        }
        if let Some(other) = given[s.index as usize].replace(name) {
            bail!(
                "{other} and {name} are both shard {}/{}: give each shard once",
                s.index,
                s.count
            );
        }
    }
    let missing = given
        .iter()
        .enumerate()
        .filter(|(_, g)| g.is_none())
        .map(|(i, _)| {
            let shard = format!("shard {i}/{}", first.count);
            ScanError::new(
                ErrorKind::Shard,
                shard.clone(),
                format!(
                    "no report of {shard} was merged: its share of the {} is not in this report",
                    unit(first)
                ),
            )
        })
        .collect();
    Ok((Some(first.of), missing))
}

/// Resolves the fingerprint key (see [`fingerprint_key`]), installs it for this process and says on
/// stderr when it was just created or could not be kept.
fn install_fingerprint_key(args: &ScanArgs) -> Result<&'static FingerprintKey> {
    let (key, source) = fingerprint_key::resolve(args.triage.fingerprint_key_file.as_deref())?;
    let id = key.id().to_string();
    key.install();
    match &source {
        KeySource::User { path, created: true } => eprintln!(
            "pkhound: created fingerprint key {} (id {id}); fingerprints and baselines match only under \
             this key: give it to CI and teammates as {}",
            visible(&path.display().to_string()),
            fingerprint_key::ENV
        ),
        KeySource::Ephemeral { reason } => {
            if args.triage.baseline_out.is_some() {
                bail!(
                    "--baseline-out needs a fingerprint key that outlives this run ({reason}): set {} or \
                     --fingerprint-key-file",
                    fingerprint_key::ENV
                );
            }
            eprintln!(
                "pkhound: warning: no fingerprint key ({reason}): a random key for this run only, so \
                 fingerprints will not match other runs; set {}",
                fingerprint_key::ENV
            );
        }
        _ => {}
    }
    Ok(FingerprintKey::current())
}

/// More worker threads than this only cost start-up time (measured: `-j 5000` took over a minute on
/// three files); the walk and the history scan are bound by I/O and cores long before.
fn max_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.saturating_mul(4).max(64)
}

/// `-j N`, bounded by [`max_threads`] with a warning. 0 stays 0 (one per core).
// See: issue 12 ("`-j 5000` takes over a minute on 3 files").
fn bound_threads(n: usize) -> usize {
    // No bound is below 64: the usual `-j`s (and 0) skip `available_parallelism`, which reads cgroup files
    // at every start of a pre-commit hook.
    if n <= 64 {
        return n;
    }
    let max = max_threads();
    if n > max {
        eprintln!("pkhound: warning: -j {n} is more threads than can help; using {max}");
        max
    } else {
        n
    }
}

/// The config as reports name it: file, why it applied, what it changes and what it weakens.
fn applied_config(found: &FoundConfig) -> Result<AppliedConfig> {
    let builtin = rules::builtin().context("loading built-in rules")?;
    let summary = config::summarize(&found.cfg, &builtin);
    Ok(AppliedConfig {
        path: found.cfg.file.clone(),
        source: found.source.to_string(),
        format: match found.cfg.kind {
            ConfigKind::Pkhound => "pkhound",
            ConfigKind::Gitleaks => "gitleaks",
        },
        changes: summary.changes,
        weakens: summary.weakens,
    })
}

/// Says on stderr which config applies; a config that weakens the built-in rules is named loudly, line
/// by line, whatever the format and even in a pre-commit hook.
fn announce_config(c: &AppliedConfig) {
    let path = visible(&c.path);
    if c.weakens.is_empty() {
        let what = if c.changes.is_empty() {
            "no changes".to_string()
        } else {
            c.changes
                .iter()
                .map(|ch| visible(ch).into_owned())
                .collect::<Vec<_>>()
                .join("; ")
        };
        eprintln!("pkhound: config {path} ({}): {what}", c.source);
    } else {
        eprintln!(
            "pkhound: WARNING: config {path} ({}) WEAKENS THE SCAN ({} {}):",
            c.source,
            c.weakens.len(),
            if c.weakens.len() == 1 { "change" } else { "changes" }
        );
        for w in &c.weakens {
            eprintln!("pkhound: WARNING:   {}", visible(w));
        }
    }
}

/// The strings a config's own rules carry as examples: the config file holds them, and they are not
/// leaks. Only these are not reported in the config file itself.
fn example_strings(cfg: &UserConfig) -> Vec<String> {
    let mut out = Vec::new();
    for r in &cfg.rules {
        for p in &r.spec.examples.positive {
            out.push(p.secret.to_string());
            out.push(p.text.to_string());
        }
        out.extend(r.spec.examples.negative.iter().cloned());
    }
    out.retain(|s| !s.is_empty());
    out
}

/// True when `secret` is one of the example strings (or inside one).
fn is_example(secret: &str, examples: &[String]) -> bool {
    examples.iter().any(|e| e == secret || e.contains(secret))
}

/// The git work tree enclosing the scanned paths, and the directory report paths are relative to, for
/// SARIF: GitHub resolves result paths from the repository root. Staged and history paths are already
/// relative to the root; a tree scan's are relative to its one directory, or to the current directory.
fn source_root(args: &ScanArgs, roots: &[PathBuf]) -> Option<SourceRoot> {
    let (start, base): (PathBuf, Option<PathBuf>) = if args.staged || args.history_mode() {
        let start = roots.first().cloned().unwrap_or_else(|| PathBuf::from("."));
        (start, None)
    } else {
        let base = match roots {
            [only] if only.is_dir() => only.clone(),
            _ => PathBuf::from("."),
        };
        (base.clone(), Some(base))
    };
    let start = start.canonicalize().ok()?;
    let root = start.ancestors().find(|d| d.join(".git").exists())?.to_path_buf();
    let prefix = match base {
        Some(b) => {
            let b = b.canonicalize().ok()?;
            let rel = b
                .strip_prefix(&root)
                .ok()?
                .to_string_lossy()
                .replace(std::path::MAIN_SEPARATOR, "/");
            if rel.is_empty() {
                rel
            } else {
                format!("{rel}/")
            }
        }
        None => String::new(),
    };
    Some(SourceRoot {
        path: root.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/"),
        prefix,
    })
}

/// The verifier of each rule, with `--verify`; `None` without (nothing is sent). Only a config named with
/// `--config` may declare verifiers; one found in the scanned tree or read at a ref cannot (anyone who can
/// change the repository could point them at their own server): a loud warning, always.
fn verifiers(args: &ScanArgs, found: Option<&FoundConfig>) -> Result<Option<Verifiers>> {
    if args.verification.only_verified && !args.verification.enabled() {
        bail!("--only-verified needs --verify (or --blast-radius): nothing is verified without it");
    }
    let cfg = found.map(|f| &f.cfg);
    let untrusted = found.filter(|f| f.source != "--config").map(|f| f.cfg.file.as_str());
    if let (Some(c), Some(file)) = (cfg, untrusted) {
        for w in verify::untrusted_warnings(&c.rules, file) {
            eprintln!("pkhound: warning: {}", visible(&w));
        }
    }
    if !args.verification.enabled() {
        return Ok(None);
    }
    let resolved = config::resolve(rules::builtin().context("loading built-in rules")?, cfg)?;
    Ok(Some(Verifiers::from_rules(&resolved.rules, untrusted)))
}

/// Verifies after triage and before reporting; `--only-verified` keeps live findings alone.
fn verify_findings(args: &ScanArgs, findings: &mut Vec<crate::finding::Finding>, verifiers: &Verifiers) {
    let vars = std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
    let opts = verify::Options {
        blast_radius: args.verification.blast_radius,
        concurrency: usize::from(args.verification.verify_concurrency),
        timeout: std::time::Duration::from_secs(args.verification.verify_timeout),
        deadline: std::time::Duration::from_secs(args.verification.verify_deadline),
        base_urls: verify::Options::base_urls_from(vars),
        roots: std::env::var_os("SSL_CERT_FILE")
            .filter(|p| !p.is_empty())
            .and_then(|path| match fs::read(&path) {
                Ok(pem) => Some(pem),
                Err(e) => {
                    eprintln!(
                        "pkhound: warning: SSL_CERT_FILE {}: {e}; using the built-in root certificates",
                        visible(&Path::new(&path).display().to_string())
                    );
                    None
                }
            }),
    };
    let s = verify::run(findings, verifiers, &opts);
    if s.secrets > 0 {
        eprintln!(
            "pkhound: verified {} secret(s): {} live, {} invalid, {} unknown",
            s.secrets, s.live, s.invalid, s.unknown
        );
    }
    if args.verification.only_verified {
        findings.retain(|f| {
            f.verification
                .as_ref()
                .is_some_and(|v| v.status == verify::Status::Live)
        });
    }
}

/// Removes the roots that do not exist (not even as a broken link) and returns them as errors.
fn take_missing(roots: &mut Vec<PathBuf>) -> Vec<ScanError> {
    let mut missing = Vec::new();
    roots.retain(|r| match fs::symlink_metadata(r) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            missing.push(ScanError::new(
                ErrorKind::Io,
                r.display().to_string(),
                "No such file or directory",
            ));
            false
        }
        _ => true,
    });
    missing
}

/// What the human formats prepend to a report path so that it opens from the current directory
/// (ripgrep's rule: the root as typed, then the path under it), and the absolute directory the machine
/// formats' paths are relative to.
fn path_bases(args: &ScanArgs, roots: &[PathBuf], root: Option<&SourceRoot>) -> (String, String) {
    let cwd = std::env::current_dir()
        .and_then(|d| d.canonicalize())
        .unwrap_or_else(|_| PathBuf::from("."));
    let slashed = |p: &Path| p.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/");
    if args.staged || args.history_mode() {
        // Paths are relative to the repository's root. History paths name places in commits, not files
        // on disk: they stay as git names them.
        let base = match root {
            Some(r) => PathBuf::from(&r.path),
            None => roots
                .first()
                .and_then(|p| p.canonicalize().ok())
                .unwrap_or_else(|| cwd.clone()),
        };
        let prefix = if args.staged {
            relative_from(&cwd, &base)
        } else {
            String::new()
        };
        return (prefix, slashed(&base));
    }
    match roots {
        [only] if only.is_dir() => {
            let typed = slashed(only);
            let prefix = if typed == "." || typed == "./" {
                String::new()
            } else if typed.ends_with('/') {
                typed
            } else {
                format!("{typed}/")
            };
            let base = only.canonicalize().unwrap_or_else(|_| only.clone());
            (prefix, slashed(&base))
        }
        _ => (String::new(), slashed(&cwd)),
    }
}

/// The way from directory `from` to directory `to` (both absolute), as a prefix for paths under `to`:
/// `""`, `sub/`, `../`, `../../other/`.
fn relative_from(from: &Path, to: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    if common == 0 {
        let mut s = to
            .iter()
            .collect::<PathBuf>()
            .to_string_lossy()
            .replace(std::path::MAIN_SEPARATOR, "/");
        s.push('/');
        return s;
    }
    let mut out = "../".repeat(from.len() - common);
    for c in &to[common..] {
        out.push_str(&c.as_os_str().to_string_lossy());
        out.push('/');
    }
    out
}

/// What makes a `--state` file comparable with this run.
struct StateKeys {
    settings: [u8; 32],
    fingerprint_key: String,
}

/// The digest of what decides a blob's findings: pkhound's version, the active rules, the config file
/// applied (its bytes) and `--max-file-size`. A state written under another digest is not trusted to
/// say a blob is clean.
fn state_settings(engine: &Engine, args: &ScanArgs, applied: Option<&crate::report::AppliedConfig>) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    for r in engine.rules() {
        let info = &r.info;
        h.update(format!("\0{}\0{}\0{:?}\0{:?}", info.id, info.severity, info.keywords, info.tags).as_bytes());
    }
    h.update(args.max_file_size.to_le_bytes());
    // A shard's state says nothing of another share's blobs.
    if let Some(crate::cli::Shard { index: i, count: n }) = args.shard {
        h.update(format!("shard {i}/{n}").as_bytes());
    }
    if let Some(a) = applied {
        h.update(a.path.as_bytes());
        h.update(std::fs::read(&a.path).unwrap_or_default());
        for c in &a.changes {
            h.update(c.as_bytes());
        }
    }
    h.finalize().into()
}

/// `--history` (and `--worktree`): one repository's history, and its working tree when asked.
fn history_scan(
    engine: &Engine,
    args: &ScanArgs,
    walk: WalkOptions,
    policy: &Arc<Policy>,
    threads: usize,
    progress: bool,
    state_keys: &StateKeys,
) -> Result<ScanOutcome> {
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
        threads,
        all_occurrences: args.all_occurrences,
        progress,
        shard: args.shard.map(|s| history::Shard {
            index: s.index,
            count: s.count,
        }),
        state: match &args.state {
            Some(path) => {
                let previous = State::load(path)?;
                let here = repo.git_dir().display().to_string();
                if let Some(p) = &previous {
                    if p.repository != here {
                        anyhow::bail!(
                            "state file {}: written for repository {}, not {here}: give each repository its own \
                             state file",
                            path.display(),
                            p.repository
                        );
                    }
                    if p.fingerprint_key != state_keys.fingerprint_key {
                        anyhow::bail!(
                            "state file {}: written under fingerprint key {}, this run uses {}: its fingerprints \
                             cannot be compared (use the same key, or delete the file to start over)",
                            path.display(),
                            p.fingerprint_key,
                            state_keys.fingerprint_key
                        );
                    }
                }
                Some(StateInput {
                    previous,
                    settings: state_keys.settings,
                    fingerprint_key: state_keys.fingerprint_key.clone(),
                })
            }
            None => None,
        },
    };
    let workdir = repo.workdir().map(PathBuf::from);
    let scanner = Scanner::new(engine, policy).with_archives(walk.archives);
    let (mut outcome, state) = history::run_with_state(scanner, repo, &cfg)?;
    if let (Some(path), Some(state)) = (&args.state, state) {
        state.save(path)?;
    }
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
            prefetch: None,
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
    triage::by_urgency(&mut outcome.findings);
    Ok(outcome)
}

/// Renders the report, writes it, and decides the exit status.
fn finish(
    args: &ScanArgs,
    outcome: &ScanOutcome,
    times: ScanTimes,
    status: ExitStatus,
    run: &RunInfo,
) -> Result<ExitStatus> {
    let to_terminal = args.out.output.is_none() && io::stdout().is_terminal();
    let color = match args.out.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && args.out.format == Format::Text && std::env::var_os("NO_COLOR").is_none(),
    };
    colored::control::set_override(color);
    let input = ReportInput {
        findings: &outcome.findings,
        errors: &outcome.errors,
        notices: &outcome.notices,
        stats: &outcome.stats,
        run,
        times,
    };
    let opts = ReportOptions {
        show_secrets: args.out.show_secrets,
        color,
        compact: args.out.compact,
        // On a terminal or a pipe the errors are on stderr already; a report file lists them itself.
        list_errors: args.out.output.is_some(),
    };
    // A hook's text output: a header, the blocking findings, the ways forward; nothing for a clean commit.
    let hook = args.staged && args.out.format == Format::Text && !args.out.compact;
    let bytes = if hook {
        let blocking: Vec<_> = outcome.findings.iter().filter(|f| run.blocks(f)).cloned().collect();
        report::hook::render(&blocking, run, &opts)
    } else {
        report::render(args.out.format, &input, &opts)
    };
    if !bytes.is_empty() || args.out.output.is_some() {
        emit(&bytes, args.out.output.as_ref())?;
    }

    // Errors always go to stderr, named as the shell names a path (`pkhound: PATH: message`).
    for e in &outcome.errors {
        eprintln!(
            "pkhound: {}: {}",
            visible(&run.shown_path(&e.path)),
            visible(&e.message)
        );
    }
    if args.verbose {
        for s in &outcome.stats.skipped_files {
            eprintln!("pkhound: skipped {}: {}", visible(&run.shown_path(&s.path)), s.reason);
        }
    }
    if input.incomplete() {
        eprintln!(
            "pkhound: INCOMPLETE: {} {} could not be scanned; a finding there would be missing",
            outcome.errors.len(),
            if outcome.errors.len() == 1 { "place" } else { "places" }
        );
    }
    // A CI log must say what happened even when the report went to a file or is for machines.
    let machine = args.out.format != Format::Text || args.out.output.is_some() || args.out.compact;
    if machine && !hook && !args.out.quiet {
        eprintln!("pkhound: {}", stderr_summary(&input, args));
    }

    Ok(status)
}

/// One line for stderr: the headline, what blocks, and where the report went.
fn stderr_summary(input: &ReportInput<'_>, args: &ScanArgs) -> String {
    let mut line = report::text::headline(input);
    let o = input.run.outcome;
    if !input.findings.is_empty() {
        line.push_str(&format!("; {} blocking at --fail-on {}", o.blocking, o.fail_on));
    }
    let s = input.stats;
    line.push_str(&format!(
        "; {} {} scanned",
        s.files,
        match (s.commits > 0, s.files == 1) {
            (true, true) => "blob",
            (true, false) => "blobs",
            (false, true) => "file",
            (false, false) => "files",
        }
    ));
    if let Some(path) = &args.out.output {
        line.push_str(&format!("; report in {}", visible(&path.display().to_string())));
    }
    line
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
    keywords: &'a [Text],
    /// The rule runs only on files whose path this regex matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    tags: &'a [Text],
    references: &'a [Text],
    remediation: &'a str,
    /// The provider `--verify` asks about this rule's secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    verify: Option<String>,
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

/// `pkhound rules show ID`: one rule in full, as text or JSON.
fn rules_show(args: &RulesArgs, id: &str) -> Result<ExitStatus> {
    let builtin = rules::builtin().context("loading built-in rules")?;
    let cfg = match &args.config {
        Some(path) => Some(config::load_file(path)?),
        None => None,
    };
    let all = config::resolve(builtin, cfg.as_ref())?.rules;
    let Some(rule) = all.iter().find(|r| r.spec.id == id) else {
        match did_you_mean(id, all.iter().map(|r| r.spec.id.as_str())) {
            Some(near) => bail!("unknown rule id `{id}`; did you mean `{near}`? (see `pkhound rules`)"),
            None => bail!("unknown rule id `{id}` (see `pkhound rules`)"),
        }
    };
    let r = &rule.spec;
    let mut filters: Vec<String> = Vec::new();
    if r.delimited {
        filters.push("delimited (not glued inside a longer token)".to_string());
    }
    if let Some(e) = r.min_entropy {
        filters.push(if r.caps_entropy() {
            format!("entropy at least {e}, or what a random value of the secret's length and alphabet reaches")
        } else {
            format!("entropy at least {e}")
        });
    }
    if let Some(c) = r.check {
        filters.push(format!("check {c:?}"));
    }
    for a in r.allow.iter() {
        filters.push(format!("allow /{a}/"));
    }
    let mut out = Vec::new();
    if args.format == RulesFormat::Json {
        let value = serde_json::json!({
            "id": r.id,
            "name": r.name,
            "severity": rule_severity(&all, id),
            "file": rule.file,
            "description": r.description,
            "keywords": r.keywords,
            "path": r.path,
            "regex": r.regex,
            "window": r.window,
            "filters": filters,
            "verifier": r.verify,
            "tags": r.tags,
            "examples": {
                "positive": r.examples.positive.iter().map(|p| serde_json::json!({"text": p.text, "secret": p.secret})).collect::<Vec<_>>(),
                "negative": r.examples.negative,
                "base64": r.examples.base64,
            },
            "remediation": r.remediation,
            "references": r.references,
        });
        serde_json::to_writer_pretty(&mut out, &value).context("serializing the rule")?;
        out.push(b'\n');
    } else {
        writeln!(out, "{}  {}", r.id, r.name)?;
        writeln!(out, "severity:     {}", rule_severity(&all, id))?;
        writeln!(out, "defined in:   {}", rule.file)?;
        if !r.description.is_empty() {
            writeln!(out, "description:  {}", r.description)?;
        }
        if r.keywords.is_empty() {
            writeln!(out, "keywords:     none: the regex reads the whole file")?;
        } else {
            writeln!(out, "keywords:     {}", r.keywords.join(", "))?;
        }
        if let Some(path) = &r.path {
            writeln!(out, "files:        paths matching /{path}/ only")?;
        }
        writeln!(out, "regex:        {}", r.regex)?;
        if !r.keywords.is_empty() {
            writeln!(out, "window:       {} bytes around each keyword", r.window)?;
        }
        writeln!(
            out,
            "filters:      {}",
            if filters.is_empty() {
                "none".to_string()
            } else {
                filters.join("; ")
            }
        )?;
        writeln!(out, "verifier:     {}", r.verify.as_deref().unwrap_or("none"))?;
        if !r.tags.is_empty() {
            writeln!(out, "tags:         {}", r.tags.join(", "))?;
        }
        if r.examples.base64 {
            writeln!(out, "examples:     base64 of the bytes scanned (a binary file)")?;
        } else {
            writeln!(out, "examples:")?;
        }
        for p in &r.examples.positive {
            writeln!(out, "  found:      {}  →  {}", visible(&p.text), visible(&p.secret))?;
        }
        for n in &r.examples.negative {
            writeln!(out, "  not found:  {}", visible(n))?;
        }
        writeln!(out, "remediation:  {}", r.remediation)?;
        for url in r.references.iter() {
            writeln!(out, "see:          {url}")?;
        }
    }
    emit(&out, None)?;
    Ok(ExitStatus::Clean)
}

/// The severity a scan gives rule `id` (after the config's changes).
fn rule_severity(rules: &[LoadedRule], id: &str) -> &'static str {
    rules
        .iter()
        .find(|r| r.spec.id == id)
        .map_or("?", |r| r.spec.severity.as_str())
}

fn rules_command(args: RulesArgs) -> Result<ExitStatus> {
    match &args.action {
        Some(RulesAction::Check { files }) => return rules_check(files),
        Some(RulesAction::Show { id }) => return rules_show(&args, id),
        None => {}
    }
    // With --config: the rules a scan with that config would run (built-ins merged with the config's).
    let cfg = match &args.config {
        Some(path) => Some(config::load_file(path)?),
        None => None,
    };
    let (rules, _, warnings) = load_rule_set(cfg.as_ref(), &[], &[])?;
    for w in &warnings {
        eprintln!("pkhound: warning: {}", visible(w));
    }
    // A config named with --config is trusted, as in a scan with --config.
    let verifiers = Verifiers::from_rules(&rules, None);
    fn row<'a>(r: &'a LoadedRule, verifiers: &Verifiers) -> RuleRow<'a> {
        RuleRow {
            id: &r.spec.id,
            name: &r.spec.name,
            severity: r.spec.severity.as_str(),
            category: r.spec.category.map(|c| c.as_str()),
            keywords: &r.spec.keywords,
            path: r.spec.path.as_deref(),
            tags: &r.spec.tags,
            references: &r.spec.references,
            remediation: &r.spec.remediation,
            verify: verifiers
                .get(&RuleId::new(&r.spec.id))
                .map(|v| v.provider().to_string()),
        }
    }
    let mut out = Vec::new();
    match args.format {
        RulesFormat::Json => {
            let rows: Vec<RuleRow> = rules.iter().map(|r| row(r, &verifiers)).collect();
            serde_json::to_writer_pretty(&mut out, &rows).context("serializing rules")?;
            out.push(b'\n');
        }
        RulesFormat::Markdown => out.extend_from_slice(rules::doc::markdown(&rules).as_bytes()),
        RulesFormat::Text => {
            let w = rules.iter().map(|r| r.spec.id.len()).max().unwrap_or(0);
            for (category, group) in rules::doc::grouped(&rules) {
                writeln!(out, "{} ({})", rules::doc::title(category), group.len())?;
                for r in group {
                    let path = r
                        .spec
                        .path
                        .as_ref()
                        .map(|p| format!(" files /{p}/"))
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "  {:<w$}  {:<8}  {}  [{}]{path}",
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
