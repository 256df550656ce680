//! The leak timeline of history findings: when each secret was first seen, the stretches of HEAD's
//! first-parent line whose trees hold it (and so the commit that removed it, if one did), how long it was
//! exposed, whether a remote-tracking ref reaches it (pushed), and the refs that do.
//!
//! Two passes serve every finding at once, so the cost does not grow with a walk per finding:
//! - *presence*: HEAD's first-parent line is walked once, oldest first, reading only the trees on the
//!   way to the paths that ever held a secret (a subtree whose id did not change is not read again);
//!   each path's blob changes are the events each finding's spans are cut from;
//! - *reach*: [`CommitGraph::reaching_refs`] sweeps the topological order with 64-bit masks.
//!
//! Knows commits, paths and blob ids; never reads a blob, never sees a secret.

use std::collections::HashMap;

use git2::{Oid, Repository};
use rayon::prelude::*;

use crate::finding::{CommitStamp, Finding, HeadSpan, Timeline};
use crate::source::git::{self, Inventory, Selection};
use crate::source::graph::{self, CommitGraph};
use crate::source::pack::{PackReader, PackSet};

/// What a finding is made of, as the timeline needs it: where it came in, which blobs hold it and at
/// which paths those blobs ever sat.
#[derive(Debug, Default)]
pub struct Footprint {
    /// Inventory indices of the commits that brought it in (files and messages), sorted.
    pub commits: Vec<u32>,
    /// Refs named by places no commit introduced (a tag pointing at a tree, a blob, or a tag message).
    pub labels: Vec<String>,
    /// The blobs that hold it, sorted.
    pub blobs: Vec<Oid>,
    /// Every path (inventory index) those blobs sat at, sorted.
    pub paths: Vec<u32>,
    /// The inventory index of the commit of the finding's own place (`None`: no commit brought it in).
    pub first_seq: Option<u32>,
}

/// The ref a `NO_COMMIT` place label names: `refs/tags/v1:config/.env` → `refs/tags/v1`,
/// `refs/tags/v1 (tag message)` → `refs/tags/v1`.
pub fn label_ref(label: &str) -> &str {
    let label = label.strip_suffix(" (tag message)").unwrap_or(label);
    label.split_once(':').map_or(label, |(r, _)| r)
}

/// Sets `history.timeline` on each finding from its footprint (same order). `now` is the scan's clock
/// (Unix seconds), for how long a secret HEAD still holds has been exposed.
pub fn annotate(
    repo: &Repository,
    inv: &Inventory,
    selection: &Selection,
    findings: &mut [Finding],
    footprints: &[Footprint],
    now: i64,
) {
    if findings.is_empty() {
        return;
    }
    let tips = graph::ref_tips(repo);
    // One index load serves the whole graph's walk (a branch or range scan) and the line's trees.
    let packs = PackSet::open(repo.path());
    let whole;
    let graph: &CommitGraph = if *selection == Selection::All {
        &inv.graph
    } else {
        whole = graph::whole(repo, Some(&mut packs.lookup_reader(TREE_CACHE)), &tips);
        &whole
    };
    let remotes: Vec<String> = repo
        .remotes()
        .map(|r| r.iter().flatten().flatten().map(str::to_string).collect())
        .unwrap_or_default();

    // Reach: which refs reach each commit that brought a secret in.
    let to_graph = |c: u32| inv.commits.get(c as usize).and_then(|o| graph.index(o));
    let mut targets: Vec<u32> = footprints
        .iter()
        .flat_map(|fp| fp.commits.iter().filter_map(|&c| to_graph(c)))
        .collect();
    targets.sort_unstable();
    targets.dedup();
    let tip_index: Vec<(usize, u32)> = tips
        .iter()
        .enumerate()
        .filter_map(|(i, t)| graph.index(&t.commit).map(|g| (i, g)))
        .collect();
    let tip_commits: Vec<u32> = tip_index.iter().map(|&(_, g)| g).collect();
    let reach = graph.reaching_refs(&targets, &tip_commits);

    // Presence on HEAD's first-parent line.
    let line: Vec<u32> = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .ok()
        .and_then(|c| graph.index(&c.id()))
        .map(|h| graph.first_parent_line(h))
        .unwrap_or_default();
    let paths: Vec<u32> = {
        let mut p: Vec<u32> = footprints.iter().flat_map(|fp| fp.paths.iter().copied()).collect();
        p.sort_unstable();
        p.dedup();
        p
    };
    // No line commit before the earliest commit that brought in one of these blobs can hold it.
    let earliest = footprints
        .iter()
        .flat_map(|fp| fp.commits.iter().filter_map(|&c| to_graph(c)))
        .min();
    let start = earliest.map_or(line.len(), |e| line.partition_point(|&g| g < e));
    let events = presence(repo, &packs, graph, &line, start, &paths, inv);

    let seqs: HashMap<Oid, u32> = inv
        .commits
        .iter()
        .enumerate()
        .map(|(i, &c)| (c, u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();
    let mut stamps: HashMap<Oid, Option<CommitStamp>> = HashMap::new();
    let mut stamp = |oid: Oid| -> Option<CommitStamp> {
        stamps
            .entry(oid)
            .or_insert_with(|| {
                git::commit_meta(repo, oid).map(|m| CommitStamp {
                    seq: seqs.get(&oid).copied().unwrap_or(u32::MAX),
                    time: git::parse_date(&m.date).unwrap_or(0),
                    sha: m.sha,
                    date: m.date,
                })
            })
            .clone()
    };

    for (f, fp) in findings.iter_mut().zip(footprints) {
        let Some(h) = f.history.as_mut() else { continue };
        // Refs.
        let words = tip_commits.len().div_ceil(64);
        let mut set = vec![0u64; words];
        for g in fp.commits.iter().filter_map(|&c| to_graph(c)) {
            if let Ok(i) = targets.binary_search(&g) {
                for (w, r) in set.iter_mut().zip(&reach[i]) {
                    *w |= r;
                }
            }
        }
        let mut names: Vec<&str> = Vec::new();
        for (t, &(tip, _)) in tip_index.iter().enumerate() {
            if set[t / 64] & (1 << (t % 64)) != 0 {
                names.push(&tips[tip].name);
            }
        }
        names.extend(fp.labels.iter().map(|l| label_ref(l)));
        names.sort_unstable();
        names.dedup();
        let mut remote_names: Vec<String> = names
            .iter()
            .filter_map(|n| n.strip_prefix("refs/remotes/"))
            .map(|rest| remote_of(rest, &remotes))
            .collect();
        remote_names.sort();
        remote_names.dedup();

        // Spans on HEAD's line.
        let spans = spans(&events, fp);
        let head_spans: Vec<HeadSpan> = spans
            .iter()
            .filter_map(|&(a, b)| {
                let added = stamp(graph.oid(*line.get(a as usize)?)?)?;
                let removed = match b {
                    Some(b) => Some((stamp(graph.oid(*line.get(b as usize)?)?)?, b)),
                    None => None,
                };
                Some(HeadSpan {
                    added,
                    added_pos: a,
                    removed,
                })
            })
            .collect();
        let first_seen = f.origin.commit().map(|c| CommitStamp {
            seq: fp.first_seq.unwrap_or(u32::MAX),
            sha: c.sha.clone(),
            date: c.date.clone(),
            time: git::parse_date(&c.date).unwrap_or(0),
        });
        let removed_in = if h.in_head {
            None
        } else {
            head_spans
                .last()
                .and_then(|s| s.removed.as_ref())
                .map(|(c, _)| c.clone())
        };
        let end = removed_in.as_ref().map_or(now, |c| c.time);
        let exposed_days = first_seen.as_ref().map_or(0, |s| exposed_days(s.time, end));
        h.timeline = Some(Timeline {
            first_seen,
            removed_in,
            head_spans,
            exposed_days,
            exposed_until: end,
            pushed: !remote_names.is_empty(),
            remotes: remote_names,
            ref_count: names.len(),
            refs: names.iter().take(Timeline::REF_LIMIT).map(|s| s.to_string()).collect(),
        });
    }
}

/// Whole days between two Unix times (0 when `end` is earlier).
pub fn exposed_days(start: i64, end: i64) -> u64 {
    u64::try_from(end.saturating_sub(start)).unwrap_or(0) / 86_400
}

/// `origin` from `origin/main`: the longest configured remote name the ref starts with, else its first
/// component.
fn remote_of(rest: &str, remotes: &[String]) -> String {
    remotes
        .iter()
        .filter(|r| rest.strip_prefix(r.as_str()).is_some_and(|t| t.starts_with('/')))
        .max_by_key(|r| r.len())
        .cloned()
        .unwrap_or_else(|| rest.split('/').next().unwrap_or(rest).to_string())
}

/// Blob changes per path along the line: (position on the line, the blob now at the path, if any).
type Events = HashMap<u32, Vec<(u32, Option<Oid>)>>;

/// The stretches `[added, removed)` of the line where some path of the footprint holds one of its
/// blobs, merged, oldest first; `removed` is `None` for a stretch that reaches HEAD.
pub fn spans(events: &Events, fp: &Footprint) -> Vec<(u32, Option<u32>)> {
    let mut cuts: Vec<(u32, Option<u32>)> = Vec::new();
    for p in &fp.paths {
        let Some(ev) = events.get(p) else { continue };
        let mut open: Option<u32> = None;
        for &(pos, blob) in ev {
            let holds = blob.is_some_and(|b| fp.blobs.binary_search(&b).is_ok());
            match (open, holds) {
                (None, true) => open = Some(pos),
                (Some(a), false) => {
                    cuts.push((a, Some(pos)));
                    open = None;
                }
                _ => {}
            }
        }
        if let Some(a) = open {
            cuts.push((a, None));
        }
    }
    merge_spans(cuts)
}

/// The union of `[a, b)` stretches (`b = None`: open to HEAD), oldest first; touching stretches join.
pub fn merge_spans(mut cuts: Vec<(u32, Option<u32>)>) -> Vec<(u32, Option<u32>)> {
    cuts.sort_unstable_by_key(|&(a, b)| (a, b.map_or(u64::MAX, u64::from)));
    let mut out: Vec<(u32, Option<u32>)> = Vec::new();
    for (a, b) in cuts {
        match out.last_mut() {
            Some(last) if last.1.is_none_or(|e| a <= e) => {
                last.1 = match (last.1, b) {
                    (None, _) | (_, None) => None,
                    (Some(x), Some(y)) => Some(x.max(y)),
                };
            }
            _ => out.push((a, b)),
        }
    }
    out
}

/// One directory or file name on the way to a watched path.
#[derive(Clone)]
struct Node {
    name: Vec<u8>,
    children: Vec<usize>,
    /// The inventory path this node ends, if one does.
    path: Option<u32>,
    /// The entry id last seen here (`Some(None)`: nothing there), to skip an unchanged subtree without
    /// reading it; `None` before the first visit.
    last: Option<Option<Oid>>,
    /// The blob last seen at `path`, with the same `None` before the first visit.
    blob: Option<Option<Oid>>,
}

/// Walks the line from `start`, reading only the trees on the way to `paths`; returns each path's blob
/// changes.
fn presence(
    repo: &Repository,
    packs: &PackSet,
    graph: &CommitGraph,
    line: &[u32],
    start: usize,
    paths: &[u32],
    inv: &Inventory,
) -> Events {
    let mut events = Events::new();
    if paths.is_empty() {
        return events;
    }
    let mut nodes = vec![Node {
        name: Vec::new(),
        children: Vec::new(),
        path: None,
        last: None,
        blob: None,
    }];
    for &p in paths {
        let Some(text) = inv.paths.get(p as usize) else {
            continue;
        };
        let mut at = 0;
        for part in text.split('/') {
            let found = nodes[at]
                .children
                .iter()
                .copied()
                .find(|&c| nodes[c].name == part.as_bytes());
            at = match found {
                Some(c) => c,
                None => {
                    nodes.push(Node {
                        name: part.as_bytes().to_vec(),
                        children: Vec::new(),
                        path: None,
                        last: None,
                        blob: None,
                    });
                    let c = nodes.len() - 1;
                    nodes[at].children.push(c);
                    c
                }
            };
        }
        nodes[at].path = Some(p);
    }
    // The line is cut into runs walked in parallel, each with its own repository handle and its own copy
    // of the trie; a run's first commit reports every watched path (the trie starts unknown), so runs
    // join without a gap.
    let positions: Vec<usize> = (start..line.len()).collect();
    let run = (positions.len() / (rayon::current_num_threads() * 4)).max(64);
    // Trees come from the packs through each run's own reader (libgit2 only for what the packs do not
    // hold): libgit2's shared pack windows made parallel runs contend on its lock and on map churn.
    let git_dir = repo.path().to_path_buf();
    let parts: Vec<Events> = positions
        .par_chunks(run)
        .map(|chunk| {
            let mut events = Events::new();
            let Ok(repo) = git::open_dir(&git_dir) else {
                return events;
            };
            let mut reader = packs.lookup_reader(TREE_CACHE);
            let mut nodes = nodes.clone();
            for &pos in chunk {
                let Some(tree) = line.get(pos).and_then(|&g| {
                    graph
                        .tree(g)
                        .or_else(|| graph.oid(g).and_then(|o| repo.find_commit(o).ok()).map(|c| c.tree_id()))
                }) else {
                    continue;
                };
                let pos = u32::try_from(pos).unwrap_or(u32::MAX);
                let mut trees = TreeReader {
                    repo: &repo,
                    reader: &mut reader,
                };
                visit(&mut trees, &mut nodes, 0, Some((tree, true)), pos, &mut events);
            }
            events
        })
        .collect();
    for part in parts {
        for (path, list) in part {
            events.entry(path).or_default().extend(list);
        }
    }
    events
}

/// The delta-base cache of each line-walk reader: trees are small, and peak memory is shared with the
/// inventory still held.
const TREE_CACHE: usize = 2 << 20;

/// Where the line walk reads trees: the packs first, then libgit2.
struct TreeReader<'r, 'p> {
    repo: &'r Repository,
    reader: &'r mut PackReader<'p>,
}

/// Brings node `n` up to date with the entry now at its place (`(id, is_tree)`, or none).
fn visit(
    trees: &mut TreeReader<'_, '_>,
    nodes: &mut [Node],
    n: usize,
    entry: Option<(Oid, bool)>,
    pos: u32,
    events: &mut Events,
) {
    let id = entry.map(|e| e.0);
    if nodes[n].last == Some(id) {
        return;
    }
    nodes[n].last = Some(id);
    if let Some(p) = nodes[n].path {
        let blob = entry.filter(|e| !e.1).map(|e| e.0);
        if nodes[n].blob != Some(blob) {
            nodes[n].blob = Some(blob);
            events.entry(p).or_default().push((pos, blob));
        }
    }
    let children = nodes[n].children.clone();
    if children.is_empty() {
        return;
    }
    let tree = entry
        .filter(|e| e.1)
        .and_then(|e| git::read_tree(trees.repo, Some(&mut *trees.reader), e.0));
    let entries: Vec<Option<(Oid, bool)>> = match (&tree, children.as_slice()) {
        (None, _) => vec![None; children.len()],
        (Some(t), &[c]) => vec![git::raw_tree_entry(t, &nodes[c].name)],
        (Some(t), _) => {
            let names: Vec<&[u8]> = children.iter().map(|&c| nodes[c].name.as_slice()).collect();
            git::raw_tree_entries(t, &names)
        }
    };
    for (c, child) in children.into_iter().zip(entries) {
        visit(trees, nodes, c, child, pos, events);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_merge_touching_and_open_stretches() {
        assert_eq!(merge_spans(vec![(3, Some(5)), (1, Some(3))]), vec![(1, Some(5))]);
        assert_eq!(
            merge_spans(vec![(1, Some(2)), (4, None)]),
            vec![(1, Some(2)), (4, None)]
        );
        assert_eq!(merge_spans(vec![(4, Some(9)), (1, None)]), vec![(1, None)]);
        assert_eq!(merge_spans(vec![]), vec![]);
    }

    #[test]
    fn a_secret_moved_between_paths_is_one_stretch() {
        let b = Oid::from_bytes(&[1; 20]).expect("id");
        let other = Oid::from_bytes(&[2; 20]).expect("id");
        let mut events = Events::new();
        // path 0 holds it from 2 to 5; path 1 from 5 (a rename) to 8, then it comes back at 10.
        events.insert(0, vec![(2, Some(b)), (5, None)]);
        events.insert(1, vec![(5, Some(b)), (8, Some(other)), (10, Some(b))]);
        let fp = Footprint {
            blobs: vec![b],
            paths: vec![0, 1],
            ..Footprint::default()
        };
        assert_eq!(spans(&events, &fp), vec![(2, Some(8)), (10, None)]);
    }

    #[test]
    fn labels_name_their_ref() {
        assert_eq!(label_ref("refs/tags/v1:config/.env"), "refs/tags/v1");
        assert_eq!(label_ref("refs/tags/v1 (tag message)"), "refs/tags/v1");
        assert_eq!(label_ref("refs/tags/blob"), "refs/tags/blob");
    }

    #[test]
    fn remotes_take_the_longest_configured_name() {
        let remotes = vec!["origin".to_string(), "my/fork".to_string()];
        assert_eq!(remote_of("origin/main", &remotes), "origin");
        assert_eq!(remote_of("my/fork/main", &remotes), "my/fork");
        assert_eq!(remote_of("gone/main", &remotes), "gone");
    }

    #[test]
    fn exposure_counts_whole_days() {
        assert_eq!(exposed_days(0, 86_399), 0);
        assert_eq!(exposed_days(0, 86_400 * 412 + 5), 412);
        assert_eq!(exposed_days(100, 0), 0);
    }
}
