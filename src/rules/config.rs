//! A user's configuration: `.pkhound.toml` at the scan root, or `--config FILE`, in pkhound's own format
//! or gitleaks' (detected by its keys; see [`super::gitleaks`]).
//!
//! pkhound's format adds rules in the built-in schema, disables rules, changes severities and allowlists
//! paths (globs), secrets (regexes) and stopwords, globally or per rule:
//!
//! ```toml
//! disable = ["generic-password"]
//! [severity]
//! klaviyo-private-key = "high"
//! [allowlist]                       # applies to every rule
//! paths = ["vendor/**", "*.snap"]
//! regexes = ['''^pk_0{6}''']
//! stopwords = ["sample"]
//! test_paths = false                # true: drop findings in tests/fixtures/docs/examples
//! [[allowlists]]                    # scoped to some rules
//! rules = ["klaviyo-private-key"]
//! paths = ["legacy/**"]
//! [[rule]]                          # same schema as rules/*.toml, examples checked at load
//! ```
//!
//! A bad config is an error naming the file, the line and the key; nothing falls back to a default.

use std::{collections::BTreeMap, path::Path};

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use regex::Regex;
use serde::Deserialize;
use thiserror::Error;
use toml::Spanned;

use super::{gitleaks, validate_spec, LoadedRule, RuleError, RuleSpec, Text};
use crate::finding::Severity;

/// The file name looked for at the scan root.
pub const DEFAULT_FILE: &str = ".pkhound.toml";

/// A config that could not be loaded. Every variant names the file; most name the line and key.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{file}: {message}")]
    Io { file: String, message: String },
    #[error("{file}:{line}: {key}: {message}")]
    At {
        file: String,
        line: usize,
        key: String,
        message: String,
    },
    #[error("{file}: {message}")]
    Whole { file: String, message: String },
}

/// Which format a config file was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigKind {
    Pkhound,
    Gitleaks,
}

/// A value with the line (1-based) it was written on, for errors found after parsing.
#[derive(Clone, Debug)]
pub struct Placed<T> {
    pub value: T,
    pub line: usize,
}

/// A loaded config, ready to be resolved against the built-in rules.
#[derive(Debug)]
pub struct UserConfig {
    pub file: String,
    pub kind: ConfigKind,
    /// Rules the config adds (pkhound format) or imports (gitleaks).
    pub rules: Vec<LoadedRule>,
    /// Imported rules whose id is a built-in id replace the built-in rule (gitleaks' override semantics);
    /// in pkhound's format a clash is an error.
    pub overrides_builtin: bool,
    pub disable: Vec<Placed<String>>,
    /// An unknown id in `disable` is an error in pkhound's format, a warning for gitleaks'.
    pub strict_ids: bool,
    pub severity: Vec<Placed<(String, Severity)>>,
    pub allowlists: Vec<Allowlist>,
    /// gitleaks `path` on a rule with a regex: the rule reports only in files whose path matches.
    pub rule_paths: Vec<(String, Regex)>,
    /// Unsupported features, named, and other things the user should know.
    pub warnings: Vec<String>,
    /// The line each of `rules` is defined on, for errors found when resolving.
    pub rule_lines: BTreeMap<String, usize>,
    /// Errors in single rules (a regex that does not compile) that did not stop loading the rest; loading
    /// for a scan fails on the first, `pkhound rules check` lists them all.
    pub problems: Vec<ConfigError>,
}

impl UserConfig {
    pub fn empty(file: &str, kind: ConfigKind) -> Self {
        UserConfig {
            file: file.to_string(),
            kind,
            rules: Vec::new(),
            overrides_builtin: false,
            disable: Vec::new(),
            strict_ids: true,
            severity: Vec::new(),
            allowlists: Vec::new(),
            rule_paths: Vec::new(),
            warnings: Vec::new(),
            problems: Vec::new(),
            rule_lines: BTreeMap::new(),
        }
    }
}

/// How an allowlist combines its criteria.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// Any criterion that matches allows the finding.
    Or,
    /// Every criterion given must match (gitleaks `condition = "AND"`).
    And,
}

/// One allowlist: criteria that turn a finding into "not a finding".
#[derive(Clone, Debug)]
pub struct Allowlist {
    /// `file:line` of the allowlist, for messages.
    pub origin: String,
    /// Rule ids it applies to; empty means every rule.
    pub rules: Vec<String>,
    pub condition: Condition,
    /// The path globs as written, for the summary every report gives of the config.
    pub path_patterns: Vec<String>,
    /// Globs on the repository-relative path. A glob without `/` matches the file name at any depth.
    pub name_globs: Option<GlobSet>,
    pub path_globs: Option<GlobSet>,
    /// Regexes on the path (gitleaks' `paths`).
    pub path_regexes: Vec<Regex>,
    /// Regexes on the secret.
    pub regexes: Vec<Regex>,
    /// Regexes on the finding's whole line (gitleaks' `regexTarget = "line"`).
    pub line_regexes: Vec<Regex>,
    /// Lower-case words; a secret containing one is allowed.
    pub stopwords: Vec<String>,
    /// Commit ids (prefixes of at least 7 hex digits) whose findings are allowed.
    pub commits: Vec<String>,
    /// Findings in test, fixture, docs or example paths are allowed.
    pub test_paths: bool,
}

/// What an allowlist looks at in a finding.
pub struct Candidate<'a> {
    pub rule: &'a str,
    pub path: &'a str,
    pub secret: &'a str,
    pub commit: Option<&'a str>,
    pub test: bool,
    /// The finding's whole line, when known.
    pub line: Option<&'a str>,
}

impl Allowlist {
    /// An allowlist that allows nothing yet; `origin` names where it was written (`file:line`).
    pub(super) fn new(origin: String) -> Self {
        Allowlist {
            origin,
            rules: Vec::new(),
            condition: Condition::Or,
            path_patterns: Vec::new(),
            name_globs: None,
            path_globs: None,
            path_regexes: Vec::new(),
            regexes: Vec::new(),
            line_regexes: Vec::new(),
            stopwords: Vec::new(),
            commits: Vec::new(),
            test_paths: false,
        }
    }

    pub fn applies_to(&self, rule: &str) -> bool {
        self.rules.is_empty() || self.rules.iter().any(|r| r == rule)
    }

    fn has_path_criteria(&self) -> bool {
        self.name_globs.is_some() || self.path_globs.is_some() || !self.path_regexes.is_empty()
    }

    fn path_matches(&self, path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        self.name_globs.as_ref().is_some_and(|g| g.is_match(name))
            || self.path_globs.as_ref().is_some_and(|g| g.is_match(path))
            || self.path_regexes.iter().any(|r| r.is_match(path))
    }

    /// True when this allowlist, for any rule, allows everything in the file at `path`: the walker can skip
    /// the file without reading it.
    pub fn prunes(&self, path: &str) -> bool {
        if !self.rules.is_empty() || !self.has_path_criteria() || path == "-" {
            return false;
        }
        let only_paths = self.regexes.is_empty()
            && self.line_regexes.is_empty()
            && self.stopwords.is_empty()
            && self.commits.is_empty()
            && !self.test_paths;
        (self.condition == Condition::Or || only_paths) && self.path_matches(path)
    }

    /// One line saying what this allowlist lets through (`.pkhound.toml:4: paths "vendor/**"; stopwords "sample"`).
    pub fn describe(&self) -> String {
        let quoted = |v: &mut dyn Iterator<Item = &str>| v.map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ");
        let mut parts = Vec::new();
        if !self.rules.is_empty() {
            parts.push(format!(
                "for rules {}",
                quoted(&mut self.rules.iter().map(String::as_str))
            ));
        }
        let paths: Vec<&str> = self
            .path_patterns
            .iter()
            .map(String::as_str)
            .chain(self.path_regexes.iter().map(Regex::as_str))
            .collect();
        if !paths.is_empty() {
            parts.push(format!("paths {}", quoted(&mut paths.into_iter())));
        }
        if !self.regexes.is_empty() {
            parts.push(format!(
                "secrets matching {}",
                quoted(&mut self.regexes.iter().map(Regex::as_str))
            ));
        }
        if !self.line_regexes.is_empty() {
            parts.push(format!(
                "lines matching {}",
                quoted(&mut self.line_regexes.iter().map(Regex::as_str))
            ));
        }
        if !self.stopwords.is_empty() {
            parts.push(format!(
                "stopwords {}",
                quoted(&mut self.stopwords.iter().map(String::as_str))
            ));
        }
        if !self.commits.is_empty() {
            parts.push(format!(
                "commits {}",
                quoted(&mut self.commits.iter().map(String::as_str))
            ));
        }
        if self.test_paths {
            parts.push("test, fixture, docs and example paths".to_string());
        }
        let join = if self.condition == Condition::And {
            " and "
        } else {
            "; "
        };
        format!("allowlist {}: {}", self.origin, parts.join(join))
    }

    /// True when the finding is allowed by this allowlist.
    pub fn allows(&self, c: &Candidate<'_>) -> bool {
        if !self.applies_to(c.rule) {
            return false;
        }
        let lower = c.secret.to_ascii_lowercase();
        let checks: [Option<bool>; 6] = [
            self.has_path_criteria()
                .then(|| c.path != "-" && self.path_matches(c.path)),
            (!self.regexes.is_empty()).then(|| self.regexes.iter().any(|r| r.is_match(c.secret))),
            (!self.line_regexes.is_empty())
                .then(|| c.line.is_some_and(|l| self.line_regexes.iter().any(|r| r.is_match(l)))),
            (!self.stopwords.is_empty()).then(|| self.stopwords.iter().any(|w| lower.contains(w.as_str()))),
            (!self.commits.is_empty()).then(|| {
                c.commit
                    .is_some_and(|sha| self.commits.iter().any(|p| sha.starts_with(p.as_str())))
            }),
            self.test_paths.then_some(c.test),
        ];
        let mut given = checks.iter().flatten().peekable();
        if given.peek().is_none() {
            return false;
        }
        match self.condition {
            Condition::Or => given.any(|&b| b),
            Condition::And => given.all(|&b| b),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigSpec {
    #[serde(default)]
    rule: Vec<RuleSpec>,
    #[serde(default)]
    disable: Vec<Spanned<String>>,
    #[serde(default)]
    severity: BTreeMap<String, Spanned<Severity>>,
    #[serde(default)]
    allowlist: Option<Spanned<AllowSpec>>,
    #[serde(default)]
    allowlists: Vec<Spanned<AllowSpec>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowSpec {
    #[serde(default)]
    #[allow(dead_code)]
    description: String,
    #[serde(default)]
    rules: Vec<Spanned<String>>,
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    regexes: Vec<Spanned<String>>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    test_paths: bool,
}

/// Reads and loads a config file (either format).
pub fn load_file(path: &Path) -> Result<UserConfig, ConfigError> {
    let file = path.display().to_string();
    let text = crate::userfile::read_to_string(path).map_err(|e| ConfigError::Io {
        file: file.clone(),
        message: format!("cannot read: {}", crate::userfile::message(&e)),
    })?;
    load_str(&file, &text)
}

/// Loads a config from its text; `file` names it in errors and warnings.
pub fn load_str(file: &str, text: &str) -> Result<UserConfig, ConfigError> {
    let mut cfg = load_lenient(file, text)?;
    if cfg.problems.is_empty() {
        Ok(cfg)
    } else {
        Err(cfg.problems.remove(0))
    }
}

/// Like [`load_file`], but a rule whose regex does not compile is listed in `problems` and left out, so
/// that every such rule can be reported at once.
pub fn check_file(path: &Path) -> Result<UserConfig, ConfigError> {
    let file = path.display().to_string();
    let text = crate::userfile::read_to_string(path).map_err(|e| ConfigError::Io {
        file: file.clone(),
        message: format!("cannot read: {}", crate::userfile::message(&e)),
    })?;
    load_lenient(&file, &text)
}

fn load_lenient(file: &str, text: &str) -> Result<UserConfig, ConfigError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| toml_error(file, text, e, ""))?;
    if is_gitleaks(&table) {
        gitleaks::load(file, text)
    } else {
        load_pkhound(file, text)
    }
}

/// gitleaks configs have `[[rules]]`, `[extend]` or `title`; pkhound's have `[[rule]]`. A file with only
/// `[allowlist]` is read as pkhound's format unless the allowlist uses gitleaks-only keys.
fn is_gitleaks(table: &toml::Table) -> bool {
    const GITLEAKS_ALLOW_KEYS: &[&str] = &["regexTarget", "condition", "commits", "targetRules"];
    let allow_keys = |v: &toml::Value| match v {
        toml::Value::Table(t) => t.keys().any(|k| GITLEAKS_ALLOW_KEYS.contains(&k.as_str())),
        toml::Value::Array(a) => a
            .iter()
            .filter_map(toml::Value::as_table)
            .any(|t| t.keys().any(|k| GITLEAKS_ALLOW_KEYS.contains(&k.as_str()))),
        _ => false,
    };
    table.contains_key("rules")
        || table.contains_key("extend")
        || table.contains_key("title")
        || table.get("allowlist").is_some_and(allow_keys)
        || table.get("allowlists").is_some_and(allow_keys)
}

/// A toml or serde error, with the key path when serde knows it.
pub(super) fn toml_error(file: &str, text: &str, e: toml::de::Error, key: &str) -> ConfigError {
    let line = e.span().map_or(0, |s| line_at(text, s.start));
    let key = if key.is_empty() {
        e.span().map(|s| key_at(text, s.start)).unwrap_or_default()
    } else {
        key.to_string()
    };
    let message = e
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    if line == 0 {
        ConfigError::Whole {
            file: file.to_string(),
            message,
        }
    } else {
        ConfigError::At {
            file: file.to_string(),
            line,
            key: if key.is_empty() { "(syntax)".to_string() } else { key },
            message,
        }
    }
}

/// Deserializes `text` as `T`; errors carry the key path (`rule[0].severity`) and the line.
pub(super) fn parse<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<T, ConfigError> {
    let de = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        // `Spanned<T>` shows up in serde's path as a private field name.
        let path = e.path().to_string().replace(".$__serde_spanned_private_value", "");
        let key = if path == "." { String::new() } else { path };
        toml_error(file, text, e.into_inner(), &key)
    })
}

/// The 1-based line of byte offset `at`.
pub(super) fn line_at(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1
}

/// The key written on the line at `at` (`name = 3` → `name`; `[allowlist]` → `allowlist`).
fn key_at(text: &str, at: usize) -> String {
    // `get`, not indexing: a span that is not on a character boundary must not panic.
    let (Some(before), Some(after)) = (text.get(..at), text.get(at..)) else {
        return String::new();
    };
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let end = after.find('\n').map_or(text.len(), |i| at + i);
    let line = text.get(start..end).unwrap_or("").trim();
    if let Some((k, _)) = line.split_once('=') {
        k.trim().trim_matches('"').to_string()
    } else {
        line.trim_matches(|c| c == '[' || c == ']').trim().to_string()
    }
}

/// The line where rule `id` is defined (its `id = "…"`), or 0.
pub(super) fn rule_line(text: &str, id: &str) -> usize {
    for quote in ["\"", "'"] {
        let needle = format!("{quote}{id}{quote}");
        let mut from = 0;
        while let Some(i) = text[from..].find(&needle) {
            let at = from + i;
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            if text[line_start..at].trim_start().starts_with("id") {
                return line_at(text, at);
            }
            from = at + needle.len();
        }
    }
    0
}

fn at(file: &str, line: usize, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::At {
        file: file.to_string(),
        line,
        key: key.into(),
        message: message.into(),
    }
}

fn load_pkhound(file: &str, text: &str) -> Result<UserConfig, ConfigError> {
    let spec: ConfigSpec = parse(file, text)?;
    let mut cfg = UserConfig::empty(file, ConfigKind::Pkhound);
    for (i, mut rule) in spec.rule.into_iter().enumerate() {
        let line = rule_line(text, &rule.id);
        let key = format!("rule[{i}]");
        validate_spec(file, &mut rule).map_err(|e| match e {
            RuleError::Invalid { rule, message, .. } => at(file, line, format!("rule `{rule}`"), message),
            other => at(file, line, key.clone(), other.to_string()),
        })?;
        let regexes = std::iter::once(("regex", &*rule.regex))
            .chain(rule.allow.iter().map(|a| ("allow", a.as_str())))
            .chain(rule.allow_before.iter().map(|a| ("allow_before", a.as_str())));
        let bad: Vec<ConfigError> = regexes
            .filter_map(|(field, re)| {
                check_regex(re)
                    .err()
                    .map(|m| at(file, line, format!("rule `{}`: {field}", rule.id), m))
            })
            .collect();
        if !bad.is_empty() {
            cfg.problems.extend(bad);
            continue;
        }
        if let Some(first) = cfg.rules.iter().find(|r| r.spec.id == rule.id) {
            let first_line = rule_line(text, &first.spec.id);
            return Err(at(
                file,
                line,
                format!("rule `{}`", rule.id),
                format!("duplicate rule id (first defined on line {first_line})"),
            ));
        }
        cfg.rule_lines.insert(rule.id.clone(), line);
        cfg.rules.push(LoadedRule {
            file: Text::from(file),
            spec: rule.into(),
            builtin: false,
        });
    }
    // A config's rule may supersede only the config's own rules: superseding a built-in one would hide
    // that rule's findings behind the config's (another id, maybe a lower severity).
    let own: std::collections::HashSet<String> = cfg.rules.iter().map(|r| r.spec.id.clone()).collect();
    for rule in &mut cfg.rules {
        rule.spec.supersedes.retain(|id| own.contains(id));
    }
    cfg.disable = spec
        .disable
        .into_iter()
        .map(|s| Placed {
            line: line_at(text, s.span().start),
            value: s.into_inner(),
        })
        .collect();
    cfg.severity = spec
        .severity
        .into_iter()
        .map(|(id, s)| Placed {
            line: line_at(text, s.span().start),
            value: (id, s.into_inner()),
        })
        .collect();
    let scoped = spec.allowlists.into_iter().map(|a| (a, "allowlists"));
    for (allow, key) in spec.allowlist.map(|a| (a, "allowlist")).into_iter().chain(scoped) {
        cfg.allowlists.push(compile_allow(file, text, key, allow)?);
    }
    Ok(cfg)
}

fn check_regex(re: &str) -> Result<(), String> {
    regex::bytes::RegexBuilder::new(re)
        .size_limit(32 << 20)
        .build()
        .map(|_| ())
        .map_err(|e| one_line(&e.to_string()))
}

/// Regex errors span lines (the pattern, a caret, the reason); config errors are one line each.
pub fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    match lines.last() {
        Some(last) if lines.len() > 1 => last.trim_start_matches("error: ").to_string(),
        _ => message.trim().to_string(),
    }
}

fn compile_allow(file: &str, text: &str, key: &str, spec: Spanned<AllowSpec>) -> Result<Allowlist, ConfigError> {
    let line = line_at(text, spec.span().start);
    let spec = spec.into_inner();
    let mut allow = Allowlist::new(format!("{file}:{line}"));
    allow.rules = spec.rules.into_iter().map(Spanned::into_inner).collect();
    allow.path_patterns = spec.paths.iter().map(|p| p.get_ref().clone()).collect();
    let (names, paths) =
        compile_globs(&spec.paths).map_err(|(span, m)| at(file, line_at(text, span), format!("{key}.paths"), m))?;
    allow.name_globs = names;
    allow.path_globs = paths;
    for r in spec.regexes {
        let re = Regex::new(r.get_ref()).map_err(|e| {
            at(
                file,
                line_at(text, r.span().start),
                format!("{key}.regexes"),
                one_line(&e.to_string()),
            )
        })?;
        allow.regexes.push(re);
    }
    allow.stopwords = spec.stopwords.iter().map(|w| w.to_lowercase()).collect();
    allow.test_paths = spec.test_paths;
    if let Some(empty) = allow.stopwords.iter().position(String::is_empty) {
        return Err(at(
            file,
            line,
            format!("{key}.stopwords"),
            format!("stopword {empty} is empty"),
        ));
    }
    Ok(allow)
}

type Globs = (Option<GlobSet>, Option<GlobSet>);

/// Splits globs into file-name globs (no `/`) and path globs, gitignore-style: a leading `/` anchors at the
/// root, a trailing `/` means everything below.
fn compile_globs(globs: &[Spanned<String>]) -> Result<Globs, (usize, String)> {
    let mut names = GlobSetBuilder::new();
    let mut paths = GlobSetBuilder::new();
    let (mut n, mut p) = (0, 0);
    for g in globs {
        let raw = g.get_ref().trim();
        if raw.is_empty() {
            return Err((g.span().start, "empty glob".to_string()));
        }
        let mut pat = raw.trim_start_matches('/').to_string();
        if pat.ends_with('/') {
            pat.push_str("**");
        }
        let glob: Glob = GlobBuilder::new(&pat)
            .literal_separator(true)
            .build()
            .map_err(|e| (g.span().start, format!("bad glob `{raw}`: {}", e.kind())))?;
        if raw.contains('/') {
            paths.add(glob);
            p += 1;
        } else {
            names.add(glob);
            n += 1;
        }
    }
    let build = |b: GlobSetBuilder, count: usize| -> Result<Option<GlobSet>, (usize, String)> {
        if count == 0 {
            return Ok(None);
        }
        b.build().map(Some).map_err(|e| (0, e.to_string()))
    };
    Ok((build(names, n)?, build(paths, p)?))
}

/// What a config changes in a scan, in words: everything it does, and the part that weakens the built-in
/// rules (named loudly in every report: a repository can otherwise switch its own scan off).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub changes: Vec<String>,
    pub weakens: Vec<String>,
}

/// Ordinary source and config files: an allowlist that lets a built-in rule's real-looking secret through
/// in one of these allows far more than a vendored directory or a fixture.
const PROBE_PATHS: [&str; 5] = [
    "src/main.py",
    ".env",
    "config/settings.yaml",
    "app/index.js",
    "deploy/prod.tf",
];

/// Describes `cfg` against the built-in rules.
///
/// Weakening: disabling or replacing a built-in rule, lowering its severity, restricting it to some
/// paths, and any allowlist that lets a built-in rule's own positive example through in an ordinary file
/// ([`PROBE_PATHS`]): `paths = ["**"]`, `regexes = ['.']`, a one-letter stopword. Narrow allowlists
/// (`vendor/**`, one known test value, `test_paths`) are listed as changes.
pub fn summarize(cfg: &UserConfig, builtin: &[LoadedRule]) -> Summary {
    let mut out = Summary::default();
    let is_builtin = |id: &str| builtin.iter().any(|b| b.spec.id == id);
    let mut add = |weak: bool, text: String| {
        if weak {
            out.weakens.push(text.clone());
        }
        out.changes.push(text);
    };
    for r in &cfg.rules {
        if is_builtin(&r.spec.id) {
            add(true, format!("replaces built-in rule `{}`", r.spec.id));
        } else {
            add(false, format!("adds rule `{}`", r.spec.id));
        }
        // Where `--verify` would send this rule's secrets (honoured only from a config named with --config).
        if let Some(h) = &r.spec.verify_http {
            add(false, format!("rule `{}` verifies its secrets at {}", r.spec.id, h.url));
        } else if let Some(v) = &r.spec.verify {
            add(false, format!("rule `{}` verifies its secrets with {v}", r.spec.id));
        }
    }
    for d in &cfg.disable {
        add(
            is_builtin(&d.value),
            format!(
                "disables {}rule `{}`",
                if is_builtin(&d.value) { "built-in " } else { "" },
                d.value
            ),
        );
    }
    for s in &cfg.severity {
        let (id, to) = &s.value;
        match builtin.iter().find(|b| b.spec.id == *id) {
            Some(b) if *to < b.spec.severity => add(
                true,
                format!("lowers built-in rule `{id}` from {} to {to}", b.spec.severity),
            ),
            Some(b) => add(false, format!("sets rule `{id}` from {} to {to}", b.spec.severity)),
            None => add(false, format!("sets rule `{id}` to {to}")),
        }
    }
    for (id, re) in &cfg.rule_paths {
        add(
            is_builtin(id),
            format!("reports rule `{id}` only in paths matching `{}`", re.as_str()),
        );
    }
    for a in &cfg.allowlists {
        let broad = builtin
            .iter()
            .filter(|b| a.applies_to(&b.spec.id))
            .filter_map(|b| b.spec.examples.positive.first().map(|ex| (b, ex)))
            .find_map(|(b, ex)| {
                PROBE_PATHS
                    .iter()
                    .find(|path| {
                        a.allows(&Candidate {
                            rule: &b.spec.id,
                            path,
                            secret: &ex.secret,
                            commit: None,
                            test: false,
                            line: Some(&ex.text),
                        })
                    })
                    .map(|path| (b.spec.id.as_str(), *path))
            });
        match broad {
            Some((id, path)) => add(
                true,
                format!("{} (broad: it allows a `{id}` key in `{path}`)", a.describe()),
            ),
            None => add(false, a.describe()),
        }
    }
    out
}

/// The rules a scan runs: built-ins, then the config's, with disabled rules removed and severities set.
#[derive(Debug)]
pub struct Resolved {
    pub rules: Vec<LoadedRule>,
    pub warnings: Vec<String>,
}

/// Merges `cfg` into `builtin`. Unknown ids in `disable` and `[severity]` are errors naming the line (a
/// typo must not leave a rule on); a custom rule may not reuse a built-in id in pkhound's format.
pub fn resolve(builtin: Vec<LoadedRule>, cfg: Option<&UserConfig>) -> Result<Resolved, ConfigError> {
    let mut rules = builtin;
    let mut warnings = Vec::new();
    let Some(cfg) = cfg else {
        return Ok(Resolved { rules, warnings });
    };
    warnings.extend(cfg.warnings.iter().cloned());
    for rule in &cfg.rules {
        if let Some(i) = rules.iter().position(|r| r.spec.id == rule.spec.id) {
            if cfg.overrides_builtin {
                warnings.push(format!(
                    "{}: rule `{}` replaces the built-in rule of that id",
                    cfg.file, rule.spec.id
                ));
                rules.remove(i);
            } else {
                return Err(ConfigError::At {
                    file: cfg.file.clone(),
                    line: cfg.rule_lines.get(&rule.spec.id).copied().unwrap_or(0),
                    key: format!("rule `{}`", rule.spec.id),
                    message: "duplicate rule id (a built-in rule has this id; disable it or pick another id)".into(),
                });
            }
        }
        rules.push(rule.clone());
    }
    let unknown = |key: &str, id: &str, line: usize| ConfigError::At {
        file: cfg.file.clone(),
        line,
        key: key.to_string(),
        message: format!("unknown rule id `{id}` (see `pkhound rules`)"),
    };
    for d in &cfg.disable {
        match rules.iter().position(|r| r.spec.id == d.value) {
            Some(i) => {
                rules.remove(i);
            }
            None if cfg.strict_ids => return Err(unknown("disable", &d.value, d.line)),
            None => warnings.push(format!(
                "{}: disabled rule `{}` is not a pkhound rule",
                cfg.file, d.value
            )),
        }
    }
    for s in &cfg.severity {
        let (id, sev) = &s.value;
        match rules.iter_mut().find(|r| r.spec.id == *id) {
            Some(r) => r.spec.severity = *sev,
            None => return Err(unknown(&format!("severity.{id}"), id, s.line)),
        }
    }
    for a in &cfg.allowlists {
        for id in &a.rules {
            if !rules.iter().any(|r| r.spec.id == *id) && !cfg.disable.iter().any(|d| d.value == *id) {
                if cfg.strict_ids {
                    let line = a.origin.rsplit(':').next().and_then(|l| l.parse().ok()).unwrap_or(0);
                    return Err(unknown("allowlists.rules", id, line));
                }
                warnings.push(format!("{}: allowlist for unknown rule `{id}`", cfg.file));
            }
        }
    }
    Ok(Resolved { rules, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(text: &str) -> Allowlist {
        load_str("c.toml", text).expect("loads").allowlists.remove(0)
    }

    fn cand<'a>(path: &'a str, secret: &'a str) -> Candidate<'a> {
        Candidate {
            rule: "r",
            path,
            secret,
            commit: None,
            test: false,
            line: None,
        }
    }

    #[test]
    fn globs_without_a_slash_match_the_file_name_anywhere() {
        let a = allow("[allowlist]\npaths = ['*.snap', 'vendor/**', '/third_party/']\n");
        assert!(a.allows(&cand("src/__snapshots__/x.snap", "s")));
        assert!(a.allows(&cand("vendor/a/b.js", "s")));
        assert!(a.allows(&cand("third_party/lib.c", "s")));
        assert!(!a.allows(&cand("src/vendor/a.js", "s")));
        assert!(!a.allows(&cand("src/app.py", "s")));
        assert!(a.prunes("vendor/x"));
    }

    /// A config's rule may not hide a built-in rule's findings behind its own; among its own rules it may.
    #[test]
    fn a_config_rule_supersedes_only_the_configs_own_rules() {
        let rule = |id: &str, sup: &str| {
            format!(
                "[[rule]]\nid = '{id}'\nname = 'n'\nseverity = 'info'\nkeywords = ['sk_live_']\n\
                 regex = 'sk_live_[a-z]{{24}}'\nremediation = 'r'\nsupersedes = [{sup}]\n"
            )
        };
        let text = rule("mine-a", "'stripe-secret-key-live', 'mine-b'") + &rule("mine-b", "");
        let cfg = load_str("c.toml", &text).expect("config loads");
        let a = cfg.rules.iter().find(|r| r.spec.id == "mine-a").expect("mine-a");
        assert_eq!(a.spec.supersedes, vec!["mine-b".to_string()]);
    }

    /// A config's rule may call a fragment (`(?&assign)`); a call of an unknown one names the rule.
    #[test]
    fn a_config_rule_calls_fragments() {
        let rule = |call: &str| {
            format!(
                "[[rule]]\nid = 'acme-token'\nname = 'n'\nseverity = 'high'\nkeywords = ['acme_token']\n\
                 regex = '''ACME_TOKEN{call}\\s{{0,3}}['\"]?(?P<secret>acm_[a-z0-9]{{24}})'''\nremediation = 'r'\n"
            )
        };
        let cfg = load_str("c.toml", &rule("(?&assign)")).expect("config loads");
        let regex = &cfg.rules[0].spec.regex;
        assert!(
            regex.contains(super::super::fragment::ASSIGN) && !regex.contains("(?&"),
            "{regex}"
        );
        let err = load_str("c.toml", &rule("(?&asign)"))
            .expect_err("unknown fragment")
            .to_string();
        assert!(err.contains("acme-token") && err.contains("(?&asign)"), "{err}");
        // A pair regex calls fragments too.
        let paired = |call: &str| {
            rule("(?&assign)") + &format!("[rule.pair]\nlabel = 'key id'\nregex = '''(?P<part>{call})'''\n")
        };
        let cfg = load_str("c.toml", &paired("(?&aws_key_id)")).expect("config loads");
        let pair = cfg.rules[0].spec.pair.as_ref().expect("a pair");
        assert_eq!(pair.regex, format!("(?P<part>{})", super::super::fragment::AWS_KEY_ID));
        let err = load_str("c.toml", &paired("(?&aws_key)"))
            .expect_err("unknown fragment")
            .to_string();
        assert!(err.contains("pair regex") && err.contains("(?&aws_key)"), "{err}");
    }

    #[test]
    fn regexes_and_stopwords_look_at_the_secret() {
        let a = allow("[allowlist]\nregexes = ['^tok_0']\nstopwords = ['Sample']\n");
        assert!(a.allows(&cand("a", "tok_0abc")));
        assert!(a.allows(&cand("a", "tok_SAMPLEabc")));
        assert!(!a.allows(&cand("a", "tok_1abc")));
        assert!(!a.prunes("a"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
            let _ = load_str("c.toml", &text);
        }

        /// Arbitrary bytes (as a file read from disk would give) never panic the loader. See: issue 12.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = load_str("c.toml", &String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn arbitrary_tomlish_text_never_panics(text in "(\\[\\[?(rule|rules|allowlist|allowlists|extend)\\]\\]?\n|[a-z]{1,8} = (\"[^\"\n]{0,12}\"|[0-9]{1,3}|\\[\\]|true)\n){0,12}") {
            let _ = load_str("c.toml", &text);
        }
    }

    fn summary(text: &str) -> Summary {
        let builtin = crate::rules::builtin().expect("built-in rules load");
        summarize(&load_str("c.toml", text).expect("loads"), &builtin)
    }

    /// A config that switches the scan off is named as weakening it; a narrow one is only listed.
    // See: issue 12 ("A repository that switches its own scan off").
    #[test]
    fn weakening_configs_are_named() {
        for text in [
            "[allowlist]\npaths = ['**']\n",
            "[allowlist]\npaths = ['*']\n",
            "[allowlist]\nregexes = ['.']\n",
            "[allowlist]\nstopwords = ['a']\n",
            "disable = ['klaviyo-private-key']\n",
            "[severity]\nklaviyo-private-key = 'info'\n",
            "[[allowlists]]\nrules = ['klaviyo-private-key']\npaths = ['**/*']\n",
        ] {
            let s = summary(text);
            assert!(!s.weakens.is_empty(), "{text}: {s:?}");
        }
        for text in [
            "[allowlist]\npaths = ['vendor/**', '*.snap']\n",
            "[allowlist]\nregexes = ['^pk_0{6}']\n",
            "[allowlist]\ntest_paths = true\n",
            "[severity]\ngeneric-password-assignment = 'high'\n",
        ] {
            let s = summary(text);
            assert!(s.weakens.is_empty(), "{text}: {s:?}");
            assert_eq!(s.changes.len(), 1, "{text}: {s:?}");
        }
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = load_str("c.toml", "disable = []\n[allowlist]\npaths = 3\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.toml:3: allowlist.paths: invalid type: integer `3`, expected a sequence"
        );
        let e = load_str("c.toml", "\n[allowlist]\ncolour = 'blue'\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("c.toml:3: allowlist.colour: unknown field `colour`"),
            "{e}"
        );
    }
}
