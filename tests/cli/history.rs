//! `scan --history`: repositories built at test time with the git CLI, deterministic authors and dates.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command as Process,
};

use serde_json::Value;
use tempfile::TempDir;

use crate::common::{pkhound, scan_json};

const KEY1: &str = "pk_a4c123b1612dd272d1371c17149d439536"; // pkhound:allow
const KEY2: &str = "pk_b3216fdaeeb975729fae923d5a4fd12aab"; // pkhound:allow
const KEY3: &str = "pk_fe228f219e9cb0eb53f16947ccf25ec84d"; // pkhound:allow

/// A git repository in a temp dir, driven through the git CLI with a fixed identity and clock.
pub(crate) struct Repo {
    _dir: TempDir,
    pub(crate) path: PathBuf,
    tick: u32,
}

impl Repo {
    pub(crate) fn new() -> Repo {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("repo");
        fs::create_dir(&path).expect("mkdir");
        let mut r = Repo {
            _dir: dir,
            path,
            tick: 0,
        };
        r.git(&["init", "-q", "-b", "main"]);
        r
    }

    pub(crate) fn git(&mut self, args: &[&str]) -> String {
        git_in(&self.path, args, self.tick, "Alice Example", "alice@example.test")
    }

    pub(crate) fn write(&self, path: &str, content: &str) {
        let p = self.path.join(path);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(p, content).expect("write");
    }

    /// Commits everything as `author`; returns the new commit's sha.
    pub(crate) fn commit_as(&mut self, message: &str, author: &str, email: &str) -> String {
        self.tick += 1;
        git_in(&self.path, &["add", "-A"], self.tick, author, email);
        git_in(
            &self.path,
            &["commit", "-q", "--allow-empty", "-m", message],
            self.tick,
            author,
            email,
        );
        self.head()
    }

    pub(crate) fn commit(&mut self, message: &str) -> String {
        self.commit_as(message, "Alice Example", "alice@example.test")
    }

    pub(crate) fn head(&mut self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }
}

fn git_in(dir: &Path, args: &[&str], tick: u32, name: &str, email: &str) -> String {
    let date = format!("2024-03-01T12:{:02}:{:02}+01:00", tick / 60, tick % 60);
    let out = Process::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env("GIT_AUTHOR_NAME", name)
        .env("GIT_AUTHOR_EMAIL", email)
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_NAME", name)
        .env("GIT_COMMITTER_EMAIL", email)
        .env("GIT_COMMITTER_DATE", &date)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `scan --history --format json` with extra args; returns (exit code, report, stderr).
pub(crate) fn history(path: &Path, extra: &[&str]) -> (i32, Value, String) {
    scan_json(path, &[&["--history"], extra].concat())
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings array")
}

#[test]
fn key_added_then_deleted_is_found_with_its_introducing_commit() {
    let mut r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("init");
    r.write(".env", &format!("A=1\nKLAVIYO_PRIVATE_API_KEY={KEY1}\n"));
    let added = r.commit_as("add config", "Bob Builder", "bob@example.test");
    fs::remove_file(r.path.join(".env")).expect("rm");
    r.commit("remove config");

    let (code, report, _) = history(&r.path, &[]);
    assert_eq!(code, 1);
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{report:#}");
    let f = &f[0];
    assert_eq!(f["rule_id"], "klaviyo-private-key");
    assert_eq!(f["path"], ".env");
    assert_eq!((f["line"].as_u64(), f["column"].as_u64()), (Some(2), Some(25)));
    assert_eq!(f["in_head"], false);
    assert_eq!(f["occurrence_count"], 1);
    assert_eq!(f["origin"]["kind"], "commit");
    assert_eq!(f["origin"]["commit"], added.as_str());
    assert_eq!(f["origin"]["author"], "Bob Builder");
    assert_eq!(f["origin"]["email"], "bob@example.test");
    assert_eq!(f["origin"]["date"], "2024-03-01T12:00:02+01:00");
    assert_eq!(f["origin"]["summary"], "add config");
    assert_eq!(report["stats"]["commits"], 3);

    // The text report says plainly what to do.
    let out = pkhound()
        .args(["scan", "--history"])
        .arg(&r.path)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("removed from HEAD but still in history: rotate it"),
        "{text}"
    );
    assert!(text.contains(&added[..7]), "{text}");
    assert!(text.contains("Bob Builder"), "{text}");
    assert!(!text.contains(KEY1), "{text}");
}

#[test]
fn same_key_in_many_commits_and_files_is_reported_once() {
    let mut r = Repo::new();
    r.write("a.env", &format!("K={KEY1}\n"));
    r.write("b.env", &format!("K={KEY1}\n"));
    let first = r.commit("one");
    r.write("c/d.env", &format!("X=1\nK={KEY1}\n"));
    r.commit("two");
    r.write("a.env", &format!("# edited\nK={KEY1}\n"));
    r.commit("three");

    let (code, report, _) = history(&r.path, &[]);
    assert_eq!(code, 1);
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{report:#}");
    assert_eq!(f[0]["origin"]["commit"], first.as_str());
    assert_eq!(f[0]["path"], "a.env");
    assert_eq!(f[0]["in_head"], true);
    assert_eq!(f[0]["occurrence_count"], 4);
    let occ = f[0]["occurrences"].as_array().expect("occurrences");
    assert_eq!(occ.len(), 3);
    assert!(occ.iter().any(|o| o["path"] == "c/d.env" && o["line"] == 2));
}

#[test]
fn key_on_an_unmerged_branch_is_found() {
    let mut r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("cfg.py", &format!("KEY = '{KEY2}'\n"));
    let c = r.commit("feature work");
    r.git(&["checkout", "-q", "main"]);

    let (code, report, _) = history(&r.path, &[]);
    assert_eq!(code, 1);
    let f = findings(&report);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["origin"]["commit"], c.as_str());
    assert_eq!(f[0]["in_head"], false);

    // --branch limits the walk to one ref.
    let (code, report, _) = history(&r.path, &["--branch", "main"]);
    assert_eq!((code, findings(&report).len()), (0, 0), "{report:#}");
    let (code, report, _) = history(&r.path, &["--branch", "feature"]);
    assert_eq!((code, findings(&report).len()), (1, 1));
    // An unknown ref is a usage error.
    pkhound()
        .args(["scan", "--branch", "nope"])
        .arg(&r.path)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("`nope`"));
}

#[test]
fn key_only_reachable_from_a_tag_is_found() {
    let mut r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "release"]);
    r.write("deploy.sh", &format!("export KLAVIYO_KEY={KEY3}\n"));
    let c = r.commit("release build");
    r.git(&["tag", "-a", "v1.0", "-m", "v1.0"]);
    r.git(&["checkout", "-q", "main"]);
    r.git(&["branch", "-q", "-D", "release"]);

    let (code, report, _) = history(&r.path, &[]);
    assert_eq!(code, 1);
    let f = findings(&report);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["origin"]["commit"], c.as_str());
}

#[test]
fn key_from_a_merged_branch_is_attributed_to_the_branch_commit() {
    let mut r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("svc/settings.yaml", &format!("klaviyo:\n  key: {KEY1}\n"));
    let added = r.commit_as("feature: settings", "Carol Coder", "carol@example.test");
    r.git(&["checkout", "-q", "main"]);
    r.write("other.txt", "main work\n");
    r.commit("main work");
    r.tick += 1;
    r.git(&["merge", "-q", "--no-ff", "-m", "merge feature", "feature"]);
    r.git(&["branch", "-q", "-D", "feature"]);

    let (code, report, _) = history(&r.path, &[]);
    assert_eq!(code, 1);
    let f = findings(&report);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["origin"]["commit"], added.as_str());
    assert_eq!(f[0]["origin"]["author"], "Carol Coder");
    assert_eq!(f[0]["occurrence_count"], 1, "the merge introduced nothing: {report:#}");
    assert_eq!(f[0]["in_head"], true);
}

#[test]
fn renamed_file_keeps_its_first_place() {
    let mut r = Repo::new();
    r.write("old.env", &format!("K={KEY2}\n"));
    let first = r.commit("add");
    r.git(&["mv", "old.env", "new.env"]);
    let renamed = r.commit("rename");

    let (_, report, _) = history(&r.path, &[]);
    let f = findings(&report);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["path"], "old.env");
    assert_eq!(f[0]["origin"]["commit"], first.as_str());
    assert_eq!(f[0]["in_head"], true);
    assert_eq!(f[0]["occurrence_count"], 2);
    assert_eq!(f[0]["occurrences"][0]["path"], "new.env");
    assert_eq!(f[0]["occurrences"][0]["commit"], renamed.as_str());
}

#[test]
fn key_in_a_commit_message_is_found_and_the_summary_redacted_everywhere() {
    let mut r = Repo::new();
    r.write("README.md", "hello\n");
    let c = r.commit(&format!("rotate to {KEY3} for now\n\nbody mentions {KEY3}"));

    let (code, report, _) = history(&r.path, &[]);
    assert_eq!(code, 1);
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{report:#}");
    assert_eq!(f[0]["path"], "(commit message)");
    assert_eq!(f[0]["location"], "commit-message");
    assert_eq!(f[0]["origin"]["commit"], c.as_str());
    // Located by its commit, and not counted as a file. See: issue 18.
    let text = pkhound()
        .arg("scan")
        .arg(&r.path)
        .args(["--history", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains(&format!("  commit {} message:1:11", &c[..7])), "{text}");
    assert!(text.contains("in 1 commit message ·"), "{text}");
    assert!(!text.contains("(commit message)"), "{text}");
    assert_eq!(f[0]["origin"]["summary"], "rotate to pk_fe…4d for now");

    // The same key committed in a file and quoted in the message: one finding, at the file.
    let mut r = Repo::new();
    r.write("k.env", &format!("K={KEY3}\n"));
    r.commit(&format!("add {KEY3}"));
    let (_, report, _) = history(&r.path, &[]);
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{report:#}");
    assert_eq!(f[0]["path"], "k.env");
    assert_eq!(f[0]["occurrence_count"], 2);
    assert_eq!(f[0]["occurrences"][0]["path"], "(commit message)");
    assert_eq!(f[0]["occurrences"][0]["location"], "commit-message");
    assert_eq!(f[0]["origin"]["summary"], "add pk_fe…4d");
    for format in ["text", "json", "jsonl"] {
        let out = pkhound()
            .args(["scan", "--history", "--format", format])
            .arg(&r.path)
            .output()
            .expect("runs");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(KEY3), "{format}: {all}");
        assert!(all.contains("pk_fe…4d"), "{format}: {all}");
    }
}

#[test]
fn shallow_clone_scans_what_exists_and_says_history_is_truncated() {
    let mut r = Repo::new();
    r.write("old.env", &format!("K={KEY1}\n"));
    r.commit("old");
    fs::remove_file(r.path.join("old.env")).expect("rm");
    r.write("new.env", &format!("K={KEY2}\n"));
    r.commit("new");
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("file://{}", r.path.display());
    git_in(
        dir.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
        0,
        "x",
        "x@x",
    );

    let (code, report, _) = history(&dir.path().join("shallow"), &[]);
    assert_eq!(code, 1);
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{report:#}");
    assert!(f[0]["redacted"].as_str().is_some_and(|s| s.starts_with("pk_b3")));
    let notices = report["notices"].to_string();
    assert!(notices.contains("shallow clone: history is truncated"), "{notices}");
}

/// Overwrites the loose object file of `oid` with bytes that do not inflate.
fn corrupt(repo: &Path, oid: &str) {
    let file = repo.join(".git/objects").join(&oid[..2]).join(&oid[2..]);
    let mut perms = fs::metadata(&file).expect("loose object exists").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    fs::set_permissions(&file, perms).expect("chmod");
    fs::write(&file, b"this is not zlib data").expect("overwrite");
}

#[test]
fn corrupt_object_is_an_error_naming_it_and_the_scan_goes_on() {
    let mut r = Repo::new();
    r.write("good.env", &format!("K={KEY1}\n"));
    r.write("broken.txt", "a file whose object will be damaged\n");
    let c = r.commit("two files");
    let blob = r.git(&["rev-parse", "HEAD:broken.txt"]).trim().to_string();
    corrupt(&r.path, &blob);

    let (code, report, stderr) = history(&r.path, &[]);
    assert_eq!(code, 1, "a finding still wins");
    assert_eq!(findings(&report).len(), 1);
    let errors = report["errors"].to_string();
    assert!(
        errors.contains(&blob) && errors.contains(&c) && errors.contains("broken.txt"),
        "{errors}"
    );
    assert!(stderr.contains(&blob), "{stderr}");

    // Nothing found and an object unreadable: exit 2.
    let mut r = Repo::new();
    r.write("broken.txt", "another damaged file\n");
    r.commit("one file");
    let blob = r.git(&["rev-parse", "HEAD:broken.txt"]).trim().to_string();
    corrupt(&r.path, &blob);
    let (code, report, _) = history(&r.path, &[]);
    assert_eq!(code, 2);
    assert!(report["errors"].to_string().contains(&blob));
}

#[test]
fn empty_repository_detached_head_and_submodule_do_not_fail() {
    let r = Repo::new();
    let (code, report, _) = history(&r.path, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert!(report["notices"].to_string().contains("no commits"));

    let mut r = Repo::new();
    r.write("a.env", &format!("K={KEY1}\n"));
    let c = r.commit("one");
    r.write("b.txt", "two\n");
    r.commit("two");
    r.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{c},vendor/lib"),
    ]);
    r.tick += 1;
    r.git(&["commit", "-q", "-m", "add submodule"]);
    r.git(&["checkout", "-q", "--detach", "HEAD~1"]);
    let (code, report, _) = history(&r.path, &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(findings(&report).len(), 1);
    assert!(report["notices"].to_string().contains("vendor/lib"), "{report:#}");
}

#[test]
fn bare_repository_is_scanned() {
    let mut r = Repo::new();
    r.write("x.env", &format!("K={KEY2}\n"));
    r.commit("one");
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("file://{}", r.path.display());
    git_in(dir.path(), &["clone", "-q", "--bare", &url, "bare.git"], 0, "x", "x@x");

    let (code, report, _) = history(&dir.path().join("bare.git"), &[]);
    assert_eq!(code, 1, "{report:#}");
    let f = findings(&report);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["in_head"], true);
}

#[test]
fn range_reports_only_what_its_commits_introduced() {
    let mut r = Repo::new();
    r.write("a.env", &format!("K={KEY1}\n"));
    r.commit("old key");
    let base = r.commit("base");
    r.write("a.env", &format!("# touched\nK={KEY1}\n"));
    r.write("b.env", &format!("K={KEY2}\n"));
    let pr = r.commit("pr");

    let (code, report, _) = history(&r.path, &["--range", &format!("{base}..HEAD")]);
    assert_eq!(code, 1);
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{report:#}");
    assert_eq!(f[0]["path"], "b.env");
    assert_eq!(f[0]["origin"]["commit"], pr.as_str());

    let (code, report, _) = history(&r.path, &["--range", "HEAD..HEAD"]);
    assert_eq!((code, findings(&report).len()), (0, 0));
}

#[test]
fn history_and_worktree_together() {
    let mut r = Repo::new();
    r.write("a.env", &format!("K={KEY1}\n"));
    r.commit("one");
    r.write("local.env", &format!("K={KEY2}\n"));

    let (code, report, _) = history(&r.path, &["--worktree"]);
    assert_eq!(code, 1);
    let kinds: Vec<&str> = findings(&report)
        .iter()
        .filter_map(|f| f["origin"]["kind"].as_str())
        .collect();
    // The committed key once (from history), the uncommitted one from the working tree.
    assert_eq!(kinds, ["commit", "file"], "{report:#}");
}

#[test]
fn linked_worktree_since_and_lfs_pointer() {
    let mut r = Repo::new();
    r.write("old.env", &format!("K={KEY1}\n"));
    r.commit("old key");
    r.write(
        "big.bin",
        "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n",
    );
    r.write("new.env", &format!("K={KEY2}\n"));
    r.commit("new key");
    let wt = r._dir.path().join("linked");
    let wt_arg = wt.to_string_lossy().into_owned();
    r.git(&["worktree", "add", "-q", "-b", "side", &wt_arg]);

    let (code, report, _) = history(&wt, &[]);
    assert_eq!(code, 1);
    assert_eq!(findings(&report).len(), 2, "{report:#}");
    assert!(report["notices"].to_string().contains("Git LFS pointer"), "{report:#}");

    // The fixed clock puts "old key" at 12:00:01 and "new key" at 12:00:02 (+01:00).
    let (code, report, _) = history(&r.path, &["--since", "2024-03-01T11:00:02Z"]);
    assert_eq!(code, 1);
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{report:#}");
    assert_eq!(f[0]["path"], "new.env");
    assert_eq!(report["stats"]["commits"], 1);
}

#[test]
fn base64_encoded_key_in_an_old_commit_is_found_on_its_line() {
    use base64::Engine as _;
    let mut r = Repo::new();
    let encoded = base64::engine::general_purpose::STANDARD.encode(KEY2);
    r.write(
        "secret.yaml",
        &format!("kind: Secret\ndata:\n  KLAVIYO_KEY: {encoded}\n"),
    );
    r.commit("add secret");
    fs::remove_file(r.path.join("secret.yaml")).expect("rm");
    r.commit("remove secret");

    let (code, report, _) = history(&r.path, &[]);
    assert_eq!(code, 1);
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{report:#}");
    assert_eq!(f[0]["encoding"], "base64");
    assert_eq!((f[0]["line"].as_u64(), f[0]["column"].as_u64()), (Some(3), Some(16)));
    assert_eq!(f[0]["in_head"], false);
    let text = report.to_string();
    assert!(!text.contains(KEY2) && !text.contains(&encoded[4..]), "{text}");
}

/// What a finding says about where and when, for comparing two scans of the same history.
fn provenance(report: &Value) -> Vec<String> {
    let mut v: Vec<String> = findings(report)
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}:{} in_head={} {}",
                f["fingerprint"],
                f["origin"]["commit"],
                f["path"],
                f["line"],
                f["column"],
                f["in_head"],
                f["occurrences"]
            )
        })
        .collect();
    v.sort();
    v
}

/// Blobs read straight from a pack (whole and as offset deltas against a cached base, in pack order) must
/// give exactly what libgit2 gives for the same history as loose objects.
#[test]
fn a_packed_history_with_delta_chains_reports_what_the_loose_one_does() {
    let mut r = Repo::new();
    // One file edited in many commits, so that repacking stores most versions as deltas; a key comes in
    // part way, moves within the file, and leaves; another sits in a second file on a branch.
    let mut body: Vec<String> = (0..400).map(|i| format!("setting_{i} = value number {i}")).collect();
    for i in 0..40 {
        body[(i * 7) % 400] = format!("setting_{i} = changed in commit {i}");
        if i == 12 {
            body.insert(200, format!("KLAVIYO_KEY = \"{KEY1}\""));
        }
        if i == 20 {
            let key = body.remove(200);
            body.insert(5, key);
        }
        if i == 30 {
            body.remove(5);
        }
        r.write("config/settings.py", &(body.join("\n") + "\n"));
        r.commit(&format!("edit {i}"));
    }
    r.git(&["checkout", "-q", "-b", "side"]);
    r.write("side.env", &format!("K={KEY2}\n"));
    r.commit("side key");
    r.git(&["checkout", "-q", "main"]);

    let (code, loose, _) = history(&r.path, &[]);
    assert_eq!(code, 1, "{loose:#}");
    let before = provenance(&loose);
    assert_eq!(before.len(), 2, "{before:#?}");

    r.git(&["repack", "-adfq", "--depth=50", "--window=50"]);
    r.git(&["prune-packed"]);
    let idx = fs::read_dir(r.path.join(".git/objects/pack"))
        .expect("pack dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .expect("a pack index");
    let listing = r.git(&["verify-pack", "-v", idx.to_str().expect("UTF-8 path")]);
    assert!(
        listing
            .lines()
            .filter(|l| l.contains(" blob ") && l.split_whitespace().count() > 5)
            .count()
            > 10,
        "the test needs deltified blobs: {listing}"
    );
    let (code, packed, _) = history(&r.path, &[]);
    assert_eq!(code, 1, "{packed:#}");
    assert_eq!(provenance(&packed), before);
    // The leak timeline reads HEAD's line through the packs too: the same spans and removal.
    let timeline = |v: &serde_json::Value| -> Vec<String> {
        let mut t: Vec<String> = v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| format!("{} {} {}", f["head_spans"], f["removed_in"], f["on_head_line"]))
            .collect();
        t.sort();
        t
    };
    assert_eq!(timeline(&packed), timeline(&loose));
    let removed = packed["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| !f["removed_in"].is_null())
        .count();
    assert_eq!(removed, 1, "the key left HEAD's line in commit 30: {packed:#}");
    assert_eq!(packed["stats"]["files"], loose["stats"]["files"]);
    assert_eq!(packed["stats"]["bytes"], loose["stats"]["bytes"]);
}

/// `PKHOUND_TRACE=1` prints one line per phase of a history scan on stderr (stdout stays the report), and
/// nothing without it. The history is a merge, repacked, so the walk reads its commits (two parents
/// included) from the pack: the key is still the branch commit's, not the merge's.
#[test]
fn trace_prints_each_history_phase_on_stderr_only_when_asked() {
    let mut r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "side"]);
    r.write("side.env", &format!("K={KEY1}\n"));
    let side = r.commit("side key");
    r.git(&["checkout", "-q", "main"]);
    r.write("main.txt", "other\n");
    r.commit("main work");
    r.git(&["merge", "-q", "--no-ff", "-m", "merge side", "side"]);
    r.git(&["repack", "-adq"]);
    r.git(&["prune-packed"]);

    let run = |trace: Option<&str>| {
        let mut cmd = pkhound();
        cmd.args(["scan", "--history", "--format", "json"]).arg(&r.path);
        if let Some(v) = trace {
            cmd.env("PKHOUND_TRACE", v);
        }
        let out = cmd.output().expect("pkhound runs");
        let report: Value = serde_json::from_slice(&out.stdout).expect("stdout is the JSON report");
        (
            out.status.code(),
            report,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, report, stderr) = run(Some("1"));
    assert_eq!(code, Some(1), "{report:#}");
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{report:#}");
    assert_eq!(f[0]["origin"]["commit"], side.as_str(), "{report:#}");
    for phase in ["commits", "trees", "blobs", "group", "timeline"] {
        assert!(
            stderr.lines().any(|l| {
                let mut w = l.split_whitespace();
                l.starts_with("pkhound trace: ") && w.nth(2) == Some(phase) && l.contains(" s wall")
            }),
            "no {phase} line: {stderr}"
        );
    }
    // The same finding without tracing (`exposed_until` is the scan's clock, so not compared).
    let key = |v: &Value| -> Vec<String> {
        findings(v)
            .iter()
            .map(|f| format!("{} {} {}", f["fingerprint"], f["origin"]["commit"], f["path"]))
            .collect()
    };
    for quiet in [Some("0"), None] {
        let (_, again, stderr) = run(quiet);
        assert!(!stderr.contains("pkhound trace"), "{quiet:?}: {stderr}");
        assert_eq!(key(&again), key(&report));
    }
}

/// Commits and trees read from a pack (in blocks, through each worker's tree memo) must give what
/// libgit2 gives for the same history as loose objects: a wide, deep tree edited in many commits (so the
/// pack spans many blocks and trees are deltas), a branch merged many commits after it forked (the
/// merge's second parent was compared long before), a rename, a symlink whose target holds a key, and a
/// submodule.
#[test]
fn a_packed_history_of_merges_renames_symlinks_and_submodules_reports_what_the_loose_one_does() {
    let mut r = Repo::new();
    let filler = |d: usize, f: usize, i: usize| -> String {
        (0..40)
            .map(|l| {
                format!(
                    "{d}-{f}-{l}: {:x}\n",
                    (d * 7919 + f * 104_729 + l * 31 + i).wrapping_mul(2_654_435_761)
                )
            })
            .collect()
    };
    for d in 0..24 {
        for f in 0..4 {
            r.write(&format!("pkg{d}/sub{}/file{f}.txt", d % 3), &filler(d, f, 0));
        }
    }
    let base = r.commit("tree");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("pkg5/sub2/deep/er/settings.env", &format!("K={KEY1}\n"));
    let branch_key = r.commit("feature: settings");
    r.git(&["checkout", "-q", "main"]);
    for i in 1..40 {
        let d = (i * 5) % 24;
        r.write(&format!("pkg{d}/sub{}/file{}.txt", d % 3, i % 4), &filler(d, i % 4, i));
        if i == 10 {
            r.write("config/app.env", &format!("K={KEY2}\n"));
        }
        if i == 20 {
            r.git(&["mv", "config/app.env", "config/renamed.env"]);
        }
        if i == 25 {
            std::os::unix::fs::symlink(format!("/keys/{KEY3}"), r.path.join("pkg1/link")).expect("symlink");
        }
        r.commit(&format!("edit {i}"));
    }
    // A gitlink goes in through the index alone (`add -A` would drop it: there is no such directory).
    r.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{base},vendor/lib"),
    ]);
    r.tick += 1;
    r.git(&["commit", "-q", "-m", "add submodule"]);
    r.tick += 1;
    r.git(&["merge", "-q", "--no-ff", "-m", "merge feature", "feature"]);
    r.git(&["branch", "-q", "-D", "feature"]);

    let (code, loose, _) = history(&r.path, &[]);
    assert_eq!(code, 1, "{loose:#}");
    let before = provenance(&loose);
    assert_eq!(before.len(), 3, "{before:#?}");
    let origin = |v: &Value, key: &str| -> String {
        findings(v)
            .iter()
            .find(|f| f["path"].as_str().is_some_and(|p| p.contains(key)))
            .map(|f| f["origin"]["commit"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    assert_eq!(origin(&loose, "settings.env"), branch_key, "{loose:#}");
    assert!(loose["notices"].to_string().contains("vendor/lib"), "{loose:#}");

    r.git(&["repack", "-adfq", "--depth=50", "--window=50"]);
    r.git(&["prune-packed"]);
    let pack = fs::read_dir(r.path.join(".git/objects/pack"))
        .expect("pack dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "pack"))
        .expect("a pack");
    let size = fs::metadata(&pack).expect("pack size").len();
    assert!(size > 64 << 10, "the pack must span many 4 KiB blocks: {size} bytes");
    let (code, packed, _) = history(&r.path, &[]);
    assert_eq!(code, 1, "{packed:#}");
    assert_eq!(provenance(&packed), before);
    assert_eq!(origin(&packed, "settings.env"), branch_key);
    assert_eq!(packed["notices"], loose["notices"]);
    assert_eq!(packed["errors"], loose["errors"]);
    let spans = |v: &Value| -> Vec<String> {
        let mut t: Vec<String> = findings(v)
            .iter()
            .map(|f| format!("{} {} {}", f["head_spans"], f["removed_in"], f["on_head_line"]))
            .collect();
        t.sort();
        t
    };
    assert_eq!(spans(&packed), spans(&loose));
}

/// A rule gated on a file's path (Rails' `config/master.key`, read whole) is found in every source that
/// knows the path: the tree, each commit that changed the file (an edit is rescanned whole, not around the
/// change), and the staged file; the same bytes under another name are not a master key.
#[test]
fn path_gated_rule_is_found_in_tree_history_and_staged() {
    const OLD: &str = "9c4e1b7a2f6d8e0c5a3b1f9e7d2c4a68"; // pkhound:allow
    const NEW: &str = "1b7a2f6d8e0c5a3b1f9e7d2c4a689c4e"; // pkhound:allow
    let mut r = Repo::new();
    r.write("README.md", "hello\n");
    r.write("notes/master.key.txt", &format!("{OLD}\n"));
    r.commit("init");
    r.write("config/master.key", &format!("{OLD}\n"));
    let added = r.commit("add master key");
    r.write("config/master.key", &format!("{NEW}\n"));
    let rotated = r.commit("rotate master key");

    let (code, report, _) = history(&r.path, &[]);
    assert_eq!(code, 1);
    let mut got: Vec<(String, String)> = findings(&report)
        .iter()
        .map(|f| {
            assert_eq!(f["rule_id"], "rails-master-key", "{report:#}");
            assert_eq!(f["path"], "config/master.key");
            (
                f["origin"]["commit"].as_str().unwrap_or("").to_string(),
                f["secret_redacted"].to_string(),
            )
        })
        .collect();
    got.sort();
    let mut want = vec![added.clone(), rotated.clone()];
    want.sort();
    assert_eq!(got.iter().map(|g| g.0.clone()).collect::<Vec<_>>(), want, "{report:#}");

    let (code, report, _) = scan_json(&r.path, &[]);
    assert_eq!(code, 1);
    assert_eq!(findings(&report).len(), 1, "{report:#}");
    assert_eq!(findings(&report)[0]["path"], "config/master.key");

    r.write("config/credentials/production.key", &format!("{OLD}\n"));
    r.git(&["add", "config/credentials/production.key"]);
    let (code, report, _) = scan_json(&r.path, &["--staged"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(findings(&report)[0]["path"], "config/credentials/production.key");
}
