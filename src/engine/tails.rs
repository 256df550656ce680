//! A path gate's suffix literals: what every path its regex matches ends with (`.key`, `logins.json`),
//! so that most paths are refused without the regex.
//!
//! A plain function over `regex_syntax`, with no other part of the crate: `build.rs` includes this same
//! file (`#[path]`) to list the built-in rules' tails at build time (parsing a gate's regex for them was
//! half a millisecond of every scan's start-up, a tenth of a pre-commit hook's), and the engine lists a
//! user's or an imported rule's at run time. One piece of code, so the two cannot disagree.

/// The literals every match of the path regex `src` ends with, or `None` when they cannot be listed: the
/// regex does not parse, is not anchored at its end (`$`), or ends in a class or repetition too wide to
/// spell out (then every path asks the regex).
pub fn path_tails(src: &str) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    use regex_syntax::hir::{HirKind, Look};
    let hir = regex_syntax::Parser::new().parse(src).ok()?;
    let ends_anchored = matches!(hir.kind(), HirKind::Concat(parts)
        if parts.last().is_some_and(|h| matches!(h.kind(), HirKind::Look(Look::End))));
    if !ends_anchored {
        return None;
    }
    let mut extractor = Extractor::new();
    extractor.kind(ExtractKind::Suffix).limit_class(4).limit_total(256);
    let literals = extractor.extract(&hir).literals()?.to_vec();
    let tails: Vec<Vec<u8>> = literals.into_iter().map(|l| l.as_bytes().to_vec()).collect();
    (!tails.is_empty() && tails.iter().all(|t| !t.is_empty())).then_some(tails)
}
