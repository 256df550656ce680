//! The cost of the large scans' keyword pass (issue #17): by pattern kind (the decoders' spellings of
//! keywords are most of the ~7,900 patterns), and the DFA walked in 1 to 4 lanes
//! (`engine::overlapping_in_lanes`, checked here against `find_overlapping_iter` on the input).
//!
//!   cargo run --release --example keyword_cost -- FILE          # every configuration, timed (best of 3)
//!   cargo run --release --example keyword_cost -- FILE MODE     # one, for callgrind or perf
//!
//! MODE: `all` (one DFA over keywords and every spelling, as the engine builds it), `split` (the escaped
//! spellings apart, searched only in windows around `%`, `\` and `&`: measured, not adopted: callgrind
//! counts the same instructions per byte, and a history scan of sentry-python took 1.07x the CPU),
//! `keywords` (keywords alone: the floor). FILE: e.g. a slice of `git cat-file --batch-all-objects
//! --batch` output. Timing on a shared machine is noise: compare configurations within one run, or
//! instruction counts and cache misses (`valgrind --tool=callgrind --cache-sim=yes`) of single modes.

use std::time::Instant;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use pkhound::engine::{literals::Literals, overlapping_in_lanes, Gate};
use pkhound::{decode, rules};

fn dfa(pats: &[String], case_insensitive: bool) -> AhoCorasick {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(case_insensitive)
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .build(pats)
        .expect("automaton")
}

/// Hits of `escaped` in windows around each `%`, `\` or `&` of `hay`, as the engine's split pass does.
fn in_windows(escaped: &AhoCorasick, longest: usize, hay: &[u8]) -> usize {
    let mut n = 0;
    let mut bytes = memchr::memchr3_iter(b'%', b'\\', b'&', hay).peekable();
    while let Some(at) = bytes.next() {
        let start = at.saturating_sub(longest - 1);
        let mut end = (at + longest).min(hay.len());
        while let Some(&next) = bytes.peek() {
            if next.saturating_sub(longest - 1) > end {
                break;
            }
            end = (next + longest).min(hay.len());
            bytes.next();
        }
        n += escaped.find_overlapping_iter(&hay[start..end]).count();
    }
    n
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: keyword_cost FILE [MODE]");
    let hay = std::fs::read(&path).expect("read input");
    let rules = rules::builtin().expect("built-in rules");
    let mut kw: Vec<String> = rules
        .iter()
        .flat_map(|r| r.spec.keywords.iter().map(|k| k.to_ascii_lowercase()))
        .collect();
    kw.sort();
    kw.dedup();
    let gate = |g| {
        decode::patterns_for(&rules, g)
            .into_iter()
            .map(|e| e.pattern)
            .collect::<Vec<_>>()
    };
    let (b64, esc, long) = (gate(Gate::Base64Run), gate(Gate::Escape), gate(Gate::LongBase64Run));
    let longest = esc.iter().map(String::len).max().unwrap_or(1);
    let all = [kw.clone(), b64.clone(), esc.clone(), long.clone()].concat();
    let unescaped = [kw.clone(), b64.clone(), long.clone()].concat();

    if let Some(mode) = std::env::args().nth(2) {
        let n = match mode.as_str() {
            "all" => dfa(&all, true).find_overlapping_iter(&hay).count(),
            "split" => {
                dfa(&unescaped, true).find_overlapping_iter(&hay).count() + in_windows(&dfa(&esc, true), longest, &hay)
            }
            "keywords" => dfa(&kw, true).find_overlapping_iter(&hay).count(),
            _ => panic!("MODE: all, split or keywords"),
        };
        println!("{mode}: {n} hits");
        return;
    }

    println!(
        "{} MB; patterns: keywords {}, base64 {}, escaped {}, base64 of escaped {}",
        hay.len() / 1_000_000,
        kw.len(),
        b64.len(),
        esc.len(),
        long.len()
    );
    let best = |f: &mut dyn FnMut() -> usize| {
        let mut secs = f64::MAX;
        let mut n = 0;
        for _ in 0..3 {
            let t = Instant::now();
            n = f();
            secs = secs.min(t.elapsed().as_secs_f64());
        }
        (secs, n)
    };
    let report = |name: &str, build: f64, (secs, n): (f64, usize)| {
        println!(
            "{name:36} build {:6.1} ms, search {:6.0} ms ({:5.0} MB/s), {n} hits",
            build * 1e3,
            secs * 1e3,
            hay.len() as f64 / secs / 1e6
        );
    };
    let exact = [b64.clone(), long.clone()].concat();
    let kw_b64 = [kw.clone(), b64.clone()].concat();
    let sets: Vec<(&str, &[String], bool)> = vec![
        ("all (one DFA)", &all, true),
        ("keywords", &kw, true),
        ("keywords+base64", &kw_b64, true),
        ("keywords+base64+long (split: main)", &unescaped, true),
        ("base64+long, case as written", &exact, false),
        ("escaped, whole input", &esc, true),
    ];
    for (name, pats, fold) in sets {
        let t = Instant::now();
        let a = dfa(pats, fold);
        let build = t.elapsed().as_secs_f64();
        report(name, build, best(&mut || a.find_overlapping_iter(&hay).count()));
    }
    let t = Instant::now();
    let escaped = dfa(&esc, true);
    let build = t.elapsed().as_secs_f64();
    report(
        "escaped, in windows (split)",
        build,
        best(&mut || in_windows(&escaped, longest, &hay)),
    );
    let t = Instant::now();
    let raw = aho_corasick::dfa::Builder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .build(&all)
        .expect("dfa");
    let build = t.elapsed().as_secs_f64();
    let one = dfa(&all, true);
    let mut want: Vec<_> = one
        .find_overlapping_iter(&hay)
        .map(|m| (m.start(), m.end(), m.pattern().as_usize()))
        .collect();
    want.sort_unstable();
    for l in [1, 2, 3, 4] {
        let mut got = Vec::new();
        let mut push = |s, e, p| got.push((s, e, p));
        match l {
            1 => overlapping_in_lanes::<1>(&raw, &hay, &mut push),
            2 => overlapping_in_lanes::<2>(&raw, &hay, &mut push),
            3 => overlapping_in_lanes::<3>(&raw, &hay, &mut push),
            _ => overlapping_in_lanes::<4>(&raw, &hay, &mut push),
        }
        got.sort_unstable();
        assert_eq!(got, want, "{l} lanes");
    }
    for _ in 0..2 {
        report(
            "all (one DFA), again",
            0.0,
            best(&mut || one.find_overlapping_iter(&hay).count()),
        );
        for l in [1, 2, 3, 4] {
            report(
                &format!("all, raw DFA, {l} lanes"),
                build,
                best(&mut || {
                    let mut n = 0;
                    let mut count = |_, _, _| n += 1;
                    match l {
                        1 => overlapping_in_lanes::<1>(&raw, &hay, &mut count),
                        2 => overlapping_in_lanes::<2>(&raw, &hay, &mut count),
                        3 => overlapping_in_lanes::<3>(&raw, &hay, &mut count),
                        _ => overlapping_in_lanes::<4>(&raw, &hay, &mut count),
                    }
                    n
                }),
            );
        }
    }
    for (name, pats) in [("keywords, literal set", &kw), ("all, literal set", &all)] {
        let t = Instant::now();
        let set = Literals::new(pats);
        let build = t.elapsed().as_secs_f64();
        report(
            name,
            build,
            best(&mut || {
                let mut out = Vec::new();
                set.find_all(&hay, &mut out);
                out.len()
            }),
        );
    }
}
