//! Two-part credentials (an AWS access key id with its secret key, a Twilio account SID with its auth token,
//! an Azure storage account name with its key): one finding names both halves, each redacted.

use std::fs;

use serde_json::Value;

use crate::common::*;

const KEY_ID: &str = "AKIAGKW6VO3IAZUHFDML";
const SECRET: &str = "O6UuxpSn48+n2Zi1Oqdd++FxIPbXz0MKzGc88fOL";

fn aws_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("credentials"),
        format!("[default]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"),
    )
    .unwrap();
    dir
}

#[test]
fn an_aws_key_pair_is_one_finding_naming_both_halves() {
    let dir = aws_tree();
    let out = pkhound()
        .arg("scan")
        .arg(dir.path())
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f["rule_id"], "aws-secret-access-key");
    assert_eq!(f["line"], 3);
    let partner = &f["partner"];
    assert_eq!(partner["label"], "access key id");
    assert_eq!(partner["line"], 2);
    assert_eq!(partner["column"], 21);
    assert_eq!(partner["redacted"], "AKIAG…L");
    assert!(partner.get("secret").is_none());
}

#[test]
fn every_format_names_the_other_half_redacted() {
    let dir = aws_tree();
    for format in ["text", "json", "jsonl", "sarif", "gitlab", "junit", "csv"] {
        let out = pkhound()
            .arg("scan")
            .arg(dir.path())
            .args(["--format", format, "--color", "never"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("AKIAG…L"), "{format}: {text}");
        assert!(!text.contains(KEY_ID), "{format} shows the key id in clear");
        assert!(!text.contains(SECRET), "{format} shows the secret in clear");
    }
    let out = pkhound()
        .arg("scan")
        .arg(dir.path())
        .args(["--format", "text", "--compact", "--show-secrets"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("{SECRET} (with access key id {KEY_ID})")),
        "{text}"
    );
}

#[test]
fn a_lone_key_id_is_still_its_own_finding() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.env"), format!("AWS_ACCESS_KEY_ID={KEY_ID}\n")).unwrap();
    let out = pkhound()
        .arg("scan")
        .arg(dir.path())
        .args(["--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["rule_id"], "aws-access-key-id");
    assert!(findings[0].get("partner").is_none());
}

#[test]
fn twilio_and_azure_pairs_name_their_account() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("settings.yml"),
        "twilio:\n  account_sid: AC6241fdc6c7d407ecec4481140ee058e2\n  twilio_auth_token: \"2b074ecd328a708de00e19a9a0a0f940\"\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("storage.env"),
        "AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName=acmeprodlogs;AccountKey=tyUYN77a2N1+UoWbo8Kcw8ZIXkgGqhh9EAE2mk6cptOOdxCiCrvZ6vrAvMJ6g+bCKmnRu/eOj2qC9aVUeRjVCW==;EndpointSuffix=core.windows.net\n",
    )
    .unwrap();
    let out = pkhound()
        .arg("scan")
        .arg(dir.path())
        .args(["--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let partners: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("partner").is_some())
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["partner"]["label"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        partners.contains(&("twilio-auth-token".into(), "account SID".into())),
        "{partners:?}"
    );
    assert!(
        partners.contains(&("azure-storage-account-key".into(), "account name".into())),
        "{partners:?}"
    );
}
