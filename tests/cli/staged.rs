//! `scan --staged`: repositories built at test time; only secrets on lines the commit adds may block.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use tempfile::TempDir;

use crate::common::*;

const KEY: &str = "pk_a4c123b1612dd272d1371c17149d439536";
const KEY2: &str = "pk_b3216fdaeeb975729fae923d5a4fd12aab";
const STRIPE: &str = "pk_live_qhEvveQzE2QPuwNOvpdf2YEe";

/// A throw-away repository driven with the git CLI, deterministic and independent of the user's config.
struct Repo {
    dir: TempDir,
}

impl Repo {
    fn new() -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("git");
        cmd.current_dir(self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            // A missing file, not /dev/null: the user's config must play no part either way.
            .env("GIT_CONFIG_GLOBAL", self.path().join(".git/no-such-gitconfig"))
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z")
            .args(["-c", "commit.gpgsign=false", "-c", "core.autocrlf=false"]);
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("git runs")
    }

    fn git(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn write(&self, rel: impl AsRef<Path>, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path().join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(&p, content).expect("write");
        p
    }

    fn commit(&self, msg: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
    }

    /// `pkhound scan --staged` run from the repository's root: (exit code, stdout, stderr).
    fn staged(&self, extra: &[&str]) -> (i32, String, String) {
        let out = pkhound()
            .current_dir(self.path())
            .args(["scan", "--staged"])
            .args(extra)
            .output()
            .expect("pkhound runs");
        (
            out.status.code().expect("exit code"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The `path:line` of each blocking line pkhound printed.
    fn blocked(&self) -> Vec<String> {
        let (code, out, err) = self.staged(&[]);
        assert!(!out.contains(KEY) && !out.contains(KEY2), "raw key printed: {out}");
        assert_eq!(code == 1, !out.is_empty(), "exit {code} with output {out:?} / {err:?}");
        assert!(code == 0 || code == 1, "exit {code}: {err}");
        // The finding lines, between the header and the ways forward.
        out.lines()
            .skip(1)
            .take_while(|l| *l != "To go on, one of:")
            .map(|l| {
                let mut parts = l.splitn(3, ':');
                format!("{}:{}", parts.next().unwrap_or(""), parts.next().unwrap_or(""))
            })
            .collect()
    }
}

fn lines(n: usize) -> String {
    (1..=n).map(|i| format!("line_{i} = {i}\n")).collect()
}

#[test]
fn first_commit_with_a_key_is_blocked_with_one_line_and_the_advice() {
    let repo = Repo::new();
    repo.write("config/settings.py", format!("DEBUG = False\nKLAVIYO = '{KEY}'\n"));
    repo.git(&["add", "-A"]);
    let (code, out, err) = repo.staged(&[]);
    assert_eq!(code, 1, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "pkhound blocked this commit: 1 secret", "{out}");
    let line = lines[1];
    assert!(line.starts_with("config/settings.py:2: klaviyo-private-key "), "{line}");
    assert!(line.contains("pk_a4…36"), "{line}");
    assert_eq!(
        out.matches("klaviyo-private-key").count(),
        1,
        "one line per finding: {out}"
    );
    for advice in [
        "environment",
        "secrets manager",
        "rotate",
        "pkhound:allow",
        "--baseline-out",
        "git commit --no-verify",
    ] {
        assert_eq!(out.matches(advice).count(), 1, "{advice} once: {out}");
    }
    assert!(!out.contains(KEY) && err.is_empty());
}

#[test]
fn clean_change_prints_nothing_and_exits_zero() {
    let repo = Repo::new();
    repo.write("README", "hello\n");
    repo.commit("init");
    repo.write(
        "db/schema.sql",
        format!("ALTER TABLE users ADD CONSTRAINT pk_users PRIMARY KEY (id);\nSTRIPE = '{STRIPE}'\n"),
    );
    repo.git(&["add", "-A"]);
    pkhound()
        .current_dir(repo.path())
        .args(["scan", "--staged"])
        .assert()
        .code(0)
        .stdout("")
        .stderr("");
}

#[test]
fn nothing_staged_is_clean_even_with_keys_in_the_tree() {
    let repo = Repo::new();
    repo.write("a.env", format!("K={KEY}\n"));
    repo.commit("old key");
    repo.write("b.env", format!("K={KEY2}\n")); // untracked, not staged
    assert!(repo.blocked().is_empty());
}

#[test]
fn key_already_committed_and_untouched_does_not_block_a_change_beside_it() {
    let repo = Repo::new();
    repo.write("settings.py", format!("A = 1\nKEY = '{KEY}'\nB = 2\n"));
    repo.commit("old key");
    repo.write("settings.py", format!("A = 1\nKEY = '{KEY}'\nB = 3\nC = 4\n"));
    repo.git(&["add", "-A"]);
    assert!(repo.blocked().is_empty());
    // A new key in the same file blocks, on its own line only.
    repo.write("settings.py", format!("A = 1\nKEY = '{KEY}'\nB = 3\nKEY2 = '{KEY2}'\n"));
    repo.git(&["add", "-A"]);
    assert_eq!(repo.blocked(), ["settings.py:4"]);
}

/// A file long enough to be scanned only around its added lines: an old key far from them, or right
/// beside them, never blocks; a new key, plain or base64-encoded, blocks on its own line.
#[test]
fn a_long_file_is_judged_by_its_added_lines_wherever_its_old_key_sits() {
    let repo = Repo::new();
    let body = lines(400);
    let old = format!("A = 1\nKEY = '{KEY}'\n{body}");
    repo.write("settings.py", &old);
    repo.commit("old key");
    // A clean line at the end, far from the old key; then one right below it.
    repo.write("settings.py", format!("{old}extra = 1\n"));
    repo.git(&["add", "-A"]);
    assert!(repo.blocked().is_empty());
    repo.write("settings.py", format!("A = 1\nKEY = '{KEY}'\nnext = 2\n{body}"));
    repo.git(&["add", "-A"]);
    assert!(repo.blocked().is_empty());
    // A new key beside the old one, and one at the far end, each on its own line.
    repo.write(
        "settings.py",
        format!("A = 1\nKEY = '{KEY}'\nKEY2 = '{KEY2}'\n{body}TAIL = '{KEY2}'\n"),
    );
    repo.git(&["add", "-A"]);
    assert_eq!(repo.blocked(), ["settings.py:3", "settings.py:404"]);
    // The key base64-encoded on an added line.
    repo.write(
        "settings.py",
        format!("{old}ENCODED = \"cGtfYTRjMTIzYjE2MTJkZDI3MmQxMzcxYzE3MTQ5ZDQzOTUzNg==\"\n"),
    );
    repo.git(&["add", "-A"]);
    assert_eq!(repo.blocked(), ["settings.py:403"]);
}

#[test]
fn a_line_that_only_removes_a_key_does_not_block() {
    let repo = Repo::new();
    repo.write("settings.py", format!("A = 1\nKEY = '{KEY}'\nB = 2\n"));
    repo.commit("old key");
    repo.write("settings.py", "A = 1\nB = 2\n");
    repo.git(&["add", "-A"]);
    assert!(repo.blocked().is_empty());
}

#[test]
fn a_changed_line_that_keeps_a_key_blocks() {
    // Editing the line re-adds it: git records a new line holding the key.
    let repo = Repo::new();
    repo.write("settings.py", format!("KEY = '{KEY}'\n"));
    repo.commit("old key");
    repo.write("settings.py", format!("KEY = \"{KEY}\"  # quoted differently\n"));
    repo.git(&["add", "-A"]);
    assert_eq!(repo.blocked(), ["settings.py:1"]);
}

#[test]
fn deleted_file_with_a_key_does_not_block() {
    let repo = Repo::new();
    repo.write("old.env", format!("K={KEY}\n"));
    repo.write("keep.txt", "x\n");
    repo.commit("old key");
    repo.git(&["rm", "-q", "old.env"]);
    assert!(repo.blocked().is_empty());
}

#[test]
fn renamed_file_keeps_its_history() {
    let repo = Repo::new();
    let body = format!("{}KEY = '{KEY}'\n{}", lines(10), lines(10));
    repo.write("config/old_name.py", &body);
    repo.commit("old key");
    repo.git(&["mv", "config/old_name.py", "config/new name.py"]);
    assert!(repo.blocked().is_empty(), "a pure rename adds nothing");
    // Renamed and edited elsewhere: still not a new key.
    repo.write("config/new name.py", format!("{body}extra = 1\n"));
    repo.git(&["add", "-A"]);
    assert!(repo.blocked().is_empty(), "rename with an edit");
    // Renamed and given a new key: blocks under the new name, at its line in the staged file.
    repo.write("config/new name.py", format!("{body}KEY2 = '{KEY2}'\n"));
    repo.git(&["add", "-A"]);
    assert_eq!(repo.blocked(), ["config/new name.py:22"]);
}

#[test]
fn moved_directory_keeps_its_history() {
    let repo = Repo::new();
    repo.write("conf/keys.py", format!("{}KEY = '{KEY}'\n", lines(10)));
    repo.write("conf/other.py", lines(3));
    repo.write("README", "x\n");
    repo.commit("old key");
    repo.git(&["mv", "conf", "settings"]);
    assert!(repo.blocked().is_empty(), "a moved directory adds nothing");
    // The same after a commit, when the index carries git's cache-tree (pkhound's fast path).
    repo.git(&["reset", "-q", "--hard"]);
    repo.git(&["status", "--short"]);
    repo.git(&["mv", "conf", "settings"]);
    assert!(repo.blocked().is_empty(), "a moved directory adds nothing");
}

#[test]
fn index_version_4_and_split_index() {
    let repo = Repo::new();
    repo.write("src/app/main.py", lines(3));
    repo.write("src/app/util.py", format!("OLD = '{KEY}'\n"));
    repo.commit("init");
    // Version 4 compresses paths in the index (pkhound reads it itself).
    repo.git(&["update-index", "--index-version", "4"]);
    repo.write("src/app/util.py", format!("OLD = '{KEY}'\nNEW = '{KEY2}'\n"));
    repo.write("src/app/new file.py", "clean = 1\n");
    repo.git(&["add", "-A"]);
    assert_eq!(repo.blocked(), ["src/app/util.py:2"]);
    // A split index (core.splitIndex) is read neither by pkhound nor by libgit2: a clear error, exit 2.
    repo.git(&["update-index", "--split-index"]);
    let (code, out, err) = repo.staged(&[]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("split index is not supported"), "{err}");
}

/// See: issue 15 — a key embedded as text in a binary file is found in the index as on disk; an image
/// is skipped.
#[test]
fn binary_files_are_scanned_as_bytes_and_images_skipped() {
    let repo = Repo::new();
    let mut bytes = vec![0u8, 1, 2, 3, 0, 0];
    bytes.extend_from_slice(format!("\nK={KEY}\n").as_bytes());
    repo.write("blob.bin", bytes.clone());
    repo.git(&["add", "-A"]);
    assert_eq!(repo.blocked(), ["blob.bin:2"]);
    repo.git(&["rm", "-q", "--cached", "blob.bin"]);
    let mut png = b"\x89PNG\r\n\x1a\n\0\0".to_vec();
    png.extend_from_slice(&bytes);
    repo.write("logo.png", png);
    repo.git(&["add", "logo.png"]);
    assert!(repo.blocked().is_empty());
    let (code, report, _) = {
        let out = pkhound()
            .current_dir(repo.path())
            .args(["scan", "--staged", "--format", "json"])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), v, ())
    };
    assert_eq!(code, Some(0));
    assert_eq!(report["stats"]["skipped_binary"], 1);
}

#[test]
fn utf16_files_are_decoded_and_their_added_lines_found() {
    let repo = Repo::new();
    let text = format!("a = 1\nkey = {KEY}\n");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    repo.write("win.ini", bytes);
    repo.git(&["add", "-A"]);
    assert_eq!(repo.blocked(), ["win.ini:2"]);
}

#[test]
fn names_with_spaces_and_non_utf8_bytes() {
    use std::{ffi::OsStr, os::unix::ffi::OsStrExt};
    let repo = Repo::new();
    repo.write("my config/app settings.env", format!("K={KEY}\n"));
    repo.write(OsStr::from_bytes(b"caf\xe9.env"), format!("\nK={KEY2}\n"));
    repo.git(&["add", "-A"]);
    assert_eq!(repo.blocked(), ["caf\u{FFFD}.env:2", "my config/app settings.env:1"]);
}

#[test]
fn partial_staging_scans_the_index_not_the_work_tree() {
    let repo = Repo::new();
    repo.write("app.py", lines(5));
    repo.commit("init");

    // The key is staged, then removed from the work tree (and lines added above it): the commit still
    // records it, at its line in the index.
    repo.write("app.py", format!("{}KEY = '{KEY}'\n", lines(5)));
    repo.git(&["add", "app.py"]);
    repo.write("app.py", format!("{}{}", lines(3), lines(5)));
    assert_eq!(repo.blocked(), ["app.py:6"]);

    // The reverse: a clean line staged, a key only in the work tree.
    repo.write("app.py", format!("{}clean = 1\n", lines(5)));
    repo.git(&["add", "app.py"]);
    repo.write("app.py", format!("{}clean = 1\nKEY = '{KEY}'\n", lines(5)));
    assert!(repo.blocked().is_empty());
}

#[test]
fn one_hunk_of_two_staged_with_git_apply_cached() {
    let repo = Repo::new();
    repo.write("app.py", lines(30));
    repo.commit("init");
    // Two hunks far apart: a key near the top, a clean edit near the bottom.
    let edited = lines(30)
        .replace("line_2 = 2\n", &format!("line_2 = '{KEY}'\n"))
        .replace("line_28 = 28\n", "line_28 = 'changed'\n");
    repo.write("app.py", &edited);
    let patch = repo.git(&["diff", "app.py"]);
    let first_hunk = patch.find("\n@@").expect("a hunk") + 1;
    let second_hunk = patch[first_hunk + 2..].find("\n@@").expect("two hunks") + first_hunk + 3;
    let header = &patch[..first_hunk];
    let key_hunk = format!("{header}{}", &patch[first_hunk..second_hunk]);
    let clean_hunk = format!("{header}{}", &patch[second_hunk..]);
    assert!(key_hunk.contains(KEY) && !clean_hunk.contains(KEY));

    let apply_cached = |p: &str| {
        let file = repo.write(".git/partial.patch", p);
        repo.git(&["apply", "--cached", file.to_str().unwrap()]);
    };
    apply_cached(&clean_hunk);
    assert!(repo.blocked().is_empty(), "only the clean hunk is staged");
    apply_cached(&key_hunk);
    assert_eq!(repo.blocked(), ["app.py:2"]);
}

#[test]
fn inline_allow_and_pkhoundignore_are_honoured() {
    let repo = Repo::new();
    repo.write("docs/example.md", format!("K={KEY} <!-- pkhound:allow -->\n"));
    repo.write(".pkhoundignore", "/fixtures/\n");
    repo.write("fixtures/keys.env", format!("K={KEY}\n"));
    repo.write("src/.pkhoundignore", "*.snap\n");
    repo.write("src/deep/out.snap", format!("K={KEY}\n"));
    repo.git(&["add", "-A"]);
    assert!(repo.blocked().is_empty());
    let (code, _, _) = repo.staged(&["--no-ignore"]);
    assert_eq!(code, 1);
}

#[test]
fn path_inside_the_repository_and_json_origin() {
    let repo = Repo::new();
    repo.write("sub/dir/a.env", format!("K={KEY}\n"));
    repo.git(&["add", "-A"]);
    // Run from elsewhere with PATH pointing into the repository (a file or a directory).
    for target in [repo.path().join("sub/dir"), repo.path().join("sub/dir/a.env")] {
        let (code, report, err) = scan_json(&target, &["--staged"]);
        assert_eq!(code, 1, "{err}");
        assert_eq!(
            places(&report),
            [("sub/dir/a.env".to_string(), 1, 3, "klaviyo-private-key".to_string())]
        );
        assert_eq!(report["findings"][0]["origin"]["kind"], "staged");
    }
}

#[test]
fn outside_a_repository_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = pkhound()
        .args(["scan", "--staged"])
        .arg(dir.path())
        .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not inside a git repository"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn staged_rejects_stdin_and_several_paths() {
    pkhound().args(["scan", "--staged", "-"]).assert().code(2);
    pkhound().args(["scan", "--staged", "a", "b"]).assert().code(2);
}

#[test]
fn plain_git_hook_blocks_git_commit_a() {
    // The README's .git/hooks/pre-commit one-liner, with `git commit -a`, which hands the hook a
    // temporary index through $GIT_INDEX_FILE.
    let repo = Repo::new();
    repo.write("settings.py", "A = 1\n");
    repo.commit("init");
    let bin = assert_cmd::cargo::cargo_bin("pkhound");
    let hook = repo.write(
        ".git/hooks/pre-commit",
        format!("#!/bin/sh\nexec '{}' scan --staged\n", bin.display()),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let head = repo.git(&["rev-parse", "HEAD"]);

    repo.write("settings.py", format!("A = 1\nKEY = '{KEY}'\n"));
    let out = repo.run(&["commit", "-a", "-q", "-m", "leak"]);
    assert!(!out.status.success(), "the hook must block");
    let shown = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(shown.contains("settings.py:2: klaviyo-private-key"), "{shown}");
    assert!(!shown.contains(KEY));
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head);

    repo.write("settings.py", "A = 2\n");
    let out = repo.run(&["commit", "-a", "-q", "-m", "clean"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

#[test]
fn an_added_base64_encoded_key_blocks_and_an_old_one_does_not() {
    let repo = Repo::new();
    repo.write("k8s/secret.yaml", format!("data:\n  OLD: {}\n", b64(KEY)));
    repo.commit("old secret");
    repo.write(
        "k8s/secret.yaml",
        format!("data:\n  OLD: {}\n  NEW: {}\n", b64(KEY), b64(KEY2)),
    );
    repo.git(&["add", "-A"]);
    assert_eq!(repo.blocked(), vec!["k8s/secret.yaml:3"]);
    let (_, out, _) = repo.staged(&[]);
    assert!(!out.contains(&b64(KEY2)[4..]), "{out}");
}

/// See: issue 15 — an archive in the index is opened as in a tree scan: a key in a staged `.jar` or in
/// a zip inside a `.tar.gz` blocks, named `path!member`; a rebuilt archive that keeps an old key and
/// adds none does not; `--no-archives` passes archives over.
#[test]
fn staged_archives_are_opened_and_only_new_keys_block() {
    use crate::archives::{gzip, tar_of, zip_of};
    let repo = Repo::new();
    let jar = |members: &[(&str, &[u8])]| zip_of(members);
    let old_jar = jar(&[("com/x/Config.properties", format!("klaviyo.key={KEY}\n").as_bytes())]);
    repo.write("libs/app.jar", &old_jar);
    repo.write("README", "docs\n");
    repo.commit("jar with an old key");

    // Rebuilt with one more clean member: the old key is not added by this commit.
    let rebuilt = jar(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ("com/x/Config.properties", format!("klaviyo.key={KEY}\n").as_bytes()),
    ]);
    repo.write("libs/app.jar", &rebuilt);
    repo.git(&["add", "-A"]);
    assert!(repo.blocked().is_empty());

    // A new key in the jar, and a zip inside a new tar.gz.
    let with_new = jar(&[
        ("com/x/Config.properties", format!("klaviyo.key={KEY}\n").as_bytes()),
        ("com/x/Other.properties", format!("\n\nother.key={KEY2}\n").as_bytes()),
    ]);
    repo.write("libs/app.jar", &with_new);
    let inner = zip_of(&[("config/.env", format!("KLAVIYO_KEY={KEY2}\n").as_bytes())]);
    repo.write("dist/site.tar.gz", gzip(&tar_of(&[("lib/inner.zip", &inner)])));
    repo.git(&["add", "-A"]);
    assert_eq!(
        repo.blocked(),
        [
            "dist/site.tar.gz!lib/inner.zip!config/.env:1",
            "libs/app.jar!com/x/Other.properties:3"
        ]
    );
    let (code, out, _) = repo.staged(&["--no-archives"]);
    assert_eq!((code, out.as_str()), (0, ""));
}

/// See: issue 15 — a zip bomb and a too-deep archive in the index are errors naming the member (exit
/// 2), and a key beside them still blocks.
#[test]
fn staged_archive_bombs_and_deep_nesting_are_errors() {
    use crate::archives::{gzip_of_zeros, zip_of};
    let repo = Repo::new();
    repo.write("README", "docs\n");
    repo.commit("start");
    let mut header = tar::Header::new_gnu();
    header.set_path("zeros.bin").unwrap();
    header.set_size(1 << 30);
    header.set_mode(0o644);
    header.set_cksum();
    repo.write("vendor/zeros.tar.gz", gzip_of_zeros(header.as_bytes(), 1 << 30));
    let mut deep = zip_of(&[("bottom.env", format!("K={KEY}\n").as_bytes())]);
    for i in 0..6 {
        deep = zip_of(&[(&format!("level{i}.zip"), &deep[..])]);
    }
    repo.write("vendor/deep.zip", deep);
    repo.git(&["add", "-A"]);
    let out = pkhound()
        .current_dir(repo.path())
        .args(["scan", "--staged", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<(&str, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["path"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [
            ("limit", "vendor/deep.zip!level5.zip!level4.zip!level3.zip!level2.zip"),
            ("limit", "vendor/zeros.tar.gz"),
        ]
    );
    assert_eq!(report["findings"].as_array().unwrap().len(), 0);

    repo.write("app/.env", format!("K={KEY2}\n"));
    repo.git(&["add", "-A"]);
    let out = pkhound()
        .current_dir(repo.path())
        .args(["scan", "--staged", "--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"][0]["path"], "app/.env");
    assert_eq!(report["errors"].as_array().unwrap().len(), 2);
}
