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
use crate::source::pack::{Location, PackSet, PooledReader, ReaderPool};
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
            BlobResult::Scanned { bytes, findings, lfs } => {
                outcome.stats.files += 1;
                outcome.stats.bytes += bytes;
                if lfs {
                    outcome.notices.push(Notice {
                        path: first_path(&inv, blob).to_string(),
                        message: "Git LFS pointer: the file's content is stored outside git and was not scanned"
                            .to_string(),
                    });
                }
                for f in findings {
                    let places = blob.places.iter().map(|p| (p.commit, Some(p.path))).collect();
                    add(&mut groups, f, places, Some(blob.id));
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

struct BlobWorker<'p, 's> {
    /// Opened on the first blob the packs cannot give (a loose, missing or damaged one).
    repo: Option<Result<Repository, String>>,
    packs: PooledReader<'p, 's>,
    worker: Worker,
}

/// Reads and scans every unique blob once, in parallel.
///
/// Blobs are read in pack order straight from the pack files ([`pack::PackReader`]): git writes a delta
/// family together, base first, so each worker's cache of recently built objects serves almost every
/// base and each object is inflated about once. The ordered list is split into runs of neighbours, and
/// rayon hands each thread long stretches of it, so a thread's cache stays warm. What the packs cannot
/// give (loose objects, promisor gaps, damage, deltas by id) is read through libgit2, which also words
/// the error for an object that cannot be read at all.
fn scan_blobs(
    scanner: Scanner<'_>,
    repo: &Repo,
    inv: &Inventory,
    cfg: &HistoryConfig,
    progress: Option<&ProgressBar>,
) -> Vec<BlobResult> {
    let git_dir = repo.git_dir();
    let (packs, located) = PackSet::load(git_dir, inv.blobs.iter().map(|b| &b.id));
    let mut order: Vec<(Option<Location>, usize)> = located.into_iter().enumerate().map(|(i, at)| (at, i)).collect();
    // Loose and unlocated blobs (None) first, then by pack and offset.
    order.sort_unstable();
    let pool = ReaderPool::new(&packs);
    let mut results: Vec<(usize, BlobResult)> = order
        .par_chunks(RUN)
        .map_init(
            || BlobWorker {
                repo: None,
                packs: pool.get(),
                worker: scanner.worker(),
            },
            |w, run| {
                let done: Vec<_> = run
                    .iter()
                    .map(|&(at, i)| (i, scan_blob(scanner, inv, cfg, git_dir, w, &inv.blobs[i], at)))
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
const RUN: usize = 256;

fn scan_blob(
    scanner: Scanner<'_>,
    inv: &Inventory,
    cfg: &HistoryConfig,
    git_dir: &std::path::Path,
    w: &mut BlobWorker<'_, '_>,
    blob: &BlobProvenance,
    at: Option<Location>,
) -> BlobResult {
    let path = first_path(inv, blob);
    let worker = &mut w.worker;
    let mut findings = Vec::new();
    let done = |scanned: Scanned, findings: Vec<Finding>, lfs: bool| match scanned {
        Scanned::Text(bytes) => BlobResult::Scanned { bytes, findings, lfs },
        Scanned::Binary => BlobResult::Binary,
    };
    // A blob over --max-file-size is still scanned, in windows, so the scan's own memory stays bounded.
    let window = usize::try_from(cfg.max_file_size).unwrap_or(usize::MAX);
    let mut scan_bytes = |raw: &[u8], findings: &mut Vec<Finding>| -> Result<(Scanned, bool), String> {
        if raw.len() > window {
            let scanned = scanner
                .scan_reader(worker, path, &Origin::File, &mut &raw[..], window, findings)
                .map_err(|e| e.to_string())?;
            return Ok((scanned, false));
        }
        let scanned = scanner.scan(worker, path, &Origin::File, raw, findings);
        Ok((scanned, raw.starts_with(b"version https://git-lfs.github.com/spec/")))
    };
    if let Some(at) = at {
        match w.packs.reader().with_object(at, |raw| scan_bytes(raw, &mut findings)) {
            Ok(Ok((scanned, lfs))) => return done(scanned, findings, lfs),
            Ok(Err(e)) => return BlobResult::Unreadable(e),
            // Not readable from the pack here: libgit2 reads it, or says why it cannot.
            Err(_) => findings.clear(),
        }
    }
    let repo = match w
        .repo
        .get_or_insert_with(|| git::open_dir(git_dir).map_err(|e| e.to_string()))
    {
        Ok(r) => r,
        Err(e) => return BlobResult::Unreadable(e.clone()),
    };
    match git::with_blob(repo, blob.id, u64::MAX, |raw| scan_bytes(raw, &mut findings)) {
        Ok(Some(Ok((scanned, lfs)))) => done(scanned, findings, lfs),
        Ok(Some(Err(e))) => BlobResult::Unreadable(e),
        Ok(None) => BlobResult::Unreadable("blob vanished while reading".to_string()),
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
}

fn add(groups: &mut HashMap<(String, String), Group>, f: Finding, places: Vec<(u32, Option<u32>)>, blob: Option<Oid>) {
    let key = (f.rule.id.as_str().to_string(), f.fingerprint.as_str().to_string());
    groups
        .entry(key)
        .or_insert_with(|| Group { cands: Vec::new() })
        .cands
        .push(Candidate {
            finding: f,
            places,
            blob,
        });
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
    let mut occ: Vec<(u32, Option<u32>, usize, usize)> = group
        .cands
        .iter()
        .flat_map(|c| {
            c.places
                .iter()
                .map(move |&(commit, path)| (commit, path, c.finding.line, c.finding.column))
        })
        .collect();
    // Earliest commit first; within a commit, a file beats the message (a key committed with a message
    // that quotes it is reported where it sits in the tree).
    occ.sort_unstable_by_key(|&(commit, path, line, column)| (commit, path.is_none(), path, line, column));
    occ.dedup();
    let &first = occ.first()?;
    let cand = group.cands.into_iter().find(|c| {
        c.places
            .iter()
            .any(|&(commit, path)| (commit, path) == (first.0, first.1))
            && (c.finding.line, c.finding.column) == (first.2, first.3)
    })?;
    let mut f = cand.finding;
    f.path = match first.1 {
        Some(p) => inv.paths.get(p as usize).cloned().unwrap_or_default(),
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
        .map(|&(commit, path, line, column)| Occurrence {
            commit: inv
                .commits
                .get(commit as usize)
                .map_or_else(String::new, Oid::to_string),
            path: match path {
                Some(p) => inv.paths.get(p as usize).cloned().unwrap_or_default(),
                None => MESSAGE_PATH.to_string(),
            },
            place: match path {
                Some(_) => crate::finding::Place::File,
                None => crate::finding::Place::CommitMessage,
            },
            line,
            column,
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
