//! The leak timeline of history findings (issue 16): first seen, removed from HEAD's line, exposure,
//! pushed, refs, urgency order, on repositories built at test time.

use std::fs;

use serde_json::Value;

use crate::common::pkhound;
use crate::history::{history, Repo};

const KEY1: &str = "pk_a4c123b1612dd272d1371c17149d439536"; // pkhound:allow
const KEY2: &str = "pk_b3216fdaeeb975729fae923d5a4fd12aab"; // pkhound:allow
const KEY3: &str = "pk_fe228f219e9cb0eb53f16947ccf25ec84d"; // pkhound:allow

/// Commits everything with an explicit author date; returns the sha.
fn commit_dated(r: &mut Repo, message: &str, date: &str) -> String {
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "--allow-empty", "--date", date, "-m", message]);
    r.head()
}

fn only(report: &Value) -> &Value {
    let f = report["findings"].as_array().expect("findings");
    assert_eq!(f.len(), 1, "{report:#}");
    &f[0]
}

fn by_key<'a>(report: &'a Value, redacted: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["redacted"] == redacted)
        .unwrap_or_else(|| panic!("no finding {redacted}: {report:#}"))
}

fn text(r: &Repo) -> String {
    let out = pkhound()
        .args(["scan", "--history"])
        .arg(&r.path)
        .output()
        .expect("runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn added_then_removed_key_names_its_removal_and_exposure() {
    let mut r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("init");
    r.write("config/a.env", &format!("K={KEY1}\n"));
    let added = commit_dated(&mut r, "add key", "2023-01-10T00:00:00Z");
    // A rename keeps the secret in HEAD's tree: the removal is the commit that drops the last path.
    r.git(&["mv", "config/a.env", "config/b.env"]);
    r.commit("rename");
    fs::remove_file(r.path.join("config/b.env")).expect("rm");
    let removed = commit_dated(&mut r, "remove key", "2024-02-25T00:00:00Z");
    r.write("later.txt", "x\n");
    r.commit("later");

    let (_, report, _) = history(&r.path, &[]);
    let f = only(&report);
    assert_eq!(f["in_head"], false);
    assert_eq!(f["first_seen"]["commit"], added.as_str());
    assert_eq!(f["first_seen"]["date"], "2023-01-10T00:00:00+00:00");
    assert_eq!(f["removed_in"]["commit"], removed.as_str());
    assert_eq!(f["removed_in"]["date"], "2024-02-25T00:00:00+00:00");
    assert_eq!(f["on_head_line"], true);
    assert_eq!(f["exposed_days"], 411);
    assert_eq!(f["pushed"], false);
    assert_eq!(f["refs"], serde_json::json!(["refs/heads/main"]));
    assert_eq!(f["ref_count"], 1);
    let spans = f["head_spans"].as_array().expect("spans");
    assert_eq!(spans.len(), 1, "{f:#}");
    assert_eq!(spans[0]["added"]["commit"], added.as_str());
    assert_eq!(spans[0]["removed"]["commit"], removed.as_str());
    assert_eq!(
        (spans[0]["added_pos"].as_u64(), spans[0]["removed_pos"].as_u64()),
        (Some(1), Some(3))
    );

    let t = text(&r);
    assert!(
        t.contains(&format!(
            "in history for 411 days; not pushed (no remote-tracking ref reaches it); removed from HEAD in {} on 2024-02-25",
            &removed[..7]
        )),
        "{t}"
    );
    assert!(t.contains("0 still in HEAD · 0 pushed"), "{t}");
}

#[test]
fn key_still_in_head_has_no_removal() {
    let mut r = Repo::new();
    r.write(".env", &format!("K={KEY1}\n"));
    r.commit("add key");
    r.write("other.txt", "x\n");
    r.commit("other");

    let (_, report, _) = history(&r.path, &[]);
    let f = only(&report);
    assert_eq!(f["in_head"], true);
    assert_eq!(f["removed_in"], Value::Null);
    assert_eq!(f["on_head_line"], true);
    assert_eq!(f["head_spans"][0]["removed"], Value::Null);
    // Exposed from its commit (2024-03-01) until the scan.
    assert!(f["exposed_days"].as_u64().expect("days") > 0, "{f:#}");
    let t = text(&r);
    assert!(t.contains("; still in HEAD"), "{t}");
    assert!(!t.contains("removed from HEAD"), "{t}");
    assert!(t.contains("1 still in HEAD · 0 pushed"), "{t}");
}

#[test]
fn key_only_on_a_branch_is_never_called_removed_from_head() {
    let mut r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("feature.env", &format!("K={KEY1}\n"));
    r.commit("feature key");
    r.git(&["checkout", "-q", "main"]);
    r.write("main.txt", "x\n");
    r.commit("main moves on");

    let (_, report, _) = history(&r.path, &[]);
    let f = only(&report);
    assert_eq!(f["in_head"], false);
    assert_eq!(f["on_head_line"], false);
    assert_eq!(f["removed_in"], Value::Null);
    assert_eq!(f["head_spans"], serde_json::json!([]));
    assert_eq!(f["refs"], serde_json::json!(["refs/heads/feature"]));
    let t = text(&r);
    assert!(!t.contains("removed from HEAD"), "{t}");
    assert!(t.contains("never in HEAD's files"), "{t}");
    assert!(t.contains("never on HEAD's branch"), "{t}");
}

#[test]
fn key_in_a_stash_or_a_commit_message_only_is_never_called_removed_from_head() {
    let mut r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit(&format!("init with {KEY2} pasted"));
    r.write("README.md", &format!("K={KEY1}\n"));
    r.git(&["stash", "-q"]);

    let (_, report, _) = history(&r.path, &[]);
    let stashed = by_key(&report, "pk_a4…36");
    assert_eq!(stashed["on_head_line"], false);
    assert_eq!(stashed["removed_in"], Value::Null);
    assert_eq!(stashed["refs"], serde_json::json!(["refs/stash"]));
    let message = by_key(&report, "pk_b3…ab");
    assert_eq!(message["location"], "commit-message");
    assert_eq!(message["on_head_line"], false);
    assert_eq!(message["removed_in"], Value::Null);
    // The message's commit is on main and in the stash's ancestry.
    assert_eq!(message["refs"], serde_json::json!(["refs/heads/main", "refs/stash"]));
    let t = text(&r);
    assert!(!t.contains("removed from HEAD"), "{t}");
    assert!(t.contains("in a commit message, never in HEAD's files"), "{t}");
}

#[test]
fn key_merged_into_main_then_removed_has_the_merge_as_its_start_on_the_line() {
    let mut r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("feature.env", &format!("K={KEY1}\n"));
    let added = r.commit("feature key");
    r.git(&["checkout", "-q", "main"]);
    r.write("main.txt", "x\n");
    r.commit("main moves on");
    r.git(&["merge", "-q", "--no-ff", "-m", "merge feature", "feature"]);
    let merge = r.head();
    fs::remove_file(r.path.join("feature.env")).expect("rm");
    let removed = r.commit("drop the key");

    let (_, report, _) = history(&r.path, &[]);
    let f = only(&report);
    assert_eq!(f["first_seen"]["commit"], added.as_str());
    assert_eq!(f["on_head_line"], true);
    assert_eq!(f["head_spans"][0]["added"]["commit"], merge.as_str());
    assert_eq!(f["removed_in"]["commit"], removed.as_str());
    assert_eq!(f["refs"], serde_json::json!(["refs/heads/feature", "refs/heads/main"]));
}

#[test]
fn pushed_and_unpushed_keys_are_told_apart_and_ordered_by_urgency() {
    let mut r = Repo::new();
    let origin = r.path.parent().expect("temp parent").join("origin.git");
    let origin_path = origin.to_str().expect("utf-8 temp path").to_string();
    r.git(&["init", "-q", "--bare", &origin_path]);
    r.write("a.env", &format!("A={KEY1}\n"));
    r.commit("key a (will be removed)");
    r.write("c.env", &format!("C={KEY3}\n"));
    r.commit("key c (stays)");
    fs::remove_file(r.path.join("a.env")).expect("rm");
    r.commit("remove a");
    r.git(&["remote", "add", "origin", &origin_path]);
    r.git(&["push", "-q", "origin", "main"]);
    r.git(&["fetch", "-q", "origin"]);
    // Committed after the push: never left this machine.
    r.write("b.env", &format!("B={KEY2}\n"));
    r.commit("key b (local only)");

    let (_, report, _) = history(&r.path, &[]);
    let a = by_key(&report, "pk_a4…36");
    let b = by_key(&report, "pk_b3…ab");
    let c = by_key(&report, "pk_fe…4d");
    assert_eq!(
        (a["pushed"].as_bool(), a["in_head"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(a["remotes"], serde_json::json!(["origin"]));
    assert_eq!(
        a["refs"],
        serde_json::json!(["refs/heads/main", "refs/remotes/origin/main"])
    );
    assert_eq!(
        (b["pushed"].as_bool(), b["in_head"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(b["remotes"], serde_json::json!([]));
    assert_eq!(b["refs"], serde_json::json!(["refs/heads/main"]));
    assert_eq!(
        (c["pushed"].as_bool(), c["in_head"].as_bool()),
        (Some(true), Some(true))
    );

    // Still in HEAD and pushed, then still in HEAD, then pushed but removed.
    let order: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["redacted"].as_str().expect("redacted"))
        .collect();
    assert_eq!(order, ["pk_fe…4d", "pk_b3…ab", "pk_a4…36"]);
    let t = text(&r);
    let pos = |k: &str| t.find(k).unwrap_or_else(|| panic!("{k} in {t}"));
    assert!(
        pos("pk_fe…4d") < pos("pk_b3…ab") && pos("pk_b3…ab") < pos("pk_a4…36"),
        "{t}"
    );
    assert!(t.contains("pushed to origin; still in HEAD"), "{t}");
    assert!(t.contains("2 still in HEAD · 2 pushed"), "{t}");

    // A scan of one branch still sees the remote-tracking refs the branch walk did not follow.
    let (_, report, _) = history(&r.path, &["--branch", "main"]);
    assert_eq!(by_key(&report, "pk_a4…36")["pushed"], true);
    // CSV carries the fields.
    let out = pkhound()
        .args(["scan", "--history", "--format", "csv"])
        .arg(&r.path)
        .output()
        .expect("runs");
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(
        csv.lines()
            .next()
            .is_some_and(|h| h.contains("removed_in,removed_in_date,on_head_line,exposed_days,pushed,refs,ref_count")),
        "{csv}"
    );
}

fn state_scan(r: &Repo, state: &std::path::Path) -> (i32, Value, String) {
    history(&r.path, &["--state", state.to_str().expect("utf-8 temp path")])
}

#[test]
fn state_rerun_reads_only_new_blobs_and_marks_only_new_findings() {
    let mut r = Repo::new();
    let state = r.path.parent().expect("temp parent").join("pkhound.state");
    for i in 0..5 {
        r.write(&format!("src/f{i}.txt"), &format!("clean file {i}\n"));
    }
    r.write("config/.env", &format!("K={KEY1}\n"));
    r.commit("first");
    r.write("src/f0.txt", "clean file 0, edited\n");
    r.commit("second");

    let (_, first, _) = state_scan(&r, &state);
    assert_eq!(first["stats"]["files"], 7, "{:#}", first["stats"]);
    assert_eq!(only(&first)["new"], true);
    let bytes = fs::read(&state).expect("state written");
    assert!(
        !String::from_utf8_lossy(&bytes).contains(KEY1),
        "the state holds no secret"
    );

    // Two new commits: two new clean blobs, one new key, and the old key removed from HEAD.
    r.write("src/g1.txt", "new clean 1\n");
    r.write("src/g2.txt", "new clean 2\n");
    let added = r.commit("third");
    r.write("deploy/.env", &format!("K2={KEY2}\n"));
    fs::remove_file(r.path.join("config/.env")).expect("rm");
    let removed = r.commit("fourth");

    let (_, second, _) = state_scan(&r, &state);
    let st = &second["stats"]["state"];
    assert_eq!(st["commits_known"], 2, "{st:#}");
    assert_eq!(st["blobs_new"], 3, "{st:#}");
    // The old key's blob is read again (the state keeps no secret), nothing else old is.
    assert_eq!(st["blobs_reread"], 1, "{st:#}");
    assert_eq!(st["new_findings"], 1, "{st:#}");
    assert_eq!(second["stats"]["files"], 4, "{:#}", second["stats"]);
    let old = by_key(&second, "pk_a4…36");
    let new = by_key(&second, "pk_b3…ab");
    assert_eq!((old["new"].as_bool(), new["new"].as_bool()), (Some(false), Some(true)));
    // Places and the timeline come from the fresh inventory: the old key left HEAD in the new commit.
    assert_eq!(old["in_head"], false);
    assert_eq!(old["removed_in"]["commit"], removed.as_str());
    assert_eq!(new["in_head"], true);
    assert_ne!(added, removed);
    let t = text(&r);
    assert!(!t.contains("NEW since the last run"), "no --state, no marks: {t}");

    // Same findings as a full scan, once sorted.
    let (_, full, _) = history(&r.path, &[]);
    let key = |v: &Value| {
        let mut k: Vec<String> = v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                format!(
                    "{} {} {} {} {}",
                    f["fingerprint"], f["path"], f["line"], f["in_head"], f["removed_in"]
                )
            })
            .collect();
        k.sort();
        k
    };
    assert_eq!(key(&second), key(&full));

    // A third run with nothing new reads only the known blob with a secret.
    let (_, third, _) = state_scan(&r, &state);
    assert_eq!(third["stats"]["state"]["blobs_new"], 0);
    assert_eq!(third["stats"]["state"]["new_findings"], 0);
    assert_eq!(third["stats"]["files"], 2);
}

#[test]
fn state_after_a_force_push_drops_unreachable_findings_and_says_why() {
    let mut r = Repo::new();
    let parent = r.path.parent().expect("temp parent").to_path_buf();
    let state = parent.join("pkhound.state");
    let origin = parent.join("origin.git");
    let origin = origin.to_str().expect("utf-8 temp path").to_string();
    r.git(&["init", "-q", "--bare", &origin]);
    r.git(&["remote", "add", "origin", &origin]);
    r.write("README.md", "hello\n");
    r.commit("init");
    r.write(".env", &format!("K={KEY1}\n"));
    r.commit("oops, a key");
    r.git(&["push", "-q", "origin", "main"]);
    let (_, first, _) = state_scan(&r, &state);
    assert_eq!(only(&first)["pushed"], true);

    // The key is scrubbed by rewriting history and force-pushing.
    r.git(&["reset", "-q", "--hard", "HEAD~1"]);
    r.write("README.md", "hello again\n");
    r.commit("clean");
    r.git(&["push", "-q", "--force", "origin", "main"]);
    r.git(&["reflog", "expire", "--expire=now", "--all"]);

    let (_, second, _) = state_scan(&r, &state);
    assert_eq!(second["findings"], serde_json::json!([]), "{second:#}");
    let notes: Vec<&str> = second["notices"]
        .as_array()
        .expect("notices")
        .iter()
        .map(|n| n["message"].as_str().expect("message"))
        .collect();
    let gone = notes
        .iter()
        .find(|m| m.contains("pk_a4…36"))
        .unwrap_or_else(|| panic!("a notice names the key: {notes:?}"));
    assert!(gone.contains("no longer reachable"), "{gone}");
    assert!(
        gone.contains("refs/heads/main") && gone.contains("refs/remotes/origin/main"),
        "{gone}"
    );
    assert!(gone.contains("rotate it"), "{gone}");

    // The state forgot it: the next run is quiet.
    let (_, third, _) = state_scan(&r, &state);
    assert!(
        !third["notices"].to_string().contains("pk_a4…36"),
        "{:#}",
        third["notices"]
    );
}

#[test]
fn damaged_or_foreign_state_is_an_error_naming_the_file() {
    let mut r = Repo::new();
    let parent = r.path.parent().expect("temp parent").to_path_buf();
    r.write(".env", &format!("K={KEY1}\n"));
    r.commit("key");
    let good = parent.join("good.state");
    state_scan(&r, &good);
    let bytes = fs::read(&good).expect("state written");

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "garbage.state",
            b"not a state file at all".to_vec(),
            "not a pkhound state file",
        ),
        ("truncated.state", bytes[..bytes.len() - 10].to_vec(), "truncated"),
        (
            "flipped.state",
            {
                let mut b = bytes.clone();
                let mid = b.len() / 2;
                b[mid] ^= 1;
                b
            },
            "checksum mismatch",
        ),
        ("empty.state", Vec::new(), "too short"),
    ];
    for (name, content, says) in cases {
        let path = parent.join(name);
        fs::write(&path, &content).expect("write");
        let out = pkhound()
            .args(["scan", "--history", "--state"])
            .arg(&path)
            .arg(&r.path)
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(name) && err.contains(says), "{name}: {err}");
        assert!(out.stdout.is_empty(), "{name}: no report from a damaged state");
        // The damaged file is left as it was, not replaced by a fresh scan's state.
        assert_eq!(fs::read(&path).expect("still there"), content, "{name}");
    }

    // Another repository's state.
    let mut other = Repo::new();
    other.write("a.txt", "x\n");
    other.commit("x");
    let out = pkhound()
        .args(["scan", "--history", "--state"])
        .arg(&good)
        .arg(&other.path)
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("written for repository"), "{err}");
}

/// Runs the history scan through the library, whole or as one shard.
fn lib_scan(path: &std::path::Path, shard: Option<(u32, u32)>) -> Vec<pkhound::finding::Finding> {
    use pkhound::scan::history::{self, HistoryConfig, Shard};
    let engine = pkhound::scan::compile(&pkhound::rules::builtin().expect("built-in rules load"))
        .expect("built-in rules compile");
    let policy = pkhound::triage::Policy::default();
    let cfg = HistoryConfig {
        selection: pkhound::source::git::Selection::All,
        since: None,
        max_file_size: 10 << 20,
        threads: 1,
        all_occurrences: false,
        progress: false,
        state: None,
        shard: shard.map(|(index, count)| Shard { index, count }),
    };
    let repo = pkhound::source::git::Repo::open(path).expect("repository opens");
    history::run(pkhound::scan::Scanner::new(&engine, &policy), repo, &cfg)
        .expect("history scan runs")
        .findings
}

#[test]
fn shard_reports_merged_equal_one_run() {
    let mut r = Repo::new();
    // One key in many different files (different blobs, so different shards), over several commits,
    // moved and removed; another on a branch; a third in a commit message.
    for round in 0..4 {
        for i in 0..8 {
            r.write(
                &format!("svc{i}/config.env"),
                &format!("round={round}\nKEY={KEY1}\nn={i}\n"),
            );
        }
        r.commit(&format!("round {round}"));
    }
    for i in 0..4 {
        fs::remove_file(r.path.join(format!("svc{i}/config.env"))).expect("rm");
    }
    r.commit(&format!("drop half, mention {KEY3}"));
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("feature.env", &format!("K={KEY2}\n"));
    r.commit("feature");
    r.git(&["checkout", "-q", "main"]);

    let single = lib_scan(&r.path, None);
    assert_eq!(single.len(), 3, "{single:?}");
    let mut merged: std::collections::BTreeMap<(String, String), pkhound::finding::Finding> = Default::default();
    let mut shards_with_findings = 0;
    for i in 0..4 {
        let part = lib_scan(&r.path, Some((i, 4)));
        shards_with_findings += usize::from(!part.is_empty());
        for f in part {
            let k = (f.rule.id.as_str().to_string(), f.fingerprint.as_str().to_string());
            let m = match merged.remove(&k) {
                Some(prev) => pkhound::scan::history::merge_findings(&prev, &f, false),
                None => f,
            };
            merged.insert(k, m);
        }
    }
    assert!(shards_with_findings > 1, "the key's blobs spread over shards");
    assert_eq!(merged.len(), single.len());
    for f in &single {
        let m = &merged[&(f.rule.id.as_str().to_string(), f.fingerprint.as_str().to_string())];
        assert_eq!((&m.path, m.line, m.column), (&f.path, f.line, f.column));
        assert_eq!(m.origin, f.origin);
        let (mut hm, mut hf) = (m.history.clone().expect("history"), f.history.clone().expect("history"));
        // The exposure of a key still in HEAD counts to each run's clock.
        for h in [&mut hm, &mut hf] {
            if let Some(t) = h.timeline.as_mut() {
                t.exposed_until = 0;
                t.exposed_days = 0;
            }
        }
        assert_eq!(hm, hf, "{}", f.secret);
    }
}

#[test]
fn shard_spec_is_checked_and_a_shard_reads_only_its_share() {
    let mut r = Repo::new();
    for i in 0..16 {
        r.write(&format!("f{i}.txt"), &format!("file {i}\n"));
    }
    r.commit("files");
    let mut total = 0;
    for i in 0..4 {
        let (_, report, _) = history(&r.path, &["--shard", &format!("{i}/4")]);
        total += report["stats"]["files"].as_u64().expect("files");
    }
    assert_eq!(total, 16, "the shares cover every blob once");
    let out = pkhound()
        .args(["scan", "--history", "--shard", "4/4"])
        .arg(&r.path)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a shard"));
}

#[test]
fn spans_are_exact_across_the_runs_the_line_walk_is_cut_into() {
    // HEAD's line is walked in runs of at least 64 commits: stretches that start, end or cross a run's
    // edge must come out whole.
    let mut r = Repo::new();
    let mut shas = Vec::new();
    for i in 0..150 {
        r.write("counter.txt", &format!("{i}\n"));
        match i {
            30 => r.write("a.env", &format!("A={KEY1}\n")),
            100 => fs::remove_file(r.path.join("a.env")).expect("rm"),
            63 => r.write("b.env", &format!("B={KEY2}\n")),
            64 => fs::remove_file(r.path.join("b.env")).expect("rm"),
            127 => r.write("b.env", &format!("B={KEY2}\n")),
            _ => {}
        }
        shas.push(r.commit(&format!("commit {i}")));
    }
    let (_, report, _) = history(&r.path, &[]);
    let a = by_key(&report, "pk_a4…36");
    assert_eq!(a["head_spans"].as_array().expect("spans").len(), 1, "{a:#}");
    assert_eq!(a["head_spans"][0]["added_pos"], 30);
    assert_eq!(a["head_spans"][0]["removed_pos"], 100);
    assert_eq!(a["removed_in"]["commit"], shas[100].as_str());
    let b = by_key(&report, "pk_b3…ab");
    let spans: Vec<(u64, Option<u64>)> = b["head_spans"]
        .as_array()
        .expect("spans")
        .iter()
        .map(|s| (s["added_pos"].as_u64().expect("pos"), s["removed_pos"].as_u64()))
        .collect();
    assert_eq!(spans, [(63, Some(64)), (127, None)]);
    assert_eq!(b["in_head"], true);
    assert_eq!(b["removed_in"], Value::Null);
}
