//! Klaviyo private keys: is the key live, whose is it, and (with `--blast-radius`) which read scopes it
//! holds. Read-only GETs to Klaviyo's `/api/` and nothing else.
//!
//! What Klaviyo documents, and what this follows:
//! - Authentication: `Authorization: Klaviyo-API-Key <private key>`, a `revision` header and
//!   `accept: application/vnd.api+json` on every `/api/` call
//!   (<https://developers.klaviyo.com/en/docs/authenticate_>, <https://developers.klaviyo.com/en/reference/api-overview>).
//! - Revisions are dated and pinned per request; an old pinned revision keeps working for two years
//!   (<https://developers.klaviyo.com/en/docs/api_versioning_and_deprecation_policy>). [`REVISION`] is the
//!   one this module was written against.
//! - Get Accounts, `GET /api/accounts/` (scope `accounts:read`, rate tier XS: 1/s burst, 15/min steady)
//!   returns the one account of the key with `attributes.contact_information.organization_name` and
//!   `attributes.public_api_key` (<https://developers.klaviyo.com/en/reference/get_accounts>).
//! - Errors are a JSON:API `{"errors": [{"status", "code", …}]}`: 401 for a missing or wrong key, 403
//!   `permission_denied` for a valid key without the endpoint's scope, 429 `throttled` with `Retry-After`
//!   (<https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling>). Older docs say "a 400
//!   error indicates an invalid or missing API key"; today's API answers 401, so a 400 is `unknown`.
//! - Rate limits are per account, fixed windows (1 s burst, 1 min steady), and private keys share the
//!   account's quota with its production integrations; non-429 answers carry `RateLimit-Limit`,
//!   `RateLimit-Remaining` and `RateLimit-Reset`, a 429 only `Retry-After` (same page). Hence the pacing:
//!   at most one request per second per account and endpoint, a pause when `RateLimit-Remaining` hits 0,
//!   and keys of one account probed one after the other.
//!
//! Peers read Klaviyo's 403 as "invalid" and report a live key without `accounts:read` as dead; a 403
//! with a JSON:API error is a live key. A 403 HTML page is a CDN challenge (Cloudflare's `cf-mitigated`),
//! which says nothing about the key: `unknown`.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::{Duration, Instant},
};

use super::client::{Client, Outcome, Reply, Request};
use super::result::{Account, Scope, ScopeMap, Status, Verification};
use crate::finding::Secret;

/// The API revision every request pins (the `revision` header).
pub const REVISION: &str = "2026-07-15";
/// Klaviyo's API host.
pub const DEFAULT_BASE: &str = "https://a.klaviyo.com";
const PROVIDER: &str = "klaviyo";
/// The least time between two requests to one endpoint of one account (the XS tier's burst: 1/s).
const MIN_GAP: Duration = Duration::from_secs(1);
/// The longest `RateLimit-Reset` pause taken when `RateLimit-Remaining` reaches 0.
const MAX_RESET_WAIT: Duration = Duration::from_secs(10);

/// Steps for a live Klaviyo key, in every format.
pub const LIVE_REMEDIATION: &str =
    "This key is live. 1) Create a replacement private key with the least scopes it needs \
(Klaviyo → Settings → API keys). 2) Deploy it from an environment variable or a secrets manager, never from code. \
3) Revoke the leaked key in Settings → API keys. 4) Review the account's activity log for use of the leaked key.";

/// A read scope, the cheapest GET that needs exactly it (and what else it needs), and what it exposes.
/// From Klaviyo's OpenAPI spec (`x-klaviyo-scopes` per operation, `page[size]` ranges, required filters).
struct ScopeProbe {
    scope: &'static str,
    path: &'static str,
    query: &'static [(&'static str, &'static str)],
    /// Another scope the endpoint needs too: without it the probe says nothing about `scope`.
    also: Option<&'static str>,
    exposes: &'static str,
}

const PAGE1: &[(&str, &str)] = &[("page[size]", "1")];

const PROBES: &[ScopeProbe] = &[
    ScopeProbe {
        scope: "profiles:read",
        path: "profiles/",
        query: PAGE1,
        also: None,
        exposes: "customer profiles: names, emails, phone numbers, addresses (PII)",
    },
    ScopeProbe {
        scope: "events:read",
        path: "events/",
        query: PAGE1,
        also: None,
        exposes: "purchase and activity events (order history)",
    },
    ScopeProbe {
        scope: "lists:read",
        path: "lists/",
        query: PAGE1,
        also: None,
        exposes: "lists and who is on them",
    },
    ScopeProbe {
        scope: "segments:read",
        path: "segments/",
        query: PAGE1,
        also: None,
        exposes: "segments (audience definitions and members)",
    },
    ScopeProbe {
        scope: "conversations:read",
        path: "profiles/pkhound-probe/conversations/",
        query: &[],
        also: Some("profiles:read"),
        exposes: "SMS conversations with customers",
    },
    ScopeProbe {
        scope: "push-tokens:read",
        path: "push-tokens/",
        query: PAGE1,
        also: Some("profiles:read"),
        exposes: "mobile push tokens of customers",
    },
    ScopeProbe {
        scope: "metrics:read",
        path: "metrics/",
        query: &[],
        also: None,
        exposes: "metrics (revenue and activity aggregates)",
    },
    ScopeProbe {
        scope: "campaigns:read",
        path: "campaigns/",
        query: &[("filter", "equals(messages.channel,'email')"), ("page[size]", "1")],
        also: None,
        exposes: "campaigns and their messages (sending setup)",
    },
    ScopeProbe {
        scope: "flows:read",
        path: "flows/",
        query: PAGE1,
        also: None,
        exposes: "automated flows (sending setup)",
    },
    ScopeProbe {
        scope: "templates:read",
        path: "templates/",
        query: PAGE1,
        also: None,
        exposes: "email templates (sending setup)",
    },
    ScopeProbe {
        scope: "catalogs:read",
        path: "catalog-items/",
        query: PAGE1,
        also: None,
        exposes: "product catalog",
    },
    ScopeProbe {
        scope: "coupons:read",
        path: "coupons/",
        query: PAGE1,
        also: None,
        exposes: "coupons",
    },
    ScopeProbe {
        scope: "coupon-codes:read",
        path: "coupon-codes/",
        query: &[("filter", "equals(coupon.id,'pkhound-probe')"), ("page[size]", "1")],
        also: None,
        exposes: "coupon codes and who holds them",
    },
    ScopeProbe {
        scope: "custom-objects:read",
        path: "object-types/",
        query: &[],
        also: None,
        exposes: "custom objects",
    },
    ScopeProbe {
        scope: "forms:read",
        path: "forms/",
        query: PAGE1,
        also: None,
        exposes: "signup forms",
    },
    ScopeProbe {
        scope: "images:read",
        path: "images/",
        query: PAGE1,
        also: None,
        exposes: "uploaded images",
    },
    ScopeProbe {
        scope: "reviews:read",
        path: "reviews/",
        query: PAGE1,
        also: None,
        exposes: "product reviews and reviewers",
    },
    ScopeProbe {
        scope: "subscriptions:read",
        path: "profile-suppression-bulk-create-jobs/",
        query: &[],
        also: None,
        exposes: "suppression (unsubscribe) jobs",
    },
    ScopeProbe {
        scope: "tags:read",
        path: "tags/",
        query: PAGE1,
        also: None,
        exposes: "tags",
    },
    ScopeProbe {
        scope: "tracking-settings:read",
        path: "tracking-settings/",
        query: PAGE1,
        also: None,
        exposes: "UTM tracking settings",
    },
    ScopeProbe {
        scope: "web-feeds:read",
        path: "web-feeds/",
        query: PAGE1,
        also: None,
        exposes: "web feeds",
    },
    ScopeProbe {
        scope: "webhooks:read",
        path: "webhooks/",
        query: &[],
        also: None,
        exposes: "webhooks (where Klaviyo sends data)",
    },
];

const ACCOUNTS_EXPOSES: &str = "account name, sender address, public key";

/// For a `pk_XXXXXX_<34 hex>` key, the 6 characters after `pk_`: possibly the account's public key (site
/// ID). A hint for grouping, never a claim until a response confirms it.
pub fn company_prefix(secret: &Secret) -> Option<&str> {
    let s = secret.expose();
    let rest = s.strip_prefix("pk_")?;
    let (prefix, body) = rest.split_once('_')?;
    (prefix.len() == 6
        && prefix.bytes().all(|b| b.is_ascii_alphanumeric())
        && body.len() == 34
        && body.bytes().all(|b| b.is_ascii_hexdigit()))
    .then_some(prefix)
}

/// The steady (one-minute) limit of an endpoint's rate tier, from each operation's `x-klaviyo-ratelimit`
/// in Klaviyo's OpenAPI spec (XS 15/m, S 60/m, M 150/m, L 700/m as the rate-limit page lists them). The
/// burst limit is at least 1/s everywhere, which [`MIN_GAP`] keeps.
fn steady_per_minute(endpoint: &str) -> usize {
    match endpoint {
        "accounts" | "webhooks:read" | "web-feeds:read" => 15,
        "conversations:read" | "flows:read" | "forms:read" | "tags:read" | "custom-objects:read" => 60,
        "metrics:read"
        | "campaigns:read"
        | "images:read"
        | "push-tokens:read"
        | "reviews:read"
        | "tracking-settings:read" => 150,
        _ => 700,
    }
}

/// Requests in flight and last answered, per endpoint, across the lanes of one run: for every lane, and
/// for the lane of keys whose account is unknown. A key of unknown account may belong to any account,
/// so its requests and every other lane's never overlap and keep [`MIN_GAP`] between the end of one and
/// the start of the next (an answer has arrived, so the request reached Klaviyo's window before it).
#[derive(Default)]
pub(crate) struct Lanes {
    slots: Mutex<Slots>,
}

#[derive(Default)]
struct Slots {
    any: HashMap<&'static str, Use>,
    unknown: HashMap<&'static str, Use>,
}

#[derive(Clone, Copy, Default)]
struct Use {
    in_flight: usize,
    done: Option<Instant>,
}

impl Use {
    fn start(&mut self) {
        self.in_flight += 1;
    }

    fn end(&mut self, at: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.done = Some(self.done.map_or(at, |d| d.max(at)));
    }
}

/// How often a lane looks again while another lane's request to the same endpoint is in flight.
const POLL: Duration = Duration::from_millis(20);

/// Remembers when each endpoint of one account may be called again, and what this run already spent of
/// its one-minute window.
struct Pacer<'c> {
    client: &'c Client,
    lanes: &'c Lanes,
    /// This lane's keys carry no company id: their account could be any other lane's.
    unknown: bool,
    /// The endpoint of this lane's request in flight.
    holding: Option<&'static str>,
    next: HashMap<&'static str, Instant>,
    sent: HashMap<&'static str, VecDeque<Instant>>,
    /// One-minute limits the account's answers announced (`RateLimit-Limit`), lower than the tier's when
    /// Klaviyo set the account a stricter limit.
    learned: HashMap<&'static str, usize>,
}

impl Pacer<'_> {
    /// Waits for `endpoint`'s next slot and marks the request in flight; false (at once) when the slot
    /// lies past the deadline.
    fn wait(&mut self, endpoint: &'static str) -> bool {
        self.release();
        let Some(at) = self.own_slot(endpoint) else {
            return false;
        };
        if !self.client.sleep_until(at) {
            return false;
        }
        loop {
            match self.try_start(endpoint, Instant::now()) {
                Ok(()) => break,
                Err(t) if !self.client.sleep_until(t) => return false,
                Err(_) => {}
            }
        }
        self.sent.entry(endpoint).or_default().push_back(Instant::now());
        true
    }

    /// Starts a request to `endpoint` if no conflicting lane has one in flight or answered less than
    /// [`MIN_GAP`] ago; else says when to look again.
    fn try_start(&mut self, endpoint: &'static str, now: Instant) -> Result<(), Instant> {
        let mut lanes = self.lanes.slots.lock().expect("no lane panics while holding the slots");
        let other = if self.unknown {
            lanes.any.get(endpoint)
        } else {
            lanes.unknown.get(endpoint)
        }
        .copied()
        .unwrap_or_default();
        if other.in_flight > 0 {
            return Err(now + POLL);
        }
        if let Some(free) = other.done.map(|d| d + MIN_GAP).filter(|f| *f > now) {
            return Err(free);
        }
        lanes.any.entry(endpoint).or_default().start();
        if self.unknown {
            lanes.unknown.entry(endpoint).or_default().start();
        }
        self.holding = Some(endpoint);
        Ok(())
    }

    /// Ends the request in flight, if any: other lanes may go one [`MIN_GAP`] after now.
    fn release(&mut self) {
        let Some(endpoint) = self.holding.take() else {
            return;
        };
        let now = Instant::now();
        let mut lanes = self.lanes.slots.lock().expect("no lane panics while holding the slots");
        lanes.any.entry(endpoint).or_default().end(now);
        if self.unknown {
            lanes.unknown.entry(endpoint).or_default().end(now);
        }
    }

    /// This lane's own earliest time for `endpoint`: a second after its last answer, and within the
    /// endpoint's one-minute limit. `None` when that is past the deadline.
    fn own_slot(&mut self, endpoint: &'static str) -> Option<Instant> {
        let mut at = self.next.get(endpoint).copied().unwrap_or_else(Instant::now);
        let sent = self.sent.entry(endpoint).or_default();
        let minute = Duration::from_secs(60);
        while sent.front().is_some_and(|t| t.elapsed() >= minute) {
            sent.pop_front();
        }
        // As many requests in the last minute as the steady limit: wait for the oldest to age out
        // (bounded by the deadline) rather than spend the owner's quota.
        let limit = self
            .learned
            .get(endpoint)
            .map_or(steady_per_minute(endpoint), |&l| l.min(steady_per_minute(endpoint)))
            .max(1);
        if sent.len() >= limit {
            at = at.max(sent[sent.len() - limit] + minute);
        }
        (at <= self.client.deadline()).then_some(at)
    }

    /// After an answer: one second at least, longer when the headers say the window is spent.
    fn note(&mut self, endpoint: &'static str, out: &Outcome) {
        self.release();
        let mut gap = MIN_GAP;
        if let Outcome::Reply(r) = out {
            if let Some(l) = r.rate_per_minute.and_then(|l| usize::try_from(l).ok()) {
                self.learned.insert(endpoint, l);
            }
            if r.rate_remaining == Some(0) {
                let reset = Duration::from_secs(r.rate_reset.unwrap_or(1));
                gap = gap.max(reset.min(MAX_RESET_WAIT));
            }
        }
        self.next.insert(endpoint, Instant::now() + gap);
    }
}

/// Verifies keys believed to share an account, one after the other, paced per endpoint.
pub(crate) fn verify_group(
    client: &Client,
    lanes: &Lanes,
    base: &str,
    keys: &[&Secret],
    blast_radius: bool,
) -> Vec<Verification> {
    let mut pacer = Pacer {
        client,
        lanes,
        unknown: keys.first().is_some_and(|k| company_prefix(k).is_none()),
        holding: None,
        next: HashMap::new(),
        sent: HashMap::new(),
        learned: HashMap::new(),
    };
    keys.iter()
        .map(|key| verify_key(&mut pacer, base, key, blast_radius))
        .collect()
}

fn request(base: &str, path: &str, query: &[(&str, &str)], key: &Secret) -> Request<'static> {
    Request {
        method: "GET",
        url: format!("{}/api/{path}", base.trim_end_matches('/')),
        headers: vec![
            // The one place a Klaviyo key leaves the process.
            ("Authorization".into(), format!("Klaviyo-API-Key {}", key.expose())),
            ("revision".into(), REVISION.into()),
            ("accept".into(), "application/vnd.api+json".into()),
        ],
        query: query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

fn get(pacer: &mut Pacer<'_>, endpoint: &'static str, req: &Request<'_>) -> Outcome {
    let client = pacer.client;
    // The pacer is consulted before every attempt, retries included.
    let result = client.send_with_retry(req, || pacer.wait(endpoint));
    pacer.note(endpoint, &result);
    result
}

fn verify_key(pacer: &mut Pacer<'_>, base: &str, key: &Secret, blast_radius: bool) -> Verification {
    let out = get(pacer, "accounts", &request(base, "accounts/", &[], key));
    let mut v = classify_accounts(&out, key);
    if v.status == Status::Live {
        v.remediation = Some(LIVE_REMEDIATION.to_string());
        if blast_radius {
            v.scopes = Some(scope_map(pacer, base, key, v.account.is_some()));
        }
    }
    v
}

/// What `GET /api/accounts/` says about the key.
fn classify_accounts(out: &Outcome, key: &Secret) -> Verification {
    let r = match out {
        Outcome::Failed(f) => return Verification::unknown(PROVIDER, f.to_string()),
        Outcome::Reply(r) => r,
    };
    match r.status {
        200 => match account(r) {
            Some(mut account) => {
                if let (Some(prefix), Some(public)) = (company_prefix(key), account.public_api_key.as_deref()) {
                    account.prefix_is_public_key = Some(prefix == public);
                }
                let mut v = Verification::new(PROVIDER, Status::Live, "200 from /api/accounts/");
                v.account = Some(account);
                v
            }
            None => Verification::unknown(PROVIDER, "200 from /api/accounts/ without an account in the body"),
        },
        401 => Verification::new(
            PROVIDER,
            Status::Invalid,
            format!("401 {}", r.error_code().as_deref().unwrap_or("unauthorized")),
        ),
        403 if json_api_error(r) => Verification::new(
            PROVIDER,
            Status::Live,
            format!(
                "403 {} from /api/accounts/: the key works but lacks accounts:read",
                r.error_code().as_deref().unwrap_or("permission_denied")
            ),
        ),
        403 => Verification::unknown(
            PROVIDER,
            if r.challenge {
                "403 challenge page from a CDN (cf-mitigated), not Klaviyo's API"
            } else {
                "403 without a JSON:API error body (a WAF or CDN page), not Klaviyo's API"
            },
        ),
        s @ 500..=599 => Verification::unknown(PROVIDER, format!("server error {s}")),
        s => Verification::unknown(
            PROVIDER,
            format!(
                "unexpected status {s}{}",
                r.error_code().map(|c| format!(" {c}")).unwrap_or_default()
            ),
        ),
    }
}

/// A JSON:API error envelope, not an HTML page served with a JSON-ish type.
fn json_api_error(r: &Reply) -> bool {
    !r.challenge && r.is_json() && r.json().is_some_and(|v| v.get("errors").is_some_and(|e| e.is_array()))
}

fn account(r: &Reply) -> Option<Account> {
    let v = r.json()?;
    let data = v.get("data")?;
    let acct = data.as_array().and_then(|a| a.first()).unwrap_or(data);
    let id = acct.get("id")?.as_str()?;
    let attrs = acct.get("attributes");
    let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(clean);
    Some(Account {
        id: clean(id),
        organization: text(attrs.and_then(|a| a.pointer("/contact_information/organization_name"))),
        public_api_key: text(attrs.and_then(|a| a.get("public_api_key"))),
        test_account: attrs.and_then(|a| a.get("test_account")).and_then(|v| v.as_bool()),
        prefix_is_public_key: None,
    })
}

/// Provider text goes into terminals and reports: printable characters only, bounded.
fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// One GET per read scope (`page[size]=1` where the endpoint takes it).
fn scope_map(pacer: &mut Pacer<'_>, base: &str, key: &Secret, accounts_read: bool) -> ScopeMap {
    let mut map = ScopeMap::default();
    let accounts = Scope {
        name: "accounts:read",
        exposes: ACCOUNTS_EXPOSES,
        note: String::new(),
    };
    if accounts_read {
        map.granted.push(accounts);
    } else {
        map.denied.push(accounts);
    }
    let mut granted: Vec<&str> = Vec::new();
    let mut denied: Vec<&str> = Vec::new();
    for p in PROBES {
        let mut scope = Scope {
            name: p.scope,
            exposes: p.exposes,
            note: String::new(),
        };
        if let Some(also) = p.also {
            if denied.contains(&also) {
                scope.note = format!("needs {also} too, which the key lacks");
                map.unknown.push(scope);
                continue;
            }
        }
        let out = get(pacer, p.scope, &request(base, p.path, p.query, key));
        match &out {
            Outcome::Reply(r) if (200..300).contains(&r.status) => {
                granted.push(p.scope);
                map.granted.push(scope);
            }
            Outcome::Reply(r) if r.status == 403 && json_api_error(r) => {
                denied.push(p.scope);
                map.denied.push(scope);
            }
            Outcome::Reply(r) => {
                scope.note = format!(
                    "status {}{}",
                    r.status,
                    r.error_code().map(|c| format!(" {c}")).unwrap_or_default()
                );
                map.unknown.push(scope);
            }
            Outcome::Failed(f) => {
                scope.note = f.to_string();
                map.unknown.push(scope);
            }
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::super::client::Failure;
    use super::*;

    #[test]
    fn company_prefix_only_for_the_company_form() {
        let k = Secret::new(b"pk_AbC123_0f1e2d3c4b5a69788796a5b4c3d2e1f0ff"); // pkhound:allow
        assert_eq!(company_prefix(&k), Some("AbC123"));
        let classic = Secret::new(b"pk_0f1e2d3c4b5a69788796a5b4c3d2e1f0aa"); // pkhound:allow
        assert_eq!(company_prefix(&classic), None);
    }

    #[test]
    fn the_pacer_never_spends_more_than_the_steady_window() {
        let client = Client::new(Duration::from_secs(1), Instant::now() + Duration::from_secs(2), None);
        let lanes = Lanes::default();
        let mut pacer = Pacer {
            client: &client,
            lanes: &lanes,
            unknown: false,
            holding: None,
            next: HashMap::new(),
            sent: HashMap::new(),
            learned: HashMap::new(),
        };
        for _ in 0..15 {
            assert!(pacer.wait("accounts"));
        }
        // The 16th /api/accounts/ call of the minute would wait past the deadline: refused, at once.
        let started = Instant::now();
        assert!(!pacer.wait("accounts"));
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(pacer.wait("profiles:read"));
        // A stricter limit the account announced (RateLimit-Limit: 1, 1;w=1, 2;w=60) wins over the tier's.
        pacer.learned.insert("lists:read", 2);
        assert!(pacer.wait("lists:read") && pacer.wait("lists:read"));
        assert!(!pacer.wait("lists:read"));
    }

    #[test]
    fn a_key_of_unknown_account_keeps_a_gap_from_every_lane() {
        let client = Client::new(Duration::from_secs(1), Instant::now() + Duration::from_secs(30), None);
        let lanes = Lanes::default();
        let lane = |unknown| Pacer {
            client: &client,
            lanes: &lanes,
            unknown,
            holding: None,
            next: HashMap::new(),
            sent: HashMap::new(),
            learned: HashMap::new(),
        };
        let (mut classic, mut acme, mut other) = (lane(true), lane(false), lane(false));
        let t0 = Instant::now();
        assert_eq!(classic.try_start("accounts", t0), Ok(()));
        // While the unknown-account lane has a request in flight, no other lane starts one…
        assert!(acme.try_start("accounts", t0).is_err());
        classic.release();
        let done = Instant::now();
        // … nor within a second of its answer; another endpoint is free.
        let wait = acme.try_start("accounts", done).expect_err("too soon");
        assert!(wait >= done + MIN_GAP - Duration::from_millis(50));
        assert_eq!(acme.try_start("profiles:read", done), Ok(()));
        acme.release();
        // Lanes with company ids are different accounts: they do not wait for each other.
        let later = done + MIN_GAP + Duration::from_millis(10);
        assert_eq!(acme.try_start("accounts", later), Ok(()));
        assert_eq!(other.try_start("accounts", later), Ok(()));
        // And the unknown lane waits for both.
        assert!(classic.try_start("accounts", later).is_err());
    }

    fn reply(status: u16, ct: &str, body: &str) -> Outcome {
        Outcome::Reply(Reply {
            status,
            content_type: ct.into(),
            body: body.into(),
            ..Reply::default()
        })
    }

    #[test]
    fn statuses_mean_what_klaviyo_documents() {
        let k = Secret::new(b"pk_AbC123_0f1e2d3c4b5a69788796a5b4c3d2e1f0ff"); // pkhound:allow
        let ok = r#"{"data":[{"type":"account","id":"AbC123","attributes":{"public_api_key":"AbC123",
            "contact_information":{"organization_name":"Acme"}}}]}"#;
        let v = classify_accounts(&reply(200, "application/vnd.api+json", ok), &k);
        assert_eq!(v.status, Status::Live);
        let a = v.account.expect("account");
        assert_eq!((a.id.as_str(), a.organization.as_deref()), ("AbC123", Some("Acme")));
        assert_eq!(a.prefix_is_public_key, Some(true));
        let err = |code: &str| format!(r#"{{"errors":[{{"status":403,"code":"{code}"}}]}}"#);
        let v = classify_accounts(
            &reply(401, "application/vnd.api+json", &err("authentication_failed")),
            &k,
        );
        assert_eq!(v.status, Status::Invalid);
        let v = classify_accounts(&reply(403, "application/vnd.api+json", &err("permission_denied")), &k);
        assert_eq!(v.status, Status::Live);
        let v = classify_accounts(&reply(403, "text/html", "<html>Just a moment</html>"), &k);
        assert_eq!(v.status, Status::Unknown);
        let v = classify_accounts(&reply(503, "text/html", ""), &k);
        assert_eq!((v.status, v.reason.as_str()), (Status::Unknown, "server error 503"));
        let v = classify_accounts(&Outcome::Failed(Failure::Timeout(Duration::from_secs(1))), &k);
        assert_eq!(v.status, Status::Unknown);
    }
}
