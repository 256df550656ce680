//! `--verify` and `--blast-radius` against `shared/tools/klaviyo-mock` (a local imitation of Klaviyo's API,
//! started per test on a free port) and against a tiny HTTP server for the data-driven checks. Nothing
//! here reaches the internet: every base URL points at 127.0.0.1.
//!
//! The mock needs python3. A machine without it, or without the tool, FAILS these tests with a message
//! saying so: a verifier that was never exercised must not pass.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command as Process, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    thread,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::common::pkhound;

// ------------------------------------------------------------------------------------------ keys

/// Hex from a hash of the test's name, the clock and a counter: a fresh key per run, no literal secrets.
fn random_hex(seed: &str, n: usize) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let c = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut out = String::new();
    let mut i = 0u32;
    while out.len() < n {
        let d = Sha256::digest(format!("{seed}/{nanos}/{c}/{i}").as_bytes());
        out.extend(d.iter().map(|b| format!("{b:02x}")));
        i += 1;
    }
    out.truncate(n);
    out
}

/// A classic Klaviyo private key: `pk_` + 34 lowercase hex.
fn klaviyo_key(seed: &str) -> String {
    format!("pk_{}", random_hex(seed, 34))
}

/// The company-id form: `pk_` + the account's 6-character public key + `_` + 34 hex.
fn company_key(public_key: &str, seed: &str) -> String {
    format!("pk_{public_key}_{}", random_hex(seed, 34))
}

fn alnum(seed: &str, n: usize) -> String {
    // Hex digits mapped onto letters and digits, deterministic for the seed.
    random_hex(seed, n)
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let v = (b as usize + i * 7) % 62;
            (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")[v] as char
        })
        .collect()
}

// ------------------------------------------------------------------------------------------ mock

/// `shared/tools/klaviyo-mock`, found by walking up from the crate (it sits beside the clone or the
/// worktree); a missing tool or python3 fails the test.
fn mock_tool() -> PathBuf {
    let mut dir = Some(Path::new(env!("CARGO_MANIFEST_DIR")));
    while let Some(d) = dir {
        let candidate = d.join("shared/tools/klaviyo-mock");
        if candidate.is_file() {
            let python = Process::new("python3").arg("--version").output();
            assert!(
                python.is_ok_and(|o| o.status.success()),
                "python3 is needed to run {} (the Klaviyo mock); install it, these tests must not be skipped",
                candidate.display()
            );
            return candidate;
        }
        dir = d.parent();
    }
    panic!(
        "shared/tools/klaviyo-mock not found in any parent of {}: the verifier tests need it",
        env!("CARGO_MANIFEST_DIR")
    );
}

struct Mock {
    child: Child,
    url: String,
    _dir: TempDir,
}

impl Mock {
    /// Starts the mock with these keys (`key → account`) and fail modes.
    fn start(keys: &Value, fail_modes: &[&str]) -> Mock {
        let dir = tempfile::tempdir().expect("temp dir");
        let keys_file = dir.path().join("keys.json");
        std::fs::write(&keys_file, keys.to_string()).expect("write keys");
        let mut cmd = Process::new("python3");
        cmd.arg(mock_tool()).args(["--port", "0", "--keys"]).arg(&keys_file);
        for m in fail_modes {
            cmd.args(["--fail-mode", m]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 starts the mock");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the mock prints its address");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the mock: {line:?}"))
            .to_string();
        Mock { child, url, _dir: dir }
    }

    fn get(&self, path: &str) -> Value {
        let body = ureq::get(&format!("{}{path}", self.url))
            .call()
            .expect("mock answers")
            .body_mut()
            .read_to_string()
            .expect("body");
        serde_json::from_str(&body).expect("JSON")
    }

    /// The `/api/` requests the mock saw (keys cut to `pk_xxxx…`).
    /// The requests the mock has logged. It may log one after answering it, so a request pkhound made
    /// just before it exited can reach the log after pkhound is gone: the log is read until two reads
    /// 50 ms apart agree (for at most two seconds).
    fn requests(&self) -> Vec<Value> {
        let read = || {
            self.get("/__mock/requests")["requests"]
                .as_array()
                .expect("requests")
                .clone()
        };
        let mut last = read();
        for _ in 0..40 {
            std::thread::sleep(std::time::Duration::from_millis(50));
            let now = read();
            if now.len() == last.len() {
                return now;
            }
            last = now;
        }
        last
    }

    fn writes(&self) -> u64 {
        self.get("/__mock/writes")["writes"].as_u64().expect("writes count")
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn account(id: &str, org: &str, scopes: &[&str]) -> Value {
    json!({"account_id": id, "organization": org, "scopes": scopes})
}

thread_local! {
    /// The line of `.env` each key was written on by [`tree`], to find its finding without relying on
    /// the shape of the redacted form.
    static LINES: std::cell::RefCell<std::collections::HashMap<String, u64>> = Default::default();
}

/// A directory holding `.env` with these lines (`NAME=key`).
fn tree(lines: &[String]) -> TempDir {
    LINES.with(|l| {
        let mut l = l.borrow_mut();
        for (i, line) in lines.iter().enumerate() {
            if let Some((_, key)) = line.split_once('=') {
                l.insert(key.to_string(), i as u64 + 1);
            }
        }
    });
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join(".env"), lines.join("\n") + "\n").expect("write .env");
    dir
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// The binary, with no proxy between it and the local servers.
fn direct() -> assert_cmd::Command {
    let mut cmd = pkhound();
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn run(dir: &Path, mock_url: &str, args: &[&str]) -> Run {
    let out = direct()
        .arg("scan")
        .arg(dir)
        .args(args)
        .env("PKHOUND_KLAVIYO_API_URL", mock_url)
        .output()
        .expect("pkhound runs");
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json_run(dir: &Path, mock_url: &str, args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let r = run(dir, mock_url, &all);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {}\n{}", r.stdout, r.stderr))
}

/// The `verification` object of the finding of `key` (on the `.env` line [`tree`] wrote it to).
fn verification<'a>(report: &'a Value, key: &str) -> &'a Value {
    let line = LINES
        .with(|l| l.borrow().get(key).copied())
        .expect("the key was written by tree()");
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["path"] == ".env" && f["line"] == line)
        .map(|f| &f["verification"])
        .unwrap_or_else(|| panic!("no finding on .env:{line} in {report:#}"))
}

fn api_requests(mock: &Mock) -> Vec<Value> {
    mock.requests()
        .into_iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with("/api/")))
        .collect()
}

// ------------------------------------------------------------------------------------------ Klaviyo

#[test]
fn live_invalid_and_scoped_keys_and_no_secret_in_any_output() {
    // One classic key; the others carry distinct company ids, so that they are separate account groups
    // and verified side by side (keys that may share an account are paced one second apart).
    let full = klaviyo_key("full");
    let scoped = company_key("PrOf01", "scoped");
    let revoked = company_key("ReV001", "revoked");
    let unknown = company_key("UnKn01", "unknown");
    let company = company_key("AcMe42", "company");
    let mut keys = json!({
        &full: account("FuLL01", "Full Access Co", &["*"]),
        &scoped: account("PrOf01", "Profiles Only Co", &["profiles:read"]),
        &revoked: account("ReV001", "Revoked Co", &["*"]),
        &company: account("AcMe42", "Acme Inc", &["accounts:read"]),
    });
    keys[&revoked]["revoked"] = json!(true);
    let mock = Mock::start(&keys, &[]);
    let dir = tree(&[
        format!("FULL={full}"),
        format!("SCOPED={scoped}"),
        format!("REVOKED={revoked}"),
        format!("UNKNOWN={unknown}"),
        format!("COMPANY={company}"),
    ]);
    let report = json_run(dir.path(), &mock.url, &["--verify"]);

    let v = verification(&report, &full);
    assert_eq!(v["status"], "live", "{v}");
    assert_eq!(v["provider"], "klaviyo");
    assert_eq!(v["account"]["id"], "FuLL01");
    assert_eq!(v["account"]["organization"], "Full Access Co");
    assert_eq!(v["account"]["public_api_key"], "FuLL01");
    // A 403 on /api/accounts/ with a JSON:API error is a live key without accounts:read.
    let v = verification(&report, &scoped);
    assert_eq!(v["status"], "live", "{v}");
    assert!(v["reason"].as_str().expect("reason").contains("accounts:read"), "{v}");
    assert!(v.get("account").is_none());
    assert_eq!(verification(&report, &revoked)["status"], "invalid");
    assert_eq!(verification(&report, &unknown)["status"], "invalid");
    assert!(verification(&report, &unknown)["reason"]
        .as_str()
        .expect("reason")
        .contains("401"));
    // The company-id form: the prefix is confirmed against the account's public key.
    let v = verification(&report, &company);
    assert_eq!(v["status"], "live");
    assert_eq!(v["account"]["key_prefix_is_public_key"], true);

    // The live keys' remediation gives the concrete steps.
    let live = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["verification"]["status"] == "live")
        .expect("a live finding");
    let fix = live["remediation"].as_str().expect("remediation");
    for step in ["least scopes", "environment variable", "Revoke", "activity log"] {
        assert!(fix.contains(step), "{fix}");
    }

    // Every request was a read with the pinned revision and the JSON:API accept header.
    for r in api_requests(&mock) {
        assert_eq!(r["method"], "GET");
        assert_eq!(r["revision"], "2026-07-15");
        assert_eq!(r["accept"], "application/vnd.api+json");
    }
    assert_eq!(mock.writes(), 0);

    // No secret in any format, on stdout or stderr, without --show-secrets.
    for format in ["text", "json", "jsonl", "sarif", "gitlab", "junit", "csv"] {
        let r = run(dir.path(), &mock.url, &["--verify", "--format", format]);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        for k in [&full, &scoped, &revoked, &unknown, &company] {
            assert!(!r.stdout.contains(k.as_str()), "{format} printed a key");
            assert!(!r.stderr.contains(k.as_str()), "{format} printed a key on stderr");
        }
        if format == "sarif" {
            let log: Value = serde_json::from_str(&r.stdout).expect("SARIF is JSON");
            let results = log["runs"][0]["results"].as_array().expect("results");
            assert!(results
                .iter()
                .any(|r| r["properties"]["verification"]["status"] == "live"));
        }
        if format == "text" {
            assert!(r.stdout.contains("verified: LIVE (klaviyo)"), "{}", r.stdout);
            assert!(r.stdout.contains("verified: invalid (klaviyo)"), "{}", r.stdout);
        }
    }
    let shown = run(dir.path(), &mock.url, &["--verify", "--show-secrets"]);
    assert!(shown.stdout.contains(&full));
}

#[test]
fn nothing_is_sent_without_verify() {
    let key = klaviyo_key("quiet");
    let mock = Mock::start(&json!({ &key: account("QuI001", "Quiet Co", &["*"]) }), &[]);
    let dir = tree(&[format!("KEY={key}")]);
    let report = json_run(dir.path(), &mock.url, &[]);
    assert!(report["findings"][0].get("verification").is_none());
    let r = run(dir.path(), &mock.url, &["--only-verified"]);
    assert_eq!(r.code, 2, "--only-verified alone is a usage error");
    assert!(r.stderr.contains("--verify"), "{}", r.stderr);
    assert_eq!(api_requests(&mock).len(), 0, "a request was made without --verify");
}

#[test]
fn only_verified_reports_live_findings_alone() {
    let live = klaviyo_key("live");
    let dead = klaviyo_key("dead");
    let mock = Mock::start(&json!({ &live: account("OnL001", "Live Co", &["*"]) }), &[]);
    let dir = tree(&[format!("A={live}"), format!("B={dead}")]);
    let report = json_run(dir.path(), &mock.url, &["--verify", "--only-verified"]);
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["verification"]["status"], "live");
}

#[test]
fn an_html_403_is_unknown_not_live() {
    let key = klaviyo_key("waf");
    let mock = Mock::start(
        &json!({ &key: account("WaF001", "Waf Co", &["*"]) }),
        &["cloudflare-403-every=1"],
    );
    let dir = tree(&[format!("KEY={key}")]);
    let report = json_run(dir.path(), &mock.url, &["--verify"]);
    let v = verification(&report, &key);
    assert_eq!(v["status"], "unknown", "{v}");
    assert!(v["reason"].as_str().expect("reason").contains("403"), "{v}");
}

#[test]
fn a_429_is_retried_after_retry_after_then_live() {
    let key = klaviyo_key("throttled");
    let mock = Mock::start(
        &json!({ &key: account("ThR001", "Throttled Co", &["*"]) }),
        &["rate-limit-first-n=1", "retry-after=1"],
    );
    let dir = tree(&[format!("KEY={key}")]);
    let report = json_run(dir.path(), &mock.url, &["--verify"]);
    assert_eq!(verification(&report, &key)["status"], "live");
    let statuses: Vec<u64> = api_requests(&mock)
        .iter()
        .map(|r| r["status"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(statuses, [429, 200]);
}

#[test]
fn endless_429s_end_as_unknown_after_bounded_retries() {
    let key = klaviyo_key("always429");
    let mock = Mock::start(
        &json!({ &key: account("ThR002", "Throttled Co", &["*"]) }),
        &["rate-limit-every=1", "retry-after=1"],
    );
    let dir = tree(&[format!("KEY={key}")]);
    let report = json_run(dir.path(), &mock.url, &["--verify"]);
    let v = verification(&report, &key);
    assert_eq!(v["status"], "unknown");
    assert!(v["reason"].as_str().expect("reason").contains("429"), "{v}");
    assert_eq!(api_requests(&mock).len(), 3, "one try and two retries");
}

#[test]
fn realistic_rate_limits_are_never_hit() {
    // Two keys of one account (Klaviyo's quota is per account), two company-id keys of another and a
    // classic key of that other account too, all with --blast-radius: the pacing keeps every answer
    // under the limits, across the lanes that run side by side.
    let a: Vec<String> = (0..2).map(|i| klaviyo_key(&format!("same{i}"))).collect();
    let mut b: Vec<String> = (0..2).map(|i| company_key("ShArEd", &format!("co{i}"))).collect();
    b.push(klaviyo_key("shared-classic"));
    let mut keys = json!({});
    for k in &a {
        keys[k] = account(
            "SaMe01",
            "Same Account Co",
            &["accounts:read", "profiles:read", "webhooks:read"],
        );
    }
    for k in &b {
        keys[k] = account("ShArEd", "Shared Co", &["*"]);
    }
    let mock = Mock::start(&keys, &["realistic-rate-limits"]);
    let lines: Vec<String> = a
        .iter()
        .chain(&b)
        .enumerate()
        .map(|(i, k)| format!("K{i}={k}"))
        .collect();
    let dir = tree(&lines);
    let report = json_run(dir.path(), &mock.url, &["--blast-radius"]);
    for k in a.iter().chain(&b) {
        assert_eq!(verification(&report, k)["status"], "live", "{report:#}");
    }
    let throttled = api_requests(&mock).iter().filter(|r| r["status"] == 429).count();
    assert_eq!(throttled, 0, "{:#?}", mock.requests());
    // The scope map saw every webhook probe succeed despite the XS tier (1/s per account).
    for k in &a {
        let scopes = &verification(&report, k)["scopes"];
        assert!(scopes["granted"]
            .as_array()
            .expect("granted")
            .contains(&json!("webhooks:read")));
    }
}

#[test]
fn a_timeout_is_unknown() {
    let key = klaviyo_key("slow");
    let mock = Mock::start(&json!({ &key: account("SLo001", "Slow Co", &["*"]) }), &["slow=3s"]);
    let dir = tree(&[format!("KEY={key}")]);
    let report = json_run(dir.path(), &mock.url, &["--verify", "--verify-timeout", "1"]);
    let v = verification(&report, &key);
    assert_eq!(v["status"], "unknown");
    assert!(v["reason"].as_str().expect("reason").contains("timed out"), "{v}");
}

#[test]
fn the_deadline_bounds_the_whole_verification() {
    // Two keys that may share an account go one after the other; a 1 s deadline ends the first request
    // early and leaves no time for the second.
    let a = klaviyo_key("deadline-a");
    let b = klaviyo_key("deadline-b");
    let keys = json!({ &a: account("DeA001", "Slow Co", &["*"]), &b: account("DeA001", "Slow Co", &["*"]) });
    let mock = Mock::start(&keys, &["slow=2s"]);
    let dir = tree(&[format!("A={a}"), format!("B={b}")]);
    let report = json_run(
        dir.path(),
        &mock.url,
        &["--verify", "--verify-timeout", "30", "--verify-deadline", "1"],
    );
    let reasons: Vec<&str> = [&a, &b]
        .iter()
        .map(|k| {
            let v = verification(&report, k);
            assert_eq!(v["status"], "unknown", "{v}");
            v["reason"].as_str().expect("reason")
        })
        .collect();
    assert!(reasons.iter().any(|r| r.contains("deadline")), "{reasons:?}");
}

#[test]
fn server_errors_are_unknown() {
    let key = klaviyo_key("fivehundred");
    let mock = Mock::start(&json!({ &key: account("FiV001", "5xx Co", &["*"]) }), &["500-every=1"]);
    let dir = tree(&[format!("KEY={key}")]);
    let report = json_run(dir.path(), &mock.url, &["--verify"]);
    let v = verification(&report, &key);
    assert_eq!(v["status"], "unknown");
    assert_eq!(v["reason"], "server error 500");
}

#[test]
fn a_dropped_connection_is_unknown() {
    let key = klaviyo_key("dropped");
    let mock = Mock::start(
        &json!({ &key: account("DrP001", "Drop Co", &["*"]) }),
        &["drop-every=1"],
    );
    let dir = tree(&[format!("KEY={key}")]);
    let report = json_run(dir.path(), &mock.url, &["--verify"]);
    let v = verification(&report, &key);
    assert_eq!(v["status"], "unknown");
    assert!(v["reason"].as_str().expect("reason").contains("connection"), "{v}");
}

#[test]
fn each_secret_is_checked_once() {
    let key = klaviyo_key("cached");
    let mock = Mock::start(&json!({ &key: account("CaC001", "Cache Co", &["*"]) }), &[]);
    let dir = tree(&[format!("A={key}"), format!("B={key}")]);
    for name in ["a.env", "b.py", "c.yaml"] {
        std::fs::write(dir.path().join(name), format!("klaviyo_key = \"{key}\"\n")).expect("write");
    }
    let report = json_run(dir.path(), &mock.url, &["--verify"]);
    let findings = report["findings"].as_array().expect("findings");
    assert!(findings.len() >= 5);
    assert!(findings.iter().all(|f| f["verification"]["status"] == "live"));
    assert_eq!(api_requests(&mock).len(), 1);
}

#[test]
fn blast_radius_maps_a_partially_scoped_key() {
    let key = klaviyo_key("partial");
    let scopes = [
        "accounts:read",
        "profiles:read",
        "lists:write",
        "campaigns:read",
        "events:read",
    ];
    let mock = Mock::start(&json!({ &key: account("PaRt01", "Partial Co", &scopes) }), &[]);
    let dir = tree(&[format!("KEY={key}")]);
    let report = json_run(dir.path(), &mock.url, &["--blast-radius"]);
    let v = verification(&report, &key);
    assert_eq!(v["status"], "live");
    let list = |k: &str| -> Vec<String> {
        v["scopes"][k]
            .as_array()
            .unwrap_or_else(|| panic!("scopes.{k}: {v}"))
            .iter()
            .map(|s| s.as_str().expect("scope").to_string())
            .collect()
    };
    let granted = list("granted");
    for s in [
        "accounts:read",
        "profiles:read",
        "lists:read",
        "campaigns:read",
        "events:read",
    ] {
        assert!(granted.contains(&s.to_string()), "{s} not granted: {v}");
    }
    let denied = list("denied");
    for s in [
        "segments:read",
        "flows:read",
        "templates:read",
        "webhooks:read",
        "conversations:read",
        "catalogs:read",
    ] {
        assert!(denied.contains(&s.to_string()), "{s} not denied: {v}");
    }
    assert!(list("unknown").is_empty(), "{v}");
    assert_eq!(
        (&v["scopes"]["customer_data"], &v["scopes"]["sending_setup"]),
        (&json!(true), &json!(true))
    );
    assert!(granted.len() + denied.len() >= 23);
    // Only reads, and no 400 (every required filter and page size was right).
    assert_eq!(mock.writes(), 0);
    let requests = api_requests(&mock);
    assert!(
        requests.iter().all(|r| r["method"] == "GET" && r["status"] != 400),
        "{requests:#?}"
    );

    let text = run(dir.path(), &mock.url, &["--blast-radius", "--color", "never"]);
    assert!(text.stdout.contains("blast radius:"), "{}", text.stdout);
    assert!(text.stdout.contains("granted  profiles:read"), "{}", text.stdout);
    assert!(text.stdout.contains("write scopes not tested"), "{}", text.stdout);
    assert!(!text.stdout.contains(&key));
}

#[test]
fn company_id_keys_are_grouped_by_account_offline_without_a_claim() {
    let a = company_key("GrOuP1", "g1");
    let b = company_key("GrOuP1", "g2");
    let dir = tree(&[format!("A={a}"), format!("B={b}")]);
    let r = run(dir.path(), "http://127.0.0.1:9", &["--color", "never"]);
    assert!(
        r.stdout.contains("company id GrOuP1 in the key (unconfirmed"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("2 keys"), "{}", r.stdout);
}

#[test]
fn a_confirmed_company_id_groups_the_other_keys_that_carry_it() {
    // One key reads its account (and confirms its prefix is the public key); the other lacks
    // accounts:read, so only its company id ties it to the account.
    let reader = company_key("CoNf01", "reader");
    let scoped = company_key("CoNf01", "scoped");
    let keys = json!({
        &reader: account("CoNf01", "Confirmed Co", &["accounts:read"]),
        &scoped: account("CoNf01", "Confirmed Co", &["profiles:read"]),
    });
    let mock = Mock::start(&keys, &[]);
    let dir = tree(&[format!("A={reader}"), format!("B={scoped}")]);
    let r = run(dir.path(), &mock.url, &["--verify", "--color", "never"]);
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("account CoNf01 \"Confirmed Co\" (confirmed by Klaviyo)"))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(
        line.contains("2 keys") && line.contains("(by its company id)"),
        "{line}"
    );
}

#[test]
fn history_findings_are_verified_once_per_secret() {
    let key = klaviyo_key("history");
    let mock = Mock::start(&json!({ &key: account("HiS001", "History Co", &["*"]) }), &[]);
    let mut repo = crate::history::Repo::new();
    repo.write("config/.env", &format!("KLAVIYO_KEY={key}\n"));
    repo.commit("add config");
    repo.write("deploy/.env", &format!("KLAVIYO_KEY={key}\n"));
    repo.commit("copy config");
    repo.write("config/.env", "KLAVIYO_KEY=\n");
    repo.commit("remove the key");
    let report = json_run(&repo.path, &mock.url, &["--history", "--verify"]);
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{report:#}");
    assert_eq!(findings[0]["verification"]["status"], "live");
    assert_eq!(findings[0]["verification"]["account"]["id"], "HiS001");
    assert_eq!(api_requests(&mock).len(), 1);
}

// ------------------------------------------------------------------------------------------ data-driven

/// What the test server saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    headers: Vec<(String, String)>,
}

/// A tiny HTTP/1.1 server: `answer(request) → (status, body)`, one thread per connection, each answer
/// delayed by `delay`; counts the most requests it had in flight at once.
struct TestServer {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    max_in_flight: Arc<AtomicUsize>,
}

impl TestServer {
    fn start(delay: Duration, answer: impl Fn(&Seen) -> (u16, String) + Send + Sync + 'static) -> TestServer {
        let answer: Answer = Arc::new(answer);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let (s, inf, max) = (seen.clone(), in_flight.clone(), max_in_flight.clone());
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (s, inf, max, answer) = (s.clone(), inf.clone(), max.clone(), answer.clone());
                thread::spawn(move || serve(stream, delay, &*answer, &s, &inf, &max));
            }
        });
        TestServer {
            url,
            seen,
            max_in_flight,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

type Answer = Arc<dyn Fn(&Seen) -> (u16, String) + Send + Sync>;

fn serve(
    mut stream: TcpStream,
    delay: Duration,
    answer: &(dyn Fn(&Seen) -> (u16, String) + Send + Sync),
    seen: &Mutex<Vec<Seen>>,
    in_flight: &AtomicUsize,
    max_in_flight: &AtomicUsize,
) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.lines();
    let path = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("")
        .to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let req = Seen { path, headers };
    seen.lock().expect("lock").push(req.clone());
    // In flight from the whole request read to just before the answer is written: the client cannot
    // send its next request before reading this answer, so the count is exact whatever the scheduling
    // (counting until this thread ends made a loaded machine see one request too many).
    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    max_in_flight.fetch_max(now, Ordering::SeqCst);
    thread::sleep(delay);
    let (status, body) = answer(&req);
    in_flight.fetch_sub(1, Ordering::SeqCst);
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn run_env(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = direct();
    cmd.arg("scan").arg(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("pkhound runs");
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn statuses(report: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().expect("rule").to_string(),
                f["verification"]["status"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn data_driven_checks_put_the_secret_where_the_rule_says() {
    // Anthropic: the key in x-api-key; a key ending in "AA" after "good" is live.
    let good = format!("sk-ant-api03-{}AA", alnum("anthropic-good", 93));
    let bad = format!("sk-ant-api03-{}AA", alnum("anthropic-bad", 93));
    // Slack: 200 with "ok": false is a refused token.
    let digits = |seed: &str| -> String {
        random_hex(seed, 12)
            .bytes()
            .map(|b| char::from(b'0' + b % 10))
            .collect()
    };
    let slack = format!("xoxb-{}-{}-{}", digits("team"), digits("bot"), alnum("slack", 24));
    // Stripe: basic auth with the key as user name.
    let stripe = format!("sk_live_{}", alnum("stripe", 30));
    let good_key = good.clone();
    let answer = move |req: &Seen| -> (u16, String) {
        match req.path.as_str() {
            "/v1/models" if req.header("x-api-key") == Some(good_key.as_str()) => (200, "{}".into()),
            "/v1/models" => (401, "{}".into()),
            "/api/auth.test" => (200, r#"{"ok":false,"error":"invalid_auth"}"#.into()),
            "/v1/balance" => (200, "{}".into()),
            _ => (404, "{}".into()),
        }
    };
    let server = TestServer::start(Duration::ZERO, answer);
    let dir = tree(&[
        format!("ANTHROPIC_API_KEY={good}"),
        format!("OTHER_ANTHROPIC_KEY={bad}"),
        format!("SLACK_TOKEN={slack}"),
        format!("STRIPE_KEY={stripe}"),
    ]);
    let env = [
        ("PKHOUND_ANTHROPIC_API_URL", server.url.as_str()),
        ("PKHOUND_SLACK_API_URL", server.url.as_str()),
        ("PKHOUND_STRIPE_API_URL", server.url.as_str()),
    ];
    let r = run_env(dir.path(), &env, &["--verify", "--format", "json"]);
    let report: Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(
        statuses(&report),
        [
            ("anthropic-api-key".to_string(), "invalid".to_string()),
            ("anthropic-api-key".to_string(), "live".to_string()),
            ("slack-bot-token".to_string(), "invalid".to_string()),
            ("stripe-secret-key-live".to_string(), "live".to_string()),
        ]
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 4);
    let stripe_req = seen.iter().find(|s| s.path == "/v1/balance").expect("stripe request");
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{stripe}:"));
    assert_eq!(
        stripe_req.header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    let slack_req = seen.iter().find(|s| s.path == "/api/auth.test").expect("slack request");
    assert_eq!(
        slack_req.header("authorization"),
        Some(format!("Bearer {slack}").as_str())
    );
    assert!(seen.iter().any(|s| s.header("anthropic-version") == Some("2023-06-01")));
    for k in [&good, &bad, &slack, &stripe] {
        assert!(!r.stdout.contains(k.as_str()) && !r.stderr.contains(k.as_str()));
    }
}

/// A config rule with a data-driven check (tests point it at their server with PKHOUND_ACME_API_URL).
const ACME_CONFIG: &str = r#"[[rule]]
id = "acme-token"
name = "Acme token"
severity = "high"
keywords = ["acme_"]
regex = '''(?P<secret>acme_[a-f0-9]{32})'''
remediation = "Rotate it."
[rule.verify_http]
provider = "acme"
url = "https://acme.example/whoami"
headers = { Authorization = "Bearer {secret}" }
[rule.examples]
positive = [{ text = "t = acme_8f3a9c2e71b04d5f96e2a1c3b7d8e0f4", secret = "acme_8f3a9c2e71b04d5f96e2a1c3b7d8e0f4" }] # pkhound:allow
"#;

fn ok_answer(_: &Seen) -> (u16, String) {
    (200, "{}".into())
}

#[test]
fn the_concurrency_bound_holds() {
    let server = TestServer::start(Duration::from_millis(300), ok_answer);
    let tokens: Vec<String> = (0..8)
        .map(|i| format!("acme_{}", random_hex(&format!("c{i}"), 32)))
        .collect();
    let dir = tree(&tokens.iter().map(|t| format!("T={t}")).collect::<Vec<_>>());
    let cfg_dir = tempfile::tempdir().expect("temp dir");
    let cfg = cfg_dir.path().join("pkhound.toml");
    std::fs::write(&cfg, ACME_CONFIG).expect("write config");
    let cfg = cfg.to_str().expect("UTF-8 path");
    let env = [("PKHOUND_ACME_API_URL", server.url.as_str())];
    let r = run_env(
        dir.path(),
        &env,
        &[
            "--verify",
            "--verify-concurrency",
            "2",
            "--config",
            cfg,
            "--format",
            "json",
        ],
    );
    let report: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|_| panic!("{}", r.stderr));
    assert!(statuses(&report).iter().all(|(_, s)| s == "live"), "{report:#}");
    assert_eq!(server.seen().len(), 8);
    let max = server.max_in_flight.load(Ordering::SeqCst);
    assert!(max <= 2, "{max} requests in flight with --verify-concurrency 2");
}

#[test]
fn a_config_found_in_the_scanned_tree_cannot_define_a_verifier() {
    let server = TestServer::start(Duration::ZERO, ok_answer);
    let token = format!("acme_{}", random_hex("untrusted", 32));
    let dir = tree(&[format!("T={token}")]);
    std::fs::write(dir.path().join(".pkhound.toml"), ACME_CONFIG).expect("write config");
    let env = [("PKHOUND_ACME_API_URL", server.url.as_str())];
    let r = run_env(dir.path(), &env, &["--verify", "--format", "json"]);
    assert!(r.stderr.contains("verifier is IGNORED"), "{}", r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).expect("JSON");
    let acme = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule_id"] == "acme-token")
        .expect("the config's rule still detects");
    assert!(acme.get("verification").is_none());
    assert!(server.seen().is_empty(), "the untrusted verifier sent a request");

    // Named with --config, the same file is trusted.
    let cfg = dir.path().join(".pkhound.toml");
    let r = run_env(
        dir.path(),
        &env,
        &["--verify", "--config", cfg.to_str().expect("UTF-8"), "--format", "json"],
    );
    assert!(!r.stderr.contains("IGNORED"), "{}", r.stderr);
    // The config's announcement says where its rule's secrets go.
    assert!(
        r.stderr.contains("verifies its secrets at https://acme.example/whoami"),
        "{}",
        r.stderr
    );
    assert_eq!(server.seen().len(), 1);
    assert_eq!(
        server.seen()[0].header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
}
