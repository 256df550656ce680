//! The keyword DFA of large scans (issue #17): aho-corasick builds it, then its transitions are copied
//! into one flat table of our own, walked in lanes ([`KeywordDfa::overlapping`]).
//!
//! Why a copy: the walk was the largest single cost of a history scan, and it is bound by instructions
//! per byte more than by memory. aho-corasick's `next_state` checks each index into its table, and its
//! match lists sit behind calls. Here every row is built so that any id plus any byte class is in bounds,
//! so the hot loop loads without checks, and match states are numbered last, so that one compare per
//! lane tells whether a step needs a look. Callgrind on 20 MB of sentry-python's pickles: 9.6
//! instructions per byte against 18.2 for the same lanes over aho-corasick's DFA.
//!
//! Measured, not adopted (`examples/keyword_cost.rs`): one OR of the lanes' ids and one compare per
//! round instead of a compare per lane (slower: the OR of deep states' ids often passes the bound);
//! eight bytes per load, a running OR and a replay of the eight steps on a possible match (0.7x the
//! speed); 6 or 8 lanes (no faster than 4).

use aho_corasick::automaton::Automaton;
use aho_corasick::{Anchored, MatchKind};

use super::EngineError;

/// An unanchored Aho-Corasick DFA over case-folded ASCII patterns ([`MatchKind::Standard`], overlapping),
/// as a flat transition table.
pub struct KeywordDfa {
    /// One row of `stride` entries per state: the next state's id for each byte class, then (for a match
    /// state) where its patterns are listed in `matches`. Ids are premultiplied (a row's first index), so
    /// a step is one add and one load. Every entry of a class column is the id of a row, and every class
    /// is below `stride`: `id + class` is always in bounds.
    trans: Vec<u32>,
    /// Each byte's class: its column in a row.
    classes: [u8; 256],
    /// The unanchored start state.
    start: u32,
    /// Match states are the rows from this id on (`u32::MAX` without any).
    match_start: u32,
    /// The column of a match state's row that holds where its patterns are listed.
    list_column: usize,
    /// Per match state, from the offset in its row: how many patterns end there, then their ids.
    matches: Vec<u32>,
    /// Each pattern's length.
    lens: Vec<u32>,
    max_len: usize,
}

impl KeywordDfa {
    /// Builds the DFA over `patterns`: ASCII case ignored, overlapping search so that a keyword inside
    /// another (`sk_` in `sk_live_`) still triggers its rule.
    pub fn new<P: AsRef<[u8]>>(patterns: &[P]) -> Result<KeywordDfa, EngineError> {
        let dfa = aho_corasick::dfa::Builder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(patterns)
            .map_err(|e| EngineError::Automaton(e.to_string()))?;
        let start = dfa
            .start_state(Anchored::No)
            .map_err(|e| EngineError::Automaton(e.to_string()))?;

        // Byte classes from the patterns: a byte no pattern holds (in either case) leads every state where
        // the start state's row leads, so all such bytes share class 0, and a letter shares the class of its
        // other case. aho-corasick's own classes are not public; these are at least as fine as its.
        let mut key_class = [0u8; 256];
        let mut classes = [0u8; 256];
        let mut representative = vec![0u8];
        for &b in patterns.iter().flat_map(|p| p.as_ref()) {
            let key = usize::from(b.to_ascii_lowercase());
            if key_class[key] == 0 {
                // At most 230 keys (256 bytes, 26 letters folded): fits a u8 beside class 0.
                key_class[key] = u8::try_from(representative.len()).expect("at most 231 byte classes");
                representative.push(b.to_ascii_lowercase());
            }
        }
        for b in 0..=255u8 {
            classes[usize::from(b)] = key_class[usize::from(b.to_ascii_lowercase())];
        }
        let list_column = representative.len();
        let stride = list_column + 1;

        // Every state reachable from the start, numbered in the order found; aho-corasick's ids index
        // `seen`.
        const UNSEEN: u32 = u32::MAX;
        let mut seen: Vec<u32> = Vec::new();
        let mut order = vec![start];
        let mark = |seen: &mut Vec<u32>, sid: usize, index: usize| {
            if seen.len() <= sid {
                seen.resize(sid + 1, UNSEEN);
            }
            seen[sid] = index as u32;
        };
        mark(&mut seen, start.as_usize(), 0);
        let mut next = Vec::new();
        let mut i = 0;
        while let Some(&sid) = order.get(i) {
            for &b in &representative {
                let to = dfa.next_state(Anchored::No, sid, b);
                next.push(to);
                if seen.get(to.as_usize()).is_none_or(|&s| s == UNSEEN) {
                    mark(&mut seen, to.as_usize(), order.len());
                    order.push(to);
                }
            }
            i += 1;
        }

        // Other states first, in the order found (the shallow and busy ones first), then match states.
        let too_large = || EngineError::Automaton(format!("{} states of {stride} columns", order.len()));
        let mut row = vec![0u32; order.len()];
        let mut rows = 0u32;
        for pass_matches in [false, true] {
            for (index, &sid) in order.iter().enumerate() {
                if dfa.is_match(sid) == pass_matches {
                    row[index] = rows;
                    rows += 1;
                }
            }
        }
        let id = |index: usize| -> Option<u32> { u32::try_from(row[index] as usize * stride).ok() };
        let len = order.len().checked_mul(stride).filter(|&n| u32::try_from(n).is_ok());
        let mut trans = vec![0u32; len.ok_or_else(too_large)?];
        let mut matches = Vec::new();
        let mut match_start = u32::MAX;
        for (index, &sid) in order.iter().enumerate() {
            let at = row[index] as usize * stride;
            for (c, to) in next[index * list_column..(index + 1) * list_column].iter().enumerate() {
                let to = seen[to.as_usize()] as usize;
                trans[at + c] = id(to).ok_or_else(too_large)?;
            }
            if dfa.is_match(sid) {
                match_start = match_start.min(id(index).ok_or_else(too_large)?);
                trans[at + list_column] = u32::try_from(matches.len()).map_err(|_| too_large())?;
                let n = dfa.match_len(sid);
                matches.push(n as u32);
                let mut list: Vec<_> = (0..n).map(|k| dfa.match_pattern(sid, k)).collect();
                // Longest first, so that a lane reports the hits ending at one place in order of start.
                list.sort_unstable_by_key(|&p| (std::cmp::Reverse(dfa.pattern_len(p)), p));
                matches.extend(list.into_iter().map(|p| p.as_u32()));
            }
        }
        let lens = (0..dfa.patterns_len())
            .map(|p| dfa.pattern_len(aho_corasick::PatternID::must(p)) as u32)
            .collect();
        Ok(KeywordDfa {
            trans,
            classes,
            start: id(0).ok_or_else(too_large)?,
            match_start,
            list_column,
            matches,
            lens,
            max_len: dfa.max_pattern_len(),
        })
    }

    /// The length of pattern `p`.
    pub fn pattern_len(&self, p: usize) -> usize {
        self.lens.get(p).map_or(0, |&n| n as usize)
    }

    /// Bytes of the table, the match lists and the pattern lengths.
    pub fn memory_usage(&self) -> usize {
        (self.trans.len() + self.matches.len() + self.lens.len()) * 4 + 256
    }

    /// The state after `sid` reads `byte`.
    #[inline(always)]
    fn step(&self, sid: u32, byte: u8) -> u32 {
        let at = sid as usize + usize::from(self.classes[usize::from(byte)]);
        debug_assert!(at < self.trans.len());
        // SAFETY: `sid` is the start id or came out of a class column, so it is a row's first index, and
        // every class is below the row's length (`new` builds both so): `at` is inside `trans`.
        unsafe { *self.trans.get_unchecked(at) }
    }

    /// Reports each pattern that ends at `at` in match state `sid` (longest first), as `hit(lane, start,
    /// end, pattern)`.
    #[inline(never)]
    fn emit(&self, sid: u32, at: usize, lane: usize, hit: &mut impl FnMut(usize, usize, usize, usize)) {
        let from = self
            .trans
            .get(sid as usize + self.list_column)
            .map_or(0, |&o| o as usize);
        let n = self.matches.get(from).map_or(0, |&n| n as usize);
        for &p in self.matches.get(from + 1..from + 1 + n).unwrap_or(&[]) {
            let len = self.pattern_len(p as usize);
            hit(lane, at + 1 - len, at + 1, p as usize);
        }
    }

    /// Every overlapping match in `hay`, as `hit(start, end, pattern)`, in no particular order, walked
    /// in as many lanes as pay for `hay`'s length (each lane re-reads up to the longest pattern's length,
    /// 69 bytes for the built-in rules, before its segment). Pieces of sentry-python's pickles walked
    /// alone (`examples/keyword_cost.rs`, mode `small`): two lanes take 0.7x one lane's time from 256
    /// bytes on, four lanes 0.6x from 2 KiB on.
    pub fn find_overlapping(&self, hay: &[u8], mut hit: impl FnMut(usize, usize, usize)) {
        self.walk_sized(hay, |_, s, e, p| hit(s, e, p));
    }

    /// Every overlapping match in `hay`, as `hit(start, end, pattern)`, in no particular order: what
    /// `find_overlapping_iter` reports.
    ///
    /// A DFA step cannot start before the previous step's table load is done, so one walk over the bytes
    /// leaves the core idle most of the time. `hay` is cut into `L` segments walked in turn, one step of
    /// each per round: `L` independent chains of loads. A lane starts `max_len` bytes before its segment
    /// (an unanchored Aho-Corasick state is the longest suffix of the text read that begins some pattern,
    /// so after that many bytes it is the state a whole walk would be in) and reports only the matches
    /// that end in its segment: each match once.
    pub fn overlapping<const L: usize>(&self, hay: &[u8], mut hit: impl FnMut(usize, usize, usize)) {
        self.walk::<L>(hay, |_, s, e, p| hit(s, e, p));
    }

    /// Every overlapping match in `hay`, appended to `out` as `(start, pattern)` in order of start, then
    /// pattern, as the literal sets report them. Each lane's hits come in order of where they end (and
    /// at one end, longest first), so the lanes' lists laid end to end are nearly in order: an insertion
    /// sort moves each hit past the few shorter ones inside it, where a full sort cost 2-5% of a scan.
    /// `spare` holds the later lanes' hits meanwhile (the caller keeps it, so a scan does not allocate).
    pub fn find_in_order(&self, hay: &[u8], out: &mut Vec<(usize, usize)>, spare: &mut [Vec<(usize, usize)>; 3]) {
        let first = out.len();
        for lane in spare.iter_mut() {
            lane.clear();
        }
        let mut push = |lane: usize, start: usize, _, p: usize| match lane.checked_sub(1) {
            Some(k) => spare[k].push((start, p)),
            None => out.push((start, p)),
        };
        self.walk_sized(hay, &mut push);
        for lane in spare.iter() {
            out.extend_from_slice(lane);
        }
        sort_nearly_sorted(&mut out[first..]);
    }

    /// The lane walk in as many lanes as pay for `hay`'s length ([`KeywordDfa::find_overlapping`]).
    fn walk_sized(&self, hay: &[u8], hit: impl FnMut(usize, usize, usize, usize)) {
        match hay.len() {
            0..256 => self.walk::<1>(hay, hit),
            256..2048 => self.walk::<2>(hay, hit),
            _ => self.walk::<4>(hay, hit),
        }
    }

    /// The lane walk, reporting `hit(lane, start, end, pattern)`.
    fn walk<const L: usize>(&self, hay: &[u8], mut hit: impl FnMut(usize, usize, usize, usize)) {
        let seg = hay.len() / L;
        let mut from = [0usize; L];
        let mut end = [0usize; L];
        let mut pos = [0usize; L];
        for k in 0..L {
            from[k] = k * seg;
            end[k] = if k == L - 1 { hay.len() } else { (k + 1) * seg };
            pos[k] = from[k].saturating_sub(self.max_len);
        }
        let mut sid = [self.start; L];
        let rounds = (0..L).map(|k| end[k] - pos[k]).min().unwrap_or(0);
        let lanes: [&[u8]; L] = std::array::from_fn(|k| &hay[pos[k]..pos[k] + rounds]);
        // One index steps every lane: the lanes' slices are `rounds` long, so their loads go unchecked.
        #[allow(clippy::needless_range_loop)]
        for i in 0..rounds {
            let mut special = false;
            for k in 0..L {
                sid[k] = self.step(sid[k], lanes[k][i]);
                special |= sid[k] >= self.match_start;
            }
            if special {
                for k in 0..L {
                    if sid[k] >= self.match_start && pos[k] + i >= from[k] {
                        self.emit(sid[k], pos[k] + i, k, &mut hit);
                    }
                }
            }
        }
        for k in 0..L {
            for (at, &byte) in hay.iter().enumerate().take(end[k]).skip(pos[k] + rounds) {
                sid[k] = self.step(sid[k], byte);
                if sid[k] >= self.match_start && at >= from[k] {
                    self.emit(sid[k], at, k, &mut hit);
                }
            }
        }
    }
}

/// Sorts `v`, which is nearly in order: by insertion, unless that takes more than a few moves per item
/// (hostile input), then by a full sort.
fn sort_nearly_sorted(v: &mut [(usize, usize)]) {
    let mut budget = v.len().saturating_mul(8).saturating_add(64);
    for i in 1..v.len() {
        let x = v[i];
        let mut j = i;
        while j > 0 && v[j - 1] > x {
            if budget == 0 {
                v[j] = x;
                v.sort_unstable();
                return;
            }
            budget -= 1;
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = x;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::hash_map::{Entry, HashMap};

    use super::*;

    /// Steps aho-corasick's DFA and the table side by side over every byte from every state reached:
    /// each table state stands for one DFA state, reached by the same bytes, with the same patterns
    /// ending there. The walk's unchecked loads rest on this.
    fn agrees_on_every_byte<P: AsRef<[u8]>>(patterns: &[P]) {
        let table = KeywordDfa::new(patterns).expect("table");
        let dfa = aho_corasick::dfa::Builder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(patterns)
            .expect("automaton");
        let start = dfa.start_state(Anchored::No).expect("unanchored");
        let mut of_table = HashMap::from([(table.start, start)]);
        let mut todo = vec![(start, table.start)];
        while let Some((a, t)) = todo.pop() {
            let mut want: Vec<usize> = match dfa.is_match(a) {
                true => (0..dfa.match_len(a))
                    .map(|i| dfa.match_pattern(a, i).as_usize())
                    .collect(),
                false => Vec::new(),
            };
            let mut got = Vec::new();
            if t >= table.match_start {
                table.emit(t, 1000, 0, &mut |_, s, e, p| {
                    assert_eq!(e - s, table.pattern_len(p));
                    got.push(p)
                });
            }
            want.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, want, "patterns ending in table state {t}");
            for b in 0..=255u8 {
                let (a, t) = (dfa.next_state(Anchored::No, a, b), table.step(t, b));
                assert!(t as usize + table.list_column < table.trans.len(), "state {t} is a row");
                match of_table.entry(t) {
                    Entry::Occupied(e) => assert_eq!(*e.get(), a, "table state {t} after byte {b}"),
                    Entry::Vacant(e) => {
                        e.insert(a);
                        todo.push((a, t));
                    }
                }
            }
        }
    }

    #[test]
    fn the_table_steps_as_the_dfa_on_every_byte_of_the_engines_patterns() {
        let rules = crate::rules::builtin().expect("built-in rules");
        let engine = crate::scan::compile(&rules).expect("built-in rules compile");
        agrees_on_every_byte(&engine.all_patterns());
    }

    #[test]
    fn the_table_steps_as_the_dfa_on_every_byte_of_mixed_case_and_high_bytes() {
        let patterns = ["pk_", "PK_live", "tokén", "ÉTÉ", "%5f", "a", "ab", "b"];
        agrees_on_every_byte(&patterns.map(String::from));
    }

    #[test]
    fn hits_far_out_of_order_are_sorted_all_the_same() {
        // Reversed: the insertion sort runs out of moves and hands over to a full sort.
        let mut v: Vec<(usize, usize)> = (0..1000).rev().map(|i| (i / 3, i % 7)).collect();
        let mut want = v.clone();
        want.sort_unstable();
        sort_nearly_sorted(&mut v);
        assert_eq!(v, want);
        // Nested hits of one byte repeated: every hit ends inside the longer ones before it.
        let patterns: Vec<String> = (1..=12).map(|n| "a".repeat(n)).collect();
        let table = KeywordDfa::new(&patterns).expect("table");
        let hay = vec![b'A'; 5000];
        let mut got = Vec::new();
        table.find_in_order(&hay, &mut got, &mut Default::default());
        let mut want = Vec::new();
        table.overlapping::<1>(&hay, |s, _, p| want.push((s, p)));
        want.sort_unstable();
        assert_eq!(got.len(), 5000 * 12 - 66);
        assert_eq!(got, want);
    }

    #[test]
    fn no_patterns_find_nothing() {
        let table = KeywordDfa::new::<&str>(&[]).expect("table");
        let mut n = 0;
        table.overlapping::<4>(&[b'x'; 10_000], |_, _, _| n += 1);
        table.overlapping::<1>(b"", |_, _, _| n += 1);
        assert_eq!(n, 0);
    }
}
