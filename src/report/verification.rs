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
pub(crate) fn remediation(f: &Finding) -> &str {
    f.verification
        .as_deref()
        .filter(|v| v.status == Status::Live)
        .and_then(|v| v.remediation.as_deref())
        .unwrap_or(&f.rule.remediation)
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
