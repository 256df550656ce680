//! How every format shows a finding's verification (`--verify`): the JSON/SARIF wire object, the one-line
//! summary, and the remediation a live key calls for. Absent when the finding was not verified, so
//! reports of scans without `--verify` do not change.

use serde::Serialize;

use crate::finding::Finding;
use crate::verify::{Scope, Status, Verification};

/// `verification` in JSON, JSONL and SARIF result properties.
#[derive(Serialize)]
pub(crate) struct WireVerification<'a> {
    status: &'static str,
    provider: &'a str,
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<WireAccount<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scopes: Option<WireScopes<'a>>,
}

#[derive(Serialize)]
struct WireAccount<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_api_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    test_account: Option<bool>,
    /// For `pk_XXXXXX_…` keys: whether the prefix is this account's public key, as the API confirmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    key_prefix_is_public_key: Option<bool>,
}

#[derive(Serialize)]
struct WireScopes<'a> {
    granted: Vec<&'a str>,
    denied: Vec<&'a str>,
    unknown: Vec<&'a str>,
    /// Profiles, events, lists, segments or SMS conversations are readable.
    customer_data: bool,
    /// Campaigns, flows or templates are readable.
    sending_setup: bool,
    /// Write scopes are never probed.
    write: &'static str,
}

pub(crate) const WRITE_NOTE: &str = "not tested: proving a write scope takes a write";

impl<'a> WireVerification<'a> {
    pub(crate) fn of(f: &'a Finding) -> Option<Self> {
        let v: &Verification = f.verification.as_deref()?;
        let names = |s: &'a [Scope]| s.iter().map(|s| s.name).collect::<Vec<_>>();
        Some(WireVerification {
            status: v.status.as_str(),
            provider: &v.provider,
            reason: &v.reason,
            account: v.account.as_ref().map(|a| WireAccount {
                id: &a.id,
                organization: a.organization.as_deref(),
                public_api_key: a.public_api_key.as_deref(),
                test_account: a.test_account,
                key_prefix_is_public_key: a.prefix_is_public_key,
            }),
            scopes: v.scopes.as_ref().map(|s| WireScopes {
                granted: names(&s.granted),
                denied: names(&s.denied),
                unknown: names(&s.unknown),
                customer_data: s.reads_customer_data(),
                sending_setup: s.reads_sending_setup(),
                write: WRITE_NOTE,
            }),
        })
    }
}

/// The remediation to show: a live key's concrete steps, else the rule's.
pub(crate) fn remediation(f: &Finding) -> std::borrow::Cow<'_, str> {
    match f
        .verification
        .as_deref()
        .filter(|v| v.status == Status::Live)
        .and_then(|v| v.remediation.as_deref())
    {
        Some(steps) => std::borrow::Cow::Borrowed(steps),
        // The rule's steps, and how to read the variable the key was assigned to from the environment.
        None => std::borrow::Cow::Owned(f.remediation()),
    }
}

/// `LIVE (klaviyo): 200 from /api/accounts/; account AbC123 "Acme Inc", public key AbC123`.
pub(crate) fn summary(v: &Verification) -> String {
    let status = match v.status {
        Status::Live => "LIVE",
        Status::Invalid => "invalid",
        Status::Unknown => "unknown",
    };
    let mut s = format!("{status} ({}): {}", v.provider, v.reason);
    if let Some(a) = &v.account {
        s.push_str(&format!("; account {}", a.id));
        if let Some(org) = &a.organization {
            s.push_str(&format!(" \"{org}\""));
        }
        if let Some(pk) = &a.public_api_key {
            s.push_str(&format!(", public key {pk}"));
        }
        if a.test_account == Some(true) {
            s.push_str(" (test account)");
        }
        match a.prefix_is_public_key {
            Some(true) => s.push_str("; the key's prefix is this account's public key (confirmed)"),
            Some(false) => s.push_str("; the key's prefix is not this account's public key"),
            None => {}
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::{render, AppliedConfig, Format, ReportInput, ReportOptions, RunInfo, ScanTimes};
    use crate::finding::{
        Context, ErrorKind, Exposure, Finding, Origin, RuleId, RuleInfo, ScanError, ScanStats, Secret, Severity,
        Snippet,
    };
    use crate::verify::{Account, Scope, ScopeMap, Status, Verification};

    const KEY: &str = "pk_AbC123_0f1e2d3c4b5a69788796a5b4c3d2e1f0ff"; // pkhound:allow

    fn verified(status: Status, scopes: bool) -> Finding {
        let rule = Arc::new(RuleInfo {
            id: RuleId::new("klaviyo-private-key"),
            name: "Klaviyo private API key".into(),
            severity: Severity::Critical,
            description: crate::rules::Text::default(),
            remediation: "Rotate it.".into(),
            references: Arc::default(),
            tags: Arc::default(),
            keywords: Arc::default(),
        });
        let secret = Secret::new(KEY.as_bytes());
        let mut v = Verification::new("klaviyo", status, "200 from /api/accounts/");
        if status == Status::Live {
            v.account = Some(Account {
                id: "AbC123".into(),
                organization: Some("Acme Inc".into()),
                public_api_key: Some("AbC123".into()),
                test_account: Some(false),
                prefix_is_public_key: Some(true),
            });
            v.remediation = Some(crate::verify::klaviyo::LIVE_REMEDIATION.into());
        }
        if scopes {
            let scope = |name| Scope {
                name,
                exposes: "x",
                note: String::new(),
            };
            v.scopes = Some(ScopeMap {
                granted: vec![scope("accounts:read"), scope("profiles:read")],
                denied: vec![scope("flows:read")],
                unknown: vec![],
            });
        }
        Finding {
            fingerprint: secret.fingerprint(&rule.id),
            snippet: Snippet::with_own("KEY=", &secret, ""),
            secret,
            rule,
            severity: Severity::Critical,
            path: ".env".into(),
            line: 1,
            column: 5,
            end_column: 48,
            origin: Origin::File,
            exposure: Exposure::Server,
            context: Context::Code,
            history: None,
            encoding: None,
            verification: Some(Arc::new(v)),
            place: crate::finding::Place::File,
            variable: None,
            binary: false,
            cell: None,
            audit: None,
            partner: None,
        }
    }

    fn out(format: Format, findings: &[Finding]) -> String {
        out_with(format, findings, &[], &RunInfo::default())
    }

    fn out_with(format: Format, findings: &[Finding], errors: &[ScanError], run: &RunInfo) -> String {
        let stats = ScanStats::default();
        let input = ReportInput {
            findings,
            errors,
            notices: &[],
            stats: &stats,
            run,
            times: ScanTimes::default(),
        };
        let opts = ReportOptions {
            show_secrets: false,
            color: false,
            compact: false,
            list_errors: true,
        };
        String::from_utf8(render(format, &input, &opts)).expect("UTF-8")
    }

    #[test]
    fn every_format_shows_the_verification_and_no_secret() {
        let findings = [verified(Status::Live, true)];
        for format in [
            Format::Text,
            Format::Json,
            Format::Jsonl,
            Format::Sarif,
            Format::Gitlab,
            Format::Junit,
            Format::Csv,
        ] {
            let o = out(format, &findings);
            assert!(!o.contains(KEY), "{format:?} holds the secret");
            assert!(
                o.contains("Revoke the leaked key"),
                "{format:?} lacks the live remediation"
            );
        }
        let json: serde_json::Value = serde_json::from_str(&out(Format::Json, &findings)).expect("JSON");
        let v = &json["findings"][0]["verification"];
        assert_eq!(v["status"], "live");
        assert_eq!(v["account"]["organization"], "Acme Inc");
        assert_eq!(v["account"]["key_prefix_is_public_key"], true);
        assert_eq!(
            v["scopes"]["granted"],
            serde_json::json!(["accounts:read", "profiles:read"])
        );
        assert_eq!(v["scopes"]["denied"], serde_json::json!(["flows:read"]));
        assert_eq!(v["scopes"]["customer_data"], true);
        let sarif: serde_json::Value = serde_json::from_str(&out(Format::Sarif, &findings)).expect("JSON");
        assert_eq!(
            sarif["runs"][0]["results"][0]["properties"]["verification"]["status"],
            "live"
        );
        let csv = out(Format::Csv, &findings);
        let mut rows = ::csv::Reader::from_reader(csv.as_bytes());
        let header = rows.headers().expect("a header").clone();
        let row = rows.records().next().expect("a row").expect("valid CSV");
        let col = |name: &str| header.iter().position(|h| h == name).expect("column");
        assert_eq!(&row[col("verification")], "live");
        assert_eq!(&row[col("account")], "AbC123 (Acme Inc)");
        let text = out(Format::Text, &findings);
        assert!(text.contains("verified: LIVE (klaviyo)"), "{text}");
        assert!(text.contains("granted  profiles:read"), "{text}");
        assert!(
            text.contains("account AbC123 \"Acme Inc\" (confirmed by Klaviyo)"),
            "{text}"
        );
    }

    #[test]
    fn csv_rows_after_the_findings_are_as_wide_as_the_verification_header() {
        let findings = [verified(Status::Live, false)];
        let errors = [ScanError::new(ErrorKind::Io, "locked.env", "permission denied")];
        let run = RunInfo {
            config: Some(AppliedConfig {
                path: "pkhound.toml".into(),
                source: "--config".into(),
                format: "pkhound",
                changes: vec!["adds rule acme-token".into()],
                weakens: vec![],
            }),
            ..RunInfo::default()
        };
        let csv = out_with(Format::Csv, &findings, &errors, &run);
        let rows: Vec<::csv::StringRecord> = ::csv::Reader::from_reader(csv.as_bytes())
            .records()
            .collect::<Result<_, _>>()
            .expect("one width for every row");
        assert_eq!(rows.len(), 3);
    }

    #[test]
    fn an_invalid_key_keeps_the_rule_remediation() {
        let findings = [verified(Status::Invalid, false)];
        let json: serde_json::Value = serde_json::from_str(&out(Format::Json, &findings)).expect("JSON");
        assert_eq!(json["findings"][0]["remediation"], "Rotate it.");
        assert_eq!(json["findings"][0]["verification"]["status"], "invalid");
        assert!(json["findings"][0]["verification"].get("scopes").is_none());
    }
}
