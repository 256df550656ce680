//! Opt-in verification (`--verify`): ask each secret's provider whether it still works, once per secret.
//!
//! The only stage that opens connections, and only when asked. It runs after triage and before
//! reporting: it reads findings, groups them by secret (the cache key is a fingerprint of verifier and
//! secret, so a key found in fifty files is checked once), sends at most `concurrency` requests at a time
//! within a per-request timeout and an overall deadline, and attaches the same [`Verification`] to every
//! finding of that secret. Klaviyo keys go to [`klaviyo`], grouped by account; simple providers to the
//! data-driven [`http`] checks their rules declare.
//!
//! Where a verifier may send a secret is decided by built-in rules, a config named with `--config`, or
//! `PKHOUND_<PROVIDER>_API_URL`; never by a `.pkhound.toml` found inside the scanned tree, which anyone
//! who can open a pull request controls ([`Verifiers::from_rules`]).

mod client;
pub mod http;
pub mod klaviyo;
mod result;

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

pub use client::Failure;
pub use result::{Account, Scope, ScopeMap, Status, Verification};

use crate::finding::{Finding, Fingerprint, RuleId, Secret};
use crate::rules::LoadedRule;
use client::Client;
use http::HttpCheck;

/// How a rule's secrets are verified.
#[derive(Clone, Debug)]
pub enum Verifier {
    /// `verify = "klaviyo"`: status, account and (with `--blast-radius`) scopes.
    Klaviyo,
    /// `[rule.verify_http]`.
    Http(Arc<HttpCheck>),
}

impl Verifier {
    /// The provider name, as reports and `PKHOUND_<PROVIDER>_API_URL` spell it.
    pub fn provider(&self) -> &str {
        match self {
            Verifier::Klaviyo => "klaviyo",
            Verifier::Http(h) => &h.provider,
        }
    }
}

/// The named verifiers a rule may ask for with `verify = "…"`.
pub const NAMED: &[&str] = &["klaviyo"];

/// Which verifier each rule of a scan uses.
#[derive(Clone, Debug, Default)]
pub struct Verifiers {
    by_rule: HashMap<String, Verifier>,
}

impl Verifiers {
    /// The verifiers of `rules` (the rules a scan runs). Rules defined in `untrusted` (the file name of a
    /// config found inside the scanned tree rather than named with `--config`) get none.
    pub fn from_rules(rules: &[LoadedRule], untrusted: Option<&str>) -> Verifiers {
        let mut by_rule = HashMap::new();
        for r in rules {
            if untrusted.is_some_and(|f| r.file == f) {
                continue;
            }
            let v = match (&r.spec.verify_http, r.spec.verify.as_deref()) {
                (Some(h), _) => Verifier::Http(Arc::new((**h).clone())),
                (None, Some("klaviyo")) => Verifier::Klaviyo,
                _ => continue,
            };
            by_rule.insert(r.spec.id.clone(), v);
        }
        Verifiers { by_rule }
    }

    pub fn get(&self, rule: &RuleId) -> Option<&Verifier> {
        self.by_rule.get(rule.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.by_rule.is_empty()
    }
}

/// What an untrusted config (found in the scanned tree) tried to say about verification, which is
/// ignored: one warning per rule.
pub fn untrusted_warnings(rules: &[LoadedRule], file: &str) -> Vec<String> {
    rules
        .iter()
        .filter(|r| r.file == file && (r.spec.verify.is_some() || r.spec.verify_http.is_some()))
        .map(|r| {
            format!(
                "{file}: rule `{}`: its verifier is IGNORED: a config found in the scanned tree may not say where \
                 secrets are sent (anyone who can change the repository could point it at their own server); \
                 pass it with --config to trust it",
                r.spec.id
            )
        })
        .collect()
}

/// How to verify.
#[derive(Clone, Debug)]
pub struct Options {
    /// Probe every read scope of live Klaviyo keys.
    pub blast_radius: bool,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Per request.
    pub timeout: Duration,
    /// For the whole verification stage; what is not done by then is `unknown`.
    pub deadline: Duration,
    /// Base URLs by provider (`klaviyo` → `http://127.0.0.1:8080`), from `PKHOUND_<PROVIDER>_API_URL`.
    pub base_urls: HashMap<String, String>,
    /// PEM certificates to trust instead of Mozilla's roots (the file `SSL_CERT_FILE` names), for
    /// networks that inspect TLS.
    pub roots: Option<Vec<u8>>,
}

impl Options {
    /// `PKHOUND_<PROVIDER>_API_URL` variables, from an environment listing (`std::env::vars()`).
    pub fn base_urls_from(vars: impl IntoIterator<Item = (String, String)>) -> HashMap<String, String> {
        vars.into_iter()
            .filter_map(|(k, v)| {
                let provider = k.strip_prefix("PKHOUND_")?.strip_suffix("_API_URL")?;
                (!provider.is_empty() && !v.trim().is_empty()).then(|| (provider.to_ascii_lowercase(), v))
            })
            .collect()
    }
}

/// Counts, for a one-line summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub secrets: usize,
    pub live: usize,
    pub invalid: usize,
    pub unknown: usize,
}

enum Job {
    /// Klaviyo keys that may share an account: one after the other.
    Klaviyo(Vec<(Fingerprint, Secret)>),
    Http(Fingerprint, Arc<HttpCheck>, Secret),
}

/// Verifies the secrets of `findings` whose rule has a verifier and attaches the result to each.
pub fn run(findings: &mut [Finding], verifiers: &Verifiers, opts: &Options) -> Summary {
    // One entry per (provider, secret): the cache.
    let mut unique: BTreeMap<Fingerprint, (Verifier, Secret)> = BTreeMap::new();
    let mut keys: Vec<Option<Fingerprint>> = Vec::with_capacity(findings.len());
    for f in findings.iter() {
        let key = verifiers.get(&f.rule.id).map(|v| {
            let key = f.secret.fingerprint(&RuleId::new(&format!("verify:{}", v.provider())));
            unique
                .entry(key.clone())
                .or_insert_with(|| (v.clone(), f.secret.clone()));
            key
        });
        keys.push(key);
    }
    let results = verify_all(unique, opts);
    let mut summary = Summary {
        secrets: results.len(),
        ..Summary::default()
    };
    for v in results.values() {
        match v.status {
            Status::Live => summary.live += 1,
            Status::Invalid => summary.invalid += 1,
            Status::Unknown => summary.unknown += 1,
        }
    }
    for (f, key) in findings.iter_mut().zip(keys) {
        if let Some(key) = key {
            f.verification = results.get(&key).cloned();
        }
    }
    summary
}

fn verify_all(
    unique: BTreeMap<Fingerprint, (Verifier, Secret)>,
    opts: &Options,
) -> HashMap<Fingerprint, Arc<Verification>> {
    // Group Klaviyo keys by account before probing: the company-id form names a candidate account; keys
    // that do not are one group, since any two of them may share an account and its quota.
    let mut groups: BTreeMap<String, Vec<(Fingerprint, Secret)>> = BTreeMap::new();
    let mut jobs: Vec<Job> = Vec::new();
    for (key, (verifier, secret)) in unique {
        match verifier {
            Verifier::Klaviyo => {
                let group = klaviyo::company_prefix(&secret).unwrap_or("").to_string();
                groups.entry(group).or_default().push((key, secret));
            }
            Verifier::Http(h) => jobs.push(Job::Http(key, h, secret)),
        }
    }
    // Longest first (the group of keys without a company id), so it does not finish last alone.
    let mut kl: Vec<_> = groups.into_values().collect();
    kl.sort_by_key(|g| std::cmp::Reverse(g.len()));
    let mut queue: Vec<Job> = kl.into_iter().map(Job::Klaviyo).chain(jobs).collect();
    queue.reverse(); // popped from the end
    let workers = opts.concurrency.max(1).min(queue.len());
    let queue = Mutex::new(queue);
    let results = Mutex::new(HashMap::new());
    let client = Client::new(opts.timeout, Instant::now() + opts.deadline, opts.roots.as_deref());
    let lanes = klaviyo::Lanes::default();
    let klaviyo_base = opts
        .base_urls
        .get("klaviyo")
        .map_or(klaviyo::DEFAULT_BASE, String::as_str);
    // Each worker has one request in flight at a time: `workers` bounds the requests in flight.
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let job = queue.lock().expect("no worker panics while holding the queue").pop();
                let Some(job) = job else { break };
                let done: Vec<(Fingerprint, Verification)> = match job {
                    Job::Klaviyo(keys) => {
                        let secrets: Vec<&Secret> = keys.iter().map(|(_, s)| s).collect();
                        let out = klaviyo::verify_group(&client, &lanes, klaviyo_base, &secrets, opts.blast_radius);
                        keys.iter().map(|(k, _)| k.clone()).zip(out).collect()
                    }
                    Job::Http(key, check, secret) => {
                        let base = opts.base_urls.get(&check.provider).map(String::as_str);
                        vec![(key, http::check(&client, &check, base, &secret))]
                    }
                };
                let mut r = results.lock().expect("no worker panics while holding the results");
                for (k, v) in done {
                    r.insert(k, Arc::new(v));
                }
            });
        }
    });
    results.into_inner().expect("workers have finished")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_verify_the_providers_the_issue_names() {
        let rules = crate::rules::builtin().expect("built-in rules load");
        let v = Verifiers::from_rules(&rules, None);
        let mut providers: Vec<&str> = rules
            .iter()
            .filter_map(|r| v.get(&RuleId::new(&r.spec.id)).map(Verifier::provider))
            .collect();
        providers.sort_unstable();
        providers.dedup();
        assert_eq!(
            providers,
            [
                "anthropic",
                "github",
                "gitlab",
                "klaviyo",
                "openai",
                "sendgrid",
                "slack",
                "stripe"
            ]
        );
        for r in rules.iter().filter(|r| r.spec.id.starts_with("klaviyo-")) {
            assert!(matches!(v.get(&RuleId::new(&r.spec.id)), Some(Verifier::Klaviyo)));
        }
        // Every built-in check goes to its provider over https.
        for r in &rules {
            if let Some(h) = &r.spec.verify_http {
                assert!(h.url.starts_with("https://"), "{}", r.spec.id);
                assert_eq!(h.validate(), Ok(()), "{}", r.spec.id);
            }
        }
    }

    #[test]
    fn untrusted_rules_get_no_verifier() {
        let text = r#"
[[rule]]
id = "acme-token"
name = "Acme"
severity = "high"
keywords = ["acme_"]
regex = '''acme_[a-f0-9]{32}'''
remediation = "r"
[rule.verify_http]
provider = "acme"
url = "https://acme.example/whoami"
headers = { Authorization = "Bearer {secret}" }
"#;
        let rules = crate::rules::parse_rule_file(".pkhound.toml", text).expect("parses");
        assert!(Verifiers::from_rules(&rules, Some(".pkhound.toml")).is_empty());
        assert!(!Verifiers::from_rules(&rules, None).is_empty());
        assert_eq!(untrusted_warnings(&rules, ".pkhound.toml").len(), 1);
    }

    #[test]
    fn base_urls_come_from_pkhound_provider_api_url() {
        let vars = [
            ("PKHOUND_KLAVIYO_API_URL", "http://127.0.0.1:1"),
            ("PKHOUND_GITHUB_API_URL", "http://127.0.0.1:2"),
            ("PKHOUND_API_URL", "x"),
            ("HOME", "/root"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let m = Options::base_urls_from(vars);
        assert_eq!(m.len(), 2);
        assert_eq!(m["klaviyo"], "http://127.0.0.1:1");
    }
}
