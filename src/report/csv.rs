//! CSV for spreadsheets: a header row, then one finding per row, in report order. The `secret` column
//! holds the redacted form unless `--show-secrets`.
//!
//! After the findings, rows that are not findings, so that a spreadsheet of the report cannot look clean
//! when the scan was not: one `pkhound-incomplete` row (severity `error`) per place that could not be
//! scanned, and a `pkhound-config` row naming the config applied (severity `warning` when it weakens the
//! built-in rules, `info` otherwise).
//!
//! Cells that hold text from the scanned files or from git (path, line, author, commit summary) are
//! defused against spreadsheet formula injection (OWASP "CSV Injection"): a cell that starts with `=`,
//! `+`, `-`, `@`, tab or carriage return gets a leading `'`, so a hostile file name or line cannot run a
//! formula in the spreadsheet of whoever opens the report.

use super::{shown_secret, shown_snippet, sorted, visible, ReportInput, ReportOptions};

const HEADER: [&str; 21] = [
    "severity",
    "rule_id",
    "rule_name",
    "path",
    "line",
    "column",
    "end_column",
    "secret",
    "fingerprint",
    "exposure",
    "origin",
    "commit",
    "author",
    "email",
    "date",
    "summary",
    "in_head",
    "occurrence_count",
    "snippet",
    "remediation",
    "references",
];

/// Added after [`HEADER`] when any finding has a leak timeline (history scans); `date` and `commit` are
/// already the first-seen ones.
const TIMELINE_HEADER: [&str; 7] = [
    "removed_in",
    "removed_in_date",
    "on_head_line",
    "exposed_days",
    "pushed",
    "refs",
    "ref_count",
];

/// Added after [`HEADER`] (and the timeline's columns) when any finding was verified (`--verify`).
const VERIFY_HEADER: [&str; 3] = ["verification", "verification_reason", "account"];

/// Renders the CSV report.
pub fn render(input: &ReportInput<'_>, opts: &ReportOptions) -> Vec<u8> {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // With --verify, three more columns; without, the header is unchanged.
    let verified = input.findings.iter().any(|f| f.verification.is_some());
    let timeline = input
        .findings
        .iter()
        .any(|f| f.history.as_ref().is_some_and(|h| h.timeline.is_some()));
    let mut header: Vec<&str> = HEADER.to_vec();
    if timeline {
        header.extend(TIMELINE_HEADER);
    }
    if verified {
        header.extend(VERIFY_HEADER);
    }
    w.write_record(&header).expect("writing CSV to memory cannot fail");
    for f in sorted(input.findings) {
        let commit = f.origin.commit();
        let opt = |s: Option<&str>| s.map(defuse).unwrap_or_default();
        let record: [String; 21] = [
            f.severity.as_str().into(),
            f.rule.id.to_string(),
            defuse(&f.rule.name),
            if f.path == "-" { f.path.clone() } else { defuse(&f.path) },
            f.line.to_string(),
            f.column.to_string(),
            f.end_column.to_string(),
            defuse(&shown_secret(f, opts)),
            f.fingerprint.to_string(),
            f.exposure.as_str().into(),
            f.origin.kind().into(),
            commit.map(|c| c.sha.clone()).unwrap_or_default(),
            opt(commit.map(|c| c.author.as_str())),
            opt(commit.map(|c| c.email.as_str())),
            opt(commit.map(|c| c.date.as_str())),
            opt(commit.map(|c| c.summary.as_str())),
            f.history.as_ref().map(|h| h.in_head.to_string()).unwrap_or_default(),
            f.history
                .as_ref()
                .map(|h| h.occurrence_count.to_string())
                .unwrap_or_default(),
            defuse(&shown_snippet(f, opts)),
            defuse(&super::verification::remediation(f)),
            f.rule.references.join(" "),
        ];
        let mut record = record.to_vec();
        if timeline {
            let t = f.history.as_ref().and_then(|h| h.timeline.as_ref());
            let removed = t.and_then(|t| t.removed_in.as_ref());
            record.push(removed.map(|r| r.sha.clone()).unwrap_or_default());
            record.push(removed.map(|r| defuse(&r.date)).unwrap_or_default());
            record.push(t.map(|t| t.on_head_line().to_string()).unwrap_or_default());
            record.push(t.map(|t| t.exposed_days.to_string()).unwrap_or_default());
            record.push(t.map(|t| t.pushed.to_string()).unwrap_or_default());
            record.push(t.map(|t| defuse(&t.refs.join(" "))).unwrap_or_default());
            record.push(t.map(|t| t.ref_count.to_string()).unwrap_or_default());
        }
        if verified {
            let v = f.verification.as_deref();
            record.push(v.map(|v| v.status.as_str().to_string()).unwrap_or_default());
            record.push(v.map(|v| defuse(&v.reason)).unwrap_or_default());
            record.push(
                v.and_then(|v| v.account.as_ref())
                    .map(|a| match &a.organization {
                        Some(org) => defuse(&format!("{} ({org})", a.id)),
                        None => defuse(&a.id),
                    })
                    .unwrap_or_default(),
            );
        }
        w.write_record(&record).expect("writing CSV to memory cannot fail");
    }
    let width = header.len();
    let note = |severity: &str, rule: &str, path: &str, text: &str| {
        // As wide as the header (the verification columns included): CSV rows have one width.
        let mut row = vec![String::new(); width];
        row[0] = severity.into();
        row[1] = rule.into();
        row[3] = defuse(path);
        row[18] = defuse(text);
        row
    };
    for e in input.errors {
        let row = note(
            "error",
            "pkhound-incomplete",
            &e.path,
            &format!("not scanned: {}", e.message),
        );
        w.write_record(&row).expect("writing CSV to memory cannot fail");
    }
    if let Some(c) = &input.run.config {
        let (severity, text) = if c.weakens.is_empty() {
            (
                "info",
                format!("config applied ({}): {}", c.source, c.changes.join("; ")),
            )
        } else {
            (
                "warning",
                format!(
                    "config applied ({}) WEAKENS THE SCAN: {}",
                    c.source,
                    c.weakens.join("; ")
                ),
            )
        };
        let row = note(severity, "pkhound-config", &c.path, &text);
        w.write_record(&row).expect("writing CSV to memory cannot fail");
    }
    w.into_inner().expect("flushing CSV to memory cannot fail")
}

/// Prefixes `'` to a cell a spreadsheet would read as a formula; control characters are shown escaped
/// ([`visible`]), so that `cat report.csv` cannot drive the terminal.
fn defuse(s: &str) -> String {
    let s = visible(s);
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::defuse;

    #[test]
    fn formulas_are_defused() {
        assert_eq!(defuse("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(defuse("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defuse("config/app.env"), "config/app.env");
    }
}
