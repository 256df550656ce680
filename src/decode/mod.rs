//! Secrets hidden in encodings: base64 runs, percent-encoding, JSON / JavaScript / Python string escapes
//! and HTML character references, nested up to [`MAX_DEPTH`] (base64 of a percent-encoded `.env`). Each
//! encoded run is decoded into a derived buffer, scanned with the same engine, and each match maps back
//! to the encoded span of the original blob; the finding says how it was encoded (`base64>percent`).
//!
//! Cost: no extra pass over the bytes. Each [`Decoder`] hands the engine the encoded spellings of every
//! rule keyword (`cGtf`, `%70k_`, `pk%5F`, `\u0070k_`, `&#112;k_` …), so the one prefilter pass that finds
//! clear keywords also finds encoded ones; only the text around such a hit is decoded, at most
//! [`AHEAD`](base64::AHEAD) bytes ahead of it, and a blob decodes at most twice its size (or 64 KiB)
//! in all, so decoding never costs more than a small constant times the blob's scan.
//!
//! This module knows the engine and `locate`; it never sees a source, a writer or a report.

mod base64;
pub(crate) mod spell;
mod text;

pub(crate) use text::xml_unescaped;

use std::sync::Arc;

use memchr::{memchr_iter, memrchr};

use crate::engine::{DecoderHit, Engine, ExtraPattern, ExtraSource, Gate, Scratch};
use crate::finding::{Encoding, Exposure, Finding, Origin, Step};
use crate::locate::{self, LineSpans, Span};
use crate::rules::{LoadedRule, Text};
use crate::triage;

pub use self::base64::{decode_base64, keyword_encodings, mostly_text, window};

/// How many encodings deep a secret is looked for (`base64>percent>escape`).
pub const MAX_DEPTH: usize = 3;
/// The least a blob may decode in all, whatever its size.
const MIN_BUDGET: usize = 64 * 1024;

/// Decoded text and, for each of its bytes, the span of the encoded characters it came from.
#[derive(Debug, Default)]
pub struct Decoded {
    pub bytes: Vec<u8>,
    /// `starts[i]..ends[i]`: where byte `i` is spelled in the encoded text.
    pub starts: Vec<usize>,
    pub ends: Vec<usize>,
}

impl Decoded {
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.starts.clear();
        self.ends.clear();
    }

    /// Appends decoded `bytes`, all spelled by `from..to` of the encoded text.
    pub fn push(&mut self, bytes: &[u8], from: usize, to: usize) {
        self.bytes.extend_from_slice(bytes);
        for _ in bytes {
            self.starts.push(from);
            self.ends.push(to);
        }
    }

    /// The encoded span of decoded bytes `start..end` (not empty).
    fn source(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        let s = *self.starts.get(start)?;
        let e = *self.ends.get(end.checked_sub(1)?)?;
        Some((s, e.max(s)))
    }
}

/// A way a secret can be hidden in text, found through patterns in the engine's one prefilter pass.
pub trait Decoder: Sync {
    /// What findings it produces say about their encoding.
    fn step(&self) -> Step;

    /// Patterns for the engine's automaton, derived from a rule keyword, each with its shift (how many
    /// bytes before the hit the decoder wants the position reported).
    fn patterns(&self, keyword: &[u8]) -> Vec<(String, usize)>;

    /// Whether a snippet masks the whole encoded run (base64: any part of it spells the secret's bits),
    /// or only the secret's own encoded span (escapes: the text around it is readable).
    fn masks_run(&self) -> bool;

    /// Decodes the text around a hit at `at` into `out` (cleared first): `Some(run)`, the span of `hay`
    /// that was decoded, or `None` when there is nothing worth scanning there.
    fn decode(&self, hay: &[u8], at: usize, out: &mut Decoded) -> Option<(usize, usize)>;

    /// The decoder (an index into [`DECODERS`]) whose escapes cut the run around the hit at `at`
    /// (percent-encoded base64: `cGtf…%2B…`; JSON's `\/`), when there is one: it decodes the hit's
    /// text first, and this decoder's own hit in its output recurses, so the chain is `percent>base64`.
    fn outer(&self, _hay: &[u8], _at: usize) -> Option<usize> {
        None
    }
}

/// Every decoder. An index here is the engine's decoder id.
pub static DECODERS: &[&dyn Decoder] = &[&base64::Base64, &text::Percent, &text::Escape, &text::HtmlEntity];
// The index of each decoder in `DECODERS` (a test holds them to their steps).
use spell::{BASE64, ESCAPE, HTML_ENTITY, PERCENT};

/// The patterns of every decoder for every keyword of `rules` (base64: each spelled as given, lowercased
/// and uppercased, since the automaton ignores ASCII case and an encoding does not), without repeats.
///
/// The text decoders take only keywords that spell the start of a secret (`pk_`, `AKIA`, `ghp_`,
/// `xoxb-`: anything but a plain word), as the rule spells them: an escape hides a secret, not the word
/// `klaviyo` beside it, and every pattern grows the automaton every scan builds at start-up (the
/// pre-commit hook's budget). Generic rules (`password`, `token`) give them none either: their findings
/// in decoded text are dropped.
pub fn patterns(rules: &[LoadedRule]) -> Vec<ExtraPattern> {
    let mut out = patterns_for(rules, Gate::Base64Run);
    out.extend(patterns_for(rules, Gate::Escape));
    out.extend(patterns_for(rules, Gate::LongBase64Run));
    out
}

// The built-in rules' decoder patterns, computed by `build.rs` with `spell` (`BUILTIN_SPELLED`), and
// what it computed them from (`BUILTIN_SPELLING_INPUTS`), their texts in one pool (`SPELLING_TEXT`).
include!(concat!(env!("OUT_DIR"), "/builtin_spellings.rs"));

/// Where a text is in `SPELLING_TEXT`, or a list in `SPELLING_SPANS`: (start, end).
type Spelt = (u32, u32);

/// A text of the built-in spelling tables, by its `(start, end)` in `SPELLING_TEXT`.
fn spelling_text((start, end): Spelt) -> &'static str {
    SPELLING_TEXT
        .get(start as usize..end as usize)
        .expect("build.rs wrote spans of SPELLING_TEXT")
}

/// A list of the built-in spelling tables, by its range of `SPELLING_SPANS`.
fn spelling_list((start, end): Spelt) -> impl Iterator<Item = &'static str> + Clone {
    SPELLING_SPANS
        .get(start as usize..end as usize)
        .expect("build.rs wrote ranges of SPELLING_SPANS")
        .iter()
        .map(|&span| spelling_text(span))
}

/// The patterns of the decoders behind `gate`: base64's for [`Gate::Base64Run`], the text decoders' for
/// [`Gate::Escape`] (each of their spellings holds a `%`, `\` or `&`), and base64's spellings of
/// escaped keywords for [`Gate::LongBase64Run`] (only a long run can hold a whole escaped key). For the
/// built-in rules (the usual case, and a pre-commit hook's start-up budget) all three were computed at
/// build time (computing the third's 3,000-odd patterns when a file first opened its gate was a sixth of
/// a hook's CPU on an ordinary commit).
pub fn patterns_for(rules: &[LoadedRule], gate: Gate) -> Vec<ExtraPattern> {
    if are_builtin_inputs(rules) {
        return builtin_patterns(gate);
    }
    if gate == Gate::LongBase64Run {
        let inputs: Vec<spell::RuleInput<'_>> = rules.iter().map(|r| spelling_input(&r.spec)).collect();
        return escaped_base64_patterns(&inputs);
    }
    computed_patterns(rules, gate == Gate::Base64Run)
        .into_iter()
        .map(|(p, d, s)| extra_pattern(p.into(), d, s, gate))
        .collect()
}

/// [`spell::escaped_in_base64`] as the engine's patterns.
fn escaped_base64_patterns(rules: &[spell::RuleInput<'_>]) -> Vec<ExtraPattern> {
    spell::escaped_in_base64(rules)
        .into_iter()
        .map(|(pattern, shift)| extra_pattern(pattern.into(), BASE64, shift, Gate::LongBase64Run))
        .collect()
}

/// Where an engine over `rules` gets its decoder patterns when a gate first opens (see
/// [`patterns_for`]): the built-in rules' come from build time and the source holds nothing; any other
/// rule set's are computed from a copy of it.
pub fn pattern_source(rules: &[LoadedRule]) -> ExtraSource {
    if are_builtin_inputs(rules) {
        return Arc::new(builtin_patterns);
    }
    let owned = Arc::new(rules.to_vec());
    Arc::new(move |gate| patterns_for(&owned, gate))
}

/// The built-in rules' patterns behind `gate`, as `build.rs` computed them.
fn builtin_patterns(gate: Gate) -> Vec<ExtraPattern> {
    let table = match gate {
        Gate::Base64Run => 0,
        Gate::Escape => 1,
        Gate::LongBase64Run => 2,
    };
    BUILTIN_SPELLED[table]
        .iter()
        .map(|&(p, d, s)| {
            extra_pattern(
                Text::from_static(spelling_text(p)),
                usize::from(d),
                usize::from(s),
                gate,
            )
        })
        .collect()
}

fn extra_pattern(pattern: Text, decoder: usize, shift: usize, gate: Gate) -> ExtraPattern {
    // libedit's `\040` is decoded wherever it is (a `.mysql_history`'s spaces).
    let in_value =
        (decoder == spell::ESCAPE && spell::IN_VALUE_ESCAPES.contains(&pattern.as_str()) && pattern != "\\040")
            || (decoder == spell::HTML_ENTITY && spell::IN_VALUE_ENTITIES.contains(&pattern.as_str()));
    ExtraPattern {
        in_value,
        pattern,
        decoder,
        shift,
        // `%6B` and `%6b`, `\u0070` and `\U0070` are the same byte; base64 case is not.
        exact_case: gate != Gate::Escape,
        gate,
    }
}

/// `patterns_for`'s work, done now: `(pattern, decoder, shift)`.
fn computed_patterns(rules: &[LoadedRule], base64: bool) -> Vec<spell::Spelled> {
    let inputs: Vec<spell::RuleInput<'_>> = rules.iter().map(|r| spelling_input(&r.spec)).collect();
    spell::gate_patterns(&inputs, base64)
}

/// Whether `rules` give the decoders exactly what the built-in rules gave `build.rs`, rule by rule. A
/// baked spec no one changed is a built-in rule as built, and is not read for this (with as many rules
/// as there are built-in ones and nothing reordering them, the list is the built-in list); any other
/// rule is compared by what the decoders read of it.
fn are_builtin_inputs(rules: &[LoadedRule]) -> bool {
    rules.len() == BUILTIN_SPELLING_INPUTS.len()
        && rules
            .iter()
            .zip(BUILTIN_SPELLING_INPUTS)
            .all(|(r, &(generic, keywords, secrets))| {
                if r.builtin && r.spec.is_baked() {
                    return true;
                }
                let spec = &r.spec;
                spec.is_generic() == generic
                    && spec.keywords.iter().map(|k| k.as_str()).eq(spelling_list(keywords))
                    && spec
                        .examples
                        .positive
                        .iter()
                        .map(|p| p.secret.as_str())
                        .eq(spelling_list(secrets))
            })
}

/// What the decoders' spellings depend on in a rule.
fn spelling_input(spec: &crate::rules::RuleSpec) -> spell::RuleInput<'_> {
    spell::RuleInput {
        generic: spec.is_generic(),
        keywords: spec.keywords.iter().map(|k| k.as_str()).collect(),
        secrets: spec.examples.positive.iter().map(|p| p.secret.as_str()).collect(),
    }
}

/// The spellings of `spec`'s keywords worth finding in base64 (see [`spell::encoded_spellings`]).
#[cfg(test)]
pub(crate) fn encoded_spellings(spec: &crate::rules::RuleSpec) -> Vec<String> {
    spell::encoded_spellings(&spelling_input(spec))
}

/// A secret found in decoded text, placed in the text that was decoded.
struct Hidden {
    /// Located in the decoded text; line, column and snippet are replaced once placed.
    finding: Finding,
    /// The secret's encoded span.
    span: (usize, usize),
    /// What a snippet masks: the outermost encoded run, or the secret's own span.
    mask: (usize, usize),
    encoding: Encoding,
}

/// Runs every decoder on the hits of the last `engine.scan(hay, scratch)`, appending the hidden secrets
/// to `out`. `out[from..]` holds the blob's clear findings: a decoded secret that is also in clear on the
/// same line is not reported twice, and the blob's findings stay in line order.
pub fn findings(
    engine: &Engine,
    scratch: &mut Scratch,
    path: &str,
    origin: &Origin,
    hay: &[u8],
    out: &mut Vec<Finding>,
    from: usize,
) {
    if scratch.decoder_hits().is_empty() {
        return;
    }
    let clear: Vec<Span> = scratch
        .matches()
        .iter()
        .map(|m| Span {
            start: m.start,
            end: m.end,
            encoded: None,
        })
        .collect();
    // The clear matches: a secret decoded from inside one is not reported when the clear match's rule
    // supersedes its rule (a token that holds another rule's secret encoded inside it, an AWS Bedrock
    // short-term key, base64 of a presigned URL naming its access key id, is one credential, reported
    // under the token's rule), or is its rule (a SAS token's percent-encoded `sig`, read in clear and
    // decoded).
    let covering: Vec<(usize, usize, usize)> = scratch.matches().iter().map(|m| (m.start, m.end, m.rule)).collect();
    let hits = scratch.take_decoder_hits();
    let mut budget = hay.len().saturating_mul(2).max(MIN_BUDGET);
    let mut hidden = Vec::new();
    hidden_in(engine, scratch, path, origin, hay, hits, 1, &mut budget, &mut hidden);
    if hidden.is_empty() {
        return;
    }
    hidden.sort_by_key(|h| h.span);
    let before = out.len();
    let mut placer = Placer {
        engine,
        hay,
        clear: &clear,
        lines: Lines::default(),
        // The blob's class from its path and head, once; each finding's variable may still raise it.
        exposure: locate::exposure_of(path, origin, hay),
    };
    let mut runs: Vec<(usize, usize, &'static str)> = Vec::new();
    for h in hidden {
        let Hidden {
            mut finding,
            span,
            mask,
            encoding,
        } = h;
        let label = encoding.outer().label();
        let id = finding.rule.id.as_str();
        let covered = covering.iter().any(|&(s, e, rule)| {
            s <= span.0 && span.1 <= e && (engine.rule(rule).info.id.as_str() == id || engine.supersedes(rule, id))
        });
        if covered {
            continue;
        }
        if !placer.place(&mut finding, span, (mask.0, mask.1, label)) {
            continue;
        }
        finding.encoding = Some(encoding);
        runs.push((mask.0, mask.1, label));
        let dup = out[from..]
            .iter()
            .any(|o| o.line == finding.line && o.fingerprint == finding.fingerprint);
        if !dup {
            out.push(finding);
        }
    }
    if out.len() > before {
        // A generic rule's clear match over an encoded run whose decoded bytes a specific rule named (a
        // Kubernetes Secret's value that holds a Klaviyo key) yields to it, as it does in clear text.
        let decoded: Vec<(usize, usize, usize)> =
            out[before..].iter().map(|d| (d.line, d.column, d.end_column)).collect();
        let mut index = 0;
        out.retain(|o| {
            let clear = (from..before).contains(&index);
            index += 1;
            !(clear
                && o.encoding.is_none()
                && o.rule.is_generic()
                && decoded
                    .iter()
                    .any(|&(line, c, e)| line == o.line && c < o.end_column && o.column < e))
        });
        out[from..].sort_by_key(|f| (f.line, f.column));
    }
    if !runs.is_empty() {
        runs.sort_unstable();
        runs.dedup();
        let mut lines = Lines::default();
        for f in &mut out[from..] {
            resnippet(engine, hay, &mut lines, f, &runs, &clear);
        }
    }
}

/// The secrets hidden around `hits` in `hay`, at nesting `depth` (1: the blob itself), with their spans
/// in `hay`. Decoded text is scanned with the same engine; its own decoder hits recurse.
#[allow(clippy::too_many_arguments)]
fn hidden_in(
    engine: &Engine,
    scratch: &mut Scratch,
    path: &str,
    origin: &Origin,
    hay: &[u8],
    mut hits: Vec<DecoderHit>,
    depth: usize,
    budget: &mut usize,
    out: &mut Vec<Hidden>,
) {
    hits.sort_unstable();
    hits.dedup();
    let mut decoded = Decoded::default();
    let mut done_to = 0;
    let mut last_decoder = usize::MAX;
    let mut located = Vec::new();
    for hit in hits {
        if hit.decoder != last_decoder {
            (last_decoder, done_to) = (hit.decoder, 0);
        }
        let Some(&d) = DECODERS.get(hit.decoder) else { continue };
        // An escaped run (percent-encoded base64) is unescaped first; its decoder's hit in the output
        // recurses, one level deeper.
        let d = match d.outer(hay, hit.at).and_then(|o| DECODERS.get(o)) {
            Some(&outer) if depth < MAX_DEPTH => outer,
            _ => d,
        };
        if hit.at < done_to || *budget == 0 {
            continue;
        }
        let Some(run) = d.decode(hay, hit.at, &mut decoded) else {
            continue;
        };
        done_to = run.1;
        *budget = budget.saturating_sub(decoded.bytes.len());
        let step = Encoding::of(d.step());
        let matches = engine.scan(&decoded.bytes, scratch).to_vec();
        let inner = scratch.take_decoder_hits();
        for m in &matches {
            located.clear();
            locate::findings(
                engine,
                path,
                origin,
                &decoded.bytes,
                std::slice::from_ref(m),
                &mut located,
            );
            let Some(f) = located.pop() else { continue };
            let Some(span) = decoded.source(m.start, m.end) else {
                continue;
            };
            // Generic `secret=` assignments inside decoded text (a JWT's or OAuth token's JSON, a query
            // string) are part of a token or already seen in clear, not a leak of their own; but a value
            // that is itself escaped (PHP's `"secret": "\/Ykn…"`, a `.properties` password with `\:`) is
            // one the clear scan could not read whole, and so is a password in XML with `&amp;` in it.
            let escaped_value =
                matches!(d.step(), Step::Escape | Step::HtmlEntity) && span.1 - span.0 > m.end - m.start;
            if f.rule.is_generic() && !escaped_value {
                continue;
            }
            let mask = if d.masks_run() { run } else { span };
            out.push(Hidden {
                finding: f,
                span,
                mask,
                encoding: step,
            });
        }
        if depth < MAX_DEPTH && !inner.is_empty() && *budget > 0 {
            let mut nested = Vec::new();
            let bytes = std::mem::take(&mut decoded);
            hidden_in(
                engine,
                scratch,
                path,
                origin,
                &bytes.bytes,
                inner,
                depth + 1,
                budget,
                &mut nested,
            );
            for h in nested {
                let Some(span) = bytes.source(h.span.0, h.span.1) else {
                    continue;
                };
                let mask = if d.masks_run() {
                    run
                } else {
                    bytes.source(h.mask.0, h.mask.1).unwrap_or(span)
                };
                out.push(Hidden {
                    finding: h.finding,
                    span,
                    mask,
                    encoding: step.then(h.encoding),
                });
            }
            decoded = bytes;
        }
    }
}

/// Renders a finding's snippet again when its line holds encoded runs that yielded findings, with every
/// such run collapsed: a snippet must not show the encoded form of *another* secret on its line.
fn resnippet(
    engine: &Engine,
    hay: &[u8],
    lines: &mut Lines,
    f: &mut Finding,
    runs: &[(usize, usize, &'static str)],
    clear: &[Span],
) {
    let Some(line_start) = lines.start_of(hay, f.line.max(1)) else {
        return;
    };
    let line_end = memchr::memchr(b'\n', &hay[line_start..]).map_or(hay.len(), |i| line_start + i);
    let on_line: Vec<Span> = runs
        .iter()
        .filter(|&&(s, e, _)| s < line_end && line_start < e)
        .map(|&(s, e, label)| Span {
            start: s.max(line_start),
            end: e.min(line_end),
            encoded: Some(label),
        })
        .collect();
    if on_line.is_empty() {
        return;
    }
    // The secret's byte offset, from its column (characters).
    let line = &hay[line_start..line_end];
    let mut chars = 0;
    let Some(col) = line.iter().position(|&b| {
        if (b & 0xC0) != 0x80 {
            chars += 1;
        }
        chars == f.column
    }) else {
        return;
    };
    let at = line_start + col;
    let own = if f.encoding.is_some() {
        on_line.iter().find(|m| m.start <= at && at < m.end)
    } else {
        clear.iter().find(|m| m.start == at)
    };
    let Some(&own) = own else { return };
    let mut extra: Vec<Span> = locate::on_line(clear, line_start, line_end).to_vec();
    extra.extend(on_line);
    let spans = LineSpans::new(engine, hay, line_start, line_end, &extra);
    f.snippet = locate::snippet(hay, line_start, line_end, (own.start, own.end), &spans);
}

/// Places decoded findings in the blob that was decoded.
struct Placer<'a> {
    engine: &'a Engine,
    hay: &'a [u8],
    /// The blob's clear matches, masked in each snippet.
    clear: &'a [Span],
    lines: Lines,
    /// The blob's exposure from its path and head.
    exposure: Exposure,
}

impl Placer<'_> {
    /// Moves a decoded finding to the encoded span `es..ee` of `hay`: line, columns, and a snippet of the
    /// original line with the masked run (`start, end, label`) shown as `«label»` (and every candidate beside
    /// it masked). False when the original line is inline-allowed.
    fn place(&mut self, f: &mut Finding, (es, ee): (usize, usize), run: (usize, usize, &'static str)) -> bool {
        let Placer {
            engine,
            hay,
            clear,
            ref mut lines,
            exposure,
        } = *self;
        let line_start = memrchr(b'\n', &hay[..es]).map_or(0, |i| i + 1);
        let line_end = memchr::memchr(b'\n', &hay[es..]).map_or(hay.len(), |i| es + i);
        if triage::inline_allowed(&hay[line_start..line_end]) {
            return false;
        }
        // The name on the encoded line (`KLAVIYO_KEY: cGtf…`) unless the decoded text named one itself (a
        // base64 `.env`'s `NEXT_PUBLIC_K=pk_…`).
        if f.variable.is_none() {
            f.variable = locate::printed_variable(engine, hay, line_start, es);
            f.exposure = exposure.with_variable(f.variable.as_deref());
            f.severity = locate::severity_of(f.rule.severity, f.exposure);
        }
        f.line = lines.line_of(hay, es);
        f.column = locate::char_count(&hay[line_start..es]) + 1;
        f.end_column = f.column + locate::char_count(&hay[es..ee.min(line_end).max(es)]);
        let (rs, re) = (run.0.max(line_start), run.1.min(line_end));
        let run_span = Span {
            start: rs,
            end: re.max(rs),
            encoded: Some(run.2),
        };
        let mut extra: Vec<Span> = locate::on_line(clear, line_start, line_end).to_vec();
        extra.push(run_span);
        let spans = LineSpans::new(engine, hay, line_start, line_end, &extra);
        f.snippet = locate::snippet(hay, line_start, line_end, (run_span.start, run_span.end), &spans);
        true
    }
}

/// A cursor over a blob's lines that only moves forward between resets: findings arrive (nearly) sorted
/// by position, so a big blob with many findings costs one pass over it, not one pass per finding.
struct Lines {
    /// 1-based line number of the line that starts at `start`.
    line: usize,
    start: usize,
}

impl Default for Lines {
    fn default() -> Self {
        Lines { line: 1, start: 0 }
    }
}

impl Lines {
    /// The 1-based line holding byte `at`.
    fn line_of(&mut self, hay: &[u8], at: usize) -> usize {
        if at < self.start {
            *self = Lines::default();
        }
        let at = at.min(hay.len());
        if let Some(i) = memrchr(b'\n', &hay[self.start..at]) {
            let last = self.start + i;
            self.line += memchr_iter(b'\n', &hay[self.start..=last]).count();
            self.start = last + 1;
        }
        self.line
    }

    /// Where 1-based line `n` starts, or None past the last line.
    fn start_of(&mut self, hay: &[u8], n: usize) -> Option<usize> {
        if n < self.line {
            *self = Lines::default();
        }
        while self.line < n {
            let i = memchr::memchr(b'\n', hay.get(self.start..)?)?;
            self.start += i + 1;
            self.line += 1;
        }
        Some(self.start)
    }
}

#[cfg(test)]
mod tests;
