//! One scan pipeline for every source (issue 11): the same bytes give the same findings whether they are
//! a file on disk, standard input, a staged change or a commit in history; and findings are merged only
//! when they are the same secret of the same rule at the same place of the same provenance.

use std::{collections::BTreeSet, fs, path::Path, process::Command as Process};

use proptest::prelude::*;
use serde_json::Value;

use crate::common::{pkhound, scan_json};
use crate::history::{history, Repo};

const OLD: &str = "pk_856403284f13fbb876cb4d064abc227eff"; // pkhound:allow
const NEW: &str = "pk_111403284f13fbb876cb4d064abc227eff"; // pkhound:allow

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings array")
}

/// See: issue 11 — a key rotated in place (same file, line and column) lost one of the two keys.
#[test]
fn a_key_rotated_in_place_is_two_findings_each_with_its_commit() {
    let mut r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("one");
    r.write("z.py", &format!("KEY='{OLD}'\n"));
    let two = r.commit("two");
    r.write("z.py", &format!("KEY='{NEW}'\n"));
    let three = r.commit("three");

    let (code, report, _) = history(&r.path, &["--show-secrets"]);
    assert_eq!(code, 1);
    let f = findings(&report);
    assert_eq!(f.len(), 2, "{f:#?}");
    let by_secret = |k: &str| {
        f.iter()
            .find(|x| x["secret"] == k)
            .unwrap_or_else(|| panic!("{k} missing: {f:#?}"))
    };
    let (old, new) = (by_secret(OLD), by_secret(NEW));
    assert_eq!(old["origin"]["commit"], two.as_str());
    assert_eq!(old["in_head"], false);
    assert_eq!(new["origin"]["commit"], three.as_str());
    assert_eq!(new["in_head"], true);
    for x in [old, new] {
        assert_eq!(
            (x["path"].as_str(), x["line"].as_u64(), x["column"].as_u64()),
            (Some("z.py"), Some(1), Some(6))
        );
    }
}

/// See: issue 11 — line allowlists (gitleaks `regexTarget = "line"`) were not applied under --history.
#[test]
fn a_line_allowlist_applies_to_history_as_to_the_tree() {
    let mut r = Repo::new();
    r.write("app.env", &format!("TEST_FIXTURE_KEY={OLD}\nPROD_KEY={NEW}\n"));
    r.commit("keys");
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = dir.path().join("gitleaks.toml");
    fs::write(
        &cfg,
        "title = \"t\"\n[extend]\nuseDefault = true\n[allowlist]\nregexTarget = \"line\"\nregexes = ['''TEST_FIXTURE_KEY''']\n",
    )
    .expect("write config");
    let cfg = cfg.to_str().expect("UTF-8 path");
    for extra in [&["--history"][..], &[][..]] {
        let (_, report, stderr) = scan_json(&r.path, &[extra, &["--config", cfg, "--show-secrets"]].concat());
        let secrets: Vec<&str> = findings(&report).iter().filter_map(|f| f["secret"].as_str()).collect();
        assert_eq!(secrets, [NEW], "{extra:?}: {stderr}");
    }
}

/// See: issue 11 — a UTF-16 blob with a BOM and no NUL in its first 8 KiB was decoded on disk only.
#[test]
fn utf16_without_nul_in_its_first_8_kib_is_decoded_in_history_too() {
    let text = "парольключ密钥".repeat(400) + "\nKEY=" + OLD + "\n";
    let bytes: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let mut r = Repo::new();
    fs::write(r.path.join("notes.txt"), &bytes).expect("write");
    r.commit("utf-16 notes");
    let tree = sources_agree(&r.path, "notes.txt", &bytes);
    assert_eq!(tree.len(), 1, "{tree:?}");
}

/// See: issue 11 — a text file starting with `FF FE` then ASCII hid its key in the working-tree scan.
#[test]
fn a_stray_bom_before_ascii_hides_nothing() {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend_from_slice(format!("KEY={OLD}\n").as_bytes());
    let mut r = Repo::new();
    fs::write(r.path.join("k.env"), &bytes).expect("write");
    r.commit("odd bytes");
    let tree = sources_agree(&r.path, "k.env", &bytes);
    assert_eq!(tree.len(), 1, "{tree:?}");
}

type Key = (String, String, u64, u64);

/// (rule, secret, line, column) of every finding of a JSON report, and of every other place a history
/// finding lists (one commit here, so each is a place in the same file).
fn keys(report: &Value) -> BTreeSet<Key> {
    let mut out = BTreeSet::new();
    for f in findings(report) {
        let key = |place: &Value| {
            (
                f["rule_id"].as_str().unwrap_or_default().to_string(),
                f["secret"].as_str().unwrap_or_default().to_string(),
                place["line"].as_u64().unwrap_or_default(),
                place["column"].as_u64().unwrap_or_default(),
            )
        };
        out.insert(key(f));
        for o in f["occurrences"].as_array().into_iter().flatten() {
            out.insert(key(o));
        }
    }
    out
}

fn run_json(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Value {
    let mut cmd = pkhound();
    cmd.current_dir(dir)
        .arg("scan")
        .args(args)
        .args(["--format", "json", "--show-secrets", "--no-config"]);
    if let Some(input) = stdin {
        cmd.write_stdin(input.to_vec());
    }
    let out = cmd.output().expect("pkhound runs");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)))
}

/// Scans `bytes` (committed at `name` in the repository at `repo`) as a file on disk, from stdin, staged
/// in a fresh repository and from history; asserts the four agree and returns the tree's findings.
fn sources_agree(repo: &Path, name: &str, bytes: &[u8]) -> BTreeSet<Key> {
    let tree = keys(&run_json(repo, &["."], None));
    let stdin = keys(&run_json(repo, &["-"], Some(bytes)));
    let history = keys(&run_json(repo, &["--history", "."], None));

    let staged_dir = tempfile::tempdir().expect("temp dir");
    let s = staged_dir.path();
    git(s, &["init", "-q"]);
    fs::write(s.join(name), bytes).expect("write");
    git(s, &["add", "--", name]);
    let staged = keys(&run_json(s, &["--staged"], None));

    assert_eq!(tree, stdin, "file vs stdin");
    assert_eq!(tree, staged, "file vs staged");
    assert_eq!(tree, history, "file vs history");
    tree
}

fn git(dir: &Path, args: &[&str]) {
    let out = Process::new("git")
        .current_dir(dir)
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Secrets of several rules, each with a line of its own or sharing one.
const PLANTS: &[&str] = &[
    "KLAVIYO_KEY=pk_a4c123b1612dd272d1371c17149d439536", // pkhound:allow
    "key: pk_4jDPMR_13e02ea68ef786e4d3cea27d26934b484e", // pkhound:allow
    "aws_access_key_id = AKIAGKW6VO3IAZUHFDML,aws_secret_access_key = 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", // pkhound:allow
    "  github-token: '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'", // pkhound:allow
    "stripe('sk_live_BW9qBtLUHhOHnLKDiYnzBIrde8YDbdJBss');", // pkhound:allow
    "plain text with nothing to find",
    "pk_users table, pk_live_1234567890abcdefghijklmn",
    // See: issue 15 — escaped and percent-encoded keys, found the same from every source.
    r#"{"k": "\u0070k_b3216fdaeeb975729fae923d5a4fd12aab", "u": "/cb?k=%70k%5F8dbc74254770f58904dba41ecccc3fc162"}"#, // pkhound:allow
];

/// The plants holding a Klaviyo key.
fn klaviyo_plant(i: usize) -> bool {
    matches!(i % PLANTS.len(), 0 | 1 | 7)
}

#[derive(Clone, Debug)]
enum Shape {
    Utf8 { crlf: bool },
    Utf16 { bom: bool, big_endian: bool },
}

fn content(lines: &[(usize, bool)], long: usize, base64: bool) -> String {
    let mut out = String::new();
    for &(i, glue) in lines {
        out.push_str(PLANTS[i % PLANTS.len()]);
        out.push_str(if glue { " ; " } else { "\n" });
    }
    if long > 0 {
        out.push_str(&"x=1; ".repeat(long));
        out.push_str(PLANTS[0]);
        out.push('\n');
    }
    if base64 {
        use base64::Engine as _;
        let env = format!("{}\n{}\n", PLANTS[0], PLANTS[2]);
        out.push_str("data:\n  app.env: ");
        out.push_str(&base64::engine::general_purpose::STANDARD.encode(env));
        out.push('\n');
    }
    out
}

fn encode(text: &str, shape: &Shape) -> Vec<u8> {
    match shape {
        Shape::Utf8 { crlf: false } => text.as_bytes().to_vec(),
        Shape::Utf8 { crlf: true } => text.replace('\n', "\r\n").into_bytes(),
        Shape::Utf16 { bom, big_endian } => {
            let mut out = Vec::new();
            if *bom {
                out.extend_from_slice(if *big_endian { &[0xFE, 0xFF] } else { &[0xFF, 0xFE] });
            }
            for u in text.encode_utf16() {
                out.extend_from_slice(&if *big_endian { u.to_be_bytes() } else { u.to_le_bytes() });
            }
            out
        }
    }
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        any::<bool>().prop_map(|crlf| Shape::Utf8 { crlf }),
        (any::<bool>(), any::<bool>()).prop_map(|(bom, big_endian)| Shape::Utf16 { bom, big_endian }),
    ]
}

proptest! {
    // Each case runs the binary four times and git a few times: a few dozen cases cover the shapes.
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// See: issue 11 — the set of (rule, secret, line, column) is the same from every source.
    #[test]
    fn every_source_finds_the_same_secrets(
        lines in prop::collection::vec((0..PLANTS.len(), any::<bool>()), 1..8),
        long in prop_oneof![Just(0usize), 2_000usize..4_000],
        base64 in any::<bool>(),
        shape in shape(),
    ) {
        let bytes = encode(&content(&lines, long, base64), &shape);
        let mut r = Repo::new();
        fs::write(r.path.join("planted.txt"), &bytes).expect("write");
        r.commit("plant");
        let found = sources_agree(&r.path, "planted.txt", &bytes);
        let planted_klaviyo = lines.iter().any(|&(i, _)| klaviyo_plant(i)) || long > 0 || base64;
        prop_assert_eq!(found.iter().any(|k| k.0.starts_with("klaviyo")), planted_klaviyo, "{:?}", found);
    }
}

/// See: issue 12 — a snippet printed the neighbour of a finding in clear when `--only`/`--skip` left the
/// neighbour's rule out, or a filter rejected it. Snippets mask every candidate on the line.
#[test]
fn snippets_mask_neighbours_whatever_rule_or_filter_decided() {
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = "O6UuxpSn48+n2Zi1Oqdd++FxIPbXz0MKzGc88fOL"; // pkhound:allow
    let csv = format!("User name,Password,Access key ID,Secret access key\nci,,AKIAGKW6VO3IAZUHFDML,{secret}\n"); // pkhound:allow
    fs::write(dir.path().join("accessKeys.csv"), csv).expect("write");
    fs::write(
        dir.path().join("two.env"),
        format!("A={OLD} B=pk_b3216fdaeeb975729fae923d5a4fd12aab\n"), // pkhound:allow
    )
    .expect("write");
    for args in [
        &["--only", "aws-access-key-id"][..],
        &["--skip", "aws-secret-access-key"],
        &["--only", "klaviyo-private-key", "--show-secrets"],
        &[],
    ] {
        for format in ["json", "text", "sarif", "csv", "junit", "gitlab"] {
            let out = pkhound()
                .arg("scan")
                .arg(dir.path())
                .args(["--format", format, "--no-config"])
                .args(args)
                .output()
                .expect("pkhound runs");
            let shown = String::from_utf8_lossy(&out.stdout);
            assert!(!shown.contains(&secret[4..16]), "{args:?} {format}: {shown}");
            if !args.contains(&"--show-secrets") {
                assert!(!shown.contains(&OLD[3..15]), "{args:?} {format}: {shown}");
            }
            // With --show-secrets each finding reveals its own key, never its neighbour in its snippet.
            if args.contains(&"--show-secrets") && format == "json" {
                let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
                for f in findings(&report) {
                    let own = f["secret"].as_str().expect("secret");
                    let snippet = f["snippet"].as_str().expect("snippet");
                    assert!(snippet.contains(own), "{snippet}");
                    for other in [OLD, "pk_b3216fdaeeb975729fae923d5a4fd12aab"]
                        .iter()
                        .filter(|k| **k != own)
                    {
                        assert!(!snippet.contains(&other[3..15]), "{snippet}");
                    }
                }
            }
        }
    }
}
