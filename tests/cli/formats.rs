//! The CI formats (SARIF, GitLab, JUnit, CSV) rendered by the binary from a real scan.

use std::fs;

use serde_json::Value;

use crate::common::*;

fn basic() -> tempfile::TempDir {
    let dir = fixture_tree("basic");
    fs::write(dir.path().join(".gitignore"), "secret.local\n").unwrap();
    dir
}

/// Runs `pkhound scan DIR --format FORMAT EXTRA…`; returns (exit code, stdout).
fn scan(dir: &std::path::Path, format: &str, extra: &[&str]) -> (i32, String) {
    let out = pkhound()
        .arg("scan")
        .arg(dir)
        .args(["--format", format])
        .args(extra)
        .output()
        .expect("pkhound runs");
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).expect("UTF-8 report"),
    )
}

#[test]
fn sarif_describes_every_planted_key() {
    let dir = basic();
    let (code, out) = scan(dir.path(), "sarif", &[]);
    assert_eq!(code, 1);
    let log: Value = serde_json::from_str(&out).expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().ends_with("sarif-schema-2.1.0.json"));
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];

    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "pkhound");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "only rules that produced a result");
    let rule = &rules[0];
    assert_eq!(rule["id"], "klaviyo-private-key");
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    assert_eq!(rule["properties"]["security-severity"], "9.5");
    assert!(rule["properties"]["tags"]
        .as_array()
        .unwrap()
        .contains(&"security".into()));
    assert!(rule["help"]["markdown"].as_str().unwrap().contains("Remediation"));
    assert!(!rule["fullDescription"]["text"].as_str().unwrap().is_empty());

    assert!(run["originalUriBaseIds"]["%SRCROOT%"].is_object());
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);

    let results = run["results"].as_array().unwrap();
    let mut got: Vec<(String, u64, u64)> = results
        .iter()
        .map(|r| {
            assert_eq!(r["ruleId"], "klaviyo-private-key");
            assert_eq!(r["ruleIndex"], 0);
            assert_eq!(r["level"], "error");
            let loc = &r["locations"][0]["physicalLocation"];
            assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
            let region = &loc["region"];
            // Classic keys are 37 characters, the company-id form 44.
            let width = region["endColumn"].as_u64().unwrap() - region["startColumn"].as_u64().unwrap();
            assert!(width == 37 || width == 44, "{region}");
            assert_eq!(region["snippet"]["text"], r["properties"]["redacted"]);
            let fp = &r["partialFingerprints"];
            assert_eq!(
                fp["primaryLocationLineHash"].as_str().unwrap(),
                format!("{}:1", fp["pkhound/v2"].as_str().unwrap())
            );
            (
                loc["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                region["startLine"].as_u64().unwrap(),
                region["startColumn"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    let want = vec![
        (".env".to_string(), 3, 25),
        ("config/crlf.ini".into(), 3, 8),
        ("config/settings.yaml".into(), 3, 16),
        ("src/latin1.txt".into(), 2, 9),
        ("web/public/js/app.min.js".into(), 1, 37),
    ];
    assert_eq!(got, want);
}

#[test]
fn sarif_fingerprints_match_the_json_report_and_are_deterministic() {
    let dir = basic();
    let (_, first) = scan(dir.path(), "sarif", &[]);
    let (_, second) = scan(dir.path(), "sarif", &[]);
    assert_eq!(first, second, "SARIF is deterministic for the same tree");
    let (_, json, _) = scan_json(dir.path(), &[]);
    let log: Value = serde_json::from_str(&first).unwrap();
    let mut sarif_fps: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["partialFingerprints"]["pkhound/v2"].as_str().unwrap())
        .collect();
    let mut json_fps: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    sarif_fps.sort();
    json_fps.sort();
    assert_eq!(sarif_fps, json_fps);
}

#[test]
fn sarif_reports_what_could_not_be_scanned() {
    let dir = basic();
    std::os::unix::fs::symlink(dir.path().join("missing"), dir.path().join("dangling")).unwrap();
    let (_, out) = scan(dir.path(), "sarif", &["--follow"]);
    let log: Value = serde_json::from_str(&out).unwrap();
    let inv = &log["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let notes = inv["toolExecutionNotifications"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n["level"] == "error" && n["message"]["text"].as_str().unwrap().contains("dangling")),
        "{inv}"
    );
}

#[test]
fn clean_scan_is_valid_sarif_with_no_results() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.txt"), "nothing to see\n").unwrap();
    let (code, out) = scan(dir.path(), "sarif", &[]);
    assert_eq!(code, 0);
    let log: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
    assert_eq!(log["runs"][0]["tool"]["driver"]["rules"], serde_json::json!([]));
}

#[test]
fn gitlab_junit_and_csv_parse_and_hold_every_finding() {
    let dir = basic();

    let (code, out) = scan(dir.path(), "gitlab", &[]);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&out).expect("GitLab report is JSON");
    assert_eq!(report["scan"]["type"], "secret_detection");
    assert_eq!(report["scan"]["status"], "success");
    let time = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$").unwrap();
    for key in ["start_time", "end_time"] {
        assert!(time.is_match(report["scan"][key].as_str().unwrap()), "{key}");
    }
    let vulns = report["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), PLANTED.len());
    assert!(vulns.iter().all(|v| v["location"]["commit"]["sha"] == "0000000"));

    let (_, out) = scan(dir.path(), "junit", &[]);
    let doc = roxmltree::Document::parse(&out).expect("JUnit is well-formed XML");
    let failures = doc.descendants().filter(|n| n.has_tag_name("failure")).count();
    assert_eq!(failures, PLANTED.len());

    let (_, out) = scan(dir.path(), "csv", &["--show-secrets"]);
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let secret = reader.headers().unwrap().iter().position(|h| h == "secret").unwrap();
    let mut secrets: Vec<String> = reader
        .records()
        .map(|r| r.expect("CSV row")[secret].to_string())
        .collect();
    secrets.sort();
    let mut want: Vec<String> = PLANTED.iter().map(|(_, k)| k.to_string()).collect();
    want.sort();
    assert_eq!(secrets, want);
}
