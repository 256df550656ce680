//! The git-history source: which commits to look at, which blobs each of them brought in and at which
//! paths, and reading one blob or commit on demand.
//!
//! Provenance comes from walking trees, not from content diffs: a commit's tree is compared with its
//! parents' trees by object id, identical subtrees are skipped whole, and a blob counts as *introduced*
//! by a commit at a path only when no parent has that same blob at that path. So a merge introduces
//! nothing that one of its parents already had, and a key that came in on a merged branch is attributed
//! to the branch commit that added it. Each unique blob is listed once with all its places; the caller
//! reads and scans it once. Nothing here knows about rules or reports.

use std::{
    cmp::Ordering,
    collections::{HashMap, HashSet, VecDeque},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use git2::{ObjectType, Oid, Repository, RepositoryOpenFlags};
use rayon::prelude::*;
use thiserror::Error;

use super::graph::CommitGraph;
use super::oid::{OidMap, OidSet};
use super::pack::{PackReader, PackSet, ReaderPool};
use crate::finding::{ErrorKind, Notice, ScanError};

/// A repository that could not be opened, or a ref or range that could not be resolved.
#[derive(Debug, Error)]
pub enum GitError {
    #[error("{path}: not a git repository ({message})")]
    Open { path: String, message: String },
    #[error("`{spec}`: {message}")]
    Revision { spec: String, message: String },
    #[error("walking commits: {0}")]
    Walk(String),
}

/// Which commits to scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Every commit reachable from any ref (branches, tags, remote-tracking refs, stash) and HEAD.
    All,
    /// The commits reachable from one ref or revision.
    Branch(String),
    /// `A..B`: the commits reachable from B and not from A (a pull request's commits).
    Range(String),
}

/// Where a blob sits: the commit that introduced it there and the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    /// Index into [`Inventory::commits`].
    pub commit: u32,
    /// Index into [`Inventory::paths`].
    pub path: u32,
}

/// One unique blob and every place some commit introduced it.
#[derive(Debug)]
pub struct BlobProvenance {
    pub id: Oid,
    /// In commit order (parents before children), so the first place is the earliest.
    pub places: Vec<Place>,
}

/// What the walk found: commits in topological order (parents first), interned paths, unique blobs.
#[derive(Debug, Default)]
pub struct Inventory {
    pub commits: Vec<Oid>,
    pub paths: Vec<String>,
    pub blobs: Vec<BlobProvenance>,
    /// Every commit the walk met (those `--since` skips included), parents first, with their parents: the
    /// timeline's reachability and first-parent line.
    pub graph: CommitGraph,
    /// Objects that could not be read (a corrupt or missing tree or commit), naming object and commit.
    pub errors: Vec<ScanError>,
    /// Annotated tag messages scanned.
    pub tag_messages: usize,
    pub notices: Vec<Notice>,
}

/// An open repository plus the directory that lets worker threads open their own handle
/// (`git2::Repository` is not `Sync`).
pub struct Repo {
    repo: Repository,
    git_dir: PathBuf,
}

/// How much of the packs libgit2 keeps mapped at once, and in windows of what size, and how many bytes of
/// parsed objects each handle caches. libgit2 now reads only commits, refs and what the pack reader
/// leaves to it (`pack.rs`); its defaults (8 GiB of maps in 1 GiB windows, a 256 MiB object cache per
/// handle) let a history scan's resident memory grow with the packs touched and the commits walked.
const PACK_MAPPED_LIMIT: usize = 32 << 20;
const PACK_WINDOW: usize = 8 << 20;
const OBJECT_CACHE: usize = 16 << 20;

/// Reads objects without re-hashing them (SHA-1 with collision detection), which was 40% of a history
/// scan's CPU and a tenth of a pre-commit hook's on an ordinary commit. A scanner reads what is there: a
/// damaged object still fails to inflate or apply and becomes an error; one whose bytes no longer match
/// its id is scanned as it is, which loses no secret.
pub(crate) fn skip_hash_verification() {
    git2::opts::strict_hash_verification(false);
}

fn bound_pack_maps() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: libgit2 reads these global sizes when it maps a pack window; they are set once per
        // process, before this process opens its first repository for a history scan (the call sits in
        // `Repo::open`, on the main thread, ahead of the worker threads that read objects).
        unsafe {
            let _ = git2::opts::set_mwindow_mapped_limit(PACK_MAPPED_LIMIT);
            let _ = git2::opts::set_mwindow_size(PACK_WINDOW);
            let _ = git2::opts::set_cache_max_size(OBJECT_CACHE as isize);
        }
    });
}

/// Opens another handle on a repository by its git directory (`git2::Repository` is not `Sync`).
pub fn open_dir(git_dir: &Path) -> Result<Repository, GitError> {
    Repository::open(git_dir).map_err(|e| GitError::Open {
        path: git_dir.display().to_string(),
        message: e.message().to_string(),
    })
}

impl Repo {
    /// Opens the repository at or above `path`: a work tree, a linked worktree or a bare repository.
    pub fn open(path: &Path) -> Result<Repo, GitError> {
        skip_hash_verification();
        bound_pack_maps();
        let repo =
            Repository::open_ext(path, RepositoryOpenFlags::empty(), std::iter::empty::<&str>()).map_err(|e| {
                GitError::Open {
                    path: path.display().to_string(),
                    message: e.message().to_string(),
                }
            })?;
        let git_dir = repo.path().to_path_buf();
        Ok(Repo { repo, git_dir })
    }

    /// The git directory, from which a worker thread opens its own handle with [`open_dir`].
    pub fn git_dir(&self) -> &Path {
        &self.git_dir
    }

    /// The work tree, if the repository has one (not for bare repositories).
    pub fn workdir(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    /// Walks the selected commits, calling `message` with each commit's index and message, and lists the
    /// blobs each commit introduced. `since` (Unix seconds) skips older commits.
    ///
    /// `init` makes per-thread state for `message`, which sees each commit's raw message and may keep
    /// something from it (returned with the commit's index).
    ///
    /// A commit `known` says an earlier run compared (`--state`) is listed in `commits` and the graph but
    /// its tree and message are not read again: it introduces nothing here.
    #[allow(clippy::too_many_arguments)]
    pub fn inventory<S, T: Send>(
        &self,
        selection: &Selection,
        since: Option<i64>,
        known: &(dyn Fn(&Oid) -> bool + Sync),
        progress: &dyn Fn(usize),
        init: impl Fn() -> S + Sync,
        message: impl Fn(&mut S, &[u8]) -> Option<T> + Sync,
    ) -> Result<(Inventory, Messages<T>), GitError> {
        let repo = &self.repo;
        let mut inv = Inventory::default();
        if repo.is_shallow() {
            inv.notices.push(Notice {
                path: self.git_dir.display().to_string(),
                message: "shallow clone: history is truncated; commits before the shallow boundary were not \
                          scanned (fetch with --unshallow for a full audit)"
                    .to_string(),
            });
        }
        // The objects the selection starts from. Every ref that cannot be followed to an object is an error
        // naming it: a scan must never call a repository empty because its refs are broken.
        let mut starts = Starts::default();
        let mut hidden: Vec<Oid> = Vec::new();
        match selection {
            Selection::All => {
                let mut refs = 0usize;
                match repo.references() {
                    Ok(iter) => {
                        for r in iter {
                            refs += 1;
                            match r {
                                Ok(r) => {
                                    let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
                                    match r.resolve() {
                                        Ok(direct) => match direct.target() {
                                            Some(oid) => starts.follow(repo, &name, oid, &mut inv.errors),
                                            None => inv.errors.push(ref_error(&name, "points to nothing")),
                                        },
                                        Err(e) => inv.errors.push(ref_error(&name, e.message())),
                                    }
                                }
                                Err(e) => inv
                                    .errors
                                    .push(ref_error(&self.git_dir.display().to_string(), e.message())),
                            }
                        }
                    }
                    Err(e) => inv
                        .errors
                        .push(ref_error(&self.git_dir.display().to_string(), e.message())),
                }
                // A detached HEAD is not under refs/; an unborn HEAD is an empty repository, not an error.
                match repo.head() {
                    Ok(head) => {
                        if let Some(oid) = head.target() {
                            starts.follow(repo, "HEAD", oid, &mut inv.errors);
                        }
                    }
                    Err(e) if matches!(e.code(), git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound) => {}
                    Err(e) => inv.errors.push(ref_error("HEAD", e.message())),
                }
                if refs == 0 && starts.is_empty() && inv.errors.is_empty() {
                    inv.notices.push(Notice {
                        path: self.git_dir.display().to_string(),
                        message: "no commits: the repository is empty or its branch is unborn".to_string(),
                    });
                    return Ok((inv, Messages::default()));
                }
            }
            Selection::Branch(spec) => {
                let obj = repo.revparse_single(spec).map_err(|e| revision(spec, &e))?;
                starts.follow(repo, spec, obj.id(), &mut inv.errors);
            }
            Selection::Range(spec) => {
                let Some((from, to)) = spec.split_once("..").filter(|(_, to)| !to.starts_with('.')) else {
                    return Err(GitError::Revision {
                        spec: spec.clone(),
                        message: "a range is written A..B".to_string(),
                    });
                };
                let to = if to.is_empty() { "HEAD" } else { to };
                let from_obj = repo
                    .revparse_single(from)
                    .and_then(|o| o.peel_to_commit())
                    .map_err(|e| revision(from, &e))?;
                let to_obj = repo.revparse_single(to).map_err(|e| revision(to, &e))?;
                hidden.push(from_obj.id());
                let mut tips = Starts::default();
                tips.follow(repo, to, to_obj.id(), &mut inv.errors);
                starts.commits = tips.commits;
            }
        }

        let git_dir = self.git_dir.as_path();
        // Commits and trees are read from the packs (libgit2 only for what they cannot give), one index
        // load for the commit walk and the tree comparison.
        let packs = PackSet::open(git_dir);
        let phase = crate::trace::phase("commits");
        let mut walk_reader = packs.lookup_reader(WALK_CACHE);
        let graph = walk_commits(repo, Some(&mut walk_reader), &starts.commits, &hidden, &mut inv.errors);
        drop(walk_reader);
        phase.end();
        let phase = crate::trace::phase("trees");
        let order = graph.order();
        // Commits are compared with their parents in parallel, a chunk at a time so that only one chunk's
        // lists are held before they are folded in commit order.
        let mut blob_index: OidMap<u32> = OidMap::default();
        let mut path_index: HashMap<Vec<u8>, u32> = HashMap::new();
        let mut gitlinks: HashSet<u32> = HashSet::new();
        let mut found: Vec<(u32, T)> = Vec::new();
        let mut found_tags: Vec<(u32, T)> = Vec::new();
        // Each worker reads trees with its own reader, whose cache keeps the trees it built: the next
        // commit's parent tree, and the delta bases of its own, are then usually at hand.
        let pool = ReaderPool::for_lookups(&packs, TREE_CACHE);
        let memos = MemoPool::default();
        for chunk in order.chunks(CHUNK) {
            let deltas: Vec<CommitDelta<T>> = chunk
                .par_iter()
                .map_init(
                    || (LazyRepo::new(git_dir), init(), pool.get(), memos.get()),
                    |(repo, state, reader, memo), &oid| {
                        if known(&oid) {
                            return CommitDelta::default();
                        }
                        let mut trees = Trees {
                            repo,
                            packs: Some(reader.reader()),
                            graph: Some(&graph),
                            memo: memo.0.as_mut(),
                        };
                        commit_delta(&mut trees, oid, since, state, &message)
                    },
                )
                .collect();
            for (&oid, delta) in chunk.iter().zip(deltas) {
                inv.errors.extend(delta.errors);
                if delta.skipped {
                    continue;
                }
                let Ok(idx) = u32::try_from(inv.commits.len()) else {
                    return Err(GitError::Walk("more than 4 billion commits".to_string()));
                };
                inv.commits.push(oid);
                if let Some(t) = delta.message {
                    found.push((idx, t));
                }
                for &(id, start, end) in &delta.introduced {
                    let path = delta.names.get(start..end).unwrap_or_default();
                    add_place(&mut inv, &mut blob_index, &mut path_index, id, idx, path);
                }
                for &(start, end) in &delta.gitlinks {
                    let path = delta.names.get(start..end).unwrap_or_default();
                    gitlinks.insert(intern(&mut inv.paths, &mut path_index, path));
                }
            }
            progress(inv.commits.len());
        }
        // Trees and blobs that a ref (a tag, usually) points at directly: no commit brought them in, so
        // their places name the ref (`refs/tags/keys:config/.env`).
        drop(pool);
        drop(packs);
        phase.end();
        let mut shared = LazyRepo::shared(repo);
        for (name, tree) in &starts.trees {
            let mut trees = Trees {
                repo: &mut shared,
                packs: None,
                graph: None,
                memo: None,
            };
            let Ok(raw) = trees.load(*tree) else {
                continue;
            };
            let mut delta = CommitDelta::<T>::default();
            TreeWalker {
                trees: &mut trees,
                commit: *tree,
                delta: &mut delta,
            }
            .walk(&raw, &[], &mut Vec::new());
            inv.errors.extend(delta.errors);
            for &(id, start, end) in &delta.introduced {
                let mut label = format!("{name}:").into_bytes();
                label.extend_from_slice(delta.names.get(start..end).unwrap_or_default());
                add_place(&mut inv, &mut blob_index, &mut path_index, id, NO_COMMIT, &label);
            }
        }
        for (name, blob) in &starts.blobs {
            add_place(
                &mut inv,
                &mut blob_index,
                &mut path_index,
                *blob,
                NO_COMMIT,
                name.as_bytes(),
            );
        }
        // Annotated tag messages are text anyone can paste a key into, like commit messages.
        let mut tag_state = init();
        let mut tag_hits = Vec::new();
        for tag in starts.tags.iter() {
            if let Some(t) = message(&mut tag_state, &tag.message) {
                tag_hits.push((tag.name.clone(), t));
            }
        }
        inv.tag_messages = tag_hits.len();
        for (name, t) in tag_hits {
            let label = format!("{name} (tag message)").into_bytes();
            let path = intern(&mut inv.paths, &mut path_index, &label);
            found_tags.push((path, t));
        }

        let mut submodules: Vec<u32> = gitlinks.into_iter().collect();
        submodules.sort_unstable();
        for p in submodules {
            inv.notices.push(Notice {
                path: inv.paths.get(p as usize).cloned().unwrap_or_default(),
                message: "submodule (gitlink): not scanned; scan its own repository".to_string(),
            });
        }
        inv.graph = graph;
        Ok((
            inv,
            Messages {
                commits: found,
                tags: found_tags,
            },
        ))
    }

    /// Every blob in the tree of HEAD (empty when HEAD is unborn).
    pub fn head_blobs(&self) -> HashSet<Oid> {
        let mut out = HashSet::new();
        let Ok(tree) = self.repo.head().and_then(|h| h.peel_to_tree()) else {
            return out;
        };
        let _ = tree.walk(git2::TreeWalkMode::PreOrder, |_, entry| {
            if entry.kind() == Some(ObjectType::Blob) {
                out.insert(entry.id());
            }
            git2::TreeWalkResult::Ok
        });
        out
    }

    /// The blob at `path` in each parent of `commit` (for deciding what a range really introduced).
    pub fn parent_blobs(&self, commit: Oid, path: &str) -> Vec<Oid> {
        let Ok(c) = self.repo.find_commit(commit) else {
            return Vec::new();
        };
        c.parents()
            .filter_map(|p| p.tree().ok())
            .filter_map(|t| t.get_path(Path::new(path)).ok())
            .filter(|e| e.kind() == Some(ObjectType::Blob))
            .map(|e| e.id())
            .collect()
    }

    pub fn repository(&self) -> &Repository {
        &self.repo
    }
}

/// Reads a blob with a worker's handle and hands its bytes to `f`; `None` without inflating it when the
/// header says it is over `limit`. The bytes are freed when `f` returns.
pub fn with_blob<R>(repo: &Repository, id: Oid, limit: u64, f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>, String> {
    let odb = repo.odb().map_err(|e| e.message().to_string())?;
    let (size, _) = odb.read_header(id).map_err(|e| e.message().to_string())?;
    if size as u64 > limit {
        return Ok(None);
    }
    let obj = odb.read(id).map_err(|e| e.message().to_string())?;
    Ok(Some(f(obj.data())))
}

/// Who and when, for the commit a finding came in with. The summary is returned raw: the caller redacts it.
pub struct CommitMeta {
    pub sha: String,
    pub author: String,
    pub email: String,
    pub date: String,
    pub summary: String,
}

/// Reads a commit's metadata.
pub fn commit_meta(repo: &Repository, id: Oid) -> Option<CommitMeta> {
    let c = repo.find_commit(id).ok()?;
    let a = c.author();
    let when = a.when();
    Some(CommitMeta {
        sha: id.to_string(),
        author: String::from_utf8_lossy(a.name_bytes()).into_owned(),
        email: String::from_utf8_lossy(a.email_bytes()).into_owned(),
        date: rfc3339(when.seconds(), when.offset_minutes()),
        summary: c
            .summary_bytes()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .unwrap_or_default(),
    })
}

/// The commit index of places that no commit introduced (a tree or blob a ref points at directly).
pub const NO_COMMIT: u32 = u32::MAX;

/// What the message callback kept from commit and annotated-tag messages.
pub struct Messages<T> {
    /// (commit index, kept) per commit message.
    pub commits: Vec<(u32, T)>,
    /// (path index of the label `refs/tags/NAME (tag message)`, kept) per tag message.
    pub tags: Vec<(u32, T)>,
}

impl<T> Default for Messages<T> {
    fn default() -> Self {
        Messages {
            commits: Vec::new(),
            tags: Vec::new(),
        }
    }
}

/// An annotated tag met while following a ref.
struct TagMessage {
    name: String,
    message: Vec<u8>,
}

/// What the refs of a selection lead to.
#[derive(Default)]
struct Starts {
    commits: Vec<Oid>,
    /// (ref name, tree) for refs that peel to a tree.
    trees: Vec<(String, Oid)>,
    /// (ref name, blob) for refs that peel to a blob.
    blobs: Vec<(String, Oid)>,
    tags: Vec<TagMessage>,
    seen_tags: HashSet<Oid>,
}

impl Starts {
    fn is_empty(&self) -> bool {
        self.commits.is_empty() && self.trees.is_empty() && self.blobs.is_empty() && self.tags.is_empty()
    }

    /// Follows `oid` (named `name`) through annotated tags to a commit, tree or blob; an object that cannot
    /// be read is an error naming the ref.
    fn follow(&mut self, repo: &Repository, name: &str, mut oid: Oid, errors: &mut Vec<ScanError>) {
        // Tags of tags are legal; a cycle is not possible with content addressing, but bound it anyway.
        for _ in 0..64 {
            let obj = match repo.find_object(oid, None) {
                Ok(o) => o,
                Err(e) => {
                    errors.push(ScanError::new(
                        ErrorKind::Ref,
                        name,
                        format!("cannot read object {oid} that {name} points to: {}", e.message()),
                    ));
                    return;
                }
            };
            match obj.kind() {
                Some(ObjectType::Commit) => {
                    self.commits.push(oid);
                    return;
                }
                Some(ObjectType::Tree) => {
                    self.trees.push((name.to_string(), oid));
                    return;
                }
                Some(ObjectType::Blob) => {
                    self.blobs.push((name.to_string(), oid));
                    return;
                }
                Some(ObjectType::Tag) => {
                    let Some(tag) = obj.as_tag() else { return };
                    if self.seen_tags.insert(oid) {
                        self.tags.push(TagMessage {
                            name: name.to_string(),
                            message: tag.message_bytes().unwrap_or_default().to_vec(),
                        });
                    }
                    oid = tag.target_id();
                }
                _ => return,
            }
        }
    }
}

fn ref_error(name: &str, message: &str) -> ScanError {
    ScanError::new(ErrorKind::Ref, name, format!("cannot resolve {name}: {message}"))
}

fn add_place(
    inv: &mut Inventory,
    blob_index: &mut OidMap<u32>,
    path_index: &mut HashMap<Vec<u8>, u32>,
    id: Oid,
    commit: u32,
    path: &[u8],
) {
    let path = intern(&mut inv.paths, path_index, path);
    let blobs = &mut inv.blobs;
    let i = *blob_index.entry(id).or_insert_with(|| {
        blobs.push(BlobProvenance { id, places: Vec::new() });
        u32::try_from(blobs.len() - 1).unwrap_or(u32::MAX)
    });
    if let Some(b) = blobs.get_mut(i as usize) {
        b.places.push(Place { commit, path });
    }
}

/// The commits reachable from `tips` and not from `hidden`, parents before children (ties by commit time,
/// then id, so the order is deterministic), each with its root tree. Our own walk rather than libgit2's
/// revwalk, which ends the whole walk at the first commit it cannot read: here a missing or corrupt
/// commit is an error naming it and the commit that reaches it, and the walk goes on around it. Outside
/// a shallow boundary, a missing parent is expected and not an error.
///
/// Commits are read through `reader` (the packs) where it can, and numbered as they are met, so the
/// walk keeps one id map and flat arrays rather than a map of parent lists per commit: on a 100k-commit
/// history, hashing ids and allocating lists was a good part of a single-threaded phase.
pub(crate) fn walk_commits(
    repo: &Repository,
    mut reader: Option<&mut PackReader<'_>>,
    tips: &[Oid],
    hidden: &[Oid],
    errors: &mut Vec<ScanError>,
) -> CommitGraph {
    let shallow = repo.is_shallow();

    // Everything reachable from the hidden side (the base of a range) is not selected.
    let mut excluded = OidSet::default();
    let mut stack: Vec<Oid> = hidden.to_vec();
    while let Some(oid) = stack.pop() {
        if !excluded.insert(oid) {
            continue;
        }
        if let Ok(c) = read_commit(repo, reader.as_deref_mut(), oid) {
            stack.extend(c.parents.into_iter().filter(|p| !excluded.contains(p)));
        }
    }

    // Commits in the order met: id, tree, time, and parent ids in one flat array.
    const FAILED: u32 = u32::MAX;
    let mut met: OidMap<u32> = OidMap::default();
    let mut ids: Vec<Oid> = Vec::new();
    let mut trees: Vec<Oid> = Vec::new();
    let mut times: Vec<i64> = Vec::new();
    let mut parent_start: Vec<usize> = vec![0];
    let mut parent_ids: Vec<Oid> = Vec::new();
    let mut stack: Vec<(Oid, Option<Oid>)> = tips.iter().map(|&t| (t, None)).collect();
    while let Some((oid, child)) = stack.pop() {
        if met.contains_key(&oid) || excluded.contains(&oid) {
            continue;
        }
        match read_commit(repo, reader.as_deref_mut(), oid) {
            Ok(c) => {
                // Past 4 billion commits the inventory stops with an error of its own.
                let Some(n) = u32::try_from(ids.len()).ok().filter(|&n| n != FAILED) else {
                    break;
                };
                met.insert(oid, n);
                ids.push(oid);
                trees.push(c.tree);
                times.push(c.time);
                stack.extend(c.parents.iter().map(|&p| (p, Some(oid))));
                parent_ids.extend(c.parents);
                parent_start.push(parent_ids.len());
            }
            Err(e) => {
                met.insert(oid, FAILED);
                if shallow && child.is_some() {
                    continue;
                }
                let reached = match child {
                    Some(c) => format!("parent of commit {c}"),
                    None => "a ref points to it".to_string(),
                };
                errors.push(ScanError::new(
                    ErrorKind::Object,
                    format!("commit {oid}"),
                    format!("cannot read commit {oid} ({reached}): {}", e.message()),
                ));
            }
        }
    }
    // Parents by number; one outside the walk (hidden, unreadable, beyond a shallow boundary) is `None`.
    let parents_of = |i: usize| {
        let span = parent_start.get(i).copied().unwrap_or(0)..parent_start.get(i + 1).copied().unwrap_or(0);
        parent_ids
            .get(span)
            .unwrap_or_default()
            .iter()
            .map(|p| met.get(p).copied().filter(|&n| n != FAILED))
    };

    // Kahn's algorithm: a commit is ready once every parent inside the walk has been emitted. A parent
    // listed twice is counted, and counted down, twice.
    let n = ids.len();
    let mut waiting: Vec<u32> = vec![0; n];
    let mut child_start: Vec<u32> = vec![0; n + 1];
    for (i, w) in waiting.iter_mut().enumerate() {
        for p in parents_of(i).flatten() {
            *w += 1;
            child_start[p as usize + 1] += 1;
        }
    }
    for i in 0..n {
        child_start[i + 1] += child_start[i];
    }
    let mut children: Vec<u32> = vec![0; child_start[n] as usize];
    let mut fill: Vec<u32> = child_start[..n].to_vec();
    for i in 0..n {
        for p in parents_of(i).flatten() {
            let at = &mut fill[p as usize];
            children[*at as usize] = i as u32;
            *at += 1;
        }
    }
    let key = |i: u32| std::cmp::Reverse((times[i as usize], ids[i as usize], i));
    let mut ready: std::collections::BinaryHeap<_> =
        (0..n as u32).filter(|&i| waiting[i as usize] == 0).map(key).collect();
    let mut order: Vec<u32> = Vec::with_capacity(n);
    while let Some(std::cmp::Reverse((_, _, i))) = ready.pop() {
        order.push(i);
        let span = child_start[i as usize] as usize..child_start[i as usize + 1] as usize;
        for &c in &children[span] {
            let w = &mut waiting[c as usize];
            *w -= 1;
            if *w == 0 {
                ready.push(key(c));
            }
        }
    }
    CommitGraph::from_walk(&order, &ids, &trees, |i| parents_of(i).collect())
}

/// The parts of a commit the walk uses.
struct CommitFields {
    tree: Oid,
    parents: Vec<Oid>,
    /// Committer time, Unix seconds (libgit2's `Commit::time`).
    time: i64,
    /// The raw commit object with its message from `message_at`, or (read through libgit2) the message.
    raw: Arc<Vec<u8>>,
    message_at: usize,
}

impl CommitFields {
    /// The raw message, as libgit2's `message_raw_bytes` gives it.
    fn message(&self) -> &[u8] {
        self.raw.get(self.message_at..).unwrap_or_default()
    }
}

/// Reads commit `id` from the packs through `reader` when they hold it in the plain shape git writes,
/// else through libgit2, whose error names a missing or damaged commit. libgit2 parsed every commit into
/// allocated signatures and cached it behind a lock shared by all threads, twice per commit (the walk,
/// then the tree comparison): on rails that was most of the walk's time.
fn read_commit(repo: &Repository, reader: Option<&mut PackReader<'_>>, id: Oid) -> Result<CommitFields, git2::Error> {
    if let Some(fields) = reader.and_then(|r| r.commit(id)).and_then(parse_commit) {
        return Ok(fields);
    }
    let c = repo.find_commit(id)?;
    Ok(CommitFields {
        tree: c.tree_id(),
        parents: c.parent_ids().collect(),
        time: c.time().seconds(),
        raw: Arc::new(c.message_raw_bytes().to_vec()),
        message_at: 0,
    })
}

/// Parses a raw commit written the way git writes one: `tree`, `parent`s, `author` and `committer`
/// lines in that order, lowercase ids, a committer line ending `> SECONDS ±HHMM`, other headers, an
/// empty line, the message. Anything else is `None` and the commit is read through libgit2, so an odd
/// or hostile commit gets libgit2's reading of it, exactly as before.
fn parse_commit(raw: Arc<Vec<u8>>) -> Option<CommitFields> {
    let data = raw.as_slice();
    let mut pos = 0usize;
    let tree = id_line(data, &mut pos, b"tree ")?;
    let mut parents = Vec::new();
    while let Some(p) = id_line(data, &mut pos, b"parent ") {
        parents.push(p);
    }
    // libgit2 refuses a commit whose signatures do not parse; such a commit goes to it, to be refused.
    signature_time(header_line(data, &mut pos, b"author ")?)?;
    let time = signature_time(header_line(data, &mut pos, b"committer ")?)?;
    // The header ends at the first empty line; `pos` is the start of the line after the committer's.
    let message_at = memchr::memmem::find(data.get(pos - 1..)?, b"\n\n")? + pos + 1;
    Some(CommitFields {
        tree,
        parents,
        time,
        message_at,
        raw,
    })
}

/// The id of header line `KEY <40 hex>` at `pos`, moving `pos` past it.
fn id_line(data: &[u8], pos: &mut usize, key: &[u8]) -> Option<Oid> {
    let rest = data.get(*pos..)?.strip_prefix(key)?;
    if rest.get(40) != Some(&b'\n') {
        return None;
    }
    let id = hex_id(rest.get(..40)?)?;
    *pos += key.len() + 41;
    Some(id)
}

/// The value of header line `KEY value` at `pos`, moving `pos` past it.
fn header_line<'a>(data: &'a [u8], pos: &mut usize, key: &[u8]) -> Option<&'a [u8]> {
    let rest = data.get(*pos..)?;
    let end = memchr::memchr(b'\n', rest)?;
    let value = rest.get(..end)?.strip_prefix(key)?;
    *pos += end + 1;
    Some(value)
}

/// The seconds of a signature `NAME <EMAIL> SECONDS ±HHMM` (the last `>` closes the email).
fn signature_time(sig: &[u8]) -> Option<i64> {
    let gt = memchr::memrchr(b'>', sig)?;
    memchr::memrchr(b'<', sig.get(..gt)?)?;
    let rest = sig.get(gt + 1..)?.strip_prefix(b" ")?;
    let (secs, zone) = rest.split_at(rest.iter().position(|&b| b == b' ')?);
    let zone = zone.strip_prefix(b" ")?;
    let zone_ok = zone.len() == 5
        && matches!(zone.first(), Some(b'+' | b'-'))
        && zone.get(1..).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if !zone_ok || secs.is_empty() || secs.len() > 18 || !secs.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(secs.iter().fold(0i64, |n, &d| n * 10 + i64::from(d - b'0')))
}

/// A 40-digit lowercase hex id (git never writes uppercase; anything else goes to libgit2).
fn hex_id(hex: &[u8]) -> Option<Oid> {
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let mut bytes = [0u8; 20];
    for (out, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
        *out = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    (hex.len() == 40).then(|| Oid::from_bytes(&bytes).ok()).flatten()
}

fn revision(spec: &str, e: &git2::Error) -> GitError {
    GitError::Revision {
        spec: spec.to_string(),
        message: e.message().to_string(),
    }
}

fn object_error(object: Oid, commit: Oid, kind: &str, e: &git2::Error) -> ScanError {
    ScanError::new(
        ErrorKind::Object,
        format!("{kind} {object}"),
        format!("cannot read {kind} {object} (commit {commit}): {}", e.message()),
    )
}

fn parent_trees(
    trees: &mut Trees<'_, '_, '_>,
    commit: Oid,
    parents: &[Oid],
    errors: &mut Vec<ScanError>,
) -> Vec<Option<Arc<Vec<u8>>>> {
    let mut out = Vec::with_capacity(parents.len());
    for &pid in parents {
        // A parent the walk read gives its tree id without another commit read.
        let known = trees.graph.and_then(|g| g.tree(g.index(&pid)?));
        let tree_id = match known {
            Some(t) => Ok(t),
            None => trees.commit(pid).map(|c| c.tree),
        };
        let tree = match tree_id {
            Ok(tid) => match trees.load(tid) {
                Ok(t) => Some(t),
                Err(e) => {
                    errors.push(object_error(tid, pid, "tree", &e));
                    None
                }
            },
            // A missing parent (outside a shallow boundary, or lost): compare with nothing.
            Err(e) => {
                if !trees.repo.get().is_ok_and(|r| r.is_shallow()) {
                    errors.push(object_error(pid, commit, "commit", &e));
                }
                None
            }
        };
        out.push(tree);
    }
    out
}

/// What one commit brought in, computed on a worker thread.
struct CommitDelta<T> {
    /// Older than `--since`.
    skipped: bool,
    message: Option<T>,
    /// (blob, path) pairs no parent had; the path is `names[start..end]`.
    introduced: Vec<(Oid, usize, usize)>,
    /// Paths of submodules, as `names[start..end]`.
    gitlinks: Vec<(usize, usize)>,
    /// The paths of `introduced` and `gitlinks`, end to end (one buffer rather than one per path).
    names: Vec<u8>,
    errors: Vec<ScanError>,
}

impl<T> Default for CommitDelta<T> {
    fn default() -> Self {
        CommitDelta {
            skipped: false,
            message: None,
            introduced: Vec::new(),
            gitlinks: Vec::new(),
            names: Vec::new(),
            errors: Vec::new(),
        }
    }
}

/// How many commits are compared in one parallel batch.
const CHUNK: usize = 1024;

/// The delta-base cache of the commit walk's reader: commits are read once and not kept, so it only
/// holds the odd commit a delta is made against.
const WALK_CACHE: usize = 1 << 20;

/// The delta-base cache of each tree-comparing worker's reader (the bases of the trees it builds next).
const TREE_CACHE: usize = 12 << 20;

fn commit_delta<S, T>(
    trees: &mut Trees<'_, '_, '_>,
    oid: Oid,
    since: Option<i64>,
    state: &mut S,
    message: &impl Fn(&mut S, &[u8]) -> Option<T>,
) -> CommitDelta<T> {
    let mut delta = CommitDelta::default();
    let commit = match trees.commit(oid) {
        Ok(c) => c,
        Err(e) => {
            delta.errors.push(object_error(oid, oid, "commit", &e));
            delta.skipped = true;
            return delta;
        }
    };
    if since.is_some_and(|s| commit.time < s) {
        delta.skipped = true;
        return delta;
    }
    delta.message = message(state, commit.message());
    let tree = match trees.load(commit.tree) {
        Ok(t) => t,
        Err(e) => {
            delta.errors.push(object_error(commit.tree, oid, "tree", &e));
            return delta;
        }
    };
    let parents = parent_trees(trees, oid, &commit.parents, &mut delta.errors);
    drop(commit);
    let mut walker = TreeWalker {
        trees,
        commit: oid,
        delta: &mut delta,
    };
    walker.walk(&tree, &parents, &mut Vec::new());
    delta
}

fn intern(paths: &mut Vec<String>, index: &mut HashMap<Vec<u8>, u32>, path: &[u8]) -> u32 {
    if let Some(&i) = index.get(path) {
        return i;
    }
    let i = u32::try_from(paths.len()).unwrap_or(u32::MAX);
    paths.push(String::from_utf8_lossy(path).into_owned());
    index.insert(path.to_vec(), i);
    i
}

/// A libgit2 handle, opened on first use: workers read commits and trees from the packs and need
/// libgit2 only for what the packs cannot give (loose objects, damage), so most never open one.
struct LazyRepo<'d> {
    git_dir: &'d Path,
    shared: Option<&'d Repository>,
    own: Option<Repository>,
}

impl<'d> LazyRepo<'d> {
    fn new(git_dir: &'d Path) -> LazyRepo<'d> {
        LazyRepo {
            git_dir,
            shared: None,
            own: None,
        }
    }

    /// An open handle used as it is (on the thread that owns it).
    fn shared(repo: &'d Repository) -> LazyRepo<'d> {
        LazyRepo {
            git_dir: repo.path(),
            shared: Some(repo),
            own: None,
        }
    }

    fn get(&mut self) -> Result<&Repository, git2::Error> {
        if let Some(r) = self.shared {
            return Ok(r);
        }
        if self.own.is_none() {
            let repo = open_dir(self.git_dir).map_err(|e| git2::Error::from_str(&e.to_string()))?;
            self.own = Some(repo);
        }
        self.own
            .as_ref()
            .ok_or_else(|| git2::Error::from_str("repository handle was just opened"))
    }
}

/// Where a worker reads commits and trees from: the packs through its own [`PackReader`] (which keeps
/// the trees it built, so a parent's tree and the delta bases of the next commit's are usually at hand),
/// else libgit2.
struct Trees<'r, 'd, 'p> {
    repo: &'r mut LazyRepo<'d>,
    packs: Option<&'r mut PackReader<'p>>,
    /// The walk's graph, which holds each walked commit's tree.
    graph: Option<&'r CommitGraph>,
    memo: Option<&'r mut TreeMemo>,
}

/// The trees a worker read lately, by id, oldest dropped first past [`TREE_MEMO`] bytes. A commit's
/// parent trees are the ones its parent read (as its own), or they sit a few commits back on a branch that
/// is being merged; taking them from here skips the pack index lookup and the delta-base cache (on rails,
/// locating trees in the index and hashing the cache's keys were the tree comparison's largest costs).
/// The trees' bytes are shared with the reader's delta-base cache, not copied.
#[derive(Default)]
struct TreeMemo {
    map: OidMap<Arc<Vec<u8>>>,
    order: VecDeque<Oid>,
    /// Bytes of the trees in `map`.
    bytes: usize,
}

/// What one worker's [`TreeMemo`] keeps at most.
const TREE_MEMO: usize = 8 << 20;

impl TreeMemo {
    fn get(&self, id: Oid) -> Option<Arc<Vec<u8>>> {
        self.map.get(&id).cloned()
    }

    fn keep(&mut self, id: Oid, tree: Arc<Vec<u8>>) {
        if tree.len() > TREE_MEMO {
            return;
        }
        let len = tree.len();
        if self.map.insert(id, tree).is_some() {
            return;
        }
        self.bytes += len;
        self.order.push_back(id);
        while self.bytes > TREE_MEMO {
            let Some(old) = self.order.pop_front() else { break };
            if let Some(t) = self.map.remove(&old) {
                self.bytes -= t.len();
            }
        }
    }
}

/// Memos kept between parallel jobs, as [`ReaderPool`] keeps readers: rayon runs a batch as several
/// jobs per thread, and a memo that outlives its job still holds the trees of the commits just compared.
#[derive(Default)]
struct MemoPool {
    free: Mutex<Vec<TreeMemo>>,
}

impl MemoPool {
    fn get(&self) -> PooledMemo<'_> {
        let memo = self.free.lock().ok().and_then(|mut f| f.pop()).unwrap_or_default();
        PooledMemo(Some(memo), self)
    }
}

/// A memo borrowed from a [`MemoPool`], back in it when dropped.
struct PooledMemo<'p>(Option<TreeMemo>, &'p MemoPool);

impl Drop for PooledMemo<'_> {
    fn drop(&mut self) {
        if let (Some(m), Ok(mut free)) = (self.0.take(), self.1.free.lock()) {
            free.push(m);
        }
    }
}

impl Trees<'_, '_, '_> {
    /// The raw bytes of tree `id`. A tree the packs cannot give, or whose entries this reader does not
    /// parse, is read through libgit2, whose error (a missing or damaged tree) the caller reports.
    fn load(&mut self, id: Oid) -> Result<Arc<Vec<u8>>, git2::Error> {
        if let Some(t) = self.memo.as_deref().and_then(|m| m.get(id)) {
            return Ok(t);
        }
        if let Some(packs) = &mut self.packs {
            if let Some(data) = packs.tree(id) {
                if tree_entries(&data).all(|e| e.is_ok()) {
                    if let Some(m) = self.memo.as_deref_mut() {
                        m.keep(id, data.clone());
                    }
                    return Ok(data);
                }
            }
        }
        let tree = self.repo.get()?.find_tree(id)?;
        // Re-encoded in git's own format, so one walker reads both.
        let mut raw = Vec::new();
        for e in tree.iter() {
            raw.extend_from_slice(format!("{:o} ", e.filemode_raw()).as_bytes());
            raw.extend_from_slice(e.name_bytes());
            raw.push(0);
            raw.extend_from_slice(e.id().as_bytes());
        }
        Ok(Arc::new(raw))
    }

    /// Commit `id`, from the packs or through libgit2.
    fn commit(&mut self, id: Oid) -> Result<CommitFields, git2::Error> {
        if let Some(fields) = self
            .packs
            .as_deref_mut()
            .and_then(|r| r.commit(id))
            .and_then(parse_commit)
        {
            return Ok(fields);
        }
        read_commit(self.repo.get()?, None, id)
    }
}

/// Tree `id` in git's raw form, for walks after the inventory (the leak timeline): from the packs through
/// `reader` (whose cache keeps recent trees and delta bases), else through libgit2; `None` when missing.
pub fn read_tree(repo: &Repository, reader: Option<&mut PackReader<'_>>, id: Oid) -> Option<Arc<Vec<u8>>> {
    let mut repo = LazyRepo::shared(repo);
    let mut trees = Trees {
        repo: &mut repo,
        packs: reader,
        graph: None,
        memo: None,
    };
    trees.load(id).ok()
}

/// Entry `name` of a raw tree: its id and whether it is a tree; `None` when absent, a gitlink, or the
/// tree does not parse.
pub fn raw_tree_entry(data: &[u8], name: &[u8]) -> Option<(Oid, bool)> {
    for e in tree_entries(data) {
        let e = e.ok()?;
        if e.name == name {
            if e.is_gitlink() {
                return None;
            }
            return Some((e.oid()?, e.is_tree()));
        }
    }
    None
}

/// Entries `names` of a raw tree in one pass over it, each as [`raw_tree_entry`] would find it: a
/// directory the line walk watches many paths under (a flat `modules/` of thousands of files) is read
/// once instead of once per watched name.
pub fn raw_tree_entries(data: &[u8], names: &[&[u8]]) -> Vec<Option<(Oid, bool)>> {
    let mut found: Vec<Option<(Oid, bool)>> = vec![None; names.len()];
    let mut decided = vec![false; names.len()];
    let mut left = names.len();
    let mut by_name: HashMap<&[u8], Vec<usize>> = HashMap::with_capacity(names.len());
    for (i, n) in names.iter().enumerate() {
        by_name.entry(n).or_default().push(i);
    }
    for e in tree_entries(data) {
        if left == 0 {
            break;
        }
        let Ok(e) = e else { break };
        let Some(slots) = by_name.get(e.name) else { continue };
        for &i in slots {
            if !decided[i] {
                decided[i] = true;
                left -= 1;
                found[i] = if e.is_gitlink() {
                    None
                } else {
                    e.oid().map(|o| (o, e.is_tree()))
                };
            }
        }
    }
    found
}

/// One entry of a raw tree.
#[derive(Clone, Copy)]
struct RawEntry<'a> {
    name: &'a [u8],
    id: &'a [u8],
    mode: u32,
}

impl RawEntry<'_> {
    fn is_tree(&self) -> bool {
        self.mode & 0o170000 == 0o040000
    }

    fn is_gitlink(&self) -> bool {
        self.mode & 0o170000 == 0o160000
    }

    fn oid(&self) -> Option<Oid> {
        Oid::from_bytes(self.id).ok()
    }
}

/// The entries of a raw tree (`<octal mode> <name>\0<20-byte id>`, repeated); an entry that does not
/// parse is an `Err`, after which nothing more is read.
fn tree_entries(data: &[u8]) -> impl Iterator<Item = Result<RawEntry<'_>, ()>> {
    let mut pos = 0usize;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || pos >= data.len() {
            return None;
        }
        let entry = (|| {
            let rest = data.get(pos..)?;
            let space = rest.iter().take(8).position(|&b| b == b' ')?;
            let mut mode = 0u32;
            for &d in rest.get(..space)? {
                if !(b'0'..=b'7').contains(&d) {
                    return None;
                }
                mode = mode * 8 + u32::from(d - b'0');
            }
            let name_start = space + 1;
            let nul = memchr::memchr(0, rest.get(name_start..)?)? + name_start;
            let name = rest.get(name_start..nul)?;
            let id = rest.get(nul + 1..nul + 21)?;
            if space == 0 || name.is_empty() {
                return None;
            }
            pos += nul + 21;
            Some(RawEntry { name, id, mode })
        })();
        if entry.is_none() {
            failed = true;
        }
        Some(entry.ok_or(()))
    })
}

struct TreeWalker<'a, 't, 'r, 'd, 'p, T> {
    trees: &'t mut Trees<'r, 'd, 'p>,
    commit: Oid,
    delta: &'a mut CommitDelta<T>,
}

impl<T> TreeWalker<'_, '_, '_, '_, '_, T> {
    /// Records the blobs of `tree` that no parent has at the same path; skips subtrees a parent shares.
    ///
    /// Trees are sorted, so each parent is followed with a cursor (a merge join) instead of a lookup by
    /// name per entry. Entries are read in place from the raw tree: nothing is allocated per entry.
    fn walk(&mut self, tree: &[u8], parents: &[Option<Arc<Vec<u8>>>], prefix: &mut Vec<u8>) {
        let mut cursors: Vec<_> = parents
            .iter()
            .map(|p| p.as_deref().map(|t| tree_entries(t).map_while(Result::ok).peekable()))
            .collect();
        let mut parent_subtrees: Vec<Option<Oid>> = Vec::with_capacity(parents.len());
        for entry in tree_entries(tree).map_while(Result::ok) {
            let name = entry.name;
            let is_tree = entry.is_tree();
            let mut in_parent = false;
            parent_subtrees.clear();
            for cursor in &mut cursors {
                let mut same_name = None;
                if let Some(c) = cursor {
                    while let Some(pe) = c.peek() {
                        match git_order(pe.name, pe.is_tree(), name, is_tree) {
                            Ordering::Less => {
                                c.next();
                            }
                            Ordering::Equal => {
                                same_name = Some(pe.id);
                                break;
                            }
                            Ordering::Greater => break,
                        }
                    }
                }
                if same_name == Some(entry.id) {
                    in_parent = true;
                    break;
                }
                // Equal order means equal name and kind: a parent subtree at the same path.
                parent_subtrees.push(same_name.filter(|_| is_tree).and_then(|id| Oid::from_bytes(id).ok()));
            }
            if in_parent {
                continue;
            }
            let Some(id) = entry.oid() else { continue };
            let len = prefix.len();
            if !prefix.is_empty() {
                prefix.push(b'/');
            }
            prefix.extend_from_slice(name);
            if entry.is_gitlink() {
                let start = self.delta.names.len();
                self.delta.names.extend_from_slice(prefix);
                self.delta.gitlinks.push((start, self.delta.names.len()));
            } else if is_tree {
                match self.trees.load(id) {
                    Ok(sub) => {
                        let loaded: Vec<Option<Arc<Vec<u8>>>> = parent_subtrees
                            .iter()
                            .map(|o| o.and_then(|o| self.trees.load(o).ok()))
                            .collect();
                        self.walk(&sub, &loaded, prefix);
                    }
                    Err(e) => self.delta.errors.push(object_error(id, self.commit, "tree", &e)),
                }
            } else {
                let start = self.delta.names.len();
                self.delta.names.extend_from_slice(prefix);
                self.delta.introduced.push((id, start, self.delta.names.len()));
            }
            prefix.truncate(len);
        }
    }
}

/// Git's tree order: names as bytes, a tree's name read as if it ended in `/`.
fn git_order(a: &[u8], a_tree: bool, b: &[u8], b_tree: bool) -> Ordering {
    let n = a.len().min(b.len());
    match a[..n].cmp(&b[..n]) {
        Ordering::Equal => {}
        other => return other,
    }
    let next = |s: &[u8], tree: bool| s.get(n).copied().or(if tree { Some(b'/') } else { None });
    next(a, a_tree).cmp(&next(b, b_tree)).then(a.len().cmp(&b.len()))
}

/// `2024-03-01T12:00:00+01:00` from Unix seconds and a UTC offset in minutes.
pub fn rfc3339(seconds: i64, offset_minutes: i32) -> String {
    let local = seconds.saturating_add(i64::from(offset_minutes) * 60);
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        off / 60,
        off % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `2024-03-01` or `2024-03-01T12:00:00Z` / `…+01:00` → Unix seconds.
pub fn parse_date(s: &str) -> Result<i64, String> {
    let bad = || format!("`{s}` is not a date (YYYY-MM-DD or RFC 3339)");
    let t = s.trim();
    let date = t.get(..10).ok_or_else(bad)?;
    let mut parts = date.split('-');
    let (Some(y), Some(m), Some(d), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let y: i64 = y.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    let d: u32 = d.parse().map_err(|_| bad())?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    let rest = &t[10..];
    if !rest.is_empty() {
        let rest = rest.strip_prefix(['T', ' ']).ok_or_else(bad)?;
        let hms = rest.get(..8).ok_or_else(bad)?;
        let f: Vec<&str> = hms.split(':').collect();
        let [h, mi, se] = f.as_slice() else {
            return Err(bad());
        };
        let h: i64 = h.parse().map_err(|_| bad())?;
        let mi: i64 = mi.parse().map_err(|_| bad())?;
        let se: i64 = se.parse().map_err(|_| bad())?;
        secs += h * 3600 + mi * 60 + se;
        let zone = rest[8..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
        if zone != "Z" && !zone.is_empty() {
            let sign = match zone.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return Err(bad()),
            };
            let (oh, om) = zone[1..].split_once(':').ok_or_else(bad)?;
            let oh: i64 = oh.parse().map_err(|_| bad())?;
            let om: i64 = om.parse().map_err(|_| bad())?;
            secs -= sign * (oh * 3600 + om * 60);
        }
    }
    Ok(secs)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_order_reads_a_tree_name_with_a_trailing_slash() {
        // git sorts `foo.c` < `foo/` < `foo0`, and a blob `foo` before all of them.
        assert_eq!(git_order(b"foo.c", false, b"foo", true), Ordering::Less);
        assert_eq!(git_order(b"foo", true, b"foo0", false), Ordering::Less);
        assert_eq!(git_order(b"foo", false, b"foo.c", false), Ordering::Less);
        assert_eq!(git_order(b"foo", true, b"foo", true), Ordering::Equal);
        assert_ne!(git_order(b"foo", false, b"foo", true), Ordering::Equal);
    }

    /// The one-pass lookup finds what a lookup per name finds, on well-formed trees, gitlinks, duplicate
    /// names, absent names and a tree cut short.
    #[test]
    fn one_pass_tree_lookup_agrees_with_a_lookup_per_name() {
        fn entry(mode: &str, name: &str, id: u8) -> Vec<u8> {
            let mut e = format!("{mode} {name}\0").into_bytes();
            e.extend([id; 20]);
            e
        }
        let mut tree = Vec::new();
        for (mode, name, id) in [
            ("100644", "a.py", 1),
            ("40000", "lib", 2),
            ("160000", "vendor", 3),
            ("100644", "z.txt", 4),
            ("100755", "z.txt", 5),
        ] {
            tree.extend(entry(mode, name, id));
        }
        let names: Vec<&[u8]> = vec![b"z.txt", b"lib", b"vendor", b"missing", b"a.py", b"lib"];
        for data in [&tree[..], &tree[..tree.len() - 7], &tree[..30], &[][..]] {
            let per_name: Vec<_> = names.iter().map(|n| raw_tree_entry(data, n)).collect();
            assert_eq!(raw_tree_entries(data, &names), per_name);
        }
        assert_eq!(
            raw_tree_entries(&tree, &names)[0],
            Some((Oid::from_bytes(&[4; 20]).expect("id"), false))
        );
    }

    /// Writes `raw` as a commit object and returns libgit2's reading of it with ours.
    fn both_readings(repo: &Repository, raw: &[u8]) -> (Result<CommitFields, git2::Error>, Option<CommitFields>) {
        let id = repo
            .odb()
            .and_then(|odb| odb.write(ObjectType::Commit, raw))
            .expect("the object database takes a commit object");
        (read_commit(repo, None, id), parse_commit(Arc::new(raw.to_vec())))
    }

    #[test]
    fn commits_parse_as_libgit2_reads_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = Repository::init(dir.path()).expect("init");
        let tree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
        let p1 = "1111111111111111111111111111111111111111";
        let p2 = "2222222222222222222222222222222222222222";
        let sig = "A U Thor <a@example.com> 1700000000 +0100";
        let cases = [
            format!("tree {tree}\nauthor {sig}\ncommitter C <c@x> 1700000123 -0530\n\nroot\n"),
            format!("tree {tree}\nparent {p1}\nparent {p2}\nauthor {sig}\ncommitter {sig}\n\nmerge\n\nbody\n"),
            // Extra headers (a signature with an empty continuation line) before the message.
            format!(
                "tree {tree}\nparent {p1}\nauthor {sig}\ncommitter {sig}\nencoding latin1\ngpgsig -----BEGIN\n \n -----END\n\nsigned"
            ),
            format!("tree {tree}\nauthor {sig}\ncommitter {sig}\n\n"),
            format!("tree {tree}\nauthor N <a> b> <e> 5 +0000\ncommitter {sig}\n\nodd name\n"),
        ];
        for raw in &cases {
            let (git, ours) = both_readings(&repo, raw.as_bytes());
            let git = git.expect("libgit2 reads it");
            let ours = ours.unwrap_or_else(|| panic!("parsed: {raw:?}"));
            assert_eq!(ours.tree, git.tree, "{raw:?}");
            assert_eq!(ours.parents, git.parents, "{raw:?}");
            assert_eq!(ours.time, git.time, "{raw:?}");
            assert_eq!(ours.message(), git.message(), "{raw:?}");
        }
    }

    #[test]
    fn commits_in_odd_shapes_are_left_to_libgit2() {
        let tree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
        let sig = "A <a@x> 1700000000 +0100";
        let odd = [
            format!("tree {}\nauthor {sig}\ncommitter {sig}\n\nupper\n", tree.to_uppercase()),
            format!("tree {tree}\nauthor {sig}\ncommitter A <a@x> 1700000000\n\nno zone\n"),
            format!("tree {tree}\nauthor {sig}\ncommitter A a@x 1700000000 +0100\n\nno email\n"),
            format!("tree {tree}\ncommitter {sig}\nauthor {sig}\n\nswapped\n"),
            format!("tree {tree}\nauthor {sig}\ncommitter {sig}\n"),
            format!("tree {}\nauthor {sig}\ncommitter {sig}\n\nshort id\n", &tree[..39]),
            "".to_string(),
        ];
        for raw in &odd {
            assert!(parse_commit(Arc::new(raw.as_bytes().to_vec())).is_none(), "{raw:?}");
        }
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00+00:00");
        assert_eq!(rfc3339(1_709_290_800, 60), "2024-03-01T12:00:00+01:00");
        assert_eq!(rfc3339(1_709_290_800, -330), "2024-03-01T05:30:00-05:30");
        assert_eq!(parse_date("2024-03-01"), Ok(1_709_251_200));
        assert_eq!(parse_date("2024-03-01T12:00:00+01:00"), Ok(1_709_290_800));
        assert_eq!(parse_date("2024-03-01T11:00:00Z"), Ok(1_709_290_800));
        assert!(parse_date("yesterday").is_err());
        assert!(parse_date("2024-13-01").is_err());
    }
}
