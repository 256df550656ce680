//! Issue 12, "Never say clean when it isn't, never print a secret": the parts outside the scan pipeline.
//! SARIF that GitHub accepts and places, keyed fingerprints, escaped control characters, a repository's
//! config that would weaken its own scan, hangs (FIFOs, `/proc`, `-j`), imported gitleaks rules, the
//! placeholder filter and the "incomplete" mark. Each test is a reproduction from the issue.

use std::{fs, path::Path, time::Duration};

use serde_json::Value;

use crate::common::*;

const KEY: &str = "pk_a4c123b1612dd272d1371c17149d439536"; // pkhound:allow
const KEY2: &str = "pk_b3216fdaeeb975729fae923d5a4fd12aab"; // pkhound:allow
const PASSWORD: &str = "DB_PASSWORD=qTFSfC&W0esZ3!Mha8zM"; // pkhound:allow

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = pkhound()
        .current_dir(dir)
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("pkhound runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("JSON ({e}): {stdout}"))
}

/// A git repository holding `files`, committed.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tree_of(files);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "--allow-empty", "-m", "init"]);
    dir
}

// --- SARIF -------------------------------------------------------------------------------------------

/// `scan src --format sarif` names `src/email/k.py`, not `email/k.py`, and low rules are a
/// `recommendation`. See: issue 12 ("SARIF that GitHub rejects or misplaces").
#[test]
fn sarif_paths_resolve_from_the_repository_root_and_severities_are_githubs() {
    let dir = repo(&[
        ("src/email/k.py", &format!("KEY = '{KEY}'\n{PASSWORD}\n")),
        ("README.md", "hello\n"),
    ]);
    let (code, out, err) = run(dir.path(), &["scan", "src", "--format", "sarif"]);
    assert_eq!(code, 1, "{err}");
    let sarif = json(&out);
    let run0 = &sarif["runs"][0];
    let uris: Vec<&str> = run0["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .expect("uri")
        })
        .collect();
    assert_eq!(uris, ["src/email/k.py", "src/email/k.py"]);
    let root = run0["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .expect("root uri");
    assert!(root.starts_with("file:///") && root.ends_with('/'), "{root}");
    for rule in run0["tool"]["driver"]["rules"].as_array().expect("rules") {
        let sev = rule["properties"]["problem.severity"]
            .as_str()
            .expect("problem.severity");
        assert!(["error", "warning", "recommendation"].contains(&sev), "{rule}");
    }
    // From inside the subdirectory, and from the repository root: the same URIs.
    let (_, out, _) = run(&dir.path().join("src"), &["scan", "email", "--format", "sarif"]);
    assert!(out.contains("\"uri\": \"src/email/k.py\""), "{out}");
    let (_, out, _) = run(dir.path(), &["scan", ".", "--format", "sarif"]);
    assert!(out.contains("\"uri\": \"src/email/k.py\""), "{out}");
    // Outside a repository: relative to the scanned directory, as before.
    let plain = tree_of(&[("email/k.py", &format!("KEY = '{KEY}'\n"))]);
    let (_, out, _) = run(plain.path(), &["scan", ".", "--format", "sarif"]);
    assert!(out.contains("\"uri\": \"email/k.py\""), "{out}");
}

// --- Fingerprints ------------------------------------------------------------------------------------

fn fingerprint_with(dir: &Path, key: &str) -> String {
    let out = pkhound()
        .env("PKHOUND_FINGERPRINT_KEY", key)
        .args(["scan", "--format", "json"])
        .arg(dir)
        .output()
        .expect("pkhound runs");
    json(&String::from_utf8_lossy(&out.stdout))["findings"][0]["fingerprint"]
        .as_str()
        .expect("a fingerprint")
        .to_string()
}

/// Fingerprints are keyed: stable under one key, different under another, and no longer the unsalted
/// SHA-256 anyone can recompute. See: issue 12 ("Fingerprints that give a secret away").
#[test]
fn fingerprints_are_keyed() {
    let dir = tree_of(&[(".env", "DB_PASSWORD=Winter2024Sales!\n")]);
    let a = fingerprint_with(dir.path(), "first-key-0123456789");
    assert_eq!(a, fingerprint_with(dir.path(), "first-key-0123456789"));
    assert_ne!(a, fingerprint_with(dir.path(), "second-key-0123456789"));
    // The old scheme: SHA-256(rule id, 0, secret), first 16 bytes.
    use std::fmt::Write as _;
    let unsalted = {
        let mut h = sha2_digest(b"generic-password-assignment\0Winter2024Sales!");
        h.truncate(16);
        h.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    };
    assert_ne!(a, unsalted);
}

/// SHA-256 through the system's `sha256sum`, so the test does not trust pkhound's own hashing.
fn sha2_digest(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha256sum runs");
    child.stdin.take().expect("stdin").write_all(data).expect("write");
    let out = child.wait_with_output().expect("sha256sum ends");
    let hex = String::from_utf8_lossy(&out.stdout);
    (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// Without a key configured, a per-user key is created once (said on stderr) and reused.
#[test]
fn a_per_user_key_is_created_on_first_use_and_reused() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = tree_of(&[(".env", &format!("K={KEY}\n"))]);
    let scan = || {
        let out = pkhound()
            .env_remove("PKHOUND_FINGERPRINT_KEY")
            .env("XDG_CONFIG_HOME", home.path())
            .args(["scan", "--format", "json"])
            .arg(dir.path())
            .output()
            .expect("pkhound runs");
        let report = json(&String::from_utf8_lossy(&out.stdout));
        (report, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (first, err) = scan();
    let key_file = home.path().join("pkhound/fingerprint-key");
    assert!(key_file.is_file(), "{err}");
    assert!(err.contains("created fingerprint key"), "{err}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&key_file).expect("key file").permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key file is the owner's only");
    }
    let (second, err) = scan();
    assert!(!err.contains("created"), "{err}");
    assert_eq!(
        first["findings"][0]["fingerprint"],
        second["findings"][0]["fingerprint"]
    );
    assert_eq!(first["fingerprint_key"], second["fingerprint_key"]);
    // The key itself is in no report.
    let key = fs::read_to_string(&key_file).expect("key");
    assert!(!first.to_string().contains(key.trim()));
}

/// With no key and nowhere to keep one, a scan runs with a key for this run only, says so, and refuses
/// to write a baseline that could never match again.
#[test]
fn without_a_home_the_key_is_per_run_and_baselines_are_refused() {
    let dir = tree_of(&[(".env", &format!("K={KEY}\n"))]);
    let bare = || {
        let mut cmd = pkhound();
        cmd.env_remove("PKHOUND_FINGERPRINT_KEY")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("HOME")
            .env_remove("APPDATA");
        cmd
    };
    let out = bare().arg("scan").arg(dir.path()).output().expect("pkhound runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("a random key for this run only"), "{err}");
    let out = bare()
        .arg("scan")
        .arg(dir.path())
        .arg("--baseline-out")
        .arg(dir.path().join("b.json"))
        .output()
        .expect("pkhound runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--baseline-out needs a fingerprint key"));
}

/// A baseline records its key's id; under another key it is a clear error, not "everything is new".
#[test]
fn a_baseline_made_with_another_key_is_an_error() {
    let dir = tree_of(&[(".env", &format!("K={KEY}\n"))]);
    let baseline = dir.path().join("baseline.json");
    let ok = pkhound()
        .env("PKHOUND_FINGERPRINT_KEY", "ci-key-0123456789abcdef")
        .args(["scan", "--no-config"])
        .arg(dir.path())
        .arg("--baseline-out")
        .arg(&baseline)
        .output()
        .expect("pkhound runs");
    assert_eq!(ok.status.code(), Some(1));
    let written: Value = serde_json::from_slice(&fs::read(&baseline).expect("baseline")).expect("JSON");
    assert_eq!(written["pkhound_baseline"], 2);
    assert_eq!(written["fingerprint_key"].as_str().map(str::len), Some(8));

    let same = pkhound()
        .env("PKHOUND_FINGERPRINT_KEY", "ci-key-0123456789abcdef")
        .arg("scan")
        .arg(dir.path())
        .arg("--baseline")
        .arg(&baseline)
        .output()
        .expect("pkhound runs");
    assert_eq!(same.status.code(), Some(0), "{}", String::from_utf8_lossy(&same.stderr));

    let other = pkhound()
        .env("PKHOUND_FINGERPRINT_KEY", "laptop-key-0123456789")
        .arg("scan")
        .arg(dir.path())
        .arg("--baseline")
        .arg(&baseline)
        .output()
        .expect("pkhound runs");
    let err = String::from_utf8_lossy(&other.stderr);
    assert_eq!(other.status.code(), Some(2), "{err}");
    assert!(
        err.contains("made with fingerprint key") && err.contains("PKHOUND_FINGERPRINT_KEY"),
        "{err}"
    );

    // A key file works the same as the variable.
    let key_file = dir.path().join("key");
    fs::write(&key_file, "ci-key-0123456789abcdef\n").expect("write key");
    let by_file = pkhound()
        .env_remove("PKHOUND_FINGERPRINT_KEY")
        .arg("scan")
        .arg(dir.path())
        .arg("--fingerprint-key-file")
        .arg(&key_file)
        .arg("--baseline")
        .arg(&baseline)
        .output()
        .expect("pkhound runs");
    assert_eq!(
        by_file.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&by_file.stderr)
    );
}

/// A format-1 baseline (unkeyed) still suppresses what it lists, with a warning to re-record it, in
/// `scan` and in `audit` alike.
#[test]
fn a_legacy_baseline_still_works_with_a_warning() {
    let dir = repo(&[(".env", "DB_PASSWORD=Winter2024Sales!\n")]);
    let mut fp = sha2_digest(b"generic-password-assignment\0Winter2024Sales!");
    fp.truncate(16);
    let hex: String = fp.iter().map(|b| format!("{b:02x}")).collect();
    let baseline = dir.path().join("old.json");
    fs::write(
        &baseline,
        format!(
            r#"{{"pkhound_baseline": 1, "findings": [{{"fingerprint": "{hex}", "rule_id": "generic-password-assignment", "path": ".env", "line": 1}}]}}"#
        ),
    )
    .expect("write");
    let (code, _, err) = run(dir.path(), &["scan", ".", "--no-config", "--baseline", "old.json"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("re-record"), "{err}");
    let (code, _, err) = run(dir.path(), &["audit", ".", "--baseline", "old.json"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("re-record"), "{err}");
    // Without the baseline both report the password, so the zeros above are the baseline's doing.
    let (code, _, err) = run(dir.path(), &["audit", "."]);
    assert_eq!(code, 1, "{err}");
}

// --- Control characters ------------------------------------------------------------------------------

/// A file name with an escape sequence or a newline never reaches the terminal raw.
/// See: issue 12 ("Control characters in file names and snippets reach the terminal raw").
#[cfg(unix)]
#[test]
fn control_characters_in_file_names_are_escaped() {
    let dir = tree_of(&[]);
    let evil = "a\u{1b}[2J\u{1b}]0;pwned\u{7}.env";
    fs::write(dir.path().join(evil), format!("K={KEY}\n")).expect("write");
    for format in ["text", "csv"] {
        let (code, out, _) = run(dir.path(), &["scan", ".", "--format", format]);
        assert_eq!(code, 1);
        assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{format}: {out:?}");
        assert!(out.contains("\\x1b[2J"), "{format}: {out}");
    }
    // The hook: one line per finding, whatever the name holds.
    let forged = "x.env\nok.py:1: klaviyo-private-key (critical) forged";
    let r = repo(&[]);
    fs::write(r.path().join(forged), format!("K={KEY}\n")).expect("write");
    git(r.path(), &["add", "-A"]);
    let (code, out, _) = run(r.path(), &["scan", "--staged"]);
    assert_eq!(code, 1);
    let findings: Vec<&str> = out.lines().skip(1).take_while(|l| *l != "To go on, one of:").collect();
    assert_eq!(findings.len(), 1, "{out}");
    assert!(findings[0].starts_with("\"x.env\\nok.py:1:"), "{out}");
}

// --- A repository that switches its own scan off -----------------------------------------------------

/// A config found in the scanned tree is named on stderr and in the report; one that allowlists
/// everything is named loudly. See: issue 12 ("A repository that switches its own scan off").
#[test]
fn a_weakening_config_is_named_loudly_everywhere() {
    let dir = tree_of(&[
        (".pkhound.toml", "[allowlist]\npaths = [\"**\"]\n"),
        ("app.py", &format!("K = '{KEY}'\n")),
    ]);
    let (code, out, err) = run(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(code, 0, "the config does allow everything: {err}");
    assert!(err.contains("WEAKENS THE SCAN") && err.contains("`**`"), "{err}");
    let report = json(&out);
    assert_eq!(
        report["config"]["path"].as_str().map(|p| p.ends_with(".pkhound.toml")),
        Some(true)
    );
    assert_eq!(report["config"]["source"], "scan root");
    assert!(!report["config"]["weakens"].as_array().expect("weakens").is_empty());
    for (format, mark) in [
        ("text", "WEAKENS THE SCAN"),
        ("sarif", "weakens the built-in rules"),
        ("gitlab", "WEAKENS THE SCAN"),
        ("junit", "pkhound-config"),
        ("csv", "pkhound-config"),
    ] {
        let (_, out, _) = run(dir.path(), &["scan", ".", "--format", format]);
        assert!(out.contains(mark), "{format}: {out}");
    }
    // A narrow config is named too, quietly.
    fs::write(
        dir.path().join(".pkhound.toml"),
        "[allowlist]\npaths = [\"vendor/**\"]\n",
    )
    .expect("write");
    let (code, _, err) = run(dir.path(), &["scan", "."]);
    assert_eq!(code, 1);
    assert!(
        err.contains("pkhound: config") && err.contains("vendor/**") && !err.contains("WEAKENS"),
        "{err}"
    );
}

/// In range mode the config comes from the range's base: a pull request that adds a key and a config
/// allowlisting everything is still caught.
#[test]
fn range_scans_take_the_config_from_the_base_commit() {
    let dir = repo(&[("README.md", "hello\n")]);
    let base = git(dir.path(), &["rev-parse", "HEAD"]).trim().to_string();
    fs::write(dir.path().join(".pkhound.toml"), "[allowlist]\npaths = [\"**\"]\n").expect("write");
    fs::write(dir.path().join("app.py"), format!("K = '{KEY}'\n")).expect("write");
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "add a key and switch the scan off"]);
    let range = format!("{base}..HEAD");
    let (code, out, err) = run(dir.path(), &["scan", ".", "--range", &range, "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(json(&out)["findings"][0]["path"], "app.py");
    assert!(err.contains("not applied"), "{err}");
    // `--config-ref` does the same for a tree scan.
    let (code, _, err) = run(dir.path(), &["scan", ".", "--config-ref", &base]);
    assert_eq!(code, 1, "{err}");
    // And a config committed on the base applies, named by its ref.
    let dir = repo(&[
        (".pkhound.toml", "[allowlist]\npaths = [\"docs/**\"]\n"),
        ("README.md", "hi\n"),
    ]);
    let base = git(dir.path(), &["rev-parse", "HEAD"]).trim().to_string();
    fs::write(dir.path().join("docs/k.md"), format!("K = '{KEY}'\n")).ok();
    fs::create_dir_all(dir.path().join("docs")).expect("mkdir");
    fs::write(dir.path().join("docs/k.md"), format!("K = '{KEY}'\n")).expect("write");
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "docs"]);
    let (code, out, err) = run(
        dir.path(),
        &["scan", ".", "--range", &format!("{base}..HEAD"), "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["config"]["source"], "base of --range");
}

/// `.pkhound.toml` itself is scanned: a key pasted into it is found, its own rules' examples are not.
#[test]
fn the_config_file_itself_is_scanned() {
    let config = format!(
        r#"# deploy notes: klaviyo = {KEY2}
[[rule]]
id = "acme-token"
name = "Acme token"
severity = "high"
keywords = ["acmetok_"]
regex = '''(?P<secret>acmetok_[A-Za-z0-9]{{24}})'''
remediation = "Rotate it."
[rule.examples]
positive = [{{ text = "t = acmetok_Q7wE9rT2yU4iO6pA8sD0fG1h", secret = "acmetok_Q7wE9rT2yU4iO6pA8sD0fG1h" }}]
"#
    );
    let dir = tree_of(&[(".pkhound.toml", &config)]);
    let (code, out, err) = run(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let found = places(&json(&out));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].3.as_str()),
        (".pkhound.toml", "klaviyo-private-key")
    );
}

// --- Hangs and blow-ups ------------------------------------------------------------------------------

/// `--config`, `--baseline` and `--fingerprint-key-file` naming a FIFO fail at once, saying so.
/// See: issue 12 ("`--config` or `--baseline` naming a FIFO blocks forever").
#[cfg(unix)]
#[test]
fn a_fifo_named_as_a_file_is_an_error_not_a_hang() {
    let dir = tree_of(&[("a.txt", "hello\n")]);
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    for flag in ["--config", "--baseline", "--fingerprint-key-file"] {
        let (code, _, err) = run(dir.path(), &["scan", "a.txt", flag, "fifo"]);
        assert_eq!(code, 2, "{flag}: {err}");
        assert!(err.contains("a FIFO, not a regular file"), "{flag}: {err}");
    }
}

/// `-j 5000` is bounded, with a warning. See: issue 12.
#[test]
fn absurd_thread_counts_are_bounded() {
    let dir = tree_of(&[("a.py", &format!("K = '{KEY}'\n"))]);
    let (code, _, err) = run(dir.path(), &["scan", ".", "-j", "5000"]);
    assert_eq!(code, 1);
    assert!(err.contains("-j 5000 is more threads than can help"), "{err}");
}

/// With `-L`, links into `/proc` (or `/sys`, `/dev`) are never followed: no hang on `/proc/kmsg`, no
/// walk of the host through `/proc/self/root`. See: issue 12.
#[cfg(target_os = "linux")]
#[test]
fn follow_never_enters_proc_sys_or_dev() {
    let dir = tree_of(&[("a.py", &format!("K = '{KEY}'\n"))]);
    for (name, target) in [
        ("kmsg", "/proc/kmsg"),
        ("self", "/proc/self"),
        ("sys", "/sys"),
        ("zero", "/dev/zero"),
    ] {
        std::os::unix::fs::symlink(target, dir.path().join(name)).expect("symlink");
    }
    let (code, out, err) = run(dir.path(), &["scan", "-L", ".", "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let report = json(&out);
    assert_eq!(places(&report).len(), 1);
    // Only the tree itself was read: the links were skipped, not followed.
    assert_eq!(report["stats"]["files"], 1, "{}", report["stats"]);
    // A project the user put under /dev (a tmpfs such as /dev/shm) is still walked below its root.
    if let Ok(shm) = tempfile::tempdir_in("/dev/shm") {
        fs::create_dir_all(shm.path().join("sub")).expect("mkdir");
        fs::write(shm.path().join("sub/a.env"), format!("K={KEY}\n")).expect("write");
        let (code, out, err) = run(shm.path(), &["scan", "-L", ".", "--format", "json"]);
        assert_eq!(code, 1, "{err}");
        assert_eq!(places(&json(&out)).len(), 1);
    }
}

// --- Rules -------------------------------------------------------------------------------------------

/// gitleaks rules whose secret group follows `_` match, as in gitleaks.
/// See: issue 12 ("Imported gitleaks rules whose secret group follows `_` never match").
#[test]
fn gitleaks_secret_groups_after_an_underscore_match() {
    let dir = tree_of(&[
        (
            "gitleaks.toml",
            "[[rules]]\nid = \"tok\"\nregex = '''tok_([a-z0-9]{12})'''\nkeywords = [\"tok_\"]\n",
        ),
        ("a.txt", "a tok_q8w7e6r5t4y3 b\n"),
    ]);
    let (code, out, err) = run(
        dir.path(),
        &["scan", "a.txt", "--config", "gitleaks.toml", "--format", "json"],
    );
    assert_eq!(code, 1, "{err}");
    let f = &json(&out)["findings"][0];
    assert_eq!((f["rule_id"].as_str(), f["column"].as_u64()), (Some("tok"), Some(7)));
}

/// A real key that happens to hold a run of one digit is a key. See: issue 12 ("The placeholder filter
/// that rejects a run of 6 identical characters drops about 1 real Klaviyo key in 36,000").
#[test]
fn keys_with_repeated_characters_are_found() {
    let key = "pk_6cf41755555513d31cf0d8e8d584ad168a"; // pkhound:allow
    let dir = tree_of(&[(".env", &format!("KLAVIYO_KEY={key}\n"))]);
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(places(&report)[0].3, "klaviyo-private-key");
    let dir = tree_of(&[(".env", "KLAVIYO_KEY=pk_0000000000000000000000000000000000\n")]);
    assert_eq!(scan_json(dir.path(), &[]).0, 0);
}

// --- Incomplete --------------------------------------------------------------------------------------

/// A scan with a hole says so in every format, findings or not. See: issue 12 ("a visible
/// 'incomplete' mark in every format even when there are findings").
#[cfg(unix)]
#[test]
fn an_incomplete_scan_is_marked_in_every_format() {
    let dir = tree_of(&[("a.py", &format!("K = '{KEY}'\n"))]);
    std::os::unix::fs::symlink(dir.path().join("missing"), dir.path().join("dangling")).expect("symlink");
    for (format, mark) in [
        ("text", "INCOMPLETE: 1 place could not be scanned"),
        ("json", "\"incomplete\": true"),
        ("sarif", "\"executionSuccessful\": false"),
        ("gitlab", "incomplete scan"),
        ("junit", "(incomplete scan)"),
        ("csv", "pkhound-incomplete"),
    ] {
        let (code, out, err) = run(dir.path(), &["scan", "-L", ".", "--format", format]);
        assert_eq!(code, 1, "{format}: findings win over holes");
        assert!(out.contains(mark), "{format}: {out}");
        if format != "text" {
            assert!(err.contains("INCOMPLETE"), "{format}: {err}");
        }
    }
    let (_, out, _) = run(dir.path(), &["scan", "-L", ".", "--format", "sarif"]);
    assert!(out.contains("\"incomplete\": true"), "{out}");
    // Nothing found and a hole: exit 2.
    fs::remove_file(dir.path().join("a.py")).expect("rm");
    let (code, out, _) = run(dir.path(), &["scan", "-L", "."]);
    assert_eq!(code, 2);
    assert!(out.contains("INCOMPLETE"), "{out}");
}
