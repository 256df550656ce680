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
}

impl Policy {
    /// True when nothing in the file at `path` could be reported: the walker skips it unread.
    pub fn prunes(&self, path: &str) -> bool {
        self.allowlists.iter().any(|a| a.prunes(path))
    }

    /// True when the finding is allowed by a config allowlist or fails its rule's path restriction.
    /// `line` is the finding's whole line, for allowlists that look at lines.
    pub fn suppresses(&self, f: &Finding, line: Option<&str>) -> bool {
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
            line,
        };
        self.allowlists.iter().any(|a| a.allows(&c))
    }

    /// Drops the suppressed findings among `findings[from..]`, all located in the blob `hay` and in line
    /// order (as `locate` produces them).
    pub fn filter_blob(&self, hay: &[u8], findings: &mut Vec<Finding>, from: usize) {
        if self.allowlists.is_empty() && self.rule_paths.is_empty() {
            return;
        }
        let needs_line = self.allowlists.iter().any(|a| !a.line_regexes.is_empty());
        let mut lines = Lines::new(hay);
        let mut i = from;
        while i < findings.len() {
            let line = needs_line.then(|| String::from_utf8_lossy(lines.get(findings[i].line)).into_owned());
            if self.suppresses(&findings[i], line.as_deref()) {
                findings.remove(i);
            } else {
                i += 1;
            }
        }
    }
}

/// Walks a blob's lines forward: a blob's findings come in line order, so one pass finds them all.
struct Lines<'h> {
    hay: &'h [u8],
    /// Line number (1-based) that starts at `start`.
    number: usize,
    start: usize,
}

impl<'h> Lines<'h> {
    fn new(hay: &'h [u8]) -> Self {
        Lines {
            hay,
            number: 1,
            start: 0,
        }
    }

    /// The bytes of line `n` (without its newline); empty past the end. Restarts if asked for an earlier line.
    fn get(&mut self, n: usize) -> &'h [u8] {
        if n < self.number {
            *self = Lines::new(self.hay);
        }
        while self.number < n {
            let rest = self.hay.get(self.start..).unwrap_or(&[]);
            match memchr::memchr(b'\n', rest) {
                Some(i) => {
                    self.start += i + 1;
                    self.number += 1;
                }
                None => return &[],
            }
        }
        let rest = self.hay.get(self.start..).unwrap_or(&[]);
        let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        &rest[..end]
    }
}

/// Sorts findings into report order and drops exact duplicates: the same secret of the same rule at the
/// same place of the same provenance (one file reached twice from two overlapping roots). Nothing else
/// merges: two keys that sat at the same spot in different commits (a key rotated in place) are two
/// findings. See: issue 11.
pub fn finish(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| identity(a).cmp(&identity(b)));
    findings.dedup_by(|a, b| identity(a) == identity(b));
}

/// Orders findings most urgent first, as every history report lists them: still present (in HEAD, or in
/// the working tree), then pushed, then severity, then the longest exposed (first seen earliest), then by
/// place. Stable for equal keys, so the order stays deterministic.
pub fn by_urgency(findings: &mut [Finding]) {
    findings.sort_by_cached_key(|f| {
        let h = f.history.as_ref();
        let first_seen = h
            .and_then(|h| h.timeline.as_ref())
            .and_then(|t| t.first_seen.as_ref())
            .map_or(i64::MAX, |s| s.time);
        (
            !h.is_none_or(|h| h.in_head),
            !h.is_some_and(crate::finding::History::pushed),
            std::cmp::Reverse(f.severity),
            first_seen,
            f.path.clone(),
            f.line,
            f.column,
            f.rule.id.as_str().to_string(),
        )
    });
}

/// What makes a finding distinct: rule, place, secret and provenance (kind and commit).
fn identity(f: &Finding) -> ((&str, usize, usize, &str), &str, &str, Option<&str>) {
    (
        f.sort_key(),
        f.fingerprint.as_str(),
        f.origin.kind(),
        f.origin.commit().map(|c| c.sha.as_str()),
    )
}

/// True when any finding is at or above `fail_on`.
pub fn fails(findings: &[Finding], fail_on: Severity) -> bool {
    findings.iter().any(|f| f.severity >= fail_on)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_walk_forward_and_restart() {
        let mut l = Lines::new(b"one\ntwo\r\n\nfour");
        assert_eq!(l.get(2), b"two\r");
        assert_eq!(l.get(4), b"four");
        assert_eq!(l.get(1), b"one");
        assert_eq!(l.get(3), b"");
        assert_eq!(l.get(9), b"");
    }
}
