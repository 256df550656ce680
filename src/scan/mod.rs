//! The scan stage: the one recipe every source's bytes go through, and the runs that feed it.
//!
//! [`Scanner::scan`] is the only place where bytes become findings: classify (text, UTF-16, binary, one
//! function for every source) → engine → locate → decoders → inline and line allowlists. The working
//! tree, standard input, the staged index ([`run`]), history blobs and commit messages ([`history`]) all
//! call it; a source adds a producer of bytes, never a second copy of the recipe. Triage (config
//! allowlists, baseline, dedup, threshold) runs once, after.

pub mod history;
pub mod state;
pub mod timeline;

use std::{
    io::{self, Read},
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::{Engine, EngineError, Scratch, Wide};
use crate::finding::{ErrorKind, Finding, Notice, Origin, ScanError, ScanStats};
use crate::rules::LoadedRule;
use crate::source::{
    archive,
    fs::{self, Sink, WalkOptions},
    staged::{self, AddedLines, StagedOptions},
    stdin, text, Blob, SkipReason,
};
use crate::triage;
use crate::{decode, locate, notebook};

/// Compiles `rules` with every decoder's patterns: the engine a scan runs.
pub fn compile(rules: &[LoadedRule]) -> Result<Engine, EngineError> {
    // The decoders' patterns are computed, and their automata built, only when a blob first needs them.
    Engine::compile_lazy(rules, Some(decode::pattern_source(rules)))
}

/// How much consecutive windows of a streamed source overlap: twice the longest secret (with its context)
/// that must be found across a window edge.
pub const OVERLAP: usize = 64 * 1024;
/// The smallest window: `--max-file-size 0` still scans everything, in 1 MiB windows.
const MIN_WINDOW: usize = 1 << 20;
const READ_BLOCK: usize = 64 * 1024;

/// One read, retried on `Interrupted`; 0 at the end of the input.
fn read_some(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Reads into `out` until it holds `want` bytes; true when the input ended first.
fn fill(reader: &mut dyn Read, out: &mut Vec<u8>, want: usize, buf: &mut [u8]) -> io::Result<bool> {
    while out.len() < want {
        let take = (want - out.len()).min(buf.len());
        let n = read_some(reader, &mut buf[..take])?;
        if n == 0 {
            return Ok(true);
        }
        out.extend_from_slice(&buf[..n]);
    }
    Ok(false)
}

/// Appends raw bytes of class `c` to `text`, decoding UTF-16 (the BOM of the first chunk dropped, an odd
/// trailing byte kept for the next chunk).
fn append(text: &mut Vec<u8>, raw: &[u8], c: text::Class, first: bool, odd: &mut Option<u8>, buf: &mut Vec<u8>) {
    match c {
        text::Class::Utf16 { big_endian, bom } => {
            let mut bytes: Vec<u8> = Vec::with_capacity(raw.len() + 1);
            bytes.extend(odd.take());
            bytes.extend_from_slice(if first && bom {
                raw.get(2..).unwrap_or_default()
            } else {
                raw
            });
            if bytes.len() % 2 == 1 {
                *odd = bytes.pop();
            }
            text::decode_utf16_into(&bytes, big_endian, buf);
            text.extend_from_slice(buf);
        }
        _ => text.extend_from_slice(raw),
    }
}

/// The one scan recipe, shared by every source and thread.
#[derive(Clone, Copy)]
pub struct Scanner<'a> {
    pub engine: &'a Engine,
    pub policy: &'a triage::Policy,
    /// Open archives (zip family, tar, gzip) and scan their members, within these limits; `None`
    /// (`--no-archives`): archives are passed over as binary.
    pub archives: Option<archive::Limits>,
}

/// One thread's working memory for [`Scanner`]: reused across blobs, so the hot loop does not allocate.
pub struct Worker {
    scratch: Scratch,
    decoded: Vec<u8>,
    /// What could not be read inside the archives scanned since the last [`Worker::take_errors`].
    errors: Vec<ScanError>,
    /// The engine saw a match or a decoder hit since the last [`Worker::take_noisy`], whatever the
    /// allowlists, notebooks or decoders made of it.
    noisy: bool,
}

impl Worker {
    /// The errors of the archives this worker scanned (corrupt, encrypted or over a limit); a source
    /// takes them after each blob it hands to [`Scanner::scan`] or [`Scanner::scan_reader`].
    pub fn take_errors(&mut self) -> Vec<ScanError> {
        std::mem::take(&mut self.errors)
    }

    /// Whether the engine saw any match or decoder hit in what this worker scanned since the last call
    /// (found, allowlisted or dropped alike): a blob that scanned quiet can serve as a clean base for
    /// deltas against it (`scan::history`).
    pub fn take_noisy(&mut self) -> bool {
        std::mem::take(&mut self.noisy)
    }

    /// Which wider tiers' keywords (rules with wide windows) what this worker scanned since the last
    /// call may hold ([`Scratch::take_wide`]): a quiet base without a tier's spares the edits against it
    /// the search of that tier's bands.
    pub fn take_wide(&mut self) -> Wide {
        self.scratch.take_wide()
    }

    /// Whether the last scan ran any rule's regex (a scan around an edit runs none when no pattern lies
    /// near it).
    pub fn ran_rules(&self) -> bool {
        self.scratch.ran_rules()
    }
}

/// Hands an archive's members to the scanner: members are a source, scanned by the same recipe.
struct Members<'s, 'w> {
    scanner: &'s Scanner<'s>,
    worker: &'w mut Worker,
    origin: &'w Origin,
    out: &'w mut Vec<Finding>,
    bytes: u64,
}

impl archive::Sink for Members<'_, '_> {
    fn blob(&mut self, path: &str, bytes: &[u8]) {
        if let Scanned::Text(n) = self.scanner.scan_leaf(self.worker, path, self.origin, bytes, self.out) {
            self.bytes += n;
        }
    }

    fn stream(&mut self, path: &str, reader: &mut dyn Read) -> io::Result<()> {
        let window = self.scanner.archives.map_or(MIN_WINDOW, |l| l.window);
        let scanned = self
            .scanner
            .scan_reader_leaf(self.worker, path, self.origin, reader, window, self.out)?;
        if let Scanned::Text(n) = scanned {
            self.bytes += n;
        }
        Ok(())
    }

    fn error(&mut self, error: ScanError) {
        self.worker.errors.push(error);
    }
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
    /// A scanner that opens archives within the default [`archive::Limits`].
    pub fn new(engine: &'a Engine, policy: &'a triage::Policy) -> Self {
        Scanner {
            engine,
            policy,
            archives: Some(archive::Limits::default()),
        }
    }

    /// The same scanner with archives opened within `limits`, or passed over (`None`).
    pub fn with_archives(self, archives: Option<archive::Limits>) -> Self {
        Scanner { archives, ..self }
    }

    pub fn worker(&self) -> Worker {
        Worker {
            scratch: self.engine.scratch(),
            decoded: Vec::new(),
            errors: Vec::new(),
            noisy: false,
        }
    }

    /// Opens the archive `path` and scans its members; their errors go to the worker.
    fn expand(
        &self,
        w: &mut Worker,
        kind: archive::Kind,
        path: &str,
        origin: &Origin,
        input: archive::Input<'_>,
        out: &mut Vec<Finding>,
    ) -> Scanned {
        let Some(limits) = self.archives else {
            return Scanned::Binary;
        };
        let mut members = Members {
            scanner: self,
            worker: w,
            origin,
            out,
            bytes: 0,
        };
        archive::expand(kind, path, input, &limits, &mut members);
        Scanned::Text(members.bytes)
    }

    /// Scans raw bytes: classified by [`text::prepare`], then the recipe. Findings are appended to `out`
    /// in line order.
    ///
    /// The binary policy, for every source: a binary file that cannot hold text ([`text::opaque`]:
    /// images, media, fonts) is passed over; any other (a SQLite database, a `.pyc`, an
    /// executable) is scanned as bytes, at the prefilter's full speed, and its findings are marked
    /// `binary`. An archive ([`archive::kind`]) is opened and its members scanned, each named
    /// `path!member`; what could not be read in it waits in [`Worker::take_errors`].
    pub fn scan(&self, w: &mut Worker, path: &str, origin: &Origin, raw: &[u8], out: &mut Vec<Finding>) -> Scanned {
        if text::classify(raw) == text::Class::Binary {
            if let Some(kind) = archive::kind(path, raw) {
                return self.expand(w, kind, path, origin, archive::Input::Bytes(raw), out);
            }
        }
        self.scan_leaf(w, path, origin, raw, out)
    }

    /// [`Scanner::scan`] of a blob that is not an archive to open (an archive's member, which the
    /// archive source has looked at already).
    fn scan_leaf(&self, w: &mut Worker, path: &str, origin: &Origin, raw: &[u8], out: &mut Vec<Finding>) -> Scanned {
        let Worker {
            scratch,
            decoded,
            noisy,
            ..
        } = w;
        match text::prepare(raw, decoded) {
            Some(t) => {
                *noisy |= self.recipe(scratch, path, origin, t, false, out);
                Scanned::Text(t.len() as u64)
            }
            // An archive reaches here only when archives are not opened.
            None if text::opaque(path, raw) || archive::kind(path, raw).is_some() => Scanned::Binary,
            None => {
                *noisy |= self.recipe(scratch, path, origin, raw, true, out);
                Scanned::Text(raw.len() as u64)
            }
        }
    }

    /// Scans text that [`text::prepare`] already produced (the staged source diffs the decoded text, so
    /// it prepares both sides itself), or text that is never a file (a commit message).
    /// Bytes the source kept although they classify as binary (its binary files that are not
    /// [`text::opaque`]) are scanned the same and their findings marked `binary`.
    pub fn scan_text(&self, w: &mut Worker, path: &str, origin: &Origin, text: &[u8], out: &mut Vec<Finding>) {
        let binary = text::classify(text) == text::Class::Binary;
        w.noisy |= self.recipe(&mut w.scratch, path, origin, text, binary, out);
    }

    /// Scans a source too large to hold whole (or of unknown size: a pipe, standard input) in windows of
    /// `window` bytes of text that overlap by [`OVERLAP`]: memory is bounded by the window, not by the
    /// input. Each window reports the matches that start in its own part (the overlap is split in the
    /// middle), so a secret across a window edge is found once, by the window that holds it whole; lines
    /// and columns are counted across windows. The class (text, UTF-16, binary) is decided once, from the
    /// first bytes, as for a blob held whole. An archive is opened as a stream (members over the window
    /// streamed in turn); its errors wait in [`Worker::take_errors`].
    pub fn scan_reader(
        &self,
        w: &mut Worker,
        path: &str,
        origin: &Origin,
        reader: &mut dyn Read,
        window: usize,
        out: &mut Vec<Finding>,
    ) -> io::Result<Scanned> {
        let mut raw = vec![0u8; READ_BLOCK];
        let mut sample = Vec::with_capacity(text::SAMPLE);
        fill(reader, &mut sample, text::SAMPLE, &mut raw)?;
        if text::classify(&sample) == text::Class::Binary {
            if let Some(kind) = archive::kind(path, &sample) {
                let mut rest = io::Cursor::new(sample).chain(reader);
                return Ok(self.expand(w, kind, path, origin, archive::Input::Stream(&mut rest), out));
            }
        }
        let mut rest = io::Cursor::new(sample).chain(reader);
        self.scan_reader_leaf(w, path, origin, &mut rest, window, out)
    }

    /// [`Scanner::scan_reader`] of a stream that is not an archive to open.
    fn scan_reader_leaf(
        &self,
        w: &mut Worker,
        path: &str,
        origin: &Origin,
        reader: &mut dyn Read,
        window: usize,
        out: &mut Vec<Finding>,
    ) -> io::Result<Scanned> {
        let window = window.max(MIN_WINDOW);
        let Worker {
            scratch,
            decoded,
            noisy,
            ..
        } = w;
        let mut raw = vec![0u8; READ_BLOCK];
        // The class is decided on the first `SAMPLE` bytes (short reads from a pipe are gathered first).
        let mut sample = Vec::with_capacity(text::SAMPLE);
        let mut eof = fill(reader, &mut sample, text::SAMPLE, &mut raw)?;
        let class = text::classify(&sample);
        let binary = class == text::Class::Binary;
        if binary && (text::opaque(path, &sample) || archive::kind(path, &sample).is_some()) {
            return Ok(Scanned::Binary);
        }
        // An odd byte of UTF-16 left from the last read.
        let mut odd: Option<u8> = None;
        let mut text: Vec<u8> = Vec::new();
        let mut total = sample.len() as u64;
        append(&mut text, &sample, class, true, &mut odd, decoded);
        drop(sample);
        let (mut line_base, mut col_base) = (1usize, 0usize);
        let mut own_from = 0usize;
        loop {
            while text.len() < window && !eof {
                let n = read_some(reader, &mut raw)?;
                if n == 0 {
                    eof = true;
                } else {
                    append(&mut text, &raw[..n], class, false, &mut odd, decoded);
                    total += n as u64;
                }
            }
            let own_to = if eof {
                text.len()
            } else {
                text.len().saturating_sub(OVERLAP / 2)
            };
            let from = out.len();
            *noisy |= self.recipe_within(scratch, path, origin, &text, own_from..own_to, binary, out);
            for f in &mut out[from..] {
                if f.line == 1 {
                    f.column += col_base;
                    f.end_column += col_base;
                }
                f.line += line_base - 1;
            }
            if eof {
                break;
            }
            // The next window starts `OVERLAP` bytes before this one's end.
            let next = text.len().saturating_sub(OVERLAP);
            let carried = &text[..next];
            match memchr::memrchr(b'\n', carried) {
                Some(i) => {
                    line_base += memchr::memchr_iter(b'\n', carried).count();
                    col_base = locate::char_count(&carried[i + 1..]);
                }
                None => col_base += locate::char_count(carried),
            }
            text.drain(..next);
            own_from = (OVERLAP / 2).min(text.len());
        }
        Ok(Scanned::Text(total))
    }

    fn recipe(
        &self,
        scratch: &mut Scratch,
        path: &str,
        origin: &Origin,
        text: &[u8],
        binary: bool,
        out: &mut Vec<Finding>,
    ) -> bool {
        self.recipe_within(scratch, path, origin, text, 0..text.len(), binary, out)
    }

    /// The recipe, reporting only the matches (and decoder hits) that start in `own`; `binary` marks
    /// the findings of a binary file scanned as bytes. True when the engine saw any match or decoder
    /// hit, in `own` or not.
    #[allow(clippy::too_many_arguments)]
    fn recipe_within(
        &self,
        scratch: &mut Scratch,
        path: &str,
        origin: &Origin,
        text: &[u8],
        own: std::ops::Range<usize>,
        binary: bool,
        out: &mut Vec<Finding>,
    ) -> bool {
        scratch.set_binary(binary);
        self.engine.set_path(scratch, path);
        self.engine.scan(text, scratch);
        let noisy = !scratch.matches().is_empty() || !scratch.decoder_hits().is_empty();
        if own != (0..text.len()) {
            scratch.keep_within(own.start, own.end);
        }
        self.report(scratch, path, origin, text, binary, out);
        noisy
    }

    /// [`Scanner::scan`] of `raw`, a blob edited at `changes` (see [`Engine::scan_near`]) from a blob of
    /// the same kind whose scan found no match and no decoder hit (its base), reading only around the
    /// changes: the same findings, and the same [`Worker::take_noisy`]. The kind is plain text, or with
    /// `binary` a binary file that [`Scanner::scan`] scans as bytes (the caller knows it is neither an
    /// archive nor [`text::opaque`]). `base_wide`: the base's [`Worker::take_wide`]. `None`, having done
    /// nothing, when `raw` is not of that kind or the engine cannot scan it so (it must then be scanned
    /// whole).
    #[allow(clippy::too_many_arguments)]
    pub fn scan_edit(
        &self,
        w: &mut Worker,
        path: &str,
        origin: &Origin,
        raw: &[u8],
        changes: &[(usize, usize)],
        binary: bool,
        base_wide: Wide,
        out: &mut Vec<Finding>,
    ) -> Option<Scanned> {
        let want = if binary { text::Class::Binary } else { text::Class::Text };
        if text::classify(raw) != want {
            return None;
        }
        // A rule gated on this path reads the whole file: only a whole scan runs it.
        if self.engine.set_path(&mut w.scratch, path) {
            return None;
        }
        w.scratch.set_binary(binary);
        self.engine.scan_near(raw, changes, base_wide, &mut w.scratch)?;
        w.noisy |= !w.scratch.matches().is_empty() || !w.scratch.decoder_hits().is_empty();
        self.report(&mut w.scratch, path, origin, raw, binary, out);
        Some(Scanned::Text(raw.len() as u64))
    }

    /// The recipe after the engine: findings of the matches and decoder hits in `scratch`, then the
    /// allowlists that read the line and notebook placement.
    fn report(
        &self,
        scratch: &mut Scratch,
        path: &str,
        origin: &Origin,
        text: &[u8],
        binary: bool,
        out: &mut Vec<Finding>,
    ) {
        let from = out.len();
        let matches = scratch.matches();
        if !matches.is_empty() {
            locate::findings(self.engine, path, origin, text, matches, out);
        }
        decode::findings(self.engine, scratch, path, origin, text, out, from);
        if out.len() > from {
            // Allowlists that read the line (gitleaks' `regexTarget = "line"`) run while it is at hand.
            self.policy.filter_blob(text, out, from);
            for f in &mut out[from..] {
                f.binary = binary;
            }
            if notebook::is_notebook(path) {
                let mut placed = out.split_off(from);
                notebook::place(text, &mut placed);
                out.append(&mut placed);
            }
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
    /// The staged change, being listed on another thread since before the rules loaded (staged scans).
    pub prefetch: Option<staged::Prefetch>,
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
        s.add_counts(&o);
        s.skipped_files.extend(o.skipped_files);
        s.ignored_files.extend(o.ignored_files);
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
        // Standard input is streamed: memory stays bounded by the window, whatever comes down the pipe.
        let mut c = Collector::new(
            engine,
            &cfg.policy,
            &shared,
            progress.as_ref(),
            window(cfg),
            cfg.walk.archives,
        );
        c.read_stream("-", &Origin::Stdin, &mut stdin::reader());
    }
    if !cfg.roots.is_empty() {
        engine.expect_large();
        fs::walk(&cfg.roots, &cfg.walk, || {
            Collector::new(
                engine,
                &cfg.policy,
                &shared,
                progress.as_ref(),
                window(cfg),
                cfg.walk.archives,
            )
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
        respect_ignore: cfg.walk.respect_ignore,
        archives: cfg.walk.archives.is_some(),
    };
    let start = cfg.roots.first().map(PathBuf::as_path);
    {
        let mut c = Collector::new(engine, &cfg.policy, &shared, None, window(cfg), cfg.walk.archives);
        // The listing the hook began while its rules loaded, or (none begun) one listed now.
        let listed = cfg
            .prefetch
            .as_ref()
            .and_then(staged::Prefetch::take)
            .unwrap_or_else(|| staged::changes(start, &opts));
        if let Err(e) = listed.map(|changed| changed.read(&mut c)) {
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

/// The window a streamed source is scanned in: `--max-file-size`, which bounds memory, not coverage.
fn window(cfg: &ScanConfig) -> usize {
    usize::try_from(cfg.walk.max_file_size).unwrap_or(usize::MAX)
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
    window: usize,
}

impl<'a> Collector<'a> {
    fn new(
        engine: &'a Engine,
        policy: &'a triage::Policy,
        shared: &'a Mutex<ScanOutcome>,
        progress: Option<&'a ProgressBar>,
        window: usize,
        archives: Option<archive::Limits>,
    ) -> Self {
        let scanner = Scanner::new(engine, policy).with_archives(archives);
        Collector {
            scanner,
            worker: scanner.worker(),
            local: ScanOutcome::default(),
            shared,
            progress,
            window,
        }
    }

    /// Scans a blob held whole into the local outcome: its findings, what could not be read inside it
    /// (an archive's members), and the file and bytes counted when it was scanned.
    fn scan_counted(&mut self, blob: &Blob<'_>) -> Scanned {
        let scanned = self.scanner.scan(
            &mut self.worker,
            blob.path,
            &blob.origin,
            blob.bytes,
            &mut self.local.findings,
        );
        self.local.errors.append(&mut self.worker.take_errors());
        if let Scanned::Text(bytes) = scanned {
            self.local.stats.files += 1;
            self.local.stats.bytes += bytes;
        }
        scanned
    }

    fn read_stream(&mut self, path: &str, origin: &Origin, reader: &mut dyn Read) {
        let scanned = self.scanner.scan_reader(
            &mut self.worker,
            path,
            origin,
            reader,
            self.window,
            &mut self.local.findings,
        );
        self.local.errors.append(&mut self.worker.take_errors());
        match scanned {
            Ok(Scanned::Text(bytes)) => {
                self.local.stats.files += 1;
                self.local.stats.bytes += bytes;
            }
            Ok(Scanned::Binary) => self.skip(path, SkipReason::Binary),
            Err(e) => {
                let kind = if matches!(origin, Origin::Stdin) {
                    ErrorKind::Stdin
                } else {
                    ErrorKind::Io
                };
                // What was read before the failure is scanned; the rest is a hole.
                Sink::error(self, ScanError::new(kind, path, format!("reading stopped: {e}")));
            }
        }
    }
}

impl Sink for Collector<'_> {
    fn stream(&mut self, path: &str, reader: &mut dyn Read) {
        self.read_stream(path, &Origin::File, reader);
    }

    fn blob(&mut self, blob: Blob<'_>) {
        if let Scanned::Binary = self.scan_counted(&blob) {
            self.skip(blob.path, SkipReason::Binary);
        }
        if let Some(p) = self.progress {
            p.inc(1);
            if self.local.stats.files.is_multiple_of(64) {
                p.set_message(format!("{} findings so far", self.local.findings.len()));
            }
        }
    }

    fn error(&mut self, error: ScanError) {
        self.local.errors.push(error);
    }

    fn ignored(&mut self, path: &str) {
        self.local.stats.ignored_files.push(path.to_string());
    }

    fn skip(&mut self, path: &str, reason: SkipReason) {
        let stats = &mut self.local.stats;
        stats.skipped += 1;
        stats.skipped_files.push(crate::finding::SkippedFile {
            path: path.to_string(),
            reason: reason.as_str(),
        });
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

/// A staged file is scanned around its added lines only when at least so many of its bytes are old (and
/// the added ones under a quarter): that scan needs every decoder pattern in one set and each pattern's
/// reach (about two milliseconds, once per run), which the whole scan of a few short files does not.
const NEAR_UNCHANGED: usize = 4 << 10;

impl staged::Sink for Collector<'_> {
    /// Keeps the findings of the staged text whose secret touches an added line: a multi-line secret (a
    /// PEM body) whose first line is old but whose body changed is a new secret; an encoded secret counts
    /// when the line holding its encoded form was added.
    ///
    /// A file with more than [`NEAR_UNCHANGED`] old bytes (and added lines under a quarter of it) is
    /// first scanned only around the added lines ([`Scanner::scan_edit`]): a match that
    /// touches a change lies in a rule window opened by a keyword within the window of it, which that
    /// scan grows into the whole window the full scan builds, so it finds every finding that counts
    /// whatever the old lines hold (the quiet base [`Engine::scan_near`] asks for is what makes it find
    /// nothing else; here nothing else is wanted). An ordinary commit's added lines are a small part of
    /// the files it touches, whose other lines' keywords no longer wake rules. When that scan finds
    /// something, or cannot be used (bands covering most of the file, a path-gated rule, bytes that are
    /// not plain text), the whole text is scanned, so that a snippet still masks an older secret beside
    /// a new one.
    fn file(&mut self, blob: Blob<'_>, added: &AddedLines) {
        let touches = |f: &Finding| added.touched_by(f);
        self.local.stats.files += 1;
        self.local.stats.bytes += blob.bytes.len() as u64;
        let changes = added.byte_ranges(blob.bytes);
        let changed: usize = changes.iter().map(|&(a, b)| b - a).sum();
        let unchanged = blob.bytes.len().saturating_sub(changed);
        let mut near = Vec::new();
        let scanned = (unchanged >= NEAR_UNCHANGED && changed * 4 < blob.bytes.len())
            .then(|| {
                // Every pattern searched in every file from now on, as `scan_edit` needs: built once.
                self.scanner.engine.expect_large();
                self.scanner.scan_edit(
                    &mut self.worker,
                    blob.path,
                    &blob.origin,
                    blob.bytes,
                    &changes,
                    false,
                    crate::engine::ALL_WIDE,
                    &mut near,
                )
            })
            .flatten();
        if scanned.is_some() && !near.iter().any(touches) {
            return;
        }
        let from = self.local.findings.len();
        self.scanner.scan_text(
            &mut self.worker,
            blob.path,
            &blob.origin,
            blob.bytes,
            &mut self.local.findings,
        );
        let scanned = self.local.findings.split_off(from);
        self.local.findings.extend(scanned.into_iter().filter(touches));
    }

    /// Scans every member of the new archive (as a tree scan does: `path!member`, same limits and
    /// errors) and keeps the secrets the archive it replaces did not hold (same rule and secret, at any
    /// member): a commit that rebuilds a jar without touching its key adds no key.
    fn archive(&mut self, blob: Blob<'_>, old: Option<&[u8]>) {
        let from = self.local.findings.len();
        self.scan_counted(&blob);
        let Some(old) = old else { return };
        if self.local.findings.len() == from {
            return;
        }
        let mut before = Vec::new();
        self.scanner
            .scan(&mut self.worker, blob.path, &blob.origin, old, &mut before);
        // What could not be read in the old archive only decides what is new: not a hole in this scan.
        drop(self.worker.take_errors());
        let known: std::collections::HashSet<_> = before.iter().map(|f| (&f.rule.id, &f.fingerprint)).collect();
        let scanned = self.local.findings.split_off(from);
        self.local.findings.extend(
            scanned
                .into_iter()
                .filter(|f| !known.contains(&(&f.rule.id, &f.fingerprint))),
        );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules;

    fn engine() -> &'static Engine {
        static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
        ENGINE.get_or_init(|| compile(&rules::builtin().expect("built-in rules load")).expect("compile"))
    }

    type Key = (String, String, usize, usize);

    fn keys(found: &[Finding]) -> Vec<Key> {
        let mut v: Vec<Key> = found
            .iter()
            .map(|f| (f.rule.id.to_string(), f.secret.expose().to_string(), f.line, f.column))
            .collect();
        v.sort();
        v
    }

    /// A Klaviyo-shaped key from a small xorshift generator: random enough for every filter.
    fn key(n: usize) -> String {
        let mut x = 0x9E37_79B9_7F4A_7C15_u64 ^ (n as u64).wrapping_mul(0x2545_F491_4F6C_DD1D);
        let mut out = String::from("pk_");
        while out.len() < 37 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.push(char::from_digit((x % 16) as u32, 16).unwrap_or('0'));
        }
        out
    }

    /// Text of about `len` bytes with a key every `every` bytes, on lines of `line` bytes (0: one line).
    fn planted(len: usize, every: usize, line: usize) -> (String, usize) {
        let mut out = String::with_capacity(len + 100);
        let mut n = 0;
        let mut since_nl = 0;
        while out.len() < len {
            if out.len() / every >= n {
                out.push_str(&format!(" k={} ", key(n)));
                n += 1;
            } else {
                out.push_str("lorem ipsum ");
            }
            since_nl += 12;
            if line > 0 && since_nl >= line {
                out.push('\n');
                since_nl = 0;
            }
        }
        (out, n)
    }

    fn whole_and_streamed(bytes: &[u8]) -> (Vec<Key>, Vec<Key>) {
        let policy = triage::Policy::default();
        let scanner = Scanner::new(engine(), &policy);
        let mut w = scanner.worker();
        let mut whole = Vec::new();
        scanner.scan(&mut w, "a.txt", &Origin::File, bytes, &mut whole);
        let mut streamed = Vec::new();
        let scanned = scanner
            .scan_reader(&mut w, "a.txt", &Origin::File, &mut &bytes[..], 0, &mut streamed)
            .expect("reading a slice cannot fail");
        assert!(matches!(scanned, Scanned::Text(_)));
        (keys(&whole), keys(&streamed))
    }

    /// See: issue 12 — files over the size limit are scanned in overlapping windows, each key once, with
    /// the same lines and columns as a scan of the whole file.
    #[test]
    fn windows_find_each_key_once_where_the_whole_scan_does() {
        for (len, every, line) in [(3_500_000, 4099, 80), (3_300_000, 65_531, 0), (2_200_000, 32_771, 5000)] {
            let (text, n) = planted(len, every, line);
            let (whole, streamed) = whole_and_streamed(text.as_bytes());
            assert_eq!(whole.len(), n, "every planted key, len {len}");
            assert_eq!(whole, streamed, "len {len} every {every} line {line}");
        }
    }

    #[test]
    fn windows_of_utf16_match_the_whole_scan() {
        let (text, n) = planted(1_600_000, 9973, 120);
        let bytes: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let (whole, streamed) = whole_and_streamed(&bytes);
        assert_eq!(whole.len(), n);
        assert_eq!(whole, streamed);
    }

    /// See: issue 15 — a SQLite record glues a text value to its serial type or the previous column.
    #[test]
    fn a_binary_file_does_not_glue_a_keyword_prefixed_secret() {
        let policy = triage::Policy::default();
        let scanner = Scanner::new(engine(), &policy);
        let mut w = scanner.worker();
        let key = key(7);
        let found = |bytes: &[u8], w: &mut Worker| {
            let mut out = Vec::new();
            scanner.scan(w, "app.db", &Origin::File, bytes, &mut out);
            out.iter().map(|f| f.secret.expose().to_string()).collect::<Vec<_>>()
        };
        let binary = |middle: &str| {
            let mut b = b"SQLite format 3\0".to_vec();
            b.extend_from_slice(middle.as_bytes());
            b.extend_from_slice(b"\0\0");
            b
        };
        assert_eq!(found(&binary(&format!("W{key}")), &mut w), vec![key.clone()]);
        assert_eq!(
            found(&binary(&format!("klaviyo_private{key}\r")), &mut w),
            vec![key.clone()]
        );
        // Glued on the right too (the next column's value): a fixed-length key ends where its regex does.
        assert_eq!(found(&binary(&format!("W{key}ab\x07")), &mut w), vec![key.clone()]);
        // In text, a left glue still rejects.
        assert!(found(format!("W{key}\n").as_bytes(), &mut w).is_empty());
    }

    #[test]
    fn a_stream_classifies_binary_and_empty_input() {
        let policy = triage::Policy::default();
        let scanner = Scanner::new(engine(), &policy);
        let mut w = scanner.worker();
        let mut out = Vec::new();
        let mut bin = vec![0u8; 20_000];
        bin[..4].copy_from_slice(b"\x7fELF");
        bin[9000..9041].copy_from_slice(b"k=pk_a4c123b1612dd272d1371c17149d439536\0\0"); // pkhound:allow
                                                                                         // An executable is scanned as bytes (issue 15), its findings marked; an image is passed over.
        let r = scanner.scan_reader(&mut w, "b", &Origin::File, &mut &bin[..], 0, &mut out);
        assert!(matches!(r, Ok(Scanned::Text(20_000))), "{r:?}");
        assert_eq!(out.len(), 1);
        assert!(out[0].binary);
        let mut whole = Vec::new();
        assert_eq!(
            scanner.scan(&mut w, "b", &Origin::File, &bin, &mut whole),
            Scanned::Text(20_000)
        );
        assert_eq!(
            (whole.len(), whole[0].binary, whole[0].column),
            (1, true, out[0].column)
        );
        out.clear();
        bin[..4].copy_from_slice(b"\x89PNG");
        let r = scanner.scan_reader(&mut w, "b", &Origin::File, &mut &bin[..], 0, &mut out);
        assert!(matches!(r, Ok(Scanned::Binary)));
        let r = scanner.scan_reader(&mut w, "e", &Origin::File, &mut &b""[..], 0, &mut out);
        assert!(matches!(r, Ok(Scanned::Text(0))));
        assert!(out.is_empty());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::rules;

    fn engine() -> &'static Engine {
        static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
        ENGINE.get_or_init(|| compile(&rules::builtin().expect("built-in rules load")).expect("compile"))
    }

    /// Bytes biased toward what breaks scanners: keyword fragments, base64, BOMs, NULs, CR/LF, UTF-8.
    fn hostile() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            Just(b"pk_a4c123b1612dd272d1371c17149d439536".to_vec()), // pkhound:allow
            Just(b"cGtfYTRjMTIzYjE2MTJkZDI3MmQxMzcxYzE3MTQ5ZDQzOTUzNg==".to_vec()),
            Just(vec![0xFF, 0xFE]),
            Just(vec![0xFE, 0xFF, 0x00]),
            Just(b"\r\n".to_vec()),
            Just("é密\u{FEFF}".as_bytes().to_vec()),
            Just(b"AKIA".to_vec()),
            Just(b"-----BEGIN PRIVATE KEY-----\n".to_vec()),
            Just(b"password=".to_vec()),
        ];
        prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Arbitrary bytes never panic the recipe, and every finding points inside its blob.
        #[test]
        fn the_recipe_never_panics(bytes in hostile()) {
            let policy = triage::Policy::default();
            let scanner = Scanner::new(engine(), &policy);
            let mut w = scanner.worker();
            let mut out = Vec::new();
            let scanned = scanner.scan(&mut w, "x.txt", &Origin::File, &bytes, &mut out);
            let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
            if let Scanned::Text(_) = scanned {
                for f in &out {
                    prop_assert!(f.line >= 1 && f.column >= 1 && f.end_column >= f.column);
                    // UTF-16 text has as many lines as its decoding, never more than bytes allow.
                    prop_assert!(f.line <= lines.max(bytes.len() / 2 + 1));
                }
            }
            let mut streamed = Vec::new();
            let r = scanner.scan_reader(&mut w, "x.txt", &Origin::File, &mut &bytes[..], 0, &mut streamed);
            prop_assert!(r.is_ok());
            // Small inputs fit one window: streaming and whole scans agree exactly.
            let key = |f: &Finding| (f.rule.id.clone(), f.secret.clone(), f.line, f.column);
            prop_assert_eq!(out.iter().map(key).collect::<Vec<_>>(), streamed.iter().map(key).collect::<Vec<_>>());
        }

        /// Classification looks at a prefix only and never panics.
        #[test]
        fn classify_is_decided_by_the_sample(bytes in prop::collection::vec(any::<u8>(), 0..20_000)) {
            let c = text::classify(&bytes);
            prop_assert_eq!(c, text::classify(&bytes[..bytes.len().min(text::SAMPLE)]));
            let mut buf = Vec::new();
            let _ = text::prepare(&bytes, &mut buf);
        }

        /// `Engine::candidates` (the snippet masks) never panics and returns spans inside the input.
        #[test]
        fn candidates_stay_inside(bytes in hostile()) {
            for (s, e) in engine().candidates(&bytes) {
                prop_assert!(s < e && e <= bytes.len());
            }
        }
    }
}
