//! What a person reads: paths they can open from where they stand, summaries on stderr, one outcome in
//! every format, the hook message, completions, the man page and `--version`.
// See: issue 18 ("A report people act on, and an install they can take").

use std::fs;

use crate::common::*;

const KEY: &str = "pk_a4c123b1612dd272d1371c17149d439536"; // pkhound:allow
const LOW: &str = "DB_PASSWORD=qTFSfC&W0esZ3!Mha8zM"; // pkhound:allow

fn planted() -> tempfile::TempDir {
    tree_of(&[
        ("src/email/k.py", &format!("KLAVIYO = '{KEY}'\n")),
        (".env", &format!("KLAVIYO_PRIVATE_API_KEY={KEY}\n")),
        ("config/app.yaml", "name: app\n"),
    ])
}

/// stdout of `pkhound ARGS` run in `cwd`, with the text format in compact form.
fn compact(cwd: &std::path::Path, args: &[&str]) -> String {
    let out = pkhound()
        .current_dir(cwd)
        .arg("scan")
        .args(args)
        .args(["--compact", "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn paths_open_from_the_current_directory() {
    let dir = planted();
    let root = dir.path();
    assert_eq!(
        compact(root, &["src"]),
        "src/email/k.py:1:12: critical klaviyo-private-key pk_a4…36\n"
    );
    assert_eq!(
        compact(root, &["src/"]),
        "src/email/k.py:1:12: critical klaviyo-private-key pk_a4…36\n"
    );
    assert_eq!(
        compact(root, &["."]),
        ".env:1:25: critical klaviyo-private-key pk_a4…36\nsrc/email/k.py:1:12: critical klaviyo-private-key pk_a4…36\n"
    );
    assert_eq!(
        compact(&root.join("config"), &[".."]),
        "../.env:1:25: critical klaviyo-private-key pk_a4…36\n../src/email/k.py:1:12: critical klaviyo-private-key pk_a4…36\n"
    );
    assert_eq!(
        compact(&root.join("src"), &["email", "../.env"]),
        "../.env:1:25: critical klaviyo-private-key pk_a4…36\nemail/k.py:1:12: critical klaviyo-private-key pk_a4…36\n"
    );
    // The full text report too.
    let out = pkhound()
        .current_dir(root.join("config"))
        .args(["scan", "..", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("  ../.env:1:25  KLAVIYO_PRIVATE_API_KEY=pk_a4…36"),
        "{text}"
    );
    assert!(text.contains("  ../src/email/k.py:1:12  "), "{text}");
}

/// Machine formats keep paths relative to the scanned directory and say which one it is.
#[test]
fn json_paths_say_what_they_are_relative_to() {
    let dir = planted();
    let out = pkhound()
        .current_dir(dir.path().join("config"))
        .args(["scan", "..", "--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"][0]["path"], ".env");
    let base = dir.path().canonicalize().unwrap();
    assert_eq!(report["paths_relative_to"], base.to_string_lossy().as_ref());
}

#[test]
fn text_groups_findings_by_secret() {
    let dir = planted();
    let out = pkhound()
        .current_dir(dir.path())
        .args(["scan", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    // One key in two files: one secret, two places, remediation once.
    assert_eq!(text.matches("CRITICAL  Klaviyo private API key").count(), 1, "{text}");
    assert!(text.contains("· 2 places"), "{text}");
    assert_eq!(text.matches("klaviyo-private-key: ").count(), 1, "{text}");
    assert!(text.contains("1 secret in 2 places (1 critical) in 2 files"), "{text}");
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_summary_goes_to_stderr_for_files_and_machine_formats() {
    let dir = planted();
    let report = dir.path().join("report.json");
    let out = pkhound()
        .current_dir(dir.path())
        .args(["scan", ".", "--format", "json", "-o"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("pkhound: 1 secret in 2 places (1 critical) in 2 files; 2 blocking at --fail-on low; "),
        "{err}"
    );
    assert!(err.contains("report in "), "{err}");
    for format in ["sarif", "jsonl", "csv", "junit", "gitlab"] {
        let out = pkhound()
            .current_dir(dir.path())
            .args(["scan", "--format", format])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("pkhound: 1 secret in 2 places"), "{format}: {err}");
    }
    let quiet = pkhound()
        .current_dir(dir.path())
        .args(["scan", "--format", "json", "-q"])
        .output()
        .unwrap();
    assert!(quiet.stderr.is_empty(), "{}", String::from_utf8_lossy(&quiet.stderr));
}

/// `--fail-on` decides what fails, and every format agrees with the exit status.
#[test]
fn fail_on_agrees_across_formats() {
    let dir = tree_of(&[("app.ini", &format!("{LOW}\n"))]);
    for (fail_on, code, blocking) in [("high", 0, 0), ("low", 1, 1)] {
        let (got, report, _) = scan_json(dir.path(), &["--fail-on", fail_on, "--no-config"]);
        assert_eq!(got, code, "{report}");
        assert_eq!(
            report["outcome"],
            serde_json::json!({"fail_on": fail_on, "blocking": blocking, "incomplete": false, "exit_code": code})
        );
        let junit = pkhound()
            .arg("scan")
            .arg(dir.path())
            .args(["--format", "junit", "--fail-on", fail_on])
            .output()
            .unwrap();
        assert_eq!(junit.status.code(), Some(code));
        let xml = String::from_utf8(junit.stdout).unwrap();
        assert!(
            xml.contains(&format!(
                r#"<testsuites name="pkhound" tests="1" failures="{blocking}""#
            )),
            "{xml}"
        );
        let sarif = pkhound()
            .arg("scan")
            .arg(dir.path())
            .args(["--format", "sarif", "--fail-on", fail_on])
            .output()
            .unwrap();
        let log: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
        let level = &log["runs"][0]["results"][0]["level"];
        assert_eq!(level, if blocking == 1 { "error" } else { "note" }, "{fail_on}");
    }
}

#[test]
fn skipped_files_are_listed_with_reasons() {
    let dir = tree_of(&[("a.txt", "text\n")]);
    fs::write(dir.path().join("logo.png"), b"\x89PNG\r\n\x1a\n\0\0\0binary").unwrap();
    let (_, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(
        report["skipped"],
        serde_json::json!([{"path": "logo.png", "reason": "binary"}])
    );
    let out = pkhound()
        .current_dir(dir.path())
        .args(["scan", "-v", "--format", "json"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pkhound: skipped logo.png: binary"), "{err}");
}

#[test]
fn did_you_mean_a_rule_id() {
    let out = pkhound()
        .args(["scan", "--only", "klaviyo-privte-key", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean `klaviyo-private-key`?"), "{err}");
}

#[test]
fn rules_show_prints_one_rule_in_full() {
    let out = pkhound()
        .args(["rules", "show", "klaviyo-private-key"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for field in [
        "severity:     critical",
        "regex:",
        "keywords:",
        "examples:",
        "verifier:",
        "remediation:",
    ] {
        assert!(text.contains(field), "{field}: {text}");
    }
    let bad = pkhound().args(["rules", "show", "klaviyo-key"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("did you mean"));
}

#[test]
fn completions_and_man_page_are_generated() {
    for (shell, marker) in [
        ("bash", "_pkhound()"),
        ("zsh", "#compdef pkhound"),
        ("fish", "complete -c pkhound"),
    ] {
        let out = pkhound().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("fail-on"), "{shell}");
    }
    let man = pkhound().arg("man").output().unwrap();
    assert_eq!(man.status.code(), Some(0));
    let page = String::from_utf8(man.stdout).unwrap();
    assert!(page.starts_with(".ie") || page.contains(".TH pkhound"), "{page}");
}

#[test]
fn version_names_the_rule_count() {
    let out = pkhound().arg("--version").output().unwrap();
    let v = String::from_utf8(out.stdout).unwrap();
    assert!(v.starts_with(&format!("pkhound {}", env!("CARGO_PKG_VERSION"))), "{v}");
    assert!(v.contains(" built-in rules)"), "{v}");
}

#[test]
fn help_snapshot() {
    let out = pkhound()
        .args(["scan", "--help"])
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

/// A gitignored `.env` is scanned (and marked), other ignored files and ignored directories are not, and
/// a `.env` that is not ignored is reported once.
#[test]
fn ignored_secret_files_are_scanned_and_marked() {
    let dir = tree_of(&[
        (".gitignore", ".env\nlocal.txt\nbuild/\n"),
        (".env", &format!("KLAVIYO_PRIVATE_API_KEY={KEY}\n")),
        ("local.txt", &format!("k={KEY}\n")),
        ("build/.env", &format!("k={KEY}\n")),
        ("app/.env.example", &format!("k={KEY}\n")),
    ]);
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        places(&report),
        vec![
            (".env".to_string(), 1, 25, "klaviyo-private-key".to_string()),
            ("app/.env.example".to_string(), 1, 3, "klaviyo-private-key".to_string()),
        ]
    );
    assert_eq!(report["findings"][0]["git_ignored"], true);
    assert!(report["findings"][1].get("git_ignored").is_none());
    assert_eq!(report["ignored_scanned"], serde_json::json!([".env"]));
    let out = pkhound()
        .current_dir(dir.path())
        .args(["scan", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(".env:1:25  KLAVIYO_PRIVATE_API_KEY=pk_a4…36  [ignored by git"),
        "{text}"
    );
    assert!(
        text.contains("1 ignored file scanned for its name (--no-ignore"),
        "{text}"
    );
    // --no-ignore: everything, once.
    let (_, all, _) = scan_json(dir.path(), &["--no-ignore"]);
    assert_eq!(places(&all).len(), 4, "{all}");
}
