//! `--state FILE`: what earlier history scans of a repository covered, so that the next one walks only
//! new commits' trees and reads only blobs it has not read.
//!
//! The file holds commit and blob ids, ref tips, and for the few blobs that held a secret their places
//! (commit, path) and their findings as (rule, fingerprint, redacted form, line, column): never a secret
//! in clear, never a snippet. A blob that held a secret is read again on the next run (its secret is not
//! kept here; re-reading gives the exact finding, snippet and `--verify` input); a blob that held none is
//! not read again.
//!
//! Format (version 1, little-endian): the magic `PKHOUND-STATE\0`, a `u32` version, a `u64` body
//! length, the body, then the SHA-256 of everything before it. A file with another magic, version, length
//! or checksum, or one written for another repository or fingerprint key, is an error naming the file: a
//! damaged state never turns into a silent full or empty scan.

use std::{
    fs,
    io::Write as _,
    path::{Path, PathBuf},
};

use git2::Oid;
use sha2::{Digest, Sha256};
use thiserror::Error;

const MAGIC: &[u8; 14] = b"PKHOUND-STATE\0";
const VERSION: u32 = 1;
/// No list in a state file is longer than this: a length past it is damage, not a repository.
const MAX_LEN: u64 = 1 << 32;

/// A state file that cannot be used.
#[derive(Debug, Error)]
pub enum StateError {
    #[error("state file {path}: {message}")]
    Invalid { path: String, message: String },
    #[error("state file {path}: {message}")]
    Io { path: String, message: String },
}

/// One finding a blob (or a commit message) held, as the state keeps it: no secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownFinding {
    pub rule: String,
    pub fingerprint: String,
    /// The redacted secret (`pk_a4…36`), for notices about findings that are gone.
    pub redacted: String,
    pub line: u32,
    pub column: u32,
}

/// A blob that held a secret: where it sat and what it held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownBlob {
    pub id: Oid,
    /// (commit that introduced it there, path); places no commit introduced are recomputed every run.
    pub places: Vec<(Oid, String)>,
    pub findings: Vec<KnownFinding>,
}

/// What earlier runs covered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// The repository's git directory, as the scan opened it.
    pub repository: String,
    /// The id of the fingerprint key the fingerprints were made with.
    pub fingerprint_key: String,
    /// A digest of what decides a blob's findings (version, rules, config, size limit): when it changes,
    /// every blob is read again.
    pub settings: [u8; 32],
    /// Ref tips at the end of the run, sorted by name.
    pub refs: Vec<(String, Oid)>,
    /// Commits whose trees (and messages) were compared with their parents, sorted.
    pub commits: Vec<Oid>,
    /// Blobs read that held no secret (or were binary and skipped), sorted.
    pub clean: Vec<Oid>,
    /// Blobs that held a secret, sorted by id.
    pub blobs: Vec<KnownBlob>,
    /// Commits whose message held a secret, sorted: their messages are scanned again.
    pub messages: Vec<Oid>,
    /// Every finding the run reported, (rule, fingerprint) sorted.
    pub findings: Vec<KnownFinding>,
}

impl State {
    /// Reads a state file; `Ok(None)` when it does not exist yet (the first run).
    pub fn load(path: &Path) -> Result<Option<State>, StateError> {
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(StateError::Io {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })
            }
        };
        decode(&bytes).map(Some).map_err(|message| StateError::Invalid {
            path: path.display().to_string(),
            message,
        })
    }

    /// Writes the state next to its final place, then renames it there: a run that dies mid-write leaves
    /// the previous state whole.
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let io = |e: std::io::Error| StateError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let mut tmp = PathBuf::from(path);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        tmp.set_file_name(format!(".{name}.tmp{}", std::process::id()));
        let mut f = fs::File::create(&tmp).map_err(io)?;
        f.write_all(&encode(self)).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        fs::rename(&tmp, path).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            io(e)
        })
    }

    pub fn is_clean(&self, blob: &Oid) -> bool {
        self.clean.binary_search(blob).is_ok()
    }

    pub fn knows_commit(&self, commit: &Oid) -> bool {
        self.commits.binary_search(commit).is_ok()
    }

    pub fn known_blob(&self, blob: &Oid) -> Option<&KnownBlob> {
        self.blobs
            .binary_search_by(|b| b.id.cmp(blob))
            .ok()
            .and_then(|i| self.blobs.get(i))
    }

    pub fn knows_finding(&self, rule: &str, fingerprint: &str) -> bool {
        self.findings
            .binary_search_by(|f| (f.rule.as_str(), f.fingerprint.as_str()).cmp(&(rule, fingerprint)))
            .is_ok()
    }

    /// Sorts every list the lookups above search.
    pub fn normalize(&mut self) {
        self.refs.sort();
        self.refs.dedup();
        self.commits.sort_unstable();
        self.commits.dedup();
        self.clean.sort_unstable();
        self.clean.dedup();
        self.blobs.sort_by_key(|b| b.id);
        self.blobs.dedup_by(|a, b| a.id == b.id);
        self.messages.sort_unstable();
        self.messages.dedup();
        self.findings
            .sort_by(|a, b| (&a.rule, &a.fingerprint).cmp(&(&b.rule, &b.fingerprint)));
        self.findings
            .dedup_by(|a, b| (&a.rule, &a.fingerprint) == (&b.rule, &b.fingerprint));
    }
}

fn encode(s: &State) -> Vec<u8> {
    let mut body = Vec::new();
    put_str(&mut body, &s.repository);
    put_str(&mut body, &s.fingerprint_key);
    body.extend_from_slice(&s.settings);
    put_len(&mut body, s.refs.len());
    for (name, oid) in &s.refs {
        put_str(&mut body, name);
        body.extend_from_slice(oid.as_bytes());
    }
    put_oids(&mut body, &s.commits);
    put_oids(&mut body, &s.clean);
    put_len(&mut body, s.blobs.len());
    for b in &s.blobs {
        body.extend_from_slice(b.id.as_bytes());
        put_len(&mut body, b.places.len());
        for (c, p) in &b.places {
            body.extend_from_slice(c.as_bytes());
            put_str(&mut body, p);
        }
        put_findings(&mut body, &b.findings);
    }
    put_oids(&mut body, &s.messages);
    put_findings(&mut body, &s.findings);

    let mut out = Vec::with_capacity(body.len() + 64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&body);
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u64).to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn put_oids(out: &mut Vec<u8>, ids: &[Oid]) {
    put_len(out, ids.len());
    for id in ids {
        out.extend_from_slice(id.as_bytes());
    }
}

fn put_findings(out: &mut Vec<u8>, fs: &[KnownFinding]) {
    put_len(out, fs.len());
    for f in fs {
        put_str(out, &f.rule);
        put_str(out, &f.fingerprint);
        put_str(out, &f.redacted);
        out.extend_from_slice(&f.line.to_le_bytes());
        out.extend_from_slice(&f.column.to_le_bytes());
    }
}

fn decode(bytes: &[u8]) -> Result<State, String> {
    let Some(head) = bytes.get(..MAGIC.len()) else {
        return Err("too short to be a pkhound state file (truncated?)".to_string());
    };
    if head != MAGIC {
        return Err("not a pkhound state file (wrong magic)".to_string());
    }
    let mut r = Reader { bytes, at: MAGIC.len() };
    let version = u32::from_le_bytes(r.array()?);
    if version != VERSION {
        return Err(format!(
            "format version {version}, this pkhound reads version {VERSION}: delete it to start over"
        ));
    }
    let len = r.u64()?;
    let end =
        r.at.checked_add(usize::try_from(len).map_err(|_| "body length out of range".to_string())?)
            .ok_or("body length out of range")?;
    if bytes.len() != end + 32 {
        return Err(format!(
            "{} bytes where the header says {} (truncated or extended)",
            bytes.len(),
            end + 32
        ));
    }
    if Sha256::digest(&bytes[..end]).as_slice() != &bytes[end..] {
        return Err("checksum mismatch (the file is damaged)".to_string());
    }
    let mut r = Reader {
        bytes: &bytes[..end],
        at: r.at,
    };
    let mut s = State {
        repository: r.string()?,
        fingerprint_key: r.string()?,
        settings: r.array()?,
        ..State::default()
    };
    for _ in 0..r.len()? {
        let name = r.string()?;
        s.refs.push((name, r.oid()?));
    }
    s.commits = r.oids()?;
    s.clean = r.oids()?;
    for _ in 0..r.len()? {
        let id = r.oid()?;
        let mut places = Vec::new();
        for _ in 0..r.len()? {
            let c = r.oid()?;
            places.push((c, r.string()?));
        }
        let findings = r.findings()?;
        s.blobs.push(KnownBlob { id, places, findings });
    }
    s.messages = r.oids()?;
    s.findings = r.findings()?;
    if r.at != end {
        return Err("trailing bytes after the last list".to_string());
    }
    s.normalize();
    Ok(s)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.at.checked_add(n).ok_or("length out of range")?;
        let out = self.bytes.get(self.at..end).ok_or("truncated")?;
        self.at = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn len(&mut self) -> Result<usize, String> {
        let n = self.u64()?;
        if n > MAX_LEN {
            return Err(format!("a list of {n} entries (damaged)"));
        }
        usize::try_from(n).map_err(|_| "length out of range".to_string())
    }

    fn string(&mut self) -> Result<String, String> {
        let n = self.len()?;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| "a name is not UTF-8 (damaged)".to_string())
    }

    fn oid(&mut self) -> Result<Oid, String> {
        Oid::from_bytes(self.take(20)?).map_err(|e| e.message().to_string())
    }

    fn oids(&mut self) -> Result<Vec<Oid>, String> {
        let n = self.len()?;
        // The length is checked against what is left before anything is allocated.
        if n.saturating_mul(20) > self.bytes.len().saturating_sub(self.at) {
            return Err("truncated".to_string());
        }
        (0..n).map(|_| self.oid()).collect()
    }

    fn findings(&mut self) -> Result<Vec<KnownFinding>, String> {
        let mut out = Vec::new();
        for _ in 0..self.len()? {
            out.push(KnownFinding {
                rule: self.string()?,
                fingerprint: self.string()?,
                redacted: self.string()?,
                line: u32::from_le_bytes(self.array()?),
                column: u32::from_le_bytes(self.array()?),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).expect("20 bytes")
    }

    fn sample() -> State {
        let f = KnownFinding {
            rule: "klaviyo-private-key".into(),
            fingerprint: "c86c7ab39c860ea2d34c6a627ede7259".into(),
            redacted: "pk_a4…36".into(),
            line: 3,
            column: 9,
        };
        let mut s = State {
            repository: "/tmp/repo/.git".into(),
            fingerprint_key: "f12bfb60".into(),
            settings: [7; 32],
            refs: vec![("refs/heads/main".into(), oid(1))],
            commits: vec![oid(3), oid(1), oid(2)],
            clean: vec![oid(9), oid(8)],
            blobs: vec![KnownBlob {
                id: oid(5),
                places: vec![(oid(2), "config/.env".into())],
                findings: vec![f.clone()],
            }],
            messages: vec![oid(3)],
            findings: vec![f],
        };
        s.normalize();
        s
    }

    #[test]
    fn state_round_trips() {
        let s = sample();
        assert_eq!(decode(&encode(&s)), Ok(s.clone()));
        assert!(s.is_clean(&oid(8)) && !s.is_clean(&oid(5)));
        assert!(s.knows_commit(&oid(2)) && !s.knows_commit(&oid(4)));
        assert!(s.known_blob(&oid(5)).is_some());
        assert!(s.knows_finding("klaviyo-private-key", "c86c7ab39c860ea2d34c6a627ede7259"));
    }

    #[test]
    fn damage_is_an_error_never_an_empty_state() {
        let good = encode(&sample());
        // Every truncation fails.
        for n in 0..good.len() {
            assert!(decode(&good[..n]).is_err(), "truncated to {n}");
        }
        // Every single flipped byte fails (the magic, the version, a length or the checksum).
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x20;
            assert!(decode(&bad).is_err(), "byte {i} flipped");
        }
        assert!(decode(b"{\"version\": 1}").is_err());
        assert!(decode(b"").is_err());
    }
}
