//! Secrets hidden in base64: found, placed on the encoded value's line, marked `encoding: base64`, and
//! never printed, in clear or encoded.

use crate::common::*;

const KLAVIYO: &str = "pk_f552cc5023d8319aea1181f76f3adcbdc1"; // pkhound:allow
const AWS: &str = "AKIAQTTIDVZ7ORA35TLM"; // pkhound:allow
/// The encoded forms as they sit in fixtures/tree/encoded/k8s/secret.yaml.
const KLAVIYO_B64: &str = "cGtfZjU1MmNjNTAyM2Q4MzE5YWVhMTE4MWY3NmYzYWRjYmRjMQ==";
const AWS_B64: &str = "QUtJQVFUVElEVlo3T1JBMzVUTE0=";

#[test]
fn base64_values_in_a_kubernetes_secret_are_found_and_decoys_are_not() {
    let dir = fixture_tree("encoded");
    let (code, report, _) = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(code, 1);
    let got: Vec<(String, String, u64, u64, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["encoding"].as_str().unwrap_or("none").to_string(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = |rule: &str, line, column, secret: &str| {
        (
            "k8s/secret.yaml".to_string(),
            rule.to_string(),
            line,
            column,
            "base64".to_string(),
            secret.to_string(),
        )
    };
    assert_eq!(
        got,
        vec![
            want("klaviyo-private-key", 8, 16, KLAVIYO),
            want("aws-access-key-id", 9, 22, AWS),
        ],
        "decoys.yaml (a PNG, random bytes, a pk_live_ key) must yield nothing"
    );
}

#[test]
fn no_format_leaks_the_decoded_or_encoded_secret() {
    let dir = fixture_tree("encoded");
    for format in ["text", "json", "sarif"] {
        let out = pkhound()
            .arg("scan")
            .arg(dir.path())
            .args(["--format", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let text = String::from_utf8_lossy(&out.stdout);
        for key in [
            KLAVIYO,
            AWS,
            &KLAVIYO[5..],
            &AWS[4..],
            &KLAVIYO_B64[4..40],
            &AWS_B64[4..24],
        ] {
            assert!(!text.contains(key), "{format} output holds {key}");
        }
        assert!(text.contains("base64"), "{format} output says the secret was encoded");
    }
}
