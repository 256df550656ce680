//! SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
//!
//! One run; `tool.driver.rules` lists every rule that produced a result, sorted by id, and each result
//! points at its rule by id and index. Locations are URI references under `%SRCROOT%`, the root of the
//! git work tree that holds the scanned paths (GitHub resolves result paths from the repository root,
//! whatever directory was scanned), or the scanned directory outside a repository. Fingerprints come from [`Finding::fingerprint`] (rule id + secret, hashed), so an alert
//! keeps its identity when the line moves. The raw secret appears only with `--show-secrets`.
//!
//! Hand-written wire structs rather than a generated SARIF crate: the subset we emit is small, the field
//! names are checked by `validate-sarif` in CI, and the shape changes only on purpose.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::{
    shown_secret, shown_snippet, sorted, truncate_chars, ReportInput, ReportOptions, SourceRoot, WireCommit,
    WireConfig, WireHistory,
};
use crate::finding::{Finding, HeadStatus, RuleInfo, Severity};

const SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";
/// GitHub's limit on `fullDescription.text`.
const MAX_DESCRIPTION: usize = 1024;
/// GitHub's limit on `properties.tags`.
const MAX_TAGS: usize = 20;

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    invocations: [Invocation; 1],
    original_uri_base_ids: BTreeMap<&'static str, BaseUri>,
    /// pkhound counts columns in Unicode scalar values, not SARIF's default UTF-16 code units.
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
    properties: RunProperties<'a>,
}

#[derive(Serialize)]
struct BaseUri {
    /// The root as a `file:` URI ending in `/`; absent outside a repository (the scanned directory).
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<String>,
    description: Text,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: String,
    short_description: Text,
    full_description: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<String>,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    precision: &'static str,
    #[serde(rename = "problem.severity")]
    problem_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<NotificationLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationLocation {
    physical_location: NotificationPhysical,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationPhysical {
    artifact_location: ArtifactLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: [Location; 1],
    partial_fingerprints: BTreeMap<&'static str, String>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_region: Option<ContextRegion>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
    snippet: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContextRegion {
    start_line: usize,
    end_line: usize,
    snippet: Text,
}

#[derive(Serialize)]
struct ResultProperties<'a> {
    severity: &'static str,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    redacted: String,
    fingerprint: &'a str,
    exposure: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    variable: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    binary: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    cell: Option<String>,
    origin: &'static str,
    #[serde(flatten)]
    commit: WireCommit<'a>,
    #[serde(flatten)]
    history: WireHistory<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verification: Option<super::verification::WireVerification<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remediation: Option<String>,
}

#[derive(Serialize)]
struct RunProperties<'a> {
    files: u64,
    bytes: u64,
    skipped: u64,
    errors: usize,
    /// Something could not be scanned (also `invocations[0].executionSuccessful: false`).
    incomplete: bool,
    #[serde(rename = "fingerprintKey")]
    fingerprint_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    config: Option<WireConfig<'a>>,
}

/// GitHub's `security-severity` (a string holding a number in (0, 10]) for a severity. GitHub buckets
/// scores as critical > 9.0, high 7.0–8.9, medium 4.0–6.9, low 0.1–3.9; each value sits inside its
/// bucket and away from the edges, so a rounding consumer still lands in the same bucket. `info` has no
/// GitHub bucket of its own and shows as low, which is the closest meaning.
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// SARIF `level`: what breaks a build (error), what deserves a look (warning), what is informational.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// A result's `level`: `error` exactly when the finding is at or above `--fail-on` (it fails the run, as
/// the exit status and the JUnit report say); below it, the severity's bucket without `error`.
pub fn result_level(s: Severity, blocking: bool) -> &'static str {
    match (blocking, level(s)) {
        (true, _) => "error",
        (false, "error") => "warning",
        (false, other) => other,
    }
}

/// GitHub's `problem.severity` for a rule: `error`, `warning` or `recommendation` (the only values it
/// accepts; `note` is refused). The same buckets as [`level`], so a rule and its results agree.
// See: issue 12 ("problem.severity is `note` for low and info rules").
pub fn problem_severity(s: Severity) -> &'static str {
    match level(s) {
        "note" => "recommendation",
        other => other,
    }
}

/// Renders the SARIF log.
pub fn render(input: &ReportInput<'_>, opts: &ReportOptions) -> Vec<u8> {
    let findings = sorted(input.findings);

    // Every rule that produced a result, by id; a result's ruleIndex is its rule's place here.
    let mut by_id: BTreeMap<&str, &RuleInfo> = BTreeMap::new();
    for f in &findings {
        by_id.entry(f.rule.id.as_str()).or_insert(&f.rule);
    }
    let index: HashMap<&str, usize> = by_id.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let rules: Vec<Rule> = by_id.values().map(|r| rule(r)).collect();

    // `primaryLocationLineHash` is the fingerprint plus the occurrence number of that fingerprint in its
    // file (GitHub's own `hash:n` shape): stable when lines move, distinct for one key written twice.
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    let results: Vec<SarifResult> = findings
        .iter()
        .map(|f| {
            let n = seen.entry((f.path.as_str(), f.fingerprint.as_str())).or_insert(0);
            *n += 1;
            let blocking = input.run.blocks(f);
            result(
                f,
                index[f.rule.id.as_str()],
                *n,
                opts,
                input.run.source_root.as_ref(),
                blocking,
            )
        })
        .collect();

    // Errors first, then notices; each sorted by path.
    let mut problems: Vec<(u8, &str, &str)> = input
        .errors
        .iter()
        .map(|e| (0, e.path.as_str(), e.message.as_str()))
        .chain(input.notices.iter().map(|n| (1, n.path.as_str(), n.message.as_str())))
        .collect();
    problems.sort();
    let root = input.run.source_root.as_ref();
    let mut notifications: Vec<Notification> = problems
        .into_iter()
        .map(|(rank, path, message)| Notification {
            level: if rank == 0 { "error" } else { "note" },
            message: Text {
                text: format!("{path}: {message}"),
            },
            locations: vec![NotificationLocation {
                physical_location: NotificationPhysical {
                    artifact_location: artifact(path, root),
                },
            }],
        })
        .collect();
    if input.incomplete() {
        notifications.insert(
            0,
            Notification {
                level: "error",
                message: Text {
                    text: format!(
                        "incomplete scan: {} {} could not be scanned; a finding there would be missing",
                        input.errors.len(),
                        if input.errors.len() == 1 { "place" } else { "places" }
                    ),
                },
                locations: Vec::new(),
            },
        );
    }
    if let Some(c) = &input.run.config {
        let weak = !c.weakens.is_empty();
        let mut text = format!("config {} ({}) applied", c.path, c.source);
        if weak {
            text = format!(
                "WARNING: {text}; it weakens the built-in rules: {}",
                c.weakens.join("; ")
            );
        } else if !c.changes.is_empty() {
            text.push_str(&format!(": {}", c.changes.join("; ")));
        }
        notifications.push(Notification {
            level: if weak { "warning" } else { "note" },
            message: Text { text },
            locations: Vec::new(),
        });
    }

    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "pkhound",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: env!("CARGO_PKG_REPOSITORY"),
                    rules,
                },
            },
            invocations: [Invocation {
                execution_successful: input.errors.is_empty(),
                tool_execution_notifications: notifications,
            }],
            original_uri_base_ids: BTreeMap::from([(SRCROOT, base_uri(root))]),
            column_kind: "unicodeCodePoints",
            results,
            properties: RunProperties {
                files: input.stats.files,
                bytes: input.stats.bytes,
                skipped: input.stats.skipped,
                errors: input.errors.len(),
                incomplete: input.incomplete(),
                fingerprint_key: &input.run.fingerprint_key,
                config: input.run.config.as_ref().map(WireConfig::of),
            },
        }],
    };
    let mut out = serde_json::to_vec_pretty(&log).expect("SARIF wire types always serialize");
    out.push(b'\n');
    out
}

fn rule(r: &RuleInfo) -> Rule {
    let description = if r.description.trim().is_empty() {
        format!("{} found in the scanned files.", r.name)
    } else {
        r.description.to_string()
    };
    let mut tags: Vec<String> = vec!["security".into(), "secret".into()];
    for t in r.tags.iter() {
        if !tags.iter().any(|have| t == have) {
            tags.push(t.to_string());
        }
    }
    tags.truncate(MAX_TAGS);

    let mut text = format!("{description}\n\nRemediation: {}", r.remediation);
    let mut markdown = format!(
        "{}\n\n**Remediation:** {}",
        md_escape(&description),
        md_escape(&r.remediation)
    );
    if !r.references.is_empty() {
        text.push_str("\n\nReferences:");
        markdown.push_str("\n\n**References:**\n");
        for url in r.references.iter() {
            text.push_str("\n- ");
            text.push_str(url);
            markdown.push_str(&format!("\n- <{url}>"));
        }
    }
    Rule {
        id: r.id.to_string(),
        name: pascal_case(r.id.as_str()),
        short_description: Text {
            text: r.name.to_string(),
        },
        full_description: Text {
            text: truncate_chars(&description, MAX_DESCRIPTION),
        },
        help_uri: r.references.first().map(ToString::to_string),
        help: Help { text, markdown },
        default_configuration: Configuration {
            level: level(r.severity),
        },
        properties: RuleProperties {
            tags,
            security_severity: security_severity(r.severity),
            // Every built-in rule anchors on a provider-specific literal and filters by delimitation,
            // entropy and placeholders; the rule examples prove the false-positive cases. Rules carry no
            // precision of their own yet, so one value fits all.
            precision: "high",
            problem_severity: problem_severity(r.severity),
        },
    }
}

fn result<'a>(
    f: &'a Finding,
    rule_index: usize,
    nth: usize,
    opts: &ReportOptions,
    root: Option<&SourceRoot>,
    blocking: bool,
) -> SarifResult<'a> {
    let shown = shown_secret(f, opts);
    let commit = f.origin.commit();
    let mut message = format!("{} {} ({})", f.rule.name, shown, f.severity);
    if let Some(c) = commit {
        message.push_str(&format!(", added in commit {}", short_sha(&c.sha)));
        if let Some(h) = &f.history {
            message.push_str(&match h.head_status() {
                HeadStatus::InHead => ", still in HEAD".to_string(),
                HeadStatus::Removed(Some(r)) => format!(
                    ", removed from HEAD in {} on {} but still in history",
                    short_sha(&r.sha),
                    r.date.get(..10).unwrap_or(&r.date)
                ),
                HeadStatus::Removed(None) => ", no longer in HEAD but still in history".to_string(),
                HeadStatus::NeverInHead => ", never in HEAD's files (only in history)".to_string(),
            });
            if h.pushed() {
                message.push_str(", pushed");
            }
        }
    }
    if let Some(note) = f.exposure_note() {
        message.push_str("; ");
        message.push_str(&note);
    }
    if let Some(v) = &f.verification {
        message.push_str(&format!("; verified {}", super::verification::summary(v)));
    }
    message.push('.');

    let snippet = shown_snippet(f, opts);
    let partial_fingerprints = BTreeMap::from([
        ("primaryLocationLineHash", format!("{}:{nth}", f.fingerprint)),
        ("pkhound/v2", f.fingerprint.to_string()),
    ]);
    SarifResult {
        rule_id: f.rule.id.as_str(),
        rule_index,
        level: result_level(f.severity, blocking),
        message: Text { text: message },
        locations: [Location {
            physical_location: PhysicalLocation {
                artifact_location: artifact(&f.path, root),
                region: Region {
                    start_line: f.line.max(1),
                    start_column: f.column.max(1),
                    end_line: f.line.max(1),
                    end_column: f.end_column.max(f.column.max(1)),
                    snippet: Text { text: shown.clone() },
                },
                context_region: (!snippet.is_empty()).then(|| ContextRegion {
                    start_line: f.line.max(1),
                    end_line: f.line.max(1),
                    snippet: Text { text: snippet },
                }),
            },
        }],
        partial_fingerprints,
        properties: ResultProperties {
            severity: f.severity.as_str(),
            security_severity: security_severity(f.severity),
            redacted: f.secret.redacted(),
            fingerprint: f.fingerprint.as_str(),
            exposure: f.exposure.as_str(),
            encoding: f.encoding.map(crate::finding::Encoding::as_str),
            variable: f.variable.as_deref(),
            binary: f.binary,
            cell: f
                .cell
                .map(|c| format!("cell {} {} line {}", c.index, c.kind.as_str(), c.line)),
            origin: f.origin.kind(),
            commit: WireCommit::of(f),
            history: WireHistory::of(f),
            verification: super::verification::WireVerification::of(f),
            // A live key's steps differ from the rule's help: carry them on the result.
            remediation: f
                .verification
                .is_some()
                .then(|| super::verification::remediation(f).into_owned()),
        },
    }
}

/// `%SRCROOT%`: the repository root (as a `file:` URI) when the scan is inside one.
fn base_uri(root: Option<&SourceRoot>) -> BaseUri {
    match root {
        Some(r) => BaseUri {
            uri: Some(format!("file://{}/", uri_path(&r.path))),
            description: Text {
                text: "The root of the git work tree that holds the scanned paths; result paths are relative to it."
                    .into(),
            },
        },
        None => BaseUri {
            uri: None,
            description: Text {
                text: "The directory pkhound scanned; result paths are relative to it.".into(),
            },
        },
    }
}

/// The artifact location of a report path. Relative paths (relative to the scanned directory) become URI
/// references under `%SRCROOT%`, prefixed with the scanned directory's place in the repository; absolute
/// paths inside the repository become relative to it; other absolute paths (a file argument given as
/// `/abs/file`) become `file:` URIs.
fn artifact(path: &str, root: Option<&SourceRoot>) -> ArtifactLocation {
    if let Some(r) = root {
        let inside = path
            .strip_prefix(r.path.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .filter(|rest| !rest.is_empty() && !r.path.is_empty());
        if let Some(rest) = inside {
            return ArtifactLocation {
                uri: uri_path(rest),
                uri_base_id: Some(SRCROOT),
            };
        }
        let relative =
            !path.starts_with('/') && !matches!(path.as_bytes(), [d, b':', b'/', ..] if d.is_ascii_alphabetic());
        if relative && path != "-" {
            let path = path.strip_prefix("./").unwrap_or(path);
            return ArtifactLocation {
                uri: uri_path(&format!("{}{path}", r.prefix)),
                uri_base_id: Some(SRCROOT),
            };
        }
    }
    let drive = matches!(path.as_bytes(), [d, b':', b'/', ..] if d.is_ascii_alphabetic());
    if path.starts_with('/') {
        ArtifactLocation {
            uri: format!("file://{}", uri_path(path)),
            uri_base_id: None,
        }
    } else if drive {
        // `C:/x` → `file:///C:/x` (RFC 8089): the drive's colon stays literal.
        ArtifactLocation {
            uri: format!("file:///{}:{}", &path[..1], uri_path(&path[2..])),
            uri_base_id: None,
        }
    } else {
        ArtifactLocation {
            uri: uri_path(path.strip_prefix("./").unwrap_or(path)),
            uri_base_id: Some(SRCROOT),
        }
    }
}

/// Percent-encodes a `/`-separated path as a URI path (RFC 3986 `pchar`s and `/` pass, everything else,
/// including `%`, `?`, `#`, spaces and non-ASCII bytes, is encoded). `:` is encoded too, so that a first
/// segment such as `c:x` never reads as a scheme. A backslash is encoded, never taken as a separator.
pub fn uri_path(path: &str) -> String {
    // An archive member's name (after the first `!`) is archive content: its `.` and `..` segments are
    // encoded, so that no URI resolver turns `a.jar!../../etc/x` into the repository's `etc/x`.
    if let Some((outer, member)) = path.split_once('!') {
        let member: Vec<String> = member
            .split('/')
            .map(|seg| match seg {
                "." => "%2E".to_string(),
                ".." => "%2E%2E".to_string(),
                _ => uri_path_plain(seg),
            })
            .collect();
        return format!("{}!{}", uri_path_plain(outer), member.join("/"));
    }
    uri_path_plain(path)
}

fn uri_path_plain(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'@'
                    | b'/'
            );
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `klaviyo-private-key` → `KlaviyoPrivateKey`: SARIF recommends a Pascal-case `name` distinct from the id.
fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn short_sha(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// Characters that would start Markdown or HTML markup in rule text.
fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri_path("src/app config.py"), "src/app%20config.py");
        assert_eq!(uri_path("a/100%/b#c?d"), "a/100%25/b%23c%3Fd");
        assert_eq!(uri_path("c:x/y"), "c%3Ax/y");
        assert_eq!(uri_path("a.jar!../b/./c d"), "a.jar!%2E%2E/b/%2E/c%20d");
        assert_eq!(uri_path("x.zip!/abs!y.zip!.."), "x.zip!/abs!y.zip!..");
        assert_eq!(uri_path("dir\\file"), "dir%5Cfile");
        assert_eq!(uri_path("café/ü.txt"), "caf%C3%A9/%C3%BC.txt");
        assert_eq!(artifact("/tmp/x y/f", None).uri, "file:///tmp/x%20y/f");
        assert_eq!(artifact("/tmp/f", None).uri_base_id, None);
        assert_eq!(artifact("./a/b", None).uri, "a/b");
        assert_eq!(artifact("a/b", None).uri_base_id, Some(SRCROOT));
        assert_eq!(artifact("C:/src/a b", None).uri, "file:///C:/src/a%20b");
    }

    /// Paths resolve from the repository root whatever directory was scanned.
    // See: issue 12 ("`pkhound scan src --format sarif` writes `uri: email/k.py`").
    #[test]
    fn paths_resolve_from_the_repository_root() {
        let root = SourceRoot {
            path: "/work/repo".into(),
            prefix: "src/".into(),
        };
        let a = artifact("email/k.py", Some(&root));
        assert_eq!((a.uri.as_str(), a.uri_base_id), ("src/email/k.py", Some(SRCROOT)));
        assert_eq!(artifact("/work/repo/lib/x.py", Some(&root)).uri, "lib/x.py");
        assert_eq!(
            artifact("/work/repository/x.py", Some(&root)).uri,
            "file:///work/repository/x.py"
        );
        assert_eq!(base_uri(Some(&root)).uri.as_deref(), Some("file:///work/repo/"));
    }

    #[test]
    fn problem_severity_is_one_github_accepts() {
        for s in [
            Severity::Info,
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ] {
            assert!(
                ["error", "warning", "recommendation"].contains(&problem_severity(s)),
                "{s}"
            );
        }
        assert_eq!(problem_severity(Severity::Low), "recommendation");
    }

    #[test]
    fn severities_map_inside_githubs_buckets() {
        let score = |s| security_severity(s).parse::<f64>().expect("a number");
        assert!(score(Severity::Critical) >= 9.0);
        assert!((7.0..9.0).contains(&score(Severity::High)));
        assert!((4.0..7.0).contains(&score(Severity::Medium)));
        assert!((0.1..4.0).contains(&score(Severity::Low)));
        assert!(score(Severity::Info) > 0.0 && score(Severity::Info) < score(Severity::Low));
    }

    #[test]
    fn names_are_pascal_case() {
        assert_eq!(pascal_case("klaviyo-private-key"), "KlaviyoPrivateKey");
        assert_eq!(pascal_case("aws-access-key-id"), "AwsAccessKeyId");
    }
}
