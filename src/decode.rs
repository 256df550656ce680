//! Secrets hidden in base64 (a Kubernetes Secret's `data:`, a base64-encoded `.env` in YAML or JSON): the
//! encoded run is decoded into a derived blob, scanned with the same engine, and each match maps back to
//! the encoded span of the original blob.
//!
//! Cost: no extra pass over the bytes. The engine's automaton also holds the base64 encodings of every
//! keyword at the three byte alignments (`pk_` at alignment 0 is `cGtf`), so the one prefilter pass that
//! finds clear keywords also finds encoded ones; only the run around such a hit is decoded. A keyword
//! whose encodings are too short to be selective (3 characters or fewer) is found at the alignments where
//! its encoding is long enough. Depth 1: a decoded blob is not decoded again.
//!
//! Decoders sit behind the [`Decoder`] trait: each hands the engine the patterns that betray its
//! encoding (the engine takes them as input and knows nothing of decoding), then turns the engine's hits
//! of those patterns into findings mapped back to the encoded span.
//!
//! This module knows the engine and `locate`; it never sees a source, a writer or a report.

use memchr::{memchr_iter, memrchr};

use crate::engine::{Engine, ExtraPattern, Scratch};
use crate::finding::{Encoding, Finding, Origin};
use crate::locate::{self, LineSpans, Span};
use crate::rules::LoadedRule;
use crate::triage;

/// A way a secret can be hidden in text, found through patterns in the engine's one prefilter pass.
pub trait Decoder: Sync {
    /// What findings it produces say about their encoding.
    fn encoding(&self) -> Encoding;

    /// Patterns for the engine's automaton, derived from a rule keyword, each with its shift (how many
    /// bytes before the hit the decoder wants the position reported).
    fn patterns(&self, keyword: &[u8]) -> Vec<(String, usize)>;

    /// Whether a hit must match a pattern's exact case (true for base64, where case is data).
    fn exact_case(&self) -> bool {
        true
    }

    /// Appends the findings hidden around `hits` (positions of this decoder's patterns, sorted and
    /// unique) in `hay`. `out[from..]` holds the blob's clear findings; the blob's findings stay in line
    /// order.
    #[allow(clippy::too_many_arguments)]
    fn findings(
        &self,
        engine: &Engine,
        scratch: &mut Scratch,
        hits: &[usize],
        path: &str,
        origin: &Origin,
        hay: &[u8],
        out: &mut Vec<Finding>,
        from: usize,
    );
}

/// Every decoder, in the order their findings are produced. An index here is the engine's decoder id.
pub static DECODERS: &[&dyn Decoder] = &[&Base64];

/// The patterns of every decoder for the keyword spellings of `rules` worth finding encoded (see
/// [`encoded_spellings`]), without repeats.
pub fn patterns(rules: &[LoadedRule]) -> Vec<ExtraPattern> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (decoder, d) in DECODERS.iter().enumerate() {
        for loaded in rules {
            for spelling in encoded_spellings(&loaded.spec) {
                for (pattern, shift) in d.patterns(spelling.as_bytes()) {
                    if seen.insert((decoder, pattern.to_ascii_lowercase())) {
                        out.push(ExtraPattern {
                            pattern,
                            decoder,
                            shift,
                            exact_case: d.exact_case(),
                        });
                    }
                }
            }
        }
    }
    out
}

/// The spellings of `spec`'s keywords worth finding in base64: the keywords that occur inside a secret (a
/// token prefix such as `ghp_` or `pk_`), spelled as they are in the rule's positive examples, and not the
/// context words (`datadog`, `password`) that only sit next to one. A rule without examples (a user's, an
/// imported gitleaks rule) has every keyword encoded as given, lowercased and uppercased. Generic rules
/// are never reported inside decoded bytes, so none of theirs are. This keeps the automaton at about a
/// thousand patterns instead of several thousand.
pub(crate) fn encoded_spellings(spec: &crate::rules::RuleSpec) -> Vec<String> {
    if spec.tags.iter().any(|t| t == "generic") {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    if spec.examples.positive.is_empty() {
        for kw in &spec.keywords {
            for s in [kw.clone(), kw.to_ascii_lowercase(), kw.to_ascii_uppercase()] {
                push(s);
            }
        }
        return out;
    }
    for kw in &spec.keywords {
        let lower = kw.to_ascii_lowercase();
        for p in &spec.examples.positive {
            if let Some(at) = p.secret.to_ascii_lowercase().find(&lower) {
                if let Some(spelled) = p.secret.get(at..at + kw.len()) {
                    push(spelled.to_string());
                }
            }
        }
    }
    out
}

/// Runs every decoder on the hits of the last `engine.scan(hay, scratch)`.
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
    let mut hits = scratch.take_decoder_hits();
    hits.sort_unstable();
    hits.dedup();
    for (id, d) in DECODERS.iter().enumerate() {
        let mine: Vec<usize> = hits.iter().filter(|h| h.decoder == id).map(|h| h.at).collect();
        if !mine.is_empty() {
            d.findings(engine, scratch, &mine, path, origin, hay, out, from);
        }
    }
}

/// Base64 runs: the selective encodings of each keyword at the three byte alignments.
struct Base64;

impl Decoder for Base64 {
    fn encoding(&self) -> Encoding {
        Encoding::Base64
    }

    fn patterns(&self, keyword: &[u8]) -> Vec<(String, usize)> {
        keyword_encodings(keyword)
    }

    fn findings(
        &self,
        engine: &Engine,
        scratch: &mut Scratch,
        hits: &[usize],
        path: &str,
        origin: &Origin,
        hay: &[u8],
        out: &mut Vec<Finding>,
        from: usize,
    ) {
        base64_findings(engine, scratch, hits, path, origin, hay, out, from);
    }
}

/// Encoded keywords shorter than this hit too often to be worth decoding around.
const MIN_PATTERN: usize = 3;
/// How far before a hit, in encoded characters, decoding starts (the rule's leading context).
const BACK: usize = 128;
/// How far after a hit, in encoded characters, decoding goes (the secret and its trailing context).
const AHEAD: usize = 1024;
/// A shorter run is an identifier that happens to spell an encoding, not an encoded secret.
const MIN_RUN: usize = 16;

/// Base64 digit of each byte (standard and URL-safe alphabets alike), or `INVALID`.
const INVALID: u8 = 0xFF;
static DIGIT: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'+' as usize] = 62;
    t[b'-' as usize] = 62;
    t[b'/' as usize] = 63;
    t[b'_' as usize] = 63;
    t
};

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn is_digit(b: u8) -> bool {
    DIGIT[b as usize] != INVALID
}

/// The selective base64 encodings of `keyword` at each byte alignment, with each one's distance in
/// characters from the start of its 4-character quantum: `(pattern, shift)`. Only characters wholly
/// determined by the keyword's bits are kept; the URL-safe spelling is added when it differs.
pub fn keyword_encodings(keyword: &[u8]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for align in 0..3 {
        let mut bytes = vec![0u8; align];
        bytes.extend_from_slice(keyword);
        let enc = encode(&bytes);
        let first = (8 * align).div_ceil(6);
        let last = 8 * (align + keyword.len()) / 6; // exclusive
        if last <= first || last - first < MIN_PATTERN {
            continue;
        }
        let pattern = &enc[first..last];
        out.push((pattern.to_string(), first % 4));
        let url: String = pattern.replace('+', "-").replace('/', "_");
        if url != pattern {
            out.push((url, first % 4));
        }
    }
    out
}

/// Standard base64 with padding.
fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(STD[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes base64 leniently into `out` (cleared first): either alphabet, with or without padding,
/// stopping at the first `=`. A trailing lone character (6 bits, no whole byte) is dropped. Returns false
/// on a byte outside the alphabet.
pub fn decode_base64(enc: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    out.reserve(enc.len() / 4 * 3 + 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in enc {
        if c == b'=' {
            break;
        }
        let d = DIGIT[c as usize];
        if d == INVALID {
            return false;
        }
        acc = (acc << 6) | u32::from(d);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    true
}

/// Text, not binary: at least 90% printable ASCII, whitespace or UTF-8 bytes, and no NUL.
pub fn mostly_text(bytes: &[u8]) -> bool {
    if bytes.is_empty() || bytes.contains(&0) {
        return false;
    }
    let text = bytes
        .iter()
        .filter(|&&b| matches!(b, b' '..=b'~' | b'\t' | b'\n' | b'\r') || b >= 0x80)
        .count();
    text * 10 >= bytes.len() * 9
}

/// The encoded window to decode around a quantum-aligned hit at `q`: whole quanta back to `BACK`
/// characters, forward to `AHEAD` characters or the run's end (padding included). `None` when the run is
/// too short to hold an encoded secret.
pub fn window(hay: &[u8], q: usize) -> Option<(usize, usize)> {
    if q >= hay.len() || !is_digit(hay[q]) {
        return None;
    }
    let mut start = q;
    while start >= 4 && q - start < BACK && hay[start - 4..start].iter().all(|&b| is_digit(b)) {
        start -= 4;
    }
    let limit = q.saturating_add(AHEAD).min(hay.len());
    let mut end = q;
    while end < limit && is_digit(hay[end]) {
        end += 1;
    }
    // At the cap, stop on a quantum boundary so the last bytes decode whole.
    if end == limit && end < hay.len() && is_digit(hay[end]) {
        end = start + (end - start) / 4 * 4;
    }
    let run = end - start;
    while end < hay.len() && hay[end] == b'=' && end - start < run + 2 {
        end += 1;
    }
    (run >= MIN_RUN).then_some((start, end))
}

/// Appends the findings hidden in base64 runs of `hay` around `hits` (quantum-aligned starts of encoded
/// keywords). `out[from..]` holds this blob's clear findings: a decoded secret that is also in clear on
/// the same line is not reported twice, and the blob's findings stay in line order.
#[allow(clippy::too_many_arguments)]
fn base64_findings(
    engine: &Engine,
    scratch: &mut Scratch,
    hits: &[usize],
    path: &str,
    origin: &Origin,
    hay: &[u8],
    out: &mut Vec<Finding>,
    from: usize,
) {
    let clear: Vec<Span> = scratch
        .matches()
        .iter()
        .map(|m| Span {
            start: m.start,
            end: m.end,
            encoded: false,
        })
        .collect();
    let mut decoded = Vec::new();
    let mut found = Vec::new();
    let mut done_to = 0;
    let before = out.len();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut lines = Lines::default();
    for &q in hits {
        if q < done_to {
            continue;
        }
        let Some((ws, we)) = window(hay, q) else { continue };
        done_to = we;
        // Decoding from the hit itself is the fallback when the characters before it are not base64 of
        // text (an identifier glued to the value by `_` or `-`).
        let mut starts = vec![ws];
        if q > ws {
            starts.push(q);
        }
        for s in starts {
            if !decode_base64(&hay[s..we], &mut decoded) || !mostly_text(&decoded) {
                continue;
            }
            let matches = engine.scan(&decoded, scratch);
            if matches.is_empty() {
                break;
            }
            found.clear();
            locate::findings(engine, path, origin, &decoded, matches, &mut found);
            for mut f in found.drain(..) {
                // Generic `secret=` assignments inside decoded token payloads (a JWT's or OAuth token's
                // JSON) are part of a token, not a leak of their own: only specific rules count here.
                if f.rule.tags.iter().any(|t| t == "generic") {
                    continue;
                }
                let Some(span) = decoded_span(&decoded, &f) else {
                    continue;
                };
                let es = (s + span.0 * 4 / 3).min(we);
                let ee = (s + (span.1 * 4).div_ceil(3)).clamp(es, we);
                if place(engine, hay, &mut lines, &mut f, es, ee, (ws, we), &clear) {
                    f.encoding = Some(Encoding::Base64);
                    runs.push((ws, we));
                    let dup = out[from..]
                        .iter()
                        .any(|o| o.line == f.line && o.fingerprint == f.fingerprint);
                    if !dup {
                        out.push(f);
                    }
                }
            }
            break;
        }
    }
    if out.len() > before {
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

/// Renders a finding's snippet again when its line holds encoded runs that yielded findings, with every
/// such run collapsed: a snippet must not show the encoded form of *another* secret on its line.
fn resnippet(engine: &Engine, hay: &[u8], lines: &mut Lines, f: &mut Finding, runs: &[(usize, usize)], clear: &[Span]) {
    let Some(line_start) = lines.start_of(hay, f.line.max(1)) else {
        return;
    };
    let line_end = memchr::memchr(b'\n', &hay[line_start..]).map_or(hay.len(), |i| line_start + i);
    let on_line: Vec<Span> = runs
        .iter()
        .filter(|&&(s, e)| s < line_end && line_start < e)
        .map(|&(s, e)| Span {
            start: s.max(line_start),
            end: e.min(line_end),
            encoded: true,
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

/// The secret's byte span in the decoded blob, found again from its line and column there.
fn decoded_span(decoded: &[u8], f: &Finding) -> Option<(usize, usize)> {
    let secret = f.secret.expose().as_bytes();
    let mut line_start = 0;
    for (n, nl) in memchr_iter(b'\n', decoded).enumerate() {
        if n + 2 > f.line {
            break;
        }
        line_start = nl + 1;
    }
    let rest = decoded.get(line_start..)?;
    let at = memchr::memmem::find(rest, secret)?;
    Some((line_start + at, line_start + at + secret.len()))
}

/// Moves a decoded finding to the encoded span `es..ee` of `hay`: line, columns, and a snippet of the
/// original line with the whole encoded run masked (and every candidate beside it). False when the
/// original line is inline-allowed.
#[allow(clippy::too_many_arguments)]
fn place(
    engine: &Engine,
    hay: &[u8],
    lines: &mut Lines,
    f: &mut Finding,
    es: usize,
    ee: usize,
    run: (usize, usize),
    clear: &[Span],
) -> bool {
    let line_start = memrchr(b'\n', &hay[..es]).map_or(0, |i| i + 1);
    let line_end = memchr::memchr(b'\n', &hay[es..]).map_or(hay.len(), |i| es + i);
    if triage::inline_allowed(&hay[line_start..line_end]) {
        return false;
    }
    f.line = lines.line_of(hay, es);
    f.column = locate::char_count(&hay[line_start..es]) + 1;
    f.end_column = f.column + locate::char_count(&hay[es..ee.min(line_end).max(es)]);
    let (rs, re) = (run.0.max(line_start), run.1.min(line_end));
    let run_span = Span {
        start: rs,
        end: re.max(rs),
        encoded: true,
    };
    let mut extra: Vec<Span> = locate::on_line(clear, line_start, line_end).to_vec();
    extra.push(run_span);
    let spans = LineSpans::new(engine, hay, line_start, line_end, &extra);
    f.snippet = locate::snippet(hay, line_start, line_end, (run_span.start, run_span.end), &spans);
    true
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
