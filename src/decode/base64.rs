//! Base64 runs (a Kubernetes Secret's `data:`, a base64-encoded `.env` in YAML or JSON).
//!
//! The engine's automaton holds the base64 encodings of every keyword at the three byte alignments (`pk_`
//! at alignment 0 is `cGtf`), so the one prefilter pass that finds clear keywords also finds encoded ones;
//! only the run around such a hit is decoded. A keyword whose encodings are too short to be selective (3
//! characters or fewer) is found at the alignments where its encoding is long enough.

use super::{spell, Decoded, Decoder};
use crate::finding::Step;

/// Base64 runs: the selective encodings of each keyword at the three byte alignments.
pub(super) struct Base64;

impl Decoder for Base64 {
    fn step(&self) -> Step {
        Step::Base64
    }

    fn patterns(&self, keyword: &[u8]) -> Vec<(String, usize)> {
        keyword_encodings(keyword)
    }

    fn masks_run(&self) -> bool {
        true
    }

    /// The run around the quantum-aligned hit at `q`, decoded from the run's start, or from the hit
    /// itself when the characters before it are not base64 of text (an identifier glued to the value by
    /// `_` or `-`).
    fn decode(&self, hay: &[u8], q: usize, out: &mut Decoded) -> Option<(usize, usize)> {
        let (ws, we) = window(hay, q)?;
        let mut starts = vec![ws];
        if q > ws {
            starts.push(q);
        }
        for s in starts {
            out.clear();
            let run = &hay[s..we];
            // A wrapped run: the digits without the line breaks, and where each one stands (none when
            // the run is one line: digit c stands at s + c).
            let at: Vec<usize> = if memchr::memchr2(b'\n', b'\r', run).is_some() {
                (s..we).filter(|&i| !matches!(hay[i], b'\n' | b'\r')).collect()
            } else {
                Vec::new()
            };
            let decoded = if at.is_empty() {
                decode_base64(run, &mut out.bytes)
            } else {
                decode_base64(&at.iter().map(|&i| hay[i]).collect::<Vec<u8>>(), &mut out.bytes)
            };
            if !decoded || !mostly_text(&out.bytes) {
                continue;
            }
            let pos = |c: usize| {
                if at.is_empty() {
                    (s + c).min(we)
                } else {
                    at.get(c).copied().unwrap_or(we)
                }
            };
            // Byte i of the decoded text comes from encoded digits 4i/3 (floor) up to 4(i+1)/3 (ceiling).
            for i in 0..out.bytes.len() {
                out.starts.push(pos(i * 4 / 3));
                out.ends.push((pos(((i + 1) * 4).div_ceil(3) - 1) + 1).min(we));
            }
            return Some((ws, we));
        }
        out.clear();
        None
    }

    /// Percent-encoded base64 (`%2B`, `%2F`, `%3D` in a URL or form), JSON-escaped base64 (`\/`,
    /// `\u002F`) or HTML-escaped base64 (`&#43;`, `&#x2F;`, `&sol;`): the run stops at an escape of a
    /// base64 character, and digits (or padding) go on after it.
    fn outer(&self, hay: &[u8], q: usize) -> Option<usize> {
        let rest = hay.get(q..)?;
        // After the hit: an escape that digits (or padding) go on after.
        if let Some(end) = rest.iter().take(AHEAD).position(|&b| !is_digit(b)) {
            let tail = &rest[end..];
            if let Some((len, decoder, c)) = escaped_digit(tail, false) {
                let goes_on = tail.get(len).is_some_and(|&b| is_digit(b) || b == b'=' || b == tail[0]);
                if goes_on || c == b'=' {
                    return Some(decoder);
                }
            }
        }
        // Before it: an escape with digits before it.
        let head = &hay[..q];
        let run = head.iter().rev().take(BACK).take_while(|&&b| is_digit(b)).count();
        let mut before = &head[..head.len() - run];
        // `\/`: the `/` is a digit of the run, the backslash ends what is before it.
        if before.ends_with(b"\\") && head.get(before.len()) == Some(&b'/') {
            before = &hay[..before.len() + 1];
        }
        let (len, decoder, _) = escaped_digit(before, true)?;
        let prev = before.len().checked_sub(len + 1).and_then(|i| before.get(i))?;
        is_digit(*prev).then_some(decoder)
    }
}

/// A base64 character (`+`, `/`, `=`) escaped at the start of `s` (or at its end): the escape's length,
/// the decoder that reads it and the character.
fn escaped_digit(s: &[u8], at_end: bool) -> Option<(usize, usize, u8)> {
    const ESCAPES: &[(&[u8], usize, u8)] = &[
        (b"%2b", super::PERCENT, b'+'),
        (b"%2f", super::PERCENT, b'/'),
        (b"%3d", super::PERCENT, b'='),
        (b"\\/", super::ESCAPE, b'/'),
        (b"\\u002b", super::ESCAPE, b'+'),
        (b"\\u002f", super::ESCAPE, b'/'),
        (b"\\u003d", super::ESCAPE, b'='),
        (b"&#43;", super::HTML_ENTITY, b'+'),
        (b"&#47;", super::HTML_ENTITY, b'/'),
        (b"&#61;", super::HTML_ENTITY, b'='),
        (b"&#x2b;", super::HTML_ENTITY, b'+'),
        (b"&#x2f;", super::HTML_ENTITY, b'/'),
        (b"&#x3d;", super::HTML_ENTITY, b'='),
        (b"&sol;", super::HTML_ENTITY, b'/'),
        (b"&equals;", super::HTML_ENTITY, b'='),
        (b"&plus;", super::HTML_ENTITY, b'+'),
    ];
    // Escapes are spelled in lowercase above; `%2F` and `&#X2B;` are the same. The longest is 8 bytes.
    let part = if at_end {
        &s[s.len().saturating_sub(8)..]
    } else {
        &s[..s.len().min(8)]
    };
    let folded = part.to_ascii_lowercase();
    ESCAPES
        .iter()
        .find(|(e, _, _)| {
            if at_end {
                folded.ends_with(e)
            } else {
                folded.starts_with(e)
            }
        })
        .map(|&(e, decoder, c)| (e.len(), decoder, c))
}

/// How far before a hit, in encoded characters, decoding starts (the rule's leading context).
pub(super) const BACK: usize = 128;
/// How far after a hit, in encoded characters, decoding goes (the secret and its trailing context): a
/// service account's JSON key holds a 2048-bit private key (1.7 KB of PEM) after its `private_key` name.
pub(super) const AHEAD: usize = 4096;
/// A shorter run is an identifier that happens to spell an encoding, not an encoded secret.
pub(crate) const MIN_RUN: usize = 16;

// The engine opens the base64 patterns' gate on runs this long.
const _: () = assert!(MIN_RUN == crate::engine::MIN_BASE64_RUN);

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

fn is_digit(b: u8) -> bool {
    DIGIT[b as usize] != INVALID
}

/// The selective base64 encodings of `keyword` at each byte alignment (see [`spell::base64_patterns`]).
pub fn keyword_encodings(keyword: &[u8]) -> Vec<(String, usize)> {
    spell::base64_patterns(keyword)
}

/// Standard base64 with padding.
#[cfg(test)]
pub(super) fn encode(bytes: &[u8]) -> String {
    spell::base64_encode(bytes)
}

/// The shortest line a wrapped run is made of: MIME wraps at 76 characters, PEM at 64, `base64` at 76.
const WRAP_MIN: usize = 60;

/// The length of the line break (`\n` or `\r\n`) at `at`, if one is there.
fn line_break_at(hay: &[u8], at: usize) -> Option<usize> {
    match hay.get(at..)? {
        [b'\n', ..] => Some(1),
        [b'\r', b'\n', ..] => Some(2),
        _ => None,
    }
}

/// Where the line holding `at` starts.
fn line_start(hay: &[u8], at: usize) -> usize {
    memchr::memrchr(b'\n', &hay[..at]).map_or(0, |i| i + 1)
}

/// When `start` begins a line and the line before is whole quanta of base64 digits (at least
/// [`WRAP_MIN`]): that line's start.
fn wrapped_line_before(hay: &[u8], start: usize) -> Option<usize> {
    if start == 0 || hay[start - 1] != b'\n' {
        return None;
    }
    let end = if start >= 2 && hay[start - 2] == b'\r' {
        start - 2
    } else {
        start - 1
    };
    let prev = line_start(hay, end);
    let line = &hay[prev..end];
    (line.len() >= WRAP_MIN && line.len().is_multiple_of(4) && line.iter().all(|&b| is_digit(b))).then_some(prev)
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
///
/// A run wrapped at a fixed width (a MIME body's 76 characters, PEM's 64) is one run: a line break is
/// crossed when the line before it is whole quanta of at least [`WRAP_MIN`] characters and the next line
/// goes on with digits. The window then holds the line breaks, which [`Base64::decode`] skips.
pub fn window(hay: &[u8], q: usize) -> Option<(usize, usize)> {
    if q >= hay.len() || !is_digit(hay[q]) {
        return None;
    }
    let mut start = q;
    loop {
        while start >= 4 && q - start < BACK && hay[start - 4..start].iter().all(|&b| is_digit(b)) {
            start -= 4;
        }
        match wrapped_line_before(hay, start) {
            Some(prev) if q - start < BACK => start = prev,
            _ => break,
        }
    }
    let limit = q.saturating_add(AHEAD).min(hay.len());
    let mut end = q;
    let mut line = line_start(hay, q);
    loop {
        while end < limit && is_digit(hay[end]) {
            end += 1;
        }
        match line_break_at(hay, end) {
            Some(len)
                if end < limit
                    && end - line >= WRAP_MIN
                    && (end - line).is_multiple_of(4)
                    && hay.get(end + len).is_some_and(|&b| is_digit(b)) =>
            {
                end += len;
                line = end;
            }
            _ => break,
        }
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
