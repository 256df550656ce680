use proptest::prelude::*;

use super::base64::{encode, AHEAD, BACK};
use super::*;
use crate::rules;

fn b64(bytes: &[u8]) -> String {
    encode(bytes)
}

fn decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    decode_base64(s.as_bytes(), &mut out).then_some(out)
}

#[test]
fn decodes_padded_unpadded_and_url_safe() {
    assert_eq!(decode("cGtf").unwrap(), b"pk_");
    assert_eq!(decode("cGs=").unwrap(), b"pk");
    assert_eq!(decode("cGs").unwrap(), b"pk");
    assert_eq!(decode("cA==").unwrap(), b"p");
    // 0xfb 0xff encodes to `+/8` in the standard alphabet and `-_8` in the URL-safe one.
    assert_eq!(decode("-_8").unwrap(), [0xfb, 0xff]);
    assert_eq!(decode("+/8").unwrap(), [0xfb, 0xff]);
    assert_eq!(decode("cG!f"), None);
}

#[test]
fn encode_round_trips() {
    for n in 0..10 {
        let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
        assert_eq!(decode(&b64(&bytes)).unwrap(), bytes);
    }
}

#[test]
fn keyword_encodings_are_found_at_every_alignment() {
    let keyword = b"secret_access_key";
    let encodings = keyword_encodings(keyword);
    for align in 0..3 {
        let mut text = b"xy".to_vec();
        text.truncate(align);
        text.extend_from_slice(keyword);
        text.extend_from_slice(b"=abc");
        let enc = b64(&text);
        let hit = encodings
            .iter()
            .find_map(|(p, shift)| enc.find(p.as_str()).map(|at| (at, *shift)));
        let (at, shift) = hit.unwrap_or_else(|| panic!("alignment {align}: no encoding in {enc}"));
        assert_eq!((at - shift) % 4, 0, "alignment {align}: the hit's quantum is aligned");
    }
    // `pk_` is selective only at alignment 0: `cGtf`.
    assert_eq!(keyword_encodings(b"pk_")[0], ("cGtf".to_string(), 0));
}

#[test]
fn mostly_text_rejects_binary() {
    assert!(mostly_text(b"KLAVIYO_KEY=abc\n"));
    assert!(!mostly_text(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0]));
    assert!(!mostly_text(&[1, 2, 3, 4, 5, 6, 7, 8, 9, b'a']));
    assert!(!mostly_text(b""));
}

#[test]
fn window_caps_huge_runs_on_a_quantum() {
    let hay = "QUFB".repeat(100_000);
    let (s, e) = window(hay.as_bytes(), 200_000).unwrap();
    assert_eq!((s, e), (200_000 - BACK, 200_000 + AHEAD));
    assert_eq!((e - s) % 4, 0);
    assert_eq!(window(b"ab cGtf yz", 3), None, "a short run is not decoded");
    assert_eq!(window(b"abc", 10), None);
}

fn engine() -> &'static Engine {
    static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(|| crate::scan::compile(&rules::builtin().unwrap()).unwrap())
}

fn scan(text: &str) -> Vec<Finding> {
    let engine = engine();
    let mut scratch = engine.scratch();
    let mut out = Vec::new();
    let matches = engine.scan(text.as_bytes(), &mut scratch).to_vec();
    locate::findings(
        engine,
        "k8s/secret.yaml",
        &Origin::File,
        text.as_bytes(),
        &matches,
        &mut out,
    );
    findings(
        engine,
        &mut scratch,
        "k8s/secret.yaml",
        &Origin::File,
        text.as_bytes(),
        &mut out,
        0,
    );
    out
}

const KEY: &str = "pk_a4c123b1612dd272d1371c17149d439536"; // pkhound:allow

#[test]
fn finds_a_base64_value_and_maps_it_back() {
    let enc = b64(KEY.as_bytes());
    let text = format!("kind: Secret\ndata:\n  KLAVIYO_KEY: {enc}\n");
    let f = scan(&text);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].line, f[0].column), (3, 16));
    assert_eq!(f[0].encoding, Some(Encoding::BASE64));
    assert_eq!(f[0].secret.expose(), KEY);
    assert_eq!(f[0].snippet.redacted(), "KLAVIYO_KEY: «base64»");
}

#[test]
fn finds_a_key_in_a_base64_env_file_at_any_alignment() {
    for pad in ["", "A", "AB"] {
        let env = format!("{pad}X=1\nKLAVIYO_PRIVATE_KEY={KEY}\nOTHER=2\n");
        let enc = b64(env.as_bytes()).replace('+', "-").replace('/', "_");
        let text = format!("{{\"env\": \"{enc}\"}}");
        let f = scan(&text);
        assert_eq!(f.len(), 1, "pad {pad:?}: {f:?}");
        assert_eq!(f[0].line, 1);
        assert!(!f[0].snippet.redacted().contains(&enc[4..20]), "{:?}", f[0].snippet);
    }
}

#[test]
fn finds_a_key_in_a_wrapped_base64_body() {
    // A MIME part (76 characters a line) or PEM-like wrapping (64), CRLF or LF, the key anywhere in it:
    // one finding, on the line that spells the key's first characters.
    for (width, eol) in [(76, "\r\n"), (64, "\n"), (76, "\n")] {
        for pad in 0..3 {
            let body = format!(
                "{}Hi Jonas,\n\nwelcome aboard! The credentials you will own:\n\nKlaviyo (private API key):\n  {KEY}\n\nCheers,\nPriya\n",
                "x".repeat(pad)
            );
            let enc = b64(body.as_bytes());
            let lines: Vec<&str> = enc
                .as_bytes()
                .chunks(width)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            let text = format!("Content-Transfer-Encoding: base64{eol}{eol}{}{eol}", lines.join(eol));
            let f = scan(&text);
            assert_eq!(f.len(), 1, "width {width} pad {pad}: {f:?}");
            assert_eq!(f[0].secret.expose(), KEY);
            assert_eq!(f[0].encoding, Some(Encoding::BASE64));
        }
    }
}

#[test]
fn window_crosses_only_whole_wrapped_lines() {
    let line = "QUFB".repeat(19); // 76 characters
    let text = format!("{line}\n{line}\n{line}\n");
    let (s, e) = window(text.as_bytes(), 81).unwrap();
    assert_eq!((s, e), (0, 3 * 76 + 2));
    // A short line (not whole quanta, or under 60 characters) ends the run.
    let text = format!("QUFBQUFB\n{line}\n");
    assert_eq!(window(text.as_bytes(), 13).unwrap().0, 9);
    let text = format!("{line}Q\n{line}\n");
    assert_eq!(window(text.as_bytes(), 4).unwrap().1, 77);
}

#[test]
fn a_percent_encoded_secret_read_in_clear_is_not_found_again_decoded() {
    // The line holds an encoded keyword (`%3A11`, Jenkins' `:11`), so the percent decoder reads it, and
    // the SAS signature is found both as written and decoded: one finding.
    let text = "https://acct.blob.core.windows.net/c?sv=2023-01-03&st=2025-06-18T08%3A45%3A11Z&se=2025-06-19T08%3A45%3A11Z&sr=c&sp=r&sig=ow2a1XbXmD4%2BEv9LBUkek8R%2FrAjvrQFpenUbzztILn8%3D\n";
    let f = scan(text);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].encoding, None);
}

#[test]
fn clear_and_encoded_on_one_line_is_one_finding() {
    let text = format!("a: {KEY} b: {}\n", b64(KEY.as_bytes()));
    let f = scan(&text);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].encoding, None);
}

#[test]
fn no_snippet_shows_another_secret_encoded_on_its_line() {
    let other = "pk_b3216fdaeeb975729fae923d5a4fd12aab"; // pkhound:allow
    let (e1, e2) = (b64(KEY.as_bytes()), b64(other.as_bytes()));
    for text in [
        format!("{{\"a\": \"{e1}\", \"b\": \"{e2}\"}}"),
        format!("a: {other} b: {e1}"),
    ] {
        let f = scan(&text);
        assert_eq!(f.len(), 2, "{f:?}");
        for x in &f {
            for hidden in [&e1[4..40], &e2[4..40], &KEY[5..], &other[5..]] {
                assert!(!x.snippet.redacted().contains(hidden), "{:?}", x.snippet);
            }
        }
    }
}

#[test]
fn an_encoded_secret_after_another_secret_names_no_variable() {
    // The first argument would be read as the name (`define('K', '…')`): the remediation would print it.
    let key_id = "AKIAQEGLIYYDKWUZQ2EK"; // pkhound:allow
    let text = format!("cfg = make(\"{key_id}\", \"{}\")\n", b64(KEY.as_bytes()));
    let f = scan(&text);
    let encoded: Vec<_> = f.iter().filter(|x| x.encoding.is_some()).collect();
    assert_eq!(encoded.len(), 1, "{f:?}");
    assert_eq!(encoded[0].variable, None);
    assert!(
        !encoded[0].remediation().contains(key_id),
        "{}",
        encoded[0].remediation()
    );
}

#[test]
fn decoys_yield_nothing() {
    let live = b64(b"pk_live_51HbZ2eLkdIwHu7ixm2aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789");
    let random: Vec<u8> = (0u32..48)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let text = format!(
        "icon: data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\nlive: {live}\nrandom: {}\nnot: cGtfYWJj\n",
        b64(&random)
    );
    assert!(scan(&text).is_empty(), "{:?}", scan(&text));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut out = Vec::new();
        let _ = decode_base64(&bytes, &mut out);
        for q in 0..bytes.len() {
            if let Some((s, e)) = window(&bytes, q) {
                prop_assert!(s <= q && q < e && e <= bytes.len());
            }
        }
    }

    #[test]
    fn arbitrary_base64_text_never_panics(s in "[A-Za-z0-9+/=_ \n-]{0,300}") {
        let prefixed = format!("cGtf{s}");
        let _ = scan(&prefixed);
        let _ = scan(&s);
    }

    #[test]
    fn a_decoded_match_maps_back_inside_its_blob(noise in "[a-z =\n]{0,40}") {
        let text = format!("{noise}v: {}\n{noise}", b64(KEY.as_bytes()));
        let f = scan(&text);
        prop_assert_eq!(f.len(), 1);
        let lines = text.lines().count().max(1);
        prop_assert!(f[0].line <= lines);
    }
}

#[test]
fn generic_assignments_inside_encoded_payloads_are_not_findings() {
    // An OAuth/JWT-style payload whose JSON carries a `secret` field: the token is the secret, the field
    // inside it is not a leak of its own. A specific key inside the same payload still is.
    let generic = b64(br#"{"userId":"usrA1b2C3","secret":"q8Zr2LxW9vKp4TnB7mYd"}"#); // pkhound:allow
    assert!(scan(&format!("payload: {generic}\n")).is_empty());
    let specific = b64(b"KLAVIYO_PRIVATE_API_KEY=pk_a4c123b1612dd272d1371c17149d439536\n"); // pkhound:allow
    assert_eq!(scan(&format!("env: {specific}\n")).len(), 1);
}

#[test]
fn line_cursor_agrees_with_counting_from_the_start() {
    let hay = b"a\nbb\n\nccc\nd";
    let naive_line = |at: usize| 1 + hay[..at].iter().filter(|&&b| b == b'\n').count();
    let naive_start = |n: usize| {
        (n == 1).then_some(0).or_else(|| {
            hay.iter()
                .enumerate()
                .filter(|(_, &b)| b == b'\n')
                .nth(n - 2)
                .map(|(i, _)| i + 1)
        })
    };
    let mut lines = Lines::default();
    // Forward, backward (a reset) and repeated positions.
    for at in [0, 1, 2, 5, 6, 7, 11, 3, 0, 10, 10, 4] {
        assert_eq!(lines.line_of(hay, at), naive_line(at), "line_of({at})");
    }
    let mut lines = Lines::default();
    for n in [1, 2, 4, 5, 6, 3, 1, 5] {
        assert_eq!(lines.start_of(hay, n), naive_start(n), "start_of({n})");
    }
}

/// (line, column, end column, encoding, snippet) of each finding.
fn placed(text: &str) -> Vec<(usize, usize, usize, String, String)> {
    scan(text)
        .iter()
        .map(|f| {
            assert_eq!(f.secret.expose(), KEY, "{f:?}");
            (
                f.line,
                f.column,
                f.end_column,
                f.encoding.map_or("none", Encoding::as_str).to_string(),
                f.snippet.redacted(),
            )
        })
        .collect()
}

/// `KEY` with its characters escaped by `esc` where `which` says.
fn escaped(esc: impl Fn(char) -> String, which: impl Fn(usize) -> bool) -> String {
    KEY.chars()
        .enumerate()
        .map(|(i, c)| if which(i) { esc(c) } else { c.to_string() })
        .collect()
}

#[test]
fn escaped_keys_are_found_and_placed_on_their_encoded_span() {
    let json = escaped(|c| format!("\\u{:04x}", c as u32), |i| i == 0);
    let js = escaped(|c| format!("\\x{:02x}", c as u32), |i| i < 3);
    let pct = escaped(|c| format!("%{:02X}", c as u32), |_| true);
    let html = escaped(|c| format!("&#{};", c as u32), |i| i % 2 == 0);
    let hex_html = escaped(|c| format!("&#x{:x};", c as u32), |i| i == 2);
    for (text, col, len, enc) in [
        (format!("x\n{{\"k\": \"{json}\"}}\n"), 8, json.len(), "escape"),
        (format!("var k = '{js}';"), 10, js.len(), "escape"),
        (
            format!("GET /cb?url=https%3A%2F%2Fa.io%3Fkey%3D{pct}&x=1"),
            40,
            pct.len(),
            "percent",
        ),
        (format!("<a data-k=\"{html}\">"), 12, html.len(), "html-entity"),
        (format!("<i>{hex_html}</i>"), 4, hex_html.len(), "html-entity"),
    ] {
        let got = placed(&text);
        assert_eq!(got.len(), 1, "{text}: {got:?}");
        let (line, column, end, e, snippet) = &got[0];
        assert_eq!((*column, *end - *column, e.as_str()), (col, len, enc), "{text}");
        assert_eq!(*line, 1 + usize::from(text.starts_with("x\n")));
        assert!(snippet.contains(&format!("«{enc}»")), "{snippet}");
        assert!(!snippet.contains("1612dd"), "{snippet}");
    }
}

/// Known gap since the rules merge: base64 patterns are kept only for keyword spellings that occur inside
/// secrets (`pk_`), not for context words (`KLAVIYO`) nor for escaped spellings (`%70k_`), so a base64 run
/// whose payload holds only a percent-encoded key has no hit to decode around.
#[test]

fn base64_of_a_percent_encoded_value_is_a_chain() {
    let pct = escaped(|c| format!("%{:02x}", c as u32), |i| i < 2);
    let text = format!(
        "data:\n  env: {}\n",
        b64(format!("KLAVIYO_URL=https://x.io/?k={pct}\n").as_bytes())
    );
    let got = placed(&text);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].0, got[0].3.as_str()), (2, "base64>percent"));
    assert_eq!(got[0].4, "env: «base64»");
}

#[test]
fn a_key_in_clear_beside_escapes_is_one_finding_in_clear() {
    let text = format!("{{\"a\":\"\\u003c\\/b\\u003e\", \"k\": \"{KEY}\", \"c\": \"%70k_zz\"}}");
    let got = placed(&text);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].3, "none");
}

#[test]
fn decoding_is_bounded_per_blob() {
    // Every 20 bytes an escaped keyword: each decodes its own window until the budget runs out, and the
    // key at the end of a 2 MB line is still found in clear.
    let mut text = "\\u0070k_zzzz \\x70k_zz ".repeat(100_000);
    text.push_str(&format!(" {KEY}"));
    let got = placed(&text);
    assert_eq!(got.len(), 1);
}

#[test]
fn encoding_chains_render_outermost_first() {
    use crate::finding::Step;
    let chain = Encoding::BASE64.then(Encoding::of(Step::Percent));
    assert_eq!(chain.as_str(), "base64>percent");
    let long = chain
        .then(Encoding::of(Step::Escape))
        .then(Encoding::of(Step::HtmlEntity));
    assert_eq!(long.as_str(), "base64>percent>escape", "at most three steps");
    assert_eq!(Encoding::of(Step::HtmlEntity).to_string(), "html-entity");
}

#[test]
#[ignore = "a measurement: cargo test --release --lib pattern_count -- --ignored --nocapture"]
fn pattern_count() {
    let rules = rules::builtin().unwrap();
    let t = std::time::Instant::now();
    let _ = Engine::compile(&rules).unwrap();
    let plain = t.elapsed();
    let t = std::time::Instant::now();
    let _ = crate::scan::compile(&rules).unwrap();
    let all = t.elapsed();
    let n = patterns(&rules).len();
    let per: Vec<usize> = (0..DECODERS.len())
        .map(|d| patterns(&rules).iter().filter(|p| p.decoder == d).count())
        .collect();
    println!("{n} decoder patterns {per:?}; compile {plain:?} without, {all:?} with");
}

#[test]
fn hex_case_touches_only_escape_digits() {
    use spell::hex_case;
    assert_eq!(hex_case("%70%6Bab", false), "%70%6bab");
    assert_eq!(hex_case(r"\u006bk\x5fab", true), r"\u006Bk\x5Fab");
    assert_eq!(hex_case("&#x6b;a&#107;b", true), "&#x6B;a&#107;b");
    assert_eq!(hex_case("pk%5f", true), "pk%5F");
}

/// A base64 `.env` whose `/` and `+` were escaped on the way into a URL, a JSON string or an HTML
/// attribute: the escapes cut the run, so the run is unescaped first and the chain says so.
#[test]
fn escaped_base64_runs_are_unescaped_first() {
    // Padding chosen so the encoded `.env` holds both a `/` and a `+`.
    let env = format!("A=??>\nKLAVIYO_PRIVATE_KEY={KEY}\nB=??~\n");
    let enc = b64(env.as_bytes());
    assert!(enc.contains('/') && enc.contains('+'), "{enc}");
    for (escaped, chain) in [
        (
            enc.replace('/', "%2F").replace('+', "%2B").replace('=', "%3D"),
            "percent>base64",
        ),
        (enc.replace('/', "\\/"), "escape>base64"),
        (enc.replace('+', "\\u002B").replace('/', "\\u002f"), "escape>base64"),
        (enc.replace('/', "&#x2F;").replace('+', "&#43;"), "html-entity>base64"),
    ] {
        let text = format!("x\n<a href=\"https://x.io/?env={escaped}&y=1\">\n");
        let got = placed(&text);
        assert_eq!(got.len(), 1, "{text}: {got:?}");
        assert_eq!((got[0].0, got[0].3.as_str()), (2, chain), "{text}");
        assert!(!got[0].4.contains(&enc[8..30]), "{:?}", got[0].4);
    }
}

/// Base64 of text whose key is escaped inside: a JSON document (`\u0070k_…`) or an HTML fragment.
#[test]
fn escapes_inside_base64_are_chains() {
    let json = escaped(|c| format!("\\u{:04x}", c as u32), |i| i == 0);
    let html = escaped(|c| format!("&#{};", c as u32), |i| i < 3);
    let pct_upper = escaped(|c| format!("%{:02X}", c as u32), |_| true);
    for (inner, chain) in [
        (format!("{{\"klaviyo\": {{\"key\": \"{json}\"}}}}"), "base64>escape"),
        (format!("<meta content=\"{html}\">"), "base64>html-entity"),
        (format!("KLAVIYO=https://x.io/?k={pct_upper}"), "base64>percent"),
    ] {
        for pad in ["", "a", "ab"] {
            let text = format!("config: {}\n", b64(format!("{pad}{inner}\n").as_bytes()));
            let got = placed(&text);
            assert_eq!(got.len(), 1, "{inner} pad {pad:?}: {got:?}");
            assert_eq!(got[0].3, chain, "{inner} pad {pad:?}");
            assert_eq!(got[0].4, "config: «base64»");
        }
    }
}

/// Nesting stops at `MAX_DEPTH`: a JSON string escaped three times over is found with its chain, one
/// escaped four times is not decoded to the end.
#[test]
fn nesting_is_bounded_in_depth() {
    let key = escaped(|c| format!("u{:04x}", c as u32), |i| i == 0);
    let three = format!("\"{}{key}\"", "\\".repeat(4));
    let got = placed(&three);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].3, "escape>escape>escape");
    let four = format!("\"{}{key}\"", "\\".repeat(8));
    assert!(placed(&four).is_empty());
}

/// The decoder patterns built in at build time are the ones the decoders compute now from the rule
/// files as written: a rule file edited without a rebuild of `build.rs`'s output, or a spelling change
/// that only one side sees, fails here.
#[test]
fn built_in_spellings_match_the_rule_files() {
    let full = rules::builtin_with_examples().unwrap();
    let lean = rules::builtin().unwrap();
    assert!(are_builtin_inputs(&full) && are_builtin_inputs(&lean));
    for gate in [Gate::Base64Run, Gate::Escape, Gate::LongBase64Run] {
        let baked = patterns_for(&lean, gate);
        let got: Vec<(String, usize, usize)> = baked
            .iter()
            .map(|e| (e.pattern.to_string(), e.decoder, e.shift))
            .collect();
        let computed = match gate {
            Gate::LongBase64Run => {
                let inputs: Vec<spell::RuleInput<'_>> = full.iter().map(|r| spelling_input(&r.spec)).collect();
                escaped_base64_patterns(&inputs)
                    .into_iter()
                    .map(|e| (e.pattern.to_string(), e.decoder, e.shift))
                    .collect()
            }
            _ => computed_patterns(&full, gate == Gate::Base64Run),
        };
        assert!(!got.is_empty(), "{gate:?}");
        assert_eq!(got, computed, "{gate:?}");
        assert!(baked
            .iter()
            .all(|e| e.gate == gate && e.exact_case == (gate != Gate::Escape)));
    }
    assert!(
        patterns_for(&lean, Gate::Base64Run).iter().any(|e| e.pattern == "cGtf"),
        "pk_ in base64"
    );
    assert!(
        patterns_for(&lean, Gate::Escape).iter().any(|e| e.pattern == "%70k"),
        "pk_ percent-escaped"
    );
}

/// Rules that differ from the built-ins (a user's rule added, an example's secret changed) get their
/// patterns computed, not the built-in ones.
#[test]
fn other_rules_get_their_own_spellings() {
    let mut rules = rules::builtin().unwrap();
    let mut custom = rules[0].clone();
    custom.spec.id = "custom-zq".into();
    custom.spec.tags = Arc::default();
    custom.spec.keywords = vec!["ZQX9_".into()].into();
    custom.spec.examples = Default::default();
    rules.push(custom);
    assert!(!are_builtin_inputs(&rules));
    let encoded = keyword_encodings(b"ZQX9_")[0].0.clone();
    assert!(patterns_for(&rules, Gate::Base64Run)
        .iter()
        .any(|e| e.pattern == encoded));
    assert!(patterns_for(&rules, Gate::Escape).iter().any(|e| e.pattern == "%5AQ"));

    let mut changed = rules::builtin().unwrap();
    let klaviyo = changed.iter_mut().find(|r| r.spec.id == "klaviyo-private-key").unwrap();
    klaviyo.spec.examples.positive[0].secret = "PK_0123".into();
    assert!(!are_builtin_inputs(&changed));
    assert!(patterns_for(&changed, Gate::Base64Run)
        .iter()
        .any(|e| e.pattern == b64(b"PK_")[..4]));
}

/// `spell`'s decoder ids are indices into `DECODERS`.
#[test]
fn spell_decoder_ids_index_the_decoders() {
    assert_eq!(DECODERS.len(), spell::DECODER_COUNT);
    assert_eq!(DECODERS[spell::BASE64].step(), Step::Base64);
    assert_eq!(DECODERS[spell::PERCENT].step(), Step::Percent);
    assert_eq!(DECODERS[spell::ESCAPE].step(), Step::Escape);
    assert_eq!(DECODERS[spell::HTML_ENTITY].step(), Step::HtmlEntity);
}
