use crate::common::*;

#[test]
fn rules_lists_the_klaviyo_rule() {
    let out = pkhound().arg("rules").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("klaviyo-private-key") && l.contains("critical")),
        "{text}"
    );
}

#[test]
fn rules_json_has_ids_severities_and_keywords() {
    let out = pkhound().args(["rules", "--format", "json"]).output().unwrap();
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = rules.as_array().unwrap();
    let kl = rules.iter().find(|r| r["id"] == "klaviyo-private-key").unwrap();
    assert_eq!(kl["severity"], "critical");
    assert_eq!(kl["keywords"][0], "pk_");
    assert_eq!(kl["verify"], "klaviyo");
    assert_eq!(kl["category"], "email-marketing");
    let mut ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "rule ids are unique");
}

#[test]
fn rules_are_listed_under_their_category() {
    let out = pkhound().arg("rules").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let heading = text
        .lines()
        .position(|l| l.starts_with("E-mail and marketing ("))
        .expect(&text);
    let klaviyo = text
        .lines()
        .position(|l| l.trim_start().starts_with("klaviyo-private-key "))
        .expect(&text);
    assert!(heading < klaviyo, "{text}");
}
