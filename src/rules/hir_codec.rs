//! The built-in rules' regexes, parsed at build time: `build.rs` parses each rule's regex as the engine
//! does (bytes, no Unicode) and writes the syntax tree ([`regex_syntax::hir::Hir`]) here as bytes, which
//! the engine reads back on a rule's first keyword hit instead of parsing the text. Parsing was the larger
//! half of building a rule that calls `(?&assign)` (1,600 characters: about 0.25 ms each, of a pre-commit
//! hook's 5), and reading the tree back costs a tenth of that. The file is included by path in
//! `build.rs`, so one codec writes and reads.
//!
//! Layout, integers little-endian: a node is a tag byte and its payload.
//! - `EMPTY`; `LITERAL`: length (`u32`), bytes; `BYTES`: range count (`u32`), `(start, end)` byte pairs;
//!   `UNICODE`: range count, `(start, end)` scalar pairs (`u32`s); `LOOK`: the assertion's `as_repr`
//!   (`u32`).
//! - `REPEAT`: min (`u32`), whether a max follows (byte), max (`u32`), greedy (byte), the sub-node.
//! - `CAPTURE`: index (`u32`), name length (`u32`, `u32::MAX`: no name), name bytes, the sub-node.
//! - `CONCAT`, `ALTERNATE`: child count (`u32`), the children.
//! - `SAME`: the offset (`u32`) of an equal node written earlier in the blob. Dozens of rules call the
//!   same fragment, whose tree is written once.
//!
//! The encoder checks that the tree it wrote reads back equal to the parsed one (the reader rebuilds with
//! `Hir`'s own constructors, which could in principle simplify differently); a regex whose tree does not is
//! left out and parsed at run time, as a config's rules are. A unit test holds every built-in rule's
//! baked tree to a fresh parse of its text.

#![allow(dead_code)]

use regex_syntax::hir::{Capture, Class, ClassBytes, ClassBytesRange, ClassUnicode, ClassUnicodeRange};
use regex_syntax::hir::{Hir, HirKind, Look, Repetition};
use std::collections::HashMap;

const EMPTY: u8 = 0;
const LITERAL: u8 = 1;
const BYTES: u8 = 2;
const UNICODE: u8 = 3;
const LOOK: u8 = 4;
const REPEAT: u8 = 5;
const CAPTURE: u8 = 6;
const CONCAT: u8 = 7;
const ALTERNATE: u8 = 8;
const SAME: u8 = 9;

/// A node's encoding at least this long is written once and referred to after.
const SHARE_FROM: usize = 24;
/// How deep the reader follows nodes (a parsed regex is at most 250 deep, `regex_syntax`'s nest limit;
/// the reader refuses deeper data rather than overflow its stack).
const MAX_DEPTH: usize = 1024;

/// Trees written so far.
#[derive(Default)]
pub struct Encoder {
    pub blob: Vec<u8>,
    /// A node's self-contained encoding -> where it was written.
    written: HashMap<Vec<u8>, u32>,
}

impl Encoder {
    /// Writes `hir` and returns its offset, or `None` (nothing kept) when it would not read back equal.
    pub fn tree(&mut self, hir: &Hir) -> Option<u32> {
        let start = self.blob.len();
        let at = self.put(hir)?;
        if decode(&self.blob, at as usize).as_ref() == Some(hir) {
            Some(at)
        } else {
            self.blob.truncate(start);
            self.written.retain(|_, &mut off| (off as usize) < start);
            None
        }
    }

    /// Writes `hir` (its children first, so that a shared one is found), returning where it starts.
    fn put(&mut self, hir: &Hir) -> Option<u32> {
        let whole = plain(hir)?;
        if let Some(&at) = self.written.get(&whole) {
            return Some(at);
        }
        // Children are written (or found) before the node, which then refers to them when they are large.
        let mut bytes = Vec::new();
        node(hir, &mut bytes, &mut |sub, out| {
            out.extend_from_slice(&self.child(sub)?);
            Some(())
        })?;
        let at = u32::try_from(self.blob.len()).ok()?;
        self.blob.extend_from_slice(&bytes);
        self.written.insert(whole, at);
        Some(at)
    }

    /// A child's bytes inside its parent: a reference to it when it is large, else itself.
    fn child(&mut self, hir: &Hir) -> Option<Vec<u8>> {
        let whole = plain(hir)?;
        if whole.len() < SHARE_FROM {
            return Some(whole);
        }
        let at = self.put(hir)?;
        let mut out = vec![SAME];
        put_u32(&mut out, at);
        Some(out)
    }
}

/// `hir` encoded whole, without references (the key by which equal nodes are found).
fn plain(hir: &Hir) -> Option<Vec<u8>> {
    fn into(hir: &Hir, out: &mut Vec<u8>) -> Option<()> {
        node(hir, out, &mut into)
    }
    let mut out = Vec::new();
    into(hir, &mut out)?;
    Some(out)
}

/// Writes `hir`'s node to `out`, each sub-node, in order, by `sub` (whole, or as a reference).
fn node(hir: &Hir, out: &mut Vec<u8>, sub: &mut dyn FnMut(&Hir, &mut Vec<u8>) -> Option<()>) -> Option<()> {
    let len = |n: usize| u32::try_from(n).ok();
    match hir.kind() {
        HirKind::Empty => out.push(EMPTY),
        HirKind::Literal(lit) => {
            out.push(LITERAL);
            put_u32(out, len(lit.0.len())?);
            out.extend_from_slice(&lit.0);
        }
        HirKind::Class(Class::Bytes(class)) => {
            out.push(BYTES);
            put_u32(out, len(class.ranges().len())?);
            for r in class.ranges() {
                out.extend_from_slice(&[r.start(), r.end()]);
            }
        }
        HirKind::Class(Class::Unicode(class)) => {
            out.push(UNICODE);
            put_u32(out, len(class.ranges().len())?);
            for r in class.ranges() {
                put_u32(out, u32::from(r.start()));
                put_u32(out, u32::from(r.end()));
            }
        }
        HirKind::Look(look) => {
            out.push(LOOK);
            put_u32(out, look.as_repr());
        }
        HirKind::Repetition(rep) => {
            out.push(REPEAT);
            put_u32(out, rep.min);
            out.push(u8::from(rep.max.is_some()));
            put_u32(out, rep.max.unwrap_or(0));
            out.push(u8::from(rep.greedy));
            sub(&rep.sub, out)?;
        }
        HirKind::Capture(cap) => {
            out.push(CAPTURE);
            put_u32(out, cap.index);
            match &cap.name {
                Some(name) => {
                    put_u32(out, len(name.len())?);
                    out.extend_from_slice(name.as_bytes());
                }
                None => put_u32(out, u32::MAX),
            }
            sub(&cap.sub, out)?;
        }
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            out.push(if matches!(hir.kind(), HirKind::Concat(_)) {
                CONCAT
            } else {
                ALTERNATE
            });
            put_u32(out, len(subs.len())?);
            for s in subs {
                sub(s, out)?;
            }
        }
    }
    Some(())
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// The tree written at `at` in `blob`; `None` when the bytes there are not one.
pub fn decode(blob: &[u8], at: usize) -> Option<Hir> {
    Reader { blob, pos: at }.node(0)
}

struct Reader<'a> {
    blob: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.blob.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn u32(&mut self) -> Option<u32> {
        let bytes = self.blob.get(self.pos..self.pos.checked_add(4)?)?;
        self.pos += 4;
        Some(u32::from_le_bytes(bytes.try_into().ok()?))
    }

    fn bytes(&mut self, len: usize) -> Option<&[u8]> {
        let out = self.blob.get(self.pos..self.pos.checked_add(len)?)?;
        self.pos += len;
        Some(out)
    }

    /// A count of items at least `each` bytes long, refused when the blob cannot hold them.
    fn count(&mut self, each: usize) -> Option<usize> {
        let n = self.u32()? as usize;
        (n.checked_mul(each)? <= self.blob.len().saturating_sub(self.pos)).then_some(n)
    }

    fn node(&mut self, depth: usize) -> Option<Hir> {
        if depth > MAX_DEPTH {
            return None;
        }
        let start = self.pos;
        Some(match self.byte()? {
            EMPTY => Hir::empty(),
            LITERAL => {
                let len = self.count(1)?;
                Hir::literal(self.bytes(len)?)
            }
            BYTES => {
                let n = self.count(2)?;
                let mut ranges = Vec::with_capacity(n);
                for _ in 0..n {
                    let (start, end) = (self.byte()?, self.byte()?);
                    ranges.push(ClassBytesRange::new(start, end));
                }
                Hir::class(Class::Bytes(ClassBytes::new(ranges)))
            }
            UNICODE => {
                let n = self.count(8)?;
                let mut ranges = Vec::with_capacity(n);
                for _ in 0..n {
                    let start = char::from_u32(self.u32()?)?;
                    let end = char::from_u32(self.u32()?)?;
                    ranges.push(ClassUnicodeRange::new(start, end));
                }
                Hir::class(Class::Unicode(ClassUnicode::new(ranges)))
            }
            LOOK => Hir::look(Look::from_repr(self.u32()?)?),
            REPEAT => {
                let min = self.u32()?;
                let has_max = self.byte()? != 0;
                let max = self.u32()?;
                let greedy = self.byte()? != 0;
                let sub = self.node(depth + 1)?;
                Hir::repetition(Repetition {
                    min,
                    max: has_max.then_some(max),
                    greedy,
                    sub: Box::new(sub),
                })
            }
            CAPTURE => {
                let index = self.u32()?;
                let len = self.u32()?;
                let name = match len {
                    u32::MAX => None,
                    len => Some(Box::from(std::str::from_utf8(self.bytes(len as usize)?).ok()?)),
                };
                let sub = self.node(depth + 1)?;
                Hir::capture(Capture {
                    index,
                    name,
                    sub: Box::new(sub),
                })
            }
            tag @ (CONCAT | ALTERNATE) => {
                let n = self.count(1)?;
                let mut subs = Vec::with_capacity(n);
                for _ in 0..n {
                    subs.push(self.node(depth + 1)?);
                }
                if tag == CONCAT {
                    Hir::concat(subs)
                } else {
                    Hir::alternation(subs)
                }
            }
            SAME => {
                let at = self.u32()? as usize;
                // A reference points back, to a node written before this one: a chain of them ends.
                if at >= start {
                    return None;
                }
                Reader {
                    blob: self.blob,
                    pos: at,
                }
                .node(depth + 1)?
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Hir {
        regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(src)
            .expect("a valid regex")
    }

    #[test]
    fn trees_read_back_equal_and_shared_nodes_are_written_once() {
        let mut enc = Encoder::default();
        let sources = [
            r#"(?i:klaviyo)(?s:.){0,80}?(?:key|token)\s*[=:]\s*['"]?(?P<secret>pk_[a-f0-9]{34})(?:[^a-f0-9]|$)"#,
            r"\bAKIA[A-Z2-7]{16}\b|(?m:^)x*?y+z{2,}",
            "",
            "(a|b|c)(?:xyz|xya)[^\x00-\x08]",
        ];
        let mut offsets = Vec::new();
        for src in sources {
            let hir = parse(src);
            let at = enc.tree(&hir).expect("reads back equal");
            offsets.push(at);
            assert_eq!(decode(&enc.blob, at as usize), Some(hir), "{src}");
        }
        let len = enc.blob.len();
        // The same tree again is found, not written.
        assert_eq!(enc.tree(&parse(sources[0])), Some(offsets[0]));
        assert_eq!(enc.blob.len(), len);
        // A larger regex holding the first's parts refers to them.
        let outer = format!("(?:{}|zz)", sources[0]);
        let at = enc.tree(&parse(&outer)).expect("reads back equal");
        let added = enc.blob.len() - len;
        assert!(
            added * 2 < plain(&parse(&outer)).expect("encodes").len(),
            "{added} new bytes"
        );
        assert_eq!(decode(&enc.blob, at as usize), Some(parse(&outer)));
    }

    #[test]
    fn broken_bytes_are_refused_not_read() {
        let mut enc = Encoder::default();
        let at = enc.tree(&parse("ab(?P<secret>[0-9]{4})")).expect("reads back equal") as usize;
        for cut in 0..enc.blob.len() {
            // Any prefix either reads (a shorter node) or is refused; none panics.
            let _ = decode(&enc.blob[..cut], at.min(cut));
        }
        assert_eq!(decode(&[CONCAT, 255, 255, 255, 255], 0), None);
        assert_eq!(decode(&[SAME, 0, 0, 0, 0], 0), None);
        // A reference to itself, or to a reference back to it, is refused without recursing.
        assert_eq!(decode(&[EMPTY, SAME, 1, 0, 0, 0], 1), None);
        assert_eq!(decode(&[EMPTY, SAME, 0, 0, 0, 0], 1), Some(Hir::empty()));
        assert_eq!(decode(&[42], 0), None);
    }
}
