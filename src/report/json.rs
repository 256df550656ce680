//! JSON and JSON Lines. The wire structs below are the contract other tools read: fields may be added,
//! never renamed. They are kept apart from the domain types so the shape changes only on purpose.

use serde::Serialize;

use super::verification::{self, WireVerification};
use super::{ReportInput, ReportOptions, WireCommit, WireConfig, WireHistory};
use crate::finding::Finding;

#[derive(Serialize)]
struct Report<'a> {
    version: &'static str,
    /// Something could not be scanned (`errors` says what): a finding there would be missing.
    incomplete: bool,
    /// The id of the key fingerprints were made with.
    fingerprint_key: &'a str,
    /// The absolute directory every `path` is relative to.
    paths_relative_to: &'a str,
    /// The rules the run used (digest and selection): `pkhound merge` refuses reports of other rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    rules: Option<&'a super::RuleSet>,
    /// The share of a sharded run this report holds (`--shard I/N`): `pkhound merge` checks that every
    /// share is there exactly once.
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<&'a super::ShardOf>,
    /// What the run decided, as the exit status says it: consumers need not recompute it.
    outcome: WireOutcome,
    /// The config applied, if any: where from, what it changes, what it weakens.
    #[serde(skip_serializing_if = "Option::is_none")]
    config: Option<WireConfig<'a>>,
    findings: Vec<WireFinding<'a>>,
    errors: Vec<WireProblem<'a>>,
    notices: Vec<WireProblem<'a>>,
    /// Each file passed over on purpose, and why.
    skipped: Vec<WireSkipped<'a>>,
    /// Files the ignore files skip that were scanned for their name (`.env`, key files …).
    ignored_scanned: &'a [String],
    stats: WireStats,
}

#[derive(Serialize)]
struct WireOutcome {
    /// `--fail-on`: findings at or above it fail the run.
    fail_on: &'static str,
    /// How many findings are at or above `fail_on`.
    blocking: usize,
    incomplete: bool,
    /// 0 clean, 1 blocking findings, 2 something could not be scanned and nothing blocks.
    exit_code: u8,
}

#[derive(Serialize)]
struct WireSkipped<'a> {
    path: &'a str,
    reason: &'static str,
}

#[derive(Serialize)]
struct WireFinding<'a> {
    rule_id: &'a str,
    rule_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
    redacted: String,
    fingerprint: &'a str,
    #[serde(flatten)]
    place: WirePlace<'a>,
    /// In a file the ignore files skip (scanned for its name: `.env`, key files): not tracked by git.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    git_ignored: bool,
    /// What the exposure means (client-side secrets).
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verification: Option<WireVerification<'a>>,
    /// The other half of a two-part credential (an AWS secret key's access key id), redacted likewise.
    #[serde(skip_serializing_if = "Option::is_none")]
    partner: Option<WirePartner<'a>>,
    remediation: String,
    references: &'a [crate::rules::Text],
    /// In an audit: the repository of this place (`path`, `origin` with credentials redacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    repository: Option<WireRepository<'a>>,
    /// In an audit: every repository holding the secret, this finding's first, each with its place and
    /// history.
    #[serde(skip_serializing_if = "Option::is_none")]
    repositories: Option<Vec<WireSighting<'a>>>,
}

/// Where a secret was found and what that place means: a finding's, and each of an audit finding's
/// repositories'.
#[derive(Serialize)]
struct WirePlace<'a> {
    severity: &'static str,
    path: &'a str,
    line: usize,
    column: usize,
    end_column: usize,
    origin: WireOrigin<'a>,
    #[serde(flatten)]
    history: WireHistory<'a>,
    exposure: &'static str,
    context: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<&'static str>,
    /// `commit-message` for a secret in a commit message (`path` is then only a label); absent for files.
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'static str>,
    /// The variable the secret is assigned to, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    variable: Option<&'a str>,
    /// In a notebook: 1-based cell, line within it, `source` or `output`.
    #[serde(skip_serializing_if = "Option::is_none")]
    cell: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cell_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cell_kind: Option<&'static str>,
    /// Found in a binary file scanned as bytes.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    binary: bool,
    snippet: String,
}

impl<'a> WirePlace<'a> {
    fn of(f: &'a Finding, opts: &ReportOptions) -> Self {
        WirePlace {
            severity: f.severity.as_str(),
            path: &f.path,
            line: f.line,
            column: f.column,
            end_column: f.end_column,
            origin: WireOrigin {
                kind: f.origin.kind(),
                commit: WireCommit::of(f),
            },
            history: WireHistory::of(f),
            exposure: f.exposure.as_str(),
            context: f.context.as_str(),
            encoding: f.encoding.map(crate::finding::Encoding::as_str),
            location: (f.place != crate::finding::Place::File).then(|| f.place.as_str()),
            variable: f.variable.as_deref(),
            cell: f.cell.map(|c| c.index),
            cell_line: f.cell.map(|c| c.line),
            cell_kind: f.cell.map(|c| c.kind.as_str()),
            binary: f.binary,
            snippet: super::shown_snippet(f, opts),
        }
    }
}

#[derive(Serialize)]
struct WireRepository<'a> {
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    origin: Option<&'a str>,
}

impl<'a> WireRepository<'a> {
    fn of(f: &'a Finding) -> Option<Self> {
        f.audit.as_ref().map(|a| WireRepository {
            path: &a.repository.path,
            origin: a.repository.origin.as_deref(),
        })
    }
}

/// One repository's place of an audit finding's secret: what differs from one repository to another.
#[derive(Serialize)]
struct WireSighting<'a> {
    repository: WireRepository<'a>,
    #[serde(flatten)]
    place: WirePlace<'a>,
}

fn sighting<'a>(f: &'a Finding, opts: &ReportOptions) -> Option<WireSighting<'a>> {
    Some(WireSighting {
        repository: WireRepository::of(f)?,
        place: WirePlace::of(f, opts),
    })
}

#[derive(Serialize)]
struct WirePartner<'a> {
    label: &'a str,
    line: usize,
    column: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
    redacted: String,
}

#[derive(Serialize)]
struct WireOrigin<'a> {
    kind: &'static str,
    #[serde(flatten)]
    commit: WireCommit<'a>,
}

#[derive(Serialize)]
struct WireProblem<'a> {
    /// What kind of input an error concerns (`io`, `object`, `ref` …); notices have none.
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    path: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
struct WireStats {
    files: u64,
    bytes: u64,
    skipped: u64,
    skipped_binary: u64,
    skipped_large: u64,
    skipped_other: u64,
    #[serde(skip_serializing_if = "is_zero")]
    commits: u64,
    /// Repositories an audit scanned, and could not (absent outside `pkhound audit`).
    #[serde(skip_serializing_if = "is_zero")]
    repositories: u64,
    #[serde(skip_serializing_if = "is_zero")]
    repositories_failed: u64,
    errors: usize,
    elapsed_ms: u64,
    /// With `--state`: what the state spared and what was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<WireStateStats>,
}

#[derive(Serialize)]
struct WireStateStats {
    /// Commits earlier runs compared: not compared again.
    commits_known: u64,
    /// Blobs earlier runs read and found clean: not read.
    blobs_skipped: u64,
    /// Blobs earlier runs found a secret in: read again (the state keeps no secret).
    blobs_reread: u64,
    /// Blobs no earlier run read.
    blobs_new: u64,
    /// Findings no earlier run reported (`new: true`).
    new_findings: u64,
}

fn wire<'a>(f: &'a Finding, input: &ReportInput<'_>, opts: &ReportOptions) -> WireFinding<'a> {
    WireFinding {
        rule_id: f.rule.id.as_str(),
        rule_name: &f.rule.name,
        secret: opts.show_secrets.then(|| f.secret.expose()),
        redacted: f.secret.redacted(),
        fingerprint: f.fingerprint.as_str(),
        place: WirePlace::of(f, opts),
        git_ignored: input.git_ignored(f),
        message: f.exposure_note(),
        verification: WireVerification::of(f),
        partner: f.partner.as_ref().map(|p| WirePartner {
            label: &p.label,
            line: p.line,
            column: p.column,
            secret: opts.show_secrets.then(|| p.secret.expose()),
            redacted: p.secret.redacted(),
        }),
        remediation: verification::remediation(f).into_owned(),
        references: &f.rule.references,
        repository: WireRepository::of(f),
        repositories: f.audit.as_ref().map(|a| {
            std::iter::once(f)
                .chain(a.elsewhere.iter())
                .filter_map(|s| sighting(s, opts))
                .collect()
        }),
    }
}

/// The whole report as one pretty-printed JSON document.
pub fn render(input: &ReportInput<'_>, opts: &ReportOptions) -> Vec<u8> {
    let report = Report {
        version: env!("CARGO_PKG_VERSION"),
        incomplete: input.incomplete(),
        fingerprint_key: &input.run.fingerprint_key,
        paths_relative_to: &input.run.paths_relative_to,
        rules: input.run.rules.as_ref(),
        shard: input.run.shard.as_ref(),
        outcome: WireOutcome {
            fail_on: input.run.outcome.fail_on.as_str(),
            blocking: input.run.outcome.blocking,
            incomplete: input.run.outcome.incomplete,
            exit_code: input.run.outcome.exit_code,
        },
        config: input.run.config.as_ref().map(WireConfig::of),
        findings: input.findings.iter().map(|f| wire(f, input, opts)).collect(),
        errors: input
            .errors
            .iter()
            .map(|e| WireProblem {
                kind: Some(e.kind.as_str()),
                path: &e.path,
                message: &e.message,
            })
            .collect(),
        notices: input
            .notices
            .iter()
            .map(|n| WireProblem {
                kind: None,
                path: &n.path,
                message: &n.message,
            })
            .collect(),
        skipped: input
            .stats
            .skipped_files
            .iter()
            .map(|s| WireSkipped {
                path: &s.path,
                reason: s.reason,
            })
            .collect(),
        ignored_scanned: &input.stats.ignored_files,
        stats: WireStats {
            files: input.stats.files,
            bytes: input.stats.bytes,
            skipped: input.stats.skipped,
            skipped_binary: input.stats.skipped_binary,
            skipped_large: input.stats.skipped_large,
            skipped_other: input.stats.skipped_other,
            commits: input.stats.commits,
            repositories: input.stats.repositories,
            repositories_failed: input.stats.repositories_failed,
            errors: input.errors.len(),
            elapsed_ms: input.stats.elapsed_ms,
            state: input.stats.state.map(|s| WireStateStats {
                commits_known: s.commits_known,
                blobs_skipped: s.blobs_skipped,
                blobs_reread: s.blobs_reread,
                blobs_new: s.blobs_new,
                new_findings: s.new_findings,
            }),
        },
    };
    let mut out = serde_json::to_vec_pretty(&report).expect("report wire types always serialize");
    out.push(b'\n');
    out
}

/// One finding per line.
pub fn render_lines(input: &ReportInput<'_>, opts: &ReportOptions) -> Vec<u8> {
    let mut out = Vec::new();
    for f in input.findings {
        serde_json::to_writer(&mut out, &wire(f, input, opts)).expect("finding wire type always serializes");
        out.push(b'\n');
    }
    out
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
