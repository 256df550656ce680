//! The one place that opens connections: GET/HEAD only, no redirects (a redirect must not carry a
//! credential to another host), a timeout per request, an overall deadline, and bounded 429 retries.
//! Every failure becomes a short reason written here, never an error's `Display` (ureq's names the URL,
//! and a URL may carry a secret in its query).

use std::{
    io, thread,
    time::{Duration, Instant},
};

/// The most of a response body read (errors and a `/api/accounts/` answer are far smaller).
const MAX_BODY: u64 = 256 * 1024;
/// 429 retries per request before giving up as `unknown`.
pub(crate) const MAX_RETRIES: u32 = 2;
/// The longest `Retry-After` honoured by waiting; longer means the quota is spent: give up, do not burn it.
pub(crate) const MAX_RETRY_WAIT: Duration = Duration::from_secs(10);

/// An HTTP answer, reduced to what verifiers read.
#[derive(Clone, Debug, Default)]
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: String,
    /// `Retry-After` in seconds (the HTTP-date form is read as absent).
    pub retry_after: Option<u64>,
    /// `RateLimit-Remaining` / `RateLimit-Reset` (first number of each).
    pub rate_remaining: Option<u64>,
    pub rate_reset: Option<u64>,
    /// The one-minute limit from `RateLimit-Limit: 10, 10;w=1, 150;w=60` (Klaviyo's form), if given.
    pub rate_per_minute: Option<u64>,
    /// Cloudflare's `cf-mitigated` header: the answer is a challenge page, not the API's.
    pub challenge: bool,
    pub body: String,
}

impl Reply {
    /// A JSON (or JSON:API) body by its content type.
    pub fn is_json(&self) -> bool {
        let ct = self.content_type.to_ascii_lowercase();
        ct.contains("json")
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// The first JSON:API error's `code` (`authentication_failed`, `permission_denied` …).
    pub fn error_code(&self) -> Option<String> {
        let v = self.json()?;
        v.get("errors")?.get(0)?.get("code")?.as_str().map(|s| {
            s.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(64)
                .collect()
        })
    }
}

/// Why a request got no answer a verifier can read. The text is what reports show as the reason: it
/// names no URL and no secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("timed out after {:.1}s", .0.as_secs_f64())]
    Timeout(Duration),
    #[error("connection dropped before a complete response")]
    Dropped,
    #[error("could not connect")]
    Connect,
    #[error("DNS lookup failed")]
    Dns,
    #[error("TLS handshake failed (an untrusted certificate? SSL_CERT_FILE names a CA bundle to trust)")]
    Tls,
    #[error("invalid verifier URL")]
    InvalidUrl,
    #[error("refused: https only")]
    HttpsOnly,
    #[error("request failed")]
    Other,
    #[error("method {0} refused: verifiers only read")]
    NotARead(String),
    #[error("verification deadline reached before the request")]
    Deadline,
    #[error("verification deadline reached while pacing requests")]
    DeadlineWhilePacing,
    #[error("rate limited (429) after {0} retries")]
    RateLimited(u32),
    #[error("rate limited (429, Retry-After {0}s): not waiting longer than {max}s, the quota is the owner's", max = MAX_RETRY_WAIT.as_secs())]
    RetryTooLong(u64),
    #[error("rate limited (429, Retry-After {0}s) and the verification deadline is nearer")]
    RetryPastDeadline(u64),
}

/// A request's result: an answer, or why there was none.
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    Reply(Reply),
    Failed(Failure),
}

/// One request to send. Header and query values may hold the secret; they go nowhere but the wire.
pub(crate) struct Request<'a> {
    pub method: &'a str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
}

/// The HTTP client of one run.
pub(crate) struct Client {
    agent: ureq::Agent,
    timeout: Duration,
    deadline: Instant,
}

impl Client {
    /// `roots`: certificates (PEM) to trust instead of Mozilla's root store, from `SSL_CERT_FILE`.
    pub fn new(timeout: Duration, deadline: Instant, roots: Option<&[u8]>) -> Self {
        let certs: Vec<_> = roots
            .map(|pem| {
                ureq::tls::parse_pem(pem)
                    .filter_map(|item| match item {
                        Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let root_certs = if certs.is_empty() {
            ureq::tls::RootCerts::WebPki
        } else {
            ureq::tls::RootCerts::new_with_certs(&certs)
        };
        let agent = ureq::Agent::config_builder()
            .tls_config(ureq::tls::TlsConfig::builder().root_certs(root_certs).build())
            .timeout_global(Some(timeout))
            // Not followed: a redirect must not carry a credential anywhere, and 3xx is `unknown`.
            .max_redirects(0)
            // 4xx and 5xx are answers to classify, not errors.
            .http_status_as_error(false)
            .user_agent(concat!("pkhound/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Client {
            agent,
            timeout,
            deadline,
        }
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Time left before the overall deadline.
    pub fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Sleeps until `at`; false (without sleeping) when `at` is past the deadline.
    pub fn sleep_until(&self, at: Instant) -> bool {
        if at > self.deadline {
            return false;
        }
        let now = Instant::now();
        if at > now {
            thread::sleep(at - now);
        }
        true
    }

    /// Sends one request (no retry).
    pub fn send(&self, req: &Request<'_>) -> Outcome {
        let left = self.left();
        if left < Duration::from_millis(50) {
            return Outcome::Failed(Failure::Deadline);
        }
        let timeout = self.timeout.min(left);
        if !matches!(req.method, "GET" | "HEAD") {
            // Rules are validated at load; this is the last line of defence against a write.
            return Outcome::Failed(Failure::NotARead(req.method.to_string()));
        }
        let mut r = if req.method == "HEAD" {
            self.agent.head(&req.url)
        } else {
            self.agent.get(&req.url)
        };
        for (k, v) in &req.headers {
            r = r.header(k.as_str(), v.as_str());
        }
        for (k, v) in &req.query {
            r = r.query(k.as_str(), v.as_str());
        }
        match r.config().timeout_global(Some(timeout)).build().call() {
            Ok(resp) => Outcome::Reply(reply(resp)),
            Err(e) => Outcome::Failed(failure(&e, timeout)),
        }
    }

    /// Sends a request, waiting out `429 Retry-After` (bounded by [`MAX_RETRY_WAIT`], [`MAX_RETRIES`]
    /// and the deadline). `before` runs before each attempt (a pacer's wait); it returns false to stop.
    pub fn send_with_retry(&self, req: &Request<'_>, mut before: impl FnMut() -> bool) -> Outcome {
        let mut attempt = 0;
        loop {
            if !before() {
                return Outcome::Failed(Failure::DeadlineWhilePacing);
            }
            let out = self.send(req);
            let Outcome::Reply(r) = &out else { return out };
            if r.status != 429 {
                return out;
            }
            let wait = Duration::from_secs(r.retry_after.unwrap_or(1).max(1));
            if attempt >= MAX_RETRIES {
                return Outcome::Failed(Failure::RateLimited(MAX_RETRIES));
            }
            if wait > MAX_RETRY_WAIT {
                return Outcome::Failed(Failure::RetryTooLong(wait.as_secs()));
            }
            if !self.sleep_until(Instant::now() + wait) {
                return Outcome::Failed(Failure::RetryPastDeadline(wait.as_secs()));
            }
            attempt += 1;
        }
    }
}

fn first_number(v: Option<&str>) -> Option<u64> {
    let v = v?.trim();
    let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The `;w=60` entry of a `RateLimit-Limit` value (`10, 10;w=1, 150;w=60` → 150).
fn per_minute(limit: &str) -> Option<u64> {
    limit.split(',').find_map(|item| {
        let (n, w) = item.trim().split_once(';')?;
        (w.trim() == "w=60").then(|| n.trim().parse().ok()).flatten()
    })
}

fn reply(mut resp: ureq::http::Response<ureq::Body>) -> Reply {
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header("content-type").unwrap_or_default();
    // The HTTP-date form of Retry-After is read as absent: only whole seconds are honoured.
    let retry_after = header("retry-after")
        .filter(|v| v.trim().chars().all(|c| c.is_ascii_digit()))
        .and_then(|v| v.trim().parse().ok());
    let rate_remaining = first_number(header("ratelimit-remaining").as_deref());
    let rate_reset = first_number(header("ratelimit-reset").as_deref());
    let rate_per_minute = header("ratelimit-limit").as_deref().and_then(per_minute);
    let challenge = header("cf-mitigated").is_some();
    // A body cut short, over the limit or not UTF-8 reads as far as it goes; verifiers decide on status
    // first.
    let bytes = resp
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .unwrap_or_default();
    Reply {
        status,
        content_type,
        retry_after,
        rate_remaining,
        rate_reset,
        rate_per_minute,
        challenge,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// A failure in words of our own (see the module doc).
fn failure(e: &ureq::Error, timeout: Duration) -> Failure {
    use ureq::Error as E;
    match e {
        E::Timeout(_) => Failure::Timeout(timeout),
        E::Io(io) if matches!(io.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
            Failure::Timeout(timeout)
        }
        E::Io(io) if io.kind() == io::ErrorKind::ConnectionRefused => Failure::Connect,
        // rustls reports an untrusted certificate or a failed handshake as invalid data.
        E::Io(io) if io.kind() == io::ErrorKind::InvalidData => Failure::Tls,
        E::HostNotFound => Failure::Dns,
        E::ConnectionFailed | E::ConnectProxyFailed(_) => Failure::Connect,
        E::BadUri(_) | E::Http(_) => Failure::InvalidUrl,
        E::RequireHttpsOnly(_) | E::TlsRequired => Failure::HttpsOnly,
        E::Tls(_) | E::Rustls(_) | E::Pem(_) => Failure::Tls,
        E::Io(_) | E::Protocol(_) | E::BodyStalled | E::LargeResponseHeader(..) => Failure::Dropped,
        _ => Failure::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_one_minute_limit_is_read_from_ratelimit_limit() {
        assert_eq!(per_minute("10, 10;w=1, 150;w=60"), Some(150));
        assert_eq!(per_minute("1, 1;w=1, 15;w=60"), Some(15));
        assert_eq!(per_minute("150"), None);
    }

    #[test]
    fn failures_read_as_reasons() {
        assert_eq!(
            Failure::Timeout(Duration::from_secs(1)).to_string(),
            "timed out after 1.0s"
        );
        assert!(Failure::RetryTooLong(60)
            .to_string()
            .contains("not waiting longer than 10s"));
    }
}
