//! Scanning a blob edited from a blob that scanned quiet (no match, no decoder hit) only around the edit:
//! what a history scan does with a blob stored as a delta against such a blob.
//!
//! Why it is exact. A match is found in a rule's merged window (the union of `window` bytes each side of
//! the rule's keyword hits, touching windows joined); the regex reads only that window, the filters a few
//! bytes around a candidate (`MARGIN` covers them). Take a merged window of the edited blob none of
//! whose hits lies within twice the rule's window (plus the longest keyword and the margin) of a change:
//! no change lies in it or its margin, so it is bytes of one run copied from the base, and every hit that
//! could join it is too; the base had the same window over the same bytes, hence the same candidates
//! and verdicts: none. So every match of the edited blob lies in a merged window holding a hit near a
//! change (a *seed*). A decoder pattern's hit far from every change was the base's, which had none.
//!
//! [`Engine::scan_near`] therefore searches only bands around the changes (keywords of rules with the
//! default window, and decoder patterns, in a narrow band with the whole pattern set; the fewer keywords
//! of rules with wider windows, up to kilobytes for PEM blocks and JWTs, in wider bands with automata of
//! their own), keeps the hits near
//! a change, grows each seed's window into the whole merged window the full scan would build (searching
//! outwards for hits of the rule that join it), and hands those windows to the rules' half of the scan
//! ([`Engine::run_windows`]). No seed: nothing to run, the blob is quiet.
//!
//! Nothing here knows of packs or git: changes are target ranges, as `source::pack::delta_changes`
//! gives them.

use super::{Engine, Literals, Match, Scratch};

/// Bytes around a candidate the filters read (delimitation reads one byte each side, an escape before it
/// three, the base64-blob test `filter::BLOB_REACH` each side: `CompiledRule::accepts`), and the most a
/// decoder pattern's hit is shifted back (3), with room to spare. A filter that read further (the whole
/// line) would need this raised, or the property test in `scan::history` fails.
const MARGIN: usize = 2 * super::filter::BLOB_REACH;
/// Keywords of rules whose window is at most the first bound are searched in the narrow band with the
/// whole pattern set; the others, fewer, in wider bands, one per bound (and one beyond the last), with
/// automata of their own. A tier's band is its widest window's reach: a common word of a rule with a
/// window of a kilobyte (`sl.`, `curl`) does not make an edit search 64 KB around each change, as a
/// PEM block's keyword does.
const TIERS: [usize; 4] = [256, 600, 2200, 8192];

/// Which wider tiers' keywords a blob may hold, one bit per tier beyond the first (bit `t - 1` for
/// `TIERS[t]`'s and, last, the one beyond every bound): a quiet base's, so that an edit of it searches
/// only those tiers' bands ([`Engine::scan_near`]'s `base_wide`).
pub type Wide = u8;
/// Every wider tier: the safe answer where a scan cannot tell.
pub const ALL_WIDE: Wide = (1 << TIERS.len()) - 1;

/// The reach of every pattern of the full automaton (keywords, then decoder patterns), computed once.
pub(super) struct Reach {
    /// Per pattern id of the full automaton: how far from a change its hit can matter.
    reach: Vec<usize>,
    /// The longest pattern.
    longest: usize,
    /// The narrow band: the largest reach of a pattern of no wider tier.
    narrow: usize,
    /// The keywords of rules with wider windows, by tier: the tier's bit, their own automaton, each
    /// one's id in the full set, and the band (the tier's largest reach).
    wide: Vec<(Wide, Literals, Vec<usize>, usize)>,
    /// Per pattern id of the full set: its wider tier's bit, or 0.
    tier: Vec<Wide>,
}

impl Reach {
    /// The bit of the wider tier whose keyword pattern `p` of the full set is, or 0 (every tier for an id
    /// it does not know: the safe answer).
    pub(super) fn wide(&self, p: usize) -> Wide {
        self.tier.get(p).copied().unwrap_or(ALL_WIDE)
    }
}

/// A keyword or decoder pattern's hit: start, end, pattern id of the full set.
type Hit = (usize, usize, usize);

impl Engine {
    pub(super) fn reach(&self) -> Option<&Reach> {
        self.reach
            .get_or_init(|| {
                let patterns = self.all_patterns();
                let longest = patterns.iter().map(|p| p.len()).max().unwrap_or(0);
                // What can join a rule's window is a hit of one of its keywords.
                let keyword = patterns[..self.extra_from].iter().map(|p| p.len()).max().unwrap_or(0);
                let extra = self.dfa_extra.get().map_or(&[][..], Vec::as_slice);
                let mut reach = Vec::with_capacity(patterns.len());
                // Per tier beyond the first: patterns, their ids, the band.
                let mut tiers: Vec<(Vec<String>, Vec<usize>, usize)> = vec![Default::default(); TIERS.len()];
                let mut narrow = 0;
                for (id, pattern) in patterns.iter().enumerate() {
                    let r = match id.checked_sub(self.extra_from) {
                        None => {
                            let window = self.pattern_rules[id]
                                .iter()
                                .map(|&r| self.rules[r].spec_window())
                                .max()
                                .unwrap_or(0);
                            let r = window.saturating_mul(2).saturating_add(keyword + MARGIN);
                            match TIERS.iter().position(|&bound| window <= bound) {
                                Some(0) => narrow = narrow.max(r),
                                tier => {
                                    let t = &mut tiers[tier.unwrap_or(TIERS.len()) - 1];
                                    t.0.push(pattern.to_string());
                                    t.1.push(id);
                                    t.2 = t.2.max(r);
                                }
                            }
                            r
                        }
                        Some(i) => {
                            // An in-value escape's hit counts by what is around it (`secret_like_run`).
                            let e = extra.get(i)?;
                            let around = if e.in_value { super::IN_VALUE_REACH } else { 0 };
                            let r = e.shift.saturating_add(pattern.len() + MARGIN + around);
                            narrow = narrow.max(r);
                            r
                        }
                    };
                    reach.push(r);
                }
                let mut wide = Vec::new();
                let mut tier = vec![0; patterns.len()];
                for (t, (patterns, ids, band)) in tiers.into_iter().enumerate() {
                    if !patterns.is_empty() {
                        let bit: Wide = 1 << t;
                        ids.iter().for_each(|&p| tier[p] = bit);
                        wide.push((bit, Literals::new(patterns), ids, band));
                    }
                }
                Some(Reach {
                    reach,
                    longest,
                    narrow,
                    wide,
                    tier,
                })
            })
            .as_ref()
    }

    /// Every hit of the full pattern set (keywords and every decoder pattern) lying wholly in
    /// `hay[from..to]`, appended to `out` in no particular order.
    fn hits_in(&self, hay: &[u8], from: usize, to: usize, out: &mut Vec<Hit>) {
        let part = &hay[from..to];
        match self.dfa.get() {
            Some(Ok(dfa)) => {
                dfa.find_overlapping(part, |s, e, p| out.push((from + s, from + e, p)));
            }
            _ => {
                let full = self.full();
                let mut found = Vec::new();
                full.find_all(part, &mut found);
                out.extend(
                    found
                        .into_iter()
                        .map(|(s, p)| (from + s, from + s + full.pattern(p).len(), p)),
                );
            }
        }
    }

    /// Scans `hay`, a blob whose [`Engine::scan`] found no match and no decoder hit (the base) edited at
    /// `changes` (sorted, disjoint target ranges; empty ones mark where two copied runs of the base meet,
    /// and the blob's start and end unless they are the base's), and returns exactly what
    /// [`Engine::scan`] would: the same matches, and the same decoder hits in `scratch`. It reads only
    /// the neighbourhood of the changes and of the windows they open (see the module's comment).
    ///
    /// `base_wide` is the base's [`Scratch::take_wide`]: a wider tier whose bit it lacks is not
    /// searched beyond the narrow bands, since the base held none of its keywords, and one in the
    /// edited blob must then overlap a change (a copied run holds only the base's hits), which the
    /// narrow band searches with every pattern.
    ///
    /// `None` (scan it whole) when this engine does not search every pattern in every blob yet (the
    /// base's quiet verdict would not cover gated decoder patterns), when a rule without keywords runs
    /// over every blob, or when the bands around the changes cover most of the blob anyway.
    pub fn scan_near<'s>(
        &self,
        hay: &[u8],
        changes: &[(usize, usize)],
        base_wide: Wide,
        scratch: &'s mut Scratch,
    ) -> Option<&'s [Match]> {
        if self.always.iter().any(|&r| self.active[r]) {
            return None;
        }
        if !self.eager.load(std::sync::atomic::Ordering::Relaxed) && !matches!(self.dfa.get(), Some(Ok(_))) {
            return None;
        }
        let reach = self.reach()?;
        let narrow = bands(changes, reach.narrow + reach.longest, hay.len());
        if narrow.iter().map(|(a, b)| b - a).sum::<usize>() > hay.len() / 4 * 3 {
            return None;
        }
        for &r in &scratch.touched {
            scratch.windows[r].clear();
        }
        scratch.touched.clear();
        scratch.matches.clear();
        scratch.decoder_hits.clear();

        let near = |s: usize, e: usize, r: usize| {
            // The change nearest the hit is the last one starting at or before it or the next one.
            let i = changes.partition_point(|&(a, _)| a <= s);
            let before = i.checked_sub(1).and_then(|j| changes.get(j));
            let after = changes.get(i);
            before.is_some_and(|&(_, b)| s <= b.saturating_add(r))
                || after.is_some_and(|&(a, _)| a <= e.saturating_add(r))
        };
        // Every hit of the full set in the searched regions, which grow as windows do.
        let mut known = Known::default();
        for &(from, to) in &narrow {
            known.search(self, hay, from, to, reach.longest);
        }
        let mut seeds: Vec<Hit> = known
            .starting_in(0, hay.len(), reach.longest)
            .filter(|&(s, e, p)| near(s, e, reach.reach.get(p).copied().unwrap_or(usize::MAX)))
            .collect();
        // Which wider tiers' keywords the edited blob may hold: the base's, and those near a change.
        scratch.wide |= seeds.iter().fold(base_wide, |m, &(_, _, p)| m | reach.wide(p));
        let mut found = Vec::new();
        for (_, set, ids, band) in reach.wide.iter().filter(|(bit, ..)| base_wide & bit != 0) {
            for (from, to) in bands(changes, band + reach.longest, hay.len()) {
                found.clear();
                set.find_all(&hay[from..to], &mut found);
                for &(at, i) in &found {
                    let p = ids[i];
                    let (s, e) = (from + at, from + at + set.pattern(i).len());
                    if near(s, e, reach.reach[p]) {
                        seeds.push((s, e, p));
                    }
                }
            }
        }
        seeds.sort_unstable();
        seeds.dedup();

        for &(s, e, p) in &seeds {
            match p.checked_sub(self.extra_from) {
                Some(i) => {
                    if let Some(x) = self.dfa_extra.get().and_then(|x| x.get(i)) {
                        Engine::decoder_hit(x, hay, s, e, &mut scratch.decoder_hits);
                    }
                }
                None => {
                    for &r in &self.pattern_rules[p] {
                        if !self.active[r] {
                            continue;
                        }
                        let w = self.rules[r].window;
                        let windows = &mut scratch.windows[r];
                        if windows.is_empty() {
                            scratch.touched.push(r);
                        }
                        windows.push((s.saturating_sub(w), e.saturating_add(w).min(hay.len())));
                    }
                }
            }
        }
        // Each seed's window grows into the merged window the full scan builds: the component of the
        // rule's hit windows, joined where they touch, that holds it. A hit whose window touches
        // `ws..we` starts within `w + longest` of it; the regions searched beyond each edge double until
        // the component ends that far inside them (or at the blob's ends), so a long chain of hits (a
        // page of URLs) costs a few large searches, not one small one per hit.
        let mut joined: Vec<(usize, usize)> = Vec::new();
        for &r in &scratch.touched {
            let w = self.rules[r].window;
            let reach_out = w + reach.longest;
            let windows = &mut scratch.windows[r];
            super::merge_windows(windows);
            let mut grown: Vec<(usize, usize)> = Vec::with_capacity(windows.len());
            for &seed in windows.iter() {
                if grown.last().is_some_and(|&(_, e)| seed.1 <= e) {
                    continue;
                }
                let mut step = reach_out;
                let (ws, we) = loop {
                    let left = (seed.0.saturating_sub(step), (seed.0 + reach_out).min(hay.len()));
                    let right = (seed.1.saturating_sub(reach_out), (seed.1 + step).min(hay.len()));
                    known.search(self, hay, left.0, left.1, reach.longest);
                    known.search(self, hay, right.0, right.1, reach.longest);
                    joined.clear();
                    joined.push(seed);
                    let strips = known
                        .starting_in(left.0, left.1, reach.longest)
                        .chain(known.starting_in(right.0, right.1, reach.longest));
                    for (s, e, p) in strips {
                        if p < self.extra_from && self.pattern_rules[p].contains(&r) {
                            joined.push((s.saturating_sub(w), e.saturating_add(w).min(hay.len())));
                        }
                    }
                    // The component holding the seed: the windows joined where they touch, as the full
                    // scan joins them. The seed is among them, so one of the joined windows holds it.
                    super::merge_windows(&mut joined);
                    let (ws, we) = joined
                        .iter()
                        .copied()
                        .find(|&(a, b)| a <= seed.0 && seed.1 <= b)
                        .unwrap_or(seed);
                    let inside_left = left.0 == 0 || ws >= left.0 + reach_out;
                    let inside_right = right.1 == hay.len() || we + reach_out <= right.1;
                    if inside_left && inside_right {
                        break (ws, we);
                    }
                    step = step.saturating_mul(2);
                };
                grown.push((ws, we));
            }
            *windows = grown;
        }
        // A rule that runs anchored at its keywords takes their places from the known hits, as after a
        // whole scan, rather than searching each window again with a literal set of its own: its windows
        // are searched first where they reach past what was (every hit lying wholly in a window is then
        // known; one that runs past the window's end cannot begin a match inside it anyway).
        let mut anchored = false;
        for &r in &scratch.touched {
            if self.rules[r].matcher().as_ref().is_ok_and(|m| m.starts.is_some()) {
                anchored = true;
                for &(ws, we) in &scratch.windows[r] {
                    known.search(self, hay, ws, we, reach.longest);
                }
            }
        }
        scratch.hits.clear();
        if anchored {
            scratch
                .hits
                .extend(known.pieces.iter().flat_map(|p| p.hits.iter().map(|&(s, _, p)| (s, p))));
            scratch.hits.sort_unstable();
            scratch.hits.dedup();
        }
        scratch.hits_whole = anchored;
        Some(self.run_windows(hay, scratch))
    }
}

impl Scratch {
    /// Whether the last scan opened a window of any rule.
    pub fn ran_rules(&self) -> bool {
        !self.touched.is_empty()
    }

    /// Which wider tiers' keywords a blob scanned since the last call may hold (the `base_wide` of a
    /// later [`Engine::scan_near`] against it); every tier when a scan could not tell.
    pub fn take_wide(&mut self) -> Wide {
        std::mem::take(&mut self.wide)
    }
}

/// The hits of the full pattern set in the regions searched so far.
#[derive(Default)]
struct Known {
    /// Searched regions, sorted and disjoint, each with the hits found searching it (reaching
    /// `longest` bytes beyond its ends), sorted. A hit near a seam is in both neighbours.
    pieces: Vec<Piece>,
    /// Bytes searched, to give up when growing windows reach across most of the blob.
    bytes: usize,
}

struct Piece {
    from: usize,
    to: usize,
    hits: Vec<Hit>,
}

impl Known {
    /// Searches what of `from..to` was not searched yet, each gap reaching `longest` bytes beyond its
    /// ends, so that a hit across a gap's edge is found too: every hit lying wholly in the searched
    /// regions is known.
    fn search(&mut self, engine: &Engine, hay: &[u8], from: usize, to: usize, longest: usize) {
        let len = hay.len();
        let mut at = from;
        // The first piece that ends after `from`.
        let mut k = self.pieces.partition_point(|p| p.to <= from);
        while at < to {
            let next = self.pieces.get(k).map_or(usize::MAX, |p| p.from);
            if next > at {
                let end = next.min(to);
                let mut hits = Vec::new();
                engine.hits_in(hay, at.saturating_sub(longest), (end + longest).min(len), &mut hits);
                hits.sort_unstable();
                self.bytes += end - at;
                self.pieces.insert(
                    k,
                    Piece {
                        from: at,
                        to: end,
                        hits,
                    },
                );
                k += 1;
                at = end;
            } else {
                at = at.max(self.pieces[k].to);
                k += 1;
            }
        }
    }

    /// The known hits starting in `from..to` (some more than once).
    fn starting_in(&self, from: usize, to: usize, longest: usize) -> impl Iterator<Item = Hit> + '_ {
        let k = self.pieces.partition_point(|p| p.to + longest <= from);
        self.pieces[k..]
            .iter()
            .take_while(move |p| p.from.saturating_sub(longest) < to)
            .flat_map(move |p| {
                let a = p.hits.partition_point(|h| h.0 < from);
                let b = p.hits.partition_point(|h| h.0 < to);
                p.hits[a..b.max(a)].iter().copied()
            })
    }
}

/// `changes` widened by `by` on each side, clipped to `len` and merged.
fn bands(changes: &[(usize, usize)], by: usize, len: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &(a, b) in changes {
        let (a, b) = (a.saturating_sub(by).min(len), b.saturating_add(by).min(len));
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;

    fn engine() -> &'static Engine {
        static ENGINE: OnceLock<Engine> = OnceLock::new();
        ENGINE.get_or_init(|| {
            let rules = crate::rules::builtin().expect("built-in rules load");
            let e = crate::scan::compile(&rules).expect("compile");
            e.expect_large();
            // So that a full scan tells whether a blob holds a wider tier's keyword.
            e.reach();
            e
        })
    }

    /// `scan_near` of `target` (edited from `base` at `changes`) against `scan`: same matches, same
    /// decoder hits (as sets); `base` must scan quiet. A blob the full scan finds a wider tier's keyword
    /// in is one the near scan says may hold one.
    fn same(base: &[u8], target: &[u8], changes: &[(usize, usize)]) -> (usize, usize) {
        let e = engine();
        let mut s = e.scratch();
        let quiet = e.scan(base, &mut s).to_vec();
        assert!(
            quiet.is_empty() && s.decoder_hits().is_empty(),
            "the base is quiet: {quiet:?} {:?}",
            s.decoder_hits()
        );
        let base_wide = s.take_wide();
        let full = e.scan(target, &mut s).to_vec();
        let full_wide = s.take_wide();
        let mut full_hits = s.decoder_hits().to_vec();
        let near = e
            .scan_near(target, changes, base_wide, &mut s)
            .expect("scanned around the changes")
            .to_vec();
        let mut near_hits = s.decoder_hits().to_vec();
        assert_eq!(near, full);
        assert_eq!(
            full_wide & !s.take_wide(),
            0,
            "the near scan knows every tier the full scan saw"
        );
        full_hits.sort_unstable();
        full_hits.dedup();
        near_hits.sort_unstable();
        near_hits.dedup();
        assert_eq!(near_hits, full_hits);
        (full.len(), full_hits.len())
    }

    fn filler(n: usize) -> String {
        "plain words in a line of ordinary prose,\n".repeat(n)
    }

    /// The windows `scan_near` runs are windows the full scan runs, whole: on chains of keyword hits
    /// reaching far either way from an edit (a page of URLs), for each rule they touch.
    #[test]
    fn grown_windows_are_the_full_scans_merged_windows() {
        let e = engine();
        let mut s = e.scratch();
        for (gap, len) in [(40, 400), (150, 120), (300, 60)] {
            let link = |i: usize| format!("https://h{i}.example.org/p{}", " ".repeat(gap));
            let chain: String = (0..len).map(link).collect();
            let base = format!("{}{chain}{}", filler(50), filler(50));
            // Edit in the chain's first third: it reaches much further right than left.
            let at = filler(50).len() + chain.len() / 3;
            let at = at + base[at..].find(' ').expect("a gap");
            let target = format!("{}https://x.example.org/ {}", &base[..at], &base[at..]);
            let changes = [(at, at + 22)];
            e.scan(target.as_bytes(), &mut s);
            let full: Vec<Vec<(usize, usize)>> = s.windows.clone();
            let touched = s.touched.clone();
            assert!(!touched.is_empty());
            s.take_wide();
            e.scan(base.as_bytes(), &mut s);
            assert!(!s.ran_rules() || s.matches.is_empty(), "the base is quiet");
            let base_wide = s.take_wide();
            e.scan_near(target.as_bytes(), &changes, base_wide, &mut s)
                .expect("scanned near");
            for &r in &s.touched {
                let mut near = s.windows[r].clone();
                crate::engine::merge_windows(&mut near);
                assert!(touched.contains(&r));
                for w in &near {
                    assert!(
                        full[r].contains(w),
                        "gap {gap}: rule {r} window {w:?} not among {:?}",
                        full[r]
                    );
                }
                let holds = |w: &(usize, usize)| w.0 <= at && at + 22 <= w.1;
                assert!(
                    near.iter().any(holds) || !full[r].iter().any(holds),
                    "gap {gap}: rule {r}"
                );
            }
        }
    }

    /// A base holding `before` and then a JWT without its signature (its header's `eyJ` over 2 KB
    /// from the payload's end), and the target that completes it there: (base, target, where the
    /// 44-byte signature goes).
    fn jwt_signed_far_from_its_keyword(before: &str) -> (String, String, usize) {
        use base64::Engine as _;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let header = b64(r#"{"alg":"HS256","typ":"JWT"}"#);
        // Long, and with no base64 spelling of a keyword in it (the base must be quiet).
        let payload = b64(&format!(r#"{{"sub":"{}"}}"#, "z".repeat(1600)));
        assert!(payload.len() > 2000);
        // The base ends the token after its payload: no signature, no match.
        let base = format!("{}{before}session = {header}.{payload}\n{}", filler(40), filler(40));
        let at = base.find(&payload).expect("payload") + payload.len();
        let target = format!(
            "{}.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U{}",
            &base[..at],
            &base[at..]
        );
        (base, target, at)
    }

    /// A keyword of a rule with a wide window (a JWT's `eyJ`, 8 KiB) far beyond the narrow band from
    /// an edit that completes its match: found by the wider tier's search, which a base that held such
    /// a keyword (its header) makes the near scan run.
    #[test]
    fn a_wide_windows_keyword_far_from_the_edit_seeds_it() {
        let (base, target, at) = jwt_signed_far_from_its_keyword("");
        assert_eq!(same(base.as_bytes(), target.as_bytes(), &[(at, at + 44)]).0, 1);
    }

    /// Each wider tier has its own bit: a base with a keyword of a 1 KiB-window rule (`curl`) and one of
    /// the JWT rule's (8 KiB) has both, an edit far from the JWT's keyword still finds it, and a base
    /// with `curl` alone does not make an edit search the JWT tier's 16 KB bands.
    #[test]
    fn each_wider_tier_is_searched_when_its_keyword_was_seen() {
        let e = engine();
        let mut s = e.scratch();
        let curl = "# fetch it with curl --silent\n";
        e.scan(format!("{}{curl}{}", filler(40), filler(40)).as_bytes(), &mut s);
        let curl_only = s.take_wide();
        assert_eq!(curl_only.count_ones(), 1, "{curl_only:#b}");
        let (base, target, at) = jwt_signed_far_from_its_keyword(curl);
        e.scan(base.as_bytes(), &mut s);
        let both = s.take_wide();
        assert_eq!(both & curl_only, curl_only);
        assert_eq!(both.count_ones(), 2, "{both:#b}");
        assert_eq!(same(base.as_bytes(), target.as_bytes(), &[(at, at + 44)]).0, 1);
        // Told the base held only `curl`'s tier, the near scan does not look for the JWT's keyword so
        // far from the change.
        let near = e
            .scan_near(target.as_bytes(), &[(at, at + 44)], curl_only, &mut s)
            .expect("scanned around the change")
            .len();
        assert_eq!(near, 0);
    }

    #[test]
    fn a_window_grown_from_hits_far_from_the_edit_is_the_full_scans() {
        // A chain of keyword hits a few bytes apart for 20 KB: one merged window of the generic rules,
        // reaching far from the edit in its middle, where a value is completed.
        let chain = "token x; ".repeat(2200);
        let base = format!("{}{chain}api_key = 'Xy' {chain}{}", filler(200), filler(200));
        let at = base.find("'Xy").expect("value") + 3;
        let target = format!("{}12abQYLPMN5HHHFPZAM7Kq9Lm2Wz{}", &base[..at], &base[at..]);
        assert_eq!(same(base.as_bytes(), target.as_bytes(), &[(at, at + 26)]).0, 1);
    }

    #[test]
    fn a_key_completed_by_an_edit_is_found_around_it_and_far_keys_are_not_searched() {
        let key = "pk_a4c123b1612dd272d1371c17149d439536"; // pkhound:allow
        let base = format!(
            "{}KLAVIYO = '{}ZZ{}'\n{}",
            filler(300),
            &key[..20],
            &key[20..],
            filler(300)
        );
        let at = base.find("ZZ").expect("split");
        let target = format!("{}{}", &base[..at], &base[at + 2..]);
        assert_eq!(same(base.as_bytes(), target.as_bytes(), &[(at, at)]).0, 1);
        // Nothing near an edit far from every pattern: no rule runs.
        let far = format!("{}# note\n{}", &base[..100], &base[100..]);
        let e = engine();
        let mut s = e.scratch();
        assert!(e
            .scan_near(far.as_bytes(), &[(100, 107)], ALL_WIDE, &mut s)
            .expect("scanned")
            .is_empty());
        assert!(!s.ran_rules());
    }

    #[test]
    fn an_encoded_key_across_an_edit_is_found() {
        // base64 of a key, its two halves joined by deleting what was between them.
        let (a, b) = ("cG", "tfYTRjMTIzYjE2MTJkZDI3MmQxMzcxYzE3MTQ5ZDQzOTUzNg==");
        let base = format!("{}DATA = \"{a}!!{b}\"\n{}", filler(300), filler(300));
        let at = base.find("!!").expect("split");
        let target = format!("{}{}", &base[..at], &base[at + 2..]);
        assert!(same(base.as_bytes(), target.as_bytes(), &[(at, at)]).1 > 0);
    }

    #[test]
    fn windows_grow_across_seams_of_searched_regions() {
        let mut k = Known::default();
        let e = engine();
        let hay = b"xxxxxxxxxxpasswordxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
        let at = 10;
        k.search(e, hay, 0, at + 3, 0);
        k.search(e, hay, at + 5, hay.len(), 0);
        // `password` lies across the two regions and the hole between: searching the hole, reaching
        // `longest` bytes out, finds it.
        k.search(e, hay, 0, hay.len(), 8);
        let hits: Vec<Hit> = k.starting_in(0, hay.len(), 8).collect();
        assert!(hits.iter().any(|&(s, end, _)| (s, end) == (at, at + 8)), "{hits:?}");
    }
}
