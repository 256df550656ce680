//! `pkhound audit` and `pkhound merge`: organisations of repositories built at test time.

use std::{
    fs,
    path::{Path, PathBuf},
};

use serde_json::Value;
use tempfile::TempDir;

use crate::common::{git, pkhound};

const SHARED: &str = "pk_a4c123b1612dd272d1371c17149d439536"; // pkhound:allow
const ALONE: &str = "pk_b3216fdaeeb975729fae923d5a4fd12aab"; // pkhound:allow
const REMOVED: &str = "pk_fe228f219e9cb0eb53f16947ccf25ec84d"; // pkhound:allow

/// A directory of repositories.
struct Org {
    dir: TempDir,
}

impl Org {
    fn new() -> Org {
        Org {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A repository at `name` (under the org) with one commit holding `files`.
    fn repo(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let path = self.path().join(name);
        fs::create_dir_all(&path).expect("mkdir");
        git(&path, &["init", "-q"]);
        for (file, content) in files {
            let p = path.join(file);
            fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            fs::write(p, content).expect("write");
        }
        git(&path, &["add", "-A"]);
        git(&path, &["commit", "-q", "--allow-empty", "-m", "init"]);
        path
    }
}

fn run(args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = pkhound().current_dir(dir).args(args).output().expect("pkhound runs");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("JSON ({e}): {text}"))
}

/// The report with what differs between two runs of the same work zeroed: elapsed time.
fn normalized(mut v: Value) -> Value {
    v["stats"]["elapsed_ms"] = Value::from(0);
    without_clock(&mut v);
    v
}

/// A key still in HEAD is exposed until the moment of each scan: runs seconds apart differ there.
fn without_clock(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("exposed_until");
            m.remove("exposed_days");
            m.values_mut().for_each(without_clock);
        }
        Value::Array(a) => a.iter_mut().for_each(without_clock),
        _ => {}
    }
}

/// Three repositories, one key shared between two of them: one finding listing both.
fn three() -> Org {
    let org = Org::new();
    let a = org.repo("team/api", &[("config/.env", &format!("KLAVIYO_KEY={SHARED}\n"))]);
    org.repo("team/web", &[("src/settings.py", &format!("key = \"{SHARED}\"\n"))]);
    org.repo("tools", &[("deploy.sh", &format!("export K={ALONE}\n"))]);
    git(
        &a,
        &[
            "remote",
            "add",
            "origin",
            "https://bot:ghp_notreallyatoken1234@github.com/acme/api.git",
        ],
    );
    org
}

#[test]
fn a_key_in_two_repositories_is_one_finding_listing_both() {
    let org = three();
    let (code, out, err) = run(&["audit", ".", "--format", "json"], org.path());
    assert_eq!(code, 1, "{err}");
    let report = json(&out);
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 2, "{out}");
    let shared = findings
        .iter()
        .find(|f| f["repositories"].as_array().is_some_and(|r| r.len() == 2))
        .expect("the shared key lists two repositories");
    let repos: Vec<&str> = shared["repositories"]
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["repository"]["path"].as_str().expect("path"))
        .collect();
    assert_eq!(repos, ["./team/api", "./team/web"]);
    let places: Vec<&str> = shared["repositories"]
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["path"].as_str().expect("path"))
        .collect();
    assert_eq!(places, ["config/.env", "src/settings.py"]);
    // The origin URL is named, its credentials are not.
    assert_eq!(
        shared["repository"]["origin"], "https://***@github.com/acme/api.git",
        "{shared}"
    );
    assert!(!out.contains("ghp_notreally"), "{out}");
    assert!(!out.contains(SHARED) && !out.contains(ALONE));
    assert_eq!(report["stats"]["repositories"], 3);
    assert!(
        err.contains("audit: 3 repositories scanned, 0 failed; 2 secrets (2 still in HEAD)"),
        "{err}"
    );

    // The text report groups the credential, one place per repository.
    let (_, text, _) = run(&["audit", ".", "--color", "never"], org.path());
    assert!(text.contains("· 2 places · still in HEAD"), "{text}");
    assert!(text.contains("./team/api:config/.env:1:13"), "{text}");
    assert!(text.contains("./team/web:src/settings.py:1:8"), "{text}");
    assert!(
        text.contains(" · 3 repositories scanned, 0 failed · 3 commits · "),
        "{text}"
    );
}

#[test]
fn an_unreadable_repository_is_an_error_and_the_audit_goes_on() {
    let org = Org::new();
    org.repo("clean-one", &[("README.md", "nothing here\n")]);
    org.repo("clean-two", &[("main.py", "print('hi')\n")]);
    // A `.git` that is no repository, and a `--repos` line that does not exist.
    fs::create_dir_all(org.path().join("broken/.git")).expect("mkdir");
    fs::write(org.path().join("broken/.git/HEAD"), "garbage").expect("write");
    fs::write(
        org.path().join("repos.txt"),
        "# the org\nclean-one\n\nclean-two\nbroken\ngone/away\n",
    )
    .expect("write");
    let (code, out, err) = run(&["audit", "--repos", "repos.txt", "--format", "json"], org.path());
    assert_eq!(code, 2, "{err}");
    let report = json(&out);
    let errors: Vec<(&str, &str)> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| (e["path"].as_str().expect("path"), e["kind"].as_str().expect("kind")))
        .collect();
    assert_eq!(errors, [("broken", "repository"), ("gone/away", "repository")]);
    assert_eq!(report["stats"]["repositories"], 2);
    assert_eq!(report["stats"]["repositories_failed"], 2);
    assert_eq!(report["incomplete"], true);
    assert!(err.contains("pkhound: gone/away: No such file or directory"), "{err}");

    // With a finding elsewhere the run fails on the finding and still says it is incomplete.
    org.repo("leaky", &[(".env", &format!("K={ALONE}\n"))]);
    let (code, out, _) = run(&["audit", ".", "--format", "json"], org.path());
    assert_eq!(code, 1);
    let report = json(&out);
    assert_eq!(report["findings"].as_array().expect("findings").len(), 1);
    assert_eq!(report["outcome"]["incomplete"], true);
    assert_eq!(report["errors"][0]["path"], "./broken");
}

/// Eight repositories, keys shared across them, one removed from HEAD: enough for four shards to differ.
fn eight() -> Org {
    let org = Org::new();
    for i in 0..8 {
        let key = if i % 3 == 0 { SHARED } else { ALONE };
        let path = org.repo(&format!("r{i}"), &[("app/config.env", &format!("KEY={key}\n"))]);
        if i == 5 {
            fs::write(path.join("old.txt"), format!("{REMOVED}\n")).expect("write");
            git(&path, &["add", "-A"]);
            git(&path, &["commit", "-q", "-m", "add"]);
            fs::remove_file(path.join("old.txt")).expect("rm");
            git(&path, &["add", "-A"]);
            git(&path, &["commit", "-q", "-m", "remove"]);
        }
    }
    fs::create_dir_all(org.path().join("r9-broken/.git")).expect("mkdir");
    org
}

#[test]
fn four_shards_merged_equal_the_single_run() {
    let org = eight();
    let dir = org.path();
    let (code, single, _) = run(&["audit", ".", "--format", "json"], dir);
    assert_eq!(code, 1);
    let mut listed: Vec<String> = Vec::new();
    let mut reports = Vec::new();
    let mut busy = 0;
    for i in 0..4 {
        let shard = format!("{i}/4");
        let (_, list, _) = run(&["audit", ".", "--shard", &shard, "--list"], dir);
        listed.extend(list.lines().map(String::from));
        busy += usize::from(!list.is_empty());
        let file = format!("shard-{i}.json");
        let (code, _, err) = run(
            &["audit", ".", "--shard", &shard, "--format", "json", "--output", &file],
            dir,
        );
        assert!(matches!(code, 0..=2), "{err}");
        reports.push(file);
    }
    // The shards partition the repositories: each listed once, all of them listed.
    listed.sort();
    let mut all: Vec<String> = (0..8).map(|i| format!("./r{i}")).collect();
    all.push("./r9-broken".into());
    all.sort();
    assert_eq!(listed, all);
    assert!(busy >= 3, "the shards share the work: {busy} of 4 have repositories");
    let mut args = vec!["merge", "--format", "json"];
    args.extend(reports.iter().map(String::as_str));
    let (code, merged, err) = run(&args, dir);
    assert_eq!(code, 1, "{err}");
    assert_eq!(normalized(json(&merged)), normalized(json(&single)));
    let single = json(&single);
    assert_eq!(single["stats"]["repositories"], 8);
    assert_eq!(single["stats"]["repositories_failed"], 1);
    let removed = single["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["redacted"] == "pk_fe…4d")
        .expect("the removed key");
    assert_eq!(removed["in_head"], false);

    // Any format comes out of a merge.
    let mut args = vec!["merge", "--format", "sarif"];
    args.extend(reports.iter().map(String::as_str));
    let (_, sarif, _) = run(&args, dir);
    let sarif = json(&sarif);
    assert_eq!(sarif["runs"][0]["results"].as_array().expect("results").len(), 8 + 1);
    let mut args = vec!["merge", "--format", "text", "--color", "never"];
    args.extend(reports.iter().map(String::as_str));
    let (_, text, _) = run(&args, dir);
    assert!(text.contains("./r0:app/config.env:1:5"), "{text}");
}

#[test]
fn merge_refuses_reports_it_cannot_combine() {
    let org = three();
    let dir = org.path();
    let (_, _, _) = run(&["audit", ".", "--format", "json", "-o", "a.json"], dir);
    let other_key = pkhound()
        .current_dir(dir)
        .env("PKHOUND_FINGERPRINT_KEY", "another-fingerprint-key-entirely")
        .args(["audit", ".", "--format", "json", "-o", "b.json"])
        .output()
        .expect("runs");
    assert!(other_key.status.code().is_some());
    let (_, err_key) = refuse(dir, &["a.json", "b.json"]);
    assert!(err_key.contains("shards must share one fingerprint key"), "{err_key}");

    run(
        &[
            "audit",
            ".",
            "--format",
            "json",
            "--only",
            "klaviyo-private-key",
            "-o",
            "c.json",
        ],
        dir,
    );
    let (_, err_rules) = refuse(dir, &["a.json", "c.json"]);
    assert!(err_rules.contains("ran other rules"), "{err_rules}");

    run(
        &[
            "audit",
            ".",
            "--format",
            "json",
            "--fail-on",
            "critical",
            "-o",
            "d.json",
        ],
        dir,
    );
    let (_, err_fail) = refuse(dir, &["a.json", "d.json"]);
    assert!(err_fail.contains("--fail-on"), "{err_fail}");

    let text = fs::read_to_string(dir.join("a.json")).expect("read");
    fs::write(
        dir.join("e.json"),
        text.replacen("\"version\": \"", "\"version\": \"9.9.9-", 1),
    )
    .expect("write");
    let (_, err_version) = refuse(dir, &["e.json"]);
    assert!(err_version.contains("written by pkhound 9.9.9-"), "{err_version}");

    fs::write(
        dir.join("f.json"),
        text.replacen("\"digest\": \"", "\"digest\": \"00", 1),
    )
    .expect("write");
    let (_, err_digest) = refuse(dir, &["f.json"]);
    assert!(err_digest.contains("made with other rules"), "{err_digest}");

    run(&["audit", ".", "--format", "sarif", "-o", "g.sarif"], dir);
    let (_, err_format) = refuse(dir, &["g.sarif"]);
    assert!(
        err_format.contains("g.sarif: not a pkhound JSON report"),
        "{err_format}"
    );

    let (_, err_secrets) = refuse(dir, &["a.json", "--show-secrets"]);
    assert!(err_secrets.contains("hold no raw secrets"), "{err_secrets}");
}

fn refuse(dir: &Path, args: &[&str]) -> (i32, String) {
    let mut all = vec!["merge"];
    all.extend_from_slice(args);
    let (code, out, err) = run(&all, dir);
    assert_eq!(code, 2, "merge of {args:?} must fail: {out}");
    assert!(out.is_empty(), "{out}");
    (code, err)
}

/// A report read back and written again is the same report: the reader drops nothing the writer says.
#[test]
fn a_report_merged_alone_is_itself() {
    let org = three();
    let dir = org.path();
    // A working-tree scan (notebook cells, encodings, skipped files) and a history scan.
    let tree = crate::common::fixture_tree("basic");
    // A two-part credential: the merge keeps the finding's partner.
    let pair = tempfile::tempdir().expect("temp dir");
    fs::write(
        pair.path().join("credentials"),
        "[default]\naws_access_key_id = AKIAGKW6VO3IAZUHFDML\naws_secret_access_key = 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\n", // pkhound:allow
    )
    .expect("write");
    for (what, args) in [
        ("tree", vec!["scan".to_string(), tree.path().display().to_string()]),
        ("pair", vec!["scan".to_string(), pair.path().display().to_string()]),
        ("history", vec!["scan".into(), "--history".into(), "team/api".into()]),
        ("audit", vec!["audit".into(), ".".into()]),
    ] {
        for show in [false, true] {
            let file = format!("{what}-{show}.json");
            let mut full: Vec<&str> = args.iter().map(String::as_str).collect();
            full.extend(["--format", "json", "-o", &file]);
            if show {
                full.push("--show-secrets");
            }
            run(&full, dir);
            let written = json(&fs::read_to_string(dir.join(&file)).expect("report written"));
            let mut merge = vec!["merge", "--format", "json", &file];
            if show {
                merge.push("--show-secrets");
            }
            let (_, merged, err) = run(&merge, dir);
            assert!(!merged.is_empty(), "{what}: {err}");
            let merged = json(&merged);
            assert_eq!(
                normalized(merged.clone()),
                normalized(written),
                "{what} show={show}: {err}"
            );
            // Without --show-secrets, a merge of a --show-secrets report redacts again.
            if show {
                let (_, redacted, _) = run(&["merge", "--format", "json", &file], dir);
                assert!(!redacted.contains(SHARED), "{what}");
            }
        }
    }
}

/// A repository's name and origin URL are content under audit: neither reaches a terminal raw.
#[test]
fn hostile_repository_names_and_origins_are_escaped() {
    let org = Org::new();
    let path = org.repo("evil\x1b[2Jrepo", &[(".env", &format!("K={ALONE}\n"))]);
    git(
        &path,
        &["remote", "add", "origin", "https://tok\x1b[31m@host/\x07x.git"],
    );
    let (code, text, err) = run(&["audit", ".", "--color", "never"], org.path());
    assert_eq!(code, 1, "{err}");
    for out in [&text, &err] {
        assert!(!out.contains('\x1b') && !out.contains('\x07'), "{out:?}");
    }
    assert!(text.contains(r#""./evil\x1b[2Jrepo:.env":1:3"#), "{text}");
    let (_, list, _) = run(&["audit", ".", "--list"], org.path());
    assert_eq!(list, "\"./evil\\x1b[2Jrepo\"\n");
    let (_, out, _) = run(&["audit", ".", "--format", "json"], org.path());
    let report = json(&out);
    assert_eq!(
        report["findings"][0]["repository"]["origin"],
        "https://***@host/\x07x.git"
    );
    assert!(!out.contains('\x1b') && !out.contains('\x07'));
}

#[test]
fn an_audit_needs_something_to_audit() {
    let org = Org::new();
    let (code, out, err) = run(&["audit"], org.path());
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("give repositories or directories to search"), "{err}");
    let (code, _, err) = run(&["audit", ".", "--shard", "4/4"], org.path());
    assert_eq!(code, 2);
    assert!(err.contains("is not a shard"), "{err}");
}

/// A linked worktree (whose `.git` is a file pointing into the main repository) is audited, not refused.
#[test]
fn a_linked_worktree_is_a_repository_too() {
    let org = Org::new();
    let main = org.repo("main", &[("a.txt", "nothing\n")]);
    git(&main, &["branch", "side"]);
    let linked = org.path().join("linked");
    git(
        &main,
        &["worktree", "add", "-q", linked.to_str().expect("UTF-8 path"), "side"],
    );
    fs::write(linked.join(".env"), format!("K={ALONE}\n")).expect("write");
    git(&linked, &["add", "-A"]);
    git(&linked, &["commit", "-q", "-m", "key"]);
    let (code, out, err) = run(&["audit", "linked", "--format", "json"], org.path());
    assert_eq!(code, 1, "{err}");
    let report = json(&out);
    assert_eq!(report["errors"].as_array().expect("errors").len(), 0, "{out}");
    assert_eq!(report["findings"][0]["repository"]["path"], "linked");
}

/// `scan --history --shard I/N` over the blobs of one repository, merged by `pkhound merge`: the same
/// findings, places and timeline as one run (what differs is how many commits each shard walked).
#[test]
fn blob_shards_of_one_repository_merged_equal_the_single_run() {
    let org = Org::new();
    let repo = org.repo("big", &[("a.env", &format!("KEY={SHARED}\n"))]);
    let keys = [ALONE, REMOVED];
    for (i, key) in keys.iter().enumerate() {
        for j in 0..4 {
            fs::write(repo.join(format!("f{i}-{j}.txt")), format!("line {j}\nK{j}={key}\n")).expect("write");
        }
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", &format!("step {i}")]);
    }
    fs::remove_file(repo.join("f1-0.txt")).expect("rm");
    git(&repo, &["commit", "-q", "-am", "drop one"]);
    let (code, single, err) = run(&["scan", "--history", "--format", "json"], &repo);
    assert_eq!(code, 1, "{err}");
    let mut args = vec!["merge".to_string(), "--format".into(), "json".into()];
    for i in 0..3 {
        let file = format!("../shard-{i}.json");
        let shard = format!("{i}/3");
        let (code, _, err) = run(
            &[
                "scan",
                "--history",
                "--shard",
                &shard,
                "--format",
                "json",
                "--output",
                &file,
            ],
            &repo,
        );
        assert!(matches!(code, 0 | 1), "{err}");
        args.push(file);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, merged, err) = run(&args, &repo);
    assert_eq!(code, 1, "{err}");
    let findings = |v: &Value| normalized(v.clone())["findings"].clone();
    let single = json(&single);
    let merged = json(&merged);
    assert_eq!(single["findings"].as_array().map(Vec::len), Some(3), "{single}");
    assert_eq!(findings(&merged), findings(&single));
    // Each shard walked every commit: the merge counts them once.
    assert_eq!(merged["stats"]["commits"], single["stats"]["commits"]);
    assert!(
        merged.get("shard").is_none(),
        "a complete merge is a whole run: {merged}"
    );
    let shard = json(&fs::read_to_string(repo.join("../shard-2.json")).expect("shard report"));
    assert_eq!(
        shard["shard"],
        serde_json::json!({"index": 2, "count": 3, "of": "blobs"})
    );

    // A share left out is an error entry of the merged report, never a silent hole.
    let (code, partial, err) = run(
        &["merge", "--format", "json", "../shard-0.json", "../shard-2.json"],
        &repo,
    );
    assert!(matches!(code, 1 | 2), "{err}");
    let partial = json(&partial);
    assert_eq!(partial["incomplete"], true, "{partial}");
    let errors = partial["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{partial}");
    assert_eq!(errors[0]["kind"], "shard");
    assert_eq!(errors[0]["path"], "shard 1/3");
    // A share given twice, or shards mixed with a whole run, is refused.
    let (_, twice) = refuse(&repo, &["../shard-0.json", "../shard-1.json", "../shard-1.json"]);
    assert!(twice.contains("are both shard 1/3"), "{twice}");
    fs::write(repo.join("../whole.json"), single.to_string()).expect("write");
    let (_, mixed) = refuse(&repo, &["../shard-0.json", "../whole.json"]);
    assert!(mixed.contains("is a whole run's report"), "{mixed}");
}
