//! The finding model: what a match becomes once it has a place (path, line, origin).
//!
//! The raw secret lives only in [`Secret`], whose `Debug` and `Display` print the redacted form.
//! The one way out is [`Secret::expose`]; `grep expose(` lists every place that sees the secret.

use std::{fmt, sync::Arc};

use crate::rules::Text;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How bad a leak of this kind is. Ordered: `Info < Low < … < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule's identifier, kebab-case `provider-kind` (`klaviyo-private-key`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleId(Arc<str>);

impl RuleId {
    pub fn new(id: &str) -> Self {
        RuleId(Arc::from(id))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A secret value. Printing it in any way shows only the redacted form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(Box<str>, Held);

/// What a [`Secret`] holds: the raw value, or only its redacted form (read back from a report written
/// without `--show-secrets`, by `pkhound merge`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Held {
    Raw,
    RedactedOnly,
}

impl Secret {
    pub fn new(raw: &[u8]) -> Self {
        Secret(String::from_utf8_lossy(raw).into(), Held::Raw)
    }

    /// A secret of which only the redacted form is known (a report read back without its raw secrets):
    /// it shows as `redacted`, and [`expose`](Secret::expose) gives that same redacted form.
    pub fn from_redacted(redacted: &str) -> Self {
        Secret(redacted.into(), Held::RedactedOnly)
    }

    /// Whether the raw value is known (false for [`Secret::from_redacted`]).
    pub fn is_raw(&self) -> bool {
        self.1 == Held::Raw
    }

    /// The raw secret. Callers: fingerprinting, allowlists, `--show-secrets` rendering, verification.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `pk_ab…9f`: a rule's documented public prefix (`pk_`, `ghp_`, `AKIA` …) plus at most 4 characters
    /// of the secret itself. See [`redact`].
    pub fn redacted(&self) -> String {
        match self.1 {
            Held::Raw => redact(&self.0),
            Held::RedactedOnly => self.0.to_string(),
        }
    }

    /// A keyed hash of rule and secret (HMAC-SHA-256 under the process's [`FingerprintKey`]): the same key
    /// in two files or two commits has one fingerprint, and without the key nobody can test a guess
    /// (`Winter2024!`) against it offline.
    pub fn fingerprint(&self, rule: &RuleId) -> Fingerprint {
        FingerprintKey::current().fingerprint(rule, &self.0)
    }

    /// The unkeyed fingerprint of format-1 baselines (`SHA-256(rule, 0, secret)`), only to read them.
    pub fn legacy_fingerprint(&self, rule: &RuleId) -> Fingerprint {
        let mut h = Sha256::new();
        h.update(rule.as_str().as_bytes());
        h.update([0u8]);
        h.update(self.0.as_bytes());
        Fingerprint(hex(&h.finalize()[..16]))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// HMAC-SHA-256 (RFC 2104), from `sha2`'s block function; 20 lines instead of a dependency.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    hmac::<Sha256>(key, parts).into()
}

/// HMAC (RFC 2104) over any SHA-2 digest, of the concatenation of `parts`; a key longer than the digest's
/// block is hashed first. Fingerprints use it with SHA-256, the JWT check with SHA-256/384/512.
pub fn hmac<D: sha2::Digest + sha2::digest::core_api::BlockSizeUser>(
    key: &[u8],
    parts: &[&[u8]],
) -> sha2::digest::Output<D> {
    let block = D::block_size();
    let hashed;
    let key = if key.len() > block {
        hashed = D::digest(key);
        &hashed[..]
    } else {
        key
    };
    let pad = |byte: u8| -> Vec<u8> {
        let mut padded = vec![byte; block];
        for (p, k) in padded.iter_mut().zip(key) {
            *p ^= k;
        }
        padded
    };
    let mut inner = D::new().chain_update(pad(0x36));
    for p in parts {
        inner.update(p);
    }
    D::new()
        .chain_update(pad(0x5c))
        .chain_update(inner.finalize())
        .finalize()
}

/// The key fingerprints are made with. It lives outside every report (a per-user file, an environment
/// variable, a CI secret); reports and baselines carry only its [`id`](FingerprintKey::id), so that a
/// baseline made with another key is an error rather than "everything is new".
#[derive(Clone)]
pub struct FingerprintKey {
    key: Box<[u8]>,
    id: String,
}

static FINGERPRINT_KEY: std::sync::OnceLock<FingerprintKey> = std::sync::OnceLock::new();

/// The key of a process that installed none: unit tests and library users. Public, so not a secret:
/// the command line always installs a real key.
const UNCONFIGURED_KEY: &[u8] = b"pkhound: no fingerprint key configured";

impl FingerprintKey {
    pub fn new(key: &[u8]) -> Self {
        let id = hex(&hmac_sha256(key, &[b"pkhound fingerprint key id"])[..4]);
        FingerprintKey { key: key.into(), id }
    }

    /// 8 hex digits naming the key; it does not help recover the key or any secret.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Makes `self` the key of every fingerprint this process computes. Call it once, before scanning;
    /// false if a key was already in use.
    pub fn install(self) -> bool {
        FINGERPRINT_KEY.set(self).is_ok()
    }

    /// The installed key (or the public unconfigured one).
    pub fn current() -> &'static FingerprintKey {
        FINGERPRINT_KEY.get_or_init(|| FingerprintKey::new(UNCONFIGURED_KEY))
    }

    pub fn fingerprint(&self, rule: &RuleId, secret: &str) -> Fingerprint {
        let mac = hmac_sha256(&self.key, &[rule.as_str().as_bytes(), &[0u8], secret.as_bytes()]);
        Fingerprint(hex(&mac[..16]))
    }
}

impl fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FingerprintKey(id {})", self.id)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Documented public prefixes of the built-in rules' secrets: the literal every key of that kind starts
/// with, published by its provider (and in each rule's regex). A redacted secret shows its prefix, so a
/// reader knows what leaked, plus at most 4 characters of the secret itself. A test checks that each one
/// is a literal prefix of a built-in rule's secret; longer entries win over shorter ones.
const PUBLIC_PREFIXES: &[&str] = &[
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "-----BEGIN PGP PRIVATE KEY BLOCK-----",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----BEGIN EC PRIVATE KEY-----",
    "-----BEGIN DSA PRIVATE KEY-----",
    "-----BEGIN ENCRYPTED PRIVATE KEY-----",
    "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----",
    "AIza",
    "AKIA",
    "ASIA",
    "HRKU-",
    "SG.",
    "dckr_oat_",
    "dckr_pat_",
    "doo_v1_",
    "dop_v1_",
    "dor_v1_",
    "gho_",
    "ghp_",
    "ghr_",
    "ghs_",
    "ghu_",
    "github_pat_",
    "glpat-",
    "https://hooks.slack.com/",
    "key-",
    "npm_",
    "pk_",
    "pypi-AgE",
    "rk_live_",
    "rk_test_",
    "shpat_",
    "shpca_",
    "shppa_",
    "shpss_",
    "sk-ant-admin01-",
    "sk-ant-api03-",
    "sk-proj-",
    "sk-svcacct-",
    "sk-",
    "sk_live_",
    "sk_test_",
    "sntrys_",
    "sntryu_",
    "xapp-",
    "xoxb-",
    "xoxp-",
];

/// The public prefix `s` starts with (the longest), or "".
pub fn public_prefix(s: &str) -> &'static str {
    PUBLIC_PREFIXES
        .iter()
        .filter(|p| s.starts_with(**p) && s.len() > p.len())
        .max_by_key(|p| p.len())
        .copied()
        .unwrap_or("")
}

/// The redaction rule, shared by [`Secret`] and by anything that must mask a span it holds raw: the
/// documented public prefix (see [`public_prefix`]), then at most 4 characters of the secret itself (2 at
/// each end for 20 or more, 1 for 10 or more, none below). A separator inside the secret (`-`, `_`) never
/// widens what shows: `Xq7vLm2kPz9-Rt` shows as `X…t`.
pub fn redact(s: &str) -> String {
    let prefix = public_prefix(s);
    let body: Vec<char> = s[prefix.len()..].chars().collect();
    let n = body.len();
    if prefix.is_empty() && n < 8 {
        return "***".to_string();
    }
    let (head, tail) = if n >= 20 {
        (2, 2)
    } else if n >= 10 {
        (1, 1)
    } else {
        (0, 0)
    };
    // Shown characters skip whitespace at either end: a key block's body starts with a newline, which
    // must not break the report's line.
    let first = body.iter().position(|c| !c.is_whitespace()).unwrap_or(n);
    let last = body.iter().rposition(|c| !c.is_whitespace()).map_or(first, |i| i + 1);
    let (head, tail) = (head.min(last - first), tail.min(last - first));
    let mut out = String::from(prefix);
    out.extend(&body[first..first + head]);
    out.push('…');
    out.extend(&body[last - tail..last]);
    out
}

/// Hex digest identifying (rule, secret); never reveals the secret.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A fingerprint as a report wrote it (32 lowercase hex digits); `None` for anything else.
    pub fn from_report(hex: &str) -> Option<Fingerprint> {
        (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
            .then(|| Fingerprint(hex.to_string()))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One decoding a secret went through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// A base64 run (standard or URL-safe alphabet) decoded in place.
    Base64,
    /// Percent-encoding (`%70k_…`), as in URLs and form bodies.
    Percent,
    /// JSON, JavaScript or Python string escapes (`\u0070`, `\x70`, `\/`).
    Escape,
    /// HTML character references (`&#112;`, `&#x70;`, `&amp;`).
    HtmlEntity,
}

impl Step {
    const ALL: [Step; 4] = [Step::Base64, Step::Percent, Step::Escape, Step::HtmlEntity];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Base64 => "base64",
            Step::Percent => "percent",
            Step::Escape => "escape",
            Step::HtmlEntity => "html-entity",
        }
    }

    /// How a snippet shows the encoded run: `«base64»`.
    pub fn label(self) -> &'static str {
        match self {
            Step::Base64 => "«base64»",
            Step::Percent => "«percent»",
            Step::Escape => "«escape»",
            Step::HtmlEntity => "«html-entity»",
        }
    }
}

/// How a secret was encoded where it was found, outermost first: `base64`, or a chain such as
/// `base64>percent` (a base64 value whose decoding holds a percent-encoded key). A finding in clear has
/// none. At most [`Encoding::MAX`] steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Encoding {
    /// Steps, outermost first; `None` past the last.
    steps: [Option<Step>; Encoding::MAX],
}

impl Encoding {
    pub const MAX: usize = 3;
    pub const BASE64: Encoding = Encoding::of(Step::Base64);

    pub const fn of(step: Step) -> Encoding {
        Encoding {
            steps: [Some(step), None, None],
        }
    }

    /// This encoding around `inner` (`base64` then `percent`: `base64>percent`); steps past
    /// [`Encoding::MAX`] are dropped.
    pub fn then(self, inner: Encoding) -> Encoding {
        let mut steps = self.steps;
        let mut at = self.steps().count();
        for s in inner.steps() {
            if at < Encoding::MAX {
                steps[at] = Some(s);
                at += 1;
            }
        }
        Encoding { steps }
    }

    pub fn steps(self) -> impl Iterator<Item = Step> {
        self.steps.into_iter().map_while(|s| s)
    }

    /// The outermost step: what the text in the file looks like.
    pub fn outer(self) -> Step {
        self.steps[0].unwrap_or(Step::Base64)
    }

    /// `base64`, `base64>percent` …: one string per chain, made once.
    pub fn as_str(self) -> &'static str {
        static NAMES: std::sync::OnceLock<std::collections::HashMap<Encoding, String>> = std::sync::OnceLock::new();
        let names = NAMES.get_or_init(|| {
            let mut all = vec![Encoding {
                steps: [None; Encoding::MAX],
            }];
            for _ in 0..Encoding::MAX {
                let longer: Vec<Encoding> = all
                    .iter()
                    .flat_map(|e| Step::ALL.map(|s| e.then(Encoding::of(s))))
                    .collect();
                all.extend(longer);
            }
            all.into_iter()
                .map(|e| (e, e.steps().map(Step::as_str).collect::<Vec<_>>().join(">")))
                .collect()
        });
        names.get(&self).map_or("encoded", String::as_str)
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A finding's line, cut to some context around the secret, with every candidate secret on it masked.
///
/// Redacted by construction: it is assembled from the spans of every candidate on the line (whatever rule
/// or filter decided about each, enabled or not), so its clear parts never hold a candidate's bytes. The
/// finding's own secret is kept apart, so that [`Snippet::reveal`] — called only for `--show-secrets` —
/// can put exactly that one back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snippet {
    parts: Vec<SnippetPart>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum SnippetPart {
    /// Line text that holds no candidate secret; control characters already replaced.
    Clear(String),
    /// Another candidate on the line, or an encoded run: shown only in this form.
    Masked(String),
    /// This finding's own secret, redacted.
    Own(String),
}

impl Snippet {
    /// A snippet that is the finding's own secret alone, given redacted (a binary file has no line to show).
    pub(crate) fn of_secret(redacted: String) -> Snippet {
        let mut out = Snippet::default();
        out.push_own(redacted);
        out
    }

    /// Appends line text that holds no candidate secret. Control characters become spaces: a snippet is
    /// printed on terminals and must not move the cursor or forge lines.
    pub(crate) fn push_clear(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let clean: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        match self.parts.last_mut() {
            Some(SnippetPart::Clear(last)) => last.push_str(&clean),
            _ => self.parts.push(SnippetPart::Clear(clean)),
        }
    }

    /// Appends a masked candidate (already in its shown form: redacted, or `«base64»`).
    pub(crate) fn push_masked(&mut self, shown: String) {
        self.parts.push(SnippetPart::Masked(shown));
    }

    /// Appends the finding's own secret, given redacted.
    pub(crate) fn push_own(&mut self, redacted: String) {
        self.parts.push(SnippetPart::Own(redacted));
    }

    /// Trims surrounding whitespace of the whole snippet (the line's indentation, a trailing `\r`).
    pub(crate) fn trim(&mut self) {
        if let Some(SnippetPart::Clear(first)) = self.parts.first_mut() {
            *first = first.trim_start().to_string();
        }
        if let Some(SnippetPart::Clear(last)) = self.parts.last_mut() {
            *last = last.trim_end().to_string();
        }
        self.parts
            .retain(|p| !matches!(p, SnippetPart::Clear(t) if t.is_empty()));
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// The snippet as every report shows it by default.
    pub fn redacted(&self) -> String {
        self.render(None)
    }

    /// The snippet with this finding's own secret in clear (`--show-secrets`); every other candidate on
    /// the line stays masked.
    pub fn reveal(&self, own: &Secret) -> String {
        self.render(Some(own))
    }

    fn render(&self, own: Option<&Secret>) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match (p, own) {
                (SnippetPart::Clear(t) | SnippetPart::Masked(t), _) | (SnippetPart::Own(t), None) => out.push_str(t),
                (SnippetPart::Own(_), Some(s)) => out.push_str(s.expose()),
            }
        }
        out
    }

    /// `before`, the secret (redacted), `after`: a one-secret line (tests and fixtures of reporters).
    pub fn with_own(before: &str, own: &Secret, after: &str) -> Snippet {
        let mut s = Snippet::default();
        s.push_clear(before);
        s.push_own(own.redacted());
        s.push_clear(after);
        s
    }

    /// A snippet of plain text with nothing masked (tests and fixtures of reporters).
    pub fn from_clear(text: &str) -> Snippet {
        let mut s = Snippet::default();
        s.push_clear(text);
        s
    }
}

/// The commit a secret came in with. `summary` must already be redacted by whoever builds it: a commit
/// message can itself hold the secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitInfo {
    /// Full hex object id.
    pub sha: String,
    pub author: String,
    pub email: String,
    /// Author date, RFC 3339 (`2024-03-01T12:00:00+01:00`).
    pub date: String,
    /// First line of the message.
    pub summary: String,
}

/// Where the scanned bytes came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    File,
    Stdin,
    /// The index, as `git commit` would record it.
    Staged,
    /// A blob (or message) of a commit in history.
    Commit(Arc<CommitInfo>),
}

impl Origin {
    pub fn kind(&self) -> &'static str {
        match self {
            Origin::File => "file",
            Origin::Stdin => "stdin",
            Origin::Staged => "staged",
            Origin::Commit(_) => "commit",
        }
    }

    pub fn commit(&self) -> Option<&CommitInfo> {
        match self {
            Origin::Commit(c) => Some(c),
            _ => None,
        }
    }
}

/// What kind of place holds a finding: a file (on disk, in the index, in a commit's tree) or a commit
/// message, which its commit (the finding's origin) locates; reports show it by commit, not by a path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Place {
    #[default]
    File,
    CommitMessage,
}

impl Place {
    pub fn as_str(self) -> &'static str {
        match self {
            Place::File => "file",
            Place::CommitMessage => "commit-message",
        }
    }
}

/// One more place a history finding's secret occurs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub commit: String,
    /// The commit's position in the scan's walk (parents first; `u32::MAX` for a place no commit
    /// introduced): the same in every run over the same repository and selection, so places from shard
    /// reports sort as one run sorts them.
    pub seq: u32,
    pub path: String,
    /// A file, or the commit's message (then `path` is only a label).
    pub place: Place,
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// What a history scan knows about a secret beyond its first appearance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// Whether the secret is still in the tree of HEAD. A deleted key is still leaked.
    pub in_head: bool,
    /// How many (commit, path) pairs carry the secret, the first one included.
    pub occurrence_count: usize,
    /// A bounded list of the other places (all of them with `--all-occurrences`).
    pub occurrences: Vec<Occurrence>,
    /// When the secret came in, whether and when HEAD's line dropped it, where it went.
    pub timeline: Option<Timeline>,
    /// With `--state`: `Some(true)` when no earlier run reported this secret, `None` without a state file.
    pub new: Option<bool>,
}

/// A commit as a timeline names it: id, author date, and that date in Unix seconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitStamp {
    /// Full hex object id.
    pub sha: String,
    /// The commit's position in the scan's walk (see [`Occurrence::seq`]).
    pub seq: u32,
    /// Author date, RFC 3339.
    pub date: String,
    /// The same date in Unix seconds.
    pub time: i64,
}

/// One stretch of HEAD's first-parent line whose trees hold the secret (at any of its paths).
///
/// `added_pos` and `removed_pos` count commits on the line from its root (0); they are the same in
/// every run over the same repository, so spans from different shards can be compared and unioned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeadSpan {
    pub added: CommitStamp,
    pub added_pos: u32,
    /// The first commit of the line without the secret; `None` while HEAD still holds it.
    pub removed: Option<(CommitStamp, u32)>,
}

/// Where a secret has been: first seen, removed from HEAD's line, how long exposed, pushed, and the refs
/// that reach it. Computed once per finding from the commit graph (`scan::timeline`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    /// The earliest commit that carries it (`None` when only a tag's tree or message does).
    pub first_seen: Option<CommitStamp>,
    /// The commit of HEAD's first-parent line after which no tree of the line holds it; `None` while
    /// HEAD holds it, and when the line never held it (see `head_spans`).
    pub removed_in: Option<CommitStamp>,
    /// The stretches of HEAD's line that hold it, oldest first; empty when it was never on that line (only on
    /// another branch, a stash, a tag or in a commit message).
    pub head_spans: Vec<HeadSpan>,
    /// Whole days from first seen to removal, or to the time of the scan.
    pub exposed_days: u64,
    /// The end of the exposure in Unix seconds: the removal's date, or the time of the scan.
    pub exposed_until: i64,
    /// A remote-tracking ref (`refs/remotes/*`) reaches it: the key left this machine.
    pub pushed: bool,
    /// The remotes whose tracking refs reach it (`origin`), sorted.
    pub remotes: Vec<String>,
    /// The refs that reach it, sorted, at most [`Timeline::REF_LIMIT`].
    pub refs: Vec<String>,
    /// How many refs reach it.
    pub ref_count: usize,
}

/// A history finding's standing against HEAD, in the one vocabulary every report uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadStatus<'a> {
    /// HEAD's tree holds it.
    InHead,
    /// Some tree of HEAD's first-parent line held it and a later one dropped it (the commit, when known).
    Removed(Option<&'a CommitStamp>),
    /// No tree of HEAD's line ever held it: only another branch, a stash, a tag or a commit message.
    NeverInHead,
}

impl History {
    /// Where the secret stands against HEAD. Without a timeline (findings built before it existed), a
    /// secret not in HEAD is taken as removed, with no commit named.
    pub fn head_status(&self) -> HeadStatus<'_> {
        if self.in_head {
            return HeadStatus::InHead;
        }
        match &self.timeline {
            Some(t) if !t.on_head_line() => HeadStatus::NeverInHead,
            Some(t) => HeadStatus::Removed(t.removed_in.as_ref()),
            None => HeadStatus::Removed(None),
        }
    }

    /// Whether a remote-tracking ref reaches it (false without a timeline).
    pub fn pushed(&self) -> bool {
        self.timeline.as_ref().is_some_and(|t| t.pushed)
    }
}

impl Timeline {
    /// How many ref names a timeline lists (`ref_count` has them all).
    pub const REF_LIMIT: usize = 10;

    /// Whether some tree of HEAD's first-parent line ever held the secret.
    pub fn on_head_line(&self) -> bool {
        !self.head_spans.is_empty()
    }
}

/// Who can see the secret where it sits: in code shipped to browsers or apps, on servers, in CI/CD
/// definitions, in infrastructure code, in tests, in docs. A server credential in client-side code is
/// public.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exposure {
    /// Code or assets served to browsers or shipped in apps (HTML, JSX/TSX/Vue/Svelte, bundles, source
    /// maps, `public/`, `static/`, `dist/`, `build/`, Shopify themes, mobile app configs), a script that
    /// says it runs there (`'use client'`, a `react-native` import), or a variable whose framework compiles
    /// it into client code (`NEXT_PUBLIC_`, `VITE_` …).
    ClientSide,
    /// Server code, configuration and data: anything not in another class.
    Server,
    /// CI/CD definitions (GitHub Actions, GitLab CI, CircleCI, Jenkins …).
    Ci,
    /// Infrastructure code: Terraform, Kubernetes, Helm, Docker, Ansible.
    Infra,
    /// Tests, fixtures and test data.
    Test,
    /// Documentation and examples.
    Docs,
}

/// How far into a script [`Exposure::with_content`] looks for a client marker: the directive comes first and
/// the imports follow the licence header.
const CLIENT_MARKER_REACH: usize = 4096;

/// Modules only code running in a browser or an app imports.
const CLIENT_FRAMEWORKS: &[&str] = &[
    "react-dom",
    "react-dom/client",
    "react-native",
    "vue",
    "@angular/core",
    "svelte",
];

/// Variable prefixes that frameworks compile into client bundles: Next.js, Vite, Create React App, Expo,
/// Gatsby, Nuxt, Vue CLI, SvelteKit (`$env/static/public`).
const PUBLIC_PREFIXES_ENV: &[&str] = &[
    "NEXT_PUBLIC_",
    "VITE_",
    "REACT_APP_",
    "EXPO_PUBLIC_",
    "GATSBY_",
    "NUXT_PUBLIC_",
    "NUXT_ENV_",
    "VUE_APP_",
    "PUBLIC_",
];

impl Exposure {
    pub fn as_str(self) -> &'static str {
        match self {
            Exposure::ClientSide => "client-side",
            Exposure::Server => "server",
            Exposure::Ci => "ci",
            Exposure::Infra => "infra",
            Exposure::Test => "test",
            Exposure::Docs => "docs",
        }
    }

    /// The public prefix of a variable name a framework compiles into client code, if it has one.
    pub fn public_prefix(variable: &str) -> Option<&'static str> {
        PUBLIC_PREFIXES_ENV
            .iter()
            .copied()
            .find(|p| variable.len() > p.len() && variable.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes()))
    }

    /// Classifies a secret by its path and the variable it is assigned to: a public-prefixed variable
    /// is client-side wherever it is defined (`.env.local`, a CI file), except in tests and docs.
    pub fn classify(path: &str, variable: Option<&str>) -> Exposure {
        Exposure::of_path(path).with_variable(variable)
    }

    /// This exposure (from a path) for a secret assigned to `variable`.
    pub fn with_variable(self, variable: Option<&str>) -> Exposure {
        match self {
            Exposure::Test | Exposure::Docs => self,
            _ if variable.and_then(Exposure::public_prefix).is_some() => Exposure::ClientSide,
            _ => self,
        }
    }

    /// This exposure (from a path) for a script whose text says it runs in the browser or an app: a
    /// `'use client'` directive (a React Server Components client module, whose code and literals ship
    /// in the bundle), or an import of a browser or app framework (`react-dom`, `react-native`, `vue`,
    /// `@angular/core`, `svelte`). Only a server script is looked at, and only its head (the imports).
    pub fn with_content(self, path: &str, text: &[u8]) -> Exposure {
        let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
        if self != Exposure::Server || !matches!(ext, "js" | "mjs" | "cjs" | "ts" | "mts" | "cts") {
            return self;
        }
        let head = &text[..text.len().min(CLIENT_MARKER_REACH)];
        let directive = head.split(|&b| b == b'\n').take(8).any(|line| {
            let line = line.trim_ascii().strip_suffix(b";").unwrap_or(line.trim_ascii());
            line == b"'use client'" || line == b"\"use client\""
        });
        let framework = CLIENT_FRAMEWORKS.iter().any(|m| {
            [b'\'', b'"'].iter().any(|&q| {
                let quoted = [&[q][..], m.as_bytes(), &[q][..]].concat();
                memchr::memmem::find_iter(head, &quoted).any(|at| {
                    let before = head[..at].trim_ascii_end();
                    before.ends_with(b"from") || before.ends_with(b"require(") || before.ends_with(b"import")
                })
            })
        });
        if directive || framework {
            Exposure::ClientSide
        } else {
            self
        }
    }

    /// Classifies a repository-relative path (an archive member's path inside its archive too) by its
    /// directories, name and extension: tests and docs first (a fixture of a workflow is a fixture), then
    /// CI, infrastructure, client-side, and server for the rest.
    pub fn of_path(path: &str) -> Exposure {
        let lower = path.to_ascii_lowercase();
        // An archive member (`app.jar!static/app.js`) is classified by its path inside the archive.
        let lower = lower.rsplit('!').next().unwrap_or(&lower);
        let file = lower.rsplit('/').next().unwrap_or(lower);
        let dirs: Vec<&str> = lower.split('/').rev().skip(1).collect();
        let in_dir = |names: &[&str]| dirs.iter().any(|d| names.contains(d));
        let ext = file.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        if in_dir(&[
            "doc",
            "docs",
            "documentation",
            "example",
            "examples",
            "sample",
            "samples",
        ]) || matches!(ext, "md" | "markdown" | "rst" | "adoc" | "asciidoc")
        {
            return Exposure::Docs;
        }
        if Context::of_path(path) == Context::Test {
            return Exposure::Test;
        }
        let ci_file = matches!(
            file,
            ".gitlab-ci.yml"
                | ".travis.yml"
                | "jenkinsfile"
                | "azure-pipelines.yml"
                | "bitbucket-pipelines.yml"
                | ".drone.yml"
                | "cloudbuild.yaml"
                | "cloudbuild.yml"
                | "buildspec.yml"
                | "appveyor.yml"
                | ".woodpecker.yml"
                | "codemagic.yaml"
        ) || file.ends_with(".jenkinsfile");
        let ci_dir = lower.contains(".github/workflows/")
            || lower.contains(".github/actions/")
            || in_dir(&[
                ".circleci",
                ".buildkite",
                ".gitlab",
                ".woodpecker",
                ".tekton",
                ".azure-pipelines",
            ]);
        if ci_file || ci_dir {
            return Exposure::Ci;
        }
        let infra_file = matches!(ext, "tf" | "tfvars" | "hcl" | "tfstate")
            || file == "dockerfile"
            || file.starts_with("dockerfile.")
            || file.ends_with(".dockerfile")
            || file.starts_with("docker-compose")
            || matches!(
                file,
                "compose.yml" | "compose.yaml" | "chart.yaml" | "kustomization.yaml" | "vagrantfile"
            )
            || file.ends_with(".tf.json");
        let config = matches!(
            ext,
            "yaml"
                | "yml"
                | "json"
                | "tpl"
                | "j2"
                | "jinja2"
                | "ini"
                | "cfg"
                | "conf"
                | "env"
                | "toml"
                | "properties"
                | ""
        );
        let infra_dir = in_dir(&[
            "terraform",
            ".terraform",
            "k8s",
            "kubernetes",
            "kube",
            "helm",
            "charts",
            "ansible",
            "playbooks",
            "group_vars",
            "host_vars",
            "inventory",
            "manifests",
            "deploy",
            "deployment",
            "deployments",
            "infra",
            "infrastructure",
        ]);
        if infra_file || (infra_dir && config) {
            return Exposure::Infra;
        }
        if Exposure::client_path(file, ext, &dirs) {
            Exposure::ClientSide
        } else {
            Exposure::Server
        }
    }

    fn client_path(file: &str, ext: &str, dirs: &[&str]) -> bool {
        let in_dir = |names: &[&str]| dirs.iter().any(|d| names.contains(d));
        if matches!(
            ext,
            "html" | "htm" | "jsx" | "tsx" | "vue" | "svelte" | "astro" | "liquid" | "map" | "dart"
        ) {
            return true;
        }
        let bundle = [".min.js", ".bundle.js", ".chunk.js", ".min.mjs"]
            .iter()
            .any(|s| file.ends_with(s));
        // React Native's platform files (`config.native.js`, `Button.ios.tsx`) are app code.
        let platform =
            matches!(ext, "js" | "ts") && [".native.", ".ios.", ".android."].iter().any(|p| file.contains(p));
        // Mobile apps ship their configs (and everything in them) to every device.
        let mobile = matches!(
            file,
            "google-services.json"
                | "googleservice-info.plist"
                | "info.plist"
                | "androidmanifest.xml"
                | "app.json"
                | "app.config.js"
                | "app.config.ts"
                | "capacitor.config.json"
                | "capacitor.config.ts"
                | "ionic.config.json"
        ) || ext == "xcconfig"
            || in_dir(&["ios", "android"])
            // An Android app's resources (`res/values/strings.xml`, `res/values-fr/…`).
            || (ext == "xml"
                && dirs.first().is_some_and(|d| d.starts_with("values"))
                && dirs.get(1) == Some(&"res"))
            // An Android app module's build file: its `buildConfigField`s and `resValue`s are compiled
            // into the APK.
            || (matches!(file, "build.gradle" | "build.gradle.kts") && dirs.first() == Some(&"app"));
        // A Shopify theme's settings are rendered into its storefront pages.
        let theme_settings = file == "settings_data.json" && dirs.first() == Some(&"config");
        // Served as is: every file in these directories reaches the browser.
        let served = in_dir(&[
            "public", "static", "dist", "build", "www", "wwwroot", "htdocs", "assets", "_site",
        ]);
        let script = matches!(ext, "js" | "mjs" | "cjs" | "ts" | "css");
        let client_code = in_dir(&[
            "client",
            "frontend",
            "browser",
            "web",
            "components",
            "snippets",
            "sections",
        ]);
        // Angular CLI compiles `src/environments/environment*.ts` into the app's bundle.
        let angular_env = dirs.first() == Some(&"environments") && file.starts_with("environment") && ext == "ts";
        // A page template renders into the HTML every visitor gets (Rails' `.html.erb`, EJS, Handlebars,
        // Blade, Twig, Nunjucks, Pug).
        let template = file.ends_with(".html.erb")
            || file.ends_with(".blade.php")
            || matches!(ext, "ejs" | "hbs" | "handlebars" | "mustache" | "twig" | "njk" | "pug");
        // A browser extension's scripts are installed on every user's machine.
        let extension = script && dirs.iter().any(|d| d.ends_with("extension"));
        bundle
            || platform
            || mobile
            || theme_settings
            || served
            || (script && client_code)
            || angular_env
            || template
            || extension
    }
}

/// Whether a finding sits in production code or in tests, fixtures, docs and examples. Test-context
/// findings are still reported (a real key in a fixture is still leaked), but marked, and a config can
/// drop them (`[allowlist] test_paths = true`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Context {
    Code,
    /// Tests, fixtures, test data, docs and examples.
    Test,
}

impl Context {
    pub fn as_str(self) -> &'static str {
        match self {
            Context::Code => "code",
            Context::Test => "test",
        }
    }

    /// Classifies a repository-relative path by its directories and file name.
    pub fn of_path(path: &str) -> Context {
        let lower = path.to_ascii_lowercase();
        let mut parts = lower.split('/').rev();
        let file = parts.next().unwrap_or("");
        let test_dir = parts.any(|d| {
            matches!(
                d,
                "test"
                    | "tests"
                    | "__tests__"
                    | "__test__"
                    | "__mocks__"
                    | "__fixtures__"
                    | "spec"
                    | "specs"
                    | "fixture"
                    | "fixtures"
                    | "testdata"
                    | "test-data"
                    | "test_data"
                    | "testing"
                    | "mocks"
                    | "doc"
                    | "docs"
                    | "example"
                    | "examples"
                    | "sample"
                    | "samples"
            )
        });
        let (stem, ext) = file.rsplit_once('.').unwrap_or((file, ""));
        let test_file = stem.ends_with("_test")
            || stem.ends_with(".test")
            || stem.ends_with(".spec")
            || stem.ends_with("_spec")
            || (stem.starts_with("test_") && ext == "py")
            || (stem.ends_with("test") && matches!(ext, "java" | "kt" | "cs" | "scala") && stem.len() > 4)
            || (stem.ends_with("tests") && matches!(ext, "java" | "kt" | "cs" | "swift") && stem.len() > 5);
        if test_dir || test_file {
            Context::Test
        } else {
            Context::Code
        }
    }
}

/// What a rule says about itself, shared by every finding it produces.
#[derive(Debug)]
pub struct RuleInfo {
    pub id: RuleId,
    pub name: Text,
    pub severity: Severity,
    pub description: Text,
    pub remediation: Text,
    pub references: Arc<[Text]>,
    pub tags: Arc<[Text]>,
    pub keywords: Arc<[Text]>,
}

impl RuleInfo {
    /// A generic rule (tag `generic`), as `RuleSpec::is_generic` says of the rule it was made from.
    pub fn is_generic(&self) -> bool {
        self.tags.iter().any(|t| t == "generic")
    }
}

/// A located secret.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: Arc<RuleInfo>,
    /// The rule's severity, raised one step when the secret sits in client-side code.
    pub severity: Severity,
    /// Relative to the scanned root, `/`-separated; `-` for stdin.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column of the secret's first character, in characters.
    pub column: usize,
    /// Column just past the secret's last character.
    pub end_column: usize,
    pub secret: Secret,
    pub fingerprint: Fingerprint,
    /// The secret's line (at most ~160 characters around it), every candidate secret in it masked.
    pub snippet: Snippet,
    pub origin: Origin,
    pub exposure: Exposure,
    /// Code, or tests/fixtures/docs/examples (from the path).
    pub context: Context,
    /// Set for findings from git history.
    pub history: Option<History>,
    /// How the secret was encoded where it was found; `None` when it was in clear.
    pub encoding: Option<Encoding>,
    /// What the provider said about the secret (`--verify`); `None` when not verified.
    pub verification: Option<Arc<crate::verify::Verification>>,
    /// A file, or a commit message (then `path` is only a label for formats that need one).
    pub place: Place,
    /// The variable, key or field the secret is assigned to on its line (`KLAVIYO_KEY=…`,
    /// `"apiKey": "…"`, `process.env.X = …`), when there is one.
    pub variable: Option<String>,
    /// Found in a binary file (a database, compiled code) scanned as bytes.
    pub binary: bool,
    /// In a Jupyter notebook: the cell and the line within it.
    pub cell: Option<Cell>,
    /// In `pkhound audit`: the repository of this place, and the same secret in other repositories.
    pub audit: Option<Box<AuditPlace>>,
    /// The other half of a two-part credential found beside the secret (an AWS secret key's access key
    /// id): one finding names both. Redacted like the secret in every output.
    pub partner: Option<Partner>,
}

/// A repository of an audit, as reports name it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Repository {
    /// The path as the audit was given it (a `PATH` joined with where it was found under it, or a
    /// `--repos` line), `/`-separated.
    pub path: String,
    /// The `origin` remote's URL with any credentials in it redacted (see `audit::redact_url`). Read from
    /// the repository's config: untrusted text, escaped wherever it is shown.
    pub origin: Option<String>,
}

/// Where an audit finding sits among the audited repositories.
#[derive(Clone, Debug)]
pub struct AuditPlace {
    pub repository: Arc<Repository>,
    /// The same (rule, secret) found in other repositories, one finding each (with its own
    /// repository and its own history), in repository order. Empty on those findings themselves.
    pub elsewhere: Vec<Finding>,
}

/// The other half of a two-part credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partner {
    /// What it is: `access key id`, `account SID`, `account name`.
    pub label: String,
    pub secret: Secret,
    /// 1-based line and column (in characters) in the same file or blob as the finding.
    pub line: usize,
    pub column: usize,
}

/// Where in a Jupyter notebook a finding sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    /// 1-based cell number.
    pub index: usize,
    /// 1-based line within the cell's source, or within the output's text.
    pub line: usize,
    pub kind: CellKind,
}

/// A cell's source, or one of its outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    Source,
    Output,
}

impl CellKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CellKind::Source => "source",
            CellKind::Output => "output",
        }
    }
}

impl Finding {
    /// The order of every report: by path, then position, then rule.
    pub fn sort_key(&self) -> (&str, usize, usize, &str) {
        (&self.path, self.line, self.column, self.rule.id.as_str())
    }

    /// What its exposure means, for a secret in client-side code: who can take it, and for a Klaviyo
    /// private key, what they can do with it. `None` for other exposures.
    pub fn exposure_note(&self) -> Option<String> {
        if self.exposure != Exposure::ClientSide {
            return None;
        }
        let public = self
            .variable
            .as_deref()
            .and_then(|v| Some((v, Exposure::public_prefix(v)?)));
        let why = match public {
            Some((v, prefix)) => {
                format!("`{v}` is compiled into code served to browsers (`{prefix}` variables are public)")
            }
            None => "this file is served to browsers or shipped in apps".to_string(),
        };
        let what = if self.rule.id.as_str().starts_with("klaviyo-private-key") {
            "anyone who loads the page gets full read/write access to the Klaviyo account's customer profiles and \
             can send from its domain; revoke the key now"
        } else {
            "treat the secret as public"
        };
        Some(format!("{why}: {what}"))
    }

    /// The rule's remediation and, when the secret is assigned to a variable, how to read that variable
    /// at run time in the file's language (or, in client-side code, why it must move to a server).
    pub fn remediation(&self) -> String {
        let mut out = self.rule.remediation.to_string();
        if let Some(v) = &self.variable {
            out.push(' ');
            out.push_str(&read_variable(&self.path, v, self.exposure));
        }
        out
    }
}

/// How to read variable `v` from the environment or a secrets manager instead of writing its value, in
/// the language or format of `path`.
fn read_variable(path: &str, v: &str, exposure: Exposure) -> String {
    if exposure == Exposure::ClientSide {
        return format!(
            "A private secret cannot be kept in code that ships to browsers or apps: call the API from your \
             server, which reads `{v}` from its environment or a secrets manager (and drop any public prefix \
             such as `NEXT_PUBLIC_`)."
        );
    }
    let lower = path.to_ascii_lowercase();
    let lower = lower.rsplit('!').next().unwrap_or(&lower);
    let file = lower.rsplit('/').next().unwrap_or(lower);
    let ext = file.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let env = env_name(v);
    let how = match ext {
        "py" => format!("`os.environ[\"{env}\"]`"),
        "js" | "mjs" | "cjs" | "ts" => format!("`process.env.{env}`"),
        "rb" | "erb" => format!("`ENV.fetch(\"{env}\")`"),
        "go" => format!("`os.Getenv(\"{env}\")`"),
        "java" | "kt" | "kts" | "scala" | "groovy" => format!("`System.getenv(\"{env}\")`"),
        "cs" => format!("`Environment.GetEnvironmentVariable(\"{env}\")`"),
        "php" => format!("`getenv('{env}')`"),
        "rs" => format!("`std::env::var(\"{env}\")`"),
        "sh" | "bash" | "zsh" | "ps1" => format!("`\"${env}\"`, set by the caller from a secrets manager"),
        "tf" | "tfvars" | "hcl" => format!(
            "a `variable \"{}\" {{ sensitive = true }}` set through `TF_VAR_{}` or read from a secrets manager data source",
            v.to_ascii_lowercase(),
            v.to_ascii_lowercase()
        ),
        _ if exposure == Exposure::Ci && lower.contains(".github/") => {
            format!("`${{{{ secrets.{env} }}}}` (a repository or environment secret)")
        }
        _ if exposure == Exposure::Ci => format!("a masked CI/CD variable `${env}`"),
        _ if exposure == Exposure::Infra && matches!(ext, "yaml" | "yml") => {
            format!("a Kubernetes Secret referenced with `valueFrom.secretKeyRef` (or your secrets manager's operator) for `{env}`")
        }
        _ if exposure == Exposure::Infra => format!("a runtime secret (`docker run --env {env}`, `RUN --mount=type=secret`), never a baked-in value"),
        _ if file.starts_with(".env") => {
            format!("keep `.env` files out of git (`.gitignore`) and set `{env}` from a secrets manager where the app runs")
        }
        _ => format!("an environment variable `{env}` or a secrets manager reference (`${{{env}}}`) instead of the value"),
    };
    format!("Read `{v}` at run time instead: {how}.")
}

/// The environment variable a variable's value should come from: its name without a sigil (`$key` in
/// PHP, `@key` in Ruby), camelCase split, in SCREAMING_SNAKE_CASE (`klaviyoKey` → `KLAVIYO_KEY`).
fn env_name(v: &str) -> String {
    let v = v.trim_start_matches(['$', '@']);
    let mut out = String::with_capacity(v.len() + 4);
    let mut prev: Option<char> = None;
    for c in v.chars() {
        if c.is_ascii_uppercase() && prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit()) {
            out.push('_');
        }
        out.push(if matches!(c, '-' | '.') {
            '_'
        } else {
            c.to_ascii_uppercase()
        });
        prev = Some(c);
    }
    out
}

/// What kind of input could not be scanned: decides nothing by itself (every error makes a scan
/// incomplete), but lets reports and tests tell a hole in a file from a hole in a repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorKind {
    /// A file or directory could not be read (permissions, vanished, I/O error).
    Io,
    /// Standard input could not be read whole.
    Stdin,
    /// A git object (commit, tree, blob, tag) could not be read or inflated.
    Object,
    /// A ref, a revision or the commit walk could not be resolved.
    Ref,
    /// A repository or index could not be opened or listed.
    Repository,
    /// Something was left unscanned because it went past a limit.
    Limit,
    /// An archive or one of its members could not be opened: corrupt, truncated, encrypted, or
    /// compressed with a method not supported.
    Archive,
    /// A share of a sharded run was not among the reports `pkhound merge` combined.
    Shard,
}

impl ErrorKind {
    /// Every kind, for readers that map names back (`pkhound merge`).
    pub const ALL: [ErrorKind; 8] = [
        ErrorKind::Io,
        ErrorKind::Stdin,
        ErrorKind::Object,
        ErrorKind::Ref,
        ErrorKind::Repository,
        ErrorKind::Limit,
        ErrorKind::Archive,
        ErrorKind::Shard,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Io => "io",
            ErrorKind::Stdin => "stdin",
            ErrorKind::Object => "object",
            ErrorKind::Ref => "ref",
            ErrorKind::Repository => "repository",
            ErrorKind::Limit => "limit",
            ErrorKind::Archive => "archive",
            ErrorKind::Shard => "shard",
        }
    }
}

/// Something that could not be scanned: a file, a ref, an object. It goes into the report's `errors`
/// and, when nothing was found, decides exit code 2. The message never holds file content.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ScanError {
    pub kind: ErrorKind,
    /// What could not be scanned, named as the user can find it: a file path, `-` for standard input, a
    /// ref, or `blob <id>` / `tree <id>` / `commit <id>` for a git object.
    pub path: String,
    pub message: String,
}

impl ScanError {
    pub fn new(kind: ErrorKind, path: impl Into<String>, message: impl Into<String>) -> ScanError {
        ScanError {
            kind,
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Something the user should know that is not an error: a file skipped on purpose (over the size limit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub path: String,
    pub message: String,
}

/// What `--state` spared a history scan, and what it still read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateStats {
    /// Commits an earlier run compared: their trees and messages were not read again.
    pub commits_known: u64,
    /// Blobs an earlier run read and found clean: not read again.
    pub blobs_skipped: u64,
    /// Blobs an earlier run found a secret in: read again (the state keeps no secret).
    pub blobs_reread: u64,
    /// Blobs no earlier run read.
    pub blobs_new: u64,
    /// Findings no earlier run reported.
    pub new_findings: u64,
}

/// What a scan covered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// With `--state`: what the state spared and what was read.
    pub state: Option<StateStats>,
    /// Files (or blobs) scanned.
    pub files: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Files passed over: binary, over the size limit, symlinks not followed, FIFOs/sockets/devices.
    pub skipped: u64,
    pub skipped_binary: u64,
    pub skipped_large: u64,
    pub skipped_other: u64,
    /// Commits walked by a history scan (0 otherwise).
    pub commits: u64,
    /// Repositories an audit scanned whole (0 outside `pkhound audit`).
    pub repositories: u64,
    /// Repositories an audit could not open or list (each is also an `errors` entry).
    pub repositories_failed: u64,
    pub elapsed_ms: u64,
    /// Each file passed over and why (the working tree and standard input), for the JSON report and `-v`.
    pub skipped_files: Vec<SkippedFile>,
    /// Files the ignore files skip that were scanned anyway, for their name (`.env`, key files …): not
    /// tracked by git, sorted.
    pub ignored_files: Vec<String>,
}

impl ScanStats {
    /// Adds another scan's counts (not its lists or elapsed time): a history scan and its working tree,
    /// the repositories of an audit, the reports of a merge.
    pub fn add_counts(&mut self, o: &ScanStats) {
        self.files += o.files;
        self.bytes += o.bytes;
        self.skipped += o.skipped;
        self.skipped_binary += o.skipped_binary;
        self.skipped_large += o.skipped_large;
        self.skipped_other += o.skipped_other;
        self.commits += o.commits;
        self.repositories += o.repositories;
        self.repositories_failed += o.repositories_failed;
        if let Some(t) = &o.state {
            let m = self.state.get_or_insert_with(Default::default);
            m.commits_known += t.commits_known;
            m.blobs_skipped += t.blobs_skipped;
            m.blobs_reread += t.blobs_reread;
            m.blobs_new += t.blobs_new;
            m.new_findings += t.new_findings;
        }
    }
}

/// A file passed over on purpose, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedFile {
    pub path: String,
    /// `binary`, `too large`, `not a regular file` or `symbolic link`.
    pub reason: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact() {
        let s = Secret::new(b"pk_0123abcd0123abcd0123abcd0123abcd9f"); // pkhound:allow
        assert_eq!(s.to_string(), "pk_01…9f");
        assert_eq!(format!("{s:?}"), "Secret(pk_01…9f)");
        assert!(!format!("{s:?}").contains("abcd0123"));
    }

    #[test]
    fn redaction_reveals_little_of_short_secrets() {
        assert_eq!(redact("hunter2"), "***");
        assert_eq!(redact("S3cr3tPassw0rd"), "S…d");
        assert_eq!(
            redact("pk_AbC123_0f1e2d3c4b5a69788796a5b4c3d2e1f0ff"), // pkhound:allow
            "pk_Ab…ff"
        );
        assert_eq!(redact("xoxb-1234"), "xoxb-…");
        assert_eq!(redact("ghp_0123456789abcdefghij0123456789ABCDEF"), "ghp_01…EF"); // pkhound:allow
        assert_eq!(redact("AKIAZ7QW3ERT5YUI2OPA"), "AKIAZ…A"); // pkhound:allow
        let block = format!(
            "-----BEGIN RSA PRIVATE KEY-----\nMIIC{}\n-----END RSA PRIVATE KEY-----\n",
            "Qx7".repeat(30)
        );
        assert_eq!(redact(&block), "-----BEGIN RSA PRIVATE KEY-----MI…--");
    }

    /// A separator inside a secret is not a prefix: at most 4 of the secret's own characters show.
    // See: issue 12 ("redact() reveals most of a secret that contains `-` or `_`").
    #[test]
    fn separators_in_a_secret_do_not_widen_what_shows() {
        for (secret, shown) in [
            ("Xq7vLm2kPz9-Rt", "X…t"),
            ("n8Fq2Lk9Wx_Zr5Tb7Mq2", "n8…q2"),
            ("app:Xq7vLm2kPz9-Rt", "a…t"),
            ("a-b-c-d-e-f-g-h-i-j-k", "a-…-k"),
        ] {
            let r = redact(secret);
            assert_eq!(r, shown, "{secret}");
            let own = r.chars().filter(|&c| c != '…').count();
            assert!(own <= 4, "{secret} → {r}");
        }
    }

    proptest::proptest! {
        /// Whatever the secret, the redacted form shows its public prefix and at most 4 more characters.
        #[test]
        fn redaction_shows_at_most_four_secret_characters(s in "\\PC{0,60}") {
            let r = redact(&s);
            let prefix = public_prefix(&s);
            let own = r.strip_prefix(prefix).unwrap_or(&r).chars().filter(|&c| c != '…').count();
            proptest::prop_assert!(own <= 4 || r == "***", "{} → {}", s, r);
        }
    }

    /// Every public prefix is the literal start of some built-in rule's secret: redaction never shows a
    /// character the rule does not fix.
    #[test]
    fn public_prefixes_are_literal_starts_of_builtin_rules() {
        use regex_syntax::hir::{literal::Extractor, Hir, HirKind};
        fn secret_group(h: &Hir) -> Option<&Hir> {
            match h.kind() {
                HirKind::Capture(c) if c.name.as_deref() == Some("secret") => Some(&c.sub),
                HirKind::Capture(c) => secret_group(&c.sub),
                HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().find_map(secret_group),
                HirKind::Repetition(r) => secret_group(&r.sub),
                _ => None,
            }
        }
        let mut starts: Vec<String> = Vec::new();
        for rule in crate::rules::builtin().expect("built-in rules load") {
            let hir = regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(false)
                .build()
                .parse(&rule.spec.regex)
                .expect("built-in regexes parse");
            let Some(sub) = secret_group(&hir) else { continue };
            let mut ex = Extractor::new();
            ex.limit_class(1);
            if let Some(lits) = ex.extract(sub).literals() {
                starts.extend(lits.iter().map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned()));
            }
        }
        // A prefix is public when a rule's secret starts with it literally, or when it extends a rule's
        // literal start by the token's documented kind (`xox` + `p-`, `sk-ant-admin` + `01-`).
        for p in PUBLIC_PREFIXES {
            assert!(
                starts
                    .iter()
                    .any(|s| s.starts_with(p) || (s.len() >= 3 && p.starts_with(s.as_str()))),
                "`{p}` is not the literal start of any built-in rule's secret; literal starts: {starts:?}"
            );
        }
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2.
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block is hashed first.
        let mac = hmac_sha256(
            &[0xaa; 131],
            &[b"Test Using Larger Than Block-Size Key - Hash Key First"],
        );
        assert_eq!(
            hex(&mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn fingerprints_depend_on_the_key() {
        let a = FingerprintKey::new(b"0123456789abcdef0123");
        let b = FingerprintKey::new(b"0123456789abcdef0124");
        let r = RuleId::new("generic-password-assignment");
        assert_eq!(
            a.fingerprint(&r, "Winter2024Sales!"),
            a.fingerprint(&r, "Winter2024Sales!")
        );
        assert_ne!(
            a.fingerprint(&r, "Winter2024Sales!"),
            b.fingerprint(&r, "Winter2024Sales!")
        );
        assert_ne!(a.id(), b.id());
        assert_eq!(a.id().len(), 8);
        let s = Secret::new(b"Winter2024Sales!");
        assert_ne!(s.legacy_fingerprint(&r), a.fingerprint(&r, "Winter2024Sales!"));
    }

    #[test]
    fn exposure_by_path() {
        for (path, want) in [
            ("web/index.html", Exposure::ClientSide),
            ("public/js/app.js", Exposure::ClientSide),
            ("dist/main.min.js", Exposure::ClientSide),
            ("build/static/js/main.8a1c.js.map", Exposure::ClientSide),
            ("www/config.json", Exposure::ClientSide),
            ("src/components/Signup.tsx", Exposure::ClientSide),
            ("theme/snippets/klaviyo.liquid", Exposure::ClientSide),
            ("theme/assets/klaviyo-signup.js", Exposure::ClientSide),
            ("android/app/google-services.json", Exposure::ClientSide),
            ("ios/Runner/Info.plist", Exposure::ClientSide),
            ("app.json", Exposure::ClientSide),
            ("app/src/main/res/values/strings.xml", Exposure::ClientSide),
            ("app/src/main/res/values-fr/secrets.xml", Exposure::ClientSide),
            ("app/src/main/res/layout/main.xml", Exposure::Server),
            ("app/build.gradle.kts", Exposure::ClientSide),
            ("build.gradle", Exposure::Server),
            ("config/settings_data.json", Exposure::ClientSide),
            ("src/environments/environment.prod.ts", Exposure::ClientSide),
            ("app/views/layouts/application.html.erb", Exposure::ClientSide),
            ("views/checkout.ejs", Exposure::ClientSide),
            ("resources/views/welcome.blade.php", Exposure::ClientSide),
            ("capture-extension/src/content-script.js", Exposure::ClientSide),
            ("src/environments/README.md", Exposure::Docs),
            ("app/views/mailer.text.erb", Exposure::Server),
            ("config/settings.json", Exposure::Server),
            ("server/config.py", Exposure::Server),
            ("api/handler.js", Exposure::Server),
            (".env", Exposure::Server),
            (".env.local", Exposure::Server),
            (".github/workflows/deploy.yml", Exposure::Ci),
            (".gitlab-ci.yml", Exposure::Ci),
            (".circleci/config.yml", Exposure::Ci),
            ("Jenkinsfile", Exposure::Ci),
            ("infra/main.tf", Exposure::Infra),
            ("prod.tfvars", Exposure::Infra),
            ("k8s/secret.yaml", Exposure::Infra),
            ("charts/app/values.yaml", Exposure::Infra),
            ("Dockerfile", Exposure::Infra),
            ("docker-compose.prod.yml", Exposure::Infra),
            ("ansible/group_vars/all.yml", Exposure::Infra),
            ("tests/fixtures/.env", Exposure::Test),
            ("pkg/client_test.go", Exposure::Test),
            ("docs/setup.md", Exposure::Docs),
            ("README.md", Exposure::Docs),
            ("examples/quickstart.py", Exposure::Docs),
            ("app.jar!static/app.js", Exposure::ClientSide),
            ("src/config.native.js", Exposure::ClientSide),
            ("src/Button.ios.ts", Exposure::ClientSide),
        ] {
            assert_eq!(Exposure::of_path(path), want, "{path}");
        }
    }

    #[test]
    fn exposure_by_content() {
        let at = |path: &str, text: &str| Exposure::of_path(path).with_content(path, text.as_bytes());
        assert_eq!(
            at("src/lib/klaviyo.ts", "'use client';\nimport x from 'y';"),
            Exposure::ClientSide
        );
        assert_eq!(
            at("app/signup/form.js", "// (c) Acme\n\"use client\"\n"),
            Exposure::ClientSide
        );
        assert_eq!(
            at("src/klaviyo.js", "import { Platform } from 'react-native';"),
            Exposure::ClientSide
        );
        assert_eq!(
            at("src/main.ts", "import { createApp } from \"vue\";"),
            Exposure::ClientSide
        );
        assert_eq!(
            at("src/index.js", "const ReactDOM = require('react-dom');"),
            Exposure::ClientSide
        );
        // A server module that only names a framework, a directive in a comment, other extensions, and
        // classes other than server keep their class.
        assert_eq!(at("src/ssr.js", "const target = 'vue';"), Exposure::Server);
        assert_eq!(at("src/a.js", "// 'use client' is not needed here\n"), Exposure::Server);
        assert_eq!(at("src/a.py", "'use client'\n"), Exposure::Server);
        assert_eq!(at("tests/a.test.js", "import 'react-dom';"), Exposure::Test);
    }

    #[test]
    fn public_variable_prefixes_are_client_side() {
        for v in [
            "NEXT_PUBLIC_KLAVIYO_KEY",
            "VITE_KLAVIYO",
            "REACT_APP_KLAVIYO_KEY",
            "EXPO_PUBLIC_K",
            "GATSBY_K",
            "NUXT_PUBLIC_K",
            "PUBLIC_KLAVIYO_KEY",
        ] {
            assert_eq!(Exposure::classify(".env.local", Some(v)), Exposure::ClientSide, "{v}");
            assert_eq!(
                Exposure::classify(".github/workflows/ci.yml", Some(v)),
                Exposure::ClientSide,
                "{v}"
            );
        }
        assert_eq!(Exposure::classify(".env.local", Some("KLAVIYO_KEY")), Exposure::Server);
        assert_eq!(
            Exposure::classify("docs/next.md", Some("NEXT_PUBLIC_K")),
            Exposure::Docs
        );
        assert_eq!(Exposure::classify(".env", Some("VITE")), Exposure::Server);
    }

    #[test]
    fn context_by_path() {
        for p in [
            "tests/cli/main.rs",
            "src/__tests__/a.js",
            "spec/models/user_spec.rb",
            "pkg/api/client_test.go",
            "web/signup.test.js",
            "web/signup.spec.ts",
            "app/test_settings.py",
            "fixtures/tree/.env",
            "internal/testdata/keys.txt",
            "docs/setup.md",
            "examples/quickstart.py",
            "src/test/java/com/acme/ClientTest.java",
        ] {
            assert_eq!(Context::of_path(p), Context::Test, "{p}");
        }
        for p in [
            "src/app.py",
            ".env",
            "config/settings.yaml",
            "latest.txt",
            "src/contest.py",
            "Test.java",
        ] {
            assert_eq!(Context::of_path(p), Context::Code, "{p}");
        }
    }
}
