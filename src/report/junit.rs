//! JUnit XML for CI systems that show test results (GitLab `artifacts:reports:junit`, Jenkins, Azure
//! Pipelines, CircleCI …).
//!
//! One `<testsuite>` per file with findings, one `<testcase>` per finding, failing when the finding is
//! at or above `--fail-on` (the exit status and the report agree); what could not be
//! scanned is an `<error>` test case in a `pkhound: scan errors (incomplete scan)` suite. A clean scan is
//! one passing test case, so a CI page shows that the check ran. The config applied is a `pkhound: config`
//! test case, failing when it weakens the built-in rules. Text is escaped for XML 1.0; control characters
//! from scanned files or git (which XML 1.0 cannot carry) are shown escaped first ([`visible`]), so nothing
//! is lost.

use std::fmt::Write as _;

use super::{shown_secret, shown_snippet, sorted, visible, ReportInput, ReportOptions};
use crate::finding::Finding;

/// Renders the JUnit report.
pub fn render(input: &ReportInput<'_>, opts: &ReportOptions) -> Vec<u8> {
    let findings = sorted(input.findings);
    let mut errors: Vec<(&str, &str)> = input
        .errors
        .iter()
        .map(|e| (e.path.as_str(), e.message.as_str()))
        .collect();
    errors.sort();

    let mut suites = String::new();
    let mut start = 0;
    while start < findings.len() {
        let path = &findings[start].path;
        let end = findings[start..]
            .iter()
            .position(|f| &f.path != path)
            .map_or(findings.len(), |n| start + n);
        let group = &findings[start..end];
        let _ = writeln!(
            suites,
            r#"  <testsuite name="{}" tests="{}" failures="{}" errors="0" skipped="0">"#,
            attr(&visible(path)),
            group.len(),
            group.iter().filter(|f| input.run.blocks(f)).count()
        );
        for f in group {
            testcase(&mut suites, f, opts, input.run.blocks(f));
        }
        suites.push_str("  </testsuite>\n");
        start = end;
    }
    if !errors.is_empty() {
        let _ = writeln!(
            suites,
            r#"  <testsuite name="pkhound: scan errors (incomplete scan)" tests="{n}" failures="0" errors="{n}" skipped="0">"#,
            n = errors.len()
        );
        for (path, message) in &errors {
            let (path, message) = (visible(path), visible(message));
            let _ = writeln!(
                suites,
                r#"    <testcase name="scan {p}" classname="pkhound.errors" file="{p}">"#,
                p = attr(&path)
            );
            let _ = writeln!(
                suites,
                r#"      <error message="{}" type="scan-error">{}</error>"#,
                attr(&format!("{path}: {message}")),
                text(&format!("{path} could not be scanned: {message}"))
            );
            suites.push_str("    </testcase>\n");
        }
        suites.push_str("  </testsuite>\n");
    }
    let mut extra = 0;
    let mut extra_failures = 0;
    if let Some(c) = &input.run.config {
        extra = 1;
        let weak = !c.weakens.is_empty();
        extra_failures = usize::from(weak);
        let _ = writeln!(
            suites,
            r#"  <testsuite name="pkhound: config" tests="1" failures="{}" errors="0" skipped="0">"#,
            usize::from(weak)
        );
        let name = format!("config {} ({})", visible(&c.path), c.source);
        if weak {
            let _ = writeln!(
                suites,
                r#"    <testcase name="{}" classname="pkhound.config">"#,
                attr(&name)
            );
            let _ = writeln!(
                suites,
                r#"      <failure message="{}" type="pkhound-config">{}</failure>"#,
                attr("this config weakens the built-in rules"),
                text(
                    &c.weakens
                        .iter()
                        .map(|w| visible(w).into_owned())
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            );
        } else {
            let _ = writeln!(
                suites,
                r#"    <testcase name="{}" classname="pkhound.config">"#,
                attr(&name)
            );
            let _ = writeln!(
                suites,
                "      <system-out>{}</system-out>",
                text(
                    &c.changes
                        .iter()
                        .map(|w| visible(w).into_owned())
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            );
        }
        suites.push_str("    </testcase>\n  </testsuite>\n");
    }
    if findings.is_empty() && errors.is_empty() {
        suites.push_str(r#"  <testsuite name="pkhound" tests="1" failures="0" errors="0" skipped="0">"#);
        suites.push('\n');
        let _ = writeln!(
            suites,
            r#"    <testcase name="no secrets found in {} files" classname="pkhound"/>"#,
            input.stats.files
        );
        suites.push_str("  </testsuite>\n");
    }

    let tests = findings.len() + errors.len() + usize::from(findings.is_empty() && errors.is_empty()) + extra;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        r#"<testsuites name="pkhound" tests="{tests}" failures="{}" errors="{}">"#,
        findings.iter().filter(|f| input.run.blocks(f)).count() + extra_failures,
        errors.len()
    );
    out.push_str(&suites);
    out.push_str("</testsuites>\n");
    out.into_bytes()
}

/// One finding as a test case: failing when it is at or above `--fail-on` (as the exit status says),
/// else passing, with the finding in `<system-out>`.
fn testcase(out: &mut String, f: &Finding, opts: &ReportOptions, blocking: bool) {
    let shown = shown_secret(f, opts);
    let path = visible(&f.path);
    let place = format!("{}:{}:{}", path, f.line, f.column);
    let _ = writeln!(
        out,
        r#"    <testcase name="{} at {}" classname="pkhound.{}" file="{}" line="{}">"#,
        attr(f.rule.id.as_str()),
        attr(&place),
        attr(f.rule.id.as_str()),
        attr(&path),
        f.line
    );
    let mut body = format!("{place}: {} {shown} ({})\n", f.rule.name, f.severity);
    let snippet = shown_snippet(f, opts);
    if !snippet.is_empty() {
        let _ = writeln!(body, "line: {}", visible(&snippet));
    }
    if let Some(c) = f.origin.commit() {
        let _ = writeln!(
            body,
            "commit: {} by {} <{}> on {}",
            c.sha,
            visible(&c.author),
            visible(&c.email),
            visible(&c.date)
        );
        if let Some(h) = &f.history {
            let _ = writeln!(body, "in HEAD: {}", if h.in_head { "yes" } else { "no" });
            if let Some(t) = &h.timeline {
                let _ = writeln!(body, "timeline: {}", super::text::timeline_words(h, t));
            }
        }
    }
    let _ = writeln!(body, "exposure: {}", f.exposure.as_str());
    let _ = writeln!(body, "fingerprint: {}", f.fingerprint);
    if let Some(v) = &f.verification {
        let _ = writeln!(body, "verified: {}", super::verification::summary(v));
    }
    let _ = writeln!(body, "fix: {}", super::verification::remediation(f));
    for url in f.rule.references.iter() {
        let _ = writeln!(body, "see: {url}");
    }
    if blocking {
        let _ = writeln!(
            out,
            r#"      <failure message="{}" type="{}">{}</failure>"#,
            attr(&format!("{} {shown} ({})", f.rule.name, f.severity)),
            attr(f.rule.id.as_str()),
            text(&body)
        );
    } else {
        let _ = writeln!(
            out,
            "      <system-out>{}</system-out>",
            text(&format!("below --fail-on: not failing\n{body}"))
        );
    }
    out.push_str("    </testcase>\n");
}

/// A character XML 1.0 can carry (its `Char` production).
fn xml_char(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}' => c,
        _ => '\u{FFFD}',
    }
}

/// Escapes element content.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().map(xml_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes an attribute value (double-quoted); whitespace is kept as character references so that
/// attribute-value normalisation does not fold it into spaces.
fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().map(xml_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_xml_well_formed() {
        assert_eq!(attr("a\"b<c>&'\n"), "a&quot;b&lt;c&gt;&amp;&apos;&#10;");
        assert_eq!(text("x\u{1b}[31m\u{0}y<"), "x\u{FFFD}[31m\u{FFFD}y&lt;");
        assert_eq!(text("\u{FFFE}"), "\u{FFFD}");
    }
}
