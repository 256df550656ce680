//! The pre-commit report (`scan --staged` with the text format): one line per blocking finding, saying
//! where, what, and what to do; nothing at all for a clean commit, so a hook stays silent when it passes.
//! A path with a newline or an escape sequence is shown quoted and escaped: one finding, one line.

use std::fmt::Write as _;

use super::{visible, ReportOptions};
use crate::finding::Finding;

/// What to do about a secret on its way into a commit, the same for every rule: the rule's own
/// remediation (rotation steps) is in the full report.
const ADVICE: &str = "remove it and read it from the environment or a secrets manager; \
                      rotate it if it was ever pushed; if it is a false positive, add `pkhound:allow` on the line";

/// Renders `findings` (already filtered to the blocking ones), one line each.
pub fn render(findings: &[Finding], opts: &ReportOptions) -> Vec<u8> {
    let mut out = String::new();
    for f in findings {
        let shown = if opts.show_secrets {
            f.secret.expose().to_string()
        } else {
            f.secret.redacted()
        };
        let verified = f
            .verification
            .as_ref()
            .map(|v| format!(" [verified {}]", v.status.as_str()))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}:{}: {} ({}) {}{verified}: {}",
            visible(&f.path),
            f.line,
            f.rule.id,
            f.severity,
            visible(&shown),
            ADVICE
        );
    }
    out.into_bytes()
}
