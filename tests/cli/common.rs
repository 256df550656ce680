use std::{fs, path::Path};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// The fingerprint key every test run shares (tests of the key itself override it).
pub const TEST_KEY: &str = "pkhound-test-fingerprint-key";

/// The binary under test, with a clean environment for color and CI detection, and a fixed fingerprint
/// key (so that no test creates a key file in the real home directory).
pub fn pkhound() -> Command {
    let mut cmd = Command::cargo_bin("pkhound").expect("the pkhound binary is built for tests");
    cmd.env_remove("NO_COLOR")
        .env_remove("PKHOUND_TRACE")
        .env("CI", "true")
        .env("PKHOUND_FINGERPRINT_KEY", TEST_KEY);
    cmd
}

/// Standard base64 (with padding), as `base64 -w0` writes it: how tests hide a key in encoded data.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Copies `fixtures/tree/NAME` into a fresh temp dir, so that the repository's own ignore files and
/// git metadata play no part, and tests can add FIFOs, links and permission changes.
pub fn fixture_tree(name: &str) -> TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tree").join(name);
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&src, dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create dir");
    for entry in fs::read_dir(from).expect("fixture dir exists") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy fixture file");
        }
    }
}

/// Runs a JSON scan of `dir` with extra args; returns (exit code, parsed report, stderr).
pub fn scan_json(dir: &Path, extra: &[&str]) -> (i32, Value, String) {
    let out = pkhound()
        .arg("scan")
        .arg(dir)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .expect("pkhound runs");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (
        out.status.code().expect("exit code"),
        report,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `(path, line, column, rule_id)` of every finding, in report order.
pub fn places(report: &Value) -> Vec<(String, u64, u64, String)> {
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().expect("path").to_string(),
                f["line"].as_u64().expect("line"),
                f["column"].as_u64().expect("column"),
                f["rule_id"].as_str().expect("rule_id").to_string(),
            )
        })
        .collect()
}

/// Each finding's `fields` as strings (a number as its digits, a missing field as empty), sorted: the
/// projection a test compares with the rows it expects.
pub fn rows(report: &Value, fields: &[&str]) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            fields
                .iter()
                .map(|&k| match &f[k] {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    v => v.to_string(),
                })
                .collect()
        })
        .collect();
    rows.sort();
    rows
}

/// The Klaviyo keys planted in `fixtures/tree/basic` that must be found (file, key).
pub const PLANTED: &[(&str, &str)] = &[
    (".env", "pk_a4c123b1612dd272d1371c17149d439536"),
    ("config/settings.yaml", "pk_4jDPMR_13e02ea68ef786e4d3cea27d26934b484e"),
    ("web/public/js/app.min.js", "pk_b3216fdaeeb975729fae923d5a4fd12aab"),
    ("config/crlf.ini", "pk_fe228f219e9cb0eb53f16947ccf25ec84d"),
    ("src/latin1.txt", "pk_8dbc74254770f58904dba41ecccc3fc162"),
];

/// Keys in the fixture that must never be reported by default: gitignored, allowed inline, binary.
pub const NOT_REPORTED: &[&str] = &[
    "pk_7f6a6f0fb23c6f5da2cec255404e4fb440",
    "pk_06b40928b5b7a767c76fb008f86bebb273",
    "pk_034d6608697a8d41bed440e50454f31af3",
];

/// A fresh temp dir holding `files` (path, content).
pub fn tree_of(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, content) in files {
        let p = dir.path().join(path);
        fs::create_dir_all(p.parent().expect("has a parent")).expect("mkdir");
        fs::write(p, content).expect("write");
    }
    dir
}

/// Runs git in `dir`, deterministic and independent of the user's config; panics on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(["-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"])
        .args(args)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.test")
        .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.test")
        .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", dir.join(".git/no-such-gitconfig"))
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
