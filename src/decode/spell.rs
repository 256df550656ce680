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
