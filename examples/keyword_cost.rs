//! The cost of the large scans' keyword pass (issue #17): by pattern kind (the decoders' spellings of
//! keywords are most of the ~7,900 patterns), and the DFA walked in 1 to 6 lanes, two ways: aho-corasick's
//! DFA through its `Automaton` methods (`raw DFA`, the engine's walk until issue #17's flat table) and
//! the engine's `KeywordDfa` (`flat table`), both checked here against `find_overlapping_iter`.
//!
//!   cargo run --release --example keyword_cost -- FILE          # every configuration, timed (best of 3)
//!   cargo run --release --example keyword_cost -- FILE lanes    # the lane walks only
//!   cargo run --release --example keyword_cost -- FILE MODE     # one, for callgrind or perf
//!
//! MODE: `all` (one DFA over keywords and every spelling, as the engine builds it), `split` (the escaped
//! spellings apart, searched only in windows around `%`, `\` and `&`: measured, not adopted: callgrind
//! counts the same instructions per byte, and a history scan of sentry-python took 1.07x the CPU),
//! `keywords` (keywords alone: the floor), `raw4` and `table4` (the two walks in 4 lanes, builds
//! included), `small` (the input cut in pieces of 256 bytes to 4 KiB, each walked alone in 1 to 4
//! lanes: how many lanes pay for a small blob). FILE: e.g. a slice of `git cat-file --batch-all-objects --batch` output. Timing on a shared
//! machine is noise: compare configurations within one run, or instruction counts and cache misses
//! (`valgrind --tool=callgrind --cache-sim=yes`) of single modes.

use std::time::Instant;

use aho_corasick::automaton::Automaton;
use aho_corasick::{dfa::DFA, AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Anchored, MatchKind};
use pkhound::engine::{literals::Literals, Gate, KeywordDfa};
use pkhound::{decode, rules};

fn dfa(pats: &[String], case_insensitive: bool) -> AhoCorasick {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(case_insensitive)
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .build(pats)
        .expect("automaton")
}

/// Lane counts measured.
const LANES: [usize; 5] = [1, 2, 3, 4, 6];

/// The DFA walks compared: aho-corasick's DFA stepped through its `Automaton` methods (the engine's walk
/// until the flat table), and the engine's [`KeywordDfa`].
#[derive(Clone, Copy)]
enum Walk {
    Raw,
    Table,
}

impl Walk {
    fn run(self, raw: &DFA, table: &KeywordDfa, lanes: usize, hay: &[u8], hit: &mut impl FnMut(usize, usize, usize)) {
        match (self, lanes) {
            (Walk::Raw, 1) => raw_in_lanes::<1>(raw, hay, hit),
            (Walk::Raw, 2) => raw_in_lanes::<2>(raw, hay, hit),
            (Walk::Raw, 3) => raw_in_lanes::<3>(raw, hay, hit),
            (Walk::Raw, 4) => raw_in_lanes::<4>(raw, hay, hit),
            (Walk::Raw, _) => raw_in_lanes::<6>(raw, hay, hit),
            (Walk::Table, 1) => table.overlapping::<1>(hay, hit),
            (Walk::Table, 2) => table.overlapping::<2>(hay, hit),
            (Walk::Table, 3) => table.overlapping::<3>(hay, hit),
            (Walk::Table, 4) => table.overlapping::<4>(hay, hit),
            (Walk::Table, _) => table.overlapping::<6>(hay, hit),
        }
    }
}

/// The lanes of [`KeywordDfa::overlapping`] over aho-corasick's DFA, each step a `next_state` call (a
/// checked load) and an `is_special` test.
fn raw_in_lanes<const L: usize>(dfa: &DFA, hay: &[u8], mut hit: impl FnMut(usize, usize, usize)) {
    let Ok(start) = dfa.start_state(Anchored::No) else {
        return;
    };
    let back = dfa.max_pattern_len();
    let seg = hay.len() / L;
    let mut from = [0usize; L];
    let mut end = [0usize; L];
    let mut pos = [0usize; L];
    let mut sid = [start; L];
    for k in 0..L {
        from[k] = k * seg;
        end[k] = if k == L - 1 { hay.len() } else { (k + 1) * seg };
        pos[k] = from[k].saturating_sub(back);
    }
    let mut emit = |sid, at: usize| {
        for i in 0..dfa.match_len(sid) {
            let p = dfa.match_pattern(sid, i);
            hit(at + 1 - dfa.pattern_len(p), at + 1, p.as_usize());
        }
    };
    let rounds = (0..L).map(|k| end[k] - pos[k]).min().unwrap_or(0);
    for _ in 0..rounds {
        let mut special = false;
        for k in 0..L {
            sid[k] = dfa.next_state(Anchored::No, sid[k], hay[pos[k]]);
            special |= dfa.is_special(sid[k]);
        }
        if special {
            for k in 0..L {
                if dfa.is_match(sid[k]) && pos[k] >= from[k] {
                    emit(sid[k], pos[k]);
                }
            }
        }
        for p in pos.iter_mut() {
            *p += 1;
        }
    }
    for k in 0..L {
        while pos[k] < end[k] {
            sid[k] = dfa.next_state(Anchored::No, sid[k], hay[pos[k]]);
            if dfa.is_match(sid[k]) && pos[k] >= from[k] {
                emit(sid[k], pos[k]);
            }
            pos[k] += 1;
        }
    }
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
            .map(|e| e.pattern.to_string())
            .collect::<Vec<_>>()
    };
    let (b64, esc, long) = (gate(Gate::Base64Run), gate(Gate::Escape), gate(Gate::LongBase64Run));
    let longest = esc.iter().map(String::len).max().unwrap_or(1);
    let all = [kw.clone(), b64.clone(), esc.clone(), long.clone()].concat();
    let unescaped = [kw.clone(), b64.clone(), long.clone()].concat();

    let lanes_only = std::env::args().nth(2).as_deref() == Some("lanes");
    if let Some(mode) = std::env::args().nth(2).filter(|_| !lanes_only) {
        let n = match mode.as_str() {
            "all" => dfa(&all, true).find_overlapping_iter(&hay).count(),
            "split" => {
                dfa(&unescaped, true).find_overlapping_iter(&hay).count() + in_windows(&dfa(&esc, true), longest, &hay)
            }
            "keywords" => dfa(&kw, true).find_overlapping_iter(&hay).count(),
            "small" => {
                // Small blobs: the input cut in pieces of 512 bytes to 8 KiB, each walked alone in 1, 2 or
                // 4 lanes (each lane re-reads the longest pattern's length before its segment).
                let table = KeywordDfa::new(&all).expect("table");
                println!(
                    "longest pattern {} bytes",
                    all.iter().map(String::len).max().unwrap_or(0)
                );
                let mut n = 0;
                for size in [256, 512, 1024, 2048, 4096] {
                    for lanes in [1, 2, 3, 4] {
                        let mut secs = f64::MAX;
                        for _ in 0..3 {
                            let t = Instant::now();
                            for piece in hay.chunks(size) {
                                let mut count = |_, _, _| n += 1;
                                match lanes {
                                    1 => table.overlapping::<1>(piece, &mut count),
                                    2 => table.overlapping::<2>(piece, &mut count),
                                    3 => table.overlapping::<3>(piece, &mut count),
                                    _ => table.overlapping::<4>(piece, &mut count),
                                }
                            }
                            secs = secs.min(t.elapsed().as_secs_f64());
                        }
                        println!("pieces of {size:5} bytes, {lanes} lanes: {:6.0} ms", secs * 1e3);
                    }
                }
                n
            }
            "raw4" | "table4" => {
                let raw = aho_corasick::dfa::Builder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&all)
                    .expect("dfa");
                let table = KeywordDfa::new(&all).expect("table");
                let walk = if mode == "raw4" { Walk::Raw } else { Walk::Table };
                let mut n = 0;
                walk.run(&raw, &table, 4, &hay, &mut |_, _, _| n += 1);
                n
            }
            _ => panic!("MODE: all, split, keywords, raw4, table4 or lanes"),
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
    for (name, pats, fold) in sets.into_iter().filter(|_| !lanes_only) {
        let t = Instant::now();
        let a = dfa(pats, fold);
        let build = t.elapsed().as_secs_f64();
        report(name, build, best(&mut || a.find_overlapping_iter(&hay).count()));
    }
    if !lanes_only {
        let t = Instant::now();
        let escaped = dfa(&esc, true);
        let build = t.elapsed().as_secs_f64();
        report(
            "escaped, in windows (split)",
            build,
            best(&mut || in_windows(&escaped, longest, &hay)),
        );
    }
    let t = Instant::now();
    let raw = aho_corasick::dfa::Builder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .build(&all)
        .expect("dfa");
    let build = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let table = KeywordDfa::new(&all).expect("table");
    let table_build = t.elapsed().as_secs_f64();
    println!(
        "aho-corasick DFA {:.1} MB, flat table {:.1} MB",
        raw.memory_usage() as f64 / 1e6,
        table.memory_usage() as f64 / 1e6
    );
    let one = dfa(&all, true);
    let mut want: Vec<_> = one
        .find_overlapping_iter(&hay)
        .map(|m| (m.start(), m.end(), m.pattern().as_usize()))
        .collect();
    want.sort_unstable();
    for l in LANES {
        for (walk, name) in [(Walk::Raw, "raw DFA"), (Walk::Table, "flat table")] {
            let mut got = Vec::new();
            walk.run(&raw, &table, l, &hay, &mut |s, e, p| got.push((s, e, p)));
            got.sort_unstable();
            assert_eq!(got, want, "{name}, {l} lanes");
        }
    }
    for _ in 0..2 {
        report(
            "all (one DFA), again",
            0.0,
            best(&mut || one.find_overlapping_iter(&hay).count()),
        );
        for (walk, name, build) in [(Walk::Raw, "raw DFA", build), (Walk::Table, "flat table", table_build)] {
            for l in LANES {
                report(
                    &format!("all, {name}, {l} lanes"),
                    build,
                    best(&mut || {
                        let mut n = 0;
                        walk.run(&raw, &table, l, &hay, &mut |_, _, _| n += 1);
                        n
                    }),
                );
            }
        }
    }
    let literal_sets = [("keywords, literal set", &kw), ("all, literal set", &all)];
    for (name, pats) in literal_sets.into_iter().filter(|_| !lanes_only) {
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
