//! Embeds every `rules/*.toml` file into the binary, so a new rule file needs no code change; and names
//! the build in `--version`: the git commit when built from a checkout (nothing otherwise: a crate from
//! crates.io or a source archive has none) and the number of built-in rules.

use std::{env, fs, path::Path, process::Command};

/// The commit of the checkout being built (`abc123456`), or `None` outside a git checkout
/// or without git.
fn git_commit(dir: &Path) -> Option<String> {
    let run = |args: &[&str]| {
        Command::new("git")
            .current_dir(dir)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    // Only the checkout this crate is the top of: a crate unpacked inside another repository is not it.
    let top = run(&["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    run(&["rev-parse", "--short=9", "HEAD"])
}

fn main() {
    let manifest = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let rules_dir = Path::new(&manifest).join("rules");
    println!("cargo:rerun-if-changed={}", rules_dir.display());

    let mut files: Vec<_> = fs::read_dir(&rules_dir)
        .expect("the rules/ directory ships with the crate")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();

    let mut rule_count = 0usize;
    for path in &files {
        let text = fs::read_to_string(path).expect("rule files are UTF-8");
        rule_count += text.lines().filter(|l| l.trim() == "[[rule]]").count();
    }
    let commit = git_commit(Path::new(&manifest));
    let version = env::var("CARGO_PKG_VERSION").expect("cargo sets CARGO_PKG_VERSION");
    let long = match &commit {
        Some(c) => format!("{version} (commit {c}, {rule_count} built-in rules)"),
        None => format!("{version} ({rule_count} built-in rules)"),
    };
    println!("cargo:rustc-env=PKHOUND_LONG_VERSION={long}");
    // HEAD's reflog changes with every commit and checkout (not with edits: the index is not watched,
    // so that `git add` does not rebuild the crate).
    let git_dir = Path::new(&manifest).join(".git");
    if git_dir.is_dir() {
        println!("cargo:rerun-if-changed={}", git_dir.join("logs/HEAD").display());
    } else if let Some(real) = fs::read_to_string(&git_dir)
        .ok()
        .and_then(|t| t.trim().strip_prefix("gitdir: ").map(str::to_string))
    {
        // A linked worktree: `.git` is a file naming the real git directory.
        println!("cargo:rerun-if-changed={real}/logs/HEAD");
    }

    let mut out = String::from("/// Built-in rule files: (file name, TOML text), sorted by name.\npub static BUILTIN_RULE_FILES: &[(&str, &str)] = &[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("rule file names are UTF-8");
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("builtin_rules.rs");
    fs::write(dest, out).expect("OUT_DIR is writable");
}
