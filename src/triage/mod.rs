//! Decides which located findings are reported: inline allows, dedup, order, and the failing threshold.

use crate::finding::{Finding, Severity};

/// Markers that silence a line, in any comment style: `# pkhound:allow`, `// gitleaks:allow`, `<!-- … -->`.
const ALLOW_MARKERS: &[&[u8]] = &[b"pkhound:allow", b"gitleaks:allow"];

/// True when the line carries an inline allow marker.
pub fn inline_allowed(line: &[u8]) -> bool {
    ALLOW_MARKERS.iter().any(|m| memchr::memmem::find(line, m).is_some())
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
