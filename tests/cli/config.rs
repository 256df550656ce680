//! Quiet by default: `.pkhound.toml`, custom rules, allowlists, inline allows, baselines, gitleaks configs,
//! `--only`/`--skip`, test-path context and `pkhound rules check`.

use std::{fs, path::Path};

use tempfile::TempDir;

use crate::common::*;

const KEY_A: &str = "pk_a4c123b1612dd272d1371c17149d439536";
const KEY_B: &str = "pk_b3216fdaeeb975729fae923d5a4fd12aab";

fn fixture_config(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/config")
        .join(name)
        .display()
        .to_string()
}

/// A temp tree from `(path, content)` pairs.
fn tree(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, content) in files {
        let p = dir.path().join(path);
        fs::create_dir_all(p.parent().expect("has a parent")).expect("mkdir");
        fs::write(p, content).expect("write");
    }
    dir
}

fn rule_ids(report: &serde_json::Value) -> Vec<String> {
    places(report).into_iter().map(|p| p.3).collect()
}

const CUSTOM_RULE: &str = r#"
[[rule]]
id = "acme-deploy-token"
name = "Acme deploy token"
severity = "high"
keywords = ["acmedt_"]
regex = '''(?P<secret>acmedt_[A-Za-z0-9]{32})'''
remediation = "Revoke it in the Acme console."

[rule.examples]
positive = [
  { text = "T=acmedt_Q7ZKD2M9XW4BN6PLR3TYV8HCJ5FGA1SE", secret = "acmedt_Q7ZKD2M9XW4BN6PLR3TYV8HCJ5FGA1SE" },
]
"#;

#[test]
fn custom_rule_in_pkhound_toml_is_found_and_its_examples_are_not() {
    let dir = tree(&[
        (".pkhound.toml", CUSTOM_RULE),
        ("deploy/env.sh", "export ACME=acmedt_Zp4Lr8Wq2Nv6Tx0Bk3Hm7Jc5Fd9Gs1Ya\n"),
    ]);
    let (code, report, stderr) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        places(&report),
        [("deploy/env.sh".to_string(), 1, 13, "acme-deploy-token".to_string())]
    );
}

#[test]
fn disabled_rule_is_silent() {
    let dir = tree(&[
        (".pkhound.toml", "disable = [\"klaviyo-private-key\"]\n"),
        (".env", &format!("K={KEY_A}\n")),
    ]);
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0);
    assert!(places(&report).is_empty());
    // --no-config brings it back.
    let (code, _, _) = scan_json(dir.path(), &["--no-config"]);
    assert_eq!(code, 1);
}

#[test]
fn severity_override_changes_the_failing_threshold() {
    let dir = tree(&[
        (".pkhound.toml", "[severity]\nklaviyo-private-key = \"low\"\n"),
        (".env", &format!("K={KEY_A}\n")),
    ]);
    let (code, report, _) = scan_json(dir.path(), &["--fail-on", "medium"]);
    assert_eq!(code, 0);
    assert_eq!(report["findings"][0]["severity"], "low");
}

#[test]
fn path_regex_and_stopword_allowlists() {
    let config = r#"
[allowlist]
paths = ["vendor/**", "*.snap"]
regexes = ['''^pk_a4c1''']

[[allowlists]]
rules = ["klaviyo-private-key"]
paths = ["legacy/"]
"#;
    let dir = tree(&[
        (".pkhound.toml", config),
        ("vendor/lib/client.py", &format!("K='{KEY_B}'\n")),
        ("src/__snapshots__/app.snap", &format!("K='{KEY_B}'\n")),
        ("legacy/old.py", &format!("K='{KEY_B}'\n")),
        ("src/a.py", &format!("K='{KEY_A}'\n")),
        ("src/b.py", &format!("K='{KEY_B}'\n")),
    ]);
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let paths: Vec<String> = places(&report).into_iter().map(|p| p.0).collect();
    assert_eq!(paths, ["src/b.py"]);
    // Globally allowlisted paths are pruned before they are read: never counted as scanned.
    // Scanned: .pkhound.toml (a key pasted into it is a leak), legacy/old.py, src/a.py, src/b.py.
    assert_eq!(report["stats"]["files"], 4, "{}", report["stats"]);
}

#[test]
fn stopwords_allow_secrets_that_contain_them() {
    let dir = tree(&[
        (".pkhound.toml", CUSTOM_RULE),
        ("a.txt", "tok = acmedt_TeamDemo2M9XW4BN6PLR3TYV8HCJ5FGA\n"),
    ]);
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!((code, rule_ids(&report)), (1, vec!["acme-deploy-token".to_string()]));
    let cfg = format!("{CUSTOM_RULE}\n[allowlist]\nstopwords = [\"teamdemo\"]\n");
    fs::write(dir.path().join(".pkhound.toml"), cfg).unwrap();
    let (code, report, stderr) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(places(&report).is_empty());
}

#[test]
fn inline_allow_in_every_comment_style() {
    let dir = tree(&[
        ("a.py", &format!("K = '{KEY_A}'  # pkhound:allow\n")),
        ("b.js", &format!("const k = '{KEY_A}'; // pkhound:allow\n")),
        ("c.c", &format!("char *k = \"{KEY_A}\"; /* pkhound:allow */\n")),
        ("d.html", &format!("<meta k=\"{KEY_A}\"> <!-- pkhound:allow -->\n")),
        ("e.go", &format!("k := \"{KEY_A}\" // gitleaks:allow\n")),
        (
            "f.py",
            &format!("K = '{KEY_B}'\n# pkhound:allow is on the wrong line\n"),
        ),
    ]);
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let paths: Vec<String> = places(&report).into_iter().map(|p| p.0).collect();
    assert_eq!(paths, ["f.py"]);
}

#[test]
fn baseline_reports_only_new_findings_after_a_move_and_a_rename() {
    let dir = tree(&[("config/app.env", &format!("A=1\nKEY={KEY_A}\n"))]);
    let baseline = dir.path().join(".pkhound-baseline.json");
    let b = baseline.to_str().unwrap();
    let (code, _, _) = scan_json(dir.path(), &["--baseline-out", b]);
    assert_eq!(code, 1, "recording a baseline still reports");
    let text = fs::read_to_string(&baseline).unwrap();
    assert!(!text.contains(KEY_A), "a baseline never holds the secret");
    assert!(text.contains("\"fingerprint\""));

    // Nothing new: clean.
    let (code, report, _) = scan_json(dir.path(), &["--baseline", b]);
    assert_eq!((code, places(&report).len()), (0, 0));

    // The line moves, the file is renamed, and a new key arrives.
    fs::remove_file(dir.path().join("config/app.env")).unwrap();
    fs::write(
        dir.path().join("config/production.env"),
        format!("# moved\n\n\nKEY={KEY_A}\nOTHER={KEY_B}\n"),
    )
    .unwrap();
    let (code, report, stderr) = scan_json(dir.path(), &["--baseline", b]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("1 finding(s) already in the baseline not reported"),
        "{stderr}"
    );
    assert_eq!(
        places(&report),
        [(
            "config/production.env".to_string(),
            5,
            7,
            "klaviyo-private-key".to_string()
        )]
    );
}

#[test]
fn bad_baseline_is_a_named_error() {
    let dir = tree(&[("a.txt", "x\n"), ("b.json", "{\"nope\": 1}\n")]);
    let b = dir.path().join("b.json");
    let out = pkhound()
        .arg("scan")
        .arg(dir.path())
        .arg("--baseline")
        .arg(&b)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("b.json: not a pkhound baseline"), "{stderr}");
}

#[test]
fn gitleaks_config_loads_and_its_rules_fire() {
    let settings = format!(
        "AWS_ACCESS_KEY_ID = \"AKIAQYLPMN5HFIQR7XYZ\"\n\
         EXAMPLE_KEY = \"AKIAIOSFODNN7EXAMPLE\"\n\
         SLACK = \"xoxb-2718281828-3141592653-Zq8RtYvU3wXk9PlMnB2cD4eF\"\n\
         INTERNAL = \"acmetok_9f86d081884c7d659a2feaa0c55ad015\"\n\
         LICENSE = \"QWER-2846-ZXCV-1937-K8J2M4N6P9Q1\"\n\
         acme_api_secret = \"Hq3Vb9Xr2Lw7Pz5Nk8Tj4Mf6Gd1Sc0Ya/Ru+Ee2W\"\n\
         KLAVIYO = \"{KEY_A}\"\n\
         TEST_SLACK = \"xoxb-1618033988-2236067977-Hk3Wq9Zr7TyLp2Mv\" # ssn 219-09-9999 in the demo data\n"
    );
    let dir = tree(&[
        ("app/settings.py", &settings),
        ("app/.env", &settings),
        ("vendor/lib.py", &settings),
        (
            "generated/license.txt",
            "LICENSE = \"TEST-2846-ZXCV-1937-K8J2M4N6P9Q1\"\n",
        ),
    ]);
    let config = fixture_config("valid/gitleaks.toml");
    let (code, report, stderr) = scan_json(dir.path(), &["--config", &config]);
    assert_eq!(code, 1, "{stderr}");
    let got: Vec<(String, String)> = places(&report).into_iter().map(|p| (p.0, p.3)).collect();
    let mut want = Vec::new();
    for file in ["app/.env", "app/settings.py"] {
        for rule in [
            "aws-access-token",
            // The built-in AWS rule stays on beside the imported one (no `[extend] useDefault` needed).
            "aws-access-key-id",
            "slack-bot-token",
            "acme-internal-token",
            "acme-license-key",
            "acme-api-secret",
            "klaviyo-private-key",
        ] {
            // `path` on acme-api-secret restricts it to .env/.yaml/.json/.properties files.
            if rule == "acme-api-secret" && file.ends_with(".py") {
                continue;
            }
            want.push((file.to_string(), rule.to_string()));
        }
    }
    let mut got_sorted = got.clone();
    got_sorted.sort();
    want.sort();
    assert_eq!(got_sorted, want, "{stderr}");
    // Unsupported features are named on stderr, not dropped silently.
    assert!(
        stderr.contains("rule `pkcs12-file`: path-only rules (no `regex`) are not supported"),
        "{stderr}"
    );
    // regexTarget = "line": the TEST_SLACK line is allowed by its `219-09-9999`, so no line-8 finding.
    assert!(places(&report).iter().all(|p| p.1 != 8), "{:?}", places(&report));
    assert!(stderr.contains("rule `acme-license-key` has no keywords"), "{stderr}");
}

#[test]
fn bad_config_at_the_root_is_a_named_error_exit_two() {
    let dir = tree(&[
        (".pkhound.toml", "[allowlist]\npaths = [\"ok/**\"]\ncolour = \"blue\"\n"),
        (".env", &format!("K={KEY_A}\n")),
    ]);
    let out = pkhound().arg("scan").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(".pkhound.toml:3: allowlist.colour: unknown field `colour`"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no report on a bad config");
}

#[test]
fn bad_config_flag_is_a_named_error_exit_two() {
    let dir = tree(&[("a.txt", "x\n")]);
    let config = fixture_config("invalid/unknown-disabled-rule.toml");
    let out = pkhound()
        .arg("scan")
        .arg(dir.path())
        .args(["--config", &config])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown-disabled-rule.toml:3: disable: unknown rule id `klaviyo-privte-key`"),
        "{stderr}"
    );
    let missing = pkhound()
        .arg("scan")
        .arg(dir.path())
        .args(["--config", "/no/such/pkhound.toml"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/no/such/pkhound.toml: cannot read"));
}

#[test]
fn only_and_skip_select_rules() {
    let dir = tree(&[
        (".pkhound.toml", CUSTOM_RULE),
        (
            ".env",
            &format!("K={KEY_A}\nT=acmedt_Zp4Lr8Wq2Nv6Tx0Bk3Hm7Jc5Fd9Gs1Ya\n"),
        ),
    ]);
    let (_, report, _) = scan_json(dir.path(), &["--only", "acme-deploy-token"]);
    assert_eq!(rule_ids(&report), ["acme-deploy-token"]);
    let (_, report, _) = scan_json(dir.path(), &["--skip", "acme-deploy-token"]);
    assert_eq!(rule_ids(&report), ["klaviyo-private-key"]);
    let (_, report, _) = scan_json(
        dir.path(),
        &[
            "--only",
            "acme-deploy-token,klaviyo-private-key",
            "--skip",
            "klaviyo-private-key",
        ],
    );
    assert_eq!(rule_ids(&report), ["acme-deploy-token"]);
    let out = pkhound()
        .arg("scan")
        .arg(dir.path())
        .args(["--only", "klaviyo-privat-key"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--only: unknown rule id `klaviyo-privat-key`"));
}

#[test]
fn test_paths_are_marked_and_can_be_dropped() {
    let dir = tree(&[
        ("tests/fixtures/creds.env", &format!("K={KEY_A}\n")),
        ("pkg/client_test.go", &format!("k := \"{KEY_B}\"\n")),
        ("src/app.py", &format!("K='{KEY_B}'\n")),
    ]);
    let (_, report, _) = scan_json(dir.path(), &[]);
    let ctx: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().into(),
                f["context"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        ctx,
        [
            ("pkg/client_test.go".to_string(), "test".to_string()),
            ("src/app.py".into(), "code".into()),
            ("tests/fixtures/creds.env".into(), "test".into()),
        ]
    );
    fs::write(dir.path().join(".pkhound.toml"), "[allowlist]\ntest_paths = true\n").unwrap();
    let (_, report, _) = scan_json(dir.path(), &[]);
    let paths: Vec<String> = places(&report).into_iter().map(|p| p.0).collect();
    assert_eq!(paths, ["src/app.py"]);
}

#[test]
fn rules_check_accepts_good_files() {
    for f in ["valid/full.toml", "valid/minimal.toml", "valid/gitleaks.toml"] {
        let out = pkhound().args(["rules", "check", &fixture_config(f)]).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{f}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains(": ok ("));
    }
    // The built-in rule files pass too.
    let builtin = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/klaviyo.toml");
    pkhound().args(["rules", "check"]).arg(builtin).assert().code(0);
}

#[test]
fn rules_check_lists_every_problem_with_file_rule_and_example() {
    let dir = tree(&[(
        "rules.toml",
        r#"
[[rule]]
id = "acme-token"
name = "Acme token"
severity = "high"
keywords = ["acme_token"]
regex = '''(?P<secret>acmetok_[a-z0-9]{24})'''
remediation = "Rotate it."
[rule.examples]
positive = [
  { text = "t = acmetok_q7zkd2m9xw4bn6plr3tyv8hc", secret = "acmetok_q7zkd2m9xw4bn6plr3tyv8hc" },
]
negative = ["x"]

[[rule]]
id = "acme-broken"
name = "Broken"
severity = "low"
keywords = ["brk_"]
regex = '''(?P<secret>brk_[a-z'''
remediation = "Rotate it."

[[rule]]
id = "acme-loose"
name = "Loose"
severity = "low"
keywords = ["loose_"]
regex = '''(?P<secret>loose_[a-z0-9]{16})'''
remediation = "Rotate it."
[rule.examples]
positive = [{ text = "loose_q7zkd2m9xw4bn6pl", secret = "loose_q7zkd2m9xw4bn6pl" }]
negative = ["k = loose_r8alh3n0yx5co7qm"]
"#,
    )]);
    let file = dir.path().join("rules.toml");
    let out = pkhound().args(["rules", "check"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let f = file.display();
    let want = [
        format!("{f}:16: rule `acme-broken`: regex: unclosed character class"),
        format!("{f}: rule `acme-token`: positive[0]: no keyword occurs in the text"),
        format!("{f}: rule `acme-token`: positive[0]: expected [ac…hc], got []"),
        format!("{f}: rule `acme-loose`: negative[0]: expected nothing, got [lo…qm]"),
    ];
    let got: Vec<&str> = stdout.lines().collect();
    assert_eq!(got, want.iter().map(String::as_str).collect::<Vec<_>>(), "{stdout}");
}

#[test]
fn rules_with_config_lists_the_merged_rule_set() {
    let out = pkhound()
        .args(["rules", "--config", &fixture_config("valid/full.toml")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("acme-deploy-token") && l.contains("high")),
        "{text}"
    );
    // full.toml lowers the Klaviyo rule to high.
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("klaviyo-private-key") && l.contains("high")),
        "{text}"
    );
}
