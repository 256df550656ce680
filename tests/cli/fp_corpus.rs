//! The false-positive corpus: realistic non-secrets that share a rule's keyword (SQL `pk_` names,
//! publishable keys, Klaviyo site ids, SHAs, hashes, UUIDs, placeholders, base64 images, minified JS,
//! ClickUp look-alikes). The built-in rules must report none of them.

use std::{fs, path::Path};

use crate::common::*;

/// Lines that are entries: not blank, not a comment line of the file's language.
fn entries(text: &str) -> usize {
    text.lines()
        .filter(|l| {
            let t = l.trim_start();
            !t.is_empty() && !["#", "--", "/*", "<!--"].iter().any(|c| t.starts_with(c))
        })
        .count()
}

#[test]
fn built_in_rules_report_nothing_in_the_fp_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fp-corpus");
    let mut files = 0;
    let mut total = 0;
    for e in fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path
            .extension()
            .is_some_and(|x| x != "md" || !path.ends_with("README.md"))
        {
            files += 1;
            total += entries(&fs::read_to_string(&path).unwrap());
        }
    }
    assert!(total >= 300, "the corpus has {total} entries; keep it at 300 or more");
    // --no-ignore: the repository's .pkhoundignore skips fixtures/ when pkhound scans itself.
    let (code, report, stderr) = scan_json(&dir, &["--no-ignore", "--no-config"]);
    let found: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{}:{} {} {}", f["path"], f["line"], f["rule_id"], f["snippet"]))
        .collect();
    assert!(found.is_empty(), "false positives:\n{}", found.join("\n"));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["stats"]["files"], files, "every corpus file is scanned");
}
