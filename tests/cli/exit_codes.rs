use std::fs;

use crate::common::*;

#[test]
fn clean_tree_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("a.py"),
        "print('hello')\nSTRIPE='pk_live_qhEvveQzE2QPuwNOvpdf2YEe'\n",
    )
    .unwrap();
    pkhound().arg("scan").arg(dir.path()).assert().code(0);
}

#[test]
fn findings_exit_one() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.env"), "K=pk_a4c123b1612dd272d1371c17149d439536\n").unwrap();
    pkhound().arg("scan").arg(dir.path()).assert().code(1);
}

#[test]
fn fail_on_above_the_findings_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.env"), "K=pk_a4c123b1612dd272d1371c17149d439536\n").unwrap();
    // Critical findings fail at every threshold up to critical.
    pkhound()
        .arg("scan")
        .arg(dir.path())
        .args(["--fail-on", "critical"])
        .assert()
        .code(1);
}

#[test]
fn missing_path_exits_two_and_names_it() {
    let out = pkhound()
        .args(["scan", "/definitely/not/here", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // Nothing was scanned: no report at all (a "no secrets found" would mislead), the error on stderr.
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "pkhound: /definitely/not/here: No such file or directory\n"
    );
    let text = pkhound().args(["scan", "/definitely/not/here"]).output().unwrap();
    assert_eq!(text.status.code(), Some(2));
    assert!(text.stdout.is_empty());
}

/// One missing path among others: said on stderr, the rest is scanned, the report is incomplete.
#[test]
fn a_missing_path_beside_others_makes_the_scan_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.txt"), "nothing here\n").unwrap();
    let out = pkhound()
        .current_dir(dir.path())
        .args(["scan", "a.txt", "gone.txt", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["errors"][0]["path"], "gone.txt");
    assert_eq!(report["outcome"]["exit_code"], 2);
    assert_eq!(report["outcome"]["incomplete"], true);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pkhound: gone.txt: No such file or directory\n"), "{err}");
    assert!(err.contains("pkhound: nothing found in what could be scanned"), "{err}");
    assert!(!err.contains("no secrets found"), "{err}");
}

#[test]
fn usage_errors_exit_two() {
    pkhound().args(["scan", "--format", "yaml"]).assert().code(2);
    pkhound().args(["scan", "--max-file-size", "lots"]).assert().code(2);
    pkhound().arg("frobnicate").assert().code(2);
}

#[test]
fn output_file_receives_the_report() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.env"), "K=pk_a4c123b1612dd272d1371c17149d439536\n").unwrap();
    let report = dir.path().join("out").join("report.json");
    fs::create_dir(dir.path().join("out")).unwrap();
    let out = pkhound()
        .arg("scan")
        .arg(dir.path().join("a.env"))
        .args(["--format", "json", "--output"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let parsed: serde_json::Value = serde_json::from_slice(&fs::read(&report).unwrap()).unwrap();
    assert_eq!(parsed["findings"].as_array().unwrap().len(), 1);
}
