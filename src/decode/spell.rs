//! How the decoders spell a rule's keywords: the patterns they add to the engine's prefilter.
//!
//! Plain functions over plain data, with no other part of the crate: `build.rs` includes this same file
//! (`#[path]`) to compute the built-in rules' patterns at build time, and the crate computes a user's or
//! an imported rule's at run time. One piece of code, so the two cannot disagree.

/// Encoded keywords shorter than this hit too often to be worth decoding around.
pub const MIN_PATTERN: usize = 3;

/// A keyword this short, escaped, would hit in ordinary escaped text too often to be worth decoding.
pub const MIN_KEYWORD: usize = 3;

/// Decoder ids, as indices into `decode::DECODERS`.
pub const BASE64: usize = 0;
pub const PERCENT: usize = 1;
pub const ESCAPE: usize = 2;
pub const HTML_ENTITY: usize = 3;
/// How many decoders there are.
pub const DECODER_COUNT: usize = 4;

/// Escapes that sit inside a value rather than spell a keyword: JSON's `\/` (PHP's `json_encode` writes
/// every `/` so, and a base64 key holds one in most cases), `\u002B`, `\u002F` and `\u003D` (.NET's
/// `System.Text.Json` escapes `+`; other encoders `/` and `=`), and `java.util.Properties`' `\:`, `\=`,
/// `\#` and `\!` (what `Properties.store` writes). The escape decoder decodes around one only when it
/// sits in a long run of mixed value characters (`text::Escape`), so a JavaScript regex's `\/` or a PHP
/// URL's costs a glance, not a decode. And libedit's `\040`, a space in a `.mysql_history` (`CREATE\040USER…`),
/// decoded wherever it is.
pub const IN_VALUE_ESCAPES: &[&str] = &[
    "\\/", "\\u002b", "\\u002f", "\\u003d", "\\:", "\\=", "\\#", "\\!", "\\040",
];

/// XML's and HTML's references for the characters a markup value must escape, as decoder patterns of the
/// entity decoder in the same pass: a password in a .NET or Java XML configuration holds `&amp;` for
/// each `&` and `&lt;` for each `<`. Decoded only when the reference sits in a run of mixed value
/// characters (`text::HtmlEntity`), so a page's `?a=1&amp;b=2` costs a glance, not a decode.
pub const IN_VALUE_ENTITIES: &[&str] = &["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"];

/// What the decoders need of one rule.
pub struct RuleInput<'a> {
    /// Tagged `generic`: never reported inside decoded bytes, so no decoder spells its keywords.
    pub generic: bool,
    pub keywords: Vec<&'a str>,
    /// The secrets of its positive examples (empty for a rule without examples).
    pub secrets: Vec<&'a str>,
}

/// One decoder pattern: `(pattern, decoder id, shift)`.
pub type Spelled = (String, usize, usize);

/// The patterns of the decoders behind one gate (`base64`: the base64 decoder; else the text decoders),
/// over every rule, decoder by decoder and rule by rule, without repeats (ASCII case ignored).
pub fn gate_patterns(rules: &[RuleInput<'_>], base64: bool) -> Vec<Spelled> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for decoder in 0..DECODER_COUNT {
        if (decoder == BASE64) != base64 {
            continue;
        }
        for rule in rules {
            // Base64: the keyword spellings that sit inside secrets, as the examples spell them (case is
            // data there). The text decoders: keywords that start a secret (`pk_`, `AKIA`, `ghp_`), not
            // plain lowercase words, whose escaped spellings only cost automaton states.
            let spellings: Vec<String> = if base64 {
                encoded_spellings(rule)
            } else if rule.generic {
                Vec::new()
            } else {
                rule.keywords
                    .iter()
                    .filter(|kw| !kw.bytes().all(|b| b.is_ascii_lowercase()))
                    .map(|kw| kw.to_string())
                    .collect()
            };
            for spelling in spellings {
                for (pattern, shift) in decoder_patterns(decoder, spelling.as_bytes()) {
                    if seen.insert((decoder, pattern.to_ascii_lowercase())) {
                        out.push((pattern, decoder, shift));
                    }
                }
            }
        }
    }
    if !base64 {
        for escape in IN_VALUE_ESCAPES {
            if seen.insert((ESCAPE, escape.to_string())) {
                out.push((escape.to_string(), ESCAPE, 0));
            }
        }
        for entity in IN_VALUE_ENTITIES {
            if seen.insert((HTML_ENTITY, entity.to_string())) {
                out.push((entity.to_string(), HTML_ENTITY, 0));
            }
        }
    }
    out
}

/// The spellings of a rule's keywords worth finding in base64: the keywords that occur inside a secret (a
/// token prefix such as `ghp_` or `pk_`), spelled as they are in the rule's positive examples, and not the
/// context words (`datadog`, `password`) that only sit next to one, and the URL schemes a credential's URL
/// opens with (`postgres://`), since a URL is encoded whole. A rule without examples (a user's, an
/// imported gitleaks rule) has every keyword encoded as given, lowercased and uppercased. Generic rules
/// are never reported inside decoded bytes, so none of theirs are. This keeps the automaton at about a
/// thousand patterns instead of several thousand.
pub fn encoded_spellings(rule: &RuleInput<'_>) -> Vec<String> {
    if rule.generic {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    if rule.secrets.is_empty() {
        for kw in &rule.keywords {
            for s in [kw.to_string(), kw.to_ascii_lowercase(), kw.to_ascii_uppercase()] {
                push(s);
            }
        }
        return out;
    }
    for kw in &rule.keywords {
        // A URL scheme (`postgres://`) is no part of the password after it, but a URL is encoded whole
        // (a Kubernetes Secret's `DATABASE_URL`, a base64 `.env`): the scheme as the rule spells it.
        if kw.len() > 3 && kw.ends_with("://") {
            push(kw.to_string());
        }
        let lower = kw.to_ascii_lowercase();
        for secret in &rule.secrets {
            if let Some(at) = secret.to_ascii_lowercase().find(&lower) {
                if let Some(spelled) = secret.get(at..at + kw.len()) {
                    push(spelled.to_string());
                }
            }
        }
    }
    out
}

/// One decoder's patterns for a keyword, each with its shift (how many bytes before the hit the decoder
/// wants the position reported).
pub fn decoder_patterns(decoder: usize, keyword: &[u8]) -> Vec<(String, usize)> {
    match decoder {
        BASE64 => base64_patterns(keyword),
        PERCENT => spellings(keyword, &|b| format!("%{b:02X}"), &|b| {
            matches!(b, b'/' | b':' | b'=' | b'@' | b'?' | b'&' | b'#' | b' ' | b'+')
        }),
        ESCAPE => {
            let mut out = spellings(keyword, &|b| format!("\\u{:04x}", b), &|b| b == b'/');
            out.extend(spellings(keyword, &|b| format!("\\x{:02x}", b), &|_| false));
            if keyword.contains(&b'/') {
                let slashed = String::from_utf8_lossy(keyword).replace('/', "\\/");
                out.push((slashed, 0));
            }
            out.sort();
            out.dedup();
            out
        }
        HTML_ENTITY => {
            let mut out = spellings(keyword, &|b| format!("&#{b};"), &|b| b == b'&');
            out.extend(spellings(keyword, &|b| format!("&#x{b:x};"), &|_| false));
            if keyword.contains(&b'_') {
                let named = String::from_utf8_lossy(keyword).replace('_', "&lowbar;");
                out.push((named, 0));
            }
            out.sort();
            out.dedup();
            out
        }
        _ => Vec::new(),
    }
}

/// The selective base64 encodings of `keyword` at each byte alignment, with each one's distance in
/// characters from the start of its 4-character quantum: `(pattern, shift)`. Only characters wholly
/// determined by the keyword's bits are kept; the URL-safe spelling is added when it differs.
pub fn base64_patterns(keyword: &[u8]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for align in 0..3 {
        let mut bytes = vec![0u8; align];
        bytes.extend_from_slice(keyword);
        let enc = base64_encode(&bytes);
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

/// Base64 of an escaped keyword (a base64 `.env` whose URL holds `%70%6B_…`): the base64 run is decoded
/// around the hit, and the decoded text's own escaped keyword leads to the inner decoder, so the
/// finding's chain is `base64>percent`.
///
/// The base64 spellings of the text decoders' escaped keywords, with hex digits in either case (base64
/// case is data: `%6b` and `%6B` encode differently). Only the spellings that start with an escape: the
/// first character escaped is what tools and obfuscators write, and the rest are the keyword in clear.
/// `(pattern, shift)`, without repeats.
pub fn escaped_in_base64(rules: &[RuleInput<'_>]) -> Vec<(String, usize)> {
    let mut escaped = std::collections::BTreeSet::new();
    for decoder in (0..DECODER_COUNT).filter(|&d| d != BASE64) {
        for rule in rules.iter().filter(|r| !r.generic) {
            for spelling in encoded_spellings(rule) {
                for (pattern, _) in decoder_patterns(decoder, spelling.as_bytes()) {
                    if pattern.starts_with(['%', '\\', '&']) {
                        escaped.insert(hex_case(&pattern, false));
                        escaped.insert(hex_case(&pattern, true));
                    }
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    escaped
        .iter()
        .flat_map(|p| base64_patterns(p.as_bytes()))
        .filter(|(pattern, _)| seen.insert(pattern.clone()))
        .collect()
}

/// `pattern` with the hex digits of its escapes (`%6B`, `\x6b`, `\u006B`, `&#x6B;`) in upper or lower
/// case, and every other character as it is.
pub fn hex_case(pattern: &str, upper: bool) -> String {
    if !pattern.is_ascii() {
        return pattern.to_string();
    }
    let bytes = pattern.as_bytes();
    let mut out = String::with_capacity(pattern.len());
    // How many of the next characters are an escape's hex digits (`usize::MAX`: up to the `;`).
    let mut hex = 0usize;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let c = b as char;
        if hex > 0 && c.is_ascii_hexdigit() {
            out.push(if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            });
            hex = hex.saturating_sub(1);
            i += 1;
            continue;
        }
        hex = 0;
        out.push(c);
        let rest = &bytes[i..];
        if rest.starts_with(b"%") {
            hex = 2;
        } else if rest.starts_with(b"\\u") {
            (hex, i) = (4, i + 1);
            out.push('u');
        } else if rest.starts_with(b"\\x") {
            (hex, i) = (2, i + 1);
            out.push('x');
        } else if rest.starts_with(b"&#x") || rest.starts_with(b"&#X") {
            (hex, i) = (usize::MAX, i + 2);
            out.push('#');
            out.push(bytes[i] as char);
        }
        i += 1;
    }
    out
}

/// The standard base64 alphabet.
pub const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
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

/// The keyword's first character escaped, followed by its second in clear or escaped (`%70k`, `%70%6B`:
/// what a tool that escapes every character writes, and the classic obfuscation of escaping only the
/// first), the keyword with its last character escaped when that one is punctuation (`pk%5F`,
/// `pk&#95;`), and with every character `reserved` says is escaped in practice; never the keyword
/// itself. Short patterns keep the automaton small (they are shared by every keyword starting with the
/// same two characters); a stray hit costs one decoded window.
fn spellings(keyword: &[u8], esc: &dyn Fn(u8) -> String, reserved: &dyn Fn(u8) -> bool) -> Vec<(String, usize)> {
    let n = keyword.len();
    if n < MIN_KEYWORD || !keyword.is_ascii() {
        return Vec::new();
    }
    let clear = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let mut out: Vec<String> = vec![
        esc(keyword[0]) + &clear(&keyword[1..2]),
        esc(keyword[0]) + &esc(keyword[1]),
    ];
    if !keyword[n - 1].is_ascii_alphanumeric() {
        out.push(clear(&keyword[..n - 1]) + &esc(keyword[n - 1]));
    }
    if keyword.iter().any(|&b| reserved(b)) {
        out.push(
            keyword
                .iter()
                .map(|&b| if reserved(b) { esc(b) } else { (b as char).to_string() })
                .collect(),
        );
    }
    out.sort();
    out.dedup();
    out.into_iter().map(|p| (p, 0)).collect()
}
