//! Decides which located findings are reported: inline allows, config allowlists, a rule's path
//! restriction, the baseline, dedup, order, and the failing threshold.

pub mod baseline;

use regex::Regex;

use crate::finding::{Context, Finding, Severity};
use crate::rules::config::{Allowlist, Candidate};

/// Markers that silence a line, in any comment style: `# pkhound:allow`, `// gitleaks:allow`, `<!-- … -->`.
const ALLOW_MARKERS: &[&[u8]] = &[b"pkhound:allow", b"gitleaks:allow"];

/// True when the line carries an inline allow marker.
pub fn inline_allowed(line: &[u8]) -> bool {
    ALLOW_MARKERS.iter().any(|m| memchr::memmem::find(line, m).is_some())
}

/// The config's filters, resolved once for a scan.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub allowlists: Vec<Allowlist>,
    /// A rule that reports only in files whose path matches (gitleaks' `path` on a rule with a regex).
    pub rule_paths: Vec<(String, Regex)>,
    /// Repository-relative paths never to read (the config file itself, with its example secrets).
    pub skip_files: Vec<String>,
}

impl Policy {
    /// True when nothing in the file at `path` could be reported: the walker skips it unread.
    pub fn prunes(&self, path: &str) -> bool {
        self.skip_files.iter().any(|f| f == path) || self.allowlists.iter().any(|a| a.prunes(path))
    }

    /// True when the finding is allowed by a config allowlist or fails its rule's path restriction.
    pub fn suppresses(&self, f: &Finding) -> bool {
        let rule = f.rule.id.as_str();
        if self
            .rule_paths
            .iter()
            .any(|(id, re)| id == rule && (f.path == "-" || !re.is_match(&f.path)))
        {
            return true;
        }
        if self.allowlists.is_empty() {
            return false;
        }
        let c = Candidate {
            rule,
            path: &f.path,
            secret: f.secret.expose(),
            commit: f.origin.commit().map(|c| c.sha.as_str()),
            test: f.context == Context::Test,
        };
        self.allowlists.iter().any(|a| a.allows(&c))
    }

    /// Drops suppressed findings; returns how many.
    pub fn apply(&self, findings: &mut Vec<Finding>) -> usize {
        let before = findings.len();
        findings.retain(|f| !self.suppresses(f));
        before - findings.len()
    }
}

/// Sorts findings into report order and drops exact duplicates (the same file reached twice, e.g. from two
/// overlapping roots).
pub fn finish(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup_by(|a, b| a.sort_key() == b.sort_key());
}

/// True when any finding is at or above `fail_on`.
pub fn fails(findings: &[Finding], fail_on: Severity) -> bool {
    findings.iter().any(|f| f.severity >= fail_on)
}
