//! Imports a gitleaks TOML config into pkhound's rule model, so a team can switch without rewriting rules.
//!
//! Supported: `[[rules]]` with `id`, `description`, `regex`, `secretGroup`, `entropy`, `keywords`, `path`,
//! `tags`, per-rule `[rules.allowlist]` / `[[rules.allowlists]]`; global `[allowlist]` / `[[allowlists]]`
//! (`paths`, `regexes`, `regexTarget` secret/line, `stopwords`, `commits`, `condition`, `targetRules`); `[extend]`
//! `useDefault` (pkhound's built-in rules stay on either way) and `disabledRules`. Anything else is a
//! warning that names it: nothing is dropped silently.
//!
//! gitleaks regexes are Go RE2; Rust's `regex` accepts nearly all of it. A regex that does not compile is an
//! error naming the rule. A rule without keywords gets literal keywords derived from its regex when every
//! match must start (or end) with one; otherwise it runs "always on" over whole files (correct, slower).

use std::collections::BTreeMap;
use std::sync::Arc;

use regex::Regex;
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use serde::Deserialize;

use super::config::{line_at, one_line, parse, rule_line, Allowlist, Condition, ConfigError, ConfigKind, UserConfig};
use super::{config, Examples, LoadedRule, RuleSpec, Text};
use crate::finding::Severity;

/// The window for imported rules: gitleaks regexes often carry up to ~100 bytes of context around the
/// secret, more than pkhound's own rules.
const WINDOW: usize = 512;

#[derive(Deserialize)]
struct GlConfig {
    #[serde(default)]
    #[allow(dead_code)]
    title: Option<String>,
    #[serde(default)]
    extend: Option<GlExtend>,
    #[serde(default)]
    rules: Vec<GlRule>,
    #[serde(default)]
    allowlist: Option<GlAllow>,
    #[serde(default)]
    allowlists: Vec<GlAllow>,
    #[serde(flatten)]
    other: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct GlExtend {
    #[serde(default, rename = "useDefault")]
    #[allow(dead_code)]
    use_default: bool,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default, rename = "disabledRules")]
    disabled_rules: Vec<String>,
    #[serde(flatten)]
    other: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct GlRule {
    id: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default, rename = "secretGroup")]
    secret_group: Option<usize>,
    #[serde(default)]
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    allowlist: Option<GlAllow>,
    #[serde(default)]
    allowlists: Vec<GlAllow>,
    #[serde(flatten)]
    other: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct GlAllow {
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    commits: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default, rename = "regexTarget")]
    regex_target: Option<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default, rename = "targetRules")]
    target_rules: Vec<String>,
    #[serde(flatten)]
    other: BTreeMap<String, toml::Value>,
}

/// Loads a gitleaks config's text.
pub fn load(file: &str, text: &str) -> Result<UserConfig, ConfigError> {
    let gl: GlConfig = parse(file, text)?;
    let mut cfg = UserConfig::empty(file, ConfigKind::Gitleaks);
    cfg.overrides_builtin = true;
    cfg.strict_ids = false;
    let warn = |cfg: &mut UserConfig, m: String| cfg.warnings.push(format!("{file}: {m}"));
    for key in gl.other.keys() {
        warn(&mut cfg, format!("unsupported gitleaks key `{key}` ignored"));
    }
    if let Some(ext) = gl.extend {
        if ext.path.is_some() || ext.url.is_some() {
            warn(
                &mut cfg,
                "`[extend] path`/`url` is not supported: load the extended file with its own --config".into(),
            );
        }
        for key in ext.other.keys() {
            warn(&mut cfg, format!("unsupported gitleaks key `extend.{key}` ignored"));
        }
        for id in ext.disabled_rules {
            let line = find_line(text, &id);
            cfg.disable.push(config::Placed { value: id, line });
        }
    }
    let global = gl.allowlist.into_iter().chain(gl.allowlists);
    for (i, a) in global.enumerate() {
        let allow = convert_allow(file, text, &format!("allowlists[{i}]"), a, &[], &mut cfg.warnings)?;
        cfg.allowlists.push(allow);
    }
    for rule in gl.rules {
        let line = rule_line(text, &rule.id);
        let here = |key: &str| format!("rule `{}`{key}", rule.id);
        for key in rule.other.keys() {
            warn(
                &mut cfg,
                format!("rule `{}`: unsupported gitleaks key `{key}` ignored", rule.id),
            );
        }
        let Some(regex) = rule.regex.clone() else {
            warn(
                &mut cfg,
                format!(
                    "rule `{}`: path-only rules (no `regex`) are not supported; rule skipped",
                    rule.id
                ),
            );
            continue;
        };
        if rule.id.trim().is_empty() {
            return Err(config_at(file, line, "rules.id", "a rule needs a non-empty id"));
        }
        if let Err(e) = regex::bytes::RegexBuilder::new(&regex).size_limit(32 << 20).build() {
            cfg.problems
                .push(config_at(file, line, &here(": regex"), &one_line(&e.to_string())));
            continue;
        }
        if let Some(p) = &rule.path {
            let re = Regex::new(p).map_err(|e| config_at(file, line, &here(": path"), &one_line(&e.to_string())))?;
            cfg.rule_paths.push((rule.id.clone(), re));
        }
        let mut keywords: Vec<String> = rule.keywords.iter().map(|k| k.to_ascii_lowercase()).collect();
        keywords.retain(|k| !k.is_empty());
        if keywords.iter().any(|k| k.len() < 2) {
            warn(
                &mut cfg,
                format!(
                    "rule `{}`: a one-byte keyword makes the prefilter useless; the rule runs on every file",
                    rule.id
                ),
            );
            keywords.clear();
        } else if keywords.is_empty() {
            keywords = derive_keywords(&regex);
            if keywords.is_empty() {
                warn(
                    &mut cfg,
                    format!(
                        "rule `{}` has no keywords and none can be derived from its regex; it runs over every file (slower)",
                        rule.id
                    ),
                );
            }
        }
        let allows = rule.allowlist.into_iter().chain(rule.allowlists);
        for (i, a) in allows.enumerate() {
            let key = format!("rule `{}`: allowlists[{i}]", rule.id);
            let allow = convert_allow(file, text, &key, a, std::slice::from_ref(&rule.id), &mut cfg.warnings)?;
            cfg.allowlists.push(allow);
        }
        // gitleaks descriptions are whole sentences; the id reads better as the name in a report line.
        let name = rule.id.clone();
        let spec = RuleSpec {
            id: rule.id.clone(),
            name: name.into(),
            severity: Severity::High,
            keywords: keywords.into_iter().map(Text::from).collect(),
            regex: regex.into(),
            window: WINDOW,
            // gitleaks' `path` is applied to the findings (`rule_paths`), as its allowlists are.
            path: None,
            min_entropy: rule.entropy.filter(|e| *e > 0.0),
            // gitleaks' entropy is a plain threshold.
            entropy_floor: false,
            refuse_stand_ins: false,
            allow: Arc::default(),
            allow_before: Arc::default(),
            check: None,
            // gitleaks has no delimitation filter: its regexes carry their own boundaries (`\b`, or a
            // class before the secret group), and a secret group after `tok_` is glued to `_` by
            // construction. Checking the group's ends would drop every such match.
            // See: issue 12 ("Imported gitleaks rules whose secret group follows `_` never match").
            delimited: false,
            verify: None,
            verify_http: None,
            tags: rule.tags.into_iter().map(Text::from).collect(),
            category: None,
            references: Arc::default(),
            description: rule.description.unwrap_or_default().into(),
            remediation: "Revoke or rotate this credential with its provider, then move it to a secrets manager."
                .into(),
            examples: Examples::default(),
            secret_group: rule.secret_group,
            first_group: true,
            pair: None,
            supersedes: Vec::new(),
            binary: false,
        };
        if let Some(first) = cfg.rules.iter().position(|r| r.spec.id == spec.id) {
            warn(
                &mut cfg,
                format!("rule `{}` is defined twice; the later definition wins", spec.id),
            );
            cfg.rules.remove(first);
        }
        cfg.rule_lines.insert(spec.id.clone(), line);
        cfg.rules.push(LoadedRule {
            file: Text::from(file),
            spec: spec.into(),
            builtin: false,
        });
    }
    Ok(cfg)
}

fn config_at(file: &str, line: usize, key: &str, message: &str) -> ConfigError {
    ConfigError::At {
        file: file.to_string(),
        line,
        key: key.to_string(),
        message: message.to_string(),
    }
}

fn find_line(text: &str, needle: &str) -> usize {
    text.find(needle).map_or(0, |at| line_at(text, at))
}

fn convert_allow(
    file: &str,
    text: &str,
    key: &str,
    a: GlAllow,
    rule: &[String],
    warnings: &mut Vec<String>,
) -> Result<Allowlist, ConfigError> {
    let line = a
        .paths
        .first()
        .or(a.regexes.first())
        .or(a.stopwords.first())
        .or(a.commits.first())
        .map_or(0, |s| find_line(text, s));
    let mut allow = Allowlist {
        rules: if rule.is_empty() { a.target_rules } else { rule.to_vec() },
        stopwords: a
            .stopwords
            .iter()
            .map(|w| w.to_lowercase())
            .filter(|w| !w.is_empty())
            .collect(),
        commits: a.commits.iter().map(|c| c.to_ascii_lowercase()).collect(),
        ..Allowlist::new(format!("{file}:{line}"))
    };
    for k in a.other.keys() {
        warnings.push(format!("{file}: {key}: unsupported gitleaks key `{k}` ignored"));
    }
    match a.condition.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None | Some("OR") => {}
        Some("AND") => allow.condition = Condition::And,
        Some(other) => {
            return Err(config_at(
                file,
                Some(find_line(text, &format!("\"{other}\"")))
                    .filter(|&l| l > 0)
                    .unwrap_or(line),
                &format!("{key}.condition"),
                &format!("`{other}` is not OR or AND"),
            ))
        }
    }
    let on_line = match a.regex_target.as_deref() {
        None | Some("secret") => false,
        Some("line") => true,
        Some("match") => {
            // pkhound keeps the secret's span, not the whole regex match; the line contains the match.
            warnings.push(format!(
                "{file}: {key}: regexTarget = \"match\" is not supported; its regexes are matched against the line"
            ));
            true
        }
        Some(other) => {
            return Err(config_at(
                file,
                Some(find_line(text, &format!("\"{other}\"")))
                    .filter(|&l| l > 0)
                    .unwrap_or(line),
                &format!("{key}.regexTarget"),
                &format!("`{other}` is not secret, match or line"),
            ))
        }
    };
    for p in &a.paths {
        let re = Regex::new(p).map_err(|e| {
            config_at(
                file,
                find_line(text, p),
                &format!("{key}.paths"),
                &one_line(&e.to_string()),
            )
        })?;
        allow.path_regexes.push(re);
    }
    for r in &a.regexes {
        let re = Regex::new(r).map_err(|e| {
            config_at(
                file,
                find_line(text, r),
                &format!("{key}.regexes"),
                &one_line(&e.to_string()),
            )
        })?;
        if on_line {
            allow.line_regexes.push(re);
        } else {
            allow.regexes.push(re);
        }
    }
    Ok(allow)
}

/// Literal keywords every match must start (or else end) with, lower-cased, for the prefilter. Empty when
/// the regex has no such literals of 3+ bytes (the rule then runs over whole files).
pub fn derive_keywords(regex: &str) -> Vec<String> {
    // ASCII-only parsing keeps `(?i)` from expanding into Unicode case variants (KELVIN SIGN for `k`); the
    // prefilter is ASCII-case-insensitive anyway.
    let ascii = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(regex)
        .ok();
    let Some(hir) = ascii.or_else(|| regex_syntax::Parser::new().parse(regex).ok()) else {
        return Vec::new();
    };
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        let mut ex = Extractor::new();
        // A class wider than a few bytes ends the literal: `[0-9]` would multiply keywords tenfold.
        let prefix = matches!(kind, ExtractKind::Prefix);
        ex.kind(kind).limit_class(4).limit_total(64);
        let mut seq = ex.extract(&hir);
        if prefix {
            seq.optimize_for_prefix_by_preference();
        } else {
            seq.optimize_for_suffix_by_preference();
        }
        let Some(lits) = seq.literals() else {
            continue;
        };
        let mut words: Vec<String> = lits
            .iter()
            .map(|l| String::from_utf8_lossy(l.as_bytes()).to_ascii_lowercase())
            .collect();
        words.sort();
        words.dedup();
        if !words.is_empty() && words.len() <= 64 && words.iter().all(|w| w.len() >= 3 && w.is_ascii()) {
            return words;
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::config::{self, Candidate};

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]
        /// Arbitrary bytes never panic the gitleaks importer. See: issue 12 ("Property tests over
        /// arbitrary bytes for every parser").
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = load("g.toml", &String::from_utf8_lossy(&bytes));
        }

        /// gitleaks-shaped TOML (rules, allowlists, extend, with odd values) never panics either.
        #[test]
        fn arbitrary_gitleaks_toml_never_panics(text in r#"(\[\[?(rules|allowlists|rules\.allowlists)\]\]?
|\[(allowlist|extend|rules\.allowlist)\]
|(id|regex|secretGroup|entropy|keywords|path|paths|regexes|regexTarget|condition|stopwords|commits|targetRules|useDefault|disabledRules|description) = ("[^"\n]{0,12}"|'[^'\n]{0,16}'|-?[0-9]{1,3}(\.[0-9])?|\["[^"\n]{0,8}"\]|\[\]|true)
){0,14}"#) {
            let _ = load("g.toml", &text);
        }
    }

    fn fixture() -> UserConfig {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/valid/gitleaks.toml");
        config::load_file(&path).expect("the gitleaks fixture loads")
    }

    fn allowed(cfg: &UserConfig, rule: &str, path: &str, secret: &str, commit: Option<&str>) -> bool {
        let c = Candidate {
            rule,
            path,
            secret,
            commit,
            test: false,
            line: Some(secret),
        };
        cfg.allowlists.iter().any(|a| a.allows(&c))
    }

    #[test]
    fn the_fixture_maps_onto_the_rule_model() {
        let cfg = fixture();
        assert_eq!(cfg.kind, ConfigKind::Gitleaks);
        let ids: Vec<&str> = cfg.rules.iter().map(|r| r.spec.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "aws-access-token",
                "slack-bot-token",
                "acme-internal-token",
                "acme-api-secret",
                "acme-license-key"
            ]
        );
        let kw = |id: &str| {
            cfg.rules
                .iter()
                .find(|r| r.spec.id == id)
                .unwrap()
                .spec
                .keywords
                .clone()
        };
        assert_eq!(*kw("acme-internal-token"), ["acmetok_"]);
        assert!(kw("acme-license-key").is_empty(), "no literal: always on");
        assert_eq!(cfg.disable[0].value, "generic-api-key");
        assert_eq!(cfg.rule_paths.len(), 1);
    }

    #[test]
    fn allowlists_keep_gitleaks_semantics() {
        let cfg = fixture();
        // Global path regexes, secret regexes and commits.
        assert!(allowed(&cfg, "slack-bot-token", "vendor/x.py", "s", None));
        assert!(allowed(&cfg, "slack-bot-token", "a.py", "ssn 219-09-9999", None));
        assert!(allowed(
            &cfg,
            "slack-bot-token",
            "a.py",
            "s",
            Some("f1c5f4d0b8e94c5a1e3d2b7a6c9e8f0a1b2c3d4e")
        ));
        assert!(!allowed(&cfg, "slack-bot-token", "a.py", "s", Some("0000000")));
        // Per-rule allowlist: only for its rule.
        assert!(allowed(&cfg, "aws-access-token", "a.py", "AKIAIOSFODNN7EXAMPLE", None));
        assert!(!allowed(&cfg, "slack-bot-token", "a.py", "AKIAIOSFODNN7EXAMPLE", None));
        // condition = AND with targetRules: both the path and the secret must match.
        assert!(allowed(&cfg, "acme-license-key", "generated/a", "TEST-1", None));
        assert!(!allowed(&cfg, "acme-license-key", "generated/a", "PROD-1", None));
        assert!(!allowed(&cfg, "acme-license-key", "src/a", "TEST-1", None));
        assert!(!allowed(&cfg, "aws-access-token", "generated/a", "TEST-1", None));
    }

    #[test]
    fn keywords_are_derived_from_required_literals() {
        assert_eq!(derive_keywords(r"(?i)\b(AKIA|ASIA)[A-Z0-9]{16}\b"), ["akia", "asia"]);
        assert_eq!(derive_keywords(r"xox[bp]-[0-9]{10,13}"), ["xox"]);
        assert_eq!(
            derive_keywords(r"[a-z0-9]{32}\.apps\.googleusercontent\.com"),
            [".apps.googleusercontent.com"]
        );
        assert!(derive_keywords(r"[A-Za-z0-9]{40}").is_empty());
        assert!(derive_keywords(r"(?i)(a|b)[0-9]{4}").is_empty());
    }
}
