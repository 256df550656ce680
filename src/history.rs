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
use rayon::prelude::*;

use crate::engine::{Engine, Scratch};
use crate::finding::{redact, CommitInfo, Finding, History, Notice, Occurrence, Origin, ScanError, Secret};
use crate::scan::ScanOutcome;
use crate::source::git::{self, BlobProvenance, GitError, Inventory, Repo, Selection};
use crate::source::text;
use crate::triage;
use crate::{decode, locate};

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
}

/// Scans the history of the repository at or above `path`. Fails only when the repository cannot be
/// opened or the ref/range cannot be resolved; unreadable objects become `errors` entries.
pub fn run(engine: &Engine, repo: Repo, cfg: &HistoryConfig) -> Result<ScanOutcome, GitError> {
    match rayon::ThreadPoolBuilder::new().num_threads(cfg.threads).build() {
        Ok(pool) => pool.install(move || run_in_pool(engine, &repo, cfg)),
        Err(_) => run_in_pool(engine, &repo, cfg),
    }
}

fn run_in_pool(engine: &Engine, repo: &Repo, cfg: &HistoryConfig) -> Result<ScanOutcome, GitError> {
    let started = Instant::now();
    let mut outcome = ScanOutcome::default();

    // Commit messages are scanned as the walk meets them: a key pasted into a message is a leak too.
    let (inv, message_hits) = repo.inventory(
        &cfg.selection,
        cfg.since,
        || engine.scratch(),
        |scratch, msg| {
            let matches = engine.scan(msg, scratch);
            let mut found = Vec::new();
            if !matches.is_empty() {
                locate::findings(engine, MESSAGE_PATH, &Origin::File, msg, matches, &mut found);
            }
            decode::findings(engine, scratch, MESSAGE_PATH, &Origin::File, msg, &mut found, 0);
            (!found.is_empty()).then_some(found)
        },
    )?;
    outcome.errors.extend(inv.errors.iter().cloned());
    outcome.notices.extend(inv.notices.iter().cloned());
    outcome.stats.commits = inv.commits.len() as u64;

    let scanned = scan_blobs(engine, repo, &inv, cfg);
    let mut scratch = engine.scratch();
    let mut groups: HashMap<(String, String), Group> = HashMap::new();
    for (blob, result) in inv.blobs.iter().zip(scanned) {
        match result {
            BlobResult::Scanned { bytes, findings, lfs } => {
                outcome.stats.files += 1;
                outcome.stats.bytes += bytes;
                if lfs {
                    outcome.notices.push(Notice {
                        path: first_path(&inv, blob),
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
            BlobResult::TooLarge(size) => {
                outcome.stats.skipped += 1;
                outcome.stats.skipped_large += 1;
                outcome.notices.push(Notice {
                    path: first_path(&inv, blob),
                    message: format!(
                        "skipped blob {}: {size} bytes is over --max-file-size ({} bytes)",
                        blob.id, cfg.max_file_size
                    ),
                });
            }
            BlobResult::Unreadable(message) => {
                let commit = blob
                    .places
                    .first()
                    .and_then(|p| inv.commits.get(p.commit as usize))
                    .map_or_else(String::new, Oid::to_string);
                outcome.errors.push(ScanError {
                    path: format!("blob {}", blob.id),
                    message: format!(
                        "cannot read blob {} at {} (commit {commit}): {message}",
                        blob.id,
                        first_path(&inv, blob)
                    ),
                });
            }
        }
    }
    for (commit, findings) in message_hits {
        for f in findings {
            add(&mut groups, f, vec![(commit, None)], None);
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
            engine,
            repo,
            &inv,
            group,
            &head,
            range,
            cfg.all_occurrences,
            &mut scratch,
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
            let summary = redact_known(&info.summary, &secrets);
            if summary != info.summary {
                let mut changed = CommitInfo::clone(info);
                changed.summary = summary;
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

fn first_path(inv: &Inventory, blob: &BlobProvenance) -> String {
    blob.places
        .first()
        .and_then(|p| inv.paths.get(p.path as usize))
        .cloned()
        .unwrap_or_default()
}

enum BlobResult {
    Scanned {
        bytes: u64,
        findings: Vec<Finding>,
        lfs: bool,
    },
    Binary,
    TooLarge(u64),
    Unreadable(String),
}

struct Worker {
    repo: Result<Repository, String>,
    scratch: Scratch,
    decoded: Vec<u8>,
}

/// Reads and scans every unique blob once, in parallel; one repository handle per worker thread.
fn scan_blobs(engine: &Engine, repo: &Repo, inv: &Inventory, cfg: &HistoryConfig) -> Vec<BlobResult> {
    let git_dir = repo.git_dir();
    inv.blobs
        .par_iter()
        .map_init(
            || Worker {
                repo: git::open_dir(git_dir).map_err(|e| e.to_string()),
                scratch: engine.scratch(),
                decoded: Vec::new(),
            },
            |w, blob| scan_blob(engine, inv, cfg, w, blob),
        )
        .collect()
}

fn scan_blob(
    engine: &Engine,
    inv: &Inventory,
    cfg: &HistoryConfig,
    w: &mut Worker,
    blob: &BlobProvenance,
) -> BlobResult {
    let repo = match &w.repo {
        Ok(r) => r,
        Err(e) => return BlobResult::Unreadable(e.clone()),
    };
    let (scratch, decoded) = (&mut w.scratch, &mut w.decoded);
    let read = git::with_blob(repo, blob.id, cfg.max_file_size, |raw| {
        let bytes: &[u8] = if text::looks_binary(raw) {
            if text::decode_utf16(raw, decoded) {
                decoded
            } else {
                return BlobResult::Binary;
            }
        } else {
            raw
        };
        let lfs = bytes.starts_with(b"version https://git-lfs.github.com/spec/");
        let mut findings = Vec::new();
        let matches = engine.scan(bytes, scratch);
        if !matches.is_empty() || !scratch.encoded_hits().is_empty() {
            let path = first_path(inv, blob);
            let matches = scratch.matches();
            if !matches.is_empty() {
                locate::findings(engine, &path, &Origin::File, bytes, matches, &mut findings);
            }
            decode::findings(engine, scratch, &path, &Origin::File, bytes, &mut findings, 0);
        }
        BlobResult::Scanned {
            bytes: bytes.len() as u64,
            findings,
            lfs,
        }
    });
    match read {
        Ok(Some(result)) => result,
        Ok(None) => BlobResult::TooLarge(git::blob_size(repo, blob.id)),
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
    engine: &Engine,
    repo: &Repo,
    inv: &Inventory,
    mut group: Group,
    head: &HashSet<Oid>,
    range: bool,
    all_occurrences: bool,
    scratch: &mut Scratch,
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
                    .any(|b| blob_fingerprints(engine, repo.repository(), b, scratch, parent_cache).contains(&fp))
            });
        }
    }
    let in_head = group.cands.iter().any(|c| c.blob.is_some_and(|b| head.contains(&b)));
    let mut occ: Vec<(u32, Option<u32>, usize)> = group
        .cands
        .iter()
        .flat_map(|c| {
            c.places
                .iter()
                .map(move |&(commit, path)| (commit, path, c.finding.line))
        })
        .collect();
    // Earliest commit first; within a commit, a file beats the message (a key committed with a message
    // that quotes it is reported where it sits in the tree).
    occ.sort_unstable_by_key(|&(commit, path, line)| (commit, path.is_none(), path, line));
    occ.dedup();
    let &first = occ.first()?;
    let cand = group.cands.into_iter().find(|c| {
        c.places
            .iter()
            .any(|&(commit, path)| (commit, path) == (first.0, first.1))
            && c.finding.line == first.2
    })?;
    let mut f = cand.finding;
    f.path = match first.1 {
        Some(p) => inv.paths.get(p as usize).cloned().unwrap_or_default(),
        None => MESSAGE_PATH.to_string(),
    };
    let info = commit_info(engine, repo.repository(), inv, first.0, scratch, infos);
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
        .map(|&(commit, path, line)| Occurrence {
            commit: inv
                .commits
                .get(commit as usize)
                .map_or_else(String::new, Oid::to_string),
            path: match path {
                Some(p) => inv.paths.get(p as usize).cloned().unwrap_or_default(),
                None => MESSAGE_PATH.to_string(),
            },
            line,
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
    engine: &Engine,
    repo: &Repository,
    blob: Oid,
    scratch: &mut Scratch,
    cache: &'c mut HashMap<Oid, Vec<String>>,
) -> &'c Vec<String> {
    cache.entry(blob).or_insert_with(|| {
        git::with_blob(repo, blob, u64::MAX, |data| {
            engine
                .scan(data, scratch)
                .iter()
                .filter_map(|m| {
                    let secret = Secret::new(data.get(m.start..m.end)?);
                    Some(secret.fingerprint(&engine.rule(m.rule).info.id).as_str().to_string())
                })
                .collect()
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
    scratch: &mut Scratch,
    cache: &mut HashMap<u32, Arc<CommitInfo>>,
) -> Option<Arc<CommitInfo>> {
    if let Some(info) = cache.get(&idx) {
        return Some(info.clone());
    }
    let oid = *inv.commits.get(idx as usize)?;
    let meta = git::commit_meta(repo, oid)?;
    let summary = redact_matches(engine, &meta.summary, scratch);
    let info = Arc::new(CommitInfo {
        sha: meta.sha,
        author: meta.author,
        email: meta.email,
        date: meta.date,
        summary,
    });
    cache.insert(idx, info.clone());
    Some(info)
}

/// `text` with every span the engine matches replaced by its redacted form.
fn redact_matches(engine: &Engine, text: &str, scratch: &mut Scratch) -> String {
    let bytes = text.as_bytes();
    let matches = engine.scan(bytes, scratch);
    if matches.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for m in matches {
        if m.start < pos || m.end > bytes.len() {
            continue;
        }
        out.push_str(&String::from_utf8_lossy(&bytes[pos..m.start]));
        out.push_str(&redact(&String::from_utf8_lossy(&bytes[m.start..m.end])));
        pos = m.end;
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
