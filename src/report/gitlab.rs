//! GitLab secret-detection report (security report schema 15.x), for a job's
//! `artifacts: reports: secret_detection: gl-secret-detection-report.json`.
//!
//! Shape, from `gitlab-org/security-products/security-report-schemas` `dist/secret-detection-report-format.json`:
//! `version`, `scan` {analyzer, scanner, type, start_time, end_time, status, messages}, `vulnerabilities[]`
//! {id, name, description, severity, solution, identifiers, links, location {file, start_line, end_line,
//! commit {sha, …}}}. Schema 15.0.0 removed `vulnerabilities[].category` (the type lives in `scan.type`,
//! gitlab-org/gitlab#368140), so it is not written. `location.commit.sha` is required: working-tree
//! findings use `0000000`, as GitLab's own analyzer does for a scan outside git history.

use std::collections::HashMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{shown_secret, sorted, truncate_chars, utc_timestamp, ReportInput, ReportOptions};
use crate::finding::{Finding, HeadStatus, Severity};

/// The schema version written. GitLab ingests a report only if its instance vendors the report's
/// MAJOR.MINOR: 15.0.x is accepted from GitLab 15.4 on, while later minors are refused by instances
/// that predate them (GitLab 16.x refuses 15.1; 17.2 refuses 15.2.1, gitlab-org/gitlab#517707). GitLab's
/// own secrets analyzer pins 15.0.7 for that reason (analyzers/secrets!299). Nothing written here needs a
/// later minor.
pub const SCHEMA_VERSION: &str = "15.0.7";
const SCHEMA_URL: &str = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v15.0.7/dist/secret-detection-report-format.json";
/// The commit of a finding that does not come from a commit.
const NO_COMMIT: &str = "0000000";
/// Schema limits.
const MAX_NAME: usize = 255;
const MAX_SOLUTION: usize = 7000;

#[derive(Serialize)]
struct Report<'a> {
    version: &'static str,
    schema: &'static str,
    scan: Scan,
    vulnerabilities: Vec<Vulnerability<'a>>,
}

#[derive(Serialize)]
struct Scan {
    analyzer: Component,
    scanner: Component,
    #[serde(rename = "type")]
    kind: &'static str,
    start_time: String,
    end_time: String,
    status: &'static str,
    messages: Vec<Message>,
}

#[derive(Serialize)]
struct Component {
    id: &'static str,
    name: &'static str,
    url: &'static str,
    version: &'static str,
    vendor: Vendor,
}

#[derive(Serialize)]
struct Vendor {
    name: &'static str,
}

#[derive(Serialize)]
struct Message {
    level: &'static str,
    value: String,
}

#[derive(Serialize)]
struct Vulnerability<'a> {
    id: String,
    name: String,
    description: String,
    severity: &'static str,
    solution: String,
    identifiers: Vec<Identifier<'a>>,
    links: Vec<Link<'a>>,
    location: Location<'a>,
}

#[derive(Serialize)]
struct Identifier<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
    value: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

#[derive(Serialize)]
struct Link<'a> {
    url: &'a str,
}

#[derive(Serialize)]
struct Location<'a> {
    file: &'a str,
    start_line: usize,
    end_line: usize,
    commit: Commit<'a>,
}

#[derive(Serialize)]
struct Commit<'a> {
    sha: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

/// GitLab's severity names.
pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Info",
    }
}

/// Renders the GitLab report.
pub fn render(input: &ReportInput<'_>, opts: &ReportOptions) -> Vec<u8> {
    let findings = sorted(input.findings);
    let mut seen: HashMap<(&str, &str, &str), usize> = HashMap::new();
    let vulnerabilities = findings
        .iter()
        .map(|f| {
            let sha = f.origin.commit().map_or(NO_COMMIT, |c| c.sha.as_str());
            let n = seen.entry((f.path.as_str(), f.fingerprint.as_str(), sha)).or_insert(0);
            *n += 1;
            vulnerability(f, sha, *n, opts)
        })
        .collect();

    let mut messages: Vec<Message> = input
        .errors
        .iter()
        .map(|e| Message {
            level: "warn",
            value: format!("not scanned: {}: {}", e.path, e.message),
        })
        .chain(input.notices.iter().map(|n| Message {
            level: "info",
            value: format!("{}: {}", n.path, n.message),
        }))
        .collect();
    messages.sort_by(|a, b| a.value.cmp(&b.value));
    // The schema has no field for it: an incomplete scan and the config applied lead the messages.
    let mut head = Vec::new();
    if input.incomplete() {
        head.push(Message {
            level: "warn",
            value: format!(
                "incomplete scan: {} {} could not be scanned; a finding there would be missing",
                input.errors.len(),
                if input.errors.len() == 1 { "place" } else { "places" }
            ),
        });
    }
    if let Some(c) = &input.run.config {
        head.push(if c.weakens.is_empty() {
            Message {
                level: "info",
                value: format!("config {} ({}) applied: {}", c.path, c.source, c.changes.join("; ")),
            }
        } else {
            Message {
                level: "warn",
                value: format!(
                    "config {} ({}) WEAKENS THE SCAN: {}",
                    c.path,
                    c.source,
                    c.weakens.join("; ")
                ),
            }
        });
    }
    head.append(&mut messages);
    let messages = head;

    let pkhound = || Component {
        id: "pkhound",
        name: "pkhound",
        url: env!("CARGO_PKG_REPOSITORY"),
        version: env!("CARGO_PKG_VERSION"),
        vendor: Vendor { name: "pkhound" },
    };
    let report = Report {
        version: SCHEMA_VERSION,
        schema: SCHEMA_URL,
        scan: Scan {
            analyzer: pkhound(),
            scanner: pkhound(),
            kind: "secret_detection",
            start_time: utc_timestamp(input.times.started),
            end_time: utc_timestamp(input.times.finished.max(input.times.started)),
            // As the exit status: a scan with holes and nothing found did not succeed.
            status: if !input.errors.is_empty() && input.findings.is_empty() {
                "failure"
            } else {
                "success"
            },
            messages,
        },
        vulnerabilities,
    };
    let mut out = serde_json::to_vec_pretty(&report).expect("GitLab wire types always serialize");
    out.push(b'\n');
    out
}

fn vulnerability<'a>(f: &'a Finding, sha: &'a str, nth: usize, opts: &ReportOptions) -> Vulnerability<'a> {
    let commit = f.origin.commit();
    let mut description = format!(
        "{} {} in {} line {}.",
        f.rule.name,
        shown_secret(f, opts),
        f.path,
        f.line
    );
    if !f.rule.description.is_empty() {
        description.push(' ');
        description.push_str(&f.rule.description);
    }
    if let Some(h) = &f.history {
        description.push_str(&match h.head_status() {
            HeadStatus::InHead => " The secret is still in HEAD.".to_string(),
            HeadStatus::Removed(Some(r)) => format!(
                " The secret was removed from HEAD in {} on {} but stays in history.",
                r.sha.get(..7).unwrap_or(&r.sha),
                r.date.get(..10).unwrap_or(&r.date)
            ),
            HeadStatus::Removed(None) => " The secret is no longer in HEAD but stays in history.".to_string(),
            HeadStatus::NeverInHead => " The secret was never in HEAD's files; it stays in history.".to_string(),
        });
        if h.pushed() {
            description.push_str(" It was pushed to a remote.");
        }
    }
    if let Some(v) = &f.verification {
        description.push_str(&format!(" Verified {}.", super::verification::summary(v)));
    }
    Vulnerability {
        id: stable_id(f, sha, nth),
        name: truncate_chars(&f.rule.name, MAX_NAME),
        description,
        severity: severity(f.severity),
        solution: truncate_chars(&super::verification::remediation(f), MAX_SOLUTION),
        identifiers: vec![Identifier {
            kind: "pkhound_rule_id",
            name: truncate_chars(&format!("pkhound rule {}", f.rule.id), MAX_NAME),
            value: f.rule.id.as_str(),
            url: f.rule.references.first().map(|r| r.as_str()),
        }],
        links: f.rule.references.iter().map(|u| Link { url: u }).collect(),
        location: Location {
            file: &f.path,
            start_line: f.line.max(1),
            end_line: f.line.max(1),
            commit: Commit {
                sha,
                author: commit.map(|c| format!("{} <{}>", c.author, c.email)),
                date: commit.map(|c| c.date.as_str()),
                message: commit.map(|c| c.summary.as_str()),
            },
        },
    }
}

/// A UUID-shaped id from (fingerprint, path, commit, n-th in that file): the same leak keeps its id
/// across pipelines even when its line moves; the secret cannot be recovered from it.
fn stable_id(f: &Finding, sha: &str, nth: usize) -> String {
    let mut h = Sha256::new();
    for part in [f.fingerprint.as_str(), f.path.as_str(), sha, &nth.to_string()] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let hex: String = h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
