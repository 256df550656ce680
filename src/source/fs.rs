//! The working-tree source: a parallel walk with `ignore::WalkBuilder`.
//!
//! `.gitignore`/`.ignore` are respected unless asked otherwise; hidden files are scanned (`.env` is where
//! keys live); `.git` is never walked as files. Binary, oversized and special files are skipped and counted,
//! never opened blindly: a FIFO could block forever, a device could read forever.
//!
//! Files that exist to hold secrets ([`SECRET_FILES`]: `.env`, key and credential files, `*.tfvars` …)
//! are scanned even when an ignore file skips them: they are not committed, but Docker build contexts,
//! backups and archives pick them up. A second walk, through the directories the first one entered and
//! without ignore files, finds them; the sink hears of each through [`Sink::ignored`].

use std::{
    borrow::Cow,
    collections::HashSet,
    fmt,
    fs::File,
    io::{self, Read},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::{WalkBuilder, WalkState};

use super::{archive, text, Blob, ScanError, SkipReason};
use crate::finding::{ErrorKind, Origin};

/// What the walk does with the files it meets.
#[derive(Clone, Debug)]
pub struct WalkOptions {
    /// Honour `.gitignore`, `.ignore`, `.pkhoundignore` and git's exclude files.
    pub respect_ignore: bool,
    /// Follow symbolic links.
    pub follow: bool,
    /// Files larger than this are not read whole but streamed in windows of this size.
    pub max_file_size: u64,
    /// Worker threads; 0 picks one per core.
    pub threads: usize,
    /// Files (by reported path) never to read: allowlisted paths, pruned before any I/O.
    pub prune: Option<PathPrune>,
    /// Open archives within these limits; `None` (`--no-archives`): skip them unread like images.
    pub archives: Option<archive::Limits>,
}

/// A predicate on reported paths; true means "do not read this file".
#[derive(Clone)]
pub struct PathPrune(pub Arc<dyn Fn(&str) -> bool + Send + Sync>);

impl fmt::Debug for PathPrune {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PathPrune(..)")
    }
}

/// Receives the walk's output on each worker thread. One sink per thread: no locking per file.
pub trait Sink: Send {
    fn blob(&mut self, blob: Blob<'_>);
    /// A file too large to hold whole (over `max_file_size`), or a pipe or device named on the command
    /// line: to be read as a stream.
    fn stream(&mut self, path: &str, reader: &mut dyn Read);
    fn error(&mut self, error: ScanError);
    fn skip(&mut self, path: &str, reason: SkipReason);
    /// The next file handed over is one the ignore files skip, scanned for its name ([`SECRET_FILES`]).
    fn ignored(&mut self, _path: &str) {}
}

/// File names (gitignore globs, matched at any depth) of files that exist to hold secrets: scanned even
/// when ignored. Inside an ignored directory they stay unscanned (`--no-ignore` reaches them).
pub const SECRET_FILES: &[&str] = &[
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    "*.tfvars",
    "*.tfvars.json",
    "*.tfstate",
    "*.pem",
    "*.key",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    "credentials",
    "credentials.json",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".pgpass",
    ".git-credentials",
    ".htpasswd",
    "secrets.json",
    "secrets.yml",
    "secrets.yaml",
    "secrets.toml",
    "service-account*.json",
];

fn secret_names() -> GlobSet {
    let mut b = GlobSetBuilder::new();
    for g in SECRET_FILES {
        b.add(Glob::new(g).expect("SECRET_FILES are valid globs"));
    }
    b.build().expect("SECRET_FILES are valid globs")
}

/// A walker over `roots` with the options' ignore settings.
fn walk_builder(roots: &[PathBuf], opts: &WalkOptions) -> Option<WalkBuilder> {
    let (first, rest) = roots.split_first()?;
    let mut builder = WalkBuilder::new(first);
    for root in rest {
        builder.add(root);
    }
    builder
        .hidden(false)
        .parents(opts.respect_ignore)
        .ignore(opts.respect_ignore)
        .git_ignore(opts.respect_ignore)
        .git_global(opts.respect_ignore)
        .git_exclude(opts.respect_ignore)
        .require_git(false)
        .follow_links(opts.follow)
        .threads(opts.threads)
        .filter_entry(|e| e.file_name() != ".git");
    if opts.respect_ignore {
        // gitignore syntax, for paths a repository keeps but does not want scanned (test fixtures).
        builder.add_custom_ignore_filename(".pkhoundignore");
    }
    Some(builder)
}

/// Walks `roots` in parallel; `make_sink` is called once per worker thread.
pub fn walk<S, F>(roots: &[PathBuf], opts: &WalkOptions, make_sink: F)
where
    S: Sink,
    F: Fn() -> S + Sync,
{
    let Some(builder) = walk_builder(roots, opts) else {
        return;
    };

    // A single directory root reports paths relative to it; anything else reports paths as given.
    let strip: Option<&Path> = match roots {
        [only] if only.is_dir() => Some(only.as_path()),
        _ => None,
    };

    let root_names = roots
        .iter()
        .map(|r| r.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let root_names = root_names.as_str();
    // Roots the user chose inside a pseudo filesystem (a project under /dev/shm) are theirs to walk.
    let chosen: Arc<Vec<PathBuf>> = Arc::new(
        roots
            .iter()
            .filter_map(|r| std::fs::canonicalize(r).ok())
            .filter(|r| in_pseudo_fs(r))
            .collect(),
    );

    // Secret-named files the first walk scanned, so that the second does not scan them again.
    let names = opts.respect_ignore.then(|| Arc::new(secret_names()));
    let seen: Arc<Mutex<HashSet<PathBuf>>> = Arc::default();
    // Directories the first walk entered: the second walks only these.
    let entered: Arc<Mutex<HashSet<PathBuf>>> = Arc::default();
    let new_worker = |second: bool| Worker {
        chosen: chosen.clone(),
        sink: make_sink(),
        buf: Vec::with_capacity(64 * 1024),
        opts: opts.clone(),
        names: names.clone(),
        seen: seen.clone(),
        entered: entered.clone(),
        second,
    };
    builder.build_parallel().run(|| {
        let mut worker = new_worker(false);
        Box::new(move |entry| match entry {
            Ok(entry) => worker.visit(&entry, strip),
            Err(err) => {
                worker.sink.error(walk_error(err, root_names));
                WalkState::Continue
            }
        })
    });

    // The second walk: the secret-named files of the directories the first walk entered that it did
    // not hand over, that is, the ones an ignore file skips. It reads no ignore file (the first walk
    // decided which directories count) and opens only those files: measured on eslint's working tree,
    // it adds a few ms of CPU to ~95 ms.
    let dirs: Vec<PathBuf> = roots.iter().filter(|r| r.is_dir()).cloned().collect();
    let Some(first) = dirs.first().filter(|_| opts.respect_ignore) else {
        return;
    };
    let entered: Arc<HashSet<PathBuf>> =
        Arc::new(std::mem::take(&mut *entered.lock().unwrap_or_else(|p| p.into_inner())));
    let mut second = WalkBuilder::new(first);
    for root in &dirs[1..] {
        second.add(root);
    }
    second
        .standard_filters(false)
        .hidden(false)
        .follow_links(opts.follow)
        .threads(opts.threads)
        .filter_entry(move |e| {
            e.file_name() != ".git"
                && (e.depth() == 0 || !e.file_type().is_some_and(|t| t.is_dir()) || entered.contains(e.path()))
        });
    second.build_parallel().run(|| {
        let mut worker = new_worker(true);
        // Errors were reported by the first walk.
        Box::new(move |entry| match entry {
            Ok(entry) => worker.visit(&entry, strip),
            Err(_) => WalkState::Continue,
        })
    });
}

struct Worker<S> {
    sink: S,
    /// Canonical roots inside `/proc`, `/sys` or `/dev`, which `--follow` may walk below.
    chosen: Arc<Vec<PathBuf>>,
    /// Reused for every file this thread reads.
    buf: Vec<u8>,
    opts: WalkOptions,
    /// [`SECRET_FILES`], when ignore files are respected.
    names: Option<Arc<GlobSet>>,
    /// Secret-named files the first walk handed over.
    seen: Arc<Mutex<HashSet<PathBuf>>>,
    /// Directories the first walk entered (recorded only when ignore files are respected).
    entered: Arc<Mutex<HashSet<PathBuf>>>,
    /// This worker belongs to the second walk: it hands over only what the first did not.
    second: bool,
}

impl<S: Sink> Worker<S> {
    fn visit(&mut self, entry: &ignore::DirEntry, strip: Option<&Path>) -> WalkState {
        let Some(ft) = entry.file_type() else {
            return WalkState::Continue;
        };
        // With --follow, a link (or a directory reached through one) may lead into the kernel's pseudo
        // filesystems: /proc/kmsg blocks forever, /proc/self/root walks the host. Never go there.
        // See: issue 12 ("`ln -s /proc/kmsg k; pkhound scan -L .` blocks forever").
        if self.opts.follow
            && entry.depth() > 0
            && (ft.is_dir() || entry.path_is_symlink())
            && self.leads_into_pseudo_fs(entry.path())
        {
            let path = display_path(entry.path(), strip);
            self.sink.skip(&path, SkipReason::Special);
            return WalkState::Skip;
        }
        if ft.is_dir() {
            if self.names.is_some() && !self.second {
                self.entered
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(entry.path().to_path_buf());
            }
            return WalkState::Continue;
        }
        self.visit_file(entry, ft, strip);
        WalkState::Continue
    }

    /// True when `path` really leads inside `/proc`, `/sys` or `/dev` (kernel pseudo filesystems whose
    /// files block, never end, or lead back to `/`), outside any root the user chose there. A path that
    /// cannot be resolved does not.
    fn leads_into_pseudo_fs(&self, path: &Path) -> bool {
        std::fs::canonicalize(path)
            .is_ok_and(|real| in_pseudo_fs(&real) && !self.chosen.iter().any(|root| real.starts_with(root)))
    }

    fn visit_file(&mut self, entry: &ignore::DirEntry, ft: std::fs::FileType, strip: Option<&Path>) {
        if let Some(names) = &self.names {
            if names.is_match(entry.file_name()) {
                let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
                if self.second {
                    if seen.contains(entry.path()) {
                        return;
                    }
                } else {
                    seen.insert(entry.path().to_path_buf());
                }
            } else if self.second {
                return;
            }
        }
        let path = display_path(entry.path(), strip);
        if self.opts.prune.as_ref().is_some_and(|p| (p.0)(&path)) {
            return;
        }
        if self.second && ft.is_file() {
            self.sink.ignored(&path);
        }
        if ft.is_symlink() {
            self.sink.skip(&path, SkipReason::Symlink);
            return;
        }
        if !ft.is_file() {
            // A pipe or device the user named (`scan <(cat .env)`, `scan /dev/stdin`) is read as a stream;
            // one met while walking a directory is never opened (it could block or read forever).
            if entry.depth() == 0 && !ft.is_dir() {
                match File::open(entry.path()) {
                    Ok(mut f) => self.sink.stream(&path, &mut f),
                    Err(e) => self
                        .sink
                        .error(ScanError::new(ErrorKind::Io, path.into_owned(), io_message(&e))),
                }
            } else {
                self.sink.skip(&path, SkipReason::Special);
            }
            return;
        }
        let size = match entry.metadata() {
            Ok(m) => m.len(),
            Err(e) => {
                self.sink
                    .error(ScanError::new(ErrorKind::Io, path.into_owned(), e.to_string()));
                return;
            }
        };
        if size > self.opts.max_file_size {
            self.stream(entry.path(), &path);
            return;
        }
        match self.read(entry.path()) {
            Ok(ReadOutcome::Text) => self.sink.blob(Blob {
                path: &path,
                bytes: &self.buf,
                origin: Origin::File,
            }),
            Ok(ReadOutcome::Binary) => self.sink.skip(&path, SkipReason::Binary),
            // It grew past the limit while being read: read it again, as a stream.
            Ok(ReadOutcome::TooLarge) => self.stream(entry.path(), &path),
            Err(e) => self
                .sink
                .error(ScanError::new(ErrorKind::Io, path.into_owned(), io_message(&e))),
        }
    }

    /// A file over the size limit: scanned as a stream, in windows of the limit's size.
    fn stream(&mut self, file: &Path, path: &str) {
        match File::open(file) {
            Ok(mut f) => self.sink.stream(path, &mut f),
            Err(e) => self.sink.error(ScanError::new(ErrorKind::Io, path, io_message(&e))),
        }
    }

    /// Reads the first 8 KiB, stops there if the file is binary, else reads the rest (up to the limit).
    fn read(&mut self, path: &Path) -> io::Result<ReadOutcome> {
        self.buf.clear();
        let mut file = File::open(path)?;
        let head = (&mut file).take(text::SAMPLE as u64).read_to_end(&mut self.buf)?;
        // The class depends on the first `SAMPLE` bytes only: a binary file that cannot hold text (an
        // image, a font; an archive when archives are not opened) is skipped unread past them; any other
        // is read for the scanner.
        if text::classify(&self.buf) == text::Class::Binary {
            let name = path.to_string_lossy();
            if text::opaque(&name, &self.buf)
                || (self.opts.archives.is_none() && archive::kind(&name, &self.buf).is_some())
            {
                return Ok(ReadOutcome::Binary);
            }
        }
        if head == text::SAMPLE {
            // The file may have grown since it was measured: never read past the limit.
            let limit = self.opts.max_file_size.saturating_add(1);
            (&mut file)
                .take(limit.saturating_sub(head as u64))
                .read_to_end(&mut self.buf)?;
            if self.buf.len() as u64 > self.opts.max_file_size {
                self.buf.clear();
                return Ok(ReadOutcome::TooLarge);
            }
        }
        Ok(ReadOutcome::Text)
    }
}

enum ReadOutcome {
    Text,
    Binary,
    TooLarge,
}

fn in_pseudo_fs(canonical: &Path) -> bool {
    ["/proc", "/sys", "/dev"].iter().any(|p| canonical.starts_with(p))
}

/// The path as reports show it. Borrows from the entry for UTF-8 paths on Unix: no allocation per file.
fn display_path<'a>(path: &'a Path, strip: Option<&Path>) -> Cow<'a, str> {
    let rel = strip.and_then(|root| path.strip_prefix(root).ok()).unwrap_or(path);
    let s = match rel.to_string_lossy() {
        Cow::Borrowed(b) => Cow::Borrowed(b.strip_prefix("./").unwrap_or(b)),
        Cow::Owned(o) => Cow::Owned(o.strip_prefix("./").map(str::to_string).unwrap_or(o)),
    };
    if std::path::MAIN_SEPARATOR == '/' {
        s
    } else {
        Cow::Owned(s.replace(std::path::MAIN_SEPARATOR, "/"))
    }
}

/// `Permission denied (os error 13)` → `permission denied`: the report says what, the path says where.
fn io_message(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::NotFound => "not found (removed during the scan, or a broken link)".to_string(),
        _ => e.to_string(),
    }
}

fn walk_error(err: ignore::Error, roots: &str) -> ScanError {
    fn find(err: &ignore::Error) -> (Option<String>, String) {
        match err {
            ignore::Error::WithPath { path, err } => (Some(path.to_string_lossy().into_owned()), find(err).1),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => find(err),
            ignore::Error::Loop { child, ancestor } => (
                Some(child.to_string_lossy().into_owned()),
                format!("symbolic link loop back to {}", ancestor.display()),
            ),
            ignore::Error::Io(e) => (None, io_message(e)),
            other => (None, other.to_string()),
        }
    }
    let (path, message) = find(&err);
    // An error the walker reports without a path concerns the walk itself: name what was being walked.
    ScanError::new(ErrorKind::Io, path.unwrap_or_else(|| roots.to_string()), message)
}
