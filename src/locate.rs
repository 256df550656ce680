//! Turns engine matches in one blob into findings: line and column (computed only for matches), a
//! redacted [`Snippet`] of the line, exposure, and the inline-allow check that needs the line's bytes.
//!
//! Every cursor here moves forward: matches arrive sorted, so a blob with many matches (200,000 keys in
//! one file, or 10,000 on one minified line) costs one pass over it, not one pass per match.

use memchr::{memchr, memchr_iter, memrchr};

use crate::engine::{Engine, Match};
use crate::finding::{redact, Context, Exposure, Finding, Origin, Secret, Severity, Snippet};
use crate::triage;

/// How much of the line, in bytes, a snippet keeps on each side of the secret.
const SNIPPET_CONTEXT: usize = 60;

/// A span a snippet must not show in clear: a candidate secret, or an encoded run that held one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
    /// An encoded run, shown whole as this label (`«base64»`).
    pub encoded: Option<&'static str>,
}

/// The masked spans of one line, merged into sorted, disjoint intervals (a span in two candidates is
/// masked once, by their union).
#[derive(Debug, Default)]
pub(crate) struct LineSpans {
    spans: Vec<Span>,
}

impl LineSpans {
    /// Every candidate any rule sees on `hay[line_start..line_end]`, plus `extra` spans (the blob's
    /// accepted matches, which may start on an earlier line; encoded runs), clipped to the line.
    pub fn new(engine: &Engine, hay: &[u8], line_start: usize, line_end: usize, extra: &[Span]) -> LineSpans {
        let mut spans: Vec<Span> = engine
            .candidates(&hay[line_start..line_end])
            .into_iter()
            .map(|(s, e)| Span {
                start: line_start + s,
                end: line_start + e,
                encoded: None,
            })
            .collect();
        spans.extend(
            extra
                .iter()
                .filter(|x| x.start < line_end && line_start < x.end)
                .map(|x| Span {
                    start: x.start.max(line_start),
                    end: x.end.min(line_end),
                    encoded: x.encoded,
                }),
        );
        spans.sort_unstable();
        // Secret-looking tokens no rule took: masked unless they overlap a rule's span (`KEY=pk_…` is one
        // token, and the rule's span already masks the key in it, or reveals it with --show-secrets).
        let tokens: Vec<Span> = token_spans(&hay[line_start..line_end])
            .map(|(s, e)| Span {
                start: line_start + s,
                end: line_start + e,
                encoded: None,
            })
            .filter(|t| {
                // `spans` is sorted by start: only the spans starting before the token's end can overlap it.
                let hi = spans.partition_point(|s| s.start < t.end);
                !spans[..hi].iter().rev().take(64).any(|s| t.start < s.end)
            })
            .collect();
        spans.extend(tokens);
        spans.sort_unstable();
        let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
        for s in spans {
            match merged.last_mut() {
                Some(last) if s.start < last.end => {
                    last.end = last.end.max(s.end);
                    last.encoded = last.encoded.or(s.encoded);
                }
                _ => merged.push(s),
            }
        }
        // Shorter credential-like runs in the text between those spans (a passphrase no rule reads beside
        // a key a rule found): masked too. They lie in the gaps, so they overlap no span.
        let mut short: Vec<Span> = Vec::new();
        let mut pos = line_start;
        for (start, end) in merged.iter().map(|s| (s.start, s.end)).chain([(line_end, line_end)]) {
            if start > pos {
                short.extend(credential_runs(&hay[pos..start]).map(|(s, e)| Span {
                    start: pos + s,
                    end: pos + e,
                    encoded: None,
                }));
            }
            pos = pos.max(end);
        }
        if !short.is_empty() {
            merged.extend(short);
            merged.sort_unstable();
        }
        LineSpans { spans: merged }
    }

    /// The spans that overlap `from..to`.
    fn overlapping(&self, from: usize, to: usize) -> &[Span] {
        let lo = self.spans.partition_point(|s| s.end <= from);
        let hi = self.spans.partition_point(|s| s.start < to);
        &self.spans[lo..hi.max(lo)]
    }
}

/// Tokens on a line that look like secrets whatever the rules say: 20 or more characters of the base64 /
/// token alphabet with letters and digits and a high entropy. A snippet masks them too, so that a
/// credential no rule knows (or a rule misses in this context: the secret half of an AWS key pair in a
/// CSV row) is never printed beside a finding. Hashes and ids get masked as well; a snippet is context,
/// not evidence, so that is the right side to err on.
fn token_spans(line: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    const MIN: usize = 20;
    let token = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-');
    runs(line, token).filter(move |&(start, end)| {
        let t = &line[start..end];
        t.len() >= MIN
            && t.iter().any(u8::is_ascii_digit)
            && t.iter().any(u8::is_ascii_alphabetic)
            && crate::engine::shannon_entropy(t) >= 3.5
    })
}

/// Runs of password and token characters in `text` that read as a credential ([`looks_secret`]).
fn credential_runs(text: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"+=_~!#$%^*?@&-".contains(&b);
    runs(text, token).filter(move |&(start, end)| looks_secret(&text[start..end]))
}

/// A run of token characters that reads as a credential rather than a word or a name: 8 characters or
/// more, with letters and digits or symbols, three classes of characters (lower, upper, digits, symbols
/// other than `_` and `-`) or, from 16 characters, letters and digits alone (a hex or base62 key), and
/// enough entropy. Identifiers (`snake_case`, `camelCase`, `API_KEY`) have fewer classes.
fn looks_secret(run: &[u8]) -> bool {
    if run.len() < 8 {
        return false;
    }
    let lower = run.iter().any(u8::is_ascii_lowercase);
    let upper = run.iter().any(u8::is_ascii_uppercase);
    let digit = run.iter().any(u8::is_ascii_digit);
    let symbol = run.iter().any(|b| b"+=~!#$%^*?@&".contains(b));
    let classes = [lower, upper, digit, symbol].iter().filter(|&&c| c).count();
    let letters = lower || upper;
    (classes >= 3 || (run.len() >= 16 && letters && digit)) && letters && crate::engine::shannon_entropy(run) >= 2.5
}

/// The maximal runs of bytes that `token` accepts, as `(start, end)` offsets.
fn runs<'a>(line: &'a [u8], token: impl Fn(u8) -> bool + 'a) -> impl Iterator<Item = (usize, usize)> + 'a {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < line.len() && !token(line[i]) {
            i += 1;
        }
        let start = i;
        while i < line.len() && token(line[i]) {
            i += 1;
        }
        (start < i).then_some((start, i))
    })
}

/// The variable a finding names (the remediation says to read it at run time), as [`variable_at`] reads
/// it, unless it is itself secret-like (an AWS key id before its secret key, `Client('AC…', '…')`): a rule's
/// candidate or a secret-looking token names nothing, and printing it would print what a snippet masks.
pub(crate) fn printed_variable(engine: &Engine, hay: &[u8], line_start: usize, at: usize) -> Option<String> {
    variable_at(hay, line_start, at)
        .filter(|v| engine.candidates(v.as_bytes()).is_empty() && token_spans(v.as_bytes()).next().is_none())
}

/// Appends a finding for each match (sorted by position) to `out`, skipping inline-allowed lines.
pub fn findings(engine: &Engine, path: &str, origin: &Origin, hay: &[u8], matches: &[Match], out: &mut Vec<Finding>) {
    // The path's class once per blob; each finding's variable may still make it client-side.
    let by_path = exposure_of(path, origin, hay);
    let context = match origin {
        Origin::Stdin => Context::Code,
        _ => Context::of_path(path),
    };
    let accepted: Vec<Span> = matches
        .iter()
        .map(|m| Span {
            start: m.start,
            end: m.end,
            encoded: None,
        })
        .collect();
    let mut line = 1;
    let mut counted_to = 0;
    let mut line_start = 0;
    // The current line's end, whether it carries an inline allow, and its masked spans, once known.
    let mut current: Option<(usize, bool, LineSpans)> = None;
    let mut column = 1;
    for m in matches {
        let gap = &hay[counted_to..m.start];
        match memrchr(b'\n', gap) {
            Some(i) => {
                line += memchr_iter(b'\n', gap).count();
                line_start = counted_to + i + 1;
                current = None;
                column = char_count(&hay[line_start..m.start]) + 1;
            }
            None => column += char_count(gap),
        }
        counted_to = m.start;
        let (line_end, allowed, spans) = current.get_or_insert_with(|| {
            let end = memchr(b'\n', &hay[m.start..]).map_or(hay.len(), |i| m.start + i);
            let allowed = triage::inline_allowed(&hay[line_start..end]);
            let spans = if allowed {
                LineSpans::default()
            } else {
                LineSpans::new(engine, hay, line_start, end, on_line(&accepted, line_start, end))
            };
            (end, allowed, spans)
        });
        if *allowed {
            continue;
        }
        let line_end = *line_end;
        let variable = printed_variable(engine, hay, line_start, m.start);
        let rule = engine.rule(m.rule);
        let secret = match rule.binary_secret() {
            true => Secret::new(&rule.secret_of(&hay[m.start..m.end])),
            // A value in XML is written with references for `&`, `<`, `>` and quotes.
            false => Secret::new(&crate::decode::xml_unescaped(&hay[m.start..m.end])),
        };
        let exposure = by_path.with_variable(variable.as_deref());
        let severity = severity_of(rule.info.severity, exposure);
        out.push(Finding {
            rule: rule.info.clone(),
            severity,
            path: path.to_string(),
            line,
            column,
            end_column: column + char_count(&hay[m.start..m.end.min(line_end).max(m.start)]),
            fingerprint: secret.fingerprint(&rule.info.id),
            snippet: if rule.binary_secret() {
                // The line of a binary file is not text: the snippet is the secret alone.
                Snippet::of_secret(secret.redacted())
            } else {
                snippet(hay, line_start, line_end, (m.start, m.end), spans)
            },
            secret,
            origin: origin.clone(),
            exposure,
            context,
            history: None,
            encoding: None,
            verification: None,
            place: crate::finding::Place::File,
            variable,
            binary: false,
            cell: None,
            audit: None,
            partner: m.partner.map(|(s, e)| partner(rule, hay, s, e)),
        });
    }
}

/// The other half of a two-part credential at `start..end` of `hay`, with its line and column.
fn partner(rule: &crate::engine::CompiledRule, hay: &[u8], start: usize, end: usize) -> crate::finding::Partner {
    let before = &hay[..start];
    let line_start = memrchr(b'\n', before).map_or(0, |i| i + 1);
    crate::finding::Partner {
        label: rule.pair_label().unwrap_or("other part").to_string(),
        secret: Secret::new(&hay[start..end]),
        line: memchr_iter(b'\n', before).count() + 1,
        column: char_count(&hay[line_start..start]) + 1,
    }
}

/// The spans of `sorted` (by start) that overlap `line_start..line_end`, found by binary search: a blob
/// with many findings must not compare every line with every match.
pub(crate) fn on_line(sorted: &[Span], line_start: usize, line_end: usize) -> &[Span] {
    let hi = sorted.partition_point(|s| s.start < line_end);
    let mut lo = sorted.partition_point(|s| s.start < line_start);
    // A multi-line secret (a PEM body) that starts on an earlier line.
    while lo > 0 && sorted[lo - 1].end > line_start {
        lo -= 1;
    }
    &sorted[lo..hi.max(lo)]
}

/// Who can see a secret in `hay` at `path`, from the path (standard input has none) and the script's
/// head; the variable it is assigned to may still make it client-side ([`Exposure::with_variable`]).
pub(crate) fn exposure_of(path: &str, origin: &Origin, hay: &[u8]) -> Exposure {
    let by_path = match origin {
        Origin::Stdin => Exposure::of_path(""),
        _ => Exposure::of_path(path),
    };
    by_path.with_content(path, hay)
}

/// A rule's severity, raised one step (up to critical) for a medium or worse secret in client-side code.
pub(crate) fn severity_of(rule: Severity, exposure: Exposure) -> Severity {
    if exposure == Exposure::ClientSide && rule >= Severity::Medium {
        raise(rule)
    } else {
        rule
    }
}

/// The name a secret is assigned to, from the text before it on its line: `KLAVIYO_KEY=`, `export K=`,
/// `"apiKey": "`, `api_key: `, `k := "`, `'k' => '`, `process.env.K = "`, `ENV["K"] = "` (the last
/// segment of a dotted path), `define('K', '` and `getenv("K", "` (a quoted name, then the value). `None` when no
/// assignment leads to the secret.
pub(crate) fn assigned_name(before: &[u8]) -> Option<String> {
    const MAX: usize = 128;
    let before = &before[before.len().saturating_sub(MAX)..];
    let mut i = before.len();
    // An opening quote (or a template's `${`-free backtick) and the space before it.
    skip_back(before, &mut i, b" \t\"'`");
    // A default for a variable the environment may lack names that variable: JavaScript's
    // `process.env.X || "…"` and `?? "…"`, PHP's `getenv('X') ?: '…'`, Python's `os.getenv("X") or "…"`,
    // a shell's `${X:-…}`. The call or index around the name is stepped over.
    let prev = |k: usize| i.checked_sub(k).map(|j| before[j]);
    let default = match (prev(1), prev(2), prev(3)) {
        (Some(b'|'), Some(b'|'), _) | (Some(b'?'), Some(b'?'), _) | (Some(b':'), Some(b'?'), _) => Some(2),
        (Some(b'-'), Some(b':'), _) => Some(2),
        (Some(b'r'), Some(b'o'), Some(b' ' | b'\t')) => Some(3),
        _ => None,
    };
    // The same as a method: Rust's `env::var("X").unwrap_or("…")`, Java's `Optional…orElse("…")`.
    const DEFAULT_CALLS: [&[u8]; 5] = [
        b".unwrap_or(",
        b".unwrap_or_else(|_|",
        b".orElse(",
        b".or_else(",
        b".getOrElse(",
    ];
    let default = default.or_else(|| DEFAULT_CALLS.iter().find(|c| before[..i].ends_with(c)).map(|c| c.len()));
    // A keyword argument: python-decouple's `config('X', default='…')`, django-environ's
    // `env.str("X", default="…")`: the quoted name before it.
    // `default` is the argument's whole name: `api_token_default = "…"` is an assignment.
    let mut k = i;
    skip_back(before, &mut k, b" \t");
    let keyword = before[..k]
        .strip_suffix(b"=")
        .map(<[u8]>::trim_ascii_end)
        .and_then(|b| b.strip_suffix(b"default"))
        .filter(|b| !b.last().is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_'));
    if let Some(rest) = keyword {
        let mut j = rest.len();
        skip_back(before, &mut j, b" \t");
        if j < 2 || before[j - 1] != b',' || !matches!(before[j - 2], b'"' | b'\'') {
            return None;
        }
        i = j;
    }
    if let Some(n) = default {
        i -= n;
        skip_back(before, &mut i, b" \t\"')]");
        return name_before(before, i);
    }
    match before.get(i.checked_sub(1)?)? {
        b'=' => {
            i -= 1;
            // `==` and `!=` compare, they do not assign.
            if i > 0 && matches!(before[i - 1], b'=' | b'!' | b'<') {
                return None;
            }
            skip_back(before, &mut i, b":?|+");
        }
        b'>' if i >= 2 && before[i - 2] == b'=' => i -= 2,
        b':' => i -= 1,
        // A quoted name and its value as two arguments: PHP's `define('K', '…')`, a default in
        // `os.getenv("K", "…")` or `ENV.fetch("K", "…")`.
        b',' if i >= 2 && matches!(before[i - 2], b'"' | b'\'') => i -= 1,
        _ => return None,
    }
    skip_back(before, &mut i, b" \t\"']");
    name_before(before, i)
}

/// Moves `i` back over the bytes of `set` that end `before[..i]`.
fn skip_back(before: &[u8], i: &mut usize, set: &[u8]) {
    while *i > 0 && set.contains(&before[*i - 1]) {
        *i -= 1;
    }
}

/// The name that ends at `end` in `before` (a dotted path's last part: `process.env.X` names `X`).
fn name_before(before: &[u8], end: usize) -> Option<String> {
    let mut i = end;
    let word = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'$');
    while i > 0 && word(before[i - 1]) {
        i -= 1;
    }
    let name = std::str::from_utf8(&before[i..end]).ok()?;
    let name = name.rsplit('.').next()?.trim_matches('-');
    let first = name.bytes().next()?;
    (first.is_ascii_alphabetic() || first == b'_' || first == b'$').then(|| name.to_string())
}

fn raise(s: Severity) -> Severity {
    match s {
        Severity::Info => Severity::Low,
        Severity::Low => Severity::Medium,
        Severity::Medium => Severity::High,
        Severity::High | Severity::Critical => Severity::Critical,
    }
}

/// The name a `value` is paired with in the name/value lists of Kubernetes `env`, ECS task definitions,
/// CloudFormation and ARM app settings, and .NET `appSettings` (`- name: API_TOKEN` above `value: "…"`,
/// `{"name": "X", "value": "…"}`, `<add key="X" value="…" />`): what `name` (or `key`) is set to on the
/// line before `at`, else on the line above.
fn paired_name(hay: &[u8], line_start: usize, at: usize) -> Option<String> {
    name_set_in(&hay[line_start..at]).or_else(|| name_set_in(line_above(hay, line_start)?))
}

/// The line before the one starting at `line_start`, without its `\n`; `None` on the first line.
fn line_above(hay: &[u8], line_start: usize) -> Option<&[u8]> {
    let end = line_start.checked_sub(1)?;
    let start = memrchr(b'\n', &hay[..end]).map_or(0, |i| i + 1);
    Some(&hay[start..end])
}

/// The name the value at `at` is assigned to, from the text before it on its line (`line_start..at`),
/// the `name:` paired with a `value:`, or the key of a YAML block scalar the value begins.
pub(crate) fn variable_at(hay: &[u8], line_start: usize, at: usize) -> Option<String> {
    // `value` itself names nothing to read: the name it is paired with, if any, does (Postman's
    // `{"key": "value", "value": "…"}` pairs it with `value` again).
    let not_value = |v: &String| !v.eq_ignore_ascii_case("value");
    assigned_name(&hay[line_start..at])
        .and_then(|v| {
            if not_value(&v) {
                Some(v)
            } else {
                paired_name(hay, line_start, at).filter(not_value)
            }
        })
        .or_else(|| block_scalar_name(hay, line_start, at))
        .or_else(|| element_name(hay, line_start, at))
}

/// The name of a value that is an XML element's text: an Android string resource
/// (`<string name="api_secret" translatable="false">…`) or a property list entry (`<key>ApiSecret</key>`
/// before `<string>…`, on its line or the line above).
fn element_name(hay: &[u8], line_start: usize, at: usize) -> Option<String> {
    let before = hay[line_start..at].trim_ascii_end();
    if before.ends_with(b"<string>") {
        let mut text = before[..before.len() - b"<string>".len()].trim_ascii();
        if text.is_empty() {
            text = line_above(hay, line_start)?.trim_ascii();
        }
        let key = text.strip_suffix(b"</key>")?;
        let open = memchr::memmem::rfind(key, b"<key>")?;
        let name = &key[open + b"<key>".len()..];
        return plain_name(name);
    }
    if !before.ends_with(b">") {
        return None;
    }
    let open = memrchr(b'<', before)?;
    let tag = before[open..].strip_prefix(b"<string")?;
    let at = memchr::memmem::find(tag, b"name=")?;
    let rest = &tag[at + b"name=".len()..];
    let quote = *rest.first().filter(|q| matches!(q, b'"' | b'\''))?;
    let end = memchr(quote, &rest[1..])?;
    plain_name(&rest[1..1 + end])
}

/// `name` as a variable's name, when it is one: letters, digits and `_.-`, 1 to 64 of them.
fn plain_name(name: &[u8]) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    ok.then(|| String::from_utf8_lossy(name).into_owned())
}

/// The name of a YAML block scalar whose first line holds the secret at `at`: the line above is
/// `name: >-` (or `|`, `>`, with a chomping or indentation indicator) and is indented less than the
/// value, which is alone on its line up to the secret (Helm values fold long tokens this way).
fn block_scalar_name(hay: &[u8], line_start: usize, at: usize) -> Option<String> {
    let indent = &hay[line_start..at];
    if indent.is_empty() || !indent.iter().all(|b| matches!(b, b' ' | b'\t')) {
        return None;
    }
    let above = line_above(hay, line_start)?;
    let above = above.strip_suffix(b"\r").unwrap_or(above);
    let above_indent = above.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
    if above_indent >= indent.len() {
        return None;
    }
    // Trailing blanks, then the indicators, then the `:` that ends the key.
    let mut i = above.len();
    skip_back(above, &mut i, b" \t");
    skip_back(above, &mut i, b"-+123456789");
    if i == 0 || !matches!(above[i - 1], b'>' | b'|') {
        return None;
    }
    i -= 1;
    skip_back(above, &mut i, b" \t");
    if i == 0 || above[i - 1] != b':' {
        return None;
    }
    assigned_name(&above[..i])
}

/// The last `name: X` / `"Name": "X"` / `key="X"` in `text`: X.
fn name_set_in(text: &[u8]) -> Option<String> {
    // A pair sits close together; a minified line's far start is not looked at.
    let text = &text[text.len().saturating_sub(512)..];
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut found = None;
    for (at, _) in text.iter().enumerate() {
        let rest = &text[at..];
        let len = if rest.len() >= 4 && rest[..4].eq_ignore_ascii_case(b"name") {
            4
        } else if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(b"key") {
            3
        } else {
            continue;
        };
        if at > 0 && word(text[at - 1]) {
            continue;
        }
        let mut i = at + len;
        let skip = |i: &mut usize, set: &[u8]| {
            while *i < text.len() && set.contains(&text[*i]) {
                *i += 1;
            }
        };
        skip(&mut i, b"\"' \t");
        if !matches!(text.get(i), Some(b':' | b'=')) {
            continue;
        }
        i += 1;
        skip(&mut i, b"\"' \t");
        let from = i;
        while i < text.len() && (word(text[i]) || matches!(text[i], b'-' | b'.')) {
            i += 1;
        }
        if text.get(from).is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_') {
            found = std::str::from_utf8(&text[from..i]).ok().map(str::to_string);
        }
    }
    found
}

/// Characters in a UTF-8 byte run (invalid bytes count one each).
pub(crate) fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

/// The line around `own`, cut to some context, built from spans: every masked span is shown redacted
/// (or as its encoding's label, `«base64»`), `own` as the finding's own secret when it is a span of its own, and only the text
/// between spans in clear. A span is never cut: the context widens to hold it whole.
pub(crate) fn snippet(
    hay: &[u8],
    line_start: usize,
    line_end: usize,
    own: (usize, usize),
    spans: &LineSpans,
) -> Snippet {
    let (own_start, own_end) = (own.0.max(line_start), own.1.min(line_end).max(own.0.max(line_start)));
    let mut from = own_start.saturating_sub(SNIPPET_CONTEXT).max(line_start);
    let mut to = own_end.saturating_add(SNIPPET_CONTEXT).min(line_end);
    let near = spans.overlapping(from, to.max(from + 1));
    if let (Some(first), Some(last)) = (near.first(), near.last()) {
        from = from.min(first.start);
        to = to.max(last.end);
    }
    while from > line_start && (hay[from] & 0xC0) == 0x80 {
        from -= 1;
    }
    while to < line_end && (hay[to] & 0xC0) == 0x80 {
        to += 1;
    }
    let mut out = Snippet::default();
    if from > line_start {
        out.push_clear("…");
    }
    let mut pos = from;
    for s in spans.overlapping(from, to.max(from + 1)) {
        if s.start > pos {
            out.push_clear(&String::from_utf8_lossy(&hay[pos..s.start]));
        }
        let text = String::from_utf8_lossy(&hay[s.start.max(pos)..s.end]);
        if let Some(label) = s.encoded {
            out.push_masked(label.to_string());
        } else if (s.start, s.end) == (own_start, own_end) {
            out.push_own(redact(&text));
        } else {
            out.push_masked(redact(&text));
        }
        pos = pos.max(s.end);
    }
    if to > pos {
        out.push_clear(&String::from_utf8_lossy(&hay[pos..to]));
    }
    if to < line_end {
        out.push_clear("…");
    }
    out.trim();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules;

    fn run(text: &str) -> Vec<Finding> {
        let rules = rules::builtin().unwrap();
        let engine = Engine::compile(&rules).unwrap();
        let mut scratch = engine.scratch();
        let matches = engine.scan(text.as_bytes(), &mut scratch).to_vec();
        let mut out = Vec::new();
        findings(
            &engine,
            "src/app.py",
            &Origin::File,
            text.as_bytes(),
            &matches,
            &mut out,
        );
        out
    }

    #[test]
    fn line_and_column_count_characters() {
        let text = "first\r\nsecond line\n  é = \"pk_a4c123b1612dd272d1371c17149d439536\"\n"; // pkhound:allow
        let f = run(text);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].line, f[0].column, f[0].end_column), (3, 8, 45));
        assert_eq!(f[0].snippet.redacted(), "é = \"pk_a4…36\"");
    }

    #[test]
    fn snippet_masks_an_unmatched_credential_beside_a_finding() {
        // A passphrase no rule reads, after a Klaviyo key on the same line; the names stay readable.
        let text = "klaviyo_key, okx_pass = \"pk_a4c123b1612dd272d1371c17149d439536\", \"^EdDI*va-WSj\"\n"; // pkhound:allow
        let f = run(text);
        assert_eq!(f.len(), 1);
        let shown = f[0].snippet.redacted();
        assert!(!shown.contains("EdDI*va"), "{shown}");
        assert!(shown.contains("klaviyo_key, okx_pass"), "{shown}");
        assert!(looks_secret(b"Xq7vR2mW9kL4"));
        assert!(looks_secret(b"89A0E38888BDCB7501219B4D561D96FB"));
        for word in [
            &b"check_balance"[..],
            b"API_KEY_NAME",
            b"getUserName",
            b"2024-06-14",
            b"passphrase",
        ] {
            assert!(!looks_secret(word), "{}", String::from_utf8_lossy(word));
        }
    }

    #[test]
    fn positions_of_many_matches_on_shared_and_separate_lines() {
        let k1 = "pk_a4c123b1612dd272d1371c17149d439536"; // pkhound:allow
        let k2 = "pk_b3216fdaeeb975729fae923d5a4fd12aab"; // pkhound:allow
        let text = format!("é={k1} b={k2}\n\nx\n  c={k1}\r\nd={k2} é={k1}");
        let got: Vec<(usize, usize)> = run(&text).iter().map(|f| (f.line, f.column)).collect();
        // Columns count characters: `é` is one.
        assert_eq!(got, [(1, 3), (1, 43), (4, 5), (5, 3), (5, 43)]);
    }

    #[test]
    fn snippet_redacts_every_secret_on_the_line() {
        let text = "a=pk_a4c123b1612dd272d1371c17149d439536 b=pk_b3216fdaeeb975729fae923d5a4fd12aab"; // pkhound:allow
        let f = run(text);
        assert_eq!(f.len(), 2);
        for x in &f {
            let shown = x.snippet.redacted();
            assert!(!shown.contains("1612dd27"), "{shown}");
            assert!(!shown.contains("6fdaeeb9"), "{shown}");
        }
    }

    #[test]
    fn a_secret_before_the_secret_names_no_variable() {
        // The key id is the previous argument, read as `define('K', '…')` reads a name: a remediation
        // saying "read `AKIA…` at run time" would print what the snippet masks.
        let key_id = "AKIAQEGLIYYDKWUZQ2EK"; // pkhound:allow
        let text = format!("new BasicAWSCredentials(\"{key_id}\", \"Hq3Zt8Wm2Lx9Rb4Vn7Kc1Jd6Fs0Pg5Ye+Ua/Tw8i\");");
        let found = run(&text);
        assert!(!found.is_empty());
        for f in &found {
            assert_eq!(f.variable, None);
            assert!(!f.remediation().contains(key_id), "{}", f.remediation());
        }
    }

    #[test]
    fn the_assigned_variable_is_named() {
        for (before, want) in [
            ("KLAVIYO_KEY=", Some("KLAVIYO_KEY")),
            ("export NEXT_PUBLIC_KLAVIYO_KEY=\"", Some("NEXT_PUBLIC_KLAVIYO_KEY")),
            ("  \"apiKey\": \"", Some("apiKey")),
            ("  private_key: ", Some("private_key")),
            ("key := \"", Some("key")),
            ("'klaviyo' => '", Some("klaviyo")),
            ("process.env.VITE_K = '", Some("VITE_K")),
            ("ENV[\"KLAVIYO\"] = \"", Some("KLAVIYO")),
            ("const k = `", Some("k")),
            ("api-key: ", Some("api-key")),
            ("if (k == \"", None),
            ("Authorization: Klaviyo-API-Key ", None),
            ("GET /a?key=", Some("key")),
            ("", None),
            ("= ", None),
            ("123=", None),
            ("define('AWS_KEY', '", Some("AWS_KEY")),
            ("os.getenv(\"API_TOKEN\", \"", Some("API_TOKEN")),
            ("SECRET_KEY = config('SECRET_KEY', default='", Some("SECRET_KEY")),
            ("x = env.str(\"PARTNER_SECRET\", default = \"", Some("PARTNER_SECRET")),
            ("f(a, default='", None),
            ("default='", None),
            ("api_token_default = '", Some("api_token_default")),
            ("tokenDefault=\"", Some("tokenDefault")),
            ("f(a, '", None),
            // A default for a variable the environment may lack.
            ("const t = process.env.PARTNER_TOKEN || \"", Some("PARTNER_TOKEN")),
            ("$s = $_ENV['APP_SECRET'] ?? '", Some("APP_SECRET")),
            ("$t = getenv('API_TOKEN') ?: '", Some("API_TOKEN")),
            ("t = os.getenv(\"API_TOKEN\") or \"", Some("API_TOKEN")),
            ("API_TOKEN=${API_TOKEN:-", Some("API_TOKEN")),
            ("let t = env::var(\"API_TOKEN\").unwrap_or(\"", Some("API_TOKEN")),
            ("std::env::var(\"API_TOKEN\").unwrap_or_else(|_| \"", Some("API_TOKEN")),
            (
                "Optional.ofNullable(System.getenv(\"API_TOKEN\")).orElse(\"",
                Some("API_TOKEN"),
            ),
            ("x = color or \"", Some("color")),
            ("|| \"", None),
            ("$(( a - ", None),
        ] {
            assert_eq!(assigned_name(before.as_bytes()).as_deref(), want, "{before:?}");
        }
    }

    #[test]
    fn a_value_is_named_by_its_pair() {
        let cases = &[
            ("env:\n  - name: PARTNER_TOKEN\n    value: \"", Some("PARTNER_TOKEN")),
            (
                "  {\n    \"Name\": \"DD_API_KEY\",\n    \"Value\": \"",
                Some("DD_API_KEY"),
            ),
            ("[{\"name\": \"X_SECRET\", \"value\": \"", Some("X_SECRET")),
            ("<add key=\"Partner.Token\" value=\"", Some("Partner.Token")),
            ("config:\n  value: \"", None),
        ];
        assert_names(paired_name, cases);
        // `value` is no name to read at run time: the paired one, else none.
        let cases = &[
            ("env:\n  - name: PARTNER_TOKEN\n    value: \"", Some("PARTNER_TOKEN")),
            ("\"apikey\": [{\"key\": \"value\", \"value\": \"", None),
            ("value = \"", None),
            ("api_value = \"", Some("api_value")),
        ];
        assert_names(variable_at, cases);
    }

    /// `name(hay, line_start, at)` for a value that would start at the end of each text, against the
    /// name each case wants.
    fn assert_names(name: fn(&[u8], usize, usize) -> Option<String>, cases: &[(&str, Option<&str>)]) {
        for &(text, want) in cases {
            let line_start = text.rfind('\n').map_or(0, |i| i + 1);
            assert_eq!(
                name(text.as_bytes(), line_start, text.len()).as_deref(),
                want,
                "{text:?}"
            );
        }
    }

    #[test]
    fn an_element_is_named_by_its_resource_name_or_key() {
        let cases = &[
            ("    <string name=\"api_secret\">", Some("api_secret")),
            ("<string name='stripe_key' translatable=\"false\">", Some("stripe_key")),
            (
                "<dict>\n\t<key>PartnerApiSecret</key>\n\t<string>",
                Some("PartnerApiSecret"),
            ),
            ("<key>ApiToken</key><string>", Some("ApiToken")),
            ("<dict>\n\t<string>", None),
            ("<string>", None),
            ("<div class=\"x\">", None),
            ("<string name=\"a b\">", None),
        ];
        assert_names(element_name, cases);
    }

    #[test]
    fn a_block_scalar_is_named_by_its_key() {
        let cases = &[
            ("config:\n  api_token: >-\n    ", Some("api_token")),
            ("config:\n  \"api_token\": |\n    ", Some("api_token")),
            ("apiToken: |+2\r\n  ", Some("apiToken")),
            ("- KEY: >\n    ", Some("KEY")),
            // Not a block: the value is on the key's line, or the key is not above.
            ("config:\n  api_token: x\n    ", None),
            ("  api_token: >-\n  ", None),
            ("api_token: >-\n    x ", None),
            ("help: a | b\n    ", None),
            ("\n    ", None),
            ("    ", None),
        ];
        assert_names(block_scalar_name, cases);
    }

    #[test]
    fn inline_allow_drops_the_finding() {
        assert!(run("k = 'pk_a4c123b1612dd272d1371c17149d439536' # pkhound:allow").is_empty());
        assert!(run("k = 'pk_a4c123b1612dd272d1371c17149d439536' // gitleaks:allow").is_empty());
    }
}
