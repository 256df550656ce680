use std::fs;

use crate::common::*;

fn basic() -> tempfile::TempDir {
    let dir = fixture_tree("basic");
    fs::write(dir.path().join(".gitignore"), "secret.local\n").unwrap();
    dir
}

#[test]
fn finds_every_planted_key_and_nothing_else() {
    let dir = basic();
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let got = places(&report);
    let want = vec![
        (".env".to_string(), 3, 25, "klaviyo-private-key".to_string()),
        ("config/crlf.ini".into(), 3, 8, "klaviyo-private-key".into()),
        ("config/settings.yaml".into(), 3, 16, "klaviyo-private-key".into()),
        ("src/latin1.txt".into(), 2, 9, "klaviyo-private-key".into()),
        ("web/public/js/app.min.js".into(), 1, 37, "klaviyo-private-key".into()),
    ];
    assert_eq!(got, want);
    let stats = &report["stats"];
    assert_eq!(stats["skipped_binary"], 1, "{stats}");
    assert_eq!(report["errors"].as_array().unwrap().len(), 0);
}

#[test]
fn show_secrets_prints_exactly_the_planted_keys() {
    let dir = basic();
    let (_, report, _) = scan_json(dir.path(), &["--show-secrets"]);
    let mut got: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap().into(), f["secret"].as_str().unwrap().into()))
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = PLANTED.iter().map(|(p, k)| (p.to_string(), k.to_string())).collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn no_ignore_scans_gitignored_files() {
    let dir = basic();
    let (_, report, _) = scan_json(dir.path(), &["--no-ignore", "--show-secrets"]);
    let secrets: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["secret"].as_str().unwrap())
        .collect();
    assert!(
        secrets.contains(&"pk_7f6a6f0fb23c6f5da2cec255404e4fb440"),
        "{secrets:?}"
    );
}

#[test]
fn json_contract_fields() {
    let dir = basic();
    let (_, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(report["version"], env!("CARGO_PKG_VERSION"));
    let f = &report["findings"][0];
    for key in [
        "rule_id",
        "rule_name",
        "severity",
        "path",
        "line",
        "column",
        "end_column",
        "redacted",
        "fingerprint",
        "origin",
        "remediation",
    ] {
        assert!(!f[key].is_null(), "finding lacks {key}: {f}");
    }
    assert!(f.get("secret").is_none(), "secret present without --show-secrets");
    assert_eq!(f["origin"]["kind"], "file");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["end_column"].as_u64().unwrap() - f["column"].as_u64().unwrap(), 37);
    for key in ["files", "bytes", "skipped", "elapsed_ms"] {
        assert!(report["stats"][key].is_u64(), "stats lacks {key}");
    }
    let bundle = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "web/public/js/app.min.js")
        .unwrap();
    assert_eq!(bundle["exposure"], "client-side");
}

#[test]
fn jsonl_is_one_finding_per_line() {
    let dir = basic();
    let out = pkhound()
        .arg("scan")
        .arg(dir.path())
        .args(["--format", "jsonl"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), PLANTED.len());
    assert!(lines.iter().all(|l| l["rule_id"] == "klaviyo-private-key"));
}

#[test]
fn stdin_is_scanned_with_its_own_origin() {
    let out = pkhound()
        .args(["scan", "-", "--format", "json"])
        .write_stdin("x\nKEY=pk_a4c123b1612dd272d1371c17149d439536\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &report["findings"][0];
    assert_eq!(
        (f["path"].as_str(), f["line"].as_u64(), f["origin"]["kind"].as_str()),
        (Some("-"), Some(2), Some("stdin"))
    );
}

#[test]
fn a_file_given_by_path_keeps_its_path() {
    let dir = basic();
    let out = pkhound()
        .current_dir(dir.path())
        .args(["scan", "config/settings.yaml", "--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"][0]["path"], "config/settings.yaml");
}

#[test]
fn text_report_groups_by_file_and_summarises() {
    let dir = basic();
    let out = pkhound()
        .arg("scan")
        .arg(dir.path())
        .args(["--color", "never"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("CRITICAL  Klaviyo private API key  pk_a4…36  (klaviyo-private-key)  · 1 place"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{}/.env:3:25  ", dir.path().display())),
        "{text}"
    );
    assert!(text.contains("klaviyo-private-key: Create a new private key"), "{text}");
    assert!(text.contains("[client-side]"), "{text}");
    assert!(text.contains("5 secrets in 5 places (5 critical) in 5 files"), "{text}");
    assert!(!text.contains('\u{1b}'), "no ANSI codes with --color never");
    let colored = pkhound()
        .arg("scan")
        .arg(dir.path())
        .args(["--color", "always"])
        .output()
        .unwrap();
    assert!(String::from_utf8(colored.stdout).unwrap().contains('\u{1b}'));
}

#[test]
fn utf16_files_are_decoded_and_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let text = "setting\r\nkey=pk_a4c123b1612dd272d1371c17149d439536\r\n";
    let bytes: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    fs::write(dir.path().join("win.txt"), bytes).unwrap();
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        places(&report),
        vec![("win.txt".to_string(), 2, 5, "klaviyo-private-key".to_string())]
    );
}

#[test]
fn a_key_in_a_huge_single_line_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let mut line = "a".repeat(3 << 20);
    line.push_str(";k=\"pk_a4c123b1612dd272d1371c17149d439536\";");
    line.push_str(&"b".repeat(1 << 20));
    fs::write(dir.path().join("bundle.js"), line).unwrap();
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(places(&report)[0].1, 1);
    assert_eq!(places(&report)[0].2, (3 << 20) + 5);
}
