//! Keys that hide: escaped, percent-encoded, HTML-encoded, nested encodings, a huge one-line bundle.
//! Every fixture is built here, at test time, from the keys below.

use serde_json::Value;

use crate::common::*;

const KEY: &str = "pk_f552cc5023d8319aea1181f76f3adcbdc1"; // pkhound:allow
const KEY2: &str = "pk_Ov8GZ4_f575dcad6ba2b0aee0ca923732881584d8"; // pkhound:allow

/// `s` with the characters at the positions `which` accepts escaped by `esc`.
fn escape(s: &str, esc: impl Fn(char) -> String, which: impl Fn(usize) -> bool) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| if which(i) { esc(c) } else { c.to_string() })
        .collect()
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            out.push(if i <= c.len() {
                A[(n >> (18 - 6 * i)) as usize & 63] as char
            } else {
                '='
            });
        }
    }
    out
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
        ("k8s/secret.yaml", &format!("kind: Secret\ndata:\n  env: {nested}\n")),
    ]);
    let (code, report, _) = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(code, 1);
    assert_eq!(
        found(&report),
        vec![
            row("api/app.json", 2, 15, "escape", KEY),
            row("k8s/secret.yaml", 3, 50, "base64>percent", KEY),
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
        for leak in [&KEY[5..], &KEY2[12..], &json[8..40], &url[10..60], &html[10..60]] {
            assert!(!text.contains(leak), "{format} shows {leak}");
        }
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
