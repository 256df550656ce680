//! Escapes that keep text readable around a secret: percent-encoding (`%70k_…` in a URL), JSON /
//! JavaScript / Python string escapes (`\u0070k_…`, `\x70k_…`, `https:\/\/…`) and HTML character
//! references (`&#112;k_…`, `&#x70;k_…`, `&amp;`).
//!
//! Each decoder's patterns spell a keyword with its first character or first two escaped, its last one
//! escaped when it is punctuation (see `spellings`), and with its reserved characters escaped (`hooks.slack.com` needs none; `api.telegram.org/` does). Around a hit,
//! the line is decoded from [`BACK`] bytes before to [`AHEAD`] bytes after: enough for the rule's leading
//! context and the secret, never the whole of a one-line bundle.

use super::{spell, Decoded, Decoder};
use crate::engine::secret_like_run;
use crate::finding::Step;

/// How far before a hit decoding starts (the rule's leading context: `api_key=`).
const BACK: usize = 128;
/// How far after a hit decoding goes (the secret, each character up to 10 bytes escaped).
const AHEAD: usize = 1024;

/// The decoding window around `at`: the hit's line, cut to `BACK` before and `AHEAD` after.
fn line_window(hay: &[u8], at: usize) -> Option<(usize, usize)> {
    if at >= hay.len() {
        return None;
    }
    let lo = at.saturating_sub(BACK);
    let start = memchr::memrchr(b'\n', &hay[lo..at]).map_or(lo, |i| lo + i + 1);
    let hi = at.saturating_add(AHEAD).min(hay.len());
    let end = memchr::memchr(b'\n', &hay[at..hi]).map_or(hi, |i| at + i);
    Some((start, end))
}

fn hex_digit(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

/// The value of the hex digits `hay[at..at + n]`, when they all are.
fn hex_at(hay: &[u8], at: usize, n: usize) -> Option<u32> {
    let digits = hay.get(at..at.checked_add(n)?)?;
    digits.iter().try_fold(0u32, |acc, &b| Some(acc * 16 + hex_digit(b)?))
}

fn push_char(out: &mut Decoded, c: char, from: usize, to: usize) {
    let mut buf = [0u8; 4];
    out.push(c.encode_utf8(&mut buf).as_bytes(), from, to);
}

/// `%XX` → the byte. `+` stays `+`: in a secret it is a base64 digit more often than a space.
pub(super) struct Percent;

impl Decoder for Percent {
    fn step(&self) -> Step {
        Step::Percent
    }

    fn patterns(&self, keyword: &[u8]) -> Vec<(String, usize)> {
        spell::decoder_patterns(spell::PERCENT, keyword)
    }

    fn masks_run(&self) -> bool {
        false
    }

    fn decode(&self, hay: &[u8], at: usize, out: &mut Decoded) -> Option<(usize, usize)> {
        out.clear();
        let (start, end) = line_window(hay, at)?;
        let mut i = start;
        while i < end {
            let b = hay[i];
            if b == b'%' && i + 3 <= end {
                if let Some(v) = hex_at(hay, i + 1, 2) {
                    out.push(&[v as u8], i, i + 3);
                    i += 3;
                    continue;
                }
            }
            out.push(&[b], i, i + 1);
            i += 1;
        }
        Some((start, end))
    }
}

/// String-literal escapes of JSON, JavaScript and Python: `\uXXXX` (surrogate pairs joined), `\xXX`,
/// `\/`, `\\`, quotes, and `\n` `\r` `\t` as the characters they stand for.
pub(super) struct Escape;

impl Decoder for Escape {
    fn step(&self) -> Step {
        Step::Escape
    }

    fn patterns(&self, keyword: &[u8]) -> Vec<(String, usize)> {
        spell::decoder_patterns(spell::ESCAPE, keyword)
    }

    fn masks_run(&self) -> bool {
        false
    }

    fn decode(&self, hay: &[u8], at: usize, out: &mut Decoded) -> Option<(usize, usize)> {
        out.clear();
        if in_value_escape(hay, at) && !hay[at..].starts_with(b"\\040") && !secret_like_run(hay, at) {
            return None;
        }
        let (start, end) = line_window(hay, at)?;
        let mut i = start;
        while i < end {
            let b = hay[i];
            if b != b'\\' || i + 1 >= end {
                out.push(&[b], i, i + 1);
                i += 1;
                continue;
            }
            let (c, len) = match hay[i + 1] {
                b'u' => match hex_at(hay, i + 2, 4).filter(|_| i + 6 <= end) {
                    Some(hi @ 0xD800..=0xDBFF) => {
                        let lo = (hay.get(i + 6..i + 8) == Some(b"\\u"))
                            .then(|| hex_at(hay, i + 8, 4))
                            .flatten()
                            .filter(|lo| (0xDC00..=0xDFFF).contains(lo) && i + 12 <= end);
                        match lo {
                            Some(lo) => (char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)), 12),
                            None => (Some(char::REPLACEMENT_CHARACTER), 6),
                        }
                    }
                    Some(v) => (Some(char::from_u32(v).unwrap_or(char::REPLACEMENT_CHARACTER)), 6),
                    None => (None, 0),
                },
                b'x' => match hex_at(hay, i + 2, 2).filter(|_| i + 4 <= end) {
                    Some(v) => (char::from_u32(v), 4),
                    None => (None, 0),
                },
                // An octal byte (`\040`: libedit's space in a `.mysql_history`).
                d @ b'0'..=b'3' if i + 4 <= end && hay[i + 2..i + 4].iter().all(|b| (b'0'..=b'7').contains(b)) => {
                    let v =
                        (u32::from(d - b'0') << 6) | (u32::from(hay[i + 2] - b'0') << 3) | u32::from(hay[i + 3] - b'0');
                    (char::from_u32(v), 4)
                }
                b'n' => (Some('\n'), 2),
                b'r' => (Some('\r'), 2),
                b't' => (Some('\t'), 2),
                // JSON's and JavaScript's, and `java.util.Properties`' (`\:`, `\=`, `\#`, `\!`).
                c @ (b'/' | b'\\' | b'"' | b'\'' | b':' | b'=' | b'#' | b'!') => (Some(c as char), 2),
                _ => (None, 0),
            };
            match c {
                Some(c) => {
                    push_char(out, c, i, i + len);
                    i += len;
                }
                None => {
                    out.push(&[b], i, i + 1);
                    i += 1;
                }
            }
        }
        Some((start, end))
    }
}

/// HTML character references: `&#112;` and `&#x70;` (the `;` optional, as browsers read them), and the
/// named ones that spell punctuation of keys and URLs.
pub(super) struct HtmlEntity;

/// Named references that occur in escaped keys, URLs and `.env` lines.
const NAMED: &[(&[u8], char)] = &[
    (b"amp;", '&'),
    (b"lt;", '<'),
    (b"gt;", '>'),
    (b"quot;", '"'),
    (b"apos;", '\''),
    (b"sol;", '/'),
    (b"colon;", ':'),
    (b"equals;", '='),
    (b"plus;", '+'),
    (b"lowbar;", '_'),
    (b"period;", '.'),
    (b"hyphen;", '-'),
    (b"dash;", '-'),
    (b"nbsp;", ' '),
];

impl Decoder for HtmlEntity {
    fn step(&self) -> Step {
        Step::HtmlEntity
    }

    fn patterns(&self, keyword: &[u8]) -> Vec<(String, usize)> {
        spell::decoder_patterns(spell::HTML_ENTITY, keyword)
    }

    fn masks_run(&self) -> bool {
        false
    }

    fn decode(&self, hay: &[u8], at: usize, out: &mut Decoded) -> Option<(usize, usize)> {
        out.clear();
        if in_value_entity(hay, at) && !secret_like_run(hay, at) {
            return None;
        }
        let (start, end) = line_window(hay, at)?;
        let mut i = start;
        while i < end {
            let b = hay[i];
            if b == b'&' {
                if let Some((c, len)) = reference(&hay[i + 1..end]) {
                    push_char(out, c, i, i + 1 + len);
                    i += 1 + len;
                    continue;
                }
            }
            out.push(&[b], i, i + 1);
            i += 1;
        }
        Some((start, end))
    }
}

/// Whether the hit at `at` is one of [`spell::IN_VALUE_ENTITIES`] (a reference inside a value, not a
/// keyword's spelling in references).
fn in_value_entity(hay: &[u8], at: usize) -> bool {
    let rest = &hay[at.min(hay.len())..];
    spell::IN_VALUE_ENTITIES.iter().any(|e| rest.starts_with(e.as_bytes()))
}

/// Whether the hit at `at` is one of [`spell::IN_VALUE_ESCAPES`] (an escape inside a value, not a
/// keyword's escaped spelling).
fn in_value_escape(hay: &[u8], at: usize) -> bool {
    let rest = &hay[at.min(hay.len())..];
    spell::IN_VALUE_ESCAPES
        .iter()
        .any(|e| rest.len() >= e.len() && rest[..e.len()].eq_ignore_ascii_case(e.as_bytes()))
}

/// `value` with XML's predefined references ([`spell::IN_VALUE_ENTITIES`]: `&amp;`, `&lt;`, `&gt;`,
/// `&quot;`, `&apos;`) replaced by the characters they stand for; `value` itself when it holds none. A
/// value in XML (a .NET or Java configuration's password) is written so: the secret is what they stand for.
pub(crate) fn xml_unescaped(value: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let at = |rest: &[u8]| {
        spell::IN_VALUE_ENTITIES
            .iter()
            .find(|r| rest.starts_with(r.as_bytes()))
            .and_then(|r| Some((reference(&r.as_bytes()[1..])?.0, r.len())))
    };
    if !memchr::memchr_iter(b'&', value).any(|i| at(&value[i..]).is_some()) {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        match at(&value[i..]) {
            Some((c, len)) => {
                // The five stand for ASCII characters.
                out.push(c as u8);
                i += len;
            }
            None => {
                out.push(value[i]);
                i += 1;
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The character a reference after `&` stands for, and its length (without the `&`).
fn reference(rest: &[u8]) -> Option<(char, usize)> {
    if let Some(num) = rest.strip_prefix(b"#") {
        let (hex, digits) = match num.first() {
            Some(b'x' | b'X') => (true, &num[1..]),
            _ => (false, num),
        };
        let radix = if hex { 16 } else { 10 };
        let n = digits
            .iter()
            .take(8)
            .take_while(|b| (**b as char).is_digit(radix))
            .count();
        if n == 0 {
            return None;
        }
        let v = digits[..n].iter().try_fold(0u32, |acc, &b| {
            acc.checked_mul(radix)?.checked_add((b as char).to_digit(radix)?)
        })?;
        let c = char::from_u32(v)?;
        let semi = usize::from(digits.get(n) == Some(&b';'));
        return Some((c, 1 + usize::from(hex) + n + semi));
    }
    NAMED
        .iter()
        .find(|(name, _)| rest.len() >= name.len() && rest[..name.len()].eq_ignore_ascii_case(name))
        .map(|&(name, c)| (c, name.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(d: &dyn Decoder, s: &str) -> (String, Vec<usize>) {
        let mut out = Decoded::default();
        d.decode(s.as_bytes(), 0, &mut out).unwrap();
        (String::from_utf8_lossy(&out.bytes).into_owned(), out.starts)
    }

    #[test]
    fn percent_decodes_escapes_and_keeps_the_rest() {
        let (text, starts) = decode(&Percent, "%70k%5Fab+%zz%4");
        assert_eq!(text, "pk_ab+%zz%4");
        assert_eq!(&starts[..4], &[0, 3, 4, 7]);
    }

    #[test]
    fn escapes_decode_unicode_hex_slashes_and_surrogates() {
        assert_eq!(decode(&Escape, r"\u0070k\x5f\/\\ \n\q").0, "pk_/\\ \n\\q");
        assert_eq!(decode(&Escape, r"\ud83d\ude00!").0, "😀!");
        assert_eq!(decode(&Escape, r"\ud83d!").0, "\u{FFFD}!");
        assert_eq!(decode(&Escape, r"\u00").0, r"\u00");
    }

    #[test]
    fn in_value_escapes_decode_only_inside_secret_like_runs() {
        let mut out = Decoded::default();
        // PHP's json_encode of an AWS secret key, a Properties-stored password, .NET's escaped `+`.
        let php = br#""secret": "\/Ykn3i5nZYrlAwDZUv3+nthWFr\/oYGyk7rcJivz7","#;
        assert!(Escape.decode(php, 11, &mut out).is_some());
        assert_eq!(
            String::from_utf8_lossy(&out.bytes),
            r#""secret": "/Ykn3i5nZYrlAwDZUv3+nthWFr/oYGyk7rcJivz7","#
        );
        let props = br"db.password=ND3dad\:HIXyI*qZ4?\#";
        assert!(Escape.decode(props, 18, &mut out).is_some());
        assert_eq!(String::from_utf8_lossy(&out.bytes), "db.password=ND3dad:HIXyI*qZ4?#");
        let dotnet = br"AccountKey=IFqMt3vUhyrZAta9\u002BzaFId5";
        assert!(Escape.decode(dotnet, 27, &mut out).is_some());
        // A regex's or a URL's escaped slashes: short runs, or no digits and capitals.
        assert!(Escape.decode(br"if (/^https?:\/\//.test(u))", 13, &mut out).is_none());
        assert!(Escape
            .decode(br#""url": "https:\/\/returns.larkspur-outdoor.com""#, 14, &mut out)
            .is_none());
        // libedit's history escapes a space as `\040`.
        assert!(Escape.decode(br"CREATE\040USER\040'app'", 6, &mut out).is_some());
        assert_eq!(String::from_utf8_lossy(&out.bytes), "CREATE USER 'app'");
        // A keyword's escaped spelling still decodes wherever it is.
        assert!(Escape.decode(br"x \u0070k_", 2, &mut out).is_some());
    }

    #[test]
    fn html_references_decimal_hex_and_named() {
        assert_eq!(
            decode(&HtmlEntity, "&#112;&#x6B;&lowbar;a&amp;b&#61c &nope;").0,
            "pk_a&b=c &nope;"
        );
        assert_eq!(decode(&HtmlEntity, "&#99999999999;").0, "&#99999999999;");
    }

    #[test]
    fn patterns_spell_the_keyword_escaped() {
        let p: Vec<String> = Percent.patterns(b"pk_").into_iter().map(|p| p.0).collect();
        assert_eq!(p, ["%70%6B", "%70k", "pk%5F"]);
        let e: Vec<String> = Escape.patterns(b"pk_").into_iter().map(|p| p.0).collect();
        assert!(e.contains(&r"\u0070k".to_string()) && e.contains(&r"\x70k".to_string()));
        let h: Vec<String> = HtmlEntity.patterns(b"pk_").into_iter().map(|p| p.0).collect();
        assert!(h.contains(&"&#112;k".to_string()) && h.contains(&"pk&lowbar;".to_string()));
        assert!(Percent.patterns(b"pk").is_empty());
    }

    #[test]
    fn windows_stay_on_the_hit_line() {
        let hay = b"a=1\nkey=%70k_x\nb=2";
        let mut out = Decoded::default();
        assert_eq!(Percent.decode(hay, 8, &mut out), Some((4, 14)));
        assert_eq!(Percent.decode(hay, 99, &mut out), None);
    }
}
