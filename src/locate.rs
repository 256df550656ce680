//! Turns engine matches in one blob into findings: line and column (computed only for matches), a
//! redacted snippet of the line, exposure, and the inline-allow check that needs the line's bytes.

use memchr::{memchr, memchr_iter, memrchr};

use crate::engine::{Engine, Match};
use crate::finding::{redact, Context, Exposure, Finding, Origin, Secret, Severity};
use crate::triage;

/// How much of the line, in bytes, a snippet keeps on each side of the secret.
const SNIPPET_CONTEXT: usize = 60;

/// Appends a finding for each match (sorted by position) to `out`, skipping inline-allowed lines.
pub fn findings(engine: &Engine, path: &str, origin: &Origin, hay: &[u8], matches: &[Match], out: &mut Vec<Finding>) {
    let exposure = match origin {
        Origin::Stdin => Exposure::Other,
        _ => Exposure::of_path(path),
    };
    let context = match origin {
        Origin::Stdin => Context::Code,
        _ => Context::of_path(path),
    };
    // Line, line bounds and column move forward with the (sorted) matches, so that many matches on one
    // huge line (a minified bundle) cost one pass over it, not one pass per match.
    let mut line = 1;
    let mut counted_to = 0;
    let mut line_start = 0;
    // The current line's end and whether it carries an inline allow, once known.
    let mut line_end: Option<(usize, bool)> = None;
    let mut column = 1;
    for m in matches {
        let gap = &hay[counted_to..m.start];
        match memrchr(b'\n', gap) {
            Some(i) => {
                line += memchr_iter(b'\n', gap).count();
                line_start = counted_to + i + 1;
                line_end = None;
                column = char_count(&hay[line_start..m.start]) + 1;
            }
            None => column += char_count(gap),
        }
        counted_to = m.start;
        let (end, allowed) = *line_end.get_or_insert_with(|| {
            let end = memchr(b'\n', &hay[m.start..]).map_or(hay.len(), |i| m.start + i);
            (end, triage::inline_allowed(&hay[line_start..end]))
        });
        if allowed {
            continue;
        }
        let line_end = end;
        let rule = engine.rule(m.rule);
        let secret = Secret::new(&hay[m.start..m.end]);
        let severity = if exposure == Exposure::ClientSide && rule.info.severity >= Severity::Medium {
            raise(rule.info.severity)
        } else {
            rule.info.severity
        };
        out.push(Finding {
            rule: rule.info.clone(),
            severity,
            path: path.to_string(),
            line,
            column,
            end_column: column + char_count(&hay[m.start..m.end.min(line_end).max(m.start)]),
            fingerprint: secret.fingerprint(&rule.info.id),
            snippet: snippet(hay, line_start, line_end, m, matches),
            secret,
            origin: origin.clone(),
            exposure,
            context,
            history: None,
            encoding: None,
            verification: None,
        });
    }
}

fn raise(s: Severity) -> Severity {
    match s {
        Severity::Info => Severity::Low,
        Severity::Low => Severity::Medium,
        Severity::Medium => Severity::High,
        Severity::High | Severity::Critical => Severity::Critical,
    }
}

/// The rule index of a pseudo-match covering an encoded run: a snippet shows it as `«base64»`, whole.
pub const ENCODED_RUN: usize = usize::MAX;

/// Characters in a UTF-8 byte run (invalid bytes count one each).
pub(crate) fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

/// The match's line, cut to some context around it, with every match on it redacted: a snippet must not
/// leak the *other* secret on a line (an AWS key id beside its secret key).
pub(crate) fn snippet(hay: &[u8], line_start: usize, line_end: usize, m: &Match, all: &[Match]) -> String {
    let mut from = m.start.saturating_sub(SNIPPET_CONTEXT).max(line_start);
    let mut to = m.end.saturating_add(SNIPPET_CONTEXT).min(line_end);
    // Widen to whole matches, so that no secret is cut in half and left half-visible.
    for o in all {
        if o.start < to && from < o.end {
            from = from.min(o.start.max(line_start));
            to = to.max(o.end.min(line_end));
        }
    }
    while from > line_start && (hay[from] & 0xC0) == 0x80 {
        from -= 1;
    }
    while to < line_end && (hay[to] & 0xC0) == 0x80 {
        to += 1;
    }
    let mut out = String::new();
    if from > line_start {
        out.push('…');
    }
    let mut pos = from;
    for o in all.iter().filter(|o| o.start < to && from < o.end) {
        if o.start > pos {
            out.push_str(&String::from_utf8_lossy(&hay[pos..o.start]));
        }
        if o.rule == ENCODED_RUN {
            out.push_str("«base64»");
            pos = pos.max(o.end);
        } else if o.end > pos {
            out.push_str(&redact(&String::from_utf8_lossy(&hay[o.start.max(pos)..o.end])));
            pos = o.end;
        }
    }
    if to > pos {
        out.push_str(&String::from_utf8_lossy(&hay[pos..to]));
    }
    if to < line_end {
        out.push('…');
    }
    let trimmed = out.trim_end_matches('\r').trim();
    trimmed.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
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
        assert_eq!(f[0].snippet, "é = \"pk_a4…36\"");
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
            assert!(!x.snippet.contains("1612dd27"), "{}", x.snippet);
            assert!(!x.snippet.contains("6fdaeeb9"), "{}", x.snippet);
        }
    }

    #[test]
    fn inline_allow_drops_the_finding() {
        assert!(run("k = 'pk_a4c123b1612dd272d1371c17149d439536' # pkhound:allow").is_empty());
        assert!(run("k = 'pk_a4c123b1612dd272d1371c17149d439536' // gitleaks:allow").is_empty());
    }
}
