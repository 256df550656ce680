//! Reporters: each a pure function of (findings, errors, stats, options) → bytes. No I/O, clock, env or
//! terminal detection here: color and `--show-secrets` arrive in [`ReportOptions`], the scan's start and
//! end times in [`ReportInput::times`].

pub mod csv;
pub mod gitlab;
pub mod hook;
pub mod json;
pub mod junit;
pub mod read;
pub mod sarif;
pub mod text;
mod verification;

use std::borrow::Cow;

use crate::finding::{Finding, Notice, ScanError, ScanStats, Severity};

/// Everything a reporter renders.
#[derive(Clone, Copy, Debug)]
pub struct ReportInput<'a> {
    pub findings: &'a [Finding],
    pub errors: &'a [ScanError],
    pub notices: &'a [Notice],
    pub stats: &'a ScanStats,
    /// What the report says about the run itself: config applied, fingerprint key, source root.
    pub run: &'a RunInfo,
    /// When the scan ran. Read by the caller (the reporters hold no clock), used only where a format
    /// requires it (GitLab's `scan.start_time`/`end_time`).
    pub times: ScanTimes,
}

impl ReportInput<'_> {
    /// True when `f` sits in a file the ignore files skip, scanned for its name (`.env`, key files): not
    /// tracked by git.
    pub fn git_ignored(&self, f: &Finding) -> bool {
        f.origin == crate::finding::Origin::File && self.stats.ignored_files.binary_search(&f.path).is_ok()
    }

    /// True when something could not be scanned: every format marks such a report incomplete, findings
    /// or not.
    pub fn incomplete(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// Facts about the run that every format states, beside the findings.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    /// The git work tree that holds the scanned paths; `None` outside a repository.
    pub source_root: Option<SourceRoot>,
    /// The id of the key fingerprints were made with (never the key).
    pub fingerprint_key: String,
    /// The configuration applied, if any.
    pub config: Option<AppliedConfig>,
    /// Prepended to a report path in the human formats (text, hook) so that the user can open it from
    /// the current directory, as ripgrep prints it: `src/` for `pkhound scan src`, `../` for `pkhound
    /// scan ..`; empty when paths already are so.
    pub display_prefix: String,
    /// The absolute directory the machine formats' paths are relative to (the scanned directory, the
    /// current directory for several paths or files, the repository root for `--staged` and history).
    pub paths_relative_to: String,
    /// What the run decided: every format says the same.
    pub outcome: Outcome,
    /// The rules the run used, so that `pkhound merge` can refuse reports of other rules.
    pub rules: Option<RuleSet>,
    /// The share of a sharded run (`--shard I/N`) this report holds; `None` for a whole run.
    pub shard: Option<ShardOf>,
}

/// Which share of a sharded run a report holds, so that `pkhound merge` can tell a complete set of shards
/// from one with a share missing (a silent hole otherwise) or given twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardOf {
    /// 0-based.
    pub index: u32,
    pub count: u32,
    /// What was divided: the unique blobs of one repository (`scan --history --shard`), or the
    /// repositories of an audit (`audit --shard`).
    pub of: ShardUnit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShardUnit {
    Blobs,
    Repositories,
}

/// Names the rules a run used: a digest of the resolved rules (built-ins and `--config`), and the
/// `--only`/`--skip` selection.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    /// The first 16 hex digits of SHA-256 over every resolved rule's definition.
    pub digest: String,
    /// How many rules that is.
    pub count: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip: Vec<String>,
}

impl RunInfo {
    /// `path` as the human formats show it: reachable from the current directory. Standard input
    /// (`-`) is shown as is.
    pub fn shown_path<'a>(&self, path: &'a str) -> Cow<'a, str> {
        if self.display_prefix.is_empty() || path == "-" {
            Cow::Borrowed(path)
        } else {
            Cow::Owned(format!("{}{path}", self.display_prefix))
        }
    }

    /// True when `f` is at or above `--fail-on`: it fails the run, in every format alike.
    pub fn blocks(&self, f: &Finding) -> bool {
        f.severity >= self.outcome.fail_on
    }
}

/// How a run ended, decided once and stated by every format: `--fail-on` decides what fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// `--fail-on`: findings at or above it fail the run.
    pub fail_on: Severity,
    /// How many findings are at or above `fail_on`.
    pub blocking: usize,
    /// Something could not be scanned.
    pub incomplete: bool,
    /// The process exit status: 0 clean, 1 blocking findings, 2 holes and nothing blocking.
    pub exit_code: u8,
}

impl Outcome {
    /// The outcome of `findings` under `fail_on`, with `incomplete` holes.
    pub fn of(findings: &[Finding], fail_on: Severity, incomplete: bool) -> Outcome {
        let blocking = findings.iter().filter(|f| f.severity >= fail_on).count();
        let exit_code = if blocking > 0 {
            1
        } else if incomplete {
            2
        } else {
            0
        };
        Outcome {
            fail_on,
            blocking,
            incomplete,
            exit_code,
        }
    }
}

impl Default for Outcome {
    fn default() -> Self {
        Outcome {
            fail_on: Severity::Low,
            blocking: 0,
            incomplete: false,
            exit_code: 0,
        }
    }
}

/// Where SARIF result paths are rooted: GitHub resolves them from the repository root, whatever
/// directory was scanned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRoot {
    /// The root's absolute path, `/`-separated, without a trailing `/`.
    pub path: String,
    /// The directory report paths are relative to, relative to the root (`src/`; empty for the root).
    pub prefix: String,
}

/// A config the scan applied, as every report names it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppliedConfig {
    /// The file (or `REF:.pkhound.toml`).
    pub path: String,
    /// Why it applied: `--config`, `scan root`, `base of --range`, `--config-ref`.
    pub source: String,
    /// `pkhound` or `gitleaks`.
    pub format: &'static str,
    /// Everything it changes, one phrase each (`disables rule generic-password-assignment`).
    pub changes: Vec<String>,
    /// The changes that weaken the built-in rules (disable, replace, lower, broad allowlists): named
    /// loudly on stderr and in every report.
    pub weakens: Vec<String>,
}

/// `s` as it may reach a terminal or a line-oriented log: unchanged when it holds no control or
/// bidirectional-override character; otherwise in double quotes with those characters, `\` and `"`
/// escaped (`"a\x1b[2Jb"`, `"x\ny"`), as git quotes paths. Nothing is lost and nothing reaches the
/// terminal raw: an escape sequence in a file name cannot rewrite the screen, a newline cannot forge a
/// line of hook output.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.starts_with('"') && !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && needs_escape(c) => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    Cow::Owned(out)
}

/// A line of a scanned file as the text report shows it: [`visible`] when it holds a control or
/// bidirectional-override character, else as it is, even when it starts with a quote. A line of JSON
/// (`"api_key": "…"`, a notebook's `"KEY = \"…\"\n",`) reads as written, not quoted and escaped again;
/// the machine formats carry the line itself.
pub fn visible_line(s: &str) -> Cow<'_, str> {
    if s.chars().any(needs_escape) {
        return visible(s);
    }
    Cow::Borrowed(s)
}

/// Control characters (C0, DEL, C1) and the Unicode bidirectional controls ("Trojan Source").
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// When a scan started and ended, in whole seconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanTimes {
    pub started: u64,
    pub finished: u64,
}

/// `2024-03-01T12:00:00` (UTC, no zone suffix: the form GitLab's report schema requires).
pub fn utc_timestamp(unix_secs: u64) -> String {
    // Days-to-civil conversion from Howard Hinnant's `chrono`-compatible date algorithms
    // (http://howardhinnant.github.io/date_algorithms.html#civil_from_days), for unsigned days.
    let days = unix_secs / 86_400;
    let rem = unix_secs % 86_400;
    let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}")
}

/// The secret as this report shows it: raw with `--show-secrets`, redacted otherwise. A two-part
/// credential names its other half beside it, shown the same way: `wJal…EY (with access key id AKIA…LE)`.
fn shown_secret(f: &Finding, opts: &ReportOptions) -> String {
    let show = |s: &crate::finding::Secret| {
        if opts.show_secrets {
            s.expose().to_string()
        } else {
            s.redacted()
        }
    };
    match &f.partner {
        Some(p) => format!("{} (with {} {})", show(&f.secret), p.label, show(&p.secret)),
        None => show(&f.secret),
    }
}

/// The finding's line: masked by construction; with `--show-secrets` this finding's own secret (and no
/// other candidate on the line) is shown in clear. The one place a snippet reveals anything.
fn shown_snippet(f: &Finding, opts: &ReportOptions) -> String {
    if opts.show_secrets {
        f.snippet.reveal(&f.secret)
    } else {
        f.snippet.redacted()
    }
}

/// The findings in report order, whatever order the caller passed: path, position, rule, then the
/// fingerprint and commit so that ties (one key in two commits at the same place) stay deterministic.
fn sorted(findings: &[Finding]) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = findings.iter().collect();
    v.sort_by(|a, b| {
        a.sort_key()
            .cmp(&b.sort_key())
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
            .then_with(|| commit_sha(a).cmp(commit_sha(b)))
    });
    v
}

/// At most `max_chars` characters, the last one `…` when cut (for fields with a length limit).
fn truncate_chars(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max_chars.saturating_sub(1)).collect();
    t.push('…');
    t
}

fn commit_sha(f: &Finding) -> &str {
    f.origin.commit().map_or("", |c| c.sha.as_str())
}

/// How to render.
#[derive(Clone, Copy, Debug)]
pub struct ReportOptions {
    /// Print raw secrets (`--show-secrets`); redacted otherwise.
    pub show_secrets: bool,
    /// ANSI colors (text only).
    pub color: bool,
    /// Text: one line per finding (`path:line:col: severity rule secret`), for grep and editors.
    pub compact: bool,
    /// Text: list each place that could not be scanned (when the report goes to a file; on a terminal
    /// they are on stderr already).
    pub list_errors: bool,
}

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Findings grouped by secret, most urgent first, for people (`--compact`: one line per finding).
    Text,
    /// One JSON document: outcome, findings, errors, skipped files, stats.
    Json,
    /// One JSON finding per line, for streaming into other tools.
    Jsonl,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitLab secret-detection report (schema 15.x), for `artifacts:reports:secret_detection`.
    Gitlab,
    /// JUnit XML: one test case per finding, failing at or above --fail-on, for CI systems that show test results.
    Junit,
    /// CSV with a header row, one finding per row, for spreadsheets.
    Csv,
}

/// Audit findings as one finding per repository (the secret's verification on each), the path prefixed
/// with the repository's.
fn by_repository(findings: &[Finding]) -> Vec<Finding> {
    let mut out = Vec::with_capacity(findings.len());
    for f in findings {
        let Some(audit) = &f.audit else {
            out.push(f.clone());
            continue;
        };
        let mut first = f.clone();
        let elsewhere = first
            .audit
            .as_mut()
            .map(|a| std::mem::take(&mut a.elsewhere))
            .unwrap_or_default();
        debug_assert!(audit.elsewhere.len() == elsewhere.len());
        for mut one in std::iter::once(first).chain(elsewhere) {
            if let Some(a) = &one.audit {
                one.path = format!("{}:{}", a.repository.path, one.path);
            }
            one.verification = f.verification.clone();
            out.push(one);
        }
    }
    out
}

/// A history finding's introducing commit, as the JSON and SARIF reports spell it; every field is absent
/// for findings of other origins.
#[derive(serde::Serialize)]
pub(crate) struct WireCommit<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
}

impl<'a> WireCommit<'a> {
    pub(crate) fn of(f: &'a Finding) -> Self {
        let c = f.origin.commit();
        WireCommit {
            commit: c.map(|c| c.sha.as_str()),
            author: c.map(|c| c.author.as_str()),
            email: c.map(|c| c.email.as_str()),
            date: c.map(|c| c.date.as_str()),
            summary: c.map(|c| c.summary.as_str()),
        }
    }
}

/// A history finding's reach: still in HEAD or not, and the other places that carry the secret.
#[derive(serde::Serialize)]
pub(crate) struct WireHistory<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    in_head: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    occurrence_count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    occurrences: Option<Vec<WireOccurrence<'a>>>,
    /// The earliest commit that carries the secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    first_seen: Option<Option<WireStamp<'a>>>,
    /// The commit of HEAD's first-parent line that removed it (`null` while HEAD holds it, or when that
    /// line never held it: see `on_head_line`).
    #[serde(skip_serializing_if = "Option::is_none")]
    removed_in: Option<Option<WireStamp<'a>>>,
    /// Whether some tree of HEAD's first-parent line ever held it (false: only on another branch, a stash,
    /// a tag or in a commit message).
    #[serde(skip_serializing_if = "Option::is_none")]
    on_head_line: Option<bool>,
    /// The stretches of HEAD's line that hold it; positions count commits from the line's root, so spans
    /// of shard reports can be unioned.
    #[serde(skip_serializing_if = "Option::is_none")]
    head_spans: Option<Vec<WireSpan<'a>>>,
    /// Whole days from first seen to removal, or to the scan.
    #[serde(skip_serializing_if = "Option::is_none")]
    exposed_days: Option<u64>,
    /// Where `exposed_days` ends, Unix seconds: the removal's date, or the time of the scan.
    #[serde(skip_serializing_if = "Option::is_none")]
    exposed_until: Option<i64>,
    /// A remote-tracking ref reaches it: the key left this machine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pushed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remotes: Option<&'a [String]>,
    /// The refs that reach it (at most 10; `ref_count` counts them all).
    #[serde(skip_serializing_if = "Option::is_none")]
    refs: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ref_count: Option<usize>,
    /// With `--state`: no earlier run reported this secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    new: Option<bool>,
}

#[derive(serde::Serialize)]
pub(crate) struct WireStamp<'a> {
    commit: &'a str,
    date: &'a str,
    /// The commit's position in the scan's walk, parents first (the same in every shard).
    #[serde(skip_serializing_if = "is_no_seq")]
    seq: u32,
}

fn is_no_seq(n: &u32) -> bool {
    *n == u32::MAX
}

impl<'a> WireStamp<'a> {
    fn of(c: &'a crate::finding::CommitStamp) -> Self {
        WireStamp {
            commit: &c.sha,
            date: &c.date,
            seq: c.seq,
        }
    }
}

#[derive(serde::Serialize)]
pub(crate) struct WireSpan<'a> {
    added: WireStamp<'a>,
    added_pos: u32,
    removed: Option<WireStamp<'a>>,
    removed_pos: Option<u32>,
}

#[derive(serde::Serialize)]
struct WireOccurrence<'a> {
    commit: &'a str,
    /// The commit's position in the scan's walk, parents first (the same in every shard).
    #[serde(skip_serializing_if = "is_no_seq")]
    seq: u32,
    path: &'a str,
    /// `commit-message` for the commit's message (`path` is then only a label); absent for files.
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'static str>,
    line: usize,
    column: usize,
}

impl<'a> WireHistory<'a> {
    pub(crate) fn of(f: &'a Finding) -> Self {
        let h = f.history.as_ref();
        let t = h.and_then(|h| h.timeline.as_ref());
        WireHistory {
            in_head: h.map(|h| h.in_head),
            occurrence_count: h.map(|h| h.occurrence_count),
            occurrences: h.map(|h| {
                h.occurrences
                    .iter()
                    .map(|o| WireOccurrence {
                        commit: &o.commit,
                        seq: o.seq,
                        path: &o.path,
                        location: (o.place != crate::finding::Place::File).then(|| o.place.as_str()),
                        line: o.line,
                        column: o.column,
                    })
                    .collect()
            }),
            first_seen: t.map(|t| t.first_seen.as_ref().map(WireStamp::of)),
            removed_in: t.map(|t| t.removed_in.as_ref().map(WireStamp::of)),
            on_head_line: t.map(crate::finding::Timeline::on_head_line),
            head_spans: t.map(|t| {
                t.head_spans
                    .iter()
                    .map(|s| WireSpan {
                        added: WireStamp::of(&s.added),
                        added_pos: s.added_pos,
                        removed: s.removed.as_ref().map(|r| WireStamp::of(&r.0)),
                        removed_pos: s.removed.as_ref().map(|r| r.1),
                    })
                    .collect()
            }),
            exposed_days: t.map(|t| t.exposed_days),
            exposed_until: t.map(|t| t.exposed_until),
            pushed: t.map(|t| t.pushed),
            remotes: t.map(|t| t.remotes.as_slice()),
            refs: t.map(|t| t.refs.as_slice()),
            ref_count: t.map(|t| t.ref_count),
            new: h.and_then(|h| h.new),
        }
    }
}

/// The config the scan applied, as the JSON and SARIF reports spell it.
#[derive(serde::Serialize)]
pub(crate) struct WireConfig<'a> {
    path: &'a str,
    source: &'a str,
    format: &'static str,
    changes: &'a [String],
    weakens: &'a [String],
}

impl<'a> WireConfig<'a> {
    pub(crate) fn of(c: &'a AppliedConfig) -> Self {
        WireConfig {
            path: &c.path,
            source: &c.source,
            format: c.format,
            changes: &c.changes,
            weakens: &c.weakens,
        }
    }
}

/// Renders the report in `format`.
pub fn render(format: Format, input: &ReportInput<'_>, opts: &ReportOptions) -> Vec<u8> {
    // JSON lists an audit finding's repositories in it; the formats of one record per place show it once
    // per repository, its path prefixed with the repository (`repos/api:config/prod.env`).
    let flat;
    let expanded;
    let input = if !matches!(format, Format::Json | Format::Jsonl) && input.findings.iter().any(|f| f.audit.is_some()) {
        flat = by_repository(input.findings);
        expanded = ReportInput {
            findings: &flat,
            ..*input
        };
        &expanded
    } else {
        input
    };
    match format {
        Format::Text => text::render(input, opts),
        Format::Json => json::render(input, opts),
        Format::Jsonl => json::render_lines(input, opts),
        Format::Sarif => sarif::render(input, opts),
        Format::Gitlab => gitlab::render(input, opts),
        Format::Junit => junit::render(input, opts),
        Format::Csv => csv::render(input, opts),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::finding::{
        CommitInfo, CommitStamp, Context, ErrorKind, Exposure, HeadSpan, History, Occurrence, Origin, RuleId, RuleInfo,
        Secret, Severity, Snippet,
    };

    const KEY: &str = "pk_a4c123b1612dd272d1371c17149d439536"; // pkhound:allow
    const AWS: &str = "AKIAZ7QW3ERT5YUI2OPA"; // pkhound:allow
    /// The key of the history finding: deleted from the tree, still in a commit.
    const OLD_KEY: &str = "pk_AbCdEf_f0e1d2c3b4a5968778695a4b3c2d1e0f00"; // pkhound:allow
    const SECRETS: [&str; 3] = [KEY, AWS, OLD_KEY];

    fn rule(id: &str, name: &str, severity: Severity, remediation: &str) -> Arc<RuleInfo> {
        Arc::new(RuleInfo {
            id: RuleId::new(id),
            name: name.into(),
            severity,
            description: crate::rules::Text::default(),
            remediation: remediation.into(),
            references: vec![crate::rules::Text::from(format!("https://example.test/{id}"))].into(),
            tags: Arc::default(),
            keywords: Arc::default(),
        })
    }

    fn finding(rule: &Arc<RuleInfo>, path: &str, line: usize, column: usize, secret: &str, snippet: &str) -> Finding {
        let secret = Secret::new(secret.as_bytes());
        let exposure = Exposure::of_path(path);
        // The fixture's line, with this finding's own secret as a span of its own (as `locate` builds it).
        let snippet = match snippet.split_once(&secret.redacted()) {
            Some((before, after)) => Snippet::with_own(before, &secret, after),
            None => Snippet::from_clear(snippet),
        };
        Finding {
            rule: rule.clone(),
            severity: if exposure == Exposure::ClientSide {
                Severity::Critical
            } else {
                rule.severity
            },
            path: path.to_string(),
            line,
            column,
            end_column: column + secret.expose().chars().count(),
            fingerprint: secret.fingerprint(&rule.id),
            snippet,
            secret,
            origin: Origin::File,
            exposure,
            context: Context::of_path(path),
            history: None,
            encoding: None,
            verification: None,
            place: crate::finding::Place::File,
            variable: None,
            binary: false,
            cell: None,
            audit: None,
            partner: None,
        }
    }

    /// A fixed scan: two Klaviyo keys (one in a browser bundle), an AWS key id, a Klaviyo key found in
    /// history (deleted from HEAD), an error and a notice.
    fn fixture() -> (Vec<Finding>, Vec<ScanError>, Vec<Notice>, ScanStats) {
        let kl = rule(
            "klaviyo-private-key",
            "Klaviyo private API key",
            Severity::Critical,
            "Rotate the key in Klaviyo, then revoke this one.",
        );
        let aws = rule(
            "aws-access-key-id",
            "AWS access key ID",
            Severity::High,
            "Deactivate the key in IAM.",
        );
        let findings = vec![
            finding(&kl, ".env", 3, 25, KEY, "KLAVIYO_PRIVATE_API_KEY=pk_a4…36"),
            finding(&aws, "deploy/aws.cfg", 7, 19, AWS, "aws_access_key_id = AKIAZ…A"),
            finding(
                &kl,
                "web/public/app.min.js",
                1,
                37,
                KEY,
                "…k:\"pk_a4…36\"};window.kl=e…",
            ),
            {
                let mut f = finding(&kl, "config/old settings.env", 2, 9, OLD_KEY, "api_key=pk_Ab…00");
                let removed = CommitStamp {
                    sha: "9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c".into(),
                    date: "2025-04-16T09:30:00+00:00".into(),
                    time: 1_744_795_800,
                    seq: 57,
                };
                f.origin = Origin::Commit(Arc::new(CommitInfo {
                    sha: "3f2a9c0d1e2b3a4f5061728394a5b6c7d8e9f0a1".into(),
                    author: "Dana Developer".into(),
                    email: "dana@example.test".into(),
                    date: "2024-03-01T12:00:00+01:00".into(),
                    summary: "add staging settings".into(),
                }));
                f.history = Some(History {
                    in_head: false,
                    occurrence_count: 2,
                    occurrences: vec![Occurrence {
                        commit: "9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c".into(),
                        path: "config/old settings.env".into(),
                        seq: 57,
                        place: crate::finding::Place::File,
                        line: 4,
                        column: 9,
                    }],
                    timeline: Some(crate::finding::Timeline {
                        first_seen: Some(CommitStamp {
                            sha: "3f2a9c0d1e2b3a4f5061728394a5b6c7d8e9f0a1".into(),
                            date: "2024-03-01T12:00:00+01:00".into(),
                            time: 1_709_290_800,
                            seq: 41,
                        }),
                        removed_in: Some(removed.clone()),
                        head_spans: vec![HeadSpan {
                            added: CommitStamp {
                                sha: "3f2a9c0d1e2b3a4f5061728394a5b6c7d8e9f0a1".into(),
                                date: "2024-03-01T12:00:00+01:00".into(),
                                time: 1_709_290_800,
                                seq: 41,
                            },
                            added_pos: 41,
                            removed: Some((removed, 57)),
                        }],
                        exposed_days: 412,
                        exposed_until: 1_744_795_800,
                        pushed: true,
                        remotes: vec!["origin".into()],
                        refs: vec!["refs/heads/main".into(), "refs/remotes/origin/main".into()],
                        ref_count: 2,
                    }),
                    new: None,
                });
                f
            },
        ];
        let errors = vec![ScanError::new(ErrorKind::Io, "secrets/locked.env", "permission denied")];
        let notices = vec![Notice {
            path: "dump.sql".into(),
            message: "skipped: 2000 bytes is over --max-file-size (1024 bytes)".into(),
        }];
        let stats = ScanStats {
            files: 42,
            bytes: 123_456,
            skipped: 3,
            skipped_binary: 1,
            skipped_large: 1,
            skipped_other: 1,
            commits: 0,
            elapsed_ms: 17,
            ..ScanStats::default()
        };
        (findings, errors, notices, stats)
    }

    /// The run of the fixture scan: in a repository, scanned from its `app/` directory, with a config that
    /// adds a rule and weakens another.
    fn fixture_run() -> RunInfo {
        RunInfo {
            source_root: Some(SourceRoot {
                path: "/work/repo".into(),
                prefix: "app/".into(),
            }),
            fingerprint_key: "0badc0de".into(),
            config: Some(AppliedConfig {
                path: ".pkhound.toml".into(),
                source: "scan root".into(),
                format: "pkhound",
                changes: vec![
                    "adds rule `acme-token`".into(),
                    "disables built-in rule `generic-password-assignment`".into(),
                ],
                weakens: vec!["disables built-in rule `generic-password-assignment`".into()],
            }),
            display_prefix: String::new(),
            paths_relative_to: "/work/repo/app".into(),
            outcome: Outcome {
                fail_on: Severity::High,
                blocking: 3,
                incomplete: true,
                exit_code: 1,
            },
            rules: None,
            shard: None,
        }
    }

    fn render_fixture(format: Format, show_secrets: bool) -> String {
        let (findings, errors, notices, stats) = fixture();
        let input = ReportInput {
            findings: &findings,
            errors: &errors,
            notices: &notices,
            stats: &stats,
            run: &fixture_run(),
            times: ScanTimes {
                started: 1_709_290_800,
                finished: 1_709_290_817,
            },
        };
        let opts = ReportOptions {
            show_secrets,
            color: false,
            compact: false,
            list_errors: true,
        };
        String::from_utf8(render(format, &input, &opts)).expect("reports are UTF-8")
    }

    const ALL: [Format; 7] = [
        Format::Text,
        Format::Json,
        Format::Jsonl,
        Format::Sarif,
        Format::Gitlab,
        Format::Junit,
        Format::Csv,
    ];

    fn assert_no_secret(out: &str) {
        for s in SECRETS {
            assert!(!out.contains(s), "a raw secret leaked: {}", Secret::new(s.as_bytes()));
        }
    }

    /// A finding in a binary file (a key store) adds a way forward the `pkhound:allow` comment cannot give;
    /// the message for text files alone does not carry it.
    #[test]
    fn hook_message_says_what_to_do_with_a_binary_file() {
        let (mut findings, ..) = fixture();
        let opts = ReportOptions {
            show_secrets: false,
            color: false,
            compact: false,
            list_errors: false,
        };
        let run = RunInfo::default();
        let text_only = String::from_utf8(hook::render(&findings, &run, &opts)).expect("UTF-8");
        assert!(!text_only.contains(".pkhoundignore"), "{text_only}");
        findings[0].binary = true;
        let out = String::from_utf8(hook::render(&findings, &run, &opts)).expect("UTF-8");
        assert_no_secret(&out);
        let hint = out
            .lines()
            .find(|l| l.contains("binary file"))
            .unwrap_or_else(|| panic!("no hint for the binary file:\n{out}"));
        assert!(
            hint.contains("git rm --cached") && hint.contains(".pkhoundignore"),
            "{hint}"
        );
        let allow_at = out
            .lines()
            .position(|l| l.contains("pkhound:allow"))
            .expect("the allow option");
        assert_eq!(out.lines().nth(allow_at + 1), Some(hint), "{out}");
    }

    #[test]
    fn text_snapshot() {
        let out = render_fixture(Format::Text, false);
        assert_no_secret(&out);
        insta::assert_snapshot!(out);
    }

    /// The pre-commit message for the fixture's findings: header, one line per finding, options once.
    #[test]
    fn hook_snapshot() {
        let (findings, ..) = fixture();
        let opts = ReportOptions {
            show_secrets: false,
            color: false,
            compact: false,
            list_errors: false,
        };
        let run = RunInfo {
            display_prefix: "../".into(),
            ..RunInfo::default()
        };
        let out = String::from_utf8(hook::render(&findings, &run, &opts)).expect("UTF-8");
        assert_no_secret(&out);
        assert!(
            out.starts_with("pkhound blocked this commit: 3 secrets in 4 places\n"),
            "{out}"
        );
        insta::assert_snapshot!(out);
    }

    #[test]
    fn compact_text_snapshot() {
        let (findings, errors, notices, stats) = fixture();
        let input = ReportInput {
            findings: &findings,
            errors: &errors,
            notices: &notices,
            stats: &stats,
            run: &fixture_run(),
            times: ScanTimes::default(),
        };
        let opts = ReportOptions {
            show_secrets: false,
            color: false,
            compact: true,
            list_errors: false,
        };
        let out = String::from_utf8(render(Format::Text, &input, &opts)).expect("UTF-8");
        assert_no_secret(&out);
        assert_eq!(out.lines().count(), 4);
        insta::assert_snapshot!(out);
    }

    #[test]
    fn json_snapshot() {
        let out = render_fixture(Format::Json, false);
        let parsed: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(parsed["findings"].as_array().map(Vec::len), Some(4));
        assert_no_secret(&out);
        insta::assert_snapshot!(out);
    }

    #[test]
    fn jsonl_snapshot() {
        let out = render_fixture(Format::Jsonl, false);
        for line in out.lines() {
            serde_json::from_str::<serde_json::Value>(line).expect("each line is JSON");
        }
        insta::assert_snapshot!(out);
    }

    /// A history finding: a key that came in with a commit, was deleted, and sits in three places.
    fn history_fixture() -> Vec<Finding> {
        let kl = rule(
            "klaviyo-private-key",
            "Klaviyo private API key",
            Severity::Critical,
            "Rotate the key in Klaviyo, then revoke this one.",
        );
        let mut f = finding(&kl, "config/.env", 2, 25, KEY, "KLAVIYO_PRIVATE_API_KEY=pk_a4…36");
        f.origin = Origin::Commit(Arc::new(CommitInfo {
            sha: "1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5".into(),
            author: "Bob Builder".into(),
            email: "bob@example.test".into(),
            date: "2024-03-01T12:00:02+01:00".into(),
            summary: "add config with pk_a4…36".into(),
        }));
        f.history = Some(History {
            in_head: false,
            occurrence_count: 6,
            occurrences: (0..5)
                .map(|i| Occurrence {
                    commit: format!("{i}f00000000000000000000000000000000000000"),
                    path: format!("deploy/{i}.env"),
                    seq: 100 + i as u32,
                    place: crate::finding::Place::File,
                    line: i + 1,
                    column: 5,
                })
                .collect(),
            timeline: None,
            new: None,
        });
        vec![f]
    }

    #[test]
    fn history_snapshots() {
        let findings = history_fixture();
        let stats = ScanStats {
            files: 900,
            bytes: 4_000_000,
            commits: 120,
            elapsed_ms: 250,
            ..ScanStats::default()
        };
        let input = ReportInput {
            findings: &findings,
            errors: &[],
            notices: &[],
            stats: &stats,
            run: &RunInfo::default(),
            times: ScanTimes::default(),
        };
        let opts = ReportOptions {
            show_secrets: false,
            color: false,
            compact: false,
            list_errors: true,
        };
        let text = String::from_utf8(render(Format::Text, &input, &opts)).expect("UTF-8");
        let json = String::from_utf8(render(Format::Json, &input, &opts)).expect("UTF-8");
        for out in [&text, &json] {
            assert!(!out.contains(KEY));
        }
        serde_json::from_str::<serde_json::Value>(&json).expect("valid JSON");
        insta::assert_snapshot!("history_text", text);
        insta::assert_snapshot!("history_json", json);
    }

    #[test]
    fn sarif_snapshot() {
        let out = render_fixture(Format::Sarif, false);
        assert_no_secret(&out);
        let log: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        let rules: Vec<&str> = run["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .map(|r| r["id"].as_str().expect("rule id"))
            .collect();
        assert_eq!(rules, ["aws-access-key-id", "klaviyo-private-key"]);
        let results = run["results"].as_array().expect("results");
        assert_eq!(results.len(), 4);
        for r in results {
            let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
            assert_eq!(r["ruleId"], rules[idx]);
            let fp = &r["partialFingerprints"];
            assert!(fp["primaryLocationLineHash"].is_string() && fp["pkhound/v2"].is_string());
        }
        let old = results
            .iter()
            .find(|r| r["properties"]["origin"] == "commit")
            .expect("the history finding");
        let uri = &old["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
        // Relative to the repository root: the fixture scanned its `app/` directory.
        assert_eq!(uri, "app/config/old%20settings.env");
        assert_eq!(run["originalUriBaseIds"]["%SRCROOT%"]["uri"], "file:///work/repo/");
        assert_eq!(run["properties"]["incomplete"], true);
        assert_eq!(run["properties"]["fingerprintKey"], "0badc0de");
        assert_eq!(
            run["properties"]["config"]["weakens"][0],
            "disables built-in rule `generic-password-assignment`"
        );
        assert_eq!(old["properties"]["in_head"], false);
        assert_eq!(old["properties"]["author"], "Dana Developer");
        let inv = &run["invocations"][0];
        assert_eq!(inv["executionSuccessful"], false);
        assert_eq!(inv["toolExecutionNotifications"][0]["level"], "error");
        assert_eq!(
            run["tool"]["driver"]["rules"][1]["properties"]["security-severity"],
            "9.5"
        );
        insta::assert_snapshot!(out);
    }

    #[test]
    fn sarif_fingerprints_survive_line_moves_and_never_hold_the_secret() {
        let (mut findings, errors, notices, stats) = fixture();
        let fps = |findings: &[Finding]| -> Vec<serde_json::Value> {
            let input = ReportInput {
                findings,
                errors: &errors,
                notices: &notices,
                stats: &stats,
                run: &RunInfo::default(),
                times: ScanTimes::default(),
            };
            let opts = ReportOptions {
                show_secrets: true,
                color: false,
                compact: false,
                list_errors: true,
            };
            let log: serde_json::Value = serde_json::from_slice(&render(Format::Sarif, &input, &opts)).expect("JSON");
            log["runs"][0]["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(|r| r["partialFingerprints"].clone())
                .collect()
        };
        let before = fps(&findings);
        for f in &mut findings {
            f.line += 10;
        }
        assert_eq!(before, fps(&findings));
        let text = serde_json::to_string(&before).expect("JSON");
        assert_no_secret(&text);
    }

    #[test]
    fn gitlab_snapshot() {
        let out = render_fixture(Format::Gitlab, false);
        assert_no_secret(&out);
        let report: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(report["scan"]["type"], "secret_detection");
        assert_eq!(report["scan"]["start_time"], "2024-03-01T11:00:00");
        assert_eq!(report["scan"]["end_time"], "2024-03-01T11:00:17");
        let vulns = report["vulnerabilities"].as_array().expect("vulnerabilities");
        assert_eq!(vulns.len(), 4);
        for v in vulns {
            assert!(["Critical", "High", "Medium", "Low", "Info", "Unknown"]
                .contains(&v["severity"].as_str().expect("severity")));
            assert!(v["location"]["commit"]["sha"].is_string());
            assert!(!v["identifiers"].as_array().expect("identifiers").is_empty());
            assert_eq!(v["id"].as_str().expect("id").len(), 36);
        }
        insta::assert_snapshot!(out);
    }

    #[test]
    fn junit_snapshot() {
        let out = render_fixture(Format::Junit, false);
        assert_no_secret(&out);
        let doc = roxmltree::Document::parse(&out).expect("well-formed XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        // 4 findings and the weakening config.
        assert_eq!(root.attribute("failures"), Some("5"));
        assert_eq!(root.attribute("errors"), Some("1"));
        let failures = doc.descendants().filter(|n| n.has_tag_name("failure")).count();
        assert_eq!(failures, 5);
        insta::assert_snapshot!(out);
    }

    #[test]
    fn csv_snapshot() {
        let out = render_fixture(Format::Csv, false);
        assert_no_secret(&out);
        let mut reader = ::csv::Reader::from_reader(out.as_bytes());
        let header = reader.headers().expect("a header row").clone();
        assert_eq!(header.get(0), Some("severity"));
        let rows: Vec<::csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("valid CSV");
        // 4 findings, then the error (incomplete scan) and the config.
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[4].get(1), Some("pkhound-incomplete"));
        assert_eq!(rows[5].get(0), Some("warning"));
        let secret = header.iter().position(|h| h == "secret").expect("secret column");
        assert_eq!(rows[0].get(secret), Some("pk_a4…36"));
        insta::assert_snapshot!(out);
    }

    #[test]
    fn show_secrets_puts_the_secret_in_every_format() {
        for format in ALL {
            let out = render_fixture(format, true);
            assert!(out.contains(KEY) && out.contains(AWS), "{format:?}");
        }
    }

    #[test]
    fn no_format_holds_a_raw_secret_by_default() {
        for format in ALL {
            assert_no_secret(&render_fixture(format, false));
        }
    }

    #[test]
    fn hostile_text_stays_well_formed() {
        let (mut findings, errors, notices, stats) = fixture();
        findings[0].snippet = Snippet::from_clear("=cmd|' /C calc'!A0 \u{1b}[31m</failure>]]>\u{0}\"\r\n,");
        findings[0].path = "@evil \"dir\"/<x>.env".into();
        let input = ReportInput {
            findings: &findings,
            errors: &errors,
            notices: &notices,
            stats: &stats,
            run: &RunInfo::default(),
            times: ScanTimes::default(),
        };
        let opts = ReportOptions {
            show_secrets: false,
            color: false,
            compact: false,
            list_errors: true,
        };
        let junit = String::from_utf8(render(Format::Junit, &input, &opts)).expect("UTF-8");
        roxmltree::Document::parse(&junit).expect("well-formed XML");
        let csv = render(Format::Csv, &input, &opts);
        let rows: Vec<::csv::StringRecord> = ::csv::Reader::from_reader(csv.as_slice())
            .records()
            .collect::<Result<_, _>>()
            .expect("valid CSV");
        // Control characters never reach the cell raw (a snippet holds none: they became spaces when it
        // was built), and the cell is not a formula.
        assert!(rows
            .iter()
            .any(|r| r.iter().any(|c| c.contains("=cmd") && !c.starts_with('='))));
        assert!(rows.iter().any(|r| r.iter().any(|c| c.starts_with("'@evil"))));
        assert!(!csv.contains(&0x1b));
        let junit_text = junit.replace("&#10;", "").replace("&#13;", "");
        assert!(!junit_text.contains('\u{FFFD}'), "nothing is lost: {junit}");
        for format in [Format::Sarif, Format::Gitlab] {
            serde_json::from_slice::<serde_json::Value>(&render(format, &input, &opts)).expect("valid JSON");
        }
    }

    /// A file name or line with control characters never reaches a terminal raw, and nothing is lost.
    // See: issue 12 ("Control characters in file names and snippets reach the terminal raw").
    #[test]
    fn control_characters_are_escaped_for_terminals() {
        assert_eq!(visible("src/app.py"), "src/app.py");
        assert_eq!(visible("a\u{1b}[2Jb"), "\"a\\x1b[2Jb\"");
        assert_eq!(visible("x\ny: leaked"), "\"x\\ny: leaked\"");
        assert_eq!(visible("q\"\\\u{7f}\u{202e}"), "\"q\\\"\\\\\\x7f\\u{202e}\"");
        assert_eq!(visible("\"quoted\""), "\"\\\"quoted\\\"\"");
        // A file's line is escaped only for what a terminal would act on: JSON reads as written.
        assert_eq!(visible_line("\"api_key\": \"sk…\","), "\"api_key\": \"sk…\",");
        assert_eq!(visible_line("\"KEY = \\\"pk…\\\"\\n\","), "\"KEY = \\\"pk…\\\"\\n\",");
        assert_eq!(visible_line("\"a\u{1b}[2J\""), "\"\\\"a\\x1b[2J\\\"\"");

        let (mut findings, errors, notices, stats) = fixture();
        findings[0].path = "x\n.env:1: klaviyo-private-key (critical) forged\u{1b}[2J".into();
        findings[0].snippet = Snippet::from_clear("k=\u{1b}]0;title\u{7}");
        let input = ReportInput {
            findings: &findings,
            errors: &errors,
            notices: &notices,
            stats: &stats,
            run: &RunInfo::default(),
            times: ScanTimes::default(),
        };
        let opts = ReportOptions {
            show_secrets: false,
            color: false,
            compact: false,
            list_errors: true,
        };
        let text = String::from_utf8(render(Format::Text, &input, &opts)).expect("UTF-8");
        let hook = String::from_utf8(hook::render(&findings[..1], &RunInfo::default(), &opts)).expect("UTF-8");
        for out in [&text, &hook] {
            assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out}");
            assert!(out.contains("\\x1b[2J"), "{out}");
        }
        let lines: Vec<&str> = hook.lines().filter(|l| l.contains("klaviyo-private-key")).collect();
        assert_eq!(lines.len(), 1, "{hook}");
    }

    /// Inverse of [`visible`], for the property below.
    fn unescape(v: &str) -> String {
        let Some(inner) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
            return v.to_string();
        };
        let mut out = String::new();
        let mut it = inner.chars();
        while let Some(c) = it.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match it.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('x') => {
                    let hex: String = it.by_ref().take(2).collect();
                    out.push(char::from(u8::from_str_radix(&hex, 16).expect("hex")));
                }
                Some('u') => {
                    let hex: String = it.by_ref().skip(1).take_while(|&c| c != '}').collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).expect("hex")).expect("char"));
                }
                Some(other) => out.push(other),
                None => {}
            }
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Whatever a path or line holds, the shown form has no control character and loses nothing.
        #[test]
        fn visible_is_lossless_and_inert(s in "(\\PC|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{202a}-\\u{202e}\"\\\\]){0,40}") {
            let v = visible(&s);
            proptest::prop_assert!(!v.chars().any(needs_escape), "{:?}", v);
            proptest::prop_assert_eq!(unescape(&v), s);
        }
    }

    #[test]
    fn timestamps_are_utc() {
        assert_eq!(utc_timestamp(0), "1970-01-01T00:00:00");
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(utc_timestamp(1_709_290_817), "2024-03-01T11:00:17");
        assert_eq!(utc_timestamp(4_102_444_799), "2099-12-31T23:59:59");
    }
}
