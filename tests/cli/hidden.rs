//! Keys that hide: escaped, percent-encoded, HTML-encoded, nested encodings, a huge one-line bundle.
//! Every fixture is built here, at test time, from the keys below.

use serde_json::Value;

use crate::common::*;

const KEY: &str = "pk_f552cc5023d8319aea1181f76f3adcbdc1"; // pkhound:allow
const KEY2: &str = "pk_Ov8GZ4_f575dcad6ba2b0aee0ca923732881584d8"; // pkhound:allow
const KEY3: &str = "pk_b3216fdaeeb975729fae923d5a4fd12aab"; // pkhound:allow

/// `s` with the characters at the positions `which` accepts escaped by `esc`.
fn escape(s: &str, esc: impl Fn(char) -> String, which: impl Fn(usize) -> bool) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| if which(i) { esc(c) } else { c.to_string() })
        .collect()
}

/// (path, line, column, encoding, secret) of every finding, with `--show-secrets`.
fn found(report: &Value) -> Vec<(String, u64, u64, String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["encoding"].as_str().unwrap_or("none").to_string(),
                f["secret"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn row(path: &str, line: u64, column: u64, encoding: &str, secret: &str) -> (String, u64, u64, String, String) {
    (path.into(), line, column, encoding.into(), secret.into())
}

#[test]
fn escaped_percent_and_html_encoded_keys_are_found_where_they_are_written() {
    let json = escape(KEY, |c| format!("\\u{:04x}", c as u32), |i| i < 2);
    let js = escape(KEY2, |c| format!("\\x{:02x}", c as u32), |i| i == 0);
    let url = escape(KEY, |c| format!("%{:02X}", c as u32), |_| true);
    let html = escape(KEY2, |c| format!("&#{};", c as u32), |_| true);
    let nested = b64(format!(
        "KLAVIYO_URL=https://a.io/cb?key={}\n",
        escape(KEY, |c| format!("%{:02x}", c as u32), |i| i < 3)
    )
    .as_bytes());
    let dir = tree_of(&[
        ("api/app.json", &format!("{{\n  \"klaviyo\": \"{json}\"\n}}\n")),
        ("lib/track.js", &format!("var k = \"{js}\";\n")),
        (
            "logs/access.log",
            &format!("GET /r?next=https%3A%2F%2Fa.klaviyo.com%2Fapi%3Fkey%3D{url} 302\n"),
        ),
        ("mail/footer.tmpl", &format!("<span data-k=\"{html}\"></span>\n")),
    ]);
    std::fs::create_dir_all(dir.path().join("k8s")).unwrap();
    std::fs::write(
        dir.path().join("k8s/secret.yaml"),
        format!("kind: Secret\ndata:\n  app.env: {nested}\n"),
    )
    .unwrap();
    let (code, report, _) = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(code, 1);
    assert_eq!(
        found(&report),
        vec![
            row("api/app.json", 2, 15, "escape", KEY),
            // Base64 of a `.env` whose URL holds the key percent-encoded: the column is where the run
            // spells the key (11 + 32 bytes of `KLAVIYO_URL=…key=` × 4/3).
            row("k8s/secret.yaml", 3, 54, "base64>percent", KEY),
            row("lib/track.js", 1, 10, "escape", KEY2),
            row("logs/access.log", 1, 55, "percent", KEY),
            row("mail/footer.tmpl", 1, 15, "html-entity", KEY2),
        ]
    );
    // Without --show-secrets no format shows the key, clear or encoded.
    for format in ["text", "json", "sarif"] {
        let out = pkhound()
            .arg("scan")
            .arg(dir.path())
            .args(["--format", format])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        for leak in [
            &KEY[5..],
            &KEY2[12..],
            &json[8..40],
            &url[10..60],
            &html[10..60],
            &nested[8..40],
        ] {
            assert!(!text.contains(leak), "{format} shows {leak}");
        }
    }
}

/// See: issue 15 — nested encodings the other way round: base64 percent-encoded into a URL, base64
/// JSON-escaped (`\/`) into a JSON string, and a JSON document with an escaped key, base64-encoded.
#[test]
fn nested_encodings_report_their_chain_outermost_first() {
    // The padding lines make the base64 hold both a `/` and a `+`.
    let env = b64(format!("A=??>\nKLAVIYO_PRIVATE_KEY={KEY}\nB=??~\n").as_bytes());
    assert!(env.contains('/') && env.contains('+'));
    let url = env.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D");
    let json = env.replace('/', "\\/");
    let doc = b64(format!(
        "{{\"klaviyo\": {{\"key\": \"{}\"}}}}\n",
        escape(KEY2, |c| format!("\\u{:04x}", c as u32), |i| i < 3)
    )
    .as_bytes());
    let dir = tree_of(&[
        ("logs/callback.log", &format!("GET /hook?state={url}&ok=1 200\n")),
        ("api/settings.json", &format!("{{\n  \"env\": \"{json}\"\n}}\n")),
        ("k8s/config.yaml", &format!("data:\n  settings.json: {doc}\n")),
    ]);
    let (code, report, _) = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(code, 1, "{report}");
    // Columns are where the encoded text spells the key, escapes before it counted.
    assert_eq!(
        found(&report),
        vec![
            row("api/settings.json", 2, 46, "escape>base64", KEY),
            row("k8s/config.yaml", 2, 46, "base64>escape", KEY2),
            row("logs/callback.log", 1, 53, "percent>base64", KEY),
        ]
    );
    let out = pkhound().arg("scan").arg(dir.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for leak in [&KEY[5..], &KEY2[12..], &env[12..40], &doc[12..40]] {
        assert!(!text.contains(leak), "the text report shows {leak}");
    }
}

#[test]
fn an_escaped_key_in_a_five_megabyte_one_line_bundle() {
    let json = escape(KEY, |c| format!("\\u{:04x}", c as u32), |i| i == 0);
    let filler = "function a(b){return b&&b.c?\"\\u003c\\/div\\u003e\":b.d}".repeat(5_000_000 / 52);
    let bundle = format!("{filler};var cfg={{klaviyo:\"{json}\"}};{filler}");
    let dir = tree_of(&[("dist/main.js", &bundle)]);
    let (code, report, _) = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(code, 1);
    let got = found(&report);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].1, got[0].3.as_str(), got[0].4.as_str()), (1, "escape", KEY));
    assert_eq!(got[0].2 as usize, filler.chars().count() + 20);
}

/// A distinct Klaviyo-shaped key per `n` (xorshift hex: random enough for every filter).
fn key(n: u64) -> String {
    let mut x = 0x9E37_79B9_7F4A_7C15_u64 ^ n.wrapping_mul(0x2545_F491_4F6C_DD1D);
    let mut out = String::from("pk_");
    while out.len() < 37 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push(char::from_digit((x % 16) as u32, 16).unwrap());
    }
    out
}

#[test]
fn every_finding_has_an_exposure_class_by_path_or_by_variable_prefix() {
    let files: Vec<(&str, String, &str, Option<&str>)> = vec![
        (
            "web/public/index.html",
            format!("<script>var k='{}'</script>\n", key(1)),
            "client-side",
            Some("k"),
        ),
        (
            "theme/snippets/klaviyo.liquid",
            format!("{{% assign kl = '{}' %}}\n", key(2)),
            "client-side",
            Some("kl"),
        ),
        (
            "theme/assets/signup.js",
            format!("fetch(u, {{headers: {{k: \"{}\"}}}})\n", key(3)),
            "client-side",
            Some("k"),
        ),
        (
            ".env.local",
            format!("NEXT_PUBLIC_KLAVIYO_KEY={}\n", key(4)),
            "client-side",
            Some("NEXT_PUBLIC_KLAVIYO_KEY"),
        ),
        (
            ".env",
            format!("VITE_KLAVIYO={}\nKLAVIYO_KEY={}\n", key(5), key(6)),
            "client-side",
            Some("VITE_KLAVIYO"),
        ),
        (
            "server/app.py",
            format!("KLAVIYO = \"{}\"\n", key(7)),
            "server",
            Some("KLAVIYO"),
        ),
        (
            ".github/workflows/deploy.yml",
            format!("env:\n  KLAVIYO_KEY: {}\n", key(8)),
            "ci",
            Some("KLAVIYO_KEY"),
        ),
        (
            "infra/main.tf",
            format!("klaviyo_key = \"{}\"\n", key(9)),
            "infra",
            Some("klaviyo_key"),
        ),
        (
            "Dockerfile",
            format!("ENV KLAVIYO_KEY={}\n", key(10)),
            "infra",
            Some("KLAVIYO_KEY"),
        ),
        ("tests/test_api.py", format!("K = '{}'\n", key(11)), "test", Some("K")),
        (
            "docs/setup.md",
            format!("Set `{}` as your key.\n", key(12)),
            "docs",
            None,
        ),
    ];
    let tree: Vec<(&str, &str)> = files.iter().map(|(p, c, _, _)| (*p, c.as_str())).collect();
    let dir = tree_of(&tree);
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let findings = report["findings"].as_array().unwrap();
    let class = |path: &str, line: u64| {
        let f = findings
            .iter()
            .find(|f| f["path"] == path && f["line"] == line)
            .unwrap_or_else(|| panic!("no finding in {path}:{line}: {report}"));
        (
            f["exposure"].as_str().unwrap().to_string(),
            f["variable"].as_str().map(String::from),
            f.clone(),
        )
    };
    for (path, _, want, variable) in &files {
        let (got, var, _) = class(path, if path.ends_with(".yml") { 2 } else { 1 });
        assert_eq!((got.as_str(), var.as_deref()), (*want, *variable), "{path}");
    }
    assert_eq!(class(".env", 2).0, "server", "no public prefix");
    assert_eq!(findings.len(), files.len() + 1);

    // A Klaviyo key in client-side code says what anyone who loads the page can do with it.
    let (_, _, f) = class(".env.local", 1);
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("`NEXT_PUBLIC_KLAVIYO_KEY` is compiled into code served to browsers"),
        "{message}"
    );
    assert!(
        message.contains("anyone who loads the page gets full read/write access to the Klaviyo account's customer profiles and can send from its domain"),
        "{message}"
    );
    assert!(class("server/app.py", 1).2.get("message").is_none());
    // The remediation reads the variable in the file's language.
    let fix = |path: &str, line| class(path, line).2["remediation"].as_str().unwrap().to_string();
    assert!(
        fix("server/app.py", 1).contains("`os.environ[\"KLAVIYO\"]`"),
        "{}",
        fix("server/app.py", 1)
    );
    assert!(fix(".github/workflows/deploy.yml", 2).contains("${{ secrets.KLAVIYO_KEY }}"));
    assert!(fix(".env.local", 1).contains("call the API from your server"));

    // The text and SARIF reports say it too.
    let out = pkhound()
        .arg("scan")
        .arg(dir.path())
        .args(["--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("exposure: `NEXT_PUBLIC_KLAVIYO_KEY` is compiled into code served to browsers"),
        "{text}"
    );
    let out = pkhound()
        .arg("scan")
        .arg(dir.path())
        .args(["--format", "sarif"])
        .output()
        .unwrap();
    let sarif = String::from_utf8_lossy(&out.stdout);
    assert!(sarif.contains("anyone who loads the page gets full read/write access"));
    assert!(sarif.contains("\"exposure\": \"infra\""));
}

/// See: issue 15 — every framework's public prefix makes a key client-side wherever it is defined (but
/// in tests), and so does every path that ships to browsers or devices.
#[test]
fn every_public_prefix_and_every_shipped_path_is_client_side() {
    let prefixed = [
        "NEXT_PUBLIC_",
        "VITE_",
        "REACT_APP_",
        "EXPO_PUBLIC_",
        "GATSBY_",
        "NUXT_PUBLIC_",
        "PUBLIC_",
    ];
    let mut env = String::new();
    for (i, p) in prefixed.iter().enumerate() {
        env.push_str(&format!("{p}KLAVIYO_KEY={}\n", key(100 + i as u64)));
    }
    env.push_str(&format!("KLAVIYO_KEY={}\n", key(99)));
    let shipped = [
        "static/js/app.js",
        "dist/index.js",
        "build/main.js",
        "www/config.js",
        "assets/theme.js",
        "src/app.min.js",
        "js/vendor.bundle.js",
        "dist/main.js.map",
        "layout/theme.liquid",
        "templates/index.html",
        "app.json",
        "android/app/google-services.json",
        "ios/Runner/GoogleService-Info.plist",
        "ios/App/Info.plist",
        "android/app/src/main/AndroidManifest.xml",
        "capacitor.config.json",
        "lib/main.dart",
    ];
    let mut files: Vec<(String, String)> = vec![
        ("config/.env".to_string(), env),
        (
            "tests/.env.test".to_string(),
            format!("NEXT_PUBLIC_KLAVIYO_KEY={}\n", key(98)),
        ),
    ];
    for (i, p) in shipped.iter().enumerate() {
        files.push((p.to_string(), format!("x = \"{}\"\n", key(200 + i as u64))));
    }
    let tree: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    let dir = tree_of(&tree);
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let findings = report["findings"].as_array().unwrap();
    let class = |path: &str, line: u64| -> (String, String) {
        let f = findings
            .iter()
            .find(|f| f["path"] == path && f["line"] == line)
            .unwrap_or_else(|| panic!("no finding at {path}:{line}"));
        (
            f["exposure"].as_str().unwrap().to_string(),
            f["variable"].as_str().unwrap_or("").to_string(),
        )
    };
    for (i, p) in prefixed.iter().enumerate() {
        assert_eq!(
            class("config/.env", i as u64 + 1),
            ("client-side".to_string(), format!("{p}KLAVIYO_KEY")),
            "{p}"
        );
    }
    assert_eq!(class("config/.env", prefixed.len() as u64 + 1).0, "server");
    assert_eq!(class("tests/.env.test", 1).0, "test", "a fixture stays a fixture");
    for p in shipped {
        assert_eq!(class(p, 1).0, "client-side", "{p}");
    }
    assert_eq!(findings.len(), prefixed.len() + 2 + shipped.len());
}

/// See: issue 15 — the remediation names the variable and how to read it in the file's language.
#[test]
fn remediation_reads_the_variable_in_the_files_language() {
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "srv/app.js",
            format!("const KLAVIYO_KEY = '{}';\n", key(301)),
            "`process.env.KLAVIYO_KEY`",
        ),
        (
            "srv/app.ts",
            format!("const klaviyoKey = '{}';\n", key(302)),
            "`process.env.KLAVIYO_KEY`",
        ),
        (
            "app/models/k.rb",
            format!("KLAVIYO_KEY = '{}'\n", key(303)),
            "`ENV.fetch(\"KLAVIYO_KEY\")`",
        ),
        (
            "cmd/main.go",
            format!("klaviyoKey := \"{}\"\n", key(304)),
            "`os.Getenv(\"KLAVIYO_KEY\")`",
        ),
        (
            "src/K.java",
            format!("String klaviyoKey = \"{}\";\n", key(305)),
            "`System.getenv(\"KLAVIYO_KEY\")`",
        ),
        (
            "src/K.cs",
            format!("var klaviyoKey = \"{}\";\n", key(306)),
            "`Environment.GetEnvironmentVariable(\"KLAVIYO_KEY\")`",
        ),
        (
            "web/k.php",
            format!("$klaviyo_key = '{}';\n", key(307)),
            "`getenv('KLAVIYO_KEY')`",
        ),
        (
            "src/k.rs",
            format!("let klaviyo_key = \"{}\";\n", key(308)),
            "`std::env::var(\"KLAVIYO_KEY\")`",
        ),
        (
            "bin/run.sh",
            format!("KLAVIYO_KEY={}\n", key(309)),
            "`\"$KLAVIYO_KEY\"`",
        ),
        (
            "tf/main.tf",
            format!("klaviyo_key = \"{}\"\n", key(310)),
            "TF_VAR_klaviyo_key",
        ),
        (
            ".gitlab-ci.yml",
            format!("variables:\n  KLAVIYO_KEY: {}\n", key(311)),
            "a masked CI/CD variable `$KLAVIYO_KEY`",
        ),
        (
            "k8s/deploy.yaml",
            format!("env:\n  KLAVIYO_KEY: {}\n", key(312)),
            "`valueFrom.secretKeyRef`",
        ),
        (
            ".env",
            format!("KLAVIYO_KEY={}\n", key(313)),
            "keep `.env` files out of git",
        ),
    ];
    let tree: Vec<(&str, &str)> = cases.iter().map(|(p, c, _)| (*p, c.as_str())).collect();
    let dir = tree_of(&tree);
    let (_, report, _) = scan_json(dir.path(), &[]);
    let findings = report["findings"].as_array().unwrap();
    for (path, _, want) in &cases {
        let f = findings
            .iter()
            .find(|f| f["path"] == *path)
            .unwrap_or_else(|| panic!("no finding in {path}: {report}"));
        let fix = f["remediation"].as_str().unwrap();
        assert!(fix.contains(want), "{path}: {fix}");
        assert!(f["variable"].is_string(), "{path}");
    }
}

/// A file of `bytes` at `path` in a fresh tree.
fn tree_with_bytes(files: &[(&str, Vec<u8>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, bytes) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    dir
}

#[test]
fn keys_embedded_as_text_in_binary_files_are_found_and_images_skipped() {
    // A SQLite database page: header, NUL padding, a record (integer id, text value) of a settings table.
    let mut sqlite = b"SQLite format 3\0\x10\x00\x01\x01\x00\x40\x20\x20".to_vec();
    sqlite.resize(4096, 0);
    sqlite.extend_from_slice(b"\x0d\x00\x00\x00\x01\x0f\xc4\x00\x2d\x01\x03\x01\x57\x05");
    sqlite.extend_from_slice(KEY.as_bytes());
    sqlite.resize(8192, 0);
    // A CPython bytecode file: magic, flags, a code object whose constants hold the key.
    let mut pyc = b"\xcb\x0d\x0d\x0a\0\0\0\0\0\0\0\0\0\0\0\0\xe3\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x00\x00\x00\x00\xf3\x1a\x00\x00\x00\x97\x00d\x00Z\x00)\x01\xda%".to_vec();
    pyc.extend_from_slice(KEY2.as_bytes());
    pyc.extend_from_slice(b")\x01\xda\x0bKLAVIYO_KEY\0\0");
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0".to_vec();
    png.extend_from_slice(format!("tEXt key={}\0", key(40)).as_bytes());
    let dir = tree_with_bytes(&[
        ("data/app.db", sqlite),
        ("__pycache__/settings.cpython-312.pyc", pyc),
        ("img/logo.png", png),
    ]);
    let (code, report, _) = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(code, 1);
    let got: Vec<(String, String, bool)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().into(),
                f["secret"].as_str().unwrap().into(),
                f["binary"] == true,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "__pycache__/settings.cpython-312.pyc".to_string(),
                KEY2.to_string(),
                true
            ),
            ("data/app.db".to_string(), KEY.to_string(), true),
        ]
    );
    assert_eq!(report["stats"]["skipped_binary"], 1, "the PNG");
}

#[test]
fn notebook_findings_name_their_cell_and_images_are_not_scanned() {
    let nb = format!(
        r#"{{
 "cells": [
  {{
   "cell_type": "code",
   "metadata": {{}},
   "outputs": [],
   "source": [
    "import klaviyo\n",
    "client = klaviyo.Client(\"{KEY2}\")"
   ]
  }},
  {{
   "cell_type": "code",
   "metadata": {{}},
   "outputs": [
    {{
     "name": "stdout",
     "output_type": "stream",
     "text": [
      "connected\n",
      "using key {KEY}\n"
     ]
    }},
    {{
     "data": {{
      "image/png": "iVBORw0KGgoAAAANSUhEUgAAA/AKIAQTTIDVZ7ORA35TLM+AAAAB3RJTUUH5",
      "text/plain": ["<Figure size 640x480>"]
     }},
     "output_type": "display_data"
    }}
   ],
   "source": ["print(os.environ)"]
  }}
 ],
 "metadata": {{}},
 "nbformat": 4,
 "nbformat_minor": 5
}}
"#
    );
    let dir = tree_of(&[("analysis/explore.ipynb", &nb)]);
    let (code, report, _) = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(code, 1);
    let got: Vec<(u64, u64, u64, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["cell"].as_u64().unwrap(),
                f["cell_line"].as_u64().unwrap(),
                f["cell_kind"].as_str().unwrap().into(),
                f["secret"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (9, 1, 2, "source".to_string(), KEY2.to_string()),
            (21, 2, 2, "output".to_string(), KEY.to_string())
        ],
        "the AWS-looking run inside the PNG is not a finding"
    );
    let out = pkhound()
        .arg("scan")
        .arg(dir.path())
        .args(["--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("explore.ipynb:21:18 (cell 2 output line 2)"), "{text}");
}

/// Code kept in a JSON string (a notebook's cells, a script in a JSON config) spells its quotes `\"`: a
/// provider's key, a generic assignment and a Klaviyo key there are read as in the code itself, at
/// their place in the file.
#[test]
fn keys_in_code_whose_quotes_are_escaped_are_found() {
    let nb = r#"{
 "cells": [
  {
   "cell_type": "code",
   "source": [
    "import os\n",
    "HEROKU_API_KEY = \"5d0e7c3a-91b2-4f68-a0d4-7e2c9b81f356\"\n",
    "partner_api_key = \"Wd7qL2xK9vT4zR8mN3pB6hJ1\"\n"
   ]
  }
 ]
}
"#;
    let script = format!("{{\"scripts\": {{\"seed\": \"KLAVIYO_PRIVATE_KEY=\\\"{KEY3}\\\" node seed.js\"}}}}\n");
    let dir = tree_of(&[("analysis/explore.ipynb", nb), ("package.json", &script)]);
    let (code, report, _) = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(code, 1);
    assert_eq!(
        rows(&report, &["path", "line", "rule_id", "secret"]),
        [
            [
                "analysis/explore.ipynb",
                "7",
                "heroku-api-key",
                "5d0e7c3a-91b2-4f68-a0d4-7e2c9b81f356"
            ],
            [
                "analysis/explore.ipynb",
                "8",
                "generic-secret-assignment",
                "Wd7qL2xK9vT4zR8mN3pB6hJ1"
            ],
            ["package.json", "1", "klaviyo-private-key", KEY3],
        ]
    );
}

/// A real SQLite database, written by python3's sqlite3 module: a key stored as TEXT is glued on its left
/// to the record's bytes (the serial type `W` of a 37-byte text, or the previous column's value), which
/// the delimitation filter rejected in text; in a binary file a secret that starts with its rule's
/// keyword is not glued on its left.
#[test]
fn keys_stored_as_text_in_a_real_sqlite_database_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let script = format!(
        "import sqlite3, sys\n\
         db = sqlite3.connect(sys.argv[1])\n\
         db.execute('create table settings(id integer primary key, name text, value text)')\n\
         db.execute('insert into settings(name, value) values (?, ?)', ('klaviyo_private', '{KEY}'))\n\
         db.execute('create table tokens(t text)')\n\
         db.execute('insert into tokens values (?)', ('{KEY2}',))\n\
         db.execute('create table owners(k text, who text, n integer)')\n\
         db.execute('insert into owners values (?, ?, ?)', ('{KEY3}', 'alice', 7))\n\
         db.commit()\n"
    );
    let status = std::process::Command::new("python3")
        .args(["-c", &script])
        .arg(&db)
        .status()
        .expect("python3 runs (CI has it: validate-sarif needs it)");
    assert!(status.success());
    let bytes = std::fs::read(&db).unwrap();
    let glued = |k: &str| {
        let at = bytes
            .windows(k.len())
            .position(|w| w == k.as_bytes())
            .expect("the key is stored as text");
        bytes[at - 1].is_ascii_alphanumeric()
    };
    assert!(
        glued(KEY) && glued(KEY2),
        "both keys are glued on their left, as SQLite stores them"
    );
    // The next column's value follows a TEXT value directly: `pk_…alice`.
    let at = bytes.windows(KEY3.len()).position(|w| w == KEY3.as_bytes()).unwrap();
    assert_eq!(&bytes[at + KEY3.len()..at + KEY3.len() + 5], b"alice");
    let (code, report, _) = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(code, 1, "{report}");
    let mut got: Vec<(String, bool)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["secret"].as_str().unwrap().to_string(), f["binary"] == true))
        .collect();
    got.sort();
    let mut want = vec![
        (KEY.to_string(), true),
        (KEY2.to_string(), true),
        (KEY3.to_string(), true),
    ];
    want.sort();
    assert_eq!(got, want);
    // In text, the same glue still rejects: `namepk_…` and `pk_…alice` are longer tokens.
    let dir = tree_of(&[("notes.txt", &format!("klaviyo_private{KEY}\n{KEY3}alice\n"))]);
    let (code, _, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0);
}

/// Escapes inside a value, where serializers put them: PHP's `json_encode` writes every `/` of an AWS
/// secret key as `\/`, .NET's System.Text.Json a storage key's `+` as `\u002B`, and
/// `java.util.Properties.store` a password's `:` and `#` as `\:` and `\#`. Each is reported decoded,
/// at the line it is written on, and a JavaScript regex's escaped slashes are nothing.
#[test]
fn values_escaped_by_their_serializer_are_found_decoded() {
    let php = "{\n    \"storage\": {\n        \"secret\": \"\\/Ykn3i5nZYrlAwDZUv3+nthWFr\\/oYGyk7rcJivz7\"\n    }\n}\n";
    let dotnet = "{\n  \"DocumentStorage\": \"DefaultEndpointsProtocol=https;AccountName=tidewaterdocs;AccountKey=IFqMt3vUhyrZAta9Lrht2dTST\\u002BzaFId5/UUEYej65Y1QkIDiw0reRHMV6z9iCI2h3CxCY0PGNWwxy0jQK\\u002BZTSA==;EndpointSuffix=core.windows.net\"\n}\n";
    let props =
        "# written by Properties.store\nreporting.db.user=reporter\nreporting.db.password=ND3dad\\:HIXyI*qZ4?\\#\n";
    let js = "const re = /^https?:\\/\\/[a-z0-9.-]+\\/api\\/v[0-9]+\\//;\nexport default re;\n";
    let dir = tree_of(&[
        ("storage/app/settings.json", php),
        ("appsettings.Production.json", dotnet),
        ("conf/datasources.properties", props),
        ("src/url.js", js),
    ]);
    let (code, report, _) = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(code, 1);
    assert_eq!(
        rows(&report, &["path", "line", "rule_id", "secret", "encoding"]),
        [
            [
                "appsettings.Production.json",
                "2",
                "azure-storage-account-key",
                "IFqMt3vUhyrZAta9Lrht2dTST+zaFId5/UUEYej65Y1QkIDiw0reRHMV6z9iCI2h3CxCY0PGNWwxy0jQK+ZTSA==",
                "escape"
            ],
            [
                "conf/datasources.properties",
                "3",
                "generic-password-assignment",
                "ND3dad:HIXyI*qZ4?#",
                "escape"
            ],
            [
                "storage/app/settings.json",
                "3",
                "generic-secret-assignment",
                "/Ykn3i5nZYrlAwDZUv3+nthWFr/oYGyk7rcJivz7",
                "escape"
            ],
        ]
    );
}

/// A MySQL client's history as libedit writes it, every space as `\040`: the password of the
/// `CREATE USER … IDENTIFIED BY` statement in it is read, at its line.
#[test]
fn a_mysql_history_whose_spaces_are_octal_escapes_is_read() {
    let history = "_HiStOrY_V2_\nshow\\040databases;\nCREATE\\040USER\\040'wp_app'@'10.20.%'\\040IDENTIFIED\\040BY\\040'N_PDHO*o8R4pXAxW';\nFLUSH\\040PRIVILEGES;\n";
    let dir = tree_of(&[("root/.mysql_history", history)]);
    let (code, report, _) = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(code, 1);
    assert_eq!(
        rows(&report, &["path", "line", "rule_id", "secret"]),
        [["root/.mysql_history", "3", "sql-user-password", "N_PDHO*o8R4pXAxW"]]
    );
}

/// A literal under a name that says nothing is a secret where the code uses it as one: sent as a bearer
/// token, passed as a client secret, used as an HMAC key. The same kind of literal used otherwise (a
/// library's first argument, an address, a Twilio client's account SID), or named for what it is and
/// public (a Paddle.js client-side token), is not reported.
#[test]
fn a_secret_under_a_terse_name_is_known_by_its_use() {
    let ts = "const CLV_TK = \"1422d3da-bea5-42d7-bea2-534f258e22f3\";\n\nexport async function items() {\n  return fetch(url, { headers: { Authorization: `Bearer ${CLV_TK}` } });\n}\n";
    let go = "package strava\n\nconst (\n\tclientID = \"84213\"\n\tcs       = \"af30c2f0fe301455295ce567b63c03acefe9f71c\"\n)\n\nvar conf = &oauth2.Config{\n\tClientID:     clientID,\n\tClientSecret: cs,\n}\n";
    let py = "import hmac, hashlib\n\n_WH_KEY = \"8wVJPolFCc3qdsqVByTGXPUAry8RY-HFr9qa-dFzTaw\"\n\ndef verify(body, t):\n    return hmac.new(_WH_KEY.encode(), body, hashlib.sha256).hexdigest()\n";
    let quiet_py = "import lyricsgenius\n\n_gt = \"08Qb7TtHcwc3b91Jx3x1XmutrTxykzLTrA1APlgh5wzNOsVXeCg1gyFcRg68\"\nBASE = \"https://api.genius.com/v1/search\"\n_genius = lyricsgenius.Genius(_gt, timeout=10)\nr = s.get(BASE)\n";
    let quiet_rb = "S1 = \"AC3f6a0d2b9c8e7f1a4b5c6d7e8f9a0b1c\"\nclient = Twilio::REST::Client.new(S1, ENV.fetch(\"TWILIO_AUTH_TOKEN\"))\n";
    let quiet_js = "var n={paddleToken:\"live_e5088497d1ad32d08179e1b31de\",env:\"production\"};Paddle.Initialize({token:n.paddleToken});\n";
    let dir = tree_of(&[
        ("src/clover/sync.ts", ts),
        ("internal/strava/client.go", go),
        ("integrations/calendly.py", py),
        ("curator/lyrics.py", quiet_py),
        ("scripts/sms.rb", quiet_rb),
        ("public/js/checkout.min.js", quiet_js),
    ]);
    let (code, report, _) = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(code, 1);
    assert_eq!(
        rows(&report, &["path", "line", "rule_id", "secret"]),
        [
            [
                "integrations/calendly.py",
                "3",
                "generic-secret-used-as-credential",
                "8wVJPolFCc3qdsqVByTGXPUAry8RY-HFr9qa-dFzTaw"
            ],
            [
                "internal/strava/client.go",
                "5",
                "generic-secret-used-as-credential",
                "af30c2f0fe301455295ce567b63c03acefe9f71c"
            ],
            [
                "src/clover/sync.ts",
                "1",
                "generic-secret-used-as-credential",
                "1422d3da-bea5-42d7-bea2-534f258e22f3"
            ],
        ]
    );
}

/// XML writes a password's `&` as `&amp;` and its `<` as `&lt;`: the secret reported is what the
/// references stand for, once, where it is written (a connection string's password too). A page's query
/// string with `&amp;` is no value.
#[test]
fn a_password_escaped_as_xml_is_reported_decoded() {
    let config = "<configuration>\n  <appSettings>\n    <add key=\"DbPassword\" value=\"Wq8v&amp;R2xLm9&lt;PtZk4\" />\n  </appSettings>\n  <connectionStrings>\n    <add name=\"Billing\" connectionString=\"Server=tcp:sql01,1433;Database=billing;User Id=app;Password=6bOr&amp;EP6I&lt;aoDKc2;\" />\n  </connectionStrings>\n</configuration>\n";
    let page = "<a href=\"https://example.com/search?utm_source=news&amp;utm_medium=Email2024&amp;utm_campaign=Launch\">Read</a>\n";
    let dir = tree_of(&[("Web.config", config), ("docs/index.html", page)]);
    let (code, report, _) = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(code, 1);
    assert_eq!(
        rows(&report, &["path", "line", "rule_id", "secret"]),
        [
            ["Web.config", "3", "generic-password-assignment", "Wq8v&R2xLm9<PtZk4"],
            ["Web.config", "6", "odbc-connection-string-password", "6bOr&EP6I<aoDKc2"]
        ]
    );
}
