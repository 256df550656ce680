//! Reads a JSON report (`--format json`) back into findings, errors and stats: the inverse of
//! [`json::render`](super::json::render), for `pkhound merge`. Every field the writer emits is read
//! (unknown fields are refused, so that nothing a newer writer adds is dropped silently); fields derived
//! from others (`message`, `references`, `git_ignored`) are derived again.
//!
//! A report written without `--show-secrets` holds no raw secret: its findings carry
//! [`Secret::from_redacted`] secrets, which render exactly as they were written.

use std::{collections::HashMap, sync::Arc};

use serde::Deserialize;

use super::{AppliedConfig, Outcome, RuleSet, ShardOf};
use crate::finding::{
    AuditPlace, Cell, CellKind, CommitInfo, CommitStamp, Context, Encoding, ErrorKind, Exposure, Finding, Fingerprint,
    HeadSpan, History, Notice, Occurrence, Origin, Partner, Place, Repository, RuleInfo, ScanError, ScanStats, Secret,
    Severity, SkippedFile, Snippet, StateStats, Step, Timeline,
};
use crate::verify::{Account, Status, Verification};

/// Why a report cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("not a pkhound JSON report: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Field(String),
}

/// A JSON report, read back.
#[derive(Debug)]
pub struct ReadReport {
    pub version: String,
    pub fingerprint_key: String,
    pub paths_relative_to: String,
    pub rules: Option<RuleSet>,
    pub shard: Option<ShardOf>,
    pub outcome: Outcome,
    pub config: Option<AppliedConfig>,
    pub findings: Vec<Finding>,
    pub errors: Vec<ScanError>,
    pub notices: Vec<Notice>,
    pub stats: ScanStats,
    /// Every finding carries its raw secret (the report was written with `--show-secrets`).
    pub has_secrets: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportIn {
    version: String,
    #[allow(dead_code)]
    incomplete: bool,
    fingerprint_key: String,
    paths_relative_to: String,
    #[serde(default)]
    rules: Option<RuleSet>,
    #[serde(default)]
    shard: Option<ShardOf>,
    outcome: OutcomeIn,
    #[serde(default)]
    config: Option<ConfigIn>,
    findings: Vec<FindingIn>,
    errors: Vec<ProblemIn>,
    notices: Vec<ProblemIn>,
    skipped: Vec<SkippedIn>,
    ignored_scanned: Vec<String>,
    stats: StatsIn,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeIn {
    fail_on: Severity,
    blocking: usize,
    incomplete: bool,
    exit_code: u8,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigIn {
    path: String,
    source: String,
    format: String,
    changes: Vec<String>,
    weakens: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProblemIn {
    #[serde(default)]
    kind: Option<String>,
    path: String,
    message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SkippedIn {
    path: String,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsIn {
    files: u64,
    bytes: u64,
    skipped: u64,
    skipped_binary: u64,
    skipped_large: u64,
    skipped_other: u64,
    #[serde(default)]
    commits: u64,
    #[serde(default)]
    repositories: u64,
    #[serde(default)]
    repositories_failed: u64,
    #[allow(dead_code)]
    errors: usize,
    elapsed_ms: u64,
    #[serde(default)]
    state: Option<StateStatsIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateStatsIn {
    commits_known: u64,
    blobs_skipped: u64,
    blobs_reread: u64,
    blobs_new: u64,
    new_findings: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OriginIn {
    kind: String,
    #[serde(default)]
    commit: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    summary: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OccurrenceIn {
    commit: String,
    #[serde(default = "no_seq")]
    seq: u32,
    path: String,
    #[serde(default)]
    location: Option<String>,
    line: usize,
    column: usize,
}

fn no_seq() -> u32 {
    crate::source::git::NO_COMMIT
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StampIn {
    commit: String,
    date: String,
    #[serde(default = "no_seq")]
    seq: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpanIn {
    added: StampIn,
    added_pos: u32,
    removed: Option<StampIn>,
    removed_pos: Option<u32>,
}

/// A history finding's leak timeline as the JSON report spells it (flat on the finding).
struct TimelineIn {
    first_seen: Option<Option<StampIn>>,
    removed_in: Option<Option<StampIn>>,
    on_head_line: Option<bool>,
    head_spans: Option<Vec<SpanIn>>,
    exposed_days: Option<u64>,
    exposed_until: Option<i64>,
    pushed: Option<bool>,
    remotes: Option<Vec<String>>,
    refs: Option<Vec<String>>,
    ref_count: Option<usize>,
}

fn stamp(s: StampIn) -> Result<CommitStamp, ReadError> {
    let time = crate::source::git::parse_date(&s.date).map_err(|e| field(format!("commit date `{}`: {e}", s.date)))?;
    Ok(CommitStamp {
        sha: s.commit,
        seq: s.seq,
        date: s.date,
        time,
    })
}

fn timeline(t: TimelineIn) -> Result<Option<Timeline>, ReadError> {
    let Some(first_seen) = t.first_seen else {
        return Ok(None);
    };
    let head_spans = t
        .head_spans
        .unwrap_or_default()
        .into_iter()
        .map(|s| {
            let removed = match (s.removed, s.removed_pos) {
                (Some(r), Some(pos)) => Some((stamp(r)?, pos)),
                (None, None) => None,
                _ => return Err(field("a HEAD span with a removal but no position, or the reverse")),
            };
            Ok(HeadSpan {
                added: stamp(s.added)?,
                added_pos: s.added_pos,
                removed,
            })
        })
        .collect::<Result<Vec<_>, ReadError>>()?;
    if t.on_head_line == Some(false) && !head_spans.is_empty() {
        return Err(field("`on_head_line: false` with HEAD spans"));
    }
    Ok(Some(Timeline {
        first_seen: first_seen.map(stamp).transpose()?,
        removed_in: t.removed_in.flatten().map(stamp).transpose()?,
        head_spans,
        exposed_days: t.exposed_days.unwrap_or_default(),
        exposed_until: t.exposed_until.unwrap_or_default(),
        pushed: t.pushed.unwrap_or_default(),
        remotes: t.remotes.unwrap_or_default(),
        refs: t.refs.unwrap_or_default(),
        ref_count: t.ref_count.unwrap_or_default(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RepositoryIn {
    path: String,
    #[serde(default)]
    origin: Option<String>,
}

/// What a finding and each of its repositories' places have in common on the wire.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaceIn {
    severity: Severity,
    path: String,
    line: usize,
    column: usize,
    end_column: usize,
    origin: OriginIn,
    #[serde(default)]
    in_head: Option<bool>,
    #[serde(default)]
    occurrence_count: Option<usize>,
    #[serde(default)]
    occurrences: Option<Vec<OccurrenceIn>>,
    #[serde(default)]
    first_seen: Option<Option<StampIn>>,
    #[serde(default)]
    removed_in: Option<Option<StampIn>>,
    #[serde(default)]
    on_head_line: Option<bool>,
    #[serde(default)]
    head_spans: Option<Vec<SpanIn>>,
    #[serde(default)]
    exposed_days: Option<u64>,
    #[serde(default)]
    exposed_until: Option<i64>,
    #[serde(default)]
    pushed: Option<bool>,
    #[serde(default)]
    remotes: Option<Vec<String>>,
    #[serde(default)]
    refs: Option<Vec<String>>,
    #[serde(default)]
    ref_count: Option<usize>,
    #[serde(default)]
    new: Option<bool>,
    exposure: String,
    context: String,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    variable: Option<String>,
    #[serde(default)]
    cell: Option<usize>,
    #[serde(default)]
    cell_line: Option<usize>,
    #[serde(default)]
    cell_kind: Option<String>,
    #[serde(default)]
    binary: bool,
    snippet: String,
    /// Only in `repositories` entries.
    #[serde(default)]
    repository: Option<RepositoryIn>,
}

/// A finding's own fields on the wire; the rest of its object is its place ([`PlaceIn`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FindingOwn {
    rule_id: String,
    #[allow(dead_code)]
    rule_name: String,
    #[serde(default)]
    secret: Option<String>,
    redacted: String,
    fingerprint: String,
    #[serde(default)]
    #[allow(dead_code)]
    git_ignored: bool,
    #[serde(default)]
    #[allow(dead_code)]
    message: Option<String>,
    #[serde(default)]
    verification: Option<VerificationIn>,
    remediation: String,
    #[allow(dead_code)]
    references: Vec<String>,
    #[serde(default)]
    repositories: Option<Vec<PlaceIn>>,
    #[serde(default)]
    partner: Option<PartnerIn>,
}

/// A finding on the wire: its own fields and its place's (the fields a `repositories` entry has too).
/// `#[serde(flatten)]` would let unknown fields through, so the object is split by name and each half is
/// read strictly.
struct FindingIn {
    own: FindingOwn,
    place: PlaceIn,
}

/// The keys of [`FindingOwn`].
const OWN_FIELDS: &[&str] = &[
    "rule_id",
    "rule_name",
    "secret",
    "redacted",
    "fingerprint",
    "git_ignored",
    "message",
    "verification",
    "remediation",
    "references",
    "repositories",
    "partner",
];

impl<'de> Deserialize<'de> for FindingIn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut place = serde_json::Map::deserialize(d)?;
        let mut own = serde_json::Map::new();
        for key in OWN_FIELDS {
            if let Some(v) = place.remove(*key) {
                own.insert((*key).to_string(), v);
            }
        }
        Ok(FindingIn {
            own: serde_json::from_value(serde_json::Value::Object(own)).map_err(D::Error::custom)?,
            place: serde_json::from_value(serde_json::Value::Object(place)).map_err(D::Error::custom)?,
        })
    }
}

/// The other half of a two-part credential, as the JSON report writes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartnerIn {
    label: String,
    line: usize,
    column: usize,
    #[serde(default)]
    secret: Option<String>,
    redacted: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerificationIn {
    status: String,
    provider: String,
    reason: String,
    #[serde(default)]
    account: Option<AccountIn>,
    #[serde(default)]
    scopes: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountIn {
    id: String,
    #[serde(default)]
    organization: Option<String>,
    #[serde(default)]
    public_api_key: Option<String>,
    #[serde(default)]
    test_account: Option<bool>,
    #[serde(default)]
    key_prefix_is_public_key: Option<bool>,
}

fn field(msg: impl Into<String>) -> ReadError {
    ReadError::Field(msg.into())
}

fn named<T: Copy>(all: &[T], name: &str, as_str: impl Fn(T) -> &'static str, what: &str) -> Result<T, ReadError> {
    all.iter()
        .copied()
        .find(|v| as_str(*v) == name)
        .ok_or_else(|| field(format!("unknown {what} `{name}`")))
}

fn exposure(s: &str) -> Result<Exposure, ReadError> {
    use Exposure::*;
    named(
        &[ClientSide, Server, Ci, Infra, Test, Docs],
        s,
        Exposure::as_str,
        "exposure",
    )
}

fn context(s: &str) -> Result<Context, ReadError> {
    named(&[Context::Code, Context::Test], s, Context::as_str, "context")
}

fn encoding(s: &str) -> Result<Encoding, ReadError> {
    let steps = [Step::Base64, Step::Percent, Step::Escape, Step::HtmlEntity];
    let mut chain: Option<Encoding> = None;
    for part in s.split('>') {
        let step = Encoding::of(named(&steps, part, Step::as_str, "encoding")?);
        chain = Some(match chain {
            Some(c) => c.then(step),
            None => step,
        });
    }
    chain.ok_or_else(|| field("empty encoding"))
}

fn place_kind(location: Option<&str>) -> Result<Place, ReadError> {
    match location {
        None => Ok(Place::File),
        Some(l) => named(&[Place::File, Place::CommitMessage], l, Place::as_str, "location"),
    }
}

fn error_kind(s: &str) -> Result<ErrorKind, ReadError> {
    named(&ErrorKind::ALL, s, ErrorKind::as_str, "error kind")
}

/// The skip reasons reports name (`source::SkipReason::as_str`), as the `'static` strings stats hold.
fn skip_reason(s: &str) -> Result<&'static str, ReadError> {
    ["binary", "too large", "not a regular file", "symbolic link"]
        .into_iter()
        .find(|r| *r == s)
        .ok_or_else(|| field(format!("unknown skip reason `{s}`")))
}

fn origin(o: OriginIn) -> Result<Origin, ReadError> {
    Ok(match o.kind.as_str() {
        "file" => Origin::File,
        "stdin" => Origin::Stdin,
        "staged" => Origin::Staged,
        "commit" => Origin::Commit(Arc::new(CommitInfo {
            sha: o.commit.ok_or_else(|| field("a commit origin without its commit"))?,
            author: o.author.unwrap_or_default(),
            email: o.email.unwrap_or_default(),
            date: o.date.unwrap_or_default(),
            summary: o.summary.unwrap_or_default(),
        })),
        other => return Err(field(format!("unknown origin `{other}`"))),
    })
}

/// The snippet as written: `text` is what `shown_snippet` rendered. With the raw secret at hand (a
/// `--show-secrets` report), its first occurrence becomes the finding's own span again, so that the
/// merged report redacts it unless asked not to.
fn snippet(text: &str, secret: &Secret) -> Snippet {
    if secret.is_raw() && !secret.expose().is_empty() {
        if let Some((before, after)) = text.split_once(secret.expose()) {
            return Snippet::with_own(before, secret, after);
        }
    }
    Snippet::from_clear(text)
}

/// Builds the finding of one place; `base` gives rule, secret and fingerprint.
fn finding(p: PlaceIn, rule: &Arc<RuleInfo>, secret: &Secret, fingerprint: &Fingerprint) -> Result<Finding, ReadError> {
    let tl = TimelineIn {
        first_seen: p.first_seen,
        removed_in: p.removed_in,
        on_head_line: p.on_head_line,
        head_spans: p.head_spans,
        exposed_days: p.exposed_days,
        exposed_until: p.exposed_until,
        pushed: p.pushed,
        remotes: p.remotes,
        refs: p.refs,
        ref_count: p.ref_count,
    };
    let history = match (p.in_head, p.occurrence_count, p.occurrences) {
        (Some(in_head), Some(occurrence_count), occurrences) => Some(History {
            in_head,
            occurrence_count,
            timeline: timeline(tl)?,
            new: p.new,
            occurrences: occurrences
                .unwrap_or_default()
                .into_iter()
                .map(|o| {
                    Ok(Occurrence {
                        place: place_kind(o.location.as_deref())?,
                        commit: o.commit,
                        seq: o.seq,
                        path: o.path,
                        line: o.line,
                        column: o.column,
                    })
                })
                .collect::<Result<_, ReadError>>()?,
        }),
        (None, None, None) => None,
        _ => return Err(field("a history without `in_head` or `occurrence_count`")),
    };
    let cell = match (p.cell, p.cell_line, p.cell_kind.as_deref()) {
        (Some(index), Some(line), Some(kind)) => Some(Cell {
            index,
            line,
            kind: named(
                &[CellKind::Source, CellKind::Output],
                kind,
                CellKind::as_str,
                "cell kind",
            )?,
        }),
        (None, None, None) => None,
        _ => return Err(field("a notebook cell without its line or kind")),
    };
    Ok(Finding {
        rule: rule.clone(),
        severity: p.severity,
        path: p.path,
        line: p.line,
        column: p.column,
        end_column: p.end_column,
        secret: secret.clone(),
        fingerprint: fingerprint.clone(),
        snippet: snippet(&p.snippet, secret),
        origin: origin(p.origin)?,
        exposure: exposure(&p.exposure)?,
        context: context(&p.context)?,
        history,
        encoding: p.encoding.as_deref().map(encoding).transpose()?,
        verification: None,
        place: place_kind(p.location.as_deref())?,
        variable: p.variable,
        binary: p.binary,
        cell,
        partner: None,
        audit: p.repository.map(|r| {
            Box::new(AuditPlace {
                repository: Arc::new(Repository {
                    path: r.path,
                    origin: r.origin,
                }),
                elsewhere: Vec::new(),
            })
        }),
    })
}

fn verification(v: VerificationIn, remediation: &str, derived: &str) -> Result<Verification, ReadError> {
    if v.scopes.is_some() {
        return Err(field(
            "the report holds --blast-radius scope probes, which merge does not read yet: merge reports made without --blast-radius",
        ));
    }
    let status = named(
        &[Status::Live, Status::Invalid, Status::Unknown],
        &v.status,
        Status::as_str,
        "verification status",
    )?;
    let mut out = Verification::new(&v.provider, status, v.reason);
    out.account = v.account.map(|a| Account {
        id: a.id,
        organization: a.organization,
        public_api_key: a.public_api_key,
        test_account: a.test_account,
        prefix_is_public_key: a.key_prefix_is_public_key,
    });
    // A live key's concrete steps replace the rule's remediation; the report shows the one that applied.
    if status == Status::Live && remediation != derived {
        out.remediation = Some(remediation.to_string());
    }
    Ok(out)
}

/// Reads a JSON report. `rules` maps each rule id to its details (the merge's own rules, which the caller
/// has checked are the report's).
pub fn read(bytes: &[u8], rules: &HashMap<String, Arc<RuleInfo>>) -> Result<ReadReport, ReadError> {
    let r: ReportIn = serde_json::from_slice(bytes)?;
    let mut has_secrets = true;
    let mut findings = Vec::with_capacity(r.findings.len());
    for (i, f) in r.findings.into_iter().enumerate() {
        let at = |e: ReadError| field(format!("finding {}: {e}", i + 1));
        let rule = rules.get(&f.own.rule_id).ok_or_else(|| {
            field(format!(
                "finding {}: rule `{}` is not one of this pkhound's rules",
                i + 1,
                f.own.rule_id
            ))
        })?;
        let fingerprint = Fingerprint::from_report(&f.own.fingerprint).ok_or_else(|| {
            field(format!(
                "finding {}: `{}` is not a fingerprint",
                i + 1,
                f.own.fingerprint
            ))
        })?;
        let secret = match &f.own.secret {
            Some(raw) => Secret::new(raw.as_bytes()),
            None => {
                has_secrets = false;
                Secret::from_redacted(&f.own.redacted)
            }
        };
        let mut top = finding(f.place, rule, &secret, &fingerprint).map_err(at)?;
        top.partner = f.own.partner.map(|p| Partner {
            label: p.label,
            secret: match p.secret {
                Some(raw) => Secret::new(raw.as_bytes()),
                None => Secret::from_redacted(&p.redacted),
            },
            line: p.line,
            column: p.column,
        });
        let derived = top.remediation();
        if let Some(v) = f.own.verification {
            top.verification = Some(Arc::new(verification(v, &f.own.remediation, &derived).map_err(at)?));
        }
        if let Some(places) = f.own.repositories {
            // The first entry is this finding's own place; the others are the same secret elsewhere.
            let mut elsewhere = Vec::new();
            for p in places.into_iter().skip(1) {
                let mut other = finding(p, rule, &secret, &fingerprint).map_err(at)?;
                other.verification = top.verification.clone();
                elsewhere.push(other);
            }
            if let Some(a) = top.audit.as_mut() {
                a.elsewhere = elsewhere;
            }
        }
        findings.push(top);
    }
    let errors = r
        .errors
        .into_iter()
        .map(|e| {
            let kind = e.kind.as_deref().map(error_kind).transpose()?.unwrap_or(ErrorKind::Io);
            Ok(ScanError::new(kind, e.path, e.message))
        })
        .collect::<Result<Vec<_>, ReadError>>()?;
    let notices = r
        .notices
        .into_iter()
        .map(|n| Notice {
            path: n.path,
            message: n.message,
        })
        .collect();
    let skipped_files = r
        .skipped
        .into_iter()
        .map(|s| {
            Ok(SkippedFile {
                reason: skip_reason(&s.reason)?,
                path: s.path,
            })
        })
        .collect::<Result<Vec<_>, ReadError>>()?;
    let config = match r.config {
        Some(c) => Some(AppliedConfig {
            format: match c.format.as_str() {
                "pkhound" => "pkhound",
                "gitleaks" => "gitleaks",
                other => return Err(field(format!("unknown config format `{other}`"))),
            },
            path: c.path,
            source: c.source,
            changes: c.changes,
            weakens: c.weakens,
        }),
        None => None,
    };
    let s = r.stats;
    let has_secrets = has_secrets && !findings.is_empty();
    Ok(ReadReport {
        version: r.version,
        fingerprint_key: r.fingerprint_key,
        paths_relative_to: r.paths_relative_to,
        rules: r.rules,
        shard: r.shard,
        outcome: Outcome {
            fail_on: r.outcome.fail_on,
            blocking: r.outcome.blocking,
            incomplete: r.outcome.incomplete,
            exit_code: r.outcome.exit_code,
        },
        config,
        findings,
        errors,
        notices,
        stats: ScanStats {
            files: s.files,
            bytes: s.bytes,
            skipped: s.skipped,
            skipped_binary: s.skipped_binary,
            skipped_large: s.skipped_large,
            skipped_other: s.skipped_other,
            commits: s.commits,
            repositories: s.repositories,
            repositories_failed: s.repositories_failed,
            elapsed_ms: s.elapsed_ms,
            skipped_files,
            ignored_files: r.ignored_scanned,
            state: s.state.map(|t| StateStats {
                commits_known: t.commits_known,
                blobs_skipped: t.blobs_skipped,
                blobs_reread: t.blobs_reread,
                blobs_new: t.blobs_new,
                new_findings: t.new_findings,
            }),
        },
        has_secrets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every error kind a report can hold reads back: a report with an `archive` error once could not
    /// be merged.
    #[test]
    fn every_error_kind_reads_back() {
        for kind in ErrorKind::ALL {
            assert_eq!(error_kind(kind.as_str()).ok(), Some(kind));
        }
        assert!(error_kind("bogus").is_err());
    }
}
