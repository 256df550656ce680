//! Reporters: each a pure function of (findings, errors, stats, options) → bytes. No I/O, clock, env or
//! terminal detection here: color and `--show-secrets` arrive in [`ReportOptions`].

pub mod json;
pub mod text;

use crate::finding::{Finding, Notice, ScanError, ScanStats};

/// Everything a reporter renders.
#[derive(Clone, Copy, Debug)]
pub struct ReportInput<'a> {
    pub findings: &'a [Finding],
    pub errors: &'a [ScanError],
    pub notices: &'a [Notice],
    pub stats: &'a ScanStats,
}

/// How to render.
#[derive(Clone, Copy, Debug)]
pub struct ReportOptions {
    /// Print raw secrets (`--show-secrets`); redacted otherwise.
    pub show_secrets: bool,
    /// ANSI colors (text only).
    pub color: bool,
}

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Findings grouped by file, for people.
    Text,
    /// One JSON document: findings, errors, stats.
    Json,
    /// One JSON finding per line, for streaming into other tools.
    Jsonl,
}

/// Renders the report in `format`.
pub fn render(format: Format, input: &ReportInput<'_>, opts: &ReportOptions) -> Vec<u8> {
    match format {
        Format::Text => text::render(input, opts),
        Format::Json => json::render(input, opts),
        Format::Jsonl => json::render_lines(input, opts),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::finding::{CommitInfo, Exposure, History, Occurrence, Origin, RuleId, RuleInfo, Secret, Severity};

    const KEY: &str = "pk_a4c123b1612dd272d1371c17149d439536"; // pkhound:allow
    const AWS: &str = "AKIAZ7QW3ERT5YUI2OPA";

    fn rule(id: &str, name: &str, severity: Severity, remediation: &str) -> Arc<RuleInfo> {
        Arc::new(RuleInfo {
            id: RuleId::new(id),
            name: name.to_string(),
            severity,
            description: String::new(),
            remediation: remediation.to_string(),
            references: vec![format!("https://example.test/{id}")],
            tags: vec![],
            keywords: vec![],
        })
    }

    fn finding(rule: &Arc<RuleInfo>, path: &str, line: usize, column: usize, secret: &str, snippet: &str) -> Finding {
        let secret = Secret::new(secret.as_bytes());
        let exposure = Exposure::of_path(path);
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
            snippet: snippet.to_string(),
            secret,
            origin: Origin::File,
            exposure,
            history: None,
        }
    }

    /// A fixed scan: two Klaviyo keys (one in a browser bundle), an AWS key id, an error and a notice.
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
            finding(&aws, "deploy/aws.cfg", 7, 19, AWS, "aws_access_key_id = AKIAZ…PA"),
            finding(
                &kl,
                "web/public/app.min.js",
                1,
                37,
                KEY,
                "…k:\"pk_a4…36\"};window.kl=e…",
            ),
        ];
        let errors = vec![ScanError {
            path: "secrets/locked.env".into(),
            message: "permission denied".into(),
        }];
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
        };
        (findings, errors, notices, stats)
    }

    fn render_fixture(format: Format, show_secrets: bool) -> String {
        let (findings, errors, notices, stats) = fixture();
        let input = ReportInput {
            findings: &findings,
            errors: &errors,
            notices: &notices,
            stats: &stats,
        };
        let opts = ReportOptions {
            show_secrets,
            color: false,
        };
        String::from_utf8(render(format, &input, &opts)).expect("reports are UTF-8")
    }

    #[test]
    fn text_snapshot() {
        let out = render_fixture(Format::Text, false);
        assert!(!out.contains(KEY) && !out.contains(AWS));
        insta::assert_snapshot!(out);
    }

    #[test]
    fn json_snapshot() {
        let out = render_fixture(Format::Json, false);
        let parsed: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(parsed["findings"].as_array().map(Vec::len), Some(3));
        assert!(!out.contains(KEY) && !out.contains(AWS));
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
                    line: i + 1,
                })
                .collect(),
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
        };
        let opts = ReportOptions {
            show_secrets: false,
            color: false,
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
    fn show_secrets_puts_the_secret_in_every_format() {
        for format in [Format::Text, Format::Json, Format::Jsonl] {
            let out = render_fixture(format, true);
            assert!(out.contains(KEY) && out.contains(AWS), "{format:?}");
        }
    }
}
