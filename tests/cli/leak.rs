//! The leak test: a secret of every built-in rule (each rule's first positive example, from the loaded
//! rules), and neighbours on one line, scanned as a tree, from stdin, staged and from history, in every
//! output format; no 12-character run of any planted secret may appear in stdout, stderr, a baseline or
//! an error message. See: issue 12 ("A leak test that plants a secret of every built-in rule").
//!
//! The public part of a secret is not a leak: its documented prefix (`pk_`, `-----BEGIN RSA PRIVATE
//! KEY-----`) and any 12 characters that pkhound's own rule listing prints (a webhook host, a keyword).

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

use pkhound::finding::public_prefix;

use crate::common::*;

const FORMATS: [&str; 7] = ["text", "json", "jsonl", "sarif", "gitlab", "junit", "csv"];
/// A run of this many characters of a secret in an output is a leak.
const RUN: usize = 12;

/// One planted secret and the text (a rule's own example) that carries it.
struct Plant {
    rule: String,
    text: String,
    secret: String,
}

fn plants() -> Vec<Plant> {
    pkhound::rules::builtin_with_examples()
        .expect("built-in rules load")
        .into_iter()
        .filter_map(|r| {
            let ex = r.spec.examples.positive.first()?;
            Some(Plant {
                rule: r.spec.id.clone(),
                text: ex.text.to_string(),
                secret: ex.secret.to_string(),
            })
        })
        .collect()
}

/// Every `RUN`-character window of each secret's non-public part that pkhound's rule listing does not
/// print anyway.
fn forbidden(secrets: &[String]) -> Forbidden {
    let public = String::from_utf8_lossy(
        &pkhound()
            .args(["rules", "--format", "json"])
            .output()
            .expect("pkhound runs")
            .stdout,
    )
    .into_owned();
    // What redaction shows of each secret (its documented prefix and 4 characters) is public: a key
    // block's END line repeats its BEGIN line's words, so a window of one secret may equal the shown
    // part of another.
    let shown: Vec<String> = secrets
        .iter()
        .flat_map(|s| {
            pkhound::finding::redact(s)
                .split('…')
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let public = format!("{public}\n{}", shown.join("\n"));
    let mut out = BTreeSet::new();
    for s in secrets {
        // A window may hold the public prefix and up to the 4 characters redaction shows; one holding
        // more of the secret's own characters is a leak.
        let plen = public_prefix(s).chars().count();
        let chars: Vec<char> = s.chars().collect();
        for (i, w) in chars.windows(RUN).enumerate() {
            let own = (i + RUN).saturating_sub(plen.max(i));
            let w: String = w.iter().collect();
            if own > 4 && !public.contains(&w) {
                out.insert(w);
            }
        }
    }
    assert!(!out.is_empty(), "there is something to look for");
    Forbidden::new(&out)
}

fn assert_no_leak(what: &str, out: &[u8], forbidden: &Forbidden) {
    let text = String::from_utf8_lossy(out);
    // JSON and XML escape `"`, `\` and newlines: compare against the unescaped form too.
    let unescaped = text
        .replace("\\\"", "\"")
        .replace("\\\\", "\\")
        .replace("\\n", "\n")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&#10;", "\n");
    for hay in [&*text, &unescaped] {
        if let Some(m) = forbidden.automaton.find(hay) {
            panic!(
                "{what}: a 12-character run of a planted secret leaked: {}",
                pkhound::finding::redact(&hay[m.start()..m.end()])
            );
        }
    }
}

/// The forbidden windows, as one automaton: thousands of windows against every output.
struct Forbidden {
    automaton: aho_corasick::AhoCorasick,
}

impl Forbidden {
    fn new(windows: &BTreeSet<String>) -> Forbidden {
        Forbidden {
            automaton: aho_corasick::AhoCorasick::new(windows).expect("the windows build an automaton"),
        }
    }
}

/// Files: one per rule, its example as the whole content; plus lines where two detected secrets sit
/// side by side.
fn plant_files(dir: &Path, plants: &[Plant]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for (i, p) in plants.iter().enumerate() {
        let path = dir.join(format!("plant-{i:02}-{}.txt", p.rule));
        fs::write(&path, format!("{}\n", p.text)).expect("write");
        files.push(path);
    }
    // Neighbours that are each a finding of their own rule.
    let by = |id: &str| plants.iter().find(|p| p.rule == id).map(|p| p.secret.clone());
    let pairs = [
        ("klaviyo-private-key", "github-classic-pat"),
        ("klaviyo-private-key", "stripe-secret-key-live"),
        ("aws-access-key-id", "slack-bot-token"),
    ];
    let mut line = String::new();
    for (a, b) in pairs {
        if let (Some(a), Some(b)) = (by(a), by(b)) {
            line.push_str(&format!("keys: {a} {b}\n"));
        }
    }
    let path = dir.join("neighbours.env");
    fs::write(&path, line).expect("write");
    files.push(path);
    files
}

fn check_all_formats(what: &str, dir: &Path, args: &[&str], stdin: Option<&[u8]>, forbidden: &Forbidden) {
    for format in FORMATS {
        let mut cmd = pkhound();
        cmd.current_dir(dir).args(args).args(["--format", format]);
        if let Some(input) = stdin {
            cmd.write_stdin(input.to_vec());
        }
        let out = cmd.output().expect("pkhound runs");
        let code = out.status.code().unwrap_or(-1);
        assert!(
            code == 1,
            "{what} --format {format}: exit {code}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_no_leak(&format!("{what} --format {format} stdout"), &out.stdout, forbidden);
        assert_no_leak(&format!("{what} --format {format} stderr"), &out.stderr, forbidden);
    }
}

#[test]
fn no_output_of_any_scan_holds_a_planted_secret() {
    let plants = plants();
    assert!(plants.len() >= 60, "every built-in rule has a positive example");
    let secrets: Vec<String> = plants.iter().map(|p| p.secret.clone()).collect();
    let forbidden = forbidden(&secrets);

    let dir = tree_of(&[]);
    plant_files(dir.path(), &plants);

    // Tree, with a baseline written.
    check_all_formats("tree", dir.path(), &["scan", "."], None, &forbidden);
    let baseline = dir.path().join("baseline.json");
    let out = pkhound()
        .current_dir(dir.path())
        .args(["scan", ".", "--baseline-out"])
        .arg(&baseline)
        .output()
        .expect("pkhound runs");
    assert_eq!(out.status.code(), Some(1));
    assert_no_leak(
        "--baseline-out file",
        &fs::read(&baseline).expect("baseline"),
        &forbidden,
    );
    fs::remove_file(&baseline).expect("rm");

    // Standard input: every example, one after the other.
    let all: String = plants.iter().map(|p| format!("{}\n", p.text)).collect();
    check_all_formats("stdin", dir.path(), &["scan", "-"], Some(all.as_bytes()), &forbidden);

    // Staged, then history (a key in a commit message too).
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    check_all_formats("staged", dir.path(), &["scan", "--staged"], None, &forbidden);
    let klaviyo = secrets.first().expect("a secret").clone();
    git(
        dir.path(),
        &["commit", "-q", "-m", &format!("add config with {klaviyo}")],
    );
    check_all_formats("history", dir.path(), &["scan", "--history", "."], None, &forbidden);
}

/// Error messages: a custom rule whose example fails names it redacted.
#[test]
fn error_messages_hold_no_secret() {
    let secret = "acmetok_Q7wE9rT2yU4iO6pA8sD0fG1h"; // pkhound:allow
    let config = format!(
        r#"[[rule]]
id = "acme-token"
name = "Acme token"
severity = "high"
keywords = ["acmetok_"]
regex = '''(?P<secret>acmetok_[a-z0-9]{{24}})'''
remediation = "Rotate it."
[rule.examples]
positive = [{{ text = "t = {secret}", secret = "{secret}" }}]
"#
    );
    let dir = tree_of(&[("c.toml", &config), ("a.txt", "hello\n")]);
    let forbidden = forbidden(&[secret.to_string()]);
    for args in [
        &["scan", "a.txt", "--config", "c.toml"][..],
        &["rules", "check", "c.toml"][..],
    ] {
        let out = pkhound()
            .current_dir(dir.path())
            .args(args)
            .output()
            .expect("pkhound runs");
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert_no_leak(&format!("{args:?} stdout"), &out.stdout, &forbidden);
        assert_no_leak(&format!("{args:?} stderr"), &out.stderr, &forbidden);
    }
}

/// The issue's own reproductions of neighbour leaks: the AWS `accessKeys.csv` line (the secret access
/// key has no keyword beside it, so only the key id is a finding), a rule skipped with `--skip`, and a key
/// as a git author name. Each secret must still be redacted in its neighbour's snippet.
#[test]
fn neighbours_that_are_not_findings_are_redacted_too() {
    let key_id = "AKIAWW7VB7XQRJAZEDLQ"; // pkhound:allow
    let secret_key = "O6UuxpSn48+n2Zi1Oqdd++FxIPbXz0MKzGc88fOL"; // pkhound:allow
    let klaviyo = "pk_a4c123b1612dd272d1371c17149d439536"; // pkhound:allow
    let github = "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"; // pkhound:allow
    let dir = tree_of(&[
        (
            "accessKeys.csv",
            &format!("User Name,Access key ID,Secret access key\ndeploy,{key_id},{secret_key}\n"),
        ),
        ("two.env", &format!("A={klaviyo} B={github}\n")),
    ]);
    let forbidden = forbidden(&[secret_key.to_string(), github.to_string()]);
    check_all_formats("accessKeys.csv", dir.path(), &["scan", "."], None, &forbidden);
    check_all_formats(
        "--skip github-classic-pat",
        dir.path(),
        &["scan", ".", "--skip", "github-classic-pat"],
        None,
        &forbidden,
    );

    // A key typed as a git author name.
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    let out = std::process::Command::new("git")
        .current_dir(dir.path())
        .args(["-c", "commit.gpgsign=false", "commit", "-q", "-m", "init"])
        .env("GIT_AUTHOR_NAME", github)
        .env("GIT_AUTHOR_EMAIL", "a@example.test")
        .env("GIT_COMMITTER_NAME", "c")
        .env("GIT_COMMITTER_EMAIL", "c@example.test")
        .output()
        .expect("git runs");
    assert!(out.status.success());
    check_all_formats("author name", dir.path(), &["scan", "--history", "."], None, &forbidden);
}
