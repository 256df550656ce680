//! The staged source, for pre-commit hooks: what `git commit` would record, and of it only the lines the
//! commit adds.
//!
//! The index (the one `git commit` uses: `$GIT_INDEX_FILE` is honoured, so `git commit -a` and
//! `git commit PATH` hooks see their temporary index) is compared with HEAD's tree by object id, skipping
//! every directory whose cache-tree id is HEAD's (see `staged/index.rs`), so the cost grows with the
//! change, not with the repository: unchanged files and directories are never read. For each added,
//! modified, renamed, copied or type-changed file the new blob is read from the object database, the old
//! one from HEAD (or the rename source), and a zero-context line diff gives the added line numbers. The
//! work tree is never read, so partial staging (`git add -p`) is honoured. This module knows nothing of
//! rules: it hands out blobs with their added lines.

use std::{
    collections::HashMap,
    ffi::OsStr,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    thread::JoinHandle,
};

use git2::{
    Delta, DiffFindOptions, DiffOptions, ErrorCode, FileMode, IndexEntry, IndexTime, Oid, Patch, Repository,
    RepositoryOpenFlags, Tree,
};
use ignore::gitignore::Gitignore;

use super::{text, Blob, ScanError, SkipReason};
use crate::finding::{ErrorKind, Finding, Origin};

mod index;

/// Why the staged change could not be listed at all (as opposed to one file that could not be read).
#[derive(Debug, thiserror::Error)]
pub enum StagedError {
    #[error("not inside a git repository (--staged scans the index of the repository containing PATH)")]
    NotARepository,
    #[error("a bare repository has no index to scan")]
    Bare,
    #[error("{what}: {message}")]
    Git { what: &'static str, message: String },
}

impl StagedError {
    fn git(what: &'static str) -> impl FnOnce(git2::Error) -> StagedError {
        move |e| StagedError::Git {
            what,
            message: e.message().to_string(),
        }
    }
}

/// What the staged source does with the files it meets.
#[derive(Clone, Debug)]
pub struct StagedOptions {
    /// Honour `.pkhoundignore` files (the ones in the work tree, which the pre-commit framework makes
    /// equal to the index while hooks run).
    pub respect_ignore: bool,
    /// Hand archives (zip family, tar, gzip) to [`Sink::archive`] rather than skipping them.
    pub archives: bool,
}

/// The lines of a staged file that the commit adds: sorted, disjoint, 1-based half-open ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddedLines(Vec<(usize, usize)>);

impl AddedLines {
    /// True when line `line` (1-based) is added.
    pub fn contains(&self, line: usize) -> bool {
        let i = self.0.partition_point(|&(_, end)| end <= line);
        self.0.get(i).is_some_and(|&(start, _)| start <= line)
    }

    /// True when any line of `first..=last` is added.
    pub fn overlaps(&self, first: usize, last: usize) -> bool {
        let i = self.0.partition_point(|&(_, end)| end <= first);
        self.0.get(i).is_some_and(|&(start, _)| start <= last)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Where the added lines lie in `text` (the staged file they were counted in): sorted, disjoint byte
    /// ranges, each from its first line's start to the start of the line after its last (its line end
    /// included), or the text's end.
    pub fn byte_ranges(&self, text: &[u8]) -> Vec<(usize, usize)> {
        // Line `line` (1-based) starts at `at`; newlines are counted once, forward.
        let (mut line, mut at) = (1usize, 0usize);
        let mut newlines = memchr::memchr_iter(b'\n', text);
        let mut start_of = |target: usize| {
            while line < target {
                match newlines.next() {
                    Some(i) => {
                        line += 1;
                        at = i + 1;
                    }
                    None => {
                        at = text.len();
                        break;
                    }
                }
            }
            at
        };
        self.0
            .iter()
            .map(|&(first, end)| (start_of(first), start_of(end)))
            .collect()
    }

    /// Whether `finding` counts as added: its secret touches an added line (a multi-line secret on every
    /// line it spans; an encoded one on the line of its encoded form).
    pub fn touched_by(&self, finding: &Finding) -> bool {
        let last = match finding.encoding {
            Some(_) => finding.line,
            None => finding.line + finding.secret.expose().matches('\n').count(),
        };
        self.overlaps(finding.line, last)
    }

    /// Lines `start..start + count` (1-based) of each pair added, as the diff lists them.
    #[cfg(test)]
    pub(crate) fn of(hunks: &[(usize, usize)]) -> AddedLines {
        let mut sorted = hunks.to_vec();
        sorted.sort_unstable();
        let mut added = AddedLines::default();
        for (start, count) in sorted {
            added.push(start, count);
        }
        added
    }

    fn push(&mut self, start: usize, count: usize) {
        if count == 0 {
            return;
        }
        let end = start.saturating_add(count);
        match self.0.last_mut() {
            Some(last) if last.1 >= start => last.1 = last.1.max(end),
            _ => self.0.push((start, end)),
        }
    }
}

/// Receives the staged files.
pub trait Sink {
    /// A text file the commit changes; only findings on `added` lines count.
    fn file(&mut self, blob: Blob<'_>, added: &AddedLines);
    /// An archive the commit adds or changes (raw bytes), with the archive it replaces when that one was
    /// an archive too: its lines mean nothing, so a secret counts when `old` does not hold it.
    fn archive(&mut self, blob: Blob<'_>, old: Option<&[u8]>);
    fn error(&mut self, error: ScanError);
    fn skip(&mut self, path: &str, reason: SkipReason);
}

/// Lists the staged change of the repository containing `start` (`None`: the current directory, with
/// `$GIT_DIR` honoured as git does for hooks) and hands each changed text file to `sink`.
pub fn walk(start: Option<&Path>, opts: &StagedOptions, sink: &mut impl Sink) -> Result<(), StagedError> {
    changes(start, opts)?.read(sink);
    Ok(())
}

/// The staged change, listed but not yet read: which files the commit adds or changes, and the blobs
/// they replace. Listing needs no rules, so a pre-commit hook lists on one thread while it loads its rules
/// on another ([`Prefetch`]).
pub struct Changed {
    repo: Repository,
    archives: bool,
    /// Path, staged blob, and the blob it replaces (`None`: added, or replacing a non-file).
    files: Vec<(String, Oid, Option<Oid>)>,
}

impl Changed {
    /// Hands each changed file to `sink`, in the order git lists them.
    pub fn read(self, sink: &mut impl Sink) {
        let mut reader = Reader {
            repo: &self.repo,
            archives: self.archives,
            new: Vec::new(),
            old: Vec::new(),
            decoded: Vec::new(),
        };
        for (path, new_id, old_id) in &self.files {
            reader.file(path, *new_id, *old_id, sink);
        }
    }
}

/// The thread listing the staged change.
type Listing = JoinHandle<Result<Changed, StagedError>>;

/// [`changes`] running on a thread of its own, begun before the rules load; taken once by the scan.
/// Clones share the one listing.
#[derive(Clone)]
pub struct Prefetch(Arc<Mutex<Option<Listing>>>);

impl std::fmt::Debug for Prefetch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Prefetch")
    }
}

impl Prefetch {
    pub fn start(start: Option<PathBuf>, opts: StagedOptions) -> Prefetch {
        let handle = std::thread::Builder::new()
            .name("staged".into())
            .spawn(move || changes(start.as_deref(), &opts))
            .ok();
        Prefetch(Arc::new(Mutex::new(handle)))
    }

    /// The listing, once (`None` after the first call, or when the thread could not start or panicked:
    /// the caller then lists on its own thread).
    pub fn take(&self) -> Option<Result<Changed, StagedError>> {
        let handle = self.0.lock().ok()?.take()?;
        handle.join().ok()
    }
}

/// Lists the staged change of the repository containing `start` (`None`: the current directory, with
/// `$GIT_DIR` honoured as git does for hooks).
pub fn changes(start: Option<&Path>, opts: &StagedOptions) -> Result<Changed, StagedError> {
    let repo = open(start)?;
    let files = changed_files(&repo, opts)?;
    Ok(Changed {
        repo,
        archives: opts.archives,
        files,
    })
}

fn changed_files(repo: &Repository, opts: &StagedOptions) -> Result<Vec<(String, Oid, Option<Oid>)>, StagedError> {
    if repo.is_bare() {
        return Err(StagedError::Bare);
    }
    let head = match repo.head() {
        Ok(head) => Some(head.peel_to_tree().map_err(StagedError::git("reading HEAD's tree"))?),
        // The first commit: everything staged is added.
        Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => None,
        Err(e) => return Err(StagedError::git("reading HEAD")(e)),
    };

    let mut diff_opts = DiffOptions::new();
    // Compare by object id only: no blob is read for a file the commit does not change.
    diff_opts
        .include_typechange(true)
        .ignore_submodules(true)
        .skip_binary_check(true);
    let mut diff = match fast_changes(repo, head.as_ref()) {
        // The fast path: the changed paths came from our own index reader and the cache-tree; libgit2
        // then diffs just those paths (an in-memory index of the changed entries against HEAD's tree
        // restricted to them), so renames are still paired and everything below is shared.
        Some(changes) => {
            if changes.present.is_empty() && changes.gone.is_empty() {
                return Ok(Vec::new());
            }
            let mut staged = git2::Index::new().map_err(StagedError::git("building the change"))?;
            for (path, id, mode) in &changes.present {
                staged
                    .add(&IndexEntry {
                        ctime: IndexTime::new(0, 0),
                        mtime: IndexTime::new(0, 0),
                        dev: 0,
                        ino: 0,
                        mode: *mode,
                        uid: 0,
                        gid: 0,
                        file_size: 0,
                        id: *id,
                        flags: path.len().min(0xfff) as u16,
                        flags_extended: 0,
                        path: path.clone(),
                    })
                    .map_err(StagedError::git("building the change"))?;
            }
            diff_opts.disable_pathspec_match(true);
            for path in changes.present.iter().map(|(p, _, _)| p).chain(&changes.gone) {
                diff_opts.pathspec(path.clone());
            }
            repo.diff_tree_to_index(head.as_ref(), Some(&staged), Some(&mut diff_opts))
        }
        None => {
            let index = repo.index().map_err(|e| StagedError::Git {
                what: "reading the index",
                message: if e.message().contains("'link'") {
                    // libgit2 cannot read a split index (core.splitIndex) and neither can our reader.
                    format!(
                        "{} (a split index is not supported: git update-index --no-split-index)",
                        e.message()
                    )
                } else {
                    e.message().to_string()
                },
            })?;
            repo.diff_tree_to_index(head.as_ref(), Some(&index), Some(&mut diff_opts))
        }
    }
    .map_err(StagedError::git("comparing the index with HEAD"))?;
    // A moved or copied file keeps its history: a key it already held is not added by this commit.
    // Similarity is computed among the changed files only.
    let mut find = DiffFindOptions::new();
    find.renames(true).copies(true);
    diff.find_similar(Some(&mut find))
        .map_err(StagedError::git("detecting renames"))?;

    let mut ignores = Ignores::new(opts.respect_ignore.then(|| repo.workdir()).flatten());
    let mut files = Vec::new();
    for delta in diff.deltas() {
        if !matches!(
            delta.status(),
            Delta::Added | Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange
        ) {
            continue;
        }
        let new = delta.new_file();
        if !matches!(
            new.mode(),
            FileMode::Blob | FileMode::BlobExecutable | FileMode::BlobGroupWritable | FileMode::Link
        ) {
            continue;
        }
        let Some(raw_path) = new.path_bytes() else {
            continue;
        };
        let path = String::from_utf8_lossy(raw_path).into_owned();
        if ignores.ignored(&path) {
            continue;
        }
        let old_id = match delta.status() {
            Delta::Added => None,
            _ => {
                let old = delta.old_file();
                let blob_like = matches!(
                    old.mode(),
                    FileMode::Blob | FileMode::BlobExecutable | FileMode::BlobGroupWritable | FileMode::Link
                );
                (blob_like && !old.id().is_zero()).then(|| old.id())
            }
        };
        files.push((path, new.id(), old_id));
    }
    Ok(files)
}

/// What the index changes against HEAD, found without libgit2's index: paths present in the index whose
/// id or mode differ from HEAD's (added or modified), and HEAD's paths the index no longer has.
#[derive(Debug, Default)]
struct Changes {
    present: Vec<(Vec<u8>, Oid, u32)>,
    gone: Vec<Vec<u8>>,
}

/// The fast path; `None` sends the caller to libgit2's full diff.
fn fast_changes(repo: &Repository, head: Option<&Tree<'_>>) -> Option<Changes> {
    let file = match std::env::var_os("GIT_INDEX_FILE") {
        Some(f) if !f.is_empty() => PathBuf::from(f),
        _ => repo.path().join("index"),
    };
    let data = match index::Mapped::open(&file) {
        Ok(data) => data,
        // No index yet (a fresh repository): nothing is staged.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(Changes::default()),
        Err(_) => return None,
    };
    let index = index::parse(&data)?;
    // An unfinished merge: `git commit` refuses it anyway; let libgit2 describe it.
    if index.entries.iter().any(|e| e.stage != 0) {
        return None;
    }
    let mut changes = Changes::default();
    let mut prefix = Vec::new();
    compare_dir(
        repo,
        &index,
        &mut prefix,
        index.tree.as_ref(),
        head.map(Tree::id),
        &index.entries,
        &mut changes,
    )?;
    Some(changes)
}

const TREE_MODE: i32 = 0o040000;

/// Compares the index entries of one directory (`entries`, all under `prefix`) with HEAD's tree for it,
/// skipping the directory when the cache-tree says its tree is HEAD's: that is what keeps the cost
/// proportional to the change.
fn compare_dir(
    repo: &Repository,
    index: &index::Index<'_>,
    prefix: &mut Vec<u8>,
    node: Option<&index::CacheTree<'_>>,
    head: Option<Oid>,
    entries: &[index::Entry],
    out: &mut Changes,
) -> Option<()> {
    if let (Some(oid), Some(head)) = (node.and_then(|n| n.oid), head) {
        if oid == head.as_bytes() {
            return Some(());
        }
    }
    // HEAD's entries here: name → (id, mode, seen in the index).
    let mut old: HashMap<Vec<u8>, (Oid, i32, bool)> = HashMap::new();
    if let Some(head) = head {
        let tree = repo.find_tree(head).ok()?;
        for e in tree.iter() {
            old.insert(e.name_bytes().to_vec(), (e.id(), e.filemode(), false));
        }
    }
    let plen = prefix.len();
    let mut i = 0;
    while let Some(e) = entries.get(i) {
        let path = index.path(e);
        let rest = path.get(plen..)?;
        if let Some(slash) = memchr::memchr(b'/', rest) {
            let name = &rest[..slash];
            // The directory's entries are contiguous (index order is byte order of whole paths), so a
            // binary search finds where they end: an unchanged directory costs O(log n), not O(n).
            let in_dir = |n: &index::Entry| {
                index
                    .path(n)
                    .get(plen..)
                    .is_some_and(|r| r.get(..slash) == Some(name) && r.get(slash) == Some(&b'/'))
            };
            let j = i + entries.get(i..)?.partition_point(in_dir);
            let sub_head = match old.get_mut(name) {
                Some((id, mode, seen)) => {
                    *seen = true;
                    if *mode == TREE_MODE {
                        Some(*id)
                    } else {
                        out.gone.push([&prefix[..], name].concat());
                        None
                    }
                }
                None => None,
            };
            prefix.extend_from_slice(name);
            prefix.push(b'/');
            let child = node.and_then(|n| n.child(name));
            compare_dir(repo, index, prefix, child, sub_head, entries.get(i..j)?, out)?;
            prefix.truncate(plen);
            i = j;
            continue;
        }
        i += 1;
        if e.intent_to_add {
            continue;
        }
        let id = Oid::from_bytes(&index.oid(e)).ok()?;
        let mode = index.mode(e);
        match old.get_mut(rest) {
            Some((old_id, old_mode, seen)) => {
                *seen = true;
                if *old_mode == TREE_MODE {
                    out.gone.push(path.to_vec());
                    out.present.push((path.to_vec(), id, mode));
                } else if *old_id != id || *old_mode as u32 != mode {
                    out.present.push((path.to_vec(), id, mode));
                }
            }
            None => out.present.push((path.to_vec(), id, mode)),
        }
    }
    for (name, (_, _, seen)) in old {
        if !seen {
            out.gone.push([&prefix[..], &name].concat());
        }
    }
    Some(())
}

fn open(start: Option<&Path>) -> Result<Repository, StagedError> {
    super::git::skip_hash_verification();
    let opened = match start {
        None => Repository::open_from_env(),
        Some(path) => {
            // A file inside the repository names it too.
            let dir = if path.is_file() {
                path.parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
            } else {
                path
            };
            Repository::open_ext(dir, RepositoryOpenFlags::FROM_ENV, &[] as &[&OsStr])
        }
    };
    opened.map_err(|e| match e.code() {
        ErrorCode::NotFound => StagedError::NotARepository,
        _ => StagedError::git("opening the repository")(e),
    })
}

/// Reads blobs with reused buffers.
struct Reader<'r> {
    repo: &'r Repository,
    /// Archives are read raw and handed to [`Sink::archive`].
    archives: bool,
    new: Vec<u8>,
    old: Vec<u8>,
    decoded: Vec<u8>,
}

enum Content {
    Text,
    Binary,
    /// An archive's raw bytes.
    Archive,
}

impl Reader<'_> {
    fn file(&mut self, path: &str, new_id: Oid, old_id: Option<Oid>, sink: &mut impl Sink) {
        let error = |message: String| ScanError::new(ErrorKind::Object, path, message);
        let mut new = std::mem::take(&mut self.new);
        match self.load(path, new_id, &mut new) {
            Ok(Content::Text) => {}
            Ok(Content::Archive) => {
                let mut old = std::mem::take(&mut self.old);
                let has_old = match old_id {
                    Some(id) => matches!(self.load(path, id, &mut old), Ok(Content::Archive)),
                    None => false,
                };
                let blob = Blob {
                    path,
                    bytes: &new,
                    origin: Origin::Staged,
                };
                sink.archive(blob, has_old.then_some(old.as_slice()));
                self.new = new;
                self.old = old;
                return;
            }
            Ok(Content::Binary) => {
                sink.skip(path, SkipReason::Binary);
                self.new = new;
                return;
            }
            Err(e) => {
                sink.error(error(format!("reading the staged blob {new_id}: {}", e.message())));
                self.new = new;
                return;
            }
        }
        // The old side only decides which lines are added: if it cannot be read as text, every line is.
        let mut old = std::mem::take(&mut self.old);
        let has_old = match old_id {
            Some(id) => matches!(self.load(path, id, &mut old), Ok(Content::Text)),
            None => false,
        };
        match added_lines(has_old.then_some(old.as_slice()), &new) {
            Ok(added) if added.is_empty() => {}
            Ok(added) => sink.file(
                Blob {
                    path,
                    bytes: &new,
                    origin: Origin::Staged,
                },
                &added,
            ),
            Err(e) => sink.error(error(format!("diffing against HEAD: {}", e.message()))),
        }
        self.new = new;
        self.old = old;
    }

    /// Reads a blob into `buf`, UTF-16 decoded; a binary blob is kept as bytes (the scanner marks its
    /// findings) unless it cannot hold text ([`text::opaque`]: images, media). An archive is kept raw
    /// ([`Content::Archive`]: its lines mean nothing, its members are compared instead), or passed over
    /// when archives are not opened.
    fn load(&mut self, path: &str, id: Oid, buf: &mut Vec<u8>) -> Result<Content, git2::Error> {
        buf.clear();
        if id == empty_blob() {
            return Ok(Content::Text);
        }
        // No size limit: the added-line diff needs both sides whole (libgit2 holds a blob whole anyway).
        // One read: asking for the header first read a loose object twice.
        let object = self.repo.find_object(id, None)?;
        let Some(blob) = object.as_blob() else {
            return Ok(Content::Binary);
        };
        match text::prepare(blob.content(), &mut self.decoded) {
            Some(t) => buf.extend_from_slice(t),
            None if super::archive::kind(path, blob.content()).is_some() => {
                if !self.archives {
                    return Ok(Content::Binary);
                }
                buf.extend_from_slice(blob.content());
                return Ok(Content::Archive);
            }
            None if text::opaque(path, blob.content()) => return Ok(Content::Binary),
            None => buf.extend_from_slice(blob.content()),
        }
        Ok(Content::Text)
    }
}

/// The empty blob, which `git add -N` records without writing it to the object database.
fn empty_blob() -> Oid {
    Oid::from_str("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391").expect("a valid 40-digit hex object id")
}

/// The lines of `new` that are not in `old` (every line when there is no old side), from a zero-context
/// diff: each hunk's new-side range then holds added lines only.
fn added_lines(old: Option<&[u8]>, new: &[u8]) -> Result<AddedLines, git2::Error> {
    let mut added = AddedLines::default();
    let Some(old) = old else {
        let lines = memchr::memchr_iter(b'\n', new).count() + usize::from(!new.is_empty() && !new.ends_with(b"\n"));
        added.push(1, lines);
        return Ok(added);
    };
    let mut opts = DiffOptions::new();
    // Text by construction (binary files were skipped); without this libgit2 would give no hunks for a
    // file it guesses is binary.
    opts.context_lines(0).interhunk_lines(0).force_text(true);
    let patch = Patch::from_buffers(old, None, new, None, Some(&mut opts))?;
    for i in 0..patch.num_hunks() {
        let (hunk, _) = patch.hunk(i)?;
        added.push(hunk.new_start() as usize, hunk.new_lines() as usize);
    }
    Ok(added)
}

/// `.pkhoundignore` files along each staged path, each read at most once.
struct Ignores {
    root: Option<PathBuf>,
    by_dir: HashMap<String, Option<Gitignore>>,
}

impl Ignores {
    fn new(root: Option<&Path>) -> Self {
        Ignores {
            root: root.map(Path::to_path_buf),
            by_dir: HashMap::new(),
        }
    }

    /// True when a `.pkhoundignore` in the file's directory or any parent (up to the work tree's root)
    /// ignores the repository-relative `path`.
    fn ignored(&mut self, path: &str) -> bool {
        let Ignores { root, by_dir } = self;
        let Some(root) = root else {
            return false;
        };
        let mut dir = String::new();
        let mut rest = path;
        loop {
            let matcher = by_dir.entry(dir.clone()).or_insert_with(|| {
                let file = root.join(&dir).join(".pkhoundignore");
                file.is_file().then(|| Gitignore::new(&file).0)
            });
            if let Some(m) = matcher {
                if m.matched_path_or_any_parents(rest, false).is_ignore() {
                    return true;
                }
            }
            match rest.split_once('/') {
                Some((head, tail)) => {
                    if !dir.is_empty() {
                        dir.push('/');
                    }
                    dir.push_str(head);
                    rest = tail;
                }
                None => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_line_ranges() {
        let mut a = AddedLines::default();
        a.push(2, 2);
        a.push(4, 1);
        a.push(9, 0);
        a.push(10, 3);
        assert_eq!(a.0, vec![(2, 5), (10, 13)]);
        assert!(!a.contains(1) && a.contains(2) && a.contains(4) && !a.contains(5) && a.contains(12));
        assert!(a.overlaps(5, 10) && !a.overlaps(5, 9) && a.overlaps(1, 2));
    }

    /// The fast path (own index reader + cache-tree) must list the same paths as libgit2's full diff.
    #[test]
    fn fast_path_agrees_with_libgit2() {
        use std::process::Command;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let git = |args: &[&str]| {
            let out = Command::new("git")
                .current_dir(root)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", root.join("no-such-gitconfig"))
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@example.com")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@example.com")
                .args(["-c", "commit.gpgsign=false"])
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let write = |p: &str, body: &str| {
            let p = root.join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        };
        git(&["init", "-q"]);
        for f in [
            "a/x",
            "a/y",
            "a/b/z",
            "c/d/e/f",
            "g",
            "h",
            "moved/one",
            "moved/two",
            "tochange/k",
        ] {
            write(f, f);
        }
        git(&["add", "-A"]);
        git(&["commit", "-qm", "one"]);
        let check = |label: &str| {
            let repo = Repository::open(root).unwrap();
            let head = repo.head().unwrap().peel_to_tree().unwrap();
            let fast = fast_changes(&repo, Some(&head)).expect("the fast path handles this index");
            let mut fast_paths: Vec<Vec<u8>> = fast.present.iter().map(|(p, _, _)| p.clone()).collect();
            fast_paths.extend(fast.gone.iter().cloned());
            fast_paths.sort();
            let index = repo.index().unwrap();
            let diff = repo.diff_tree_to_index(Some(&head), Some(&index), None).unwrap();
            let mut slow: Vec<Vec<u8>> = diff
                .deltas()
                .map(|d| {
                    d.new_file()
                        .path_bytes()
                        .or(d.old_file().path_bytes())
                        .unwrap()
                        .to_vec()
                })
                .collect();
            // An intent-to-add entry (`git add -N`) is not committed; libgit2 lists it as added.
            slow.retain(|p| p != b"later");
            // A directory that disappears (or becomes a file) is one `gone` entry on the fast path.
            for p in &mut slow {
                if let Some(dir) = fast_paths
                    .iter()
                    .find(|f| p.starts_with(f) && p.get(f.len()) == Some(&b'/'))
                {
                    *p = dir.clone();
                }
            }
            slow.sort();
            slow.dedup();
            fast_paths.dedup();
            let show = |v: &[Vec<u8>]| {
                v.iter()
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect::<Vec<_>>()
            };
            assert_eq!(show(&fast_paths), show(&slow), "{label}");
        };
        check("nothing staged");
        write("a/b/z", "changed");
        write("new/dir/file", "n");
        std::fs::remove_file(root.join("h")).unwrap();
        git(&["add", "-A"]);
        git(&["mv", "moved", "elsewhere"]);
        std::fs::remove_file(root.join("tochange/k")).unwrap();
        std::fs::remove_dir(root.join("tochange")).unwrap();
        write("tochange", "now a file");
        write("intent", "i");
        git(&["add", "-A"]);
        write("later", "l");
        git(&["add", "-N", "later"]);
        check("edits, additions, deletions, a moved directory, a directory become a file");
        git(&["commit", "-qm", "two"]);
        check("after a commit");
    }

    #[test]
    fn diff_finds_added_lines_only() {
        let old = b"a\nb\nc\nd\n";
        let new = b"a\nB\nc\nd\ne\n";
        let added = added_lines(Some(old), new).unwrap();
        assert_eq!(added.0, vec![(2, 3), (5, 6)]);
        assert!(added_lines(Some(new), b"a\nc\nd\ne\n").unwrap().is_empty());
        assert_eq!(added_lines(None, b"x\ny").unwrap().0, vec![(1, 3)]);
        assert!(added_lines(None, b"").unwrap().is_empty());
    }
}
