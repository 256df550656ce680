//! The rule catalogue as Markdown: what `pkhound rules --format markdown` prints and what `docs/rules.md`
//! holds. The committed file is generated from the rule files; a test fails when it is stale.

use std::fmt::Write as _;

use super::{Category, LoadedRule};

/// The rules grouped by category, in [`Category::ALL`] order, then rules without one ("Other"); within a
/// group, in file order. Empty groups are left out.
pub fn grouped(rules: &[LoadedRule]) -> Vec<(Option<Category>, Vec<&LoadedRule>)> {
    Category::ALL
        .iter()
        .map(|&c| Some(c))
        .chain(std::iter::once(None))
        .map(|c| (c, rules.iter().filter(|r| r.spec.category == c).collect::<Vec<_>>()))
        .filter(|(_, rs)| !rs.is_empty())
        .collect()
}

/// The heading of a group.
pub fn title(category: Option<Category>) -> &'static str {
    category.map_or("Other", Category::title)
}

/// Renders the catalogue: one table per category (id, severity, name, keywords, reference).
pub fn markdown(rules: &[LoadedRule]) -> String {
    let mut out = String::new();
    out.push_str("# Built-in rules\n\n");
    out.push_str(
        "<!-- Generated from rules/*.toml by `pkhound rules --format markdown`; do not edit. \
         Regenerate with `UPDATE_DOCS=1 cargo test --lib rules_doc_is_current`. -->\n\n",
    );
    let _ = writeln!(
        out,
        "{} rules. How to write one: [writing-rules.md](writing-rules.md). Every rule's positive and negative \
         examples run through the real engine in `cargo test`.\n",
        rules.len()
    );
    let groups = grouped(rules);
    for (category, rs) in &groups {
        let _ = writeln!(
            out,
            "- [{}](#{}) ({})",
            title(*category),
            anchor(title(*category)),
            rs.len()
        );
    }
    for (category, rs) in groups {
        let _ = writeln!(out, "\n## {}\n", title(category));
        out.push_str("| id | severity | name | keywords | reference |\n|---|---|---|---|---|\n");
        for r in rs {
            let s = &r.spec;
            let mut keywords: Vec<String> = s.keywords.iter().map(|k| format!("`{}`", cell(k))).collect();
            if let Some(path) = &s.path {
                keywords.push(format!("files matching `{}`", cell(path)));
            }
            let reference = s.references.first().map(|u| format!("[docs]({u})")).unwrap_or_default();
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                s.id,
                s.severity.as_str(),
                cell(&s.name),
                keywords.join(" "),
                reference
            );
        }
    }
    out
}

/// GitHub's heading anchor: lowercase, spaces to dashes, punctuation dropped.
fn anchor(title: &str) -> String {
    title
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_ascii_alphanumeric() || c == '-' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// Text safe inside a table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::rules::builtin;

    /// `docs/rules.md` is generated; this fails when a rule file changed and the doc did not.
    #[test]
    fn rules_doc_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
        let fresh = markdown(&builtin().expect("built-in rules load"));
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, &fresh).expect("docs/rules.md is writable");
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "docs/rules.md is stale: regenerate it with `UPDATE_DOCS=1 cargo test --lib rules_doc_is_current`"
        );
    }

    #[test]
    fn anchors_match_github() {
        assert_eq!(anchor("Source hosting and CI/CD"), "source-hosting-and-cicd");
        assert_eq!(anchor("E-mail and marketing"), "e-mail-and-marketing");
    }
}
