//! Never say "clean" when it isn't (issue 12): damaged repositories, refs to nothing, and objects only
//! tags reach. Every object that cannot be read is an error naming it, the walk goes on around it, and a
//! scan with holes never exits 0.

use std::{fs, path::Path, process::Command as Process};

use serde_json::Value;

use crate::history::{history, Repo};

/// Five keys, one new file per commit: each commit's tree still holds every earlier key.
const KEYS: [&str; 5] = [
    "pk_a4c123b1612dd272d1371c17149d439536", // pkhound:allow
    "pk_b3216fdaeeb975729fae923d5a4fd12aab", // pkhound:allow
    "pk_fe228f219e9cb0eb53f16947ccf25ec84d", // pkhound:allow
    "pk_8dbc74254770f58904dba41ecccc3fc162", // pkhound:allow
    "pk_856403284f13fbb876cb4d064abc227eff", // pkhound:allow
];

fn five_commits() -> (Repo, Vec<String>) {
    let mut r = Repo::new();
    let mut shas = Vec::new();
    for (i, k) in KEYS.iter().enumerate() {
        r.write(&format!("k{i}.env"), &format!("KEY={k}\n"));
        shas.push(r.commit(&format!("key {i}")));
    }
    (r, shas)
}

fn secrets(report: &Value) -> Vec<String> {
    let mut v: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["secret"].as_str().map(str::to_string))
        .collect();
    v.sort();
    v
}

fn errors(report: &Value) -> String {
    report["errors"].to_string()
}

fn loose(repo: &Path, oid: &str) -> std::path::PathBuf {
    repo.join(".git/objects").join(&oid[..2]).join(&oid[2..])
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Process::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// See: issue 12 — one missing loose commit in the middle aborted the whole walk (0 of 5 findings).
#[test]
fn a_missing_commit_in_the_middle_is_an_error_and_the_walk_goes_on() {
    let (r, shas) = five_commits();
    fs::remove_file(loose(&r.path, &shas[2])).expect("remove commit object");
    let (code, report, stderr) = history(&r.path, &["--show-secrets"]);
    assert_eq!(code, 1, "{stderr}");
    let mut all: Vec<String> = KEYS.iter().map(|k| k.to_string()).collect();
    all.sort();
    assert_eq!(secrets(&report), all, "every key is still in a readable tree");
    assert!(errors(&report).contains(&shas[2]), "{}", errors(&report));
    assert!(stderr.contains(&shas[2]), "{stderr}");
}

/// See: issue 12 — a repository whose only ref points to a missing commit was "empty", exit 0.
#[test]
fn a_ref_to_a_missing_commit_is_not_an_empty_repository() {
    let mut r = Repo::new();
    r.write("a.txt", "a\n");
    let c = r.commit("one");
    fs::remove_file(loose(&r.path, &c)).expect("remove commit object");
    let (code, report, _) = history(&r.path, &[]);
    assert_eq!(code, 2, "{report:#}");
    let e = errors(&report);
    assert!(e.contains(&c) && e.contains("refs/heads/main"), "{e}");
    assert!(!report["notices"].to_string().contains("empty"), "{report:#}");
}

/// Packs the repository and returns (offset, size in pack) of `oid` from `git verify-pack -v`.
fn packed(r: &mut Repo, oid: &str) -> (std::path::PathBuf, u64, u64) {
    r.git(&["repack", "-adq"]);
    r.git(&["prune-packed"]);
    let pack_dir = r.path.join(".git/objects/pack");
    let idx = fs::read_dir(&pack_dir)
        .expect("pack dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .expect("an index");
    let listing = git(&r.path, &["verify-pack", "-v", idx.to_str().expect("UTF-8")]);
    let line = listing
        .lines()
        .find(|l| l.starts_with(oid))
        .unwrap_or_else(|| panic!("{oid} in {listing}"));
    // sha type size size-in-pack offset
    let f: Vec<&str> = line.split_whitespace().collect();
    let (size, offset) = (f[3].parse().expect("size"), f[4].parse().expect("offset"));
    (idx.with_extension("pack"), offset, size)
}

fn xor(file: &Path, at: u64, n: u64) {
    let mut bytes = fs::read(file).expect("read pack");
    #[allow(clippy::permissions_set_readonly_false)]
    {
        let mut perms = fs::metadata(file).expect("meta").permissions();
        perms.set_readonly(false);
        fs::set_permissions(file, perms).expect("chmod");
    }
    for i in at..at + n {
        if let Some(b) = bytes.get_mut(i as usize) {
            *b ^= 0x5A;
        }
    }
    fs::write(file, bytes).expect("write pack");
}

/// See: issue 12 — XOR a few bytes inside the packed commit object: "no secrets found", exit 0.
#[test]
fn a_damaged_packed_commit_is_an_error() {
    let (mut r, shas) = five_commits();
    let (pack, offset, size) = packed(&mut r, &shas[4]);
    xor(&pack, offset + size / 2, 3);
    let (code, report, _) = history(&r.path, &["--show-secrets"]);
    assert_ne!(code, 0, "{report:#}");
    assert!(errors(&report).contains(&shas[4]), "{}", errors(&report));
}

/// See: issue 12 — garbled bytes inside packed blobs lost findings with `errors: []`.
#[test]
fn a_damaged_packed_blob_is_an_error() {
    let (mut r, _) = five_commits();
    let blob = r.git(&["rev-parse", "HEAD:k1.env"]).trim().to_string();
    let (pack, offset, size) = packed(&mut r, &blob);
    xor(&pack, offset + size - 6, 4);
    let (code, report, _) = history(&r.path, &["--show-secrets"]);
    assert_eq!(code, 1);
    assert!(errors(&report).contains(&blob), "{}", errors(&report));
    assert_eq!(secrets(&report).len(), 4, "{report:#}");
}

/// See: issue 12 — `truncate -s 50%` on the pack: "the repository is empty", exit 0.
#[test]
fn a_truncated_pack_is_an_error() {
    let (mut r, shas) = five_commits();
    let (pack, _, _) = packed(&mut r, &shas[0]);
    let len = fs::metadata(&pack).expect("pack").len();
    let f = fs::OpenOptions::new().write(true).open(&pack).expect("open pack");
    f.set_len(len / 2).expect("truncate");
    let (code, report, _) = history(&r.path, &[]);
    assert_ne!(code, 0, "{report:#}");
    assert!(!report["errors"].as_array().expect("errors").is_empty(), "{report:#}");
}

/// See: issue 12 — annotated tag messages were not scanned; blobs and trees only a tag reaches were not.
#[test]
fn tag_messages_and_objects_only_tags_reach_are_scanned() {
    let mut r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("one");
    r.git(&["tag", "-a", "v1", "-m", &format!("release; key {}", KEYS[0])]);
    // A blob and a tree no commit holds, each reachable from a tag only.
    fs::write(r.path.join("loose.env"), format!("KEY={}\n", KEYS[1])).expect("write");
    let blob = r.git(&["hash-object", "-w", "loose.env"]).trim().to_string();
    r.git(&["tag", "blob-tag", &blob]);
    fs::remove_file(r.path.join("loose.env")).expect("rm");
    let blob2 = {
        fs::write(r.path.join("t.env"), format!("KEY={}\n", KEYS[2])).expect("write");
        let b = r.git(&["hash-object", "-w", "t.env"]).trim().to_string();
        fs::remove_file(r.path.join("t.env")).expect("rm");
        b
    };
    let tree = {
        let out = Process::new("git")
            .current_dir(&r.path)
            .args(["mktree"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin
                    .take()
                    .expect("stdin")
                    .write_all(format!("100644 blob {blob2}\tconfig.env\n").as_bytes())?;
                c.wait_with_output()
            })
            .expect("mktree");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    r.git(&["tag", "tree-tag", &tree]);

    let (code, report, _) = history(&r.path, &["--show-secrets"]);
    assert_eq!(code, 1, "{report:#}");
    let mut want: Vec<String> = KEYS[..3].iter().map(|k| k.to_string()).collect();
    want.sort();
    assert_eq!(secrets(&report), want, "{report:#}");
    let paths = report["findings"].to_string();
    assert!(paths.contains("refs/tags/v1 (tag message)"), "{paths}");
    assert!(paths.contains("refs/tags/tree-tag:config.env"), "{paths}");
    assert!(paths.contains("refs/tags/blob-tag"), "{paths}");
}
