//! `deploy/`: the Kubernetes Indexed Job and the GitHub Actions matrix run exactly the commands the
//! README's "Audit an organisation" section shows, shard as they say, and those commands work.

use std::{fs, path::Path, process::Command as Process};

use serde_norway::Value;

use crate::common::{git, TEST_KEY};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn yaml(path: &str) -> Value {
    let text = fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

/// The `pkhound` command lines of a script, in order.
fn pkhound_lines(script: &str) -> Vec<String> {
    script
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("pkhound "))
        .map(String::from)
        .collect()
}

/// The `sh` block of the README's audit section that follows the first mention of `file`.
fn readme_block_after(file: &str) -> Vec<String> {
    let readme = fs::read_to_string(root().join("README.md")).expect("README");
    let start = readme
        .find("### Audit an organisation")
        .expect("the README has the section");
    let section = &readme[start..];
    let end = section[4..]
        .find("\n## ")
        .or_else(|| section[4..].find("\n### "))
        .map_or(section.len(), |e| e + 4);
    let section = &section[..end];
    let at = section
        .find(file)
        .unwrap_or_else(|| panic!("the section mentions {file}"));
    let block = section[at..].split("```sh\n").nth(1).expect("a sh block follows");
    let block = block.split("```").next().expect("the block ends");
    pkhound_lines(block)
}

/// The shell script a container runs (`command: [/bin/sh, -c, SCRIPT]`).
fn container_script(job: &Value) -> String {
    let command = &job["spec"]["template"]["spec"]["containers"][0]["command"];
    let parts: Vec<&str> = command
        .as_sequence()
        .expect("command is a list")
        .iter()
        .map(|v| v.as_str().expect("string"))
        .collect();
    assert_eq!(parts[..2], ["/bin/sh", "-c"]);
    parts[2].to_string()
}

#[test]
fn the_kubernetes_jobs_run_the_readme_commands_and_shard_by_completion_index() {
    let audit = yaml("deploy/kubernetes/audit-job.yaml");
    let merge = yaml("deploy/kubernetes/merge-job.yaml");
    assert_eq!(audit["kind"], "Job");
    assert_eq!(audit["spec"]["completionMode"], "Indexed");
    let n = audit["spec"]["completions"].as_u64().expect("completions");
    assert_eq!(audit["spec"]["parallelism"].as_u64(), Some(n));
    let audit_script = container_script(&audit);
    let merge_script = container_script(&merge);
    assert!(
        audit_script.contains(&format!("--shard \"$JOB_COMPLETION_INDEX/{n}\"")),
        "{audit_script}"
    );
    let mut lines = pkhound_lines(&audit_script);
    lines.extend(pkhound_lines(&merge_script));
    assert_eq!(lines, readme_block_after("deploy/kubernetes/audit-job.yaml"));

    // And they work: every index of the job, then the merge, over an org built here.
    let dir = tempfile::tempdir().expect("temp dir");
    let repos = dir.path().join("repos");
    let reports = dir.path().join("reports");
    fs::create_dir_all(&reports).expect("mkdir");
    org(&repos);
    let local = |script: &str| {
        script
            .replace("/repos", &repos.display().to_string())
            .replace("/reports", &reports.display().to_string())
    };
    for i in 0..n {
        let status = sh(
            &local(&audit_script),
            &[("JOB_COMPLETION_INDEX", &i.to_string())],
            dir.path(),
        );
        assert_eq!(status, 0, "index {i}");
    }
    assert_eq!(sh(&local(&merge_script), &[], dir.path()), 1, "the org has findings");
    let merged: serde_json::Value =
        serde_json::from_slice(&fs::read(reports.join("audit.json")).expect("merged report")).expect("JSON");
    assert_eq!(merged["stats"]["repositories"], 3);
    assert_eq!(merged["findings"].as_array().expect("findings").len(), 1);
    assert!(fs::read_to_string(reports.join("audit.txt"))
        .expect("text")
        .contains("· 2 places"));
}

#[test]
fn the_github_workflow_runs_the_readme_commands_over_a_matrix_of_shards() {
    let wf = yaml("deploy/github/audit.yml");
    let jobs = &wf["jobs"];
    let shards: Vec<u64> = jobs["audit"]["strategy"]["matrix"]["shard"]
        .as_sequence()
        .expect("a shard matrix")
        .iter()
        .map(|v| v.as_u64().expect("a number"))
        .collect();
    let n = shards.len() as u64;
    assert_eq!(shards, (0..n).collect::<Vec<_>>());
    assert_eq!(jobs["merge"]["needs"], "audit");
    let scripts = |job: &str| -> String {
        jobs[job]["steps"]
            .as_sequence()
            .expect("steps")
            .iter()
            .filter_map(|s| s["run"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let audit_script = scripts("audit");
    let merge_script = scripts("merge");
    assert!(
        audit_script.contains(&format!("--shard \"${{{{ matrix.shard }}}}/{n}\"")),
        "{audit_script}"
    );
    let mut lines = pkhound_lines(&audit_script);
    lines.extend(pkhound_lines(&merge_script));
    assert_eq!(lines, readme_block_after("deploy/github/audit.yml"));
    // The shards' reports travel as artifacts the merge job collects.
    let uploads: Vec<&str> = jobs["audit"]["steps"]
        .as_sequence()
        .expect("steps")
        .iter()
        .filter(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact"))
        })
        .filter_map(|s| s["with"]["name"].as_str())
        .collect();
    assert_eq!(uploads, ["shard-${{ matrix.shard }}"]);
    let download = jobs["merge"]["steps"]
        .as_sequence()
        .expect("steps")
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/download-artifact"))
        })
        .expect("the merge job downloads the shards");
    assert_eq!(download["with"]["pattern"], "shard-*");
    assert_eq!(download["with"]["path"], "reports");

    // The pkhound commands work as written, the repositories already cloned at their `owner/name`.
    let dir = tempfile::tempdir().expect("temp dir");
    org(&dir.path().join("acme"));
    fs::write(dir.path().join("repos.txt"), "acme/api\nacme/web\nacme/tools\n").expect("write");
    fs::create_dir_all(dir.path().join("reports")).expect("mkdir");
    let pk: Vec<String> = pkhound_lines(&audit_script);
    for i in 0..n {
        for line in &pk {
            let line = line.replace("${{ matrix.shard }}", &i.to_string());
            assert_eq!(sh(&line, &[], dir.path()), 0, "{line}");
        }
        fs::rename(
            dir.path().join(format!("shard-{i}.json")),
            dir.path().join(format!("reports/shard-{i}.json")),
        )
        .expect("the shard wrote its report");
    }
    let merge_lines = pkhound_lines(&merge_script);
    assert_eq!(sh(&merge_lines[0], &[], dir.path()), 0);
    let merged: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("audit.json")).expect("merged")).expect("JSON");
    assert_eq!(merged["stats"]["repositories"], 3);
    assert_eq!(
        sh(&merge_lines[1], &[], dir.path()),
        1,
        "the text merge fails on the finding"
    );
}

/// Three repositories under `dir`, a key shared by two.
fn org(dir: &Path) {
    for (name, file) in [("api", Some(".env")), ("web", Some("conf.py")), ("tools", None)] {
        let path = dir.join(name);
        fs::create_dir_all(&path).expect("mkdir");
        git(&path, &["init", "-q"]);
        if let Some(file) = file {
            fs::write(path.join(file), "KEY=pk_a4c123b1612dd272d1371c17149d439536\n").expect("write");
            // pkhound:allow
        }
        git(&path, &["add", "-A"]);
        git(&path, &["commit", "-q", "--allow-empty", "-m", "init"]);
    }
}

/// Runs `script` with `sh -c`, the built pkhound first on PATH; returns the exit code.
fn sh(script: &str, env: &[(&str, &str)], dir: &Path) -> i32 {
    let bin = assert_cmd::cargo::cargo_bin("pkhound");
    let bin_dir = bin.parent().expect("the binary has a directory");
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = Process::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("PATH", path)
        .env("CI", "true")
        .env("PKHOUND_FINGERPRINT_KEY", TEST_KEY)
        .envs(env.iter().copied())
        .output()
        .expect("sh runs");
    let code = out.status.code().expect("exit code");
    if !matches!(code, 0 | 1) {
        eprintln!("{script}\n{}", String::from_utf8_lossy(&out.stderr));
    }
    code
}
