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

/// `openssl pkcs12 -export` of a throwaway P-256 key and its self-signed certificate.
const KEY_STORE_P12: &str =
    "MIIEHAIBAzCCA9IGCSqGSIb3DQEHAaCCA8MEggO/MIIDuzCCAnIGCSqGSIb3DQEHBqCCAmMwggJfAgEAMIICWAYJKoZIhvcN\
AQcBMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAi6bXWp7pwANAICCAAwDAYIKoZIhvcNAgkFADAdBglghkgBZQME\
ASoEEIxXcU/ePIqdA3sqJdn28kGAggHwLaBy7UdZG62uzEmT8HaFSOu52eU+9G1FR4euenZpgN8lSJs22TkZapUVEm6DdfdM\
aQOltIDAgJM7L2N5RsORix8CD71S/Fd0VhZ1+6nJ2PeJXrDKMHKm+FBMv/I3ewIh6kOOw/zj3lIe65grJaHsG9weqBnllk9o\
3lGlY8f3jQgOzIVPjl/GcR+YSE3TuYluuwioKqV/UIgGQCj1y0AwBExkpYrPkKshtozZxQLO0+Ya6/gDwzGr1roEzWLN9Mpc\
ZnVRI86OvXsItiRxU0OykDmg7cEMt8whW++xCTorO3Y13A1D4lDPhQTMBWP+MR5v1UFXDdL95Vv/1DHIWjoMVeJiIvPM+oKa\
CT1uo1gYMfoz8mntGdB7TiBgwBCMDD7xqFxxEyHKvjNYTXLzOEDLhkifVexQTiEJ2L0lEeyerCnqTZxDnDwcsNz5/bftTqaa\
lqcepT0JSjzNhwKsaCLYg7XoyX0kKDdHXmqv0DeFkzBDdgZy2d5YB4Y1lVpwn6U5mXIs5gTprcz4A66YZG2CYG+pHKMyeDhy\
dKPZ+/JKgXmWJwd23Z7EnFDfmWYHh1m+ZxQBIJDuBtARRqsIVdyImyq7F7LitV4v3G/GBVpsW0GRrSYDPTByjc2rg54E4ey7\
2bZWmM8PC4o+TFFzaWY5qTCCAUEGCSqGSIb3DQEHAaCCATIEggEuMIIBKjCCASYGCyqGSIb3DQEMCgECoIHvMIHsMFcGCSqG\
SIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAg87T/XldfN6QICCAAwDAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEJS76Krz\
RlCxfLavHGPweLYEgZCjmCvdMn6sm7ZI571WijnykgyfFlzd+gGPWaBSS2OANGcnEVcCLGzUS7S99Eg51QSZFfYwR6drJ8qy\
Q3uBqbTTkEGtWP8sINdOUX10nZfJmtUFaDreDkzJPf33IcRujUaj7dWXqEBDu37xXJFiuDIoOXeL1gK7YcEclX1pIyhC7dXw\
gXqJdnTFbZnfGwRFtXwxJTAjBgkqhkiG9w0BCRUxFgQUSRoYn7UCyDxHSlDHDrXHZdE5FhAwQTAxMA0GCWCGSAFlAwQCAQUA\
BCBvmaQIsDprZU8GMG/xO2IWP11/dx0g/jwsL9UmPb0A9QQI25bMgsZPs5QCAggA";
/// The same certificate alone (`-nokeys`): a truststore.
const TRUSTSTORE_P12: &str =
    "MIICpwIBAzCCAl0GCSqGSIb3DQEHAaCCAk4EggJKMIICRjCCAkIGCSqGSIb3DQEHBqCCAjMwggIvAgEAMIICKAYJKoZIhvcN\
AQcBMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAhNAAfFcnYcDgICCAAwDAYIKoZIhvcNAgkFADAdBglghkgBZQME\
ASoEEMWjIAiO3UyvV9lDweQSxk+AggHAtTsF7oSJ/IruKr76Qmg9X6JfmKhHk4DRvfsJzKXXd57s1FsNCzdof/4VTgBwzxBE\
1NQyUXHQoH/XBoYgIQ8YHt5/MhdUmprhzPI79TCHaMg8/HqpaEXNMr60gBL0k3ZFlvXxzgX9EoUYySLhAUsM87qCfJwHaFtM\
ao9mZvsaXSCJZvFaDnW0tcZQ2iJGfcdTR63aOdKOUNcxOWyJJvQmmz4BeHPfbAeDcAkAfDEXPN3OVDKUTTS2Oq+t5iUP7HJW\
lEVFE3o9nR7uiH4GAm7jPDevEPftJdbMwHsTIxJAH2/V4H+ecX4XWZQcWAvbbO/u3TJTdaX0l6KvDlrE3bVUH+VRKhxxzeSL\
6Ixnd/wnku2RW4cTtppolc9cJE4Mb3zVfN0+fDH4J21GHO72Jj63C8Vkvh9gjlM747Wp8gJU5JuQFSjqDaFPnVAPHM34EZfM\
j4Hx6tBvHc/CLGbv66yJFMzM+yYV9AxSDDfEBs0OcZe8FsBnD8a4ZA33BJH6Vl0PKj/MSQJhrZyoibQRqmlgtklfYv7N+KRj\
GytZgKtI7iLWfh7O3pf4FqYp0NWmmg2xJqh3rCG4gCvMsUYlz2fr5DBBMDEwDQYJYIZIAWUDBAIBBQAEIAPoHETgYoySYteI\
m5W18aN1/Tkj8+jgJYGva812IhtOBAgv1tXq4y2Q3QICCAA=";

/// `keytool -genkeypair -storetype JKS`: a Java key store holding a private key.
const JKS_KEY: &str =
    "/u3+7QAAAAIAAAABAAAAAQAGdXBsb2FkAAABoj2MkVYAAAB/MH0wDgYKKwYBBAEqAhEBAQUABGurDi1e0DBISo6TFd0qveXY\
KNinao/2casRdPoWxWuclTpCtCORS1Fh9l8uva9rrO3iQL6J0fTjhXmkETDKplvS/0qUk5vhlqD4L8xr+JGU/6CFe3GTdsOC\
kNAv0vzlfOFv3MdWFHx9PwezGQAAAAEABVguNTA5AAABhTCCAYEwggEnoAMCAQICCHeG2d89m2C1MAoGCCqGSM49BAMCMDUx\
EDAOBgNVBAoTB09yYml0YWwxITAfBgNVBAMTGE9yYml0YWwgUGF5bWVudHMgUmVsZWFzZTAeFw0yNjEyMDMyMDE1NTJaFw0z\
NjExMzAyMDE1NTJaMDUxEDAOBgNVBAoTB09yYml0YWwxITAfBgNVBAMTGE9yYml0YWwgUGF5bWVudHMgUmVsZWFzZTBZMBMG\
ByqGSM49AgEGCCqGSM49AwEHA0IABGQZBtWNKBlG3oWbcvYt7YiarkxyMNGpVysf+Mvu81bXALHdWcDjHditDZMBq7nC1vWY\
RnPltMTWqi7Uuz8hMcqjITAfMB0GA1UdDgQWBBRMtkhpP0WdnsnVEp1bK4094JreAzAKBggqhkjOPQQDAgNIADBFAiEA9b8m\
UY8/Aal9bSbyLyJisxDlBNAxT474ggCjWO7mDG8CIHYXJVDjnVzmrli7CTj5HJtPwd+Uc+5lrVVTFOVlMGcaKOqiU8HkTVbe\
jujqZqD3/Le+45Y=";
/// `keytool -importcert -storetype JKS`: a Java truststore.
const JKS_TRUST: &str =
    "/u3+7QAAAAIAAAABAAAAAgACY2EAAAGiPX9hPAAFWC41MDkAAAGOMIIBijCCAS+gAwIBAgIULWFu4rFwjBbSZlALmI4B1mLP\
eJ4wCgYIKoZIzj0EAwIwGjEYMBYGA1UEAwwPcGtob3VuZC1leGFtcGxlMB4XDTI2MTIwMzE5NDE1MloXDTM2MTEzMDE5NDE1\
MlowGjEYMBYGA1UEAwwPcGtob3VuZC1leGFtcGxlMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOjq3nvY+4uU/QkYMSRPr\
EATT1CEsL/imbK3waVFd2jnPIvxBb2fl6VqCo1swTl5hr6c7mgi3/dXGl8iYXv8oNaNTMFEwHQYDVR0OBBYEFMR/ZDajuKPK\
+kLMH0SjSFRMtzAzMB8GA1UdIwQYMBaAFMR/ZDajuKPK+kLMH0SjSFRMtzAzMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0E\
AwIDSQAwRgIhANbXR9C5nNo88aQ226qKJM++N1Y98WdpZK7jViD8QueNAiEAoW1y6ZIEBzrCkByPxdDo0NTY395wpbt4yGHv\
Dkpy1TgPcB3RQVi/8OGKikuAvkzAOJGFJA==";

/// A PKCS #12 file or a Java key store that holds a key is found by its content under a key store's names
/// (`.p12`, `.pfx`, `.jks`, `.keystore`), each place once, carrying the file's base64; truststores, an
/// empty placeholder and the same bytes under another name are not key store files.
#[test]
fn key_store_files_are_found_by_their_content() {
    use base64::Engine as _;
    let decode = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).expect("base64");
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    fs::create_dir_all(&certs).unwrap();
    fs::write(certs.join("server.p12"), decode(KEY_STORE_P12)).unwrap();
    fs::write(certs.join("upload.jks"), decode(KEY_STORE_P12)).unwrap();
    fs::write(certs.join("trust.p12"), decode(TRUSTSTORE_P12)).unwrap();
    fs::write(certs.join("fake.pfx"), "").unwrap();
    fs::write(certs.join("server.bin"), decode(KEY_STORE_P12)).unwrap();
    fs::write(certs.join("release.keystore"), decode(JKS_KEY)).unwrap();
    fs::write(certs.join("cacerts.jks"), decode(JKS_TRUST)).unwrap();
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let want = vec![
        (
            "certs/release.keystore".to_string(),
            1,
            1,
            "java-keystore-file".to_string(),
        ),
        ("certs/server.p12".into(), 1, 1, "pkcs12-file".into()),
        ("certs/upload.jks".into(), 1, 1, "pkcs12-file".into()),
    ];
    let mut got = places(&report);
    got.sort();
    assert_eq!(got, want);
    let text = report.to_string();
    assert!(!text.contains(&KEY_STORE_P12[20..60]), "redacted by default: {text}");
    let (_, shown, _) = scan_json(dir.path(), &["--show-secrets"]);
    for f in shown["findings"].as_array().unwrap() {
        let file = if f["rule_id"] == "java-keystore-file" {
            JKS_KEY
        } else {
            KEY_STORE_P12
        };
        assert_eq!(f["secret"], file, "the finding carries the file's base64");
        assert_eq!(f["binary"], true);
    }
}

/// A secret set in a name/value list (a Kubernetes `env` entry, its name on the line above) or through
/// Ruby's `ENV[...] ||=` is found, named by its variable, and reported by the provider's rule that reads
/// `NAME = "value"` as its own, not as a generic secret.
#[test]
fn name_value_pairs_are_read_as_assignments() {
    let dir = tree_of(&[
        (
            "k8s/deploy.yaml",
            "spec:\n  containers:\n    - name: worker\n      env:\n        - name: PIPEDREAM_API_KEY\n          value: \"q7x2m9v4k1z8r3t6w0y5b2n7c4p9d1f6\"\n",
        ),
        ("config/initializers/pipedream.rb", "ENV[\"PIPEDREAM_API_KEY\"] ||= \"h3k8s1v6x9m2q5z7r0t4w8y1b6n3c9p2\"\n"),
    ]);
    let (_, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(
        rows(&report, &["path", "rule_id", "variable"]),
        [
            [
                "config/initializers/pipedream.rb",
                "pipedream-api-key",
                "PIPEDREAM_API_KEY"
            ],
            ["k8s/deploy.yaml", "pipedream-api-key", "PIPEDREAM_API_KEY"],
        ]
    );
}

/// A provider's key that does not look like a generic secret (hex, a UUID) is still that provider's when
/// its name says so: in a Kubernetes `env` list, or as a YAML block scalar (`KEY: >-` and the value
/// indented on the next line). A value of the same look under a name no provider reads is not reported.
#[test]
fn a_provider_claims_its_key_by_name_before_generic_judgement() {
    let dir = tree_of(&[
        (
            "k8s/deploy.yaml",
            "env:\n  - name: PIPEDREAM_API_KEY\n    value: \"4ea5ee874ae7689447ab57a683536c44\"\n  - name: CACHE_TOKEN\n    value: \"5fb6ff985bf8789558bc68b794647d55\"\n",
        ),
        (
            "helm/values.yaml",
            "worker:\n  env:\n    HEROKU_API_KEY: >-\n      17abcc9c-e636-42f4-a350-dfd860739ad1\n    notes: |\n      Rotate HEROKU_API_KEY every quarter.\n",
        ),
    ]);
    let (_, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(
        rows(&report, &["path", "line", "rule_id", "variable"]),
        [
            ["helm/values.yaml", "4", "heroku-api-key", "HEROKU_API_KEY"],
            ["k8s/deploy.yaml", "3", "pipedream-api-key", "PIPEDREAM_API_KEY"],
        ]
    );
}

/// A secret given as the default for a variable the environment may lack is reported under that
/// variable's name, by the provider's rule where it has one; a default that is another variable is not.
#[test]
fn defaults_for_missing_environment_variables_are_read_as_assignments() {
    let dir = tree_of(&[
        (
            "src/env.js",
            "const key = process.env.PIPEDREAM_API_KEY || \"k5v8q2x7m1z9r4t6w3y0b8n5c2p7d4f1\";\nconst token = process.env.API_TOKEN || defaultToken;\n",
        ),
        (
            "settings.py",
            "import os\nsecret = os.getenv(\"PARTNER_CLIENT_SECRET\") or \"Wd7qL2xK9vT4zR8mN3pB6hJ1\"\n",
        ),
        ("run.sh", "export DB_PASSWORD=\"${DB_PASSWORD:-Hq4nV8rT2xW6zL9p}\"\nexport MODE=\"${MODE:-production}\"\n"),
        // A provider's key as a compose file's default: the `-` of `:-` is not part of the key (Mandrill
        // keys may hold `-`), nor glue that hides it (Infura's rule refuses a key after a `-`).
        (
            "docker-compose.yml",
            "services:\n  api:\n    environment:\n      - INFURA_API_KEY=${INFURA_API_KEY:-5be0a2c7d94f3e18b6a07c2d9e4f1a38}\n      - MANDRILL_KEY=${MANDRILL_KEY:-md-Vq3ZtH8wKp1LxR6nYc2JmD}\n",
        ),
    ]);
    let (_, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(
        rows(&report, &["path", "line", "rule_id", "variable"]),
        [
            ["docker-compose.yml", "4", "infura-api-key", "INFURA_API_KEY"],
            ["docker-compose.yml", "5", "mandrill-api-key", "MANDRILL_KEY"],
            ["run.sh", "1", "generic-password-assignment", "DB_PASSWORD"],
            ["settings.py", "2", "generic-secret-assignment", "PARTNER_CLIENT_SECRET"],
            ["src/env.js", "1", "pipedream-api-key", "PIPEDREAM_API_KEY"],
        ]
    );
}

/// Passwords handed to code that connects or logs in (a JDBC or PHP connect call, Python's requests,
/// smtplib with a Google app password) are found in ordinary source files; the same calls with
/// variables or stand-ins are not.
#[test]
fn passwords_given_to_code_that_connects_are_found() {
    let dir = tree_of(&[
        (
            "src/main/java/shop/Db.java",
            "class Db {\n  Connection open() throws SQLException {\n    return DriverManager.getConnection(\"jdbc:mysql://db.internal:3306/shop\", \"shop_app\", \"Kq8vT2xLm9Rz4Wp\");\n  }\n  Connection env() throws SQLException {\n    return DriverManager.getConnection(url, user, password);\n  }\n}\n",
        ),
        (
            "public/db.php",
            "<?php\n$pdo = new PDO('mysql:host=localhost;dbname=shop', 'shop_user', 'Hn4kV8qT2xW6zL9p');\n$dev = mysqli_connect('localhost', 'root', 'root', 'test');\n",
        ),
        (
            "scripts/report.py",
            "import requests, smtplib\nr = requests.get(URL, auth=('svc-export', 'Xk9vT2m7pL4wR8zQ'))\nserver = smtplib.SMTP_SSL('smtp.gmail.com', 465)\nserver.login('alerts@acme.io', 'qwhx vbnm tyui opas')\nserver.login(user, os.environ['SMTP_PASS'])\n",
        ),
    ]);
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        rows(&report, &["path", "line", "rule_id"]),
        [
            ["public/db.php", "2", "db-connect-call-password"],
            ["scripts/report.py", "2", "http-client-basic-auth"],
            ["scripts/report.py", "4", "google-app-password"],
            ["src/main/java/shop/Db.java", "3", "db-connect-call-password"],
        ]
    );
}

/// One secret, one finding: a key that a rule knowing its format and a rule knowing only its place
/// (a curl header, `curl -u`, a `.netrc` line, `SECRET_KEY =`) both read is reported once, under the
/// format's rule; a password beside a key id in `-u` is a secret of its own and keeps its finding.
/// A token that holds another rule's secret encoded inside it is one credential: an AWS Bedrock short-term
/// key is base64 of a presigned URL that names its STS access key id, which a scan decodes; the finding is
/// the Bedrock key's alone. The same key id in clear beside it is still its own finding.
#[test]
fn a_secret_encoded_inside_a_token_that_supersedes_its_rule_is_the_tokens_finding() {
    let token = "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29tLz9BY3Rpb249Q2FsbFdpdGhCZWFyZXJUb2tlbiZYLUFtei1BbGdvcml0aG09QVdTNC1ITUFDLVNIQTI1NiZYLUFtei1DcmVkZW50aWFsPUFTSUFVSlpERTZHWEQ2TkNGMzJFJTJGMjAyNTEyMDElMkZ1cy1lYXN0LTElMkZiZWRyb2NrJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNTEyMDFUMDAxNTMwWiZYLUFtei1FeHBpcmVzPTQzMjAwJlgtQW16LVNlY3VyaXR5LVRva2VuPWl1aGdSV3dSZ056VHRpZTFtbG5MU3ZDeXdWdXpmNSUyQjdmV2FHU0ZJT1k4UTk0djN4R3RxaUpWOE9uNWJDSm9IYzlJVlZRRVAwMjRibENjZGcmWC1BbXotU2lnbmF0dXJlPTMwZWRhZmNiMTU1NzZkZTMyZDcwZjRiZWY5YzVlN2VkZDUzMmM2ZTgwYTQ4OWE2NzBmODZhM2I2YzYzZjE1NjYmWC1BbXotU2lnbmVkSGVhZGVycz1ob3N0JlZlcnNpb249MQ==";
    let text = format!("AWS_BEARER_TOKEN_BEDROCK={token}\nAWS_ACCESS_KEY_ID=ASIAUJZDE6GXD6NCF32E\n");
    let dir = tree_of(&[("deploy/bedrock.env", text.as_str())]);
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        rows(&report, &["path", "line", "rule_id"]),
        [
            ["deploy/bedrock.env", "1", "aws-bedrock-api-key-short-term"],
            ["deploy/bedrock.env", "2", "aws-access-key-id"],
        ]
    );
}

#[test]
fn a_secret_two_rules_read_is_one_finding_under_the_rule_that_knows_its_format() {
    let dir = tree_of(&[
        (
            "deploy/shop.sh",
            "curl -H \"X-Shopify-Access-Token: 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\" https://acme.myshopify.com/admin/api/2025-01/shop.json\n\
             curl -s --user 'api:key-6fc2e2d33182ff4ed1aa953a296d479a' https://api.mailgun.net/v3/mg.acme.io/messages\n\
             curl -u AKIAQYLPMN5HHHFPZAM2:Vq8xTz2mLw7RkP4n https://s3.internal.acme.io/\n",
        ),
        ("home/.netrc", "machine api.wandb.ai\n  login user\n  password 9c1f7e3a5b2d8e4f6a0c9b1d3e5f7a2c4b6d8e0f\n"),
        (
            "app/settings.py",
            "SECRET_KEY = 'sk_live_51H8dKqLm2Vx7RtPz9WbN4cYf'  # Stripe, named like Flask's key\n",
        ),
    ]);
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        rows(&report, &["path", "line", "rule_id"]),
        [
            ["app/settings.py", "1", "stripe-secret-key-live"],
            ["deploy/shop.sh", "1", "shopify-access-token"],
            ["deploy/shop.sh", "2", "mailgun-api-key-legacy"],
            ["deploy/shop.sh", "3", "aws-access-key-id"],
            ["deploy/shop.sh", "3", "curl-basic-auth"],
            ["home/.netrc", "3", "wandb-api-key"],
        ]
    );
}

/// A password manager's CSV export: each row's password is a finding at its own line and column, under
/// the rule that reads password columns; an empty cell, a placeholder and the header are not, and the
/// default report shows no password.
#[test]
fn csv_exports_report_each_rows_password_where_it_is() {
    let dir = tree_of(&[(
        "exports/Chrome Passwords.csv",
        "name,url,username,password,note\n\
         PagerDuty,https://acme.pagerduty.com,ops@acme.io,4JY*!P3EjtYvrMEM,\n\
         iDRAC,https://10.0.0.5,root,\"Kelp,7882$Qz\",\"rack 4\nrow 2\"\n\
         Wiki,https://wiki.acme.io,bob,,\n\
         Grafana,https://grafana.acme.io,admin,changeme,\n",
    )]);
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        places(&report),
        [
            (
                "exports/Chrome Passwords.csv".to_string(),
                2,
                50,
                "csv-password-column".to_string()
            ),
            (
                "exports/Chrome Passwords.csv".to_string(),
                3,
                30,
                "csv-password-column".to_string()
            ),
        ]
    );
    let text = report.to_string();
    assert!(
        !text.contains("4JY*!P3EjtYvrMEM") && !text.contains("Kelp,7882$Qz"),
        "{text}"
    );
}
