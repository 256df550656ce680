//! Runs a rule's own examples through a compiled engine: the check behind the built-in rule test, custom
//! rules in a user's config, and `pkhound rules check`.
//!
//! The examples go through the real engine (prefilter, window, filters, generic-overlap resolution), not the
//! bare regex: an example that only passes against the regex would prove nothing about what a scan reports.

use std::fmt;

use super::{Engine, EngineError, Scratch};
use crate::finding::redact;
use crate::rules::{LoadedRule, Text};

/// One example that does not behave, or a rule with a missing example kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExampleProblem {
    pub file: String,
    pub rule: String,
    /// `positive[2]`, `negative[0]`, or empty for a problem of the rule as a whole.
    pub example: String,
    pub message: String,
}

impl fmt::Display for ExampleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.example.is_empty() {
            write!(f, "{}: rule `{}`: {}", self.file, self.rule, self.message)
        } else {
            write!(
                f,
                "{}: rule `{}`: {}: {}",
                self.file, self.rule, self.example, self.message
            )
        }
    }
}

/// Checks the examples of `rules[i]` for every `i` in `which`; `rules` must be the list `engine` was
/// compiled from (rule indices are shared). `require_both` makes a rule without positive or without
/// negative examples a problem (built-in rules; a user's rule may carry only positives).
pub fn check_examples(
    engine: &Engine,
    rules: &[LoadedRule],
    which: &[usize],
    require_both: bool,
) -> Vec<ExampleProblem> {
    let mut scratch = engine.scratch();
    let mut problems = Vec::new();
    for &idx in which {
        let Some(loaded) = rules.get(idx) else {
            continue;
        };
        let spec = &loaded.spec;
        let problem = |example: String, message: String| ExampleProblem {
            file: loaded.file.to_string(),
            rule: spec.id.clone(),
            example,
            message,
        };
        // Compiled eagerly here: a regex that does not compile is reported as such, not as examples that fail.
        if let Err(e) = engine.prepare([idx]) {
            let message = match e {
                EngineError::Regex { field, message, .. } => format!("{field}: {message}"),
                other => other.to_string(),
            };
            problems.push(problem(String::new(), message));
            continue;
        }
        if require_both && (spec.examples.positive.is_empty() || spec.examples.negative.is_empty()) {
            problems.push(problem(String::new(), "needs positive and negative examples".into()));
        }
        // The examples are scanned at the rule's example path (a path-gated rule must name one), and a
        // path-gated rule's positives must not be found at a path its gate refuses.
        let at = match (&spec.path, &spec.examples.path) {
            (Some(_), None) => {
                problems.push(problem(
                    String::new(),
                    "a rule with `path` needs `[rule.examples] path`".into(),
                ));
                continue;
            }
            (_, Some(at)) => at.as_str(),
            (None, None) => "example.txt",
        };
        let bytes = |text| example_bytes(&spec.examples, text);
        if spec.path.is_some() {
            engine.set_path(&mut scratch, "pkhound-example/elsewhere.txt");
            for (i, ex) in spec.examples.positive.iter().enumerate() {
                let Ok(hay) = bytes(&ex.text) else {
                    continue;
                };
                if !found(engine, &mut scratch, idx, &hay).is_empty() {
                    problems.push(problem(
                        format!("positive[{i}]"),
                        "found at a path the rule's `path` does not match".into(),
                    ));
                }
            }
        }
        engine.set_path(&mut scratch, at);
        for (i, ex) in spec.examples.positive.iter().enumerate() {
            let here = format!("positive[{i}]");
            let hay = match bytes(&ex.text) {
                Ok(hay) => hay,
                Err(message) => {
                    problems.push(problem(here, message));
                    continue;
                }
            };
            let lower = hay.to_ascii_lowercase();
            let has = |k: &Text| memchr::memmem::find(&lower, k.to_ascii_lowercase().as_bytes()).is_some();
            if !spec.keywords.is_empty() && !spec.keywords.iter().any(has) {
                problems.push(problem(here.clone(), "no keyword occurs in the text".into()));
            }
            let (found, partners) = found_with_partners(engine, &mut scratch, idx, &hay);
            if let (Some(want), [got]) = (&ex.partner, partners.as_slice()) {
                if got.as_ref() != Some(want) {
                    let got = got.as_deref().map(redact).unwrap_or_else(|| "nothing".into());
                    problems.push(problem(
                        here.clone(),
                        format!("expected the other half {}, got {got}", redact(want)),
                    ));
                }
            }
            if found != [ex.secret.to_string()] {
                // Redacted: an example may be a real key someone is testing a rule against.
                let got: Vec<String> = found.iter().map(|f| redact(f)).collect();
                let why = if found.is_empty() && !spec.examples.base64 {
                    rejected_by(spec, &ex.text, &ex.secret)
                        .map(|w| format!(" ({w})"))
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                problems.push(problem(
                    here,
                    format!("expected [{}], got [{}]{why}", redact(&ex.secret), got.join(", ")),
                ));
            }
        }
        for (i, text) in spec.examples.negative.iter().enumerate() {
            let here = format!("negative[{i}]");
            let hay = match bytes(text) {
                Ok(hay) => hay,
                Err(message) => {
                    problems.push(problem(here, message));
                    continue;
                }
            };
            let found = found(engine, &mut scratch, idx, &hay);
            if !found.is_empty() {
                let got: Vec<String> = found.iter().map(|f| redact(f)).collect();
                problems.push(problem(here, format!("expected nothing, got [{}]", got.join(", "))));
            }
        }
    }
    problems
}

/// The bytes an example's text stands for; a base64 example (a binary file's) that does not decode is a
/// problem of the example.
fn example_bytes<'a>(examples: &crate::rules::Examples, text: &'a str) -> Result<std::borrow::Cow<'a, [u8]>, String> {
    examples
        .bytes(text)
        .map_err(|e| format!("`base64 = true` but the text is not base64: {e}"))
}

/// Why a positive example's `secret` was not reported: the first filter of the rule that rejects it
/// where it sits in `text` (the order the engine applies them), or that the regex does not match it.
/// `None` when every filter passes (another rule's match took it, or the window missed it).
pub(super) fn rejected_by(spec: &crate::rules::RuleSpec, text: &str, secret: &str) -> Option<String> {
    let hay = text.as_bytes();
    let start = text.find(secret)?;
    let end = start + secret.len();
    let regex = regex::bytes::RegexBuilder::new(&spec.regex)
        .unicode(false)
        .build()
        .ok()?;
    if !regex_takes_secret_at(spec, &regex, hay, start, end) {
        return Some("the regex does not match the secret here".into());
    }
    let secret_bytes = &hay[start..end];
    if spec.delimited && !super::filter::is_delimited(hay, start, end) {
        return Some("rejected by the delimitation filter: glued to a longer token".into());
    }
    /// The first of `patterns` that matches `bytes`.
    fn first_match<'a>(patterns: &'a [crate::rules::Text], bytes: &[u8]) -> Option<&'a crate::rules::Text> {
        patterns.iter().find(|a| {
            regex::bytes::RegexBuilder::new(a)
                .unicode(false)
                .build()
                .is_ok_and(|r| r.is_match(bytes))
        })
    }
    if let Some(a) = first_match(&spec.allow, secret_bytes) {
        return Some(format!("rejected by the allow regex `{a}`"));
    }
    let from = regex
        .captures_iter(hay)
        .filter_map(|c| Some((c.get(0)?.start(), c.name("secret")?.start())))
        .find_map(|(from, s)| (s == start || s + 1 == start).then_some(from));
    if let Some(a) = from.and_then(|from| first_match(&spec.allow_before, &hay[from..start])) {
        return Some(format!("rejected by the allow_before regex `{a}`"));
    }
    let named = spec.is_generic() && regex.capture_names().any(|n| n == Some("name"));
    if named && super::filter::dotted_name(hay, start, end) {
        return Some("rejected as a dotted name (`settings.DB_PASSWORD`), a value read from an object".into());
    }
    if named && super::filter::path_of_names(secret_bytes) {
        return Some("rejected as a path (`/run/secrets/api_token`), a file's name".into());
    }
    if super::filter::digest_context(hay, start, end) {
        return Some("rejected by the digest filter: a hash or commit id in its context".into());
    }
    if super::filter::is_placeholder(secret_bytes) {
        return Some("rejected by the placeholder filter".into());
    }
    if spec.is_generic() && super::filter::encodes_placeholder(secret_bytes) {
        return Some("rejected as base64 of a placeholder (`c2tfbGl2ZV9SRVBMQUNFX01F`, `sk_live_REPLACE_ME`)".into());
    }
    if super::filter::is_published_sample(secret_bytes) {
        return Some("rejected as a provider's published sample".into());
    }
    if super::filter::echoes_user(hay, start, end) {
        return Some("rejected as the user name repeated (`admin:admin`), a default".into());
    }
    if super::filter::placeholder_value(hay, start) && !super::filter::opens_with_prefix(&spec.keywords, secret_bytes) {
        return Some("rejected as a placeholder's value (`placeholder: '…'`)".into());
    }
    let generic = spec.is_generic();
    if spec.refuses_stand_ins() && super::filter::is_stand_in(secret_bytes) {
        return Some("rejected as a hand-typed stand-in (`a1b2c3d4`, `abcdefgh`)".into());
    }
    if let Some(why) = generic
        .then(|| super::filter::generic_context_refusal(hay, start, end))
        .flatten()
    {
        return Some(format!("rejected as {why}"));
    }
    if generic && super::filter::is_altered_hex(secret_bytes) {
        return Some("rejected as altered hex (mixed case, stray letters or an odd length)".into());
    }
    if generic && super::filter::made_of_runs(secret_bytes) {
        return Some("rejected as made of counting runs (`abcd1234`)".into());
    }
    if let Some(min) = spec.min_entropy {
        let min = super::filter::entropy_threshold(min, secret_bytes, spec.caps_entropy());
        let e = super::filter::shannon_entropy(secret_bytes);
        if e < min {
            return Some(format!("rejected by the entropy filter: {e:.2} < min_entropy {min}"));
        }
    }
    let check_ok = spec.check.is_none_or(|c| super::check::passes_at(c, hay, start, end));
    if !check_ok {
        return Some(format!("rejected by the {:?} check", spec.check?));
    }
    None
}

/// True when a match of `regex` (the rule's, built over bytes) takes `start..end` of `hay` as its secret:
/// the `secret` group, the rule's `secret_group`, or the first group that matched.
pub(super) fn regex_takes_secret_at(
    spec: &crate::rules::RuleSpec,
    regex: &regex::bytes::Regex,
    hay: &[u8],
    start: usize,
    end: usize,
) -> bool {
    regex.captures_iter(hay).any(|c| {
        c.name("secret")
            .or_else(|| spec.secret_group.and_then(|g| c.get(g)))
            .or_else(|| c.iter().skip(1).flatten().next())
            .and_then(|m| match spec.is_generic() {
                // A generic rule takes a value whose first characters its alphabet leaves out with its quotes.
                true => super::filter::unquoted(hay, m.start(), m.end(), c.name("name").map(|n| (n.start(), n.end()))),
                false => Some((m.start(), m.end())),
            })
            == Some((start, end))
    })
}

/// The secrets rule `idx` finds in `hay` (as findings carry them), and the other half each one names.
/// `hay` is scanned as the scanner would: as the bytes of a binary file when it is one.
fn found_with_partners(
    engine: &Engine,
    scratch: &mut Scratch,
    idx: usize,
    hay: &[u8],
) -> (Vec<String>, Vec<Option<String>>) {
    let rule = engine.rule(idx);
    scratch.set_binary(crate::source::text::classify(hay) == crate::source::text::Class::Binary);
    engine
        .scan(hay, scratch)
        .iter()
        .filter(|m| m.rule == idx)
        .map(|m| {
            (
                String::from_utf8_lossy(&rule.secret_of(&hay[m.start..m.end])).into_owned(),
                m.partner.map(|(s, e)| String::from_utf8_lossy(&hay[s..e]).into_owned()),
            )
        })
        .unzip()
}

/// The secrets rule `idx` finds in `hay`.
fn found(engine: &Engine, scratch: &mut Scratch, idx: usize, hay: &[u8]) -> Vec<String> {
    found_with_partners(engine, scratch, idx, hay).0
}
