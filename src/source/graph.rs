//! The commit graph of a history scan, kept compact: commits in the walk's topological order (parents
//! first) as dense `u32` indices, parents in one flat array. It answers the two questions a leak timeline
//! asks of the graph: which commits make up HEAD's first-parent line, and which refs reach a commit.
//!
//! Reachability is never a walk per finding: [`CommitGraph::reaching_refs`] sweeps the topological order
//! once per block of 64 target commits, carrying a 64-bit mask from parents to children, so its cost is
//! (targets / 64) × edges and its memory one `u64` per commit, whatever the number of findings.

use git2::{ObjectType, Oid, Repository};

use super::oid::OidMap;
use super::pack::PackReader;

/// Marks a parent that is not in the graph (outside the selection, unreadable, or beyond a shallow
/// boundary), so that the first parent keeps its place in the list.
const OUTSIDE: u32 = u32::MAX;

/// Commits in topological order with their parents.
#[derive(Debug, Default)]
pub struct CommitGraph {
    order: Vec<Oid>,
    index: OidMap<u32>,
    /// `parents[parent_start[i]..parent_start[i + 1]]` are commit `i`'s parents, in commit order.
    parent_start: Vec<u32>,
    parents: Vec<u32>,
    /// Each commit's root tree, parallel to `order` (empty for a graph built without them).
    trees: Vec<Oid>,
}

impl CommitGraph {
    /// Builds the graph from commits in topological order (parents first) and each commit's parent ids.
    pub fn new(order: Vec<Oid>, parents_of: impl Fn(&Oid) -> Vec<Oid>) -> CommitGraph {
        let index: OidMap<u32> = order
            .iter()
            .enumerate()
            .map(|(i, &o)| (o, u32::try_from(i).unwrap_or(OUTSIDE)))
            .collect();
        let mut parent_start = Vec::with_capacity(order.len() + 1);
        let mut parents = Vec::with_capacity(order.len() + order.len() / 8);
        for oid in &order {
            parent_start.push(u32::try_from(parents.len()).unwrap_or(OUTSIDE));
            parents.extend(parents_of(oid).iter().map(|p| index.get(p).copied().unwrap_or(OUTSIDE)));
        }
        parent_start.push(u32::try_from(parents.len()).unwrap_or(OUTSIDE));
        CommitGraph {
            order,
            index,
            parent_start,
            parents,
            trees: Vec::new(),
        }
    }

    /// Builds the graph from a walk that numbered commits as it met them: `order` lists those numbers
    /// parents first, `ids` and `trees` are by number, `parents_of(n)` gives commit `n`'s parents by
    /// number (`None`: outside the walk). A number `order` leaves out (only a cycle could) is outside.
    pub fn from_walk(
        order: &[u32],
        ids: &[Oid],
        trees: &[Oid],
        parents_of: impl Fn(usize) -> Vec<Option<u32>>,
    ) -> CommitGraph {
        let mut position = vec![OUTSIDE; ids.len()];
        for (at, &n) in order.iter().enumerate() {
            if let Some(p) = position.get_mut(n as usize) {
                *p = u32::try_from(at).unwrap_or(OUTSIDE);
            }
        }
        let mut index = OidMap::with_capacity_and_hasher(order.len(), Default::default());
        let mut parent_start = Vec::with_capacity(order.len() + 1);
        let mut parents = Vec::with_capacity(order.len() + order.len() / 8);
        for (at, &n) in order.iter().enumerate() {
            if let Some(&id) = ids.get(n as usize) {
                index.insert(id, u32::try_from(at).unwrap_or(OUTSIDE));
            }
            parent_start.push(u32::try_from(parents.len()).unwrap_or(OUTSIDE));
            parents.extend(
                parents_of(n as usize)
                    .into_iter()
                    .map(|p| p.and_then(|p| position.get(p as usize).copied()).unwrap_or(OUTSIDE)),
            );
        }
        parent_start.push(u32::try_from(parents.len()).unwrap_or(OUTSIDE));
        let pick = |v: &[Oid]| order.iter().filter_map(|&n| v.get(n as usize).copied()).collect();
        CommitGraph {
            order: pick(ids),
            index,
            parent_start,
            parents,
            trees: pick(trees),
        }
    }

    /// Commit `i`'s root tree, when the walk recorded it.
    pub fn tree(&self, i: u32) -> Option<Oid> {
        self.trees.get(i as usize).copied()
    }

    /// The commits, parents before children.
    pub fn order(&self) -> &[Oid] {
        &self.order
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The dense index of a commit, if the graph holds it.
    pub fn index(&self, oid: &Oid) -> Option<u32> {
        self.index.get(oid).copied()
    }

    pub fn oid(&self, i: u32) -> Option<Oid> {
        self.order.get(i as usize).copied()
    }

    fn parents(&self, i: usize) -> &[u32] {
        let (Some(&a), Some(&b)) = (self.parent_start.get(i), self.parent_start.get(i + 1)) else {
            return &[];
        };
        self.parents.get(a as usize..b as usize).unwrap_or(&[])
    }

    /// The first-parent line ending at `tip`, oldest first (the root, or the first commit whose first
    /// parent is outside the graph, comes first).
    pub fn first_parent_line(&self, tip: u32) -> Vec<u32> {
        let mut line = Vec::new();
        let mut at = tip;
        // Parents come before children in the order, so each step strictly lowers the index: no cycle.
        while (at as usize) < self.order.len() {
            line.push(at);
            match self.parents(at as usize).first() {
                Some(&p) if p < at => at = p,
                _ => break,
            }
        }
        line.reverse();
        line
    }

    /// For each target commit, the set of tips that reach it (a commit reaches itself), as a bitset over
    /// `tips` (`u64` words, bit `t % 64` of word `t / 64` for tip `t`).
    pub fn reaching_refs(&self, targets: &[u32], tips: &[u32]) -> Vec<Vec<u64>> {
        let words = tips.len().div_ceil(64);
        let mut out = vec![vec![0u64; words]; targets.len()];
        let mut mask = vec![0u64; self.order.len()];
        for (block, chunk) in targets.chunks(64).enumerate() {
            mask.iter_mut().for_each(|m| *m = 0);
            for (bit, &t) in chunk.iter().enumerate() {
                if let Some(m) = mask.get_mut(t as usize) {
                    *m |= 1 << bit;
                }
            }
            // Topological order: every parent's mask is final before its children read it.
            for i in 0..self.order.len() {
                let mut m = mask[i];
                for &p in self.parents(i) {
                    if let Some(pm) = mask.get(p as usize) {
                        m |= *pm;
                    }
                }
                mask[i] = m;
            }
            for (t, &tip) in tips.iter().enumerate() {
                let mut m = mask.get(tip as usize).copied().unwrap_or(0);
                while m != 0 {
                    let bit = m.trailing_zeros() as usize;
                    m &= m - 1;
                    if let Some(set) = out.get_mut(block * 64 + bit) {
                        set[t / 64] |= 1 << (t % 64);
                    }
                }
            }
        }
        out
    }
}

/// A ref that leads to a commit, and the commit.
#[derive(Clone, Debug)]
pub struct RefTip {
    pub name: String,
    pub commit: Oid,
}

/// Every ref under `refs/` that peels to a commit (tags through annotated tags), and a detached HEAD as
/// `HEAD`. Refs that cannot be resolved are left out: the inventory already reported them.
pub fn ref_tips(repo: &Repository) -> Vec<RefTip> {
    let mut out = Vec::new();
    if let Ok(iter) = repo.references() {
        for r in iter.flatten() {
            let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
            let Ok(obj) = r.resolve().and_then(|d| d.peel(ObjectType::Any)) else {
                continue;
            };
            if let Ok(c) = obj.peel_to_commit() {
                out.push(RefTip { name, commit: c.id() });
            }
        }
    }
    if repo.head_detached().unwrap_or(false) {
        if let Ok(c) = repo.head().and_then(|h| h.peel_to_commit()) {
            out.push(RefTip {
                name: "HEAD".to_string(),
                commit: c.id(),
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The graph of every commit reachable from any ref or HEAD, for a scan whose selection (a branch, a
/// range) did not walk them all: a remote-tracking ref ahead of the scanned branch still says "pushed".
pub fn whole(repo: &Repository, reader: Option<&mut PackReader<'_>>, tips: &[RefTip]) -> CommitGraph {
    let mut starts: Vec<Oid> = tips.iter().map(|t| t.commit).collect();
    if let Ok(c) = repo.head().and_then(|h| h.peel_to_commit()) {
        starts.push(c.id());
    }
    // Unreadable commits were reported by the inventory's own walk.
    super::git::walk_commits(repo, reader, &starts, &[], &mut Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).expect("20 bytes make an id")
    }

    /// 0 ─ 1 ─ 2 ─ 4 (main: merge of 2 and 3)
    ///      └─ 3 (branch)
    fn graph() -> CommitGraph {
        let parents: HashMap<Oid, Vec<Oid>> = [
            (oid(0), vec![]),
            (oid(1), vec![oid(0)]),
            (oid(2), vec![oid(1)]),
            (oid(3), vec![oid(1)]),
            (oid(4), vec![oid(2), oid(3)]),
        ]
        .into_iter()
        .collect();
        CommitGraph::new((0..5).map(oid).collect(), |o| parents[o].clone())
    }

    #[test]
    fn first_parent_line_skips_the_merged_branch() {
        assert_eq!(graph().first_parent_line(4), vec![0, 1, 2, 4]);
        assert_eq!(graph().first_parent_line(3), vec![0, 1, 3]);
    }

    #[test]
    fn reaching_refs_names_each_tip_that_reaches_a_target() {
        let g = graph();
        // tips: 0 = main (4), 1 = branch (3), 2 = old (1)
        let sets = g.reaching_refs(&[3, 2, 0], &[4, 3, 1]);
        assert_eq!(sets[0], vec![0b011]); // commit 3: main (merged), branch
        assert_eq!(sets[1], vec![0b001]); // commit 2: main only
        assert_eq!(sets[2], vec![0b111]); // the root: every tip
    }

    #[test]
    fn reaching_refs_works_past_one_block_of_targets() {
        let n = 200u32;
        let order: Vec<Oid> = (0..n)
            .map(|i| {
                let mut b = [0u8; 20];
                b[..4].copy_from_slice(&i.to_be_bytes());
                Oid::from_bytes(&b).expect("20 bytes")
            })
            .collect();
        let chain = order.clone();
        let g = CommitGraph::new(order, |o| {
            let i = chain.iter().position(|c| c == o).expect("in chain");
            if i == 0 {
                vec![]
            } else {
                vec![chain[i - 1]]
            }
        });
        let targets: Vec<u32> = (0..n).collect();
        // One tip in the middle of the chain reaches exactly the commits up to it.
        let sets = g.reaching_refs(&targets, &[150]);
        for (t, set) in sets.iter().enumerate() {
            assert_eq!(set[0] == 1, t <= 150, "commit {t}");
        }
    }
}
