//! `pkhound audit`: the whole history of many repositories into one report.
//!
//! Owns finding the repositories (under directories, in a `--repos` list), choosing a shard's share of
//! them, naming each (path, redacted `origin` URL), and folding every repository's findings into one
//! finding per (rule, secret). Each repository goes through the one history pipeline
//! ([`scan::history::run`]), one after the other: memory holds one repository's inventory at a time plus
//! the findings so far, never an inventory per repository.
//!
//! The fold is also what `pkhound merge` runs over shard reports, so a merged report and a single run
//! agree by construction.

use std::{
    collections::{HashMap, HashSet},
    fs,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::{Digest, Sha256};

use crate::cli::Shard;
use crate::engine::Engine;
use crate::finding::{AuditPlace, ErrorKind, Finding, Notice, Repository, ScanError, Severity};
use crate::report::visible;
use crate::scan::history::{self, HistoryConfig};
use crate::scan::{ScanOutcome, Scanner};
use crate::source::git::{Repo, Selection};
use crate::triage::Policy;

/// A repository to audit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// As reports name it: the `--repos` line, or the PATH joined with where it was found under it.
    pub name: String,
    /// Where to open it.
    pub path: PathBuf,
    /// What `--shard` hashes: the name without the machine-specific part (see [`Target::key`]).
    pub key: String,
}

/// Whether `dir` is a repository: a work tree (`.git` directory or file) or a bare repository (`HEAD`,
/// `objects/`, `refs/`).
pub fn is_repository(dir: &Path) -> bool {
    dir.join(".git").exists()
        || (dir.join("HEAD").is_file() && dir.join("objects").is_dir() && dir.join("refs").is_dir())
}

fn slashed(p: &Path) -> String {
    p.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/")
}

/// The repositories named by PATHs (each a repository, or a directory searched `max_depth` levels deep)
/// and by the lines of a `--repos` file (`text`), in a deterministic order (the same on every machine
/// given the same tree), each once. PATHs that do not exist or hold no repository are errors.
pub fn discover(paths: &[PathBuf], repos_text: Option<&str>, max_depth: usize) -> (Vec<Target>, Vec<ScanError>) {
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        let typed = slashed(root);
        if is_repository(root) {
            targets.push(Target {
                name: typed.clone(),
                path: root.clone(),
                key: typed,
            });
            continue;
        }
        if !root.is_dir() {
            let message = if root.exists() {
                "not a git repository, nor a directory to search for repositories"
            } else {
                "No such file or directory"
            };
            errors.push(ScanError::new(ErrorKind::Repository, typed, message));
            continue;
        }
        let before = targets.len();
        let mut visited = HashSet::new();
        search(root, root, &typed, 1, max_depth, &mut visited, &mut targets);
        if targets.len() == before {
            errors.push(ScanError::new(
                ErrorKind::Repository,
                typed,
                format!("no git repository found within {max_depth} levels"),
            ));
        }
    }
    for line in repos_text.unwrap_or("").lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        targets.push(Target {
            name: line.to_string(),
            path: PathBuf::from(line),
            key: line.to_string(),
        });
    }
    // The same repository named twice (a PATH and a `--repos` line, or through a symlink) is scanned once.
    let mut seen = HashSet::new();
    targets.retain(|t| seen.insert(t.path.canonicalize().unwrap_or_else(|_| t.path.clone())));
    (targets, errors)
}

/// Depth-first, sorted by name; follows symbolic links to directories but enters each directory once
/// (by its canonical path), so a link loop ends; never enters `.git` nor a repository found.
fn search(
    root: &Path,
    dir: &Path,
    typed: &str,
    depth: usize,
    max_depth: usize,
    visited: &mut HashSet<PathBuf>,
    out: &mut Vec<Target>,
) {
    if depth > max_depth {
        return;
    }
    if let Ok(canonical) = dir.canonicalize() {
        if !visited.insert(canonical) {
            return;
        }
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut subdirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name() != ".git")
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    for sub in subdirs {
        if is_repository(&sub) {
            let already = sub.canonicalize().is_ok_and(|c| visited.contains(&c));
            if already {
                continue;
            }
            if let Ok(c) = sub.canonicalize() {
                visited.insert(c);
            }
            let rel = sub.strip_prefix(root).map(slashed).unwrap_or_else(|_| slashed(&sub));
            let name = if typed.ends_with('/') {
                format!("{typed}{rel}")
            } else {
                format!("{typed}/{rel}")
            };
            out.push(Target {
                name,
                path: sub,
                key: rel,
            });
        } else {
            search(root, &sub, typed, depth + 1, max_depth, visited, out);
        }
    }
}

/// Whether `key` falls in `shard`: the first 8 bytes of SHA-256(key), big-endian, modulo the count.
/// SHA-256 rather than a std hasher: the answer must not change with the platform or the Rust version.
pub fn in_shard(key: &str, shard: Shard) -> bool {
    let digest = Sha256::digest(key.as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(head) % u64::from(shard.count) == u64::from(shard.index)
}

/// `url` without credentials: the userinfo of a URL is replaced by `***` (an `https://TOKEN@host` token
/// is a credential; only a bare user name of ssh is kept, `git@host:org/repo`), and so is a query
/// string (`?access_token=…`).
pub fn redact_url(url: &str) -> String {
    let url = url.trim();
    let (url, query) = match url.split_once('?') {
        Some((u, _)) => (u, "?***"),
        None => (url, ""),
    };
    let url = url.split_once('#').map_or(url, |(u, _)| u);
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, url),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    // scp-like `user@host:path`: the authority ends at the first `:` after the `@`.
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return format!("{url}{query}");
    };
    let userinfo = &authority[..at];
    let ssh = matches!(scheme, None | Some("ssh" | "git+ssh" | "ssh+git"));
    let keep = ssh && !userinfo.contains(':') && !userinfo.is_empty();
    let shown = if keep { userinfo } else { "***" };
    let prefix = scheme.map(|s| format!("{s}://")).unwrap_or_default();
    format!("{prefix}{shown}@{}{query}", &rest[at + 1..])
}

/// The repository's `origin` URL, redacted; `None` when it has none.
fn origin_url(repo: &git2::Repository) -> Option<String> {
    let cfg = repo.config().ok()?;
    let url = cfg.get_string("remote.origin.url").ok()?;
    Some(redact_url(&url))
}

/// What an audit needs besides the repositories.
#[derive(Clone, Debug)]
pub struct AuditConfig {
    pub since: Option<i64>,
    pub max_file_size: u64,
    pub threads: usize,
    pub all_occurrences: bool,
    pub progress: bool,
}

/// Audits each target's whole history, one after the other. A repository that cannot be opened or
/// listed is an error entry naming it (and counted in `stats.repositories_failed`); the audit goes on.
pub fn run(engine: &Engine, policy: &Policy, targets: &[Target], cfg: &AuditConfig) -> ScanOutcome {
    let started = Instant::now();
    let mut outcome = ScanOutcome::default();
    let mut fold = Fold::default();
    let bar = cfg.progress.then(|| {
        let pb = ProgressBar::with_draw_target(Some(targets.len() as u64), ProgressDrawTarget::stderr_with_hz(8));
        pb.set_style(
            ProgressStyle::with_template("{spinner} audit: {pos}/{len} repositories, {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.enable_steady_tick(Duration::from_millis(125));
        pb
    });
    let scanner = Scanner::new(engine, policy);
    for target in targets {
        if let Some(pb) = &bar {
            let secs = started.elapsed().as_secs_f64().max(0.001);
            let blobs = outcome.stats.files;
            pb.set_message(format!(
                "{blobs} blobs, {:.0} blobs/s; {}",
                blobs as f64 / secs,
                visible(&target.name)
            ));
        }
        match audit_one(scanner, target, cfg) {
            Ok((repository, one)) => {
                outcome.stats.repositories += 1;
                absorb(&mut outcome, &target.name, &one);
                for mut f in one.findings {
                    if policy.suppresses(&f, None) {
                        continue;
                    }
                    f.audit = Some(Box::new(AuditPlace {
                        repository: repository.clone(),
                        elsewhere: Vec::new(),
                    }));
                    fold.add(f);
                }
            }
            Err(e) => {
                outcome.stats.repositories_failed += 1;
                outcome.errors.push(e);
            }
        }
        crate::scan::history::release_freed_memory();
        if let Some(pb) = &bar {
            pb.inc(1);
        }
    }
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    outcome.findings = fold.finish();
    outcome.errors.sort_by(|a, b| a.path.cmp(&b.path));
    outcome.notices.sort_by(|a, b| a.path.cmp(&b.path));
    outcome.stats.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    outcome
}

/// One repository's history. The path must be the repository itself: opening does not search upward,
/// so a missing repository inside another one is an error, not an audit of the enclosing one.
fn audit_one(
    scanner: Scanner<'_>,
    target: &Target,
    cfg: &AuditConfig,
) -> Result<(Arc<Repository>, ScanOutcome), ScanError> {
    let fail = |message: String| ScanError::new(ErrorKind::Repository, target.name.clone(), message);
    if !target.path.exists() {
        return Err(fail("No such file or directory".to_string()));
    }
    if !is_repository(&target.path) {
        return Err(fail("not a git repository".to_string()));
    }
    // GitError names the path itself; the error entry already does.
    let shown = format!("{}: ", target.path.display());
    let message = |e: &dyn std::fmt::Display| {
        let m = e.to_string();
        one_line(m.strip_prefix(&shown).unwrap_or(&m))
    };
    let repo = Repo::open(&target.path).map_err(|e| fail(message(&e)))?;
    // `Repo::open` searches upward; a damaged repository must not turn into its parent.
    // A bare repository is its git directory; a work tree (a linked worktree or a submodule too, whose
    // `.git` file points elsewhere) is the repository's work directory.
    let here = target.path.canonicalize().ok();
    let canonical = |p: Option<&Path>| p.and_then(|p| p.canonicalize().ok());
    let inside = here.is_some() && (canonical(Some(repo.git_dir())) == here || canonical(repo.workdir()) == here);
    if !inside {
        return Err(fail("not a git repository (or a damaged one)".to_string()));
    }
    let repository = Arc::new(Repository {
        path: target.name.clone(),
        origin: origin_url(repo.repository()),
    });
    let hcfg = HistoryConfig {
        selection: Selection::All,
        since: cfg.since,
        max_file_size: cfg.max_file_size,
        threads: cfg.threads,
        all_occurrences: cfg.all_occurrences,
        progress: false,
        state: None,
        shard: None,
    };
    let one = history::run(scanner, repo, &hcfg).map_err(|e| fail(message(&e)))?;
    Ok((repository, one))
}

fn one_line(s: &str) -> String {
    s.lines().map(str::trim).collect::<Vec<_>>().join(" ")
}

/// Adds one repository's errors, notices and counts; each error and notice names the repository.
fn absorb(outcome: &mut ScanOutcome, name: &str, one: &ScanOutcome) {
    outcome.errors.extend(
        one.errors
            .iter()
            .map(|e| ScanError::new(e.kind, format!("{name}: {}", e.path), e.message.clone())),
    );
    outcome.notices.extend(one.notices.iter().map(|n| Notice {
        path: format!("{name}: {}", n.path),
        message: n.message.clone(),
    }));
    outcome.stats.add_counts(&one.stats);
}

/// Folds audit findings into one finding per (rule, secret): the most severe place first (then by
/// repository), every other repository in [`AuditPlace::elsewhere`]. Order-independent: a single run and
/// a merge of shards give the same findings.
#[derive(Default)]
pub struct Fold {
    groups: HashMap<(String, String), Vec<Finding>>,
    /// History findings of no repository (`scan --history` reports in a merge), per (rule, secret): one
    /// report holds one each; reports over different blobs of one repository may each hold one.
    histories: HashMap<(String, String), Finding>,
    /// Other findings of no repository (working-tree scans in a merge): kept as they are.
    loose: Vec<Finding>,
}

impl Fold {
    pub fn add(&mut self, mut f: Finding) {
        let key = (f.rule.id.as_str().to_string(), f.fingerprint.as_str().to_string());
        let Some(place) = f.audit.as_mut() else {
            if f.history.is_none() {
                self.loose.push(f);
                return;
            }
            match self.histories.get_mut(&key) {
                Some(known) => merge_same_repository(known, f),
                None => {
                    self.histories.insert(key, f);
                }
            }
            return;
        };
        let elsewhere = std::mem::take(&mut place.elsewhere);
        let group = self.groups.entry(key).or_default();
        group.push(f);
        for other in elsewhere {
            group.push(other);
        }
    }

    pub fn finish(self) -> Vec<Finding> {
        let mut out = self.loose;
        out.extend(self.histories.into_values());
        for (_, group) in self.groups {
            out.push(fold_group(group));
        }
        crate::triage::finish(&mut out);
        out.sort_by(|a, b| {
            repo_of(a)
                .cmp(&repo_of(b))
                .then_with(|| a.sort_key().cmp(&b.sort_key()))
                .then_with(|| a.fingerprint.cmp(&b.fingerprint))
        });
        out
    }
}

fn repo_of(f: &Finding) -> Option<&Repository> {
    f.audit.as_ref().map(|a| &*a.repository)
}

/// One secret's findings (one or more per repository) into one finding.
fn fold_group(group: Vec<Finding>) -> Finding {
    let mut by_repo: Vec<(Arc<Repository>, Finding)> = Vec::new();
    for f in group {
        let Some(repo) = f.audit.as_ref().map(|a| a.repository.clone()) else {
            continue;
        };
        match by_repo.iter_mut().find(|(r, _)| *r == repo) {
            // The same repository in two reports: shards over the blobs of one repository.
            Some((_, known)) => merge_same_repository(known, f),
            None => by_repo.push((repo, f)),
        }
    }
    by_repo.sort_by(|a, b| (std::cmp::Reverse(a.1.severity), &a.0).cmp(&(std::cmp::Reverse(b.1.severity), &b.0)));
    let mut sightings = by_repo.into_iter().map(|(_, f)| f);
    let mut first = sightings.next().expect("a group holds at least one finding");
    let mut elsewhere: Vec<Finding> = sightings.collect();
    elsewhere.sort_by(|a, b| repo_of(a).cmp(&repo_of(b)));
    if let Some(place) = first.audit.as_mut() {
        place.elsewhere = elsewhere;
    }
    first
}

/// Two findings of one secret in one repository, from reports over different blobs of it (`--shard`):
/// [`history::merge_findings`] makes them what one run would have reported. The reports do not say whether
/// they ran with `--all-occurrences`; a list longer than the default limit says they did.
fn merge_same_repository(known: &mut Finding, other: Finding) {
    let long = |f: &Finding| {
        f.history
            .as_ref()
            .is_some_and(|h| h.occurrences.len() > history::OCCURRENCE_LIMIT)
    };
    let all = long(known) || long(&other);
    let mut merged = history::merge_findings(known, &other, all);
    merged.audit = known.audit.take().or(other.audit);
    *known = merged;
}

/// Counts for the audit summary: findings, keys still in HEAD of some repository, and keys verified live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub findings: usize,
    pub in_head: usize,
    pub live: usize,
    pub blocking_at: Option<Severity>,
}

/// Tallies findings (each with its other repositories).
pub fn tally(findings: &[Finding]) -> Tally {
    let mut t = Tally {
        findings: findings.len(),
        ..Tally::default()
    };
    for f in findings {
        let places = std::iter::once(f).chain(f.audit.iter().flat_map(|a| a.elsewhere.iter()));
        let places: Vec<&Finding> = places.collect();
        if places.iter().any(|p| p.history.as_ref().is_some_and(|h| h.in_head)) {
            t.in_head += 1;
        }
        if f.verification
            .as_ref()
            .is_some_and(|v| v.status == crate::verify::Status::Live)
        {
            t.live += 1;
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::finding::{Context, Exposure, Origin, Place, RuleId, RuleInfo, Secret, Snippet};

    fn found(repo: &str, severity: Severity, secret: &str) -> Finding {
        let rule = Arc::new(RuleInfo {
            id: RuleId::new("test-rule"),
            name: "Test".into(),
            severity,
            description: crate::rules::Text::default(),
            remediation: crate::rules::Text::default(),
            references: Arc::default(),
            tags: Arc::default(),
            keywords: Arc::default(),
        });
        let secret = Secret::new(secret.as_bytes());
        Finding {
            fingerprint: secret.fingerprint(&rule.id),
            rule,
            severity,
            path: format!("{repo}.txt"),
            line: 1,
            column: 1,
            end_column: 2,
            snippet: Snippet::default(),
            secret,
            origin: Origin::File,
            exposure: Exposure::Server,
            context: Context::Code,
            history: None,
            encoding: None,
            verification: None,
            place: Place::File,
            variable: None,
            binary: false,
            cell: None,
            partner: None,
            audit: Some(Box::new(AuditPlace {
                repository: Arc::new(Repository {
                    path: repo.into(),
                    origin: None,
                }),
                elsewhere: Vec::new(),
            })),
        }
    }

    fn shape(findings: &[Finding]) -> Vec<(String, Vec<String>)> {
        findings
            .iter()
            .map(|f| {
                let a = f.audit.as_ref().expect("audit finding");
                (
                    a.repository.path.clone(),
                    a.elsewhere
                        .iter()
                        .map(|e| repo_of(e).expect("repo").path.clone())
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn the_fold_is_one_finding_per_secret_whatever_the_order() {
        let all = [
            found("c", Severity::High, "secret-one-aaaaaaaa"),
            found("a", Severity::High, "secret-one-aaaaaaaa"),
            found("b", Severity::Critical, "secret-one-aaaaaaaa"),
            found("d", Severity::High, "secret-two-bbbbbbbb"),
        ];
        let expected = vec![
            ("b".to_string(), vec!["a".to_string(), "c".to_string()]),
            ("d".to_string(), vec![]),
        ];
        for order in [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2]] {
            let mut fold = Fold::default();
            for i in order {
                fold.add(all[i].clone());
            }
            let out = fold.finish();
            assert_eq!(shape(&out), expected, "{order:?}");
            // Folding finished findings again (a merge of one report) changes nothing.
            let mut again = Fold::default();
            for f in out {
                again.add(f);
            }
            assert_eq!(shape(&again.finish()), expected);
        }
    }

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            redact_url("https://user:ghp_secret@github.com/org/repo.git"),
            "https://***@github.com/org/repo.git"
        );
        assert_eq!(
            redact_url("https://x-access-token:tok@github.com/o/r"),
            "https://***@github.com/o/r"
        );
        assert_eq!(
            redact_url("https://ghp_token@github.com/o/r"),
            "https://***@github.com/o/r"
        );
        assert_eq!(redact_url("git@github.com:org/repo.git"), "git@github.com:org/repo.git");
        assert_eq!(redact_url("ssh://git@host/org/repo"), "ssh://git@host/org/repo");
        assert_eq!(redact_url("ssh://git:pw@host/org/repo"), "ssh://***@host/org/repo");
        assert_eq!(
            redact_url("https://host/org/repo?access_token=abc#x"),
            "https://host/org/repo?***"
        );
        assert_eq!(redact_url("/srv/git/repo.git"), "/srv/git/repo.git");
        assert_eq!(redact_url("https://github.com/o/r"), "https://github.com/o/r");
    }

    #[test]
    fn shards_partition_the_keys() {
        let keys: Vec<String> = (0..200).map(|i| format!("org/repo-{i}")).collect();
        let n = 4;
        let mut counts = [0usize; 4];
        for k in &keys {
            let owners: Vec<u32> = (0..n).filter(|&i| in_shard(k, Shard { index: i, count: n })).collect();
            assert_eq!(owners.len(), 1, "{k} belongs to exactly one shard");
            counts[owners[0] as usize] += 1;
        }
        // Not a balance guarantee, but no share is empty or holds nearly everything.
        assert!(counts.iter().all(|&c| c > 20 && c < 100), "{counts:?}");
        // Stable across runs and platforms: a fixed key's shard is pinned.
        let pinned: Vec<bool> = (0..4)
            .map(|i| in_shard("org/repo-0", Shard { index: i, count: 4 }))
            .collect();
        assert_eq!(pinned.iter().filter(|b| **b).count(), 1);
    }

    #[test]
    fn discovery_finds_bare_and_work_trees_once_and_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        fs::create_dir_all(root.join("b/.git")).expect("mkdir");
        fs::create_dir_all(root.join("a/nested/c.git/objects")).expect("mkdir");
        fs::create_dir_all(root.join("a/nested/c.git/refs")).expect("mkdir");
        fs::write(root.join("a/nested/c.git/HEAD"), "ref: refs/heads/main\n").expect("write");
        fs::create_dir_all(root.join("too/deep/for/the/search/d/.git")).expect("mkdir");
        #[cfg(unix)]
        std::os::unix::fs::symlink(root, root.join("a/loop")).expect("symlink");
        let (targets, errors) = discover(&[root.to_path_buf()], Some("# comment\n\n"), 3);
        assert!(errors.is_empty(), "{errors:?}");
        let keys: Vec<&str> = targets.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys, ["a/nested/c.git", "b"]);
        let (_, errors) = discover(&[root.join("missing")], None, 3);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].message, "No such file or directory");
    }
}
