//! Top-level glue for one scan: sources → engine → located findings → triage. No I/O of reports here.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::{Engine, Scratch};
use crate::finding::{Finding, Notice, Origin, ScanError, ScanStats};
use crate::source::{
    fs::{self, Sink, WalkOptions},
    staged::{self, AddedLines, StagedOptions},
    stdin, Blob, SkipReason,
};
use crate::triage;
use crate::{decode, locate};

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
            c.error(e);
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
            c.error(ScanError {
                path: start.map_or_else(|| ".".to_string(), |p| p.display().to_string()),
                message: e.to_string(),
            });
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

/// One per worker thread: scans blobs with its own scratch, keeps results locally, merges them on drop.
struct Collector<'a> {
    engine: &'a Engine,
    policy: &'a triage::Policy,
    scratch: Scratch,
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
        Collector {
            engine,
            policy,
            scratch: engine.scratch(),
            local: ScanOutcome::default(),
            shared,
            progress,
        }
    }
}

impl Sink for Collector<'_> {
    fn blob(&mut self, blob: Blob<'_>) {
        let matches = self.engine.scan(blob.bytes, &mut self.scratch);
        let from = self.local.findings.len();
        if !matches.is_empty() {
            locate::findings(
                self.engine,
                blob.path,
                &blob.origin,
                blob.bytes,
                matches,
                &mut self.local.findings,
            );
        }
        decode::findings(
            self.engine,
            &mut self.scratch,
            blob.path,
            &blob.origin,
            blob.bytes,
            &mut self.local.findings,
            from,
        );
        if self.local.findings.len() > from {
            // Allowlists run here, while the blob's lines are at hand (gitleaks' `regexTarget = "line"`).
            self.policy.filter_blob(blob.bytes, &mut self.local.findings, from);
        }
        self.local.stats.files += 1;
        self.local.stats.bytes += blob.bytes.len() as u64;
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
    /// Locates every match (so that a snippet still redacts an older secret beside a new one), then keeps
    /// the findings whose secret touches an added line: a multi-line secret (a PEM body) whose first line
    /// is old but whose body changed is a new secret.
    fn file(&mut self, blob: Blob<'_>, added: &AddedLines) {
        let matches = self.engine.scan(blob.bytes, &mut self.scratch);
        self.local.stats.files += 1;
        self.local.stats.bytes += blob.bytes.len() as u64;
        let mut found = Vec::new();
        if !matches.is_empty() {
            let mut kept_lines = Vec::new();
            let (mut line, mut counted_to) = (1, 0);
            for m in matches {
                line += memchr::memchr_iter(b'\n', &blob.bytes[counted_to..m.start]).count();
                counted_to = m.start;
                let last = line + memchr::memchr_iter(b'\n', &blob.bytes[m.start..m.end]).count();
                if added.overlaps(line, last) {
                    kept_lines.push(line);
                }
            }
            if !kept_lines.is_empty() {
                locate::findings(self.engine, blob.path, &blob.origin, blob.bytes, matches, &mut found);
                found.retain(|f| kept_lines.contains(&f.line));
            }
        }
        decode::findings(
            self.engine,
            &mut self.scratch,
            blob.path,
            &blob.origin,
            blob.bytes,
            &mut found,
            0,
        );
        // An encoded secret counts when the line holding its encoded form was added.
        found.retain(|f| f.encoding.is_none() || added.overlaps(f.line, f.line));
        if found.is_empty() {
            return;
        }
        let from = self.local.findings.len();
        self.local.findings.extend(found);
        self.policy.filter_blob(blob.bytes, &mut self.local.findings, from);
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
