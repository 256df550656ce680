//! Embeds every `rules/*.toml` file into the binary, so a new rule file needs no code change.
//!
//! Each file is embedded twice: as written (the rule-example test and `rules check` read its examples), and
//! as static data parsed here, at build time, without the example texts: a byte tree and a string pool
//! (`src/rules/bake.rs` writes them) that a scan deserializes with the same serde derives as the TOML, with
//! no text to lex or parse and no pointer for the loader to relocate (start-up must not grow with the rule
//! count). With hundreds of rules the examples are most of the bytes: a
//! positive example keeps its `secret` (the engine reads which keywords occur inside secrets); its `text`
//! and the negatives are dropped.
//!
//! It also names the build in `--version`: the git commit when built from a checkout (nothing otherwise: a
//! crate from crates.io or a source archive has none) and the number of built-in rules.

use std::{env, fs, path::Path, process::Command};

// How the decoders spell keywords: the crate's own module, so build time and run time agree.
#[allow(dead_code)]
#[path = "src/decode/spell.rs"]
mod spell;

// The regex fragments rules call (`(?&assign)`): expanded here for the baked rules, at run time for TOML.
#[path = "src/rules/fragment.rs"]
mod fragment;

// The suffix literals of a path gate: listed here for the built-in rules, at run time for others.
#[path = "src/engine/tails.rs"]
mod tails;

// How the rules are baked: the crate's own encoder, which its reader's tests use too.
#[path = "src/rules/bake.rs"]
mod bake;

// The rules' regexes, parsed here: the crate's own codec writes the trees the engine reads back.
#[path = "src/rules/hir_codec.rs"]
mod hir_codec;

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
    // The modules this script includes (`#[path]` above) decide what it writes: the decoder patterns
    // come from `spell.rs`, so a new in-value escape must rebuild them.
    for module in [
        "build.rs",
        "src/decode/spell.rs",
        "src/rules/fragment.rs",
        "src/engine/tails.rs",
        "src/rules/bake.rs",
        "src/rules/hir_codec.rs",
    ] {
        println!("cargo:rerun-if-changed={}", Path::new(&manifest).join(module).display());
    }

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

    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out_dir);
    let mut baked = bake::Encoder::default();
    let mut trees = hir_codec::Encoder::default();
    // (where the regex lies in the string pool, its length, where its tree starts), one per regex.
    let mut tree_index: Vec<(u32, u32, u32)> = Vec::new();
    let mut list = String::from(
        "/// Built-in rule files: (file name, TOML text, where the file as parsed at build time without its\n\
         /// example texts starts in `BAKED_TREE`), sorted by name.\n\
         pub static BUILTIN_RULE_FILES: &[(&str, &str, u32)] = &[\n",
    );
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("rule file names are UTF-8");
        let text = fs::read_to_string(path).expect("rule files are UTF-8");
        // A rule file that does not load stops the build, naming the file (and the TOML error's line), rather
        // than building a binary whose every scan fails.
        let table = lean(&text).unwrap_or_else(|e| panic!("rules/{name} does not load: {e}"));
        let table = toml::Value::Table(table);
        let (start, _) = baked
            .value(&table)
            .unwrap_or_else(|| panic!("rules/{name} holds a TOML date, which no rule field takes"));
        for regex in table
            .get("rule")
            .and_then(|r| r.as_array())
            .into_iter()
            .flatten()
            .filter_map(|rule| rule.get("regex")?.as_str())
        {
            // A regex that does not parse is left to run time, which names the rule in its error.
            let Some(span) = baked.span(regex) else { continue };
            if tree_index.iter().any(|&(s, _, _)| s == span.0) {
                continue;
            }
            let parsed = regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(false)
                .build()
                .parse(regex);
            if let Some(at) = parsed.ok().and_then(|hir| trees.tree(&hir)) {
                tree_index.push((span.0, span.1, at));
            }
        }
        list.push_str(&format!(
            "    ({name:?}, include_str!({:?}), {start}),\n",
            path.display().to_string(),
        ));
    }
    list.push_str(&format!(
        "];\n/// How many rules the files hold (`[[rule]]` lines), so the loader allocates its list once.\n\
         const BUILTIN_RULE_COUNT: usize = {rule_count};\n"
    ));
    fs::write(out.join("builtin_rules.tree"), &baked.tree).expect("OUT_DIR is writable");
    tree_index.sort_unstable();
    let index: Vec<u8> = tree_index
        .iter()
        .flat_map(|&(start, len, at)| [start, len, at])
        .flat_map(u32::to_le_bytes)
        .collect();
    fs::write(out.join("builtin_regex.index"), index).expect("OUT_DIR is writable");
    fs::write(out.join("builtin_regex.trees"), &trees.blob).expect("OUT_DIR is writable");
    fs::write(out.join("builtin_rules.strings"), &baked.strings).expect("OUT_DIR is writable");
    list.push_str(&format!(
        "/// The baked rule files' values (see `bake.rs`).\nstatic BAKED_TREE: &[u8] = include_bytes!({:?});\n\
         /// The texts `BAKED_TREE` points into.\nstatic BAKED_STRINGS: &str = include_str!({:?});\n",
        out.join("builtin_rules.tree").display().to_string(),
        out.join("builtin_rules.strings").display().to_string(),
    ));
    list.push_str(&format!(
        "/// The rules' regexes parsed (see `hir_codec.rs`): per regex, 3 little-endian `u32`s (where its text\n\
         /// lies in `BAKED_STRINGS`, its length, where its tree starts in `BAKED_REGEX_TREES`), sorted.\n\
         static BAKED_REGEX_INDEX: &[u8] = include_bytes!({:?});\n\
         /// The trees `BAKED_REGEX_INDEX` points into.\nstatic BAKED_REGEX_TREES: &[u8] = include_bytes!({:?});\n",
        out.join("builtin_regex.index").display().to_string(),
        out.join("builtin_regex.trees").display().to_string(),
    ));
    fs::write(out.join("builtin_rules.rs"), list).expect("OUT_DIR is writable");
    fs::write(Path::new(&out_dir).join("builtin_spellings.rs"), spellings(&files)).expect("OUT_DIR is writable");
    fs::write(out.join("builtin_path_tails.rs"), path_tails(&files)).expect("OUT_DIR is writable");
}

/// Every built-in rule's path gate with the literals its paths end with (`tails::path_tails`), as Rust
/// source for `engine/mod.rs`. Every rule file parses (`main` stopped otherwise).
fn path_tails(files: &[std::path::PathBuf]) -> String {
    let gates: std::collections::BTreeSet<String> = rule_specs(files)
        .iter()
        .filter_map(|spec| spec.get("path")?.as_str().map(str::to_string))
        .collect();
    let mut out = String::from(
        "/// Per built-in path gate: its regex and the literals every path it opens for ends with (`None`: none\n\
         /// to list).\nstatic BUILTIN_PATH_TAILS: &[(&str, Option<&[&[u8]]>)] = &[\n",
    );
    for gate in &gates {
        let tails = match tails::path_tails(gate) {
            Some(tails) => format!(
                "Some(&[{}])",
                tails.iter().map(|t| format!("&{t:?}")).collect::<Vec<_>>().join(", ")
            ),
            None => "None".to_string(),
        };
        out.push_str(&format!("    ({gate:?}, {tails}),\n"));
    }
    out.push_str("];\n");
    out
}

/// The rule file's table, the fragment calls of each regex and pair regex expanded, each positive
/// example's text emptied and the negatives dropped; the TOML error, or the call of an unknown fragment.
fn lean(text: &str) -> Result<toml::Table, String> {
    let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    if let Some(toml::Value::Array(rules)) = table.get_mut("rule") {
        for rule in rules.iter_mut() {
            let id = rule.get("id").and_then(|i| i.as_str()).unwrap_or("?").to_string();
            let named = |e: String| format!("rule `{id}`: {e}");
            expand_in_place(rule.get_mut("regex")).map_err(named)?;
            expand_in_place(rule.get_mut("pair").and_then(|p| p.get_mut("regex"))).map_err(named)?;
            let Some(examples) = rule.get_mut("examples").and_then(|e| e.as_table_mut()) else {
                continue;
            };
            examples.remove("negative");
            if let Some(toml::Value::Array(positives)) = examples.get_mut("positive") {
                for p in positives.iter_mut() {
                    if let Some(t) = p.as_table_mut() {
                        t.insert("text".into(), toml::Value::String(String::new()));
                    }
                }
            }
        }
    }
    Ok(table)
}

/// Expands the fragment calls of a regex value in place; the error names a call of an unknown fragment.
fn expand_in_place(regex: Option<&mut toml::Value>) -> Result<(), String> {
    if let Some(toml::Value::String(regex)) = regex {
        if let Some(expanded) = fragment::expand(regex)? {
            *regex = expanded;
        }
    }
    Ok(())
}

/// Every `[[rule]]` table of the rule files, in file order.
fn rule_specs(files: &[std::path::PathBuf]) -> Vec<toml::Value> {
    let mut specs = Vec::new();
    for path in files {
        let text = fs::read_to_string(path).expect("rule files are UTF-8");
        if let Ok(mut table) = text.parse::<toml::Table>() {
            if let Some(toml::Value::Array(rules)) = table.remove("rule") {
                specs.extend(rules);
            }
        }
    }
    specs
}

/// The built-in rules' decoder patterns, per gate, and per rule what they were computed from (whether it
/// is generic, its keywords, its positive examples' secrets), as Rust source for `decode/mod.rs`. Every
/// rule file parses (`main` stopped otherwise).
fn spellings(files: &[std::path::PathBuf]) -> String {
    struct Rule {
        generic: bool,
        keywords: Vec<String>,
        secrets: Vec<String>,
    }
    let strings = |v: Option<&toml::Value>| -> Vec<String> {
        v.and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let mut rules = Vec::new();
    for spec in &rule_specs(files) {
        let positives = spec
            .get("examples")
            .and_then(|e| e.get("positive"))
            .and_then(|p| p.as_array());
        rules.push(Rule {
            generic: strings(spec.get("tags")).iter().any(|t| t == "generic"),
            keywords: strings(spec.get("keywords")),
            secrets: positives
                .map(|ps| {
                    ps.iter()
                        .filter_map(|p| p.get("secret")?.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    let inputs: Vec<spell::RuleInput<'_>> = rules
        .iter()
        .map(|r| spell::RuleInput {
            generic: r.generic,
            keywords: r.keywords.iter().map(String::as_str).collect(),
            secrets: r.secrets.iter().map(String::as_str).collect(),
        })
        .collect();
    // Every text once, in one pool: a `&str` per keyword and pattern would cost the loader a relocation each.
    let mut pool = String::new();
    let mut seen = std::collections::HashMap::new();
    let mut span = |s: &str| -> (usize, usize) {
        *seen.entry(s.to_string()).or_insert_with(|| {
            pool.push_str(s);
            (pool.len() - s.len(), pool.len())
        })
    };
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut list = |items: &[String], spans: &mut Vec<(usize, usize)>| {
        let start = spans.len();
        spans.extend(items.iter().map(|s| span(s)));
        (start, spans.len())
    };
    let mut out = String::from(
        "/// Per built-in rule: (generic, keywords, positive examples' secrets), what its spellings come from;\n\
         /// the lists as ranges of `SPELLING_SPANS`.\n\
         static BUILTIN_SPELLING_INPUTS: &[(bool, Spelt, Spelt)] = &[\n",
    );
    for r in &rules {
        let keywords = list(&r.keywords, &mut spans);
        let secrets = list(&r.secrets, &mut spans);
        out.push_str(&format!("    ({}, {keywords:?}, {secrets:?}),\n", r.generic));
    }
    out.push_str(
        "];\n/// The built-in rules' decoder patterns, `(pattern, decoder, shift)`: the base64 gate's, the escape\n\
         /// gate's, then the long base64 run's (base64 of escaped keywords).\n\
         static BUILTIN_SPELLED: [&[(Spelt, u8, u8)]; 3] = [\n",
    );
    let escaped = spell::escaped_in_base64(&inputs)
        .into_iter()
        .map(|(pattern, shift)| (pattern, spell::BASE64, shift));
    let tables: [Vec<spell::Spelled>; 3] = [
        spell::gate_patterns(&inputs, true),
        spell::gate_patterns(&inputs, false),
        escaped.collect(),
    ];
    for table in tables {
        out.push_str("    &[\n");
        for (pattern, decoder, shift) in table {
            out.push_str(&format!("        ({:?}, {decoder}, {shift}),\n", span(&pattern)));
        }
        out.push_str("    ],\n");
    }
    out.push_str("];\n/// Where each listed text is in `SPELLING_TEXT`: (start, end).\nstatic SPELLING_SPANS: &[(u32, u32)] = &[\n");
    for s in &spans {
        out.push_str(&format!("    {s:?},\n"));
    }
    out.push_str(&format!(
        "];\n/// The texts of the tables above.\nstatic SPELLING_TEXT: &str = {pool:?};\n"
    ));
    out
}
