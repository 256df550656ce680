//! Whether a candidate filter ahead of the keyword DFA pays (issue #17): how many positions of real text
//! could start one of the ~8,000 patterns (keywords and decoder spellings, ASCII case ignored), and the
//! keyword pass rebuilt on that filter against the engine's lane walk (`engine::KeywordDfa`).
//!
//!   cargo run --release --example keyword_starts -- FILE          # skip rates and both walks, timed
//!
//! The filter tests each position's first three bytes (each `| 0x20`) in a hashed bit table of the
//! patterns' first three bytes (256 KiB bits, in L2), 16 positions per branch; each candidate is then
//! walked from an anchored DFA's start state until the dead state, reporting the matches that start
//! there. Every pattern of 3+ bytes starting at a position makes it a candidate, and the one 2-byte
//! pattern (`q~`) sets its 256 extensions, so both walks report the same hits (checked here).
//!
//! Measured, not adopted (blob sample of sentry-python's history, 40 MB; rails' working tree, 20 MB):
//! - candidates are 6.2% of sentry-python's positions and 4.0% of rails' (keywords are common words:
//!   `pass`, `http`, `data`, `token`, `api`); only 39% and 60% of 16-byte blocks hold none, 20% and 43%
//!   of 32-byte blocks. Keyed on four bytes instead (the 3-byte patterns set their extensions), 4.4%
//!   and 3.2%;
//! - the candidate walk ran at 0.4x-0.8x the speed of the 4-lane walk (three bytes) and 0.8x-0.97x (four
//!   bytes), measured when the lanes still stepped aho-corasick's DFA (the flat table is faster still):
//!   each candidate's anchored walk is a few dependent loads into the large DFA and an unpredictable
//!   branch, which costs more than the lane walk's loads it saves;
//! - 6, 8 or 12 lanes instead of 4 were no faster (0.5x-1.08x, within noise).
//!
//! Timing on a shared machine is noise: compare within one run, best of several.

use std::time::Instant;

use aho_corasick::automaton::Automaton;
use aho_corasick::{dfa::DFA, Anchored, MatchKind, StartKind};
use pkhound::engine::{Gate, KeywordDfa};
use pkhound::{decode, rules};

/// Bits of the hashed table of 3-byte starts.
const BITS: u32 = 18;

/// The folded first three bytes of a position (`t`'s low 24 bits) hashed to a bit of the table.
fn slot(t: u32) -> u32 {
    ((t & 0xFF_FFFF) | 0x20_2020).wrapping_mul(0x9E37_79B1) >> (32 - BITS)
}

/// The patterns' first three bytes, hashed.
struct Starts {
    bits: Vec<u64>,
}

impl Starts {
    fn new(pats: &[Vec<u8>]) -> Starts {
        let mut bits = vec![0u64; 1 << (BITS - 6)];
        for p in pats.iter().filter(|p| p.len() >= 2) {
            for x in 0..=255u8 {
                let h = slot(u32::from_le_bytes([p[0], p[1], *p.get(2).unwrap_or(&x), 0]));
                bits[(h >> 6) as usize] |= 1 << (h & 63);
            }
        }
        Starts { bits }
    }

    fn test(&self, t: u32) -> u32 {
        let h = slot(t);
        ((self.bits[(h >> 6) as usize] >> (h & 63)) & 1) as u32
    }

    /// The candidates among the 16 positions from `base` (`hay` holds 16 bytes from there), as bits.
    fn block(&self, hay: &[u8], base: usize) -> u32 {
        let word = |at: usize| {
            let mut b = [0u8; 8];
            let part = hay.get(at..(at + 8).min(hay.len())).unwrap_or(&[]);
            b[..part.len()].copy_from_slice(part);
            u64::from_le_bytes(b)
        };
        let (w0, w1, w2) = (word(base), word(base + 8), word(base + 16));
        let mut mask = 0;
        for j in 0..8 {
            let (a, b) = if j == 0 {
                (w0, w1)
            } else {
                (
                    (w0 >> (8 * j)) | (w1 << (64 - 8 * j)),
                    (w1 >> (8 * j)) | (w2 << (64 - 8 * j)),
                )
            };
            mask |= self.test(a as u32) << j | self.test(b as u32) << (j + 8);
        }
        mask
    }
}

/// Every hit of `dfa` (anchored) starting at a candidate of `starts`, as `hit(start, end, pattern)`; the
/// number of candidates.
fn candidate_walk(dfa: &DFA, starts: &Starts, hay: &[u8], mut hit: impl FnMut(usize, usize, usize)) -> usize {
    let Ok(start) = dfa.start_state(Anchored::Yes) else {
        return 0;
    };
    let mut verify = |q: usize| {
        let mut sid = start;
        for (p, &b) in hay[q..].iter().enumerate() {
            sid = dfa.next_state(Anchored::Yes, sid, b);
            if dfa.is_dead(sid) {
                break;
            }
            if dfa.is_match(sid) {
                for i in 0..dfa.match_len(sid) {
                    let m = dfa.match_pattern(sid, i);
                    // An anchored state also holds the patterns that are its suffixes.
                    if dfa.pattern_len(m) == p + 1 {
                        hit(q, q + p + 1, m.as_usize());
                    }
                }
            }
        }
    };
    let mut candidates = 0;
    let mut base = 0;
    while base + 16 <= hay.len() {
        let mut mask = starts.block(hay, base);
        while mask != 0 {
            candidates += 1;
            verify(base + mask.trailing_zeros() as usize);
            mask &= mask - 1;
        }
        base += 16;
    }
    for q in base..hay.len().saturating_sub(1) {
        let t = u32::from_le_bytes([hay[q], hay[q + 1], *hay.get(q + 2).unwrap_or(&0), 0]);
        if starts.test(t) != 0 {
            candidates += 1;
            verify(q);
        }
    }
    candidates
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: keyword_starts FILE");
    let hay = std::fs::read(&path).expect("read input");
    let rules = rules::builtin().expect("built-in rules");
    let mut pats: Vec<Vec<u8>> = rules
        .iter()
        .flat_map(|r| r.spec.keywords.iter().map(|k| k.to_ascii_lowercase().into_bytes()))
        .collect();
    for gate in [Gate::Base64Run, Gate::Escape, Gate::LongBase64Run] {
        pats.extend(
            decode::patterns_for(&rules, gate)
                .into_iter()
                .map(|e| e.pattern.as_bytes().to_vec()),
        );
    }
    pats.sort();
    pats.dedup();
    let build = |kind| {
        aho_corasick::dfa::Builder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .start_kind(kind)
            .build(&pats)
            .expect("automaton")
    };
    let (lanes, anchored, starts) = (
        KeywordDfa::new(&pats).expect("table"),
        build(StartKind::Anchored),
        Starts::new(&pats),
    );

    let mut want = Vec::new();
    lanes.overlapping::<4>(&hay, |s, e, p| want.push((s, e, p)));
    want.sort_unstable();
    let mut got = Vec::new();
    let candidates = candidate_walk(&anchored, &starts, &hay, |s, e, p| got.push((s, e, p)));
    got.sort_unstable();
    assert_eq!(got, want, "the candidate walk finds what the lane walk finds");

    let blocks = |size: usize| {
        let n = hay.len() / size;
        let clean = (0..n)
            .filter(|&k| {
                (k * size..(k + 1) * size)
                    .step_by(16)
                    .all(|b| starts.block(&hay, b) == 0)
            })
            .count();
        clean as f64 / n.max(1) as f64
    };
    println!(
        "{} MB, {} patterns, {} hits; candidates {:.2}% of positions; blocks without one: 16 bytes {:.0}%, 32 bytes {:.0}%, 64 bytes {:.0}%",
        hay.len() / 1_000_000,
        pats.len(),
        want.len(),
        100.0 * candidates as f64 / hay.len().max(1) as f64,
        100.0 * blocks(16),
        100.0 * blocks(32),
        100.0 * blocks(64),
    );

    let (mut lane_best, mut cand_best) = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        let t = Instant::now();
        let mut n = 0;
        lanes.overlapping::<4>(&hay, |_, _, _| n += 1);
        lane_best = lane_best.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        candidate_walk(&anchored, &starts, &hay, |_, _, _| n += 1);
        cand_best = cand_best.min(t.elapsed().as_secs_f64());
    }
    let mbs = |secs: f64| hay.len() as f64 / secs / 1e6;
    println!(
        "4-lane walk {:.0} MB/s, candidate walk {:.0} MB/s: {:.2}x the lane walk's speed",
        mbs(lane_best),
        mbs(cand_best),
        lane_best / cand_best
    );
}
