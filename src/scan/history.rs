//! A whole-history audit: list the blobs each commit introduced (`source::git`), read and scan each unique
//! blob once in parallel, scan commit messages, then fold matches into one finding per (rule, secret):
//! the earliest commit that brought it in, every other place it came in, and whether HEAD still has it.
//!
//! Memory holds blob ids and their places, never blob contents: each worker reads one blob at a time with
//! its own repository handle, so what is in flight is bounded by the threads times the largest blob.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicU64, AtomicU8, Ordering},
        Arc,
    },
    time::Instant,
};

use git2::{Oid, Repository};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use super::state::{KnownBlob, KnownFinding, State};
use super::timeline::{self, Footprint};
use super::{ScanOutcome, Scanned, Scanner, Worker};
use crate::engine::{Engine, Wide};
use crate::finding::{
    redact, CommitInfo, CommitStamp, ErrorKind, Finding, HeadSpan, History, Notice, Occurrence, Origin, Place,
    ScanError, Secret, StateStats, Timeline,
};
use crate::source::git::{self, BlobProvenance, GitError, Inventory, Repo, Selection};
use crate::source::pack::{DeltaSource, Location, PackSet, PooledReader, ReaderPool};
use crate::source::{archive, text};
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
    /// `--state`: what earlier runs covered, and what makes this run's state comparable.
    pub state: Option<StateInput>,
    /// `--shard I/N`: read only the blobs (and commit messages) whose id falls in share I of N; the
    /// inventory, places and timeline stay whole, so [`merge_findings`] over the N reports gives one run's.
    pub shard: Option<Shard>,
}

/// Share `index` (0-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Whether an object id falls in this share: its first four bytes (uniform, being a hash) modulo
    /// the count.
    pub fn holds(&self, id: &Oid) -> bool {
        let b = id.as_bytes();
        let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        self.count == 0 || n % self.count == self.index
    }
}

/// What `--state` brings into a run.
#[derive(Clone, Debug)]
pub struct StateInput {
    /// The state file's content; `None` on the first run (no file yet).
    pub previous: Option<State>,
    /// The digest of what decides a blob's findings (see [`State::settings`]).
    pub settings: [u8; 32],
    /// The fingerprint key's id.
    pub fingerprint_key: String,
}

/// Scans the history of the repository at or above `path`. Fails only when the repository cannot be
/// opened or the ref/range cannot be resolved; unreadable objects become `errors` entries.
pub fn run(scanner: Scanner<'_>, repo: Repo, cfg: &HistoryConfig) -> Result<ScanOutcome, GitError> {
    run_with_state(scanner, repo, cfg).map(|(outcome, _)| outcome)
}

/// [`run`], and with `cfg.state` the state to save for the next run.
pub fn run_with_state(
    scanner: Scanner<'_>,
    repo: Repo,
    cfg: &HistoryConfig,
) -> Result<(ScanOutcome, Option<State>), GitError> {
    match rayon::ThreadPoolBuilder::new().num_threads(cfg.threads).build() {
        Ok(pool) => pool.install(move || run_in_pool(scanner, &repo, cfg)),
        Err(_) => run_in_pool(scanner, &repo, cfg),
    }
}

fn run_in_pool(
    scanner: Scanner<'_>,
    repo: &Repo,
    cfg: &HistoryConfig,
) -> Result<(ScanOutcome, Option<State>), GitError> {
    let started = Instant::now();
    let mut outcome = ScanOutcome::default();
    let previous = cfg.state.as_ref().and_then(|s| s.previous.as_ref());
    // A state written under other rules, config or limits says nothing about what a blob holds now:
    // every blob is read again (and said so); its findings still tell which findings are new.
    let usable = previous.filter(|p| cfg.state.as_ref().is_some_and(|s| s.settings == p.settings));
    if let (Some(p), None) = (previous, usable) {
        outcome.notices.push(Notice {
            path: p.repository.clone(),
            message: "--state: the rules, config or --max-file-size changed since the state was written: every \
                      blob is read again"
                .to_string(),
        });
    }
    let known = |oid: &Oid| usable.is_some_and(|s| s.knows_commit(oid));

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
    // The keyword DFA of a scan that will need it is built beside the commit walk, on a core the walk
    // leaves idle.
    let (mut inv, mut message_hits) = std::thread::scope(|s| {
        if large_history(repo, cfg) {
            s.spawn(|| scanner.engine.build_dfa());
        }
        repo.inventory(
            &cfg.selection,
            cfg.since,
            &known,
            &on_commits,
            || scanner.worker(),
            |worker, msg| {
                let mut found = Vec::new();
                scanner.scan_text(worker, MESSAGE_PATH, &Origin::File, msg, &mut found);
                (!found.is_empty()).then_some(found)
            },
        )
    })?;
    if let Some(shard) = cfg.shard {
        inv.blobs.retain(|b| shard.holds(&b.id));
        message_hits
            .commits
            .retain(|(c, _)| inv.commits.get(*c as usize).is_some_and(|o| shard.holds(o)));
        if shard.index != 0 {
            message_hits.tags.clear();
        }
    }
    let mut state_stats = StateStats::default();
    if let Some(st) = usable {
        state_stats.commits_known = inv.commits.iter().filter(|c| st.knows_commit(c)).count() as u64;
        merge_known_places(&mut inv, st);
        rescan_messages(scanner, repo.repository(), &inv, st, &mut message_hits.commits);
    }
    prune(&mut inv, scanner.policy);
    if let Some(st) = usable {
        let before = inv.blobs.len();
        inv.blobs.retain(|b| !st.is_clean(&b.id));
        state_stats.blobs_skipped = (before - inv.blobs.len()) as u64;
        state_stats.blobs_reread = inv.blobs.iter().filter(|b| st.known_blob(&b.id).is_some()).count() as u64;
    }
    state_stats.blobs_new = inv.blobs.len() as u64 - state_stats.blobs_reread;
    outcome.errors.extend(inv.errors.iter().cloned());
    outcome.notices.extend(inv.notices.iter().cloned());
    outcome.stats.commits = inv.commits.len() as u64;

    // Bytes of blob text read, for the progress line's rate.
    let read = Arc::new(AtomicU64::new(0));
    if let Some(p) = &progress {
        let (bytes, since) = (Arc::clone(&read), std::time::Instant::now());
        p.set_style(
            ProgressStyle::with_template("{spinner} history: {pos}/{len} blobs scanned, {msg} [{elapsed}, {rate}]")
                .map(|s| {
                    s.with_key(
                        "rate",
                        move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                            let secs = since.elapsed().as_secs_f64().max(0.001);
                            let _ = write!(w, "{}", rate(bytes.load(Ordering::Relaxed), secs));
                        },
                    )
                })
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        p.set_length(inv.blobs.len() as u64);
        p.set_message(format!("{} commits", inv.commits.len()));
    }
    let phase = crate::trace::phase("blobs");
    let scanned = scan_blobs(scanner, repo, &inv, cfg, usable, progress.as_ref().map(|p| (p, &*read)));
    phase.end();
    let phase = crate::trace::phase("group");
    if let Some(p) = &progress {
        p.finish_and_clear();
    }
    let mut worker = scanner.worker();
    let mut groups: HashMap<(String, String), Group> = HashMap::new();
    let mut clean: Vec<Oid> = Vec::new();
    let mut known_blobs: Vec<KnownBlob> = Vec::new();
    for (blob, result) in inv.blobs.iter().zip(scanned) {
        if cfg.state.is_some() {
            match &result {
                BlobResult::Scanned { findings, .. } if findings.is_empty() => clean.push(blob.id),
                BlobResult::Binary => clean.push(blob.id),
                BlobResult::Scanned { findings, .. } => known_blobs.push(KnownBlob {
                    id: blob.id,
                    places: blob
                        .places
                        .iter()
                        .filter(|p| p.commit != git::NO_COMMIT)
                        .filter_map(|p| {
                            Some((
                                *inv.commits.get(p.commit as usize)?,
                                inv.paths.get(p.path as usize)?.clone(),
                            ))
                        })
                        .collect(),
                    findings: findings.iter().map(known_finding).collect(),
                }),
                BlobResult::Unreadable(_) => {}
            }
        }
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
                let scanned_at = scan_path(scanner.engine, &inv, blob);
                for f in findings {
                    let places: Vec<_> = blob
                        .places
                        .iter()
                        .filter(|p| {
                            inv.paths
                                .get(p.path as usize)
                                .is_none_or(|path| scanner.engine.reports_at(f.rule.id.as_str(), path))
                        })
                        .map(|p| (p.commit, Some(p.path)))
                        .collect();
                    if places.is_empty() {
                        continue;
                    }
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
    let message_commits: Vec<Oid> = message_hits
        .commits
        .iter()
        .filter_map(|(c, _)| inv.commits.get(*c as usize).copied())
        .collect();
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
    let mut footprints: Vec<Footprint> = Vec::new();
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
        if let Some((f, fp)) = finding {
            outcome.findings.push(f);
            footprints.push(fp);
        }
    }
    phase.end();
    let phase = crate::trace::phase("timeline");
    release_freed_memory();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    timeline::annotate(
        repo.repository(),
        &inv,
        &cfg.selection,
        &mut outcome.findings,
        &footprints,
        now,
    );
    phase.end();

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
    let state = cfg.state.as_ref().map(|input| {
        for f in &mut outcome.findings {
            let new = !previous.is_some_and(|p| p.knows_finding(f.rule.id.as_str(), f.fingerprint.as_str()));
            if let Some(h) = f.history.as_mut() {
                h.new = Some(new);
            }
            state_stats.new_findings += u64::from(new);
        }
        if let Some(p) = previous {
            gone_notices(p, &outcome.findings, &inv, &mut outcome.notices);
        }
        let mut st = State {
            repository: repo.git_dir().display().to_string(),
            fingerprint_key: input.fingerprint_key.clone(),
            settings: input.settings,
            refs: crate::source::graph::ref_tips(repo.repository())
                .into_iter()
                .map(|t| (t.name, t.commit))
                .collect(),
            // A commit whose tree could not be read is compared again next time: with errors, only the
            // commits earlier runs covered (and that are still reachable) are kept.
            commits: if inv.errors.is_empty() {
                inv.commits.clone()
            } else {
                usable
                    .map(|p| {
                        p.commits
                            .iter()
                            .filter(|c| inv.graph.index(c).is_some())
                            .copied()
                            .collect()
                    })
                    .unwrap_or_default()
            },
            clean: usable.map(|p| p.clean.clone()).unwrap_or_default(),
            blobs: known_blobs,
            messages: message_commits,
            findings: outcome.findings.iter().map(known_finding).collect(),
        };
        st.clean.extend(clean);
        st.normalize();
        outcome.stats.state = Some(state_stats);
        st
    });
    outcome.errors.sort_by(|a, b| a.path.cmp(&b.path));
    outcome.notices.sort_by(|a, b| a.path.cmp(&b.path));
    outcome.notices.dedup();
    outcome.stats.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok((outcome, state))
}

/// Hands freed memory back to the system. glibc keeps freed memory in each worker thread's arena: without
/// this, what the blob scan's readers freed stays resident under the leak timeline's pack indexes (rails:
/// +35 MB at the end of a run), and the peak of an audit grows with how the repositories' peaks fall
/// across arenas instead of staying at the largest repository's.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: glibc's malloc_trim only releases free pages of the allocator's own arenas; it takes no
        // pointer and is safe to call from any thread at any time.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// Merges two history findings of the same (rule, secret) from different shards of one repository's scan
/// (`--shard`), as one run would have reported it: the earlier place is the finding (by walk position,
/// file before message, path, line, column), places are unioned (shards read disjoint blobs, so counts
/// add), HEAD's spans are unioned and `removed_in` recomputed from them, refs and remotes unioned,
/// exposure recomputed. `ref_count` is exact while each side listed all its refs (at most
/// [`Timeline::REF_LIMIT`]); past that it is a lower bound. Findings without history: `a` is kept.
pub fn merge_findings(a: &Finding, b: &Finding, all_occurrences: bool) -> Finding {
    let (Some(ha), Some(hb)) = (&a.history, &b.history) else {
        return a.clone();
    };
    let seq = |f: &Finding| {
        f.history
            .as_ref()
            .and_then(|h| h.timeline.as_ref())
            .and_then(|t| t.first_seen.as_ref())
            .map_or(git::NO_COMMIT, |s| s.seq)
    };
    let key = |o: &Occurrence| (o.seq, o.place == Place::CommitMessage, o.path.clone(), o.line, o.column);
    let own = |f: &Finding| Occurrence {
        commit: f.origin.commit().map(|c| c.sha.clone()).unwrap_or_default(),
        seq: seq(f),
        path: f.path.clone(),
        place: f.place,
        line: f.line,
        column: f.column,
    };
    let (first, second) = if key(&own(a)) <= key(&own(b)) { (a, b) } else { (b, a) };
    let (h1, h2) = if std::ptr::eq(first, a) { (ha, hb) } else { (hb, ha) };
    let mut places: Vec<Occurrence> = h1.occurrences.clone();
    places.push(own(second));
    places.extend(h2.occurrences.iter().cloned());
    places.sort_by_key(key);
    places.dedup();
    places.truncate(if all_occurrences { usize::MAX } else { OCCURRENCE_LIMIT });
    let in_head = ha.in_head || hb.in_head;
    let timeline = match (&h1.timeline, &h2.timeline) {
        (Some(t1), Some(t2)) => Some(merge_timelines(t1, t2, in_head)),
        (t1, t2) => t1.clone().or_else(|| t2.clone()),
    };
    let mut f = first.clone();
    f.history = Some(History {
        in_head,
        occurrence_count: ha.occurrence_count + hb.occurrence_count,
        occurrences: places,
        timeline,
        new: match (ha.new, hb.new) {
            (Some(x), Some(y)) => Some(x && y),
            (x, y) => x.or(y),
        },
    });
    f
}

/// `t1` is the timeline of the finding whose place comes first.
fn merge_timelines(t1: &Timeline, t2: &Timeline, in_head: bool) -> Timeline {
    let mut stamps: HashMap<u32, &CommitStamp> = HashMap::new();
    let mut cuts = Vec::new();
    for s in t1.head_spans.iter().chain(&t2.head_spans) {
        stamps.insert(s.added_pos, &s.added);
        if let Some((r, pos)) = &s.removed {
            stamps.insert(*pos, r);
        }
        cuts.push((s.added_pos, s.removed.as_ref().map(|r| r.1)));
    }
    let head_spans: Vec<HeadSpan> = timeline::merge_spans(cuts)
        .into_iter()
        .filter_map(|(a, b)| {
            Some(HeadSpan {
                added: (*stamps.get(&a)?).clone(),
                added_pos: a,
                removed: match b {
                    Some(b) => Some(((*stamps.get(&b)?).clone(), b)),
                    None => None,
                },
            })
        })
        .collect();
    let removed_in = if in_head {
        None
    } else {
        head_spans.last().and_then(|s| s.removed.as_ref()).map(|r| r.0.clone())
    };
    // A side that still exposes the secret counted to its scan's time.
    let until = match &removed_in {
        Some(r) => r.time,
        None => [t1, t2]
            .iter()
            .filter(|t| t.removed_in.is_none())
            .map(|t| t.exposed_until)
            .max()
            .unwrap_or(t1.exposed_until.max(t2.exposed_until)),
    };
    let first_seen = t1.first_seen.clone().or_else(|| t2.first_seen.clone());
    let union = |x: &[String], y: &[String]| {
        let mut v: Vec<String> = x.iter().chain(y).cloned().collect();
        v.sort();
        v.dedup();
        v
    };
    let mut refs = union(&t1.refs, &t2.refs);
    let complete = t1.refs.len() == t1.ref_count && t2.refs.len() == t2.ref_count;
    let ref_count = if complete {
        refs.len()
    } else {
        refs.len().max(t1.ref_count).max(t2.ref_count)
    };
    refs.truncate(Timeline::REF_LIMIT);
    Timeline {
        exposed_days: first_seen.as_ref().map_or(0, |s| timeline::exposed_days(s.time, until)),
        exposed_until: until,
        first_seen,
        removed_in,
        head_spans,
        pushed: t1.pushed || t2.pushed,
        remotes: union(&t1.remotes, &t2.remotes),
        refs,
        ref_count,
    }
}

fn known_finding(f: &Finding) -> KnownFinding {
    KnownFinding {
        rule: f.rule.id.as_str().to_string(),
        fingerprint: f.fingerprint.as_str().to_string(),
        redacted: f.secret.redacted(),
        line: u32::try_from(f.line).unwrap_or(u32::MAX),
        column: u32::try_from(f.column).unwrap_or(u32::MAX),
    }
}

/// Adds the places an earlier run recorded for blobs that held a secret (the walk did not compare the
/// commits it already knew, so it did not list them); places whose commit is no longer reachable (a
/// rewritten history) are dropped, and a blob left with none is gone.
fn merge_known_places(inv: &mut Inventory, st: &State) {
    if st.blobs.is_empty() {
        return;
    }
    let commit_index: HashMap<Oid, u32> = inv
        .commits
        .iter()
        .enumerate()
        .map(|(i, &c)| (c, u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();
    let mut path_index: HashMap<String, u32> = inv
        .paths
        .iter()
        .enumerate()
        .map(|(i, p)| (p.clone(), u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();
    let mut blob_index: HashMap<Oid, usize> = inv.blobs.iter().enumerate().map(|(i, b)| (b.id, i)).collect();
    for known in &st.blobs {
        for (commit, path) in &known.places {
            let Some(&c) = commit_index.get(commit) else { continue };
            let p = *path_index.entry(path.clone()).or_insert_with(|| {
                inv.paths.push(path.clone());
                u32::try_from(inv.paths.len() - 1).unwrap_or(u32::MAX)
            });
            let i = *blob_index.entry(known.id).or_insert_with(|| {
                inv.blobs.push(BlobProvenance {
                    id: known.id,
                    places: Vec::new(),
                });
                inv.blobs.len() - 1
            });
            inv.blobs[i].places.push(git::Place { commit: c, path: p });
        }
    }
    for known in &st.blobs {
        if let Some(&i) = blob_index.get(&known.id) {
            let places = &mut inv.blobs[i].places;
            places.sort_unstable_by_key(|p| (p.commit, p.path));
            places.dedup();
        }
    }
}

/// Scans again the messages of known commits that held a secret (the walk skipped their messages).
fn rescan_messages(
    scanner: Scanner<'_>,
    repo: &Repository,
    inv: &Inventory,
    st: &State,
    hits: &mut Vec<(u32, Vec<Finding>)>,
) {
    if st.messages.is_empty() {
        return;
    }
    let mut worker = scanner.worker();
    for (i, c) in inv.commits.iter().enumerate() {
        if st.messages.binary_search(c).is_err() || !st.knows_commit(c) {
            continue;
        }
        let Ok(commit) = repo.find_commit(*c) else { continue };
        let mut found = Vec::new();
        scanner.scan_text(
            &mut worker,
            MESSAGE_PATH,
            &Origin::File,
            commit.message_raw_bytes(),
            &mut found,
        );
        if !found.is_empty() {
            hits.push((u32::try_from(i).unwrap_or(u32::MAX), found));
        }
    }
}

/// A notice for each finding the previous run reported that this one does not: its commits are no
/// longer reachable from any ref (history rewritten, a ref deleted) or outside this run's selection.
fn gone_notices(previous: &State, findings: &[Finding], inv: &Inventory, notices: &mut Vec<Notice>) {
    let now: std::collections::HashSet<(&str, &str)> = findings
        .iter()
        .map(|f| (f.rule.id.as_str(), f.fingerprint.as_str()))
        .collect();
    let rewritten: Vec<&str> = previous
        .refs
        .iter()
        .filter(|(_, tip)| inv.graph.index(tip).is_none())
        .map(|(name, _)| name.as_str())
        .collect();
    let why = if rewritten.is_empty() {
        "its commits are no longer reachable from the refs scanned".to_string()
    } else {
        format!(
            "history was rewritten or refs deleted since the last run ({})",
            rewritten.join(", ")
        )
    };
    for f in &previous.findings {
        if now.contains(&(f.rule.as_str(), f.fingerprint.as_str())) {
            continue;
        }
        notices.push(Notice {
            path: previous.repository.clone(),
            message: format!(
                "{} ({}) reported by the previous run is no longer reachable: {why}; it is not reported, but \
                 clones, forks and the remote may still hold it: rotate it if it was ever pushed",
                f.redacted, f.rule
            ),
        });
    }
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

/// The path a blob is scanned at: the first of its places whose path opens a rule's path gate (a blob
/// that sat at `config/master.key` and elsewhere is read as the master key), else its first place. The
/// findings of gated rules are then kept only at the places their gate opens ([`Engine::reports_at`]).
fn scan_path<'i>(engine: &Engine, inv: &'i Inventory, blob: &BlobProvenance) -> &'i str {
    blob.places
        .iter()
        .filter_map(|p| inv.paths.get(p.path as usize))
        .find(|path| engine.gates_open(path))
        .map_or_else(|| first_path(inv, blob), String::as_str)
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

struct BlobWorker<'p, 's> {
    /// Opened on the first blob the packs cannot give (a loose, missing or damaged one).
    repo: Option<Result<Repository, String>>,
    packs: PooledReader<'p, 's>,
    worker: Worker,
}

/// What the blob scan knows of each blob's scan so far, shared by the workers: a blob stored as an offset
/// delta against a blob that scanned quiet is scanned only around what the delta changed
/// ([`Scanner::scan_edit`]).
struct Deltas<'o> {
    /// Off under `PKHOUND_FULL_BLOBS=1` (tests and A/B runs compare the two).
    on: bool,
    /// Per blob (inventory index): [`UNKNOWN`], [`QUIET`] or [`QUIET_BYTES`] (either with its wider
    /// tiers' bits above [`KIND`]), or [`NOISY`].
    status: Vec<AtomicU8>,
    /// (location, blob index), sorted: finds a delta's base among the wanted blobs.
    order: &'o [(Option<Location>, usize)],
    /// Blobs that must be read whole: those `--state` asks to read again.
    whole: Vec<bool>,
    /// Blobs (and their bytes) scanned around their changes: with nothing near them, or with windows
    /// run around what was.
    passed: [AtomicU64; 2],
    passed_bytes: [AtomicU64; 2],
    /// How many blobs were read whole for each [`Why`].
    whys: [AtomicU64; 5],
    /// And their bytes.
    why_bytes: [AtomicU64; 5],
}

/// Why a blob read from a pack was scanned whole.
#[derive(Clone, Copy)]
enum Why {
    /// Stored whole, or already built as another object's base.
    Whole,
    /// Its base is not a wanted blob, or not scanned yet.
    Unknown,
    /// Its base held a match or a decoder hit.
    Noisy,
    NotText,
    /// The bands around the changes cover half the blob, or the engine cannot scan around changes.
    Wide,
}

/// Whether [`Scanner::scan`] scans a blob of this class as bytes: binary, but not an archive it opens
/// nor a file that cannot hold text.
fn as_bytes(class: text::Class, path: &str, raw: &[u8]) -> bool {
    class == text::Class::Binary && archive::kind(path, raw).is_none() && !text::opaque(path, raw)
}

/// Not scanned yet (or by another worker right now), or not a wanted blob.
const UNKNOWN: u8 = 0;
/// Plain text, read whole within `--max-file-size`, and the engine saw no match and no decoder hit in
/// it: nothing an allowlist, a path or a decoder hid.
const QUIET: u8 = 1;
const NOISY: u8 = 2;
/// As [`QUIET`], for a binary file scanned as bytes (not an archive, not [`text::opaque`]): a pickle,
/// a `.pyc`, a compiled bundle, rebuilt and committed again and again.
const QUIET_BYTES: u8 = 3;
/// The bits of a status that say its kind; above them, for [`QUIET`] and [`QUIET_BYTES`], the wider
/// tiers whose keywords (rules with wide windows) the blob may hold, so that an edit of it searches
/// those tiers' bands ([`Engine::scan_near`]'s `base_wide`).
const KIND: u8 = 3;
const WIDE_SHIFT: u32 = 2;
const _: () = assert!((crate::engine::ALL_WIDE as u32) << WIDE_SHIFT <= u8::MAX as u32);

/// What a delta's scan around its changes needs of its base ([`Deltas::around`]).
struct Around<'c> {
    changes: &'c [(usize, usize)],
    /// The base was a binary file scanned as bytes.
    bytes: bool,
    /// The wider tiers whose keywords the base may hold.
    wide: Wide,
}

impl Deltas<'_> {
    /// The changes to scan around when the blob at `i`, built from `source`, can be scanned so: its base
    /// scanned quiet. With them, whether the base was a binary file scanned as bytes, and whether it may
    /// hold a keyword of a rule with a wide window.
    fn around<'c>(&self, i: usize, len: usize, source: Option<DeltaSource<'c>>) -> Option<Around<'c>> {
        if !self.on || self.whole.get(i).copied().unwrap_or(true) {
            return None;
        }
        let Some(source) = source else {
            return self.why(Why::Whole, len);
        };
        let base = self
            .order
            .binary_search_by(|(at, _)| at.cmp(&Some(source.base)))
            .ok()
            .and_then(|k| self.order.get(k))
            .and_then(|&(_, b)| self.status.get(b))
            .map_or(UNKNOWN, |s| s.load(Ordering::Relaxed));
        let wide = base >> WIDE_SHIFT;
        match base & KIND {
            QUIET | QUIET_BYTES => Some(Around {
                changes: source.changes,
                bytes: base & KIND == QUIET_BYTES,
                wide,
            }),
            NOISY => self.why(Why::Noisy, len),
            _ => self.why(Why::Unknown, len),
        }
    }

    /// Counts why a blob was read whole (for `PKHOUND_DELTA_STATS`); `None`.
    fn why<T>(&self, why: Why, len: usize) -> Option<T> {
        self.whys[why as usize].fetch_add(1, Ordering::Relaxed);
        self.why_bytes[why as usize].fetch_add(len as u64, Ordering::Relaxed);
        None
    }

    fn set(&self, i: usize, status: u8) {
        if let Some(s) = self.status.get(i) {
            s.store(status, Ordering::Relaxed);
        }
    }
}

/// Packs past this size make a whole-history scan large enough to need the keyword DFA at once.
const LARGE_PACKS: u64 = 8 << 20;

/// Whether the scan reads a whole history (every ref's, or one ref's, from the first commit) of a
/// repository whose packs (its alternates' included) hold `LARGE_PACKS` bytes or more: it will build the keyword DFA anyway, so
/// building it while the commits are walked costs no wall time. A range or `--since` scan may read a
/// handful of blobs, and a `--state` scan only what is new: they build it when they reach it, if ever.
fn large_history(repo: &Repo, cfg: &HistoryConfig) -> bool {
    if !matches!(cfg.selection, Selection::All | Selection::Branch(_)) || cfg.since.is_some() || cfg.state.is_some() {
        return false;
    }
    PackSet::pack_bytes(repo.git_dir()) >= LARGE_PACKS
}

/// Reads and scans every unique blob once, in parallel.
///
/// Blobs are read in pack order straight from the pack files ([`pack::PackReader`]): git writes a delta
/// family together, base first, so each worker's cache of recently built objects serves almost every
/// base and each object is inflated about once. The ordered list is split into runs of neighbours, and
/// rayon hands each thread long stretches of it, so a thread's cache stays warm. What the packs cannot
/// give (loose objects, promisor gaps, damage, deltas by id) is read through libgit2, which also words
/// the error for an object that cannot be read at all.
///
/// A blob stored as a delta against a wanted blob that scanned quiet is scanned only around what the
/// delta changed ([`Deltas`], [`Engine::scan_near`]): most revisions of a file differ from their
/// neighbour by a few lines, and this is where betterleaks' speed comes from (it scans `git log -p`'s
/// added lines), without its blind spots: a key split across an edit, moved next to a keyword, or
/// completed far from its keyword is found, since every window the full scan would run that an edit can
/// change is run, whole.
fn scan_blobs(
    scanner: Scanner<'_>,
    repo: &Repo,
    inv: &Inventory,
    cfg: &HistoryConfig,
    state: Option<&State>,
    progress: Option<(&ProgressBar, &AtomicU64)>,
) -> Vec<BlobResult> {
    let git_dir = repo.git_dir();
    let on = std::env::var_os("PKHOUND_FULL_BLOBS").is_none_or(|v| v != "1");
    if on {
        // One automaton over keywords and every decoder pattern, ungated: a blob's decoder hits are then
        // all known, which is what lets it serve as a quiet base.
        scanner.engine.expect_large();
    }
    let (packs, located) = PackSet::load(git_dir, inv.blobs.iter().map(|b| &b.id));
    let mut order: Vec<(Option<Location>, usize)> = located.into_iter().enumerate().map(|(i, at)| (at, i)).collect();
    // Loose and unlocated blobs (None) first, then by pack and offset.
    order.sort_unstable();
    let deltas = Deltas {
        on,
        status: inv.blobs.iter().map(|_| AtomicU8::new(UNKNOWN)).collect(),
        order: &order,
        whole: inv
            .blobs
            .iter()
            .map(|b| state.is_some_and(|s| s.known_blob(&b.id).is_some()))
            .collect(),
        passed: Default::default(),
        passed_bytes: Default::default(),
        whys: Default::default(),
        why_bytes: Default::default(),
    };
    let pool = ReaderPool::new(&packs);
    // Runs are taken in pack order, one at a time by whichever thread is free, rather than split in
    // halves as rayon would: a delta's base lies earlier in the pack, so it has almost always been
    // scanned (and its verdict is known) by the time the delta is read. The last blobs go in short runs,
    // so that the threads finish together rather than one waiting out the other's last long run.
    let tail = order
        .len()
        .saturating_sub(TAIL_RUNS * rayon::current_num_threads() * RUN);
    let runs: Vec<&[(Option<Location>, usize)]> = order[..tail]
        .chunks(RUN)
        .chain(order[tail..].chunks(TAIL_RUN))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, BlobResult)> = (0..rayon::current_num_threads().min(runs.len()))
        .into_par_iter()
        .flat_map_iter(|_| {
            let mut w = BlobWorker {
                repo: None,
                packs: pool.get(),
                worker: scanner.worker(),
            };
            let mut done = Vec::new();
            while let Some(run) = runs.get(next.fetch_add(1, Ordering::Relaxed)) {
                let from = done.len();
                done.extend(
                    run.iter()
                        .map(|&(at, i)| (i, scan_blob(scanner, inv, cfg, git_dir, &mut w, &deltas, i, at))),
                );
                if let Some((p, read)) = progress {
                    let bytes: u64 = done[from..]
                        .iter()
                        .map(|(_, r)| match r {
                            BlobResult::Scanned { bytes, .. } => *bytes,
                            _ => 0,
                        })
                        .sum();
                    read.fetch_add(bytes, Ordering::Relaxed);
                    p.inc(run.len() as u64);
                }
            }
            done
        })
        .collect();
    if std::env::var_os("PKHOUND_DELTA_STATS").is_some() {
        let bytes: u64 = results
            .iter()
            .map(|(_, r)| match r {
                BlobResult::Scanned { bytes, .. } => *bytes,
                _ => 0,
            })
            .sum();
        let why = |w: Why| {
            format!(
                "{} ({} bytes)",
                deltas.whys[w as usize].load(Ordering::Relaxed),
                deltas.why_bytes[w as usize].load(Ordering::Relaxed)
            )
        };
        let n = |a: &[AtomicU64; 2], k: usize| a[k].load(Ordering::Relaxed);
        eprintln!(
            "pkhound: delta: {} blobs ({} bytes) with nothing near their changes, {} ({} bytes) scanned in \
             windows around them, of {} blobs ({} bytes); read whole: {} stored whole, {} base unknown, {} \
             base noisy, {} not text, {} changes too wide",
            n(&deltas.passed, 0),
            n(&deltas.passed_bytes, 0),
            n(&deltas.passed, 1),
            n(&deltas.passed_bytes, 1),
            results.len(),
            bytes,
            why(Why::Whole),
            why(Why::Unknown),
            why(Why::Noisy),
            why(Why::NotText),
            why(Why::Wide),
        );
    }
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// A reading rate for the progress line: `812.4 KB/s`, `37.5 MB/s`, `1.2 GB/s`.
fn rate(bytes: u64, secs: f64) -> String {
    let per = bytes as f64 / secs;
    match per {
        p if p >= 1e9 => format!("{:.1} GB/s", p / 1e9),
        p if p >= 1e6 => format!("{:.1} MB/s", p / 1e6),
        p => format!("{:.1} KB/s", p / 1e3),
    }
}

/// How many pack-order neighbours one task reads in a row.
const RUN: usize = 256;
/// The last `TAIL_RUNS` runs' worth of blobs per thread are read in runs of `TAIL_RUN`.
const TAIL_RUNS: usize = 2;
const TAIL_RUN: usize = 16;

#[allow(clippy::too_many_arguments)]
fn scan_blob(
    scanner: Scanner<'_>,
    inv: &Inventory,
    cfg: &HistoryConfig,
    git_dir: &std::path::Path,
    w: &mut BlobWorker<'_, '_>,
    deltas: &Deltas<'_>,
    i: usize,
    at: Option<Location>,
) -> BlobResult {
    let blob = &inv.blobs[i];
    let path = scan_path(scanner.engine, inv, blob);
    let BlobWorker {
        repo: repo_slot,
        packs,
        worker,
    } = w;
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
    // A blob over --max-file-size is still scanned, in windows, so the scan's own memory stays bounded.
    // What the scan could not open inside an archive blob comes back with it.
    let window = usize::try_from(cfg.max_file_size).unwrap_or(usize::MAX);
    let lfs_pointer = |raw: &[u8]| raw.starts_with(b"version https://git-lfs.github.com/spec/");
    // A quiet base: read whole, plain text or a binary file's bytes, and the engine saw nothing in it.
    let quiet = |worker: &mut Worker, scanned: &Scanned, raw: &[u8], findings: &[Finding], errors: &[ScanError]| {
        let seen = worker.take_noisy() || !findings.is_empty() || !errors.is_empty();
        let wide = worker.take_wide() << WIDE_SHIFT;
        match text::classify(raw) {
            _ if seen || !matches!(scanned, Scanned::Text(_)) => NOISY,
            text::Class::Text => QUIET | wide,
            class if as_bytes(class, path, raw) => QUIET_BYTES | wide,
            _ => NOISY,
        }
    };
    let scan_bytes = |worker: &mut Worker,
                      raw: &[u8],
                      findings: &mut Vec<Finding>|
     -> Result<(Scanned, bool, Vec<ScanError>), String> {
        let scanned = if raw.len() > window {
            let scanned = scanner
                .scan_reader(worker, path, &Origin::File, &mut &raw[..], window, findings)
                .map_err(|e| e.to_string())?;
            worker.take_noisy();
            worker.take_wide();
            return Ok((scanned, false, worker.take_errors()));
        } else {
            scanner.scan(worker, path, &Origin::File, raw, findings)
        };
        let errors = worker.take_errors();
        deltas.set(i, quiet(worker, &scanned, raw, findings, &errors));
        Ok((scanned, lfs_pointer(raw), errors))
    };
    if let Some(at) = at {
        let read = packs.reader().with_object_delta(at, |raw, source| {
            if let Some(Around { changes, bytes, wide }) =
                deltas.around(i, raw.len(), source).filter(|_| raw.len() <= window)
            {
                // Its base scanned quiet: what the full scan would find lies around the changes.
                let class = text::classify(raw);
                let binary = bytes && as_bytes(class, path, raw);
                match scanner.scan_edit(worker, path, &Origin::File, raw, changes, binary, wide, &mut findings) {
                    Some(scanned) => {
                        let errors = worker.take_errors();
                        let k = usize::from(worker.ran_rules());
                        deltas.passed[k].fetch_add(1, Ordering::Relaxed);
                        deltas.passed_bytes[k].fetch_add(raw.len() as u64, Ordering::Relaxed);
                        deltas.set(i, quiet(worker, &scanned, raw, &findings, &errors));
                        return Ok((scanned, lfs_pointer(raw), errors));
                    }
                    None if !binary && class != text::Class::Text => deltas.why::<()>(Why::NotText, raw.len()),
                    None => deltas.why::<()>(Why::Wide, raw.len()),
                };
            }
            scan_bytes(worker, raw, &mut findings)
        });
        match read {
            Ok(Ok((scanned, lfs, errors))) => return done(scanned, findings, lfs, errors),
            Ok(Err(e)) => {
                deltas.set(i, NOISY);
                return BlobResult::Unreadable(e);
            }
            // Not readable from the pack here: libgit2 reads it, or says why it cannot.
            Err(_) => findings.clear(),
        }
    }
    let repo = match repo_slot.get_or_insert_with(|| git::open_dir(git_dir).map_err(|e| e.to_string())) {
        Ok(r) => r,
        Err(e) => {
            deltas.set(i, NOISY);
            return BlobResult::Unreadable(e.clone());
        }
    };
    let result = git::with_blob(repo, blob.id, u64::MAX, |raw| scan_bytes(worker, raw, &mut findings));
    match result {
        Ok(Some(Ok((scanned, lfs, errors)))) => done(scanned, findings, lfs, errors),
        other => {
            deltas.set(i, NOISY);
            match other {
                Ok(Some(Err(e))) | Err(e) => BlobResult::Unreadable(e),
                _ => BlobResult::Unreadable("blob vanished while reading".to_string()),
            }
        }
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
) -> Option<(Finding, Footprint)> {
    // Every blob that holds the secret and every path it sat at, before a range drops the places its
    // commits did not introduce: HEAD's line may hold the blob at any of them.
    let mut fp = Footprint::default();
    for c in &group.cands {
        if let Some(b) = c.blob {
            fp.blobs.push(b);
            fp.paths.extend(
                c.places
                    .iter()
                    .filter(|&&(commit, _)| commit != git::NO_COMMIT)
                    .filter_map(|&(_, p)| p),
            );
        }
    }
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
    // that quotes it is reported where it sits in the tree), then by path name (and archive member): an
    // order shard reports can reproduce from what they print (`merge_findings`).
    let name = |p: Option<u32>| p.and_then(|p| inv.paths.get(p as usize)).map_or("", String::as_str);
    occ.sort_unstable_by(|a, b| {
        (a.0, a.1.is_none(), name(a.1), &a.4, a.2, a.3).cmp(&(b.0, b.1.is_none(), name(b.1), &b.4, b.2, b.3))
    });
    occ.dedup();
    let first = occ.first()?.clone();
    let first_member = first.4.clone();
    fp.first_seq = (first.0 != git::NO_COMMIT).then_some(first.0);
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
            seq: *commit,
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
        timeline: None,
        new: None,
    });
    for &(commit, path, _, _, _) in &occ {
        if commit == git::NO_COMMIT {
            if let Some(label) = path.and_then(|p| inv.paths.get(p as usize)) {
                fp.labels.push(label.clone());
            }
        } else {
            fp.commits.push(commit);
        }
    }
    fp.commits.sort_unstable();
    fp.commits.dedup();
    fp.blobs.sort_unstable();
    fp.blobs.dedup();
    fp.paths.sort_unstable();
    fp.paths.dedup();
    Some((f, fp))
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

#[cfg(test)]
mod delta_properties {
    //! The promise [`Deltas`] rests on: a blob edited from a quiet base, scanned only around the edit,
    //! gives the findings (and the quiet verdict) of a full scan. Bases and edits are drawn from keyword
    //! fragments, so keys get assembled, split, moved next to keywords and encoded by the edits
    //! themselves.

    use proptest::prelude::*;

    use super::*;
    use crate::source::pack::{apply_delta, delta_changes};
    use crate::{rules, triage::Policy};

    fn engine() -> &'static Engine {
        static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
        ENGINE.get_or_init(|| {
            let e = super::super::compile(&rules::builtin().expect("built-in rules load")).expect("compile");
            // As in a history scan: decoder patterns searched ungated, so "quiet" covers them.
            e.expect_large();
            e
        })
    }

    const FRAGMENTS: &[&str] = &[
        "pk_",
        "a4c123b1612dd272d1",
        "371c17149d439536",
        "Xy12ab_",
        "password",
        " = ",
        "'",
        "\"",
        "\n",
        "    ",
        "token: ",
        "api_key",
        "-----BEGIN RSA PRIVATE KEY-----\n",
        "-----END RSA PRIVATE KEY-----\n",
        "MIIEowIBAAKCAQEA7bq3x9Yk2Lq8mN4pR6sT1vW3yZ5aB7cD9eF0gH2iJ4kL6mN8oP",
        "cGtfYTRjMTIzYjE2MTJk",
        "ZDI3MmQxMzcxYzE3MTQ5ZDQzOTUzNg==",
        "eyJhbGciOiJIUzI1NiJ9",
        ".eyJzdWIiOiIxMjM0NTY3ODkwIn0",
        ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "AKIA",
        "QYLPMN5HHHFPZAM2",
        "%70k_",
        "ghp_",
        "0123456789abcdefghijklmnopqrstuvwxyzAB",
        "filler text that holds no secret at all, ",
        "def handler(event):\n",
        "# pkhound:allow\n",
        "KEY = 'pk_a4c123b1612dd272d1371c17149d439536'\n",
        "cGtfYTRjMTIzYjE2MTJkZDI3MmQxMzcxYzE3MTQ5ZDQzOTUzNg==",
        "AKIAQYLPMN5HHHFPZAM2",
    ];

    const PIECES: &[&str] = &[
        "pk_",
        "a4c123b1612dd272d1",
        "371c17149d439536",
        "password",
        " = ",
        "'",
        "\n",
        "token: ",
        "-----BEGIN RSA PRIVATE KEY-----\n",
        "MIIEowIBAAKCAQEA7bq3x9Yk2Lq8mN4pR6sT1vW3yZ5aB7cD9eF0gH2iJ4kL6mN8oP",
        "QYLPMN5HHHFPZAM2",
        "0123456789abcdefghijklmnopqrstuvwxyzAB",
        "# pkhound:allow\n",
    ];

    fn text() -> impl Strategy<Value = String> {
        // Mostly plain filler, so that edits have room to be far from every pattern, and pieces that are
        // quiet alone but not side by side (a key's prefix and halves, a keyword and a value).
        (2u32..60).prop_flat_map(|filler| {
            let fragment = prop_oneof![
                1 => prop::sample::select(PIECES),
                filler => Just("filler text that holds no secret at all,\n"),
            ];
            prop::collection::vec(fragment, 0..1500).prop_map(|f| f.concat())
        })
    }

    /// One op of an edit: copy bytes of the base from an offset (taken modulo the base), keep the next
    /// bytes of the base (after the last copy), skip some (a deletion), or insert text.
    #[derive(Clone, Debug)]
    enum Op {
        Copy(usize, usize),
        Keep(usize),
        Skip(usize),
        Insert(String),
    }

    fn ops() -> impl Strategy<Value = Vec<Op>> {
        let op = prop_oneof![
            1 => (any::<usize>(), 1usize..20_000).prop_map(|(o, l)| Op::Copy(o, l)),
            3 => (1usize..30_000).prop_map(Op::Keep),
            1 => (1usize..300).prop_map(Op::Skip),
            2 => prop::collection::vec(prop::sample::select(FRAGMENTS), 1..4).prop_map(|f| Op::Insert(f.concat())),
        ];
        prop::collection::vec(op, 1..8)
    }

    /// A git delta turning `base` into what `ops` say.
    fn encode(base: &[u8], ops: &[Op]) -> Vec<u8> {
        fn size(out: &mut Vec<u8>, mut v: usize) {
            loop {
                let b = (v & 0x7f) as u8;
                v >>= 7;
                if v == 0 {
                    out.push(b);
                    return;
                }
                out.push(b | 0x80);
            }
        }
        let mut body = Vec::new();
        let mut len = 0usize;
        let mut cursor = 0usize;
        for op in ops {
            let (off, l) = match op {
                Op::Copy(o, l) if !base.is_empty() => (o % base.len(), *l),
                Op::Keep(l) => (cursor, *l),
                Op::Skip(n) => {
                    cursor = cursor.saturating_add(*n).min(base.len());
                    continue;
                }
                Op::Copy(..) => continue,
                Op::Insert(_) => (0, 0),
            };
            match op {
                Op::Copy(..) | Op::Keep(_) => {
                    let l = l.min(base.len() - off);
                    if l == 0 {
                        continue;
                    }
                    body.push(0x80 | 0x0f | 0x70);
                    body.extend_from_slice(&(off as u32).to_le_bytes());
                    body.extend_from_slice(&(l as u32).to_le_bytes()[..3]);
                    len += l;
                    cursor = off + l;
                }
                Op::Skip(_) => {}
                Op::Insert(s) => {
                    for chunk in s.as_bytes().chunks(127) {
                        body.push(chunk.len() as u8);
                        body.extend_from_slice(chunk);
                        len += chunk.len();
                    }
                }
            }
        }
        let mut delta = Vec::new();
        size(&mut delta, base.len());
        size(&mut delta, len);
        delta.extend(body);
        delta
    }

    /// Text with whole keys and key-shaped pieces among filler lines: not quiet, as a staged file is not.
    fn loud_text() -> impl Strategy<Value = String> {
        (2u32..40).prop_flat_map(|filler| {
            let fragment = prop_oneof![
                1 => prop::sample::select(FRAGMENTS),
                filler => Just("filler text that holds no secret at all,\n"),
            ];
            prop::collection::vec(fragment, 0..1200).prop_map(|f| f.concat())
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(std::env::var("DELTA_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300)))]

        /// What a staged scan rests on: scanned only around its added lines, a file that holds secrets
        /// elsewhere gives every finding touching an added line that a whole scan gives.
        #[test]
        fn a_scan_around_added_lines_finds_every_finding_that_touches_them(
            text in loud_text(),
            hunks in prop::collection::vec((any::<usize>(), 1usize..24), 1..8),
        ) {
            use crate::source::staged::AddedLines;
            let scanner = Scanner::new(engine(), Box::leak(Box::new(Policy::default())));
            let mut w = scanner.worker();
            let lines = text.matches('\n').count() + 1;
            let hunks: Vec<(usize, usize)> = hunks.iter().map(|&(s, n)| (1 + s % lines, n)).collect();
            let added = AddedLines::of(&hunks);
            let touching = |found: Vec<Finding>| -> Vec<String> {
                let mut kept: Vec<String> =
                    found.into_iter().filter(|f| added.touched_by(f)).map(|f| format!("{f:?}")).collect();
                kept.sort();
                kept
            };
            let changes = added.byte_ranges(text.as_bytes());
            let mut near = Vec::new();
            let edit = scanner.scan_edit(&mut w, "b.txt", &Origin::File, text.as_bytes(), &changes, false, crate::engine::ALL_WIDE, &mut near);
            if edit.is_none() {
                return Ok(());
            }
            let mut full = Vec::new();
            scanner.scan(&mut w, "b.txt", &Origin::File, text.as_bytes(), &mut full);
            prop_assert_eq!(touching(near), touching(full), "{:?} {:?}", hunks, text);
        }

        #[test]
        fn a_scan_around_the_edit_of_a_quiet_base_finds_what_a_full_scan_finds(
            base in text(),
            ops in ops(),
            binary in any::<bool>(),
        ) {
            let scanner = Scanner::new(engine(), Box::leak(Box::new(Policy::default())));
            let mut w = scanner.worker();
            let mut found = Vec::new();
            // A binary file scanned as bytes (a pickle's header: a NUL among the first bytes) or plain text.
            let base = if binary { [&b"\x80\x05\x00"[..], base.as_bytes()].concat() } else { base.into_bytes() };
            scanner.scan(&mut w, "a.txt", &Origin::File, &base, &mut found);
            let class = if binary { text::Class::Binary } else { text::Class::Text };
            let base_wide = w.take_wide();
            if w.take_noisy() || text::classify(&base) != class {
                return Ok(());
            }
            prop_assert!(found.is_empty());
            let delta = encode(&base, &ops);
            let target = apply_delta(&base, &delta).expect("the encoded delta applies");
            let mut changes = Vec::new();
            delta_changes(&delta, &mut changes).expect("the encoded delta parses");
            let mut near = Vec::new();
            let edit = scanner.scan_edit(&mut w, "b.txt", &Origin::File, &target, &changes, binary, base_wide, &mut near);
            let Some(scanned) = edit else {
                return Ok(());
            };
            let near_noisy = w.take_noisy();
            let near_wide = w.take_wide();
            let mut full = Vec::new();
            let full_scanned = scanner.scan(&mut w, "b.txt", &Origin::File, &target, &mut full);
            let full_noisy = w.take_noisy();
            // A blob that holds a wider tier's keyword is never taken for one that does not.
            prop_assert_eq!(w.take_wide() & !near_wide, 0);
            prop_assert_eq!(format!("{near:?}"), format!("{full:?}"), "{:?}", String::from_utf8_lossy(&target));
            prop_assert_eq!(near_noisy, full_noisy);
            prop_assert_eq!(format!("{scanned:?}"), format!("{full_scanned:?}"));
        }
    }
}

#[cfg(test)]
mod progress_tests {
    use super::rate;

    #[test]
    fn the_reading_rate_is_in_bytes_per_second_with_a_unit() {
        assert_eq!(rate(812_400, 1.0), "812.4 KB/s");
        assert_eq!(rate(75_000_000, 2.0), "37.5 MB/s");
        assert_eq!(rate(2_400_000_000, 2.0), "1.2 GB/s");
        assert_eq!(rate(0, 1.0), "0.0 KB/s");
    }
}
