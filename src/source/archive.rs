//! Archive members as a source: the zip family (`.zip`, `.jar`, `.war`, `.ear`, `.whl`, `.apk`, `.aar`,
//! `.nupkg`, `.xpi`, `.egg`, and any file with a zip's magic number, office documents included), tar, and
//! gzip (`.gz`, `.tgz`, `.tar.gz`), opened in memory or streamed, and nested archives inside them.
//!
//! This module only lists members and hands their bytes (or, past the window, a reader) to a [`Sink`]:
//! the scanner scans them with the same recipe as any file. It knows nothing of rules or findings.
//! Members are named `outer.zip!inner/path` (`a.tar.gz!lib/b.jar!com/x/Config.properties`); a member's
//! name is archive content, so it is only ever a label — never a path this program opens — and
//! reporters escape it like any other untrusted text.
//!
//! Everything about an archive is hostile until read: [`Limits`] bound the nesting depth, the bytes
//! expanded from one top-level archive, each member's compression ratio and the member count. A limit
//! hit, a corrupt or truncated archive, an encrypted member or an unsupported compression method is a
//! [`ScanError`] naming the archive and member, and the scan goes on with the next member: never an
//! out-of-memory, a hang or a silent hole.

use std::{
    borrow::Cow,
    cell::{Cell, RefCell},
    io::{self, Cursor, Read, Seek},
};

use super::{text, ScanError};
use crate::finding::ErrorKind;

/// The archive formats opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Tar,
    Gzip,
}

/// Extensions of zip containers, opened even when their magic number is damaged (so that the damage is
/// reported rather than the file passed over).
const ZIP_EXTENSIONS: &[&str] = &["zip", "jar", "war", "ear", "whl", "apk", "aar", "nupkg", "xpi", "egg"];

/// The archive kind of a binary blob, by magic number first, then by extension. `sample` is the start of
/// the blob (at least [`text::SAMPLE`] bytes when it has that many); text is never an archive.
pub fn kind(path: &str, sample: &[u8]) -> Option<Kind> {
    if sample.starts_with(b"PK\x03\x04") || sample.starts_with(b"PK\x05\x06") {
        return Some(Kind::Zip);
    }
    if sample.starts_with(b"\x1F\x8B\x08") {
        return Some(Kind::Gzip);
    }
    if is_tar_header(sample) {
        return Some(Kind::Tar);
    }
    if text::classify(sample) != text::Class::Binary {
        return None;
    }
    let file = path.rsplit(['/', '!']).next().unwrap_or(path);
    let ext = file
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        e if ZIP_EXTENSIONS.contains(&e) => Some(Kind::Zip),
        "gz" | "tgz" => Some(Kind::Gzip),
        "tar" => Some(Kind::Tar),
        _ => None,
    }
}

/// A POSIX/GNU tar header (`ustar` at offset 257), or a pre-POSIX one whose checksum adds up.
fn is_tar_header(b: &[u8]) -> bool {
    let Some(h) = b.get(..512) else {
        return false;
    };
    if &h[257..262] == b"ustar" {
        return true;
    }
    // v7 tar: the checksum field (148..156, octal) is the sum of the header with that field as spaces.
    let field = &h[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|&c| c == b' ')
        .take_while(|c| (b'0'..=b'7').contains(c))
        .collect();
    if digits.is_empty() || h[0] == 0 {
        return false;
    }
    let want = digits.iter().fold(0u32, |acc, &d| acc * 8 + u32::from(d - b'0'));
    let sum: u32 = h
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if (148..156).contains(&i) {
                u32::from(b' ')
            } else {
                u32::from(c)
            }
        })
        .sum();
    sum == want
}

/// Bounds on what one top-level archive may cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How many archives deep members are opened: `a.zip` is depth 1, `a.zip!b.jar` depth 2.
    pub depth: u32,
    /// Bytes expanded from one top-level archive, members of nested archives included.
    pub total: u64,
    /// Expanded bytes per compressed byte above which a member is a bomb (checked once it has expanded
    /// past [`RATIO_FLOOR`]: a small file of one repeated byte is harmless).
    pub ratio: u64,
    /// Members (files, at any depth) of one top-level archive.
    pub members: u64,
    /// Members up to this size are held whole; larger ones are streamed in windows of this size.
    pub window: usize,
}

/// A member must expand past this before its compression ratio is judged.
pub const RATIO_FLOOR: u64 = 8 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            depth: 4,
            total: 1 << 30,
            ratio: 250,
            members: 100_000,
            window: 100 << 20,
        }
    }
}

/// Receives the members of an archive, on the scanning thread.
pub trait Sink {
    /// A member read whole (at most [`Limits::window`] bytes).
    fn blob(&mut self, path: &str, bytes: &[u8]);
    /// A member larger than the window, to be read as a stream.
    fn stream(&mut self, path: &str, reader: &mut dyn Read) -> io::Result<()>;
    fn error(&mut self, error: ScanError);
}

/// What an archive is read from: bytes held whole, or a stream (a file over the window, standard input,
/// a large member of an outer archive).
pub enum Input<'a> {
    Bytes(&'a [u8]),
    Stream(&'a mut dyn Read),
}

/// Opens the archive `label` of `kind` and hands every member, at every depth within the limits, to
/// `sink`. Whatever could not be read is a [`ScanError`] sent to the sink.
pub fn expand(kind: Kind, label: &str, input: Input<'_>, limits: &Limits, sink: &mut dyn Sink) {
    let budget = Budget {
        left: Cell::new(limits.total),
        members: Cell::new(limits.members),
        exhausted: Cell::new(false),
        hit: RefCell::new(None),
    };
    let mut x = Expander {
        limits,
        budget: &budget,
        sink,
    };
    x.archive(kind, label, input, 1);
}

/// What is left of one top-level archive's allowance, shared by every nested reader.
struct Budget {
    left: Cell<u64>,
    members: Cell<u64>,
    /// The total or member budget ran out: every reader fails and no member is opened.
    exhausted: Cell<bool>,
    /// The limit error a reader hit, reported once by the frame that sees the read fail.
    hit: RefCell<Option<ScanError>>,
}

impl Budget {
    fn trip(&self, error: ScanError) {
        let mut hit = self.hit.borrow_mut();
        if hit.is_none() {
            *hit = Some(error);
        }
    }
}

/// The compressed bytes behind a metered reader, for its ratio.
enum Compressed<'b> {
    /// A zip member's compressed size, from the archive's directory.
    Known(u64),
    /// A gzip stream: what its decoder has consumed so far.
    Counted(&'b Cell<u64>),
}

/// Counts expanded bytes against the budget and the ratio limit; fails the read when one is hit.
struct Meter<'b, R> {
    inner: R,
    budget: &'b Budget,
    compressed: Compressed<'b>,
    ratio: u64,
    out: u64,
    label: &'b str,
    /// The ratio limit was hit: every later read fails too (reported once).
    tripped: bool,
}

/// The error a [`Meter`] fails a read with; the limit itself is reported once, from [`Budget::hit`].
#[derive(Debug)]
struct LimitReached;

impl std::fmt::Display for LimitReached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("archive limit reached")
    }
}

impl std::error::Error for LimitReached {}

fn limit_io() -> io::Error {
    io::Error::other(LimitReached)
}

/// Whether `e` (a zip, tar or I/O error wrapping others) comes from a [`Meter`] that hit a limit.
fn caused_by_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<LimitReached>() {
            return true;
        }
        // `io::Error::source` skips the error it wraps: look inside it too.
        if let Some(inner) = err.downcast_ref::<io::Error>().and_then(|io| io.get_ref()) {
            if caused_by_limit(inner) {
                return true;
            }
        }
        cur = err.source();
    }
    false
}

impl<R: Read> Read for Meter<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.tripped || self.budget.exhausted.get() {
            return Err(limit_io());
        }
        let n = self.inner.read(buf)?;
        self.out = self.out.saturating_add(n as u64);
        let left = self.budget.left.get();
        if n as u64 > left {
            self.budget.exhausted.set(true);
            self.budget.trip(ScanError::new(
                ErrorKind::Limit,
                self.label,
                "archive expands past the limit on expanded bytes: the rest of it was not scanned".to_string(),
            ));
            return Err(limit_io());
        }
        self.budget.left.set(left - n as u64);
        if self.out > RATIO_FLOOR {
            let compressed = match &self.compressed {
                Compressed::Known(c) => *c,
                Compressed::Counted(c) => c.get(),
            };
            if self.out / compressed.max(1) > self.ratio {
                self.tripped = true;
                self.budget.trip(ScanError::new(
                    ErrorKind::Limit,
                    self.label,
                    format!(
                        "compression ratio over {}:1 (a zip bomb?): not scanned past the first {} bytes",
                        self.ratio, self.out
                    ),
                ));
                return Err(limit_io());
            }
        }
        Ok(n)
    }
}

/// Counts the bytes read through it into a shared cell (a gzip stream's compressed side).
struct Counted<'c, R> {
    inner: R,
    n: &'c Cell<u64>,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n.set(self.n.get().saturating_add(n as u64));
        Ok(n)
    }
}

struct Expander<'x> {
    limits: &'x Limits,
    budget: &'x Budget,
    sink: &'x mut dyn Sink,
}

impl Expander<'_> {
    fn archive(&mut self, kind: Kind, label: &str, input: Input<'_>, depth: u32) {
        match kind {
            Kind::Zip => self.zip(label, input, depth),
            Kind::Tar => match input {
                Input::Bytes(b) => self.tar(label, &mut &b[..], depth),
                Input::Stream(r) => self.tar(label, r, depth),
            },
            Kind::Gzip => match input {
                Input::Bytes(b) => self.gzip(label, &mut &b[..], depth),
                Input::Stream(r) => self.gzip(label, r, depth),
            },
        }
    }

    /// Reports `what: error` for `path`, unless a reader hit a limit: then that limit is the error,
    /// reported once, by the first frame that sees a read fail.
    fn fail(&mut self, kind: ErrorKind, path: &str, what: &str, error: &(dyn std::error::Error + 'static)) {
        let hit = self.budget.hit.borrow_mut().take();
        match hit {
            Some(e) => self.sink.error(e),
            None if self.budget.exhausted.get() || caused_by_limit(error) => {}
            None => self.sink.error(ScanError::new(kind, path, format!("{what}: {error}"))),
        }
    }

    /// Counts one member; false (with one error) once the member budget is spent.
    fn admit(&mut self, label: &str) -> bool {
        if self.budget.exhausted.get() {
            return false;
        }
        let left = self.budget.members.get();
        if left == 0 {
            self.budget.exhausted.set(true);
            self.sink.error(ScanError::new(
                ErrorKind::Limit,
                label,
                format!(
                    "archive has more than {} members: the rest were not scanned",
                    self.limits.members
                ),
            ));
            return false;
        }
        self.budget.members.set(left - 1);
        true
    }

    /// One member of an archive at `depth`: read whole when it fits the window, else streamed; opened in
    /// turn when it is itself an archive.
    fn member(&mut self, label: &str, reader: &mut dyn Read, depth: u32) {
        let window = self.limits.window;
        let mut head = Vec::new();
        let read = reader.take(window as u64 + 1).read_to_end(&mut head);
        if let Err(e) = read {
            // What was read before the failure is scanned (unless it is an archive, whose parts are not
            // text); the rest is a hole, reported.
            if kind(label, &head).is_none() {
                self.sink.blob(label, &head);
            }
            self.fail(ErrorKind::Archive, label, "member unreadable", &e);
            return;
        }
        let nested = (text::classify(&head) == text::Class::Binary)
            .then(|| kind(label, &head))
            .flatten();
        if nested.is_some() && depth >= self.limits.depth {
            {
                self.sink.error(ScanError::new(
                    ErrorKind::Limit,
                    label,
                    format!("archive nested more than {} deep: not opened", self.limits.depth),
                ));
                return;
            }
        }
        if head.len() <= window {
            match nested {
                Some(k) => self.archive(k, label, Input::Bytes(&head), depth + 1),
                None => self.sink.blob(label, &head),
            }
            return;
        }
        let mut rest = Cursor::new(head).chain(reader);
        match nested {
            Some(k) => self.archive(k, label, Input::Stream(&mut rest), depth + 1),
            None => {
                if let Err(e) = self.sink.stream(label, &mut rest) {
                    self.fail(ErrorKind::Archive, label, "member unreadable", &e);
                }
            }
        }
    }

    fn zip(&mut self, label: &str, input: Input<'_>, depth: u32) {
        match input {
            Input::Bytes(b) => self.zip_indexed(label, Cursor::new(b), depth),
            Input::Stream(r) => {
                // The directory is at the end: a zip that fits the window is read whole and indexed;
                // a larger one is read member by member from its local headers.
                let window = self.limits.window;
                let mut head = Vec::new();
                if let Err(e) = r.take(window as u64 + 1).read_to_end(&mut head) {
                    self.fail(ErrorKind::Archive, label, "archive unreadable", &e);
                    return;
                }
                if head.len() <= window {
                    self.zip_indexed(label, Cursor::new(&head[..]), depth);
                } else {
                    let mut rest = Cursor::new(head).chain(r);
                    self.zip_streamed(label, &mut rest, depth);
                }
            }
        }
    }

    fn zip_indexed<R: Read + Seek>(&mut self, label: &str, reader: R, depth: u32) {
        let mut zip = match zip::ZipArchive::new(reader) {
            Ok(z) => z,
            Err(e) => {
                self.fail(ErrorKind::Archive, label, "not a readable zip archive", &e);
                return;
            }
        };
        for i in 0..zip.len() {
            if self.budget.exhausted.get() {
                return;
            }
            let (name, encrypted, compressed, dir) = match zip.by_index_raw(i) {
                Ok(f) => (
                    f.name()
                        .map_or_else(|_| lossy(f.name_raw()).into_owned(), Cow::into_owned),
                    f.encrypted(),
                    f.compressed_size(),
                    f.is_dir(),
                ),
                Err(e) => {
                    self.fail(ErrorKind::Archive, label, &format!("zip entry {i} unreadable"), &e);
                    continue;
                }
            };
            if dir {
                continue;
            }
            let member = format!("{label}!{name}");
            if !self.admit(&member) {
                return;
            }
            if encrypted {
                self.sink.error(ScanError::new(
                    ErrorKind::Archive,
                    &member,
                    "encrypted zip member: not scanned".to_string(),
                ));
                continue;
            }
            match zip.by_index(i) {
                Ok(mut f) => {
                    let mut metered = Meter {
                        inner: &mut f,
                        budget: self.budget,
                        compressed: Compressed::Known(compressed),
                        ratio: self.limits.ratio,
                        out: 0,
                        label: &member,
                        tripped: false,
                    };
                    self.member(&member, &mut metered, depth);
                }
                Err(e) => self.fail(ErrorKind::Archive, &member, "zip member unreadable", &e),
            }
        }
    }

    fn zip_streamed(&mut self, label: &str, mut reader: &mut dyn Read, depth: u32) {
        loop {
            if self.budget.exhausted.get() {
                return;
            }
            let mut f = match zip::read::read_zipfile_from_stream(&mut reader) {
                Ok(Some(f)) => f,
                Ok(None) => return,
                Err(e) => {
                    self.fail(ErrorKind::Archive, label, "zip archive unreadable", &e);
                    return;
                }
            };
            if f.is_dir() {
                continue;
            }
            let name = f
                .name()
                .map_or_else(|_| lossy(f.name_raw()).into_owned(), Cow::into_owned);
            let member = format!("{label}!{name}");
            if !self.admit(&member) {
                return;
            }
            if f.encrypted() {
                self.sink.error(ScanError::new(
                    ErrorKind::Archive,
                    &member,
                    "encrypted zip member: not scanned".to_string(),
                ));
                continue;
            }
            let compressed = f.compressed_size();
            let mut metered = Meter {
                inner: &mut f,
                budget: self.budget,
                compressed: Compressed::Known(compressed),
                ratio: self.limits.ratio,
                out: 0,
                label: &member,
                tripped: false,
            };
            self.member(&member, &mut metered, depth);
        }
    }

    fn tar(&mut self, label: &str, reader: &mut dyn Read, depth: u32) {
        let mut archive = tar::Archive::new(reader);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => {
                self.fail(ErrorKind::Archive, label, "not a readable tar archive", &e);
                return;
            }
        };
        for entry in entries {
            if self.budget.exhausted.get() {
                return;
            }
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    self.fail(ErrorKind::Archive, label, "tar archive unreadable", &e);
                    return;
                }
            };
            // Directories, links and devices hold no content of their own.
            let t = entry.header().entry_type();
            if !(t.is_file() || t.is_contiguous() || t.is_gnu_sparse()) {
                continue;
            }
            let member = format!("{label}!{}", lossy(&entry.path_bytes()));
            if !self.admit(&member) {
                return;
            }
            self.member(&member, &mut entry, depth);
        }
    }

    fn gzip(&mut self, label: &str, reader: &mut dyn Read, depth: u32) {
        let consumed = Cell::new(0u64);
        let counted = Counted {
            inner: reader,
            n: &consumed,
        };
        let decoder = flate2::read::MultiGzDecoder::new(counted);
        let mut metered = Meter {
            inner: decoder,
            budget: self.budget,
            compressed: Compressed::Counted(&consumed),
            ratio: self.limits.ratio,
            out: 0,
            label,
            tripped: false,
        };
        // A `.tar.gz` is one archive: its tar members are named right after it (`a.tar.gz!lib/x`).
        let mut head = Vec::new();
        if let Err(e) = (&mut metered).take(512).read_to_end(&mut head) {
            self.fail(ErrorKind::Archive, label, "not a readable gzip stream", &e);
            return;
        }
        let mut rest = Cursor::new(head).chain(metered);
        if is_tar_header(rest.get_ref().0.get_ref()) {
            self.tar(label, &mut rest, depth);
            return;
        }
        let member = format!("{label}!{}", gunzipped_name(label));
        if self.admit(&member) {
            self.member(&member, &mut rest, depth);
        }
    }
}

/// The name of a gzip file's content: `dump.sql.gz` → `dump.sql`, `x.tgz` → `x.tar`.
fn gunzipped_name(label: &str) -> String {
    let file = label.rsplit(['/', '!']).next().unwrap_or(label);
    let lower = file.to_ascii_lowercase();
    if lower.ends_with(".tgz") {
        format!("{}.tar", &file[..file.len() - 4])
    } else if lower.ends_with(".gz") && file.len() > 3 {
        file[..file.len() - 3].to_string()
    } else {
        format!("{file}.content")
    }
}

fn lossy(b: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(b)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[derive(Default)]
    struct Collect {
        blobs: Vec<(String, Vec<u8>)>,
        streamed: Vec<(String, u64)>,
        errors: Vec<ScanError>,
    }

    impl Sink for Collect {
        fn blob(&mut self, path: &str, bytes: &[u8]) {
            self.blobs.push((path.to_string(), bytes.to_vec()));
        }
        fn stream(&mut self, path: &str, reader: &mut dyn Read) -> io::Result<()> {
            let n = io::copy(reader, &mut io::sink())?;
            self.streamed.push((path.to_string(), n));
            Ok(())
        }
        fn error(&mut self, error: ScanError) {
            self.errors.push(error);
        }
    }

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in files {
            w.start_file(*name, opts).expect("zip entry");
            w.write_all(data).expect("zip write");
        }
        w.finish().expect("zip finish").into_inner()
    }

    fn tar_gz_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).expect("tar entry");
        }
        let tar = b.into_inner().expect("tar finish");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).expect("gzip");
        gz.finish().expect("gzip finish")
    }

    fn run(label: &str, bytes: &[u8], limits: &Limits) -> Collect {
        let mut c = Collect::default();
        let k = kind(label, bytes).expect("an archive");
        expand(k, label, Input::Bytes(bytes), limits, &mut c);
        c
    }

    #[test]
    fn nested_members_are_named_through_every_layer() {
        let jar = zip_of(&[("com/x/Config.properties", b"key=1\n"), ("META-INF/", b"")]);
        let tgz = tar_gz_of(&[("lib/b.jar", &jar), ("README", b"hello\n")]);
        let c = run("a.tar.gz", &tgz, &Limits::default());
        let names: Vec<&str> = c.blobs.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(names, ["a.tar.gz!lib/b.jar!com/x/Config.properties", "a.tar.gz!README"]);
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        // Streamed, the same.
        let mut s = Collect::default();
        expand(
            Kind::Gzip,
            "a.tar.gz",
            Input::Stream(&mut &tgz[..]),
            &Limits::default(),
            &mut s,
        );
        assert_eq!(s.blobs, c.blobs);
    }

    #[test]
    fn a_member_over_the_window_is_streamed() {
        let big = vec![b'a'; 3 << 20];
        let z = zip_of(&[("big.txt", &big), ("small.txt", b"x")]);
        let limits = Limits {
            window: 1 << 20,
            ..Limits::default()
        };
        let c = run("x.zip", &z, &limits);
        assert_eq!(c.streamed, [("x.zip!big.txt".to_string(), 3 << 20)]);
        assert_eq!(c.blobs.len(), 1);
        // A zip over the window read from a stream is read from its local headers.
        let mut s = Collect::default();
        let limits = Limits {
            window: 1 << 16,
            ..limits
        };
        let z = zip_of(&[("a.txt", &vec![b'b'; 100_000][..]), ("b.txt", b"y")]);
        expand(Kind::Zip, "x.zip", Input::Stream(&mut &z[..]), &limits, &mut s);
        assert_eq!(s.streamed, [("x.zip!a.txt".to_string(), 100_000)]);
        assert_eq!(s.blobs, [("x.zip!b.txt".to_string(), b"y".to_vec())]);
    }

    #[test]
    fn depth_ratio_members_and_corruption_are_errors() {
        let mut inner = zip_of(&[("deep.txt", b"k")]);
        for i in 0..5 {
            inner = zip_of(&[(&format!("l{i}.zip"), &inner)]);
        }
        let c = run("n.zip", &inner, &Limits::default());
        assert!(c.blobs.is_empty());
        assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
        assert_eq!(c.errors[0].kind, ErrorKind::Limit);
        assert_eq!(c.errors[0].path, "n.zip!l4.zip!l3.zip!l2.zip!l1.zip");

        let zeros = vec![0u8; 40 << 20];
        let bomb = zip_of(&[("zeros.bin", &zeros), ("after.txt", b"scanned")]);
        let c = run("bomb.zip", &bomb, &Limits::default());
        assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
        assert_eq!(c.errors[0].path, "bomb.zip!zeros.bin");
        assert!(
            c.errors[0].message.contains("compression ratio"),
            "{}",
            c.errors[0].message
        );
        assert_eq!(c.blobs.last().map(|b| b.0.as_str()), Some("bomb.zip!after.txt"));

        let limits = Limits {
            members: 2,
            ..Limits::default()
        };
        let c = run("m.zip", &zip_of(&[("a", b"1"), ("b", b"2"), ("c", b"3")]), &limits);
        assert_eq!((c.blobs.len(), c.errors.len()), (2, 1));

        let limits = Limits {
            total: 1000,
            ..Limits::default()
        };
        let c = run(
            "t.zip",
            &zip_of(&[("a", &[b'a'; 800][..]), ("b", &[b'b'; 800][..])]),
            &limits,
        );
        assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
        assert_eq!(c.errors[0].kind, ErrorKind::Limit);

        let mut broken = zip_of(&[("a.txt", b"hello")]);
        broken.truncate(broken.len() - 30);
        let c = run("broken.zip", &broken, &Limits::default());
        assert_eq!(c.errors.len(), 1);
        assert_eq!(c.errors[0].kind, ErrorKind::Archive);
        assert_eq!(c.errors[0].path, "broken.zip");
    }

    #[test]
    fn kinds_by_magic_and_extension() {
        assert_eq!(kind("x.bin", b"PK\x03\x04\0\0"), Some(Kind::Zip));
        assert_eq!(kind("x", b"\x1F\x8B\x08\0"), Some(Kind::Gzip));
        assert_eq!(kind("x.jar", b"\0\x01garbage"), Some(Kind::Zip));
        assert_eq!(kind("x.jar", b"version https://git-lfs.github.com/spec/v1\n"), None);
        assert_eq!(kind("x.png", b"\x89PNG\0"), None);
        let tgz = tar_gz_of(&[("a", b"b")]);
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(&tgz[..])
            .read_to_end(&mut tar)
            .expect("gunzip");
        assert_eq!(kind("noext", &tar), Some(Kind::Tar));
        assert_eq!(gunzipped_name("d/dump.sql.gz"), "dump.sql");
        assert_eq!(gunzipped_name("x.TGZ"), "x.tar");
    }
}
