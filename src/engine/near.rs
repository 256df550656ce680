//! Whether an edit can change what a scan finds: the question a history scan asks of a blob stored as a
//! delta against a blob that scanned quiet (no match, no decoder hit).
//!
//! A keyword hit decides a regex window of its rules (`window` bytes each side); windows of one rule
//! merge when they overlap; the regex and the filters read only a window and a few bytes around a
//! candidate. So a hit whose every byte within twice its window (plus the longest pattern and a margin)
//! was copied in one run from the base produces, in the edited blob, exactly the window and the matches
//! it produced in the base: none. A decoder pattern's hit far from the edit was in the base too, and the
//! base had none. What is left to search is the neighbourhood of each change, each pattern within its
//! own reach: keywords of rules with small windows in a narrow band around each change (with the whole
//! automaton), the few keywords of rules with windows of kilobytes (PEM blocks, JWTs) in a wide band with
//! an automaton of their own, which is fast because they are few.
//!
//! Nothing here knows of packs or git: changes are target ranges, as `source::pack::delta_changes`
//! gives them.

use aho_corasick::{AhoCorasick, AhoCorasickKind};

use super::{build_automaton, Engine};

/// Bytes around a candidate the filters read (delimitation, an escape before it), with room to spare,
/// and the most a decoder pattern's hit is shifted back.
const MARGIN: usize = 160;
/// Keywords of rules whose window is at most this are searched in the narrow band.
const NARROW_WINDOW: usize = 600;

/// The reach of every pattern of the full automaton (keywords, then decoder patterns), computed once.
pub(super) struct Reach {
    /// Per pattern id of the full automaton: how far from a change its hit can matter.
    reach: Vec<usize>,
    /// The longest pattern.
    longest: usize,
    /// The narrow band: the largest reach of a pattern not in `wide`.
    narrow: usize,
    /// The patterns of large-window rules, their own automaton, and each one's reach.
    wide: Option<(AhoCorasick, Vec<usize>)>,
    /// The wide band: the largest reach in `wide`.
    wide_band: usize,
}

impl Engine {
    fn reach(&self) -> Option<&Reach> {
        self.reach
            .get_or_init(|| {
                let patterns = self.all_patterns();
                let longest = patterns.iter().map(String::len).max().unwrap_or(0);
                let extra = self.dfa_extra.get().map_or(&[][..], Vec::as_slice);
                let mut reach = Vec::with_capacity(patterns.len());
                let mut wide_patterns = Vec::new();
                let mut wide_reach = Vec::new();
                let mut narrow = 0;
                for (id, pattern) in patterns.iter().enumerate() {
                    let r = match id.checked_sub(self.extra_from) {
                        None => {
                            let window = self.pattern_rules[id]
                                .iter()
                                .map(|&r| self.rules[r].window)
                                .max()
                                .unwrap_or(0);
                            let r = window.saturating_mul(2).saturating_add(longest + MARGIN);
                            if window > NARROW_WINDOW {
                                wide_patterns.push(pattern.clone());
                                wide_reach.push(r);
                            } else {
                                narrow = narrow.max(r);
                            }
                            r
                        }
                        Some(i) => {
                            let r = extra.get(i)?.shift.saturating_add(longest + MARGIN);
                            narrow = narrow.max(r);
                            r
                        }
                    };
                    reach.push(r);
                }
                let wide_band = wide_reach.iter().copied().max().unwrap_or(0);
                let wide = if wide_patterns.is_empty() {
                    None
                } else {
                    let nfa = build_automaton(&wide_patterns, AhoCorasickKind::NoncontiguousNFA).ok()?;
                    Some((nfa, wide_reach))
                };
                Some(Reach {
                    reach,
                    longest,
                    narrow,
                    wide,
                    wide_band,
                })
            })
            .as_ref()
    }

    /// True when scanning `hay` is sure to find nothing, given that `hay` is a blob whose scan found no
    /// match and no decoder hit (the base) edited at `changes` (sorted, disjoint target ranges; empty
    /// ones mark where two copied runs of the base meet): no keyword or decoder pattern lies within its
    /// reach of a change. False (scan it) when a hit does, when a rule with no keyword runs over every
    /// blob, or when the bands around the changes cover most of the blob anyway.
    pub fn edit_is_quiet(&self, hay: &[u8], changes: &[(usize, usize)]) -> bool {
        if self.always.iter().any(|&r| self.active[r]) {
            return false;
        }
        let Some(reach) = self.reach() else {
            return false;
        };
        let automaton = match self.dfa.get() {
            Some(Ok(dfa)) => dfa,
            // Before the DFA, the blob is scanned whole.
            _ => return false,
        };
        let narrow = bands(changes, reach.narrow + reach.longest, hay.len());
        if narrow.iter().map(|(a, b)| b - a).sum::<usize>() > hay.len() / 2 {
            return false;
        }
        let near = |s: usize, e: usize, r: usize| {
            // The change nearest the hit is the last one starting at or before it or the next one.
            let i = changes.partition_point(|&(a, _)| a <= s);
            let before = i.checked_sub(1).and_then(|j| changes.get(j));
            let after = changes.get(i);
            before.is_some_and(|&(_, b)| s <= b.saturating_add(r))
                || after.is_some_and(|&(a, _)| a <= e.saturating_add(r))
        };
        let hit_in = |ac: &AhoCorasick, reaches: &[usize], (from, to): (usize, usize)| {
            ac.find_overlapping_iter(&hay[from..to]).any(|m| {
                let r = reaches.get(m.pattern().as_usize()).copied().unwrap_or(usize::MAX);
                near(from + m.start(), from + m.end(), r)
            })
        };
        if narrow.iter().any(|&band| hit_in(automaton, &reach.reach, band)) {
            return false;
        }
        match &reach.wide {
            Some((ac, reaches)) => !bands(changes, reach.wide_band + reach.longest, hay.len())
                .into_iter()
                .any(|band| hit_in(ac, reaches, band)),
            None => true,
        }
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
