//! A whole-history audit: list the blobs each commit introduced (`source::git`), read and scan each unique
//! blob once in parallel, scan commit messages, then fold matches into one finding per (rule, secret):
//! the earliest commit that brought it in, every other place it came in, and whether HEAD still has it.
//!
//! Memory holds blob ids and their places, never blob contents: each worker reads one blob at a time with
//! its own repository handle, so what is in flight is bounded by the threads times the largest blob.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Instant,
};

use git2::{Oid, Repository};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use super::{ScanOutcome, Scanned, Scanner, Worker};
use crate::engine::Engine;
use crate::finding::{redact, CommitInfo, ErrorKind, Finding, History, Notice, Occurrence, Origin, ScanError, Secret};
use crate::source::git::{self, BlobProvenance, GitError, Inventory, Repo, Selection};
use crate::triage;

/// The path shown for a secret found in a commit message.
pub const MESSAGE_PATH: &str = "(commit message)";

/// How many other places a finding lists unless `--all-occurrences`.
pub const OCCURRENCE_LIMIT: usize = 20;

/// What a history scan needs, resolved from the command line once.
#[derive(Clone, Debug)]
pub struct HistoryConfig {
    pub selection: Selection,
    /// Skip commits older than this (Unix seconds).
    pub since: Option<i64>,
    pub max_file_size: u64,
    /// Worker threads; 0 picks one per core.
    pub threads: usize,
    /// List every place instead of the first [`OCCURRENCE_LIMIT`].
    pub all_occurrences: bool,
    /// Show progress on stderr (only ever true for an attended terminal, never in CI).
    pub progress: bool,
}

/// Scans the history of the repository at or above `path`. Fails only when the repository cannot be
/// opened or the ref/range cannot be resolved; unreadable objects become `errors` entries.
pub fn run(scanner: Scanner<'_>, repo: Repo, cfg: &HistoryConfig) -> Result<ScanOutcome, GitError> {
    match rayon::ThreadPoolBuilder::new().num_threads(cfg.threads).build() {
        Ok(pool) => pool.install(move || run_in_pool(scanner, &repo, cfg)),
        Err(_) => run_in_pool(scanner, &repo, cfg),
    }
}

fn run_in_pool(scanner: Scanner<'_>, repo: &Repo, cfg: &HistoryConfig) -> Result<ScanOutcome, GitError> {
    let started = Instant::now();
    let mut outcome = ScanOutcome::default();

    // Commit messages are scanned as the walk meets them, by the same recipe as files: a key pasted into
    // a message is a leak too.
    let progress = cfg.progress.then(|| {
        let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(8));
        pb.set_style(
            ProgressStyle::with_template("{spinner} history: {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.enable_steady_tick(std::time::Duration::from_millis(125));
        pb
    });
    let on_commits = |n: usize| {
        if let Some(p) = &progress {
            p.set_message(format!("{n} commits compared"));
        }
    };
    let (mut inv, message_hits) = repo.inventory(
        &cfg.selection,
        cfg.since,
        &on_commits,
        || scanner.worker(),
        |worker, msg| {
            let mut found = Vec::new();
            scanner.scan_text(worker, MESSAGE_PATH, &Origin::File, msg, &mut found);
            (!found.is_empty()).then_some(found)
        },
    )?;
    prune(&mut inv, scanner.policy);
    outcome.errors.extend(inv.errors.iter().cloned());
    outcome.notices.extend(inv.notices.iter().cloned());
    outcome.stats.commits = inv.commits.len() as u64;

    if let Some(p) = &progress {
        p.set_style(
            ProgressStyle::with_template("{spinner} history: {pos}/{len} blobs scanned, {msg} [{elapsed}, {per_sec}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        p.set_length(inv.blobs.len() as u64);
        p.set_message(format!("{} commits", inv.commits.len()));
    }
    let scanned = scan_blobs(scanner, repo, &inv, cfg, progress.as_ref());
    if let Some(p) = &progress {
        p.finish_and_clear();
    }
    let mut worker = scanner.worker();
    let mut groups: HashMap<(String, String), Group> = HashMap::new();
    for (blob, result) in inv.blobs.iter().zip(scanned) {
        match result {
            BlobResult::Scanned {
                bytes,
                findings,
                lfs,
                errors,
            } => {
                outcome
                    .errors
                    .extend(errors.into_iter().map(|e| in_blob(e, &inv, blob)));
                outcome.stats.files += 1;
                outcome.stats.bytes += bytes;
                if lfs {
                    outcome.notices.push(Notice {
                        path: first_path(&inv, blob).to_string(),
                        message: "Git LFS pointer: the file's content is stored outside git and was not scanned"
                            .to_string(),
                    });
                }
                let scanned_at = first_path(&inv, blob);
                for f in findings {
                    let places = blob.places.iter().map(|p| (p.commit, Some(p.path))).collect();
                    // An archive member keeps its name inside the blob at every place the blob is.
                    let member = f
                        .path
                        .strip_prefix(scanned_at)
                        .filter(|m| m.starts_with('!'))
                        .map(str::to_string);
                    add(&mut groups, f, places, Some(blob.id)).member = member;
                }
            }
            BlobResult::Binary => {
                outcome.stats.skipped += 1;
                outcome.stats.skipped_binary += 1;
            }
            BlobResult::Unreadable(message) => {
                let commit = blob
                    .places
                    .first()
                    .and_then(|p| inv.commits.get(p.commit as usize))
                    .map_or_else(String::new, Oid::to_string);
                outcome.errors.push(ScanError::new(
                    ErrorKind::Object,
                    format!("blob {}", blob.id),
                    format!(
                        "cannot read blob {} at {} (commit {commit}): {message}",
                        blob.id,
                        first_path(&inv, blob)
                    ),
                ));
            }
        }
    }
    for (commit, findings) in message_hits.commits {
        for f in findings {
            add(&mut groups, f, vec![(commit, None)], None);
        }
    }
    // A tag message is located by its tag: the place is the label `refs/tags/NAME (tag message)`.
    for (label, findings) in message_hits.tags {
        for f in findings {
            add(&mut groups, f, vec![(git::NO_COMMIT, Some(label))], None);
        }
    }

    let range = matches!(cfg.selection, Selection::Range(_));
    let head = repo.head_blobs();
    let mut infos: HashMap<u32, Arc<CommitInfo>> = HashMap::new();
    let mut parent_cache: HashMap<Oid, Vec<String>> = HashMap::new();
    let mut keyed: Vec<_> = groups.into_iter().collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, group) in keyed {
        let finding = finish_group(
            scanner,
            repo,
            &inv,
            group,
            &head,
            range,
            cfg.all_occurrences,
            &mut worker,
            &mut infos,
            &mut parent_cache,
        );
        if let Some(f) = finding {
            outcome.findings.push(f);
        }
    }

    // A summary holds the secret when the key was pasted into the message; every summary printed is
    // redacted for every secret this scan found, whatever rule matched it.
    let secrets: Vec<Secret> = outcome.findings.iter().map(|f| f.secret.clone()).collect();
    for f in &mut outcome.findings {
        if let Origin::Commit(info) = &f.origin {
            let changed = CommitInfo {
                author: redact_known(&info.author, &secrets),
                email: redact_known(&info.email, &secrets),
                summary: redact_known(&info.summary, &secrets),
                ..CommitInfo::clone(info)
            };
            if changed != **info {
                f.origin = Origin::Commit(Arc::new(changed));
            }
        }
    }

    triage::finish(&mut outcome.findings);
    outcome.errors.sort_by(|a, b| a.path.cmp(&b.path));
    outcome.notices.sort_by(|a, b| a.path.cmp(&b.path));
    outcome.notices.dedup();
    outcome.stats.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(outcome)
}

/// An archive member's error from a history blob: it names the member and says which blob and commit.
fn in_blob(mut e: ScanError, inv: &Inventory, blob: &BlobProvenance) -> ScanError {
    let commit = blob
        .places
        .first()
        .and_then(|p| inv.commits.get(p.commit as usize))
        .map_or_else(String::new, Oid::to_string);
    e.message = format!("{} (blob {}, commit {commit})", e.message, blob.id);
    e
}

fn first_path<'i>(inv: &'i Inventory, blob: &BlobProvenance) -> &'i str {
    blob.places
        .first()
        .and_then(|p| inv.paths.get(p.path as usize))
        .map_or("", String::as_str)
}

enum BlobResult {
    Scanned {
        bytes: u64,
        findings: Vec<Finding>,
        lfs: bool,
        /// What could not be read inside the blob when it is an archive.
        errors: Vec<ScanError>,
    },
    Binary,
    Unreadable(String),
}

/// Drops the places whose path the config allowlists whole (as the working-tree walk never reads such a
/// file), and the blobs left with no place: the first remaining place is then one that may report.
fn prune(inv: &mut Inventory, policy: &triage::Policy) {
    if policy.allowlists.is_empty() {
        return;
    }
    let pruned: Vec<bool> = inv.paths.iter().map(|p| policy.prunes(p)).collect();
    if !pruned.contains(&true) {
        return;
    }
    for blob in &mut inv.blobs {
        blob.places
            .retain(|p| !pruned.get(p.path as usize).copied().unwrap_or(false));
    }
    inv.blobs.retain(|b| !b.places.is_empty());
}

struct BlobWorker {
    repo: Result<Repository, String>,
    worker: Worker,
}

/// Reads and scans every unique blob once, in parallel; one repository handle per worker thread.
fn scan_blobs(
    scanner: Scanner<'_>,
    repo: &Repo,
    inv: &Inventory,
    cfg: &HistoryConfig,
    progress: Option<&ProgressBar>,
) -> Vec<BlobResult> {
    let git_dir = repo.git_dir();
    // Blobs are read in pack order, in runs of neighbours per task: a delta chain's base is then inflated
    // once and reused from libgit2's delta-base cache by the blobs right after it.
    let packs = git::PackOrder::load(git_dir);
    let mut order: Vec<(usize, u64, usize)> = inv
        .blobs
        .iter()
        .enumerate()
        .map(|(i, b)| match packs.position(b.id) {
            Some((pack, offset)) => (pack, offset, i),
            None => (usize::MAX, 0, i),
        })
        .collect();
    order.sort_unstable();
    drop(packs);
    let mut results: Vec<(usize, BlobResult)> = order
        .par_chunks(RUN)
        .map_init(
            || BlobWorker {
                repo: git::open_dir(git_dir).map_err(|e| e.to_string()),
                worker: scanner.worker(),
            },
            |w, run| {
                let done: Vec<_> = run
                    .iter()
                    .map(|&(_, _, i)| (i, scan_blob(scanner, inv, cfg, w, &inv.blobs[i])))
                    .collect();
                if let Some(p) = progress {
                    p.inc(done.len() as u64);
                }
                done
            },
        )
        .flatten()
        .collect();
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// How many pack-order neighbours one task reads in a row.
const RUN: usize = 64;

fn scan_blob(
    scanner: Scanner<'_>,
    inv: &Inventory,
    cfg: &HistoryConfig,
    w: &mut BlobWorker,
    blob: &BlobProvenance,
) -> BlobResult {
    let repo = match &w.repo {
        Ok(r) => r,
        Err(e) => return BlobResult::Unreadable(e.clone()),
    };
    let worker = &mut w.worker;
    let path = first_path(inv, blob);
    let mut findings = Vec::new();
    let done = |scanned: Scanned, findings: Vec<Finding>, lfs: bool, errors: Vec<ScanError>| match scanned {
        Scanned::Text(bytes) => BlobResult::Scanned {
            bytes,
            findings,
            lfs,
            errors,
        },
        Scanned::Binary => BlobResult::Binary,
    };
    let read = git::with_blob(repo, blob.id, cfg.max_file_size, |raw| {
        let scanned = scanner.scan(worker, path, &Origin::File, raw, &mut findings);
        (scanned, raw.starts_with(b"version https://git-lfs.github.com/spec/"))
    });
    match read {
        Ok(Some((scanned, lfs))) => done(scanned, findings, lfs, worker.take_errors()),
        // Over --max-file-size: libgit2 inflates a blob whole, but it is scanned in windows, so the
        // scan's own memory stays bounded (and nothing is skipped).
        Ok(None) => {
            let window = usize::try_from(cfg.max_file_size).unwrap_or(usize::MAX);
            let read = git::with_blob(repo, blob.id, u64::MAX, |raw| {
                scanner.scan_reader(worker, path, &Origin::File, &mut &raw[..], window, &mut findings)
            });
            match read {
                Ok(Some(Ok(scanned))) => done(scanned, findings, false, worker.take_errors()),
                Ok(Some(Err(e))) => BlobResult::Unreadable(e.to_string()),
                Ok(None) => BlobResult::Unreadable("blob vanished while reading".to_string()),
                Err(e) => BlobResult::Unreadable(e),
            }
        }
        Err(e) => BlobResult::Unreadable(e),
    }
}

/// One secret of one rule, as found in each blob or message that holds it.
struct Group {
    cands: Vec<Candidate>,
}

struct Candidate {
    finding: Finding,
    /// (commit index, path index; None for a commit message).
    places: Vec<(u32, Option<u32>)>,
    blob: Option<Oid>,
    /// `!inner/path` when the finding is in a member of the archive the blob is.
    member: Option<String>,
}

fn add(
    groups: &mut HashMap<(String, String), Group>,
    f: Finding,
    places: Vec<(u32, Option<u32>)>,
    blob: Option<Oid>,
) -> &mut Candidate {
    let key = (f.rule.id.as_str().to_string(), f.fingerprint.as_str().to_string());
    let cands = &mut groups.entry(key).or_insert_with(|| Group { cands: Vec::new() }).cands;
    cands.push(Candidate {
        finding: f,
        places,
        blob,
        member: None,
    });
    cands.last_mut().expect("a candidate was just pushed")
}

#[allow(clippy::too_many_arguments)]
fn finish_group(
    scanner: Scanner<'_>,
    repo: &Repo,
    inv: &Inventory,
    mut group: Group,
    head: &HashSet<Oid>,
    range: bool,
    all_occurrences: bool,
    worker: &mut Worker,
    infos: &mut HashMap<u32, Arc<CommitInfo>>,
    parent_cache: &mut HashMap<Oid, Vec<String>>,
) -> Option<Finding> {
    if range {
        // A range reports what its commits introduced: a place whose parent already had the secret at the
        // same path is an edit of a file that held the key before the range, not a new leak.
        for c in &mut group.cands {
            let fp = c.finding.fingerprint.as_str().to_string();
            c.places.retain(|&(commit, path)| {
                let (Some(path), Some(&oid)) = (path, inv.commits.get(commit as usize)) else {
                    return true;
                };
                let Some(path) = inv.paths.get(path as usize) else {
                    return true;
                };
                !repo
                    .parent_blobs(oid, path)
                    .into_iter()
                    .any(|b| blob_fingerprints(scanner, repo.repository(), b, worker, parent_cache).contains(&fp))
            });
        }
    }
    let in_head = group.cands.iter().any(|c| c.blob.is_some_and(|b| head.contains(&b)));
    let mut occ: Vec<(u32, Option<u32>, usize, usize, String)> = group
        .cands
        .iter()
        .flat_map(|c| {
            let member = c.member.clone().unwrap_or_default();
            c.places
                .iter()
                .map(move |&(commit, path)| (commit, path, c.finding.line, c.finding.column, member.clone()))
        })
        .collect();
    // Earliest commit first; within a commit, a file beats the message (a key committed with a message
    // that quotes it is reported where it sits in the tree).
    occ.sort_unstable_by(|a, b| {
        (a.0, a.1.is_none(), a.1, &a.4, a.2, a.3).cmp(&(b.0, b.1.is_none(), b.1, &b.4, b.2, b.3))
    });
    occ.dedup();
    let first = occ.first()?.clone();
    let first_member = first.4.clone();
    let cand = group.cands.into_iter().find(|c| {
        c.places
            .iter()
            .any(|&(commit, path)| (commit, path) == (first.0, first.1))
            && (c.finding.line, c.finding.column) == (first.2, first.3)
            && c.member.as_deref().unwrap_or("") == first_member
    })?;
    let mut f = cand.finding;
    f.path = match first.1 {
        Some(p) => inv.paths.get(p as usize).cloned().unwrap_or_default() + &first_member,
        None => {
            f.place = crate::finding::Place::CommitMessage;
            MESSAGE_PATH.to_string()
        }
    };
    let info = commit_info(scanner.engine, repo.repository(), inv, first.0, infos);
    f.origin = match info {
        Some(info) => Origin::Commit(info),
        None => Origin::File,
    };
    let count = occ.len();
    let shown = if all_occurrences { usize::MAX } else { OCCURRENCE_LIMIT };
    let occurrences = occ
        .iter()
        .skip(1)
        .take(shown)
        .map(|(commit, path, line, column, member)| Occurrence {
            commit: inv
                .commits
                .get(*commit as usize)
                .map_or_else(String::new, Oid::to_string),
            path: match path {
                Some(p) => inv.paths.get(*p as usize).cloned().unwrap_or_default() + member,
                None => MESSAGE_PATH.to_string(),
            },
            place: match path {
                Some(_) => crate::finding::Place::File,
                None => crate::finding::Place::CommitMessage,
            },
            line: *line,
            column: *column,
        })
        .collect();
    f.history = Some(History {
        in_head,
        occurrence_count: count,
        occurrences,
    });
    Some(f)
}

/// Fingerprints of every secret in a blob (cached): the range filter's "was it there before?".
fn blob_fingerprints<'c>(
    scanner: Scanner<'_>,
    repo: &Repository,
    blob: Oid,
    worker: &mut Worker,
    cache: &'c mut HashMap<Oid, Vec<String>>,
) -> &'c Vec<String> {
    cache.entry(blob).or_insert_with(|| {
        git::with_blob(repo, blob, u64::MAX, |data| {
            let mut found = Vec::new();
            scanner.scan(worker, "", &Origin::File, data, &mut found);
            // Only the fingerprints matter here: the blob's own scan reported its archive errors.
            drop(worker.take_errors());
            found.iter().map(|f| f.fingerprint.as_str().to_string()).collect()
        })
        .ok()
        .flatten()
        .unwrap_or_default()
    })
}

/// The commit's metadata, its summary redacted for whatever the engine finds in it.
fn commit_info(
    engine: &Engine,
    repo: &Repository,
    inv: &Inventory,
    idx: u32,
    cache: &mut HashMap<u32, Arc<CommitInfo>>,
) -> Option<Arc<CommitInfo>> {
    if let Some(info) = cache.get(&idx) {
        return Some(info.clone());
    }
    let oid = *inv.commits.get(idx as usize)?;
    let meta = git::commit_meta(repo, oid)?;
    // A message, and even an author name or e-mail, is text anyone could type a key into.
    let info = Arc::new(CommitInfo {
        sha: meta.sha,
        author: redact_matches(engine, &meta.author),
        email: redact_matches(engine, &meta.email),
        date: meta.date,
        summary: redact_matches(engine, &meta.summary),
    });
    cache.insert(idx, info.clone());
    Some(info)
}

/// `text` with every candidate secret of any rule (active or not, whatever its filters say) replaced by
/// its redacted form.
fn redact_matches(engine: &Engine, text: &str) -> String {
    let bytes = text.as_bytes();
    let spans = engine.candidates(bytes);
    if spans.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (start, end) in spans {
        if start < pos || end > bytes.len() {
            continue;
        }
        out.push_str(&String::from_utf8_lossy(&bytes[pos..start]));
        out.push_str(&redact(&String::from_utf8_lossy(&bytes[start..end])));
        pos = end;
    }
    out.push_str(&String::from_utf8_lossy(&bytes[pos..]));
    out
}

/// `text` with every known secret replaced by its redacted form.
fn redact_known(text: &str, secrets: &[Secret]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if !s.expose().is_empty() && out.contains(s.expose()) {
            out = out.replace(s.expose(), &s.redacted());
        }
    }
    out
}
