//! Data-driven checks for simple providers, declared in a rule file as `[rule.verify_http]`:
//!
//! ```toml
//! [rule.verify_http]
//! provider = "github"                       # PKHOUND_GITHUB_API_URL replaces the URL's scheme and host
//! url = "https://api.github.com/user"       # https only; GET (default) or HEAD, nothing else
//! headers = { Authorization = "Bearer {secret}", X-GitHub-Api-Version = "2022-11-28" }
//! # basic_auth = { username = "{secret}", password = "" }   # or query = { key = "{secret}" }
//! live = [200]                              # statuses that mean the secret works
//! invalid = [401]                           # statuses that mean it does not; anything else is unknown
//! live_body = '"ok":\s*true'                # optional regex a live answer's body must match (else invalid)
//! ```
//!
//! `{secret}` is replaced by the secret under test, in headers, basic auth or query only: never in the
//! host. Such checks come only from built-in rules or a config named with `--config`; a `.pkhound.toml`
//! found in the scanned tree cannot add one (see [`super::Verifiers`]).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;

use super::client::{Client, Outcome, Request};
use super::result::{Status, Verification};
use crate::finding::Secret;

/// The placeholder for the secret in templates.
pub const PLACEHOLDER: &str = "{secret}";

fn default_method() -> String {
    "GET".into()
}
fn default_live() -> Vec<u16> {
    vec![200]
}
fn default_invalid() -> Vec<u16> {
    vec![401]
}

/// HTTP basic authentication; either part may hold `{secret}`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub username: String,
    #[serde(default)]
    pub password: String,
}

/// A data-driven check, as written in a rule file.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HttpCheck {
    /// Lower-case provider name: reports say it, and `PKHOUND_<PROVIDER>_API_URL` overrides the base URL.
    pub provider: String,
    #[serde(default = "default_method")]
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    #[serde(default = "default_live")]
    pub live: Vec<u16>,
    #[serde(default = "default_invalid")]
    pub invalid: Vec<u16>,
    #[serde(default)]
    pub live_body: Option<String>,
}

impl HttpCheck {
    /// Checks the declaration; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        let p = &self.provider;
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
            return Err("verify_http.provider must be lower-case letters and digits".into());
        }
        if !matches!(self.method.as_str(), "GET" | "HEAD") {
            return Err(format!(
                "verify_http.method `{}`: only GET and HEAD (a verifier never writes)",
                self.method
            ));
        }
        let Some((base, _)) = split_url(&self.url) else {
            return Err("verify_http.url must be an absolute URL with a path (https://host/path)".into());
        };
        if !base.starts_with("https://") {
            return Err("verify_http.url must use https (PKHOUND_<PROVIDER>_API_URL may point a test at http)".into());
        }
        if base.contains(PLACEHOLDER) {
            return Err("verify_http.url: the secret may not go into the host".into());
        }
        let mut places = self.headers.values().chain(self.query.values()).collect::<Vec<_>>();
        if let Some(b) = &self.basic_auth {
            places.push(&b.username);
            places.push(&b.password);
        }
        if !places.iter().any(|v| v.contains(PLACEHOLDER)) {
            return Err("verify_http: {secret} must appear in a header, basic_auth or query value".into());
        }
        if self.url.contains(PLACEHOLDER) {
            return Err("verify_http.url: put {secret} in headers, basic_auth or query, not the URL".into());
        }
        for (k, v) in &self.headers {
            if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                return Err(format!("verify_http.headers: `{k}` is not a header name"));
            }
            if v.contains(['\r', '\n']) {
                return Err(format!("verify_http.headers.{k}: no line breaks"));
            }
        }
        if self.live.is_empty() {
            return Err("verify_http.live must list at least one status".into());
        }
        if let Some(s) = self.live.iter().find(|s| self.invalid.contains(s)) {
            return Err(format!("verify_http: status {s} is both live and invalid"));
        }
        if let Some(s) = self
            .live
            .iter()
            .chain(&self.invalid)
            .find(|s| !(100..=599).contains(*s))
        {
            return Err(format!("verify_http: {s} is not an HTTP status"));
        }
        if self.method == "HEAD" && self.live_body.is_some() {
            return Err("verify_http.live_body needs a body: use GET".into());
        }
        if let Some(re) = &self.live_body {
            regex::Regex::new(re).map_err(|e| format!("verify_http.live_body: {}", first_line(&e.to_string())))?;
        }
        Ok(())
    }

    /// The URL to call: the declared one, or its path under `base` (from `PKHOUND_<PROVIDER>_API_URL`).
    pub fn url(&self, base: Option<&str>) -> String {
        match (base, split_url(&self.url)) {
            (Some(base), Some((_, path))) => format!("{}{path}", base.trim_end_matches('/')),
            _ => self.url.clone(),
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().last().unwrap_or(s).trim()
}

/// `https://host:port/path?q` → (`https://host:port`, `/path?q`).
pub fn split_url(url: &str) -> Option<(&str, &str)> {
    let scheme_end = url.find("://")? + 3;
    let slash = url.get(scheme_end..)?.find('/')? + scheme_end;
    (slash > scheme_end).then(|| (&url[..slash], &url[slash..]))
}

/// Sends the declared request with `secret` in its place and reads the answer.
pub(crate) fn check(client: &Client, spec: &HttpCheck, base: Option<&str>, secret: &Secret) -> Verification {
    let fill = |t: &str| t.replace(PLACEHOLDER, secret.expose());
    let mut headers: Vec<(String, String)> = spec.headers.iter().map(|(k, v)| (k.clone(), fill(v))).collect();
    if let Some(b) = &spec.basic_auth {
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", fill(&b.username), fill(&b.password)));
        headers.push(("Authorization".into(), format!("Basic {token}")));
    }
    let req = Request {
        method: &spec.method,
        url: spec.url(base),
        headers,
        query: spec.query.iter().map(|(k, v)| (k.clone(), fill(v))).collect(),
    };
    let provider = spec.provider.as_str();
    let r = match client.send_with_retry(&req, || true) {
        Outcome::Failed(f) => return Verification::unknown(provider, f.to_string()),
        Outcome::Reply(r) => r,
    };
    if spec.live.contains(&r.status) {
        let body_ok = match &spec.live_body {
            // Validated at load.
            Some(re) => regex::Regex::new(re).is_ok_and(|re| re.is_match(&r.body)),
            None => true,
        };
        return if body_ok {
            Verification::new(provider, Status::Live, format!("{} from {provider}", r.status))
        } else {
            Verification::new(
                provider,
                Status::Invalid,
                format!(
                    "{} from {provider}, but the body says the credential was refused",
                    r.status
                ),
            )
        };
    }
    if spec.invalid.contains(&r.status) {
        return Verification::new(provider, Status::Invalid, format!("{} from {provider}", r.status));
    }
    Verification::unknown(provider, format!("unexpected status {} from {provider}", r.status))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(url: &str) -> HttpCheck {
        HttpCheck {
            provider: "github".into(),
            method: "GET".into(),
            url: url.into(),
            headers: BTreeMap::from([("Authorization".to_string(), "Bearer {secret}".to_string())]),
            basic_auth: None,
            query: BTreeMap::new(),
            live: vec![200],
            invalid: vec![401],
            live_body: None,
        }
    }

    #[test]
    fn declarations_are_checked() {
        assert_eq!(spec("https://api.github.com/user").validate(), Ok(()));
        assert!(spec("http://api.github.com/user").validate().is_err());
        assert!(spec("https://api.github.com").validate().is_err());
        let mut post = spec("https://api.github.com/user");
        post.method = "POST".into();
        assert!(post.validate().unwrap_err().contains("never writes"));
        let mut nowhere = spec("https://api.github.com/user");
        nowhere.headers.clear();
        assert!(nowhere.validate().is_err());
    }

    #[test]
    fn base_override_keeps_the_path() {
        let s = spec("https://api.github.com/user?x=1");
        assert_eq!(s.url(Some("http://127.0.0.1:9/")), "http://127.0.0.1:9/user?x=1");
        assert_eq!(s.url(None), "https://api.github.com/user?x=1");
    }
}
