//! `scan --history` scans a blob stored as a delta against a quiet blob only around what the delta
//! changed (issue #17). These repositories hold many revisions of large files, packed so that deltas
//! exist, with keys added, moved, split across an edit, joined by one, added far out on a long line,
//! inside base64 and PEM blocks, removed and re-added, and allow comments removed: every report of the
//! default scan must be the one a scan of every blob in full gives (`PKHOUND_FULL_BLOBS=1`).

use std::process::Command as Process;

use proptest::prelude::RngExt;
use proptest::test_runner::{RngAlgorithm, TestRng as Rng};
use serde_json::Value;

use crate::common::{b64, pkhound};
use crate::history::Repo;

const KEY1: &str = "pk_a4c123b1612dd272d1371c17149d439536"; // pkhound:allow
const KEY2: &str = "pk_b3216fdaeeb975729fae923d5a4fd12aab"; // pkhound:allow
const KEY3: &str = "pk_fe228f219e9cb0eb53f16947ccf25ec84d"; // pkhound:allow
const KEY4: &str = "pk_0c5d92e1a7b3f4869d0e2c1b7a3f59e8d4"; // pkhound:allow
const KEY5: &str = "pk_7e2a9c4b1d8f3e6a0b5c2d9e4f1a8b3c6d"; // pkhound:allow

/// Filler lines, one in four hundred with a keyword but no secret (so windows are opened and regexes run, and
/// a blob still scans quiet).
fn filler(rng: &mut Rng, n: usize) -> Vec<String> {
    const WORDS: &[&str] = &[
        "def", "return", "value", "config", "client", "request", "user", "cache", "render",
    ];
    const KEYWORDS: &[&str] = &["token", "password", "secret", "api_key", "pk_", "github", "aws"];
    (0..n)
        .map(|i| {
            let mut words: Vec<&str> = (0..6).map(|_| WORDS[rng.random_range(0..WORDS.len())]).collect();
            if rng.random_range(0..400) == 0 {
                words.push(KEYWORDS[rng.random_range(0..KEYWORDS.len())]);
            }
            format!("    # line {i}: {}", words.join(" "))
        })
        .collect()
}

/// Base64 lines of a PEM body (no `x` or `X`: four in a row would read as a placeholder).
fn pem_body(rng: &mut Rng, lines: usize) -> Vec<String> {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWYZabcdefghijklmnopqrstuvwyz0123456789+/";
    (0..lines)
        .map(|_| (0..64).map(|_| B64[rng.random_range(0..B64.len())] as char).collect())
        .collect()
}

/// Builds the history: `app.py` and `certs.txt` edited over many commits, each scenario in its own
/// commits, with random unrelated edits in between so that deltas are chains of small changes.
fn build(repo: &mut Repo) {
    // Deterministic: each run builds the same history.
    let mut rng = Rng::deterministic_rng(RngAlgorithm::ChaCha);
    let mut app = filler(&mut rng, 2500);
    // A 40 KB line: a key later appended at its far end.
    app[300] = format!("DATA = '{}'", "x".repeat(40_000));
    let mut certs = filler(&mut rng, 50);
    // An incomplete PEM block (a stray line breaks it): 6 KB of body, the break in the middle.
    let mut body = pem_body(&mut rng, 100);
    body[50] = "# not base64 ###".to_string();
    certs.push("-----BEGIN RSA PRIVATE KEY-----".to_string());
    certs.extend(body.iter().cloned());
    certs.push("-----END RSA PRIVATE KEY-----".to_string());
    certs.extend(filler(&mut rng, 50));
    let write = |repo: &mut Repo, app: &[String], certs: &[String]| {
        repo.write("src/app.py", &(app.join("\n") + "\n"));
        repo.write("certs.txt", &(certs.join("\n") + "\n"));
    };
    let mut step = 0;
    let mut commit = |repo: &mut Repo, app: &mut Vec<String>, certs: &[String], what: &str, rng: &mut Rng| {
        // Unrelated noise around every scenario: a few lines rewritten anywhere.
        for _ in 0..3 {
            let i = rng.random_range(0..app.len());
            if i != 300 {
                app[i] = format!(
                    "    value_{} = compute({})",
                    rng.random_range(0..1000),
                    rng.random_range(0..97)
                );
            }
        }
        step += 1;
        write(repo, app, certs);
        repo.commit(&format!("{step}: {what}"));
    };
    for _ in 0..6 {
        commit(repo, &mut app, &certs, "edit", &mut rng);
    }
    // A key added, then kept through edits, then removed, then re-added elsewhere.
    app[700] = format!("KLAVIYO = '{KEY1}'");
    commit(repo, &mut app, &certs, "add key1", &mut rng);
    for _ in 0..3 {
        commit(repo, &mut app, &certs, "edit", &mut rng);
    }
    app[700] = "KLAVIYO = os.environ['KLAVIYO']".to_string();
    commit(repo, &mut app, &certs, "remove key1", &mut rng);
    for _ in 0..4 {
        commit(repo, &mut app, &certs, "edit", &mut rng);
    }
    // A key split by a stray run, then joined by deleting it.
    app[900] = format!("SPLIT = '{}ZZZZ{}'", &KEY2[..20], &KEY2[20..]);
    commit(repo, &mut app, &certs, "split key2", &mut rng);
    commit(repo, &mut app, &certs, "edit", &mut rng);
    app[900] = format!("SPLIT = '{KEY2}'");
    commit(repo, &mut app, &certs, "join key2", &mut rng);
    app[900] = "SPLIT = None".to_string();
    commit(repo, &mut app, &certs, "drop key2", &mut rng);
    // A prefix on one line and the hex on the next, joined by deleting the line break.
    app[1200] = "MOVED = 'pk_".to_string();
    app[1201] = format!("{}'", &KEY3[3..]);
    commit(repo, &mut app, &certs, "parts of key3", &mut rng);
    commit(repo, &mut app, &certs, "edit", &mut rng);
    app[1200] = format!("MOVED = '{KEY3}'");
    app[1201] = "# moved".to_string();
    commit(repo, &mut app, &certs, "join key3", &mut rng);
    app[1200] = "MOVED = None".to_string();
    commit(repo, &mut app, &certs, "drop key3", &mut rng);
    // A key appended at the far end of the long line.
    app[300].push_str(&format!(" + '{KEY4}'"));
    commit(repo, &mut app, &certs, "key4 on the long line", &mut rng);
    app[300] = format!("DATA = '{}'", "x".repeat(40_000));
    commit(repo, &mut app, &certs, "drop key4", &mut rng);
    // A key inside base64 in a long run of base64 data.
    let blob = b64(format!("{{\"padding\": \"{}\", \"api_key\": \"{KEY5}\"}}", "q".repeat(300)).as_bytes());
    app[1500] = format!("BLOB = '{blob}'");
    commit(repo, &mut app, &certs, "key5 in base64", &mut rng);
    app[1500] = "BLOB = None".to_string();
    commit(repo, &mut app, &certs, "drop base64", &mut rng);
    // The PEM block completed by removing its stray line, kilobytes from its header and footer.
    let mut fixed = certs.clone();
    fixed.remove(50 + 1 + 50);
    commit(repo, &mut app, &fixed, "complete the pem", &mut rng);
    commit(repo, &mut app, &certs, "break the pem again", &mut rng);
    // An allowed key, then its allow comment removed.
    app[1800] = format!("ALLOWED = '{KEY2}'  # pkhound:allow");
    commit(repo, &mut app, &certs, "allowed key2", &mut rng);
    commit(repo, &mut app, &certs, "edit", &mut rng);
    app[1800] = format!("ALLOWED = '{KEY2}'");
    commit(repo, &mut app, &certs, "allow comment removed", &mut rng);
    // The first key back, at another place.
    app[2100] = format!("AGAIN = '{KEY1}'");
    commit(repo, &mut app, &certs, "key1 again", &mut rng);
    for _ in 0..5 {
        commit(repo, &mut app, &certs, "edit", &mut rng);
    }
}

/// Blanks what depends on the clock: the run's duration and exposure counted to the time of the scan.
fn clear_clock(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if matches!(k.as_str(), "elapsed_ms" | "exposed_until") {
                    *v = Value::Null;
                } else {
                    clear_clock(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(clear_clock),
        _ => {}
    }
}

/// The JSON report, the number of blobs with nothing near their changes and the number scanned in windows
/// around them.
fn scan(repo: &Repo, full: bool) -> (Value, u64, u64) {
    let mut cmd = pkhound();
    cmd.args(["scan", "--history", "--format", "json"])
        .arg(&repo.path)
        .env("PKHOUND_DELTA_STATS", "1");
    if full {
        cmd.env("PKHOUND_FULL_BLOBS", "1");
    }
    let out = cmd.output().expect("pkhound runs");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let mut report: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    clear_clock(&mut report);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("pkhound: delta: "))
        .unwrap_or_else(|| panic!("no delta line in stderr: {stderr}"));
    // "A blobs (B bytes) with nothing near their changes, C (D bytes) scanned in windows around them, ..."
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    if std::env::var_os("DELTA_DEBUG").is_some() {
        eprintln!("{stderr}");
    }
    (report, numbers[0], numbers[2])
}

fn repack(repo: &Repo, args: &[&str]) {
    let status = Process::new("git")
        .current_dir(&repo.path)
        .args(args)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

#[test]
fn history_findings_are_the_same_when_deltas_are_searched_only_where_they_changed() {
    let mut repo = Repo::new();
    build(&mut repo);
    if std::env::var_os("DELTA_KEEP").is_some() {
        let _ = std::process::Command::new("cp")
            .arg("-a")
            .arg(&repo.path)
            .arg("/tmp/delta-keep")
            .status();
    }
    for pack in [
        &["gc", "-q", "--aggressive", "--prune=now"][..],
        &["repack", "-q", "-adf", "--depth=50", "--window=250"][..],
    ] {
        repack(&repo, pack);
        let (full, none, none_windowed) = scan(&repo, true);
        let (delta, skipped, windowed) = scan(&repo, false);
        assert_eq!(
            (none, none_windowed),
            (0, 0),
            "PKHOUND_FULL_BLOBS=1 reads every blob in full"
        );
        // Of the 40 blobs, about half are deltas against quiet bases; the filler's credential words (one
        // line in 400) put some changes within a wide-window rule's band (`generic-secret-used-as-credential`
        // reads 1.5 KB around `api_key`), and those blobs are read in windows instead.
        assert!(
            skipped >= 10,
            "after git {pack:?} many revisions are deltas against quiet ones: {skipped}"
        );
        // The scenarios themselves put keywords next to the changes: those blobs are scanned in windows.
        assert!(windowed >= 5, "after git {pack:?}: {windowed} blobs scanned in windows");
        assert_eq!(delta, full, "after git {pack:?}");
        // Every scenario is found: the four keys, the joined ones, the encoded one and the PEM block.
        let findings = full["findings"].as_array().expect("findings");
        let summary: Vec<(String, String)> = findings
            .iter()
            .map(|f| {
                (
                    f["rule_id"].as_str().unwrap_or_default().to_string(),
                    f["origin"]["summary"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        for what in [
            "add key1",
            "join key2",
            "join key3",
            "key4 on the long line",
            "complete the pem",
        ] {
            assert!(
                summary.iter().any(|(_, s)| s.ends_with(what)),
                "a finding first seen at `{what}`: {summary:?}"
            );
        }
        assert!(
            findings.iter().any(|f| f["encoding"].as_str() == Some("base64")),
            "the base64-encoded key: {summary:?}"
        );
    }
}
