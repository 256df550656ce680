//! The scan stage: the one recipe every source's bytes go through, and the runs that feed it.
//!
//! [`Scanner::scan`] is the only place where bytes become findings: classify (text, UTF-16, binary, one
//! function for every source) → engine → locate → decoders → inline and line allowlists. The working
//! tree, standard input, the staged index ([`run`]), history blobs and commit messages ([`history`]) all
//! call it; a source adds a producer of bytes, never a second copy of the recipe. Triage (config
//! allowlists, baseline, dedup, threshold) runs once, after.

pub mod history;

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::{Engine, EngineError, Scratch};
use crate::finding::{ErrorKind, Finding, Notice, Origin, ScanError, ScanStats};
use crate::rules::LoadedRule;
use crate::source::{
    fs::{self, Sink, WalkOptions},
    staged::{self, AddedLines, StagedOptions},
    stdin, text, Blob, SkipReason,
};
use crate::triage;
use crate::{decode, locate};

/// Compiles `rules` with every decoder's patterns: the engine a scan runs.
pub fn compile(rules: &[LoadedRule]) -> Result<Engine, EngineError> {
    Engine::compile_with(rules, &decode::patterns(rules))
}

/// The one scan recipe, shared by every source and thread.
#[derive(Clone, Copy)]
pub struct Scanner<'a> {
    pub engine: &'a Engine,
    pub policy: &'a triage::Policy,
}

/// One thread's working memory for [`Scanner`]: reused across blobs, so the hot loop does not allocate.
pub struct Worker {
    scratch: Scratch,
    decoded: Vec<u8>,
}

/// What became of a blob handed to the scanner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scanned {
    /// Scanned as text of this many bytes (after UTF-16 decoding).
    Text(u64),
    /// Not text: passed over, and counted by the caller.
    Binary,
}

impl<'a> Scanner<'a> {
    pub fn new(engine: &'a Engine, policy: &'a triage::Policy) -> Self {
        Scanner { engine, policy }
    }

    pub fn worker(&self) -> Worker {
        Worker {
            scratch: self.engine.scratch(),
            decoded: Vec::new(),
        }
    }

    /// Scans raw bytes: classified by [`text::prepare`], then [`Scanner::scan_text`]. Findings are appended
    /// to `out` in line order.
    pub fn scan(&self, w: &mut Worker, path: &str, origin: &Origin, raw: &[u8], out: &mut Vec<Finding>) -> Scanned {
        let Worker { scratch, decoded } = w;
        match text::prepare(raw, decoded) {
            Some(t) => {
                self.recipe(scratch, path, origin, t, out);
                Scanned::Text(t.len() as u64)
            }
            None => Scanned::Binary,
        }
    }

    /// Scans text that [`text::prepare`] already produced (the staged source diffs the decoded text, so
    /// it prepares both sides itself), or text that is never a file (a commit message).
    pub fn scan_text(&self, w: &mut Worker, path: &str, origin: &Origin, text: &[u8], out: &mut Vec<Finding>) {
        self.recipe(&mut w.scratch, path, origin, text, out);
    }

    fn recipe(&self, scratch: &mut Scratch, path: &str, origin: &Origin, text: &[u8], out: &mut Vec<Finding>) {
        let from = out.len();
        let matches = self.engine.scan(text, scratch);
        if !matches.is_empty() {
            locate::findings(self.engine, path, origin, text, matches, out);
        }
        decode::findings(self.engine, scratch, path, origin, text, out, from);
        if out.len() > from {
            // Allowlists that read the line (gitleaks' `regexTarget = "line"`) run while it is at hand.
            self.policy.filter_blob(text, out, from);
        }
    }
}

/// Everything a scan needs, resolved from the command line once.
#[derive(Clone, Debug)]
pub struct ScanConfig {
    /// Files and directories to walk.
    pub roots: Vec<PathBuf>,
    /// Also scan standard input (`-` among the paths).
    pub stdin: bool,
    pub walk: WalkOptions,
    /// Show a progress indicator on stderr (only ever true for an attended terminal).
    pub progress: bool,
    /// Allowlists and rule path restrictions from the config.
    pub policy: Arc<triage::Policy>,
    /// Scan the staged change of the repository containing `roots[0]` (none: the current directory)
    /// instead of walking `roots`; only secrets on added lines count.
    pub staged: bool,
}

/// What a scan produced, ready for triage and reporting.
#[derive(Debug, Default)]
pub struct ScanOutcome {
    pub findings: Vec<Finding>,
    pub errors: Vec<ScanError>,
    pub notices: Vec<Notice>,
    pub stats: ScanStats,
}

impl ScanOutcome {
    /// Adds another scan's results (a history scan and a working-tree scan run together).
    pub fn absorb(&mut self, other: ScanOutcome) {
        self.findings.extend(other.findings);
        self.errors.extend(other.errors);
        self.notices.extend(other.notices);
        let (s, o) = (&mut self.stats, other.stats);
        s.files += o.files;
        s.bytes += o.bytes;
        s.skipped += o.skipped;
        s.skipped_binary += o.skipped_binary;
        s.skipped_large += o.skipped_large;
        s.skipped_other += o.skipped_other;
        s.commits += o.commits;
    }
}

/// Runs the scan. Never fails as a whole: what could not be read is in `errors`.
pub fn run(engine: &Engine, cfg: &ScanConfig) -> ScanOutcome {
    let started = Instant::now();
    if cfg.staged {
        let mut outcome = run_staged(engine, cfg);
        finish(&mut outcome, started);
        return outcome;
    }
    let shared = Mutex::new(ScanOutcome::default());
    let progress = cfg.progress.then(progress_bar);

    if cfg.stdin {
        let mut c = Collector::new(engine, &cfg.policy, &shared, progress.as_ref());
        let mut buf = Vec::new();
        if let Err(e) = stdin::read(&mut buf, cfg.walk.max_file_size) {
            Sink::error(&mut c, e);
        }
        c.blob(Blob {
            path: "-",
            bytes: &buf,
            origin: Origin::Stdin,
        });
    }
    if !cfg.roots.is_empty() {
        fs::walk(&cfg.roots, &cfg.walk, || {
            Collector::new(engine, &cfg.policy, &shared, progress.as_ref())
        });
    }
    if let Some(p) = progress {
        p.finish_and_clear();
    }

    let mut outcome = shared.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    finish(&mut outcome, started);
    outcome
}

fn finish(outcome: &mut ScanOutcome, started: Instant) {
    triage::finish(&mut outcome.findings);
    outcome.errors.sort_by(|a, b| a.path.cmp(&b.path));
    outcome.notices.sort_by(|a, b| a.path.cmp(&b.path));
    outcome.stats.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
}

/// The staged change, on this thread: a commit touches few files, and a pre-commit hook must start fast.
fn run_staged(engine: &Engine, cfg: &ScanConfig) -> ScanOutcome {
    let shared = Mutex::new(ScanOutcome::default());
    let opts = StagedOptions {
        max_file_size: cfg.walk.max_file_size,
        respect_ignore: cfg.walk.respect_ignore,
    };
    let start = cfg.roots.first().map(PathBuf::as_path);
    {
        let mut c = Collector::new(engine, &cfg.policy, &shared, None);
        if let Err(e) = staged::walk(start, &opts, &mut c) {
            Sink::error(
                &mut c,
                ScanError::new(
                    ErrorKind::Repository,
                    start.map_or_else(|| ".".to_string(), |p| p.display().to_string()),
                    e.to_string(),
                ),
            );
        }
    }
    shared.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn progress_bar() -> ProgressBar {
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(8));
    pb.set_style(
        ProgressStyle::with_template("{spinner} scanned {pos} files, {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(Duration::from_millis(125));
    pb
}

/// One per worker thread: scans blobs with its own [`Worker`], keeps results locally, merges them on drop.
struct Collector<'a> {
    scanner: Scanner<'a>,
    worker: Worker,
    local: ScanOutcome,
    shared: &'a Mutex<ScanOutcome>,
    progress: Option<&'a ProgressBar>,
}

impl<'a> Collector<'a> {
    fn new(
        engine: &'a Engine,
        policy: &'a triage::Policy,
        shared: &'a Mutex<ScanOutcome>,
        progress: Option<&'a ProgressBar>,
    ) -> Self {
        let scanner = Scanner::new(engine, policy);
        Collector {
            scanner,
            worker: scanner.worker(),
            local: ScanOutcome::default(),
            shared,
            progress,
        }
    }
}

impl Sink for Collector<'_> {
    fn blob(&mut self, blob: Blob<'_>) {
        let scanned = self.scanner.scan(
            &mut self.worker,
            blob.path,
            &blob.origin,
            blob.bytes,
            &mut self.local.findings,
        );
        match scanned {
            Scanned::Text(bytes) => {
                self.local.stats.files += 1;
                self.local.stats.bytes += bytes;
            }
            Scanned::Binary => self.skip(blob.path, SkipReason::Binary),
        }
        if let Some(p) = self.progress {
            p.inc(1);
            if self.local.stats.files % 64 == 0 {
                p.set_message(format!("{} findings so far", self.local.findings.len()));
            }
        }
    }

    fn error(&mut self, error: ScanError) {
        self.local.errors.push(error);
    }

    fn skip(&mut self, path: &str, reason: SkipReason) {
        let stats = &mut self.local.stats;
        stats.skipped += 1;
        match reason {
            SkipReason::Binary => stats.skipped_binary += 1,
            SkipReason::TooLarge { size, limit } => {
                stats.skipped_large += 1;
                self.local.notices.push(Notice {
                    path: path.to_string(),
                    message: format!("skipped: {size} bytes is over --max-file-size ({limit} bytes)"),
                });
            }
            SkipReason::Special => {
                stats.skipped_other += 1;
                self.local.notices.push(Notice {
                    path: path.to_string(),
                    message: "skipped: not a regular file (FIFO, socket or device)".to_string(),
                });
            }
            SkipReason::Symlink => stats.skipped_other += 1,
        }
    }
}

impl staged::Sink for Collector<'_> {
    /// Scans the whole staged text (so that a snippet still masks an older secret beside a new one), then
    /// keeps the findings whose secret touches an added line: a multi-line secret (a PEM body) whose
    /// first line is old but whose body changed is a new secret; an encoded secret counts when the line
    /// holding its encoded form was added.
    fn file(&mut self, blob: Blob<'_>, added: &AddedLines) {
        let from = self.local.findings.len();
        self.scanner.scan_text(
            &mut self.worker,
            blob.path,
            &blob.origin,
            blob.bytes,
            &mut self.local.findings,
        );
        self.local.stats.files += 1;
        self.local.stats.bytes += blob.bytes.len() as u64;
        let scanned = self.local.findings.split_off(from);
        self.local.findings.extend(scanned.into_iter().filter(|f| {
            let last = match f.encoding {
                Some(_) => f.line,
                None => f.line + f.secret.expose().matches('\n').count(),
            };
            added.overlaps(f.line, last)
        }));
    }

    fn error(&mut self, error: ScanError) {
        Sink::error(self, error);
    }

    fn skip(&mut self, path: &str, reason: SkipReason) {
        Sink::skip(self, path, reason);
    }
}

impl Drop for Collector<'_> {
    fn drop(&mut self) {
        let local = std::mem::take(&mut self.local);
        let mut shared = self.shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        shared.absorb(local);
    }
}
