//! The rule examples are the rule tests; properties of the engine on arbitrary input.

use proptest::prelude::*;

use super::*;
use crate::decode::encoded_spellings;
use crate::rules;

fn builtin_engine() -> (Vec<LoadedRule>, Engine) {
    let rules = rules::builtin_with_examples().expect("built-in rules load");
    let engine = crate::scan::compile(&rules).expect("built-in rules compile");
    (rules, engine)
}

/// One engine for the property tests, so each case costs a scan, not a compile.
fn shared_engine() -> &'static Engine {
    static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(|| builtin_engine().1)
}

/// The rule ids of what `engine` finds in `hay`, in the order of the matches.
fn found_ids<'e>(engine: &'e Engine, scratch: &mut Scratch, hay: &[u8]) -> Vec<&'e str> {
    engine
        .scan(hay, scratch)
        .iter()
        .map(|m| engine.rules[m.rule].info.id.as_str())
        .collect()
}

/// Every example of every built-in rule, through the real engine (prefilter, window, filters).
/// Collects every failure and fails once, naming file, rule and example index.
#[test]
fn rule_examples() {
    let (rules, engine) = builtin_engine();
    let all: Vec<usize> = (0..rules.len()).collect();
    let failures: Vec<String> = check_examples(&engine, &rules, &all, true)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        failures.is_empty(),
        "{} rule example failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn always_on_rule_runs_without_keywords() {
    let text = r#"
[[rule]]
id = "acme-token"
name = "Acme token"
severity = "high"
keywords = ["zz"]
regex = 'acme=([A-Za-z0-9]{20})'
secret_group = 1
remediation = "Rotate it."
"#;
    let mut rules = rules::parse_rule_file("t.toml", text).expect("parses");
    rules[0].spec.keywords = std::sync::Arc::default();
    let engine = Engine::compile(&rules).expect("compiles");
    let mut scratch = engine.scratch();
    let hay = b"x\nacme=Q7ZKD2M9XW4BN6PLR3TY\n";
    let m = engine.scan(hay, &mut scratch).to_vec();
    assert_eq!(m.len(), 1);
    assert_eq!(&hay[m[0].start..m[0].end], b"Q7ZKD2M9XW4BN6PLR3TY");
    assert!(engine.scan(b"", &mut scratch).is_empty());
}

/// Start-up must not grow with the rule count: building the engine over the built-in rules reads no
/// rule's spec beyond its id, keywords and path, and a scan reads only the specs of the rules it wakes.
#[test]
fn the_engine_reads_only_the_specs_of_rules_a_scan_wakes() {
    let rules = rules::builtin().expect("built-in rules load");
    let engine = crate::scan::compile(&rules).expect("built-in rules compile");
    let read = |e: &Engine| e.rules.iter().filter(|r| r.data.get().is_some()).count();
    assert_eq!(read(&engine), 0);
    let mut scratch = engine.scratch();
    let hay = b"KLAVIYO_KEY = \"pk_a4c123b1612dd272d1371c17149d439536\"\nextra = 1\n";
    assert_eq!(found_ids(&engine, &mut scratch, hay), ["klaviyo-private-key"]);
    let woken = read(&engine);
    assert!(woken > 0 && woken < 12, "{woken} rules read for one line");
}

/// Every match, with every group, of `regex` in `hay`, one search after another (as a window's search).
fn all_matches(regex: &regex_automata::meta::Regex, hay: &[u8]) -> Vec<Vec<Option<(usize, usize)>>> {
    let mut caps = regex.create_captures();
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some((start, end)) = search_at(regex, &mut caps, hay, pos) {
        out.push(
            (0..caps.group_len())
                .map(|g| caps.get_group(g).map(|s| (s.start, s.end)))
                .collect(),
        );
        pos = if end > start { end } else { end + 1 };
        if pos > hay.len() {
            break;
        }
    }
    out
}

/// A rule's light regex (no lazy DFA, no prefilter: what a rule searches its first windows with) and its
/// full one find the same matches and groups, on every example of every built-in rule.
#[test]
fn light_and_full_regexes_find_the_same() {
    let (rules, engine) = builtin_engine();
    let mut compared = 0;
    for (idx, loaded) in rules.iter().enumerate() {
        let Ok(matcher) = engine.rules[idx].matcher() else {
            continue;
        };
        let tiered = match &matcher.starts {
            Some(st) => &st.regex,
            None => matcher.regex().expect("the regex builds"),
        };
        let full = tiered.full().expect("the full regex builds");
        let examples = &loaded.spec.examples;
        let texts = examples
            .positive
            .iter()
            .map(|p| p.text.as_str())
            .chain(examples.negative.iter().map(String::as_str));
        for text in texts {
            assert_eq!(
                all_matches(tiered.light().expect("the light regex builds"), text.as_bytes()),
                all_matches(full, text.as_bytes()),
                "{}: {text:?}",
                loaded.spec.id
            );
            compared += 1;
        }
    }
    assert!(compared > 3000, "{compared} examples compared");
}

/// A scan that wakes several rules compiles each and finds what each finds; rules it did not wake stay
/// uncompiled.
#[test]
fn a_scan_compiles_the_rules_it_wakes_and_no_other() {
    let text = r#"
[[rule]]
id = "acme-token"
name = "Acme token"
severity = "high"
keywords = ["acme="]
regex = 'acme=(?P<secret>[A-Za-z0-9]{20})'
remediation = "Rotate it."

[[rule]]
id = "zork-token"
name = "Zork token"
severity = "high"
keywords = ["zork_"]
regex = '(?P<secret>zork_[a-f0-9]{32})'
remediation = "Rotate it."

[[rule]]
id = "quux-token"
name = "Quux token"
severity = "high"
keywords = ["quux-"]
regex = '(?P<secret>quux-[a-f0-9]{32})'
remediation = "Rotate it."
"#;
    let rules = rules::parse_rule_file("t.toml", text).expect("parses");
    let engine = Engine::compile_lazy(&rules, None).expect("compiles");
    assert!(engine.rules.iter().all(|r| r.matcher.get().is_none()));
    let mut scratch = engine.scratch();
    let hay = b"acme=Q7ZKD2M9XW4BN6PLR3TY\nt = zork_4f0c2a9e1b7d3c5a8e6f0b2d4c6a8e1f\n";
    assert_eq!(found_ids(&engine, &mut scratch, hay), ["acme-token", "zork-token"]);
    let compiled: Vec<bool> = engine.rules.iter().map(|r| r.matcher.get().is_some()).collect();
    assert_eq!(compiled, [true, true, false]);
}

#[test]
fn scratch_is_reusable_across_blobs() {
    let (_, engine) = builtin_engine();
    let mut scratch = engine.scratch();
    let key = b"k=pk_a4c123b1612dd272d1371c17149d439536\n"; // pkhound:allow
    assert_eq!(engine.scan(key, &mut scratch).len(), 1);
    assert_eq!(engine.scan(b"nothing here", &mut scratch).len(), 0);
    assert_eq!(engine.scan(key, &mut scratch).len(), 1);
}

/// A value in a checked format that fails the check was never issued: its own rule refuses it, and so
/// do the generic and place rules that would read it as an assigned secret or a bearer token.
#[test]
fn a_token_failing_its_format_check_is_refused_by_every_rule() {
    let engine = shared_engine();
    let mut scratch = engine.scratch();
    let mut ids = |text: &str| found_ids(engine, &mut scratch, text.as_bytes());
    for forged in [
        "GITHUB_TOKEN=ghp_XIxB7KMNdAr3zqWtQqhE94qglHqOzn1D1stg",
        "NPM_TOKEN=npm_XIxB7KMNdAr3zqWtQqhE94qglHqOzn1D1stg",
        "Authorization: Bearer glsa_HOruNAb7SOiCdshU7algkrq7FDsNSLAa_55e2f8be",
        "aws_access_key_id = AKIAWGXZ9OPDOWUJMZGI",
        "secret_token = 'ASIAIOSFODNN7LXM10JI'",
    ] {
        assert_eq!(ids(forged), Vec::<&str>::new(), "{forged}");
    }
    // The same shapes with their checks right are their provider's findings.
    assert_eq!(
        ids("GITHUB_TOKEN=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"), // pkhound:allow
        ["github-classic-pat"]
    );
    assert_eq!(ids("aws_access_key_id = AKIAWW7VB7XQRJAZEDLQ"), ["aws-access-key-id"]); // pkhound:allow
                                                                                        // A value no checked format claims stays the generic rule's.
    assert_eq!(
        ids("secret_token = 'Xq7vK2mN4pR7tW1xY3bC'"),
        ["generic-secret-assignment"]
    );
}

#[test]
fn a_required_pairs_unpaired_match_does_not_hide_a_claimed_value() {
    // `secret_key = …` of 40 characters: AWS's beside an access key id, a framework's alone. The AWS
    // rule's match without its key id is no match, and must not make the framework's reading yield.
    let engine = shared_engine();
    let mut scratch = engine.scratch();
    let alone = b"[default]\nsecret_key = LsOnLvyzuyXIQBV9fCnY3eccIX0WZxJ9CdGbInuW\nsend_chunk = 65536\n";
    assert_eq!(found_ids(engine, &mut scratch, alone), ["framework-secret-key"]);
    let paired =
        b"[default]\naccess_key = AKIAQEGLIYYDKWUZQ2EK\nsecret_key = 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\n";
    assert_eq!(
        found_ids(engine, &mut scratch, paired),
        ["aws-secret-key-beside-key-id"]
    );
}

#[test]
fn keys_in_a_dense_line_are_each_found_once() {
    let (_, engine) = builtin_engine();
    let mut scratch = engine.scratch();
    let line = "a=pk_a4c123b1612dd272d1371c17149d439536,b=pk_b3216fdaeeb975729fae923d5a4fd12aab,pk_users,pk_live_x"; // pkhound:allow
    let found = engine.scan(line.as_bytes(), &mut scratch).to_vec();
    let kl: Vec<_> = found
        .iter()
        .filter(|m| engine.rule(m.rule).info.id.as_str() == "klaviyo-private-key")
        .map(|m| &line[m.start..m.end])
        .collect();
    assert_eq!(
        kl,
        [
            "pk_a4c123b1612dd272d1371c17149d439536", // pkhound:allow
            "pk_b3216fdaeeb975729fae923d5a4fd12aab"  // pkhound:allow
        ]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let engine = shared_engine();
        let mut scratch = engine.scratch();
        for m in engine.scan(&data, &mut scratch) {
            prop_assert!(m.start < m.end && m.end <= data.len());
        }
    }

    #[test]
    fn a_key_spliced_into_noise_is_found_once(
        prefix in "[ -~\n]{0,300}",
        suffix in "[ -~\n]{0,300}",
        body in "[0-9a-f]{34}",
    ) {
        let key = format!("pk_{body}");
        prop_assume!(!is_placeholder(key.as_bytes()) && shannon_entropy(key.as_bytes()) >= 3.0);
        let text = format!("{prefix} {key} {suffix}");
        let engine = shared_engine();
        let mut scratch = engine.scratch();
        let at = prefix.len() + 1;
        let hits: Vec<_> = engine
            .scan(text.as_bytes(), &mut scratch)
            .iter()
            .filter(|m| engine.rule(m.rule).info.id.as_str() == "klaviyo-private-key")
            .map(|m| (m.start, m.end))
            .collect();
        prop_assert!(hits.contains(&(at, at + key.len())), "{hits:?}");
        prop_assert_eq!(hits.iter().filter(|&&(s, _)| s == at).count(), 1);
    }
}

/// The literal sets a small scan uses and the DFA a large one switches to find the same matches.
#[test]
fn literal_and_dfa_prefilters_agree() {
    let (_, engine) = builtin_engine();
    let mut scratch = engine.scratch();
    let sample = "x = 1\nKLAVIYO=pk_a4c123b1612dd272d1371c17149d439536\ntoken: ghp_x\n".repeat(50); // pkhound:allow
    let before = engine.scan(sample.as_bytes(), &mut scratch).to_vec();
    let before_encoded = scratch.decoder_hits().len();
    assert!(engine.dfa.get().is_none(), "a small scan stays on the literal sets");
    let filler = vec![b'a'; DFA_AFTER + 1];
    engine.scan(&filler, &mut scratch);
    let after = engine.scan(sample.as_bytes(), &mut scratch).to_vec();
    assert!(matches!(engine.dfa.get(), Some(Ok(_))), "a large scan builds the DFA");
    assert_eq!(before, after);
    assert_eq!(before_encoded, scratch.decoder_hits().len());
    assert_eq!(before.len(), 50);
}

/// A DFA built ahead of the scans (a history scan builds it beside its commit walk) is the one scans
/// use, however little they have scanned, and a second call does not build another.
#[test]
fn a_dfa_built_ahead_serves_the_first_scan() {
    let (_, engine) = builtin_engine();
    let mut scratch = engine.scratch();
    let sample = "KLAVIYO=pk_a4c123b1612dd272d1371c17149d439536\n"; // pkhound:allow
    let literal = engine.scan(sample.as_bytes(), &mut scratch).to_vec();
    engine.build_dfa();
    let built = engine
        .dfa
        .get()
        .map(|d| d.as_ref().ok().map(|d| d as *const KeywordDfa));
    assert!(matches!(built, Some(Some(_))), "build_dfa builds it");
    assert!(engine.reach.get().is_some(), "and what the near scan needs of it");
    engine.build_dfa();
    let again = engine
        .dfa
        .get()
        .map(|d| d.as_ref().ok().map(|d| d as *const KeywordDfa));
    assert_eq!(built, again);
    assert!(engine.dfa(sample.len()).is_some(), "the first small scan walks it");
    assert_eq!(engine.scan(sample.as_bytes(), &mut scratch), literal);
}

#[test]
fn context_words_are_not_encoded_but_token_prefixes_are() {
    let rules = rules::builtin().expect("built-in rules load");
    let spec = |id: &str| &rules.iter().find(|r| r.spec.id == id).expect("rule exists").spec;
    assert_eq!(encoded_spellings(spec("klaviyo-private-key")), ["pk_"]);
    assert_eq!(
        encoded_spellings(spec("aws-access-key-id")),
        ["AKIA", "ASIA", "ABIA", "ACCA", "A3T"]
    );
    assert!(encoded_spellings(spec("datadog-api-key")).is_empty());
    assert!(encoded_spellings(spec("generic-secret-assignment")).is_empty());
    let mut custom = spec("klaviyo-private-key").clone();
    custom.examples = Default::default();
    assert_eq!(encoded_spellings(&custom), ["pk_", "PK_"]);
}

/// A blob with no base64 run and no escape byte never builds the decoders' automata; one with a run
/// builds only base64's.
#[test]
fn decoder_automata_are_built_only_when_a_blob_opens_their_gate() {
    let (_, engine) = builtin_engine();
    let mut scratch = engine.scratch();
    engine.scan(
        b"KLAVIYO_KEY = \"pk_a4c123b1612dd272d1371c17149d439536\"\n".as_slice(),
        &mut scratch,
    );
    // The key's own 37 characters are a base64 run; no escape byte anywhere.
    assert!(engine.extra_sets[Gate::Base64Run.index()].get().is_some());
    assert!(engine.extra_sets[Gate::Escape.index()].get().is_none());
    let (_, fresh) = builtin_engine();
    let mut scratch = fresh.scratch();
    fresh.scan(b"x = compute(1, 2)  # line 3\n".as_slice(), &mut scratch);
    assert!(fresh.extra_sets.iter().all(|s| s.get().is_none()));
    fresh.scan(b"u = 'a%20b'\n".as_slice(), &mut scratch);
    assert!(fresh.extra_sets[Gate::Escape.index()].get().is_some());
}

/// Base64 is case-sensitive: an encoded keyword's hit counts only in its exact spelling, so that `try` in
/// code is not taken for the encoding `TRy`.
#[test]
fn encoded_hits_match_case() {
    let (_, engine) = builtin_engine();
    let mut scratch = engine.scratch();
    let set = engine.extra_set(Gate::Base64Run).expect("base64 patterns");
    let p = set
        .patterns
        .iter()
        .find(|e| e.pattern.bytes().any(|b| b.is_ascii_uppercase()))
        .expect("an encoding with an uppercase letter");
    // Inside a run long enough to decode, as the gate wants.
    let exact = format!("data: {}QUJDREVGR0hJSktMTU5P", p.pattern);
    engine.scan(exact.as_bytes(), &mut scratch);
    assert!(!scratch.decoder_hits().is_empty());
    engine.scan(exact.to_ascii_lowercase().as_bytes(), &mut scratch);
    assert!(scratch.decoder_hits().is_empty());
}

/// See: issue 15 — in a binary file only a secret whose regex ends in a fixed-count run may be glued on
/// its right (a SQLite record's next column): there the glue cannot be part of the secret.
#[test]
fn fixed_length_endings_are_known_per_rule() {
    let engine = shared_engine();
    let ends_fixed = |id: &str| {
        engine
            .rules()
            .iter()
            .find(|r| r.info.id.as_str() == id)
            .unwrap_or_else(|| panic!("no rule {id}"))
            .ends_fixed()
    };
    assert!(ends_fixed("klaviyo-private-key"));
    // `ghp_[A-Za-z0-9]{36}`, `re_…[A-Za-z0-9]{24}`: letters and digits glue into symbol names.
    assert!(!ends_fixed("github-classic-pat"));
    assert!(!ends_fixed("resend-api-key"));
    // `LTAI[A-Za-z0-9]{12,28}`: a glued letter may be the id going on.
    assert!(!ends_fixed("alibaba-access-key-id"));
    assert!(!ends_fixed("github-installation-token-stateless"));
}

/// What aho-corasick's own overlapping search reports, sorted: `(start, end, pattern)`.
fn overlapping_reference(patterns: &[String], hay: &[u8]) -> Vec<(usize, usize, usize)> {
    let searcher = aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(aho_corasick::MatchKind::Standard)
        .build(patterns)
        .expect("automaton");
    let mut out: Vec<_> = searcher
        .find_overlapping_iter(hay)
        .map(|m| (m.start(), m.end(), m.pattern().as_usize()))
        .collect();
    out.sort_unstable();
    out
}

fn in_lanes<const L: usize>(dfa: &KeywordDfa, hay: &[u8]) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    dfa.overlapping::<L>(hay, |s, e, p| out.push((s, e, p)));
    out.sort_unstable();
    out
}

/// What [`KeywordDfa::find_in_order`] reports, checked to be in order of start, then pattern (the order
/// the engine's scan relies on, with nothing sorted after), against the reference's `(start, pattern)`.
fn in_order(dfa: &KeywordDfa, hay: &[u8], want: &[(usize, usize, usize)]) -> Result<(), TestCaseError> {
    let mut got = vec![(usize::MAX, 0)];
    dfa.find_in_order(hay, &mut got, &mut Default::default());
    prop_assert_eq!(got.first(), Some(&(usize::MAX, 0)), "what `out` held stays first");
    let mut want: Vec<(usize, usize)> = want.iter().map(|&(s, _, p)| (s, p)).collect();
    want.sort_unstable();
    prop_assert_eq!(&got[1..], &want[..]);
    Ok(())
}

/// What the engine's walk reports, in as many lanes as it picks for `hay`'s length, sorted.
fn picked_lanes(dfa: &KeywordDfa, hay: &[u8]) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    dfa.find_overlapping(hay, |s, e, p| out.push((s, e, p)));
    out.sort_unstable();
    out
}

proptest! {
    /// Any patterns, any text over the same few bytes (so that matches are dense and cross the lanes'
    /// borders; `é` and `É` are bytes above ASCII, the space one no pattern holds), any number of lanes:
    /// the lanes report exactly the overlapping search's matches.
    #[test]
    fn lanes_find_what_one_overlapping_walk_finds(
        patterns in prop::collection::vec("[abAB%_é]{1,9}", 1..14),
        hay in "[abAB%_ éÉ]{0,700}",
    ) {
        let dfa = KeywordDfa::new(&patterns).expect("automaton");
        let want = overlapping_reference(&patterns, hay.as_bytes());
        prop_assert_eq!(&in_lanes::<1>(&dfa, hay.as_bytes()), &want);
        prop_assert_eq!(&in_lanes::<2>(&dfa, hay.as_bytes()), &want);
        prop_assert_eq!(&in_lanes::<3>(&dfa, hay.as_bytes()), &want);
        prop_assert_eq!(&in_lanes::<4>(&dfa, hay.as_bytes()), &want);
        prop_assert_eq!(&picked_lanes(&dfa, hay.as_bytes()), &want);
        in_order(&dfa, hay.as_bytes(), &want)?;
    }

    /// The built-in engine's own patterns (keywords, base64 and escaped spellings), planted whole, in
    /// another case or cut short among noise and arbitrary bytes, in a blob large enough for four lanes.
    #[test]
    fn lanes_find_every_planted_keyword_and_spelling(
        parts in prop::collection::vec(
            (0u8..5, any::<usize>(), any::<usize>(), "[a-zA-Z0-9%&;#_/+=. \n-]{0,40}", prop::collection::vec(any::<u8>(), 0..20)),
            0..300,
        ),
    ) {
        static DFA_ALL: std::sync::OnceLock<(Vec<String>, KeywordDfa)> = std::sync::OnceLock::new();
        let (patterns, dfa) = DFA_ALL.get_or_init(|| {
            let patterns: Vec<String> = shared_engine().all_patterns().into_iter().map(str::to_string).collect();
            let dfa = KeywordDfa::new(&patterns).expect("automaton");
            (patterns, dfa)
        });
        let mut hay = Vec::new();
        for (kind, pick, cut, noise, bytes) in &parts {
            let p = patterns[pick % patterns.len()].as_bytes();
            match kind {
                0 => hay.extend_from_slice(noise.as_bytes()),
                1 => hay.extend_from_slice(p),
                2 => hay.extend(p.iter().map(|b| b.to_ascii_uppercase())),
                3 => hay.extend_from_slice(bytes),
                _ => hay.extend_from_slice(&p[..cut % (p.len() + 1)]),
            }
        }
        let want = overlapping_reference(patterns, &hay);
        prop_assert_eq!(&in_lanes::<4>(dfa, &hay), &want);
        prop_assert_eq!(&picked_lanes(dfa, &hay), &want);
        in_order(dfa, &hay, &want)?;
    }
}

#[test]
fn a_window_is_searched_only_when_it_holds_a_byte_every_match_needs() {
    let required_byte = |r: &str| {
        super::parse_hir(r)
            .ok()
            .and_then(|h| super::required_byte(&h))
            .map(|(b, _)| b)
    };
    // The rarest byte every match spells exactly.
    assert_eq!(required_byte(r"https?://[^:@/\s]+:[^@/\s]+@[a-z.]+"), Some(b'@'));
    assert_eq!(required_byte(r"\bpk_[0-9a-f]{34}\b"), Some(b'_'));
    assert_eq!(required_byte(r"(?:x@|y@z)"), Some(b'@'));
    assert_eq!(required_byte(r"(?:key|token)=(\w+)"), Some(b'='));
    // Not in every branch, optional, or only a class of several bytes: nothing to look for.
    assert_eq!(required_byte(r"(?:a@|b)c"), None);
    assert_eq!(required_byte(r"abc@?"), None);
    assert_eq!(required_byte(r"(?i)sentry.{0,20}[0-9a-f]{64}"), None);
    assert_eq!(required_byte(r"[@=]x"), None);
    assert_eq!(required_byte(r"(unclosed"), None);
    // How far into a match the byte lies, when the regex bounds it.
    let within = |r: &str| {
        super::parse_hir(r)
            .ok()
            .and_then(|h| super::required_byte(&h))
            .and_then(|(_, w)| w)
    };
    assert_eq!(within(r"https?://[0-9a-f]{32}:([0-9a-f]{32})@[a-z.]*sentry"), Some(74));
    assert_eq!(within(r"(?:x|yz)@"), Some(3));
    assert_eq!(within(r"https?://[^:@/\s]+:[^@/\s]+@[a-z.]+"), None);
}

#[test]
fn a_window_is_searched_only_when_it_holds_a_run_every_match_needs() {
    let run = |r: &str| super::parse_hir(r).ok().and_then(|h| super::required_run(&h));
    let hex = |r: &Run| (0u8..=255).filter(|&b| r.class[usize::from(b)]).collect::<Vec<u8>>();
    let sentry = run(r"(?i:sentry)(?s:[^@]){0,40}?(?P<secret>[a-f0-9]{64})").expect("a 64-byte run");
    assert_eq!(sentry.min, 64);
    assert_eq!(hex(&sentry), b"0123456789abcdef");
    // The longest of several; through groups and repetitions that must happen; case folded.
    assert_eq!(
        run(r"https?://[0-9a-f]{32}:(?P<s>[0-9a-f]{40})@").map(|r| r.min),
        Some(40)
    );
    assert_eq!(run(r"(?:tok_[A-Z0-9]{20}){1,2}").map(|r| r.min), Some(20));
    let folded = run(r"(?i)x[a-c]{16}").expect("a 16-byte run");
    assert_eq!(hex(&folded), b"ABCabc");
    // Optional, in one branch only, too short, or not one class per byte: nothing to look for.
    assert_eq!(run(r"x(?:[0-9a-f]{64})?"), None);
    assert_eq!(run(r"(?:[0-9a-f]{64}|y)"), None);
    assert_eq!(run(r"[0-9a-f]{8}-[0-9a-f]{4}"), None);
    assert_eq!(run(r"(?:ab){20}"), None);

    let r = Run {
        class: std::array::from_fn(|b| (b as u8).is_ascii_hexdigit()),
        min: 4,
    };
    assert!(r.found_in(b"xx beef"));
    assert!(r.found_in(b"0123"));
    assert!(!r.found_in(b"abc xyz 12 3"));
    assert!(!r.found_in(b""));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The skipping check agrees with counting every run.
    #[test]
    fn a_run_is_found_exactly_when_one_is_there(
        hay in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b'-')], 0..80),
        min in 1usize..12,
    ) {
        let r = Run { class: std::array::from_fn(|b| b == usize::from(b'a') || b == usize::from(b'b')), min };
        let longest = hay.split(|&b| b == b'-').map(<[u8]>::len).max().unwrap_or(0);
        prop_assert_eq!(r.found_in(&hay), longest >= min);
    }
}

#[test]
fn keyword_start_is_proved_from_prefix_literals() {
    let keyword_start =
        |r: &str, k: &[crate::rules::Text]| super::parse_hir(r).is_ok_and(|h| super::keyword_start(&h, k));
    let kw = |ks: &[&str]| ks.iter().map(|k| crate::rules::Text::from(*k)).collect::<Vec<_>>();
    assert!(keyword_start(
        r"(?i:sentry)(?s:[^@]){0,40}?([a-f0-9]{64})",
        &kw(&["sentry"])
    ));
    assert!(keyword_start(
        r"(?:https?|ftp)://[^:@]+:([^@]+)@",
        &kw(&["http://", "https://", "ftp://"])
    ));
    // A scheme without its keyword (`ftps://`) can begin a match where no keyword does.
    assert!(!keyword_start(
        r"(?:https?|ftps?)://[^:@]+:([^@]+)@",
        &kw(&["http://", "https://", "ftp://"])
    ));
    // The keyword is only part of the match's start, or the match begins before it.
    assert!(!keyword_start(r"(?:^|[^a-z])token=(\w+)", &kw(&["token"])));
    assert!(!keyword_start(r"\w*token=(\w+)", &kw(&["token"])));
    assert!(!keyword_start(r"x?token=(\w+)", &kw(&["token"])));
    assert!(!keyword_start(r"[a-z]{2,}", &kw(&["ab"])));
    assert!(!keyword_start(r"(unclosed", &kw(&["unclosed"])));
    assert!(!keyword_start(r"abc", &[]));
    // ASCII case folded as the keywords are: one prefix for a long case-insensitive name.
    assert!(keyword_start(
        r"(?i:s0_legacy|s2_unauthenticated|s2_access_?control)(?:_key)?\s{0,3}[:=]\s{0,3}([0-9a-f]{32})",
        &kw(&[
            "s0_legacy",
            "s2_unauthenticated",
            "s2_accesscontrol",
            "s2_access_control"
        ])
    ));
    assert!(!keyword_start(
        r"(?i:s0_legacy|s2_unauthenticated|s2_access_?control)=([0-9a-f]{32})",
        &kw(&["s0_legacy", "s2_unauthenticated", "s2_accesscontrol"])
    ));
    assert!(keyword_start(r"(?:ab){1,2}c", &kw(&["abc", "ababc"])));
    assert!(!keyword_start(r"(?:ab){0,2}c", &kw(&["abc", "ababc"])));
    // Built in: those that run at every mention of Sentry and every URL.
    let (rules, _) = builtin_engine();
    for id in ["sentry-access-token", "url-credentials", "sentry-dsn-secret"] {
        let spec = &rules.iter().find(|r| r.spec.id == id).expect(id).spec;
        assert!(keyword_start(&spec.regex, &spec.keywords), "{id}");
    }
    // Every built-in rule that `regex_syntax`'s literal extraction (with case kept, at most 4,096
    // literals) proves to begin at a keyword is proved so by the folded prefixes too.
    let extracted = |hir: &regex_syntax::hir::Hir, keywords: &[crate::rules::Text]| {
        use regex_syntax::hir::literal::{ExtractKind, Extractor};
        let mut extractor = Extractor::new();
        extractor
            .kind(ExtractKind::Prefix)
            .limit_class(4)
            .limit_literal_len(64)
            .limit_total(4096);
        let Some(literals) = extractor.extract(hir).literals().map(<[_]>::to_vec) else {
            return false;
        };
        let keywords: Vec<Vec<u8>> = keywords.iter().map(|k| k.to_ascii_lowercase().into_bytes()).collect();
        !literals.is_empty()
            && literals.iter().all(|l| {
                let l = l.as_bytes().to_ascii_lowercase();
                keywords.iter().any(|k| !k.is_empty() && l.starts_with(k))
            })
    };
    let (mut both, mut gained) = (0, 0);
    for r in &rules {
        let Ok(hir) = super::parse_hir(&r.spec.regex) else {
            continue;
        };
        let (old, new) = (
            extracted(&hir, &r.spec.keywords),
            super::keyword_start(&hir, &r.spec.keywords),
        );
        assert!(
            !old || new,
            "{}: the extraction proves a keyword start, the folded prefixes do not",
            r.spec.id
        );
        both += usize::from(old);
        gained += usize::from(new && !old);
    }
    assert!(both > 300, "{both} rules begin at a keyword");
    assert!(gained > 0, "no rule gained");
}

/// Byte spans of secrets.
type Spans = Vec<(usize, usize)>;

/// Rule `id` over `hay` as one window, run anchored at its keywords (as the engine runs it) and by its
/// regex searching the window (as every other rule runs): the secrets' spans of each.
fn anchored_and_searched(id: &str, hay: &[u8]) -> (Spans, Spans) {
    let engine = shared_engine();
    let mut scratch = engine.scratch();
    let r = engine.rules().iter().position(|c| c.info.id.as_str() == id).expect(id);
    let rule = &engine.rules()[r];
    let Ok(matcher) = rule.matcher() else {
        panic!("{id} compiles")
    };
    assert!(matcher.starts.is_some(), "{id} runs anchored");
    scratch.touched = vec![r];
    scratch.windows[r] = vec![(0, hay.len())];
    let anchored: Vec<(usize, usize)> = engine
        .run_windows(hay, &mut scratch)
        .iter()
        .map(|m| (m.start, m.end))
        .collect();
    // The keywords' places taken from a whole scan's hits instead of searched again: the same.
    scratch.touched = vec![r];
    scratch.windows[r] = vec![(0, hay.len())];
    scratch.matches.clear();
    scratch.hits.clear();
    engine.keywords.find_all(hay, &mut scratch.hits);
    scratch.hits_whole = true;
    let from_hits: Vec<(usize, usize)> = engine
        .run_windows(hay, &mut scratch)
        .iter()
        .map(|m| (m.start, m.end))
        .collect();
    assert_eq!(from_hits, anchored, "{id}: from a scan's hits");
    let mut searched = Vec::new();
    let tiered = matcher.regex().expect("the regex builds");
    let mut caps = tiered.create_captures().expect("the regex builds");
    let regex = tiered.get(hay.len()).expect("the regex builds");
    let mut pos = 0;
    while pos <= hay.len() {
        let Some((start, end)) = search_at(regex, &mut caps, hay, pos) else {
            break;
        };
        pos = if end > start { end } else { end + 1 };
        let group = |g: usize| caps.get_group(g).map(|m| (m.start, m.end));
        if let Some((s, e)) = secret_span(matcher.secret, (start, end), caps.group_len(), group) {
            if s < e && rule.accepts(matcher, hay, s, e, false) {
                searched.push((s, e));
            }
        }
    }
    searched.sort_unstable();
    searched.dedup();
    (anchored, searched)
}

#[test]
fn anchored_runs_find_each_match_where_keywords_crowd() {
    let (hex, hex2) = (
        "07c1c703172126e5e195d0be9260e844bdeab78959ac4aa407b5f569acd76f0f",
        "3d0bc266624edf6130dd0aaa41063b3e3d1c111e2c87750e508e64a3fcfb7aa2",
    );
    let hay = format!(
        "https://docs.example.com/ https://https://u:Xk9mQ2vLp7@a.example.com/ http://x:y@https://v:Rt5nW8zBq3@b.example.org \
         sentry sentry={hex} SENTRY_TOKEN: {hex2} sentrysentry{hex}x\n"
    );
    let (anchored, searched) = anchored_and_searched("url-credentials", hay.as_bytes());
    assert_eq!(anchored, searched);
    assert!(anchored.len() >= 2, "{anchored:?}");
    let (anchored, searched) = anchored_and_searched("sentry-access-token", hay.as_bytes());
    assert_eq!(anchored, searched);
    assert!(anchored.len() >= 2, "{anchored:?}");
    // A DSN's secret among URLs whose `@` lies too far from them to be theirs.
    let dsn = "https://4e14383295a44cdf3df274b1e11fdad9:358f64282e079850949eaf9618027464@o1.ingest.sentry.io/42";
    let hay = format!(
        "https://a.example.org/ {} https://b.example.org/{} {dsn} https://{}@x\n",
        "x".repeat(80),
        "y".repeat(90),
        "f".repeat(32)
    );
    let (anchored, searched) = anchored_and_searched("sentry-dsn-secret", hay.as_bytes());
    assert_eq!(anchored, searched);
    assert_eq!(anchored.len(), 1, "{anchored:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A rule whose matches begin at its keywords runs anchored at each keyword: the same matches as its
    /// regex searching the window, on text dense with keywords, near-misses and overlaps.
    #[test]
    fn anchored_runs_find_what_a_window_search_finds(
        parts in proptest::collection::vec(prop_oneof![
            Just("https://"), Just("http://"), Just("HTTPS://"), Just("user"), Just(":"), Just("p4ss"),
            Just("@"), Just("host.example.com"), Just("/"), Just(" "), Just("sentry"), Just("SENTRY "),
            Just("0123456789abcdef"), Just("07c1c703172126e5e195d0be9260e844bdeab78959ac4aa407b5f569acd76f0f"),
            Just("\n"), Just("x"), Just("4e14383295a44cdf3df274b1e11fdad9"), Just("o1.ingest.sentry.io/42"),
        ], 0..40)
    ) {
        let hay = parts.concat();
        for id in ["sentry-access-token", "url-credentials", "sentry-dsn-secret"] {
            let (anchored, searched) = anchored_and_searched(id, hay.as_bytes());
            prop_assert_eq!(anchored, searched, "{}", id);
        }
    }
}

/// A rule's regex runs only within `window` bytes of a keyword: a match longer than that is cut short
/// (and then fails the delimitation filter), so a real token of the format's full length would be
/// missed. Every built-in rule's longest match fits its window.
#[test]
fn rule_windows_hold_their_longest_match() {
    let (rules, _) = builtin_engine();
    let mut short = Vec::new();
    for loaded in &rules {
        let spec = &loaded.spec;
        if spec.keywords.is_empty() {
            continue;
        }
        let hir = parse_hir(&spec.regex).expect("built-in regexes parse");
        // A regex with an open-ended part (`\s+`) has no longest match; its secret has one.
        let secret = random_secrets::group(&hir, spec.secret_group.map(|g| g as u32));
        let longest = hir
            .properties()
            .maximum_len()
            .or_else(|| secret?.properties().maximum_len());
        if let Some(max) = longest {
            if max > spec.window {
                short.push(format!("{}: window {} < longest match {max}", spec.id, spec.window));
            }
        }
    }
    assert!(short.is_empty(), "{} rules:\n{}", short.len(), short.join("\n"));
}

/// A rule that looks for its value's use (`used-as-credential`) reads up to `check::USE_REACH` bytes past
/// the value: its window must hold that and the match, or a history scan that reads only around an edit
/// of the use (`engine::near`) would not see the assignment.
#[test]
fn use_checking_rules_see_the_use_from_its_keyword() {
    let (rules, _) = builtin_engine();
    let mut checked = 0;
    for loaded in &rules {
        let spec = &loaded.spec;
        if spec.check != Some(Check::UsedAsCredential) {
            continue;
        }
        checked += 1;
        let hir = parse_hir(&spec.regex).expect("built-in regexes parse");
        let longest = hir.properties().maximum_len().expect("a bounded assignment");
        assert!(
            spec.window >= super::check::USE_REACH + longest,
            "{}: window {} < {} + {longest}",
            spec.id,
            spec.window,
            super::check::USE_REACH
        );
    }
    assert!(checked > 0, "no rule checks a value's use");
}

/// Random values drawn from a rule's own `secret` group, for the tests below: what a real, freshly issued
/// token of the format looks like to the filters. A class as broad as "anything but a quote" (a password,
/// a free-form token) draws letters, digits and the punctuation generators use; an open-ended or long
/// optional run gets at least 8 characters (a password of one character is not a password anyone issues).
mod random_secrets {
    use regex_syntax::hir::{Class, Hir, HirKind};

    pub struct Rng(u64);

    impl Rng {
        pub fn new(seed: &str) -> Rng {
            Rng(seed.bytes().fold(0x9E37_79B9_7F4A_7C15, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
            }))
        }
        /// SplitMix64.
        pub fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        pub fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// What a broad class draws besides letters and digits: a password's punctuation (no `%`, which
    /// starts a percent escape or a printf slot), or a token's (base64, base64url, JWT and URL-safe).
    pub const PASSWORD_PUNCT: &[u8] = b"!#$*+-.=_~";
    pub const TOKEN_PUNCT: &[u8] = b"-_.+/=~";

    /// The bytes a class may draw: printable ASCII only, and for a broad class letters, digits and `punct`.
    fn class_bytes(class: &Class, punct: &[u8]) -> Vec<u8> {
        let mut bytes: Vec<u8> = match class {
            Class::Bytes(c) => c.iter().flat_map(|r| r.start()..=r.end()).collect(),
            Class::Unicode(c) => c
                .iter()
                .flat_map(|r| u32::from(r.start())..=u32::from(r.end()).min(0x7F))
                .filter_map(|c| u8::try_from(c).ok())
                .collect(),
        };
        bytes.retain(|b| b.is_ascii_graphic());
        if bytes.len() > 70 {
            bytes.retain(|b| b.is_ascii_alphanumeric() || punct.contains(b));
        }
        bytes
    }

    /// A regex's shape for drawing: each class's bytes listed once.
    pub enum Node {
        Bytes(Vec<u8>),
        Set(Vec<u8>),
        Repeat(usize, usize, Box<Node>),
        Concat(Vec<Node>),
        Alternation(Vec<Node>),
    }

    /// `None` when a class has nothing printable to draw. A broad class draws from letters, digits and
    /// `punct`.
    pub fn compile(hir: &Hir, punct: &[u8]) -> Option<Node> {
        Some(match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => Node::Bytes(Vec::new()),
            HirKind::Literal(l) => Node::Bytes(l.0.to_vec()),
            HirKind::Class(c) => {
                let bytes = class_bytes(c, punct);
                if bytes.is_empty() {
                    return None;
                }
                Node::Set(bytes)
            }
            // Padding (`={0,2}`, `=*`) repeats one character: as few as the regex allows, plus two.
            HirKind::Repetition(r) if matches!(r.sub.kind(), HirKind::Literal(_)) => {
                let min = r.min as usize;
                let hi = r.max.map_or(min + 2, |m| (m as usize).min(min + 2));
                Node::Repeat(min, hi, Box::new(compile(&r.sub, punct)?))
            }
            HirKind::Repetition(r) => {
                let min = r.min as usize;
                let (lo, hi) = match r.max {
                    Some(max) if (max as usize) < 8 || max as usize == min => (min, max as usize),
                    Some(max) => (min.max(8), max as usize),
                    None => (min.max(8), min.max(8) + 24),
                };
                Node::Repeat(lo, hi, Box::new(compile(&r.sub, punct)?))
            }
            HirKind::Capture(c) => compile(&c.sub, punct)?,
            HirKind::Concat(v) => Node::Concat(v.iter().map(|h| compile(h, punct)).collect::<Option<_>>()?),
            HirKind::Alternation(v) => Node::Alternation(v.iter().map(|h| compile(h, punct)).collect::<Option<_>>()?),
        })
    }

    /// One random match of `node`, appended to `out`.
    pub fn draw(node: &Node, rng: &mut Rng, out: &mut Vec<u8>) {
        match node {
            Node::Bytes(b) => out.extend_from_slice(b),
            Node::Set(s) => out.push(s[rng.below(s.len())]),
            Node::Repeat(lo, hi, sub) => {
                for _ in 0..lo + rng.below(hi - lo + 1) {
                    draw(sub, rng, out);
                }
            }
            Node::Concat(v) => v.iter().for_each(|n| draw(n, rng, out)),
            Node::Alternation(v) => draw(&v[rng.below(v.len())], rng, out),
        }
    }

    /// A password rule's values are drawn with a password's punctuation, any other rule's with a token's.
    pub fn punct(rule: &str) -> &'static [u8] {
        if ["password", "passwd", "-auth", "credential"]
            .iter()
            .any(|w| rule.contains(w))
        {
            PASSWORD_PUNCT
        } else {
            TOKEN_PUNCT
        }
    }

    /// The sub-expression of the capture group named `secret`, or of group `index`.
    pub fn group(hir: &Hir, index: Option<u32>) -> Option<&Hir> {
        match hir.kind() {
            HirKind::Capture(c) if c.name.as_deref() == Some("secret") || Some(c.index) == index => Some(&c.sub),
            HirKind::Capture(c) => group(&c.sub, index),
            HirKind::Repetition(r) => group(&r.sub, index),
            HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().find_map(|h| group(h, index)),
            _ => None,
        }
    }
}

/// The random values of `spec`'s `secret` group ([`random_secrets`]), or `None` for a rule with a
/// `check`: every check tests a structure random characters lack (a checksum, an encoding), so random
/// values fail it by design.
fn random_secret_node(spec: &crate::rules::RuleSpec) -> Option<random_secrets::Node> {
    if spec.check.is_some() {
        return None;
    }
    let hir = parse_hir(&spec.regex).expect("built-in regexes parse");
    let secret = random_secrets::group(&hir, spec.secret_group.map(|g| g as u32))?;
    random_secrets::compile(secret, random_secrets::punct(&spec.id))
}

/// A provider rule's `min_entropy` is set for its format: it may drop at most 1 in 500 random values of
/// the rule's own `secret` group. A fixed threshold tuned on long keys drops many short or hex ones (30
/// hex digits at 3.5 bits dropped one real key in four).
#[test]
fn rule_entropy_thresholds_keep_random_secrets() {
    let (rules, _) = builtin_engine();
    const DRAWS: usize = 1000;
    let mut bad = Vec::new();
    for loaded in &rules {
        let spec = &loaded.spec;
        let Some(min) = spec.min_entropy else { continue };
        if spec.is_generic() {
            continue;
        }
        let Some(secret) = random_secret_node(spec) else {
            continue;
        };
        let mut rng = random_secrets::Rng::new(&spec.id);
        let mut dropped = 0;
        let mut example = Vec::new();
        for _ in 0..DRAWS {
            let mut value = Vec::new();
            random_secrets::draw(&secret, &mut rng, &mut value);
            if filter::shannon_entropy(&value) < min {
                dropped += 1;
                example = value;
            }
        }
        if dropped * 500 > DRAWS {
            bad.push(format!(
                "{}: min_entropy {min} drops {dropped}/{DRAWS} random values (e.g. {})",
                spec.id,
                String::from_utf8_lossy(&example)
            ));
        }
    }
    assert!(bad.is_empty(), "{} rules:\n{}", bad.len(), bad.join("\n"));
}

/// Rules whose examples' secrets cannot be swapped for random values of the rule's regex: the regex is
/// wider than the format, or its keywords are part of the secret (each reason names which).
/// `None`: every example of the rule.
const MUTATION_EXEMPT: &[(&str, Option<usize>, &str)] = &[
    // A Z85 key holds marks base64 lacks; the regex's class admits values without one, which the rule
    // refuses (they are base64 under a `secret` name, the generic rule's).
    (
        "zeromq-curve-secret-key",
        None,
        "a Z85 key must hold one of Z85's own marks",
    ),
    // The keywords are the four cluster codes inside the token; the regex takes any code.
    (
        "webex-access-token",
        None,
        "keywords are values of the secret's own cluster code",
    ),
    // A 35-character key holds `%`; the regex's class admits keys without one, which the rule refuses.
    (
        "accuweather-api-key",
        None,
        "the 35-character form must hold a percent sign",
    ),
    // An all-letter value of these formats is a word (`key: products`, `openuv-javascript-io`) as often
    // as a key: the rules refuse them, and miss 1 key in 14 (Mockaroo) or 25 (OpenUV) for it.
    ("mockaroo-api-key", None, "an all-letter value is refused"),
    ("openuv-key", None, "an all-letter value is refused"),
    // Generic values are refused for shapes of code, not of tokens: a dotted path (`a.b`), no digit at
    // all, under 16 characters below the entropy threshold. A random token of those shapes is missed by
    // design; `benches/peer-examples` measures what that costs.
    (
        "generic-secret-assignment",
        None,
        "identifier shapes are refused by design",
    ),
];

/// Each positive example of each rule, with its secret replaced by random values of the rule's own
/// `secret` group (a value counts when the rule's regex still matches it there, whole), must be found
/// by the rule or a rule that supersedes it. A filter that drops real random tokens by chance (an
/// entropy threshold, a template mark spelled by random characters, an allow regex that is too wide, a
/// window shorter than the token) fails here, naming the value: these values are random, none is real.
#[test]
fn random_secrets_in_rule_examples_are_found() {
    const DRAWS: usize = 6;
    let (rules, engine) = builtin_engine();
    let mut scratch = engine.scratch();
    let mut missed = Vec::new();
    let mut tried = 0;
    for (idx, loaded) in rules.iter().enumerate() {
        let spec = &loaded.spec;
        if MUTATION_EXEMPT.iter().any(|(id, ex, _)| *id == spec.id && ex.is_none()) {
            continue;
        }
        let Some(node) = random_secret_node(spec) else {
            continue;
        };
        let regex = regex::bytes::RegexBuilder::new(&spec.regex)
            .unicode(false)
            .build()
            .expect("built-in regexes compile");
        engine.set_path(&mut scratch, spec.examples.path.as_deref().unwrap_or("example.txt"));
        let mut rng = random_secrets::Rng::new(&spec.id);
        for (i, ex) in spec.examples.positive.iter().enumerate() {
            let Some(start) = ex.text.find(ex.secret.as_str()) else {
                continue;
            };
            if ex.partner.is_some()
                || ex.text.matches(ex.secret.as_str()).count() != 1
                || MUTATION_EXEMPT.iter().any(|(id, e, _)| *id == spec.id && *e == Some(i))
            {
                continue;
            }
            for _ in 0..DRAWS {
                let mut value = Vec::new();
                random_secrets::draw(&node, &mut rng, &mut value);
                let mut hay = ex.text.as_bytes()[..start].to_vec();
                hay.extend_from_slice(&value);
                hay.extend_from_slice(&ex.text.as_bytes()[start + ex.secret.len()..]);
                let end = start + value.len();
                if !examples::regex_takes_secret_at(spec, &regex, &hay, start, end) {
                    continue;
                }
                tried += 1;
                // Its own rule, one that supersedes it, or (for a generic rule) a provider's rule on the
                // same span, to which the generic match yields.
                let found = engine.scan(&hay, &mut scratch).iter().any(|m| {
                    (m.start, m.end) == (start, end)
                        && (m.rule == idx
                            || engine.rules[m.rule].supersedes.contains(&idx)
                            || (engine.rules[idx].generic && !engine.rules[m.rule].generic))
                });
                if !found {
                    let text = String::from_utf8_lossy(&hay).into_owned();
                    let secret = String::from_utf8_lossy(&value).into_owned();
                    let why = examples::rejected_by(spec, &text, &secret).unwrap_or_default();
                    missed.push(format!("{} positive[{i}]: {text:?} ({why})", spec.id));
                }
            }
        }
    }
    assert!(tried > 10_000, "only {tried} random values tried");
    assert!(
        missed.is_empty(),
        "{} of {tried} missed:\n{}",
        missed.len(),
        missed.join("\n")
    );
}

/// A rule's allow regexes joined as one match exactly what any of them matches; a list that cannot be
/// joined safely (a verbose-mode regex, one that does not parse alone) is kept as it is, and a bad regex
/// is still an error.
#[test]
fn allow_lists_join_into_one_regex_that_matches_as_any_of_them() {
    let texts = |v: &[&str]| v.iter().map(|s| Text::from(*s)).collect::<Vec<_>>();
    let list = texts(&[r"^(?i)example", r"^x{8,}$", r"test$", r"(?-u:\xff)"]);
    let any = AnyOf::new(&list).unwrap();
    assert_eq!(any.0.len(), 1, "joined");
    let separate: Vec<Regex> = list.iter().map(|a| Regex::new(a).unwrap()).collect();
    for hay in [
        &b"EXAMPLE-1"[..],
        b"xxxxxxxx",
        b"a-test",
        b"\xff",
        b"an example",
        b"xxxxxxxxy",
        b"testing",
        b"",
    ] {
        assert_eq!(
            any.is_match(hay),
            separate.iter().any(|r| r.is_match(hay)),
            "{}",
            String::from_utf8_lossy(hay)
        );
    }
    let verbose = AnyOf::new(&texts(&[r"(?x) a b # comment", "c"])).unwrap();
    assert_eq!(verbose.0.len(), 2);
    assert!(verbose.is_match(b"ab") && verbose.is_match(b"c") && !verbose.is_match(b"a b"));
    assert!(
        AnyOf::new(&texts(&["a)|(b", "c"])).is_err(),
        "one that does not parse alone is an error"
    );
    assert!(AnyOf::new(&texts(&["(", "c"])).unwrap_err().contains("unclosed"));
    assert!(AnyOf::new(&[]).is_ok_and(|a| !a.is_match(b"anything")));
}

/// A built-in rule's allow lists are built when a candidate first reaches them (until then, only their
/// sources are kept), and each one compiles: built on first use, one that did not would refuse nothing.
#[test]
fn builtin_allow_lists_are_built_on_first_use_and_all_compile() {
    let (rules, engine) = builtin_engine();
    let mut lists = 0;
    for (idx, loaded) in rules.iter().enumerate() {
        let matcher = engine.rules[idx].matcher().as_ref().expect("the rule compiles");
        for (field, list) in [("allow", &matcher.allow), ("allow_before", &matcher.allow_before)] {
            if list.sources.is_empty() {
                continue;
            }
            assert!(
                list.built.get().is_none(),
                "{} {field}: built before use",
                loaded.spec.id
            );
            if let Err(e) = AnyOf::new(&list.sources) {
                panic!("{} {field}: {e}", loaded.spec.id);
            }
            lists += 1;
        }
    }
    assert!(lists > 300, "{lists} allow lists");
    // Used, a list refuses what its regexes match.
    let idx = rules
        .iter()
        .position(|r| r.spec.id.as_str() == "generic-secret-assignment")
        .expect("the rule");
    let matcher = engine.rules[idx].matcher().as_ref().expect("the rule compiles");
    assert!(matcher.allow.is_match(b"settings.API_TOKEN") && !matcher.allow.is_match(b"Wq7rT2yX9pL4mK8vXc3N"));
    assert!(matcher.allow.built.get().is_some());
}

/// A rule from a user's file builds its allow lists with the rule: a bad regex there is an error that
/// names the rule and the field when the rule compiles, not a list that refuses nothing.
#[test]
fn a_user_rules_bad_allow_regex_is_an_error_at_once() {
    let text = r#"
[[rule]]
id = "acme-token"
name = "Acme token"
severity = "high"
keywords = ["acme_"]
regex = '(?P<secret>acme_[a-f0-9]{32})'
allow = ['(unclosed']
remediation = "Rotate it."
"#;
    let rules = rules::parse_rule_file("t.toml", text).expect("parses");
    let engine = Engine::compile_lazy(&rules, None).expect("compiles lazily");
    match engine.rules[0].matcher() {
        Err(EngineError::Regex { rule, field, .. }) => assert_eq!((rule.as_str(), *field), ("acme-token", "allow")),
        other => panic!("expected an allow error, got {other:?}"),
    }
}
