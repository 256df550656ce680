//! The pre-commit report (`scan --staged` with the text format): a header naming the hook and how many
//! secrets it blocked, one line per blocking finding (`path:line: rule (severity) secret`), then the ways
//! forward, once. Nothing at all for a clean commit, so a hook stays silent when it passes. A path with a
//! newline or an escape sequence is shown quoted and escaped: one finding, one line.

use std::fmt::Write as _;

use super::{shown_secret, visible, ReportOptions, RunInfo};
use crate::finding::Finding;

/// The ways forward, the same for every rule (the rule's own rotation steps are in the full report).
/// [`ALLOW_BINARY`] joins them when a finding is in a binary file, which has no line to comment.
const OPTIONS: &[&str] = &[
    "remove the secret and read it from the environment or a secrets manager; rotate it if it was ever pushed",
    ALLOW,
    "accept known findings with a baseline: `pkhound scan --baseline-out .pkhound-baseline`, then add \
     `--baseline .pkhound-baseline` to the hook's arguments",
    "commit anyway, skipping every hook (not recommended): `git commit --no-verify`",
];

/// The false-positive option: a comment on the secret's line.
const ALLOW: &str = "a false positive: add `pkhound:allow` in a comment on the line";

/// For a binary file (a key store, a database): unstage it, or name it where pkhound skips files.
const ALLOW_BINARY: &str = "a binary file (a key store) cannot hold that comment: unstage it (`git rm --cached PATH`) \
     and keep it out of the repository, or, if it holds no real key, list its path in `.pkhoundignore`";

/// Renders `findings` (already filtered to the blocking ones); empty when there are none.
pub fn render(findings: &[Finding], run: &RunInfo, opts: &ReportOptions) -> Vec<u8> {
    if findings.is_empty() {
        return Vec::new();
    }
    let mut secrets: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f.rule.id.as_str(), f.fingerprint.as_str()))
        .collect();
    secrets.sort_unstable();
    secrets.dedup();
    let n = secrets.len();
    let mut out = format!(
        "pkhound blocked this commit: {n} {}",
        if n == 1 { "secret" } else { "secrets" }
    );
    if findings.len() > n {
        let _ = write!(out, " in {} places", findings.len());
    }
    out.push('\n');
    for f in super::sorted(findings) {
        let verified = f
            .verification
            .as_ref()
            .map(|v| format!(" [verified {}]", v.status.as_str()))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}:{}: {} ({}) {}{verified}",
            visible(&run.shown_path(&f.path)),
            f.line,
            f.rule.id,
            f.severity,
            visible(&shown_secret(f, opts)),
        );
    }
    out.push_str("To go on, one of:\n");
    let binary = findings.iter().any(|f| f.binary);
    for &o in OPTIONS {
        let _ = writeln!(out, "  - {o}");
        if o == ALLOW && binary {
            let _ = writeln!(out, "    ({ALLOW_BINARY})");
        }
    }
    out.into_bytes()
}
