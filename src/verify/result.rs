//! What a verifier found out about one secret. Attached to every finding of that secret; reporters read it,
//! never the network. Nothing here holds the secret itself.

/// Whether the provider accepted the secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// The provider authenticated the secret: it works today.
    Live,
    /// The provider rejected the secret as a credential (revoked, deleted or never valid).
    Invalid,
    /// No answer that says either: timeout, 5xx, rate limit, a CDN page, the deadline.
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Live => "live",
            Status::Invalid => "invalid",
            Status::Unknown => "unknown",
        }
    }
}

/// The account a live key belongs to, as the provider describes it. Not secret (the public key is the
/// site ID Klaviyo puts in every storefront).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub organization: Option<String>,
    /// Klaviyo's public API key (site ID / company id).
    pub public_api_key: Option<String>,
    pub test_account: Option<bool>,
    /// For `pk_XXXXXX_…` keys: whether the 6 characters after `pk_` are this account's public key.
    /// `None` for keys without such a prefix, or when the response did not say.
    pub prefix_is_public_key: Option<bool>,
}

/// One read scope and what it exposes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    /// `profiles:read`.
    pub name: &'static str,
    /// What an attacker can read with it.
    pub exposes: &'static str,
    /// Why the probe is `unknown` (status, timeout…); empty otherwise.
    pub note: String,
}

/// Which read scopes a live key holds (`--blast-radius`). Write scopes are never probed: proving one
/// takes a write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScopeMap {
    pub granted: Vec<Scope>,
    pub denied: Vec<Scope>,
    pub unknown: Vec<Scope>,
}

impl ScopeMap {
    fn holds_any(&self, names: &[&str]) -> bool {
        self.granted.iter().any(|s| names.contains(&s.name))
    }

    /// Whether the key reads customer data: profiles (PII), events (purchases), lists, segments, SMS.
    pub fn reads_customer_data(&self) -> bool {
        self.holds_any(&[
            "profiles:read",
            "events:read",
            "lists:read",
            "segments:read",
            "conversations:read",
        ])
    }

    /// Whether the key reads the sending setup: campaigns, flows, templates.
    pub fn reads_sending_setup(&self) -> bool {
        self.holds_any(&["campaigns:read", "flows:read", "templates:read"])
    }
}

/// The result of verifying one secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    pub status: Status,
    /// The provider that was asked (`klaviyo`, `github` …).
    pub provider: String,
    /// Why: the status code and error code seen, or the failure. Never holds the secret.
    pub reason: String,
    pub account: Option<Account>,
    pub scopes: Option<ScopeMap>,
    /// Concrete steps for a live key, replacing the rule's generic remediation.
    pub remediation: Option<String>,
}

impl Verification {
    pub fn new(provider: &str, status: Status, reason: impl Into<String>) -> Self {
        Verification {
            status,
            provider: provider.to_string(),
            reason: reason.into(),
            account: None,
            scopes: None,
            remediation: None,
        }
    }

    pub fn unknown(provider: &str, reason: impl Into<String>) -> Self {
        Verification::new(provider, Status::Unknown, reason)
    }
}
