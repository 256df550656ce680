//! Jupyter notebooks (`.ipynb`): where in the notebook a finding sits (cell number, source or output,
//! line within the cell), and which strings are base64 images that hold no secret.
//!
//! A notebook is JSON; Jupyter writes each line of a cell's source and of its text outputs as one string
//! of an array, one string per file line. A single pass over the bytes (a small JSON tokenizer, no tree)
//! records every string under `cells[i].source` and `cells[i].outputs` with its file line and columns;
//! a finding is then matched to the string that holds it. This module knows findings and nothing of the
//! engine or sources.

use crate::finding::{Cell, CellKind, Finding};

/// A string of the notebook: where it is in the file and in the notebook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Piece {
    /// 1-based file line, and the 1-based columns (characters) of the string's opening and closing quotes.
    line: usize,
    first: usize,
    last: usize,
    cell: Cell,
    /// A base64 image (`image/png` …): not text, no secret.
    image: bool,
}

#[derive(Debug)]
enum Frame {
    Object { key: Option<String> },
    Array { key: Option<String>, index: usize },
}

/// Whether `path` names a notebook.
pub fn is_notebook(path: &str) -> bool {
    let file = path.rsplit(['/', '!']).next().unwrap_or(path);
    // Bytes, not a `str` slice: the name may end in multi-byte characters.
    let b = file.as_bytes();
    b.len() > 6 && b[b.len() - 6..].eq_ignore_ascii_case(b".ipynb")
}

/// Gives each finding of `out` in notebook `bytes` its cell, and drops the findings inside base64 images
/// of outputs. Findings outside any cell string (metadata) keep no cell.
pub fn place(bytes: &[u8], out: &mut Vec<Finding>) {
    if out.is_empty() {
        return;
    }
    let pieces = pieces(bytes);
    out.retain_mut(|f| {
        let piece = pieces
            .iter()
            .find(|p| p.line == f.line && p.first < f.column && f.column < p.last);
        match piece {
            Some(p) if p.image => false,
            Some(p) => {
                f.cell = Some(p.cell);
                true
            }
            None => true,
        }
    });
}

/// Every string under `cells[i].source` and `cells[i].outputs`.
fn pieces(bytes: &[u8]) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let (mut line, mut col) = (1usize, 0usize);
    let mut cell = 0usize;
    // The last string read in an object, while its `:` is awaited.
    let mut pending_key: Option<String> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\n' {
            line += 1;
            col = 0;
            i += 1;
            continue;
        }
        if (b & 0xC0) != 0x80 {
            col += 1;
        }
        match b {
            b'{' | b'[' => {
                let key = value_key(&mut stack, &mut pending_key);
                if b == b'{' && stack.len() == 2 && in_key(&stack, 1, "cells") {
                    cell += 1;
                }
                stack.push(if b == b'{' {
                    Frame::Object { key }
                } else {
                    Frame::Array { key, index: 0 }
                });
            }
            b'}' | b']' => {
                stack.pop();
                pending_key = None;
            }
            b',' => {
                if let Some(Frame::Array { index, .. }) = stack.last_mut() {
                    *index += 1;
                }
            }
            b'"' => {
                let (first, start) = (col, i);
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'"' && bytes[j] != b'\n' {
                    if bytes[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                let end = j.min(bytes.len());
                col += crate::locate::char_count(&bytes[start + 1..end]) + usize::from(end < bytes.len());
                i = end + 1;
                let is_key = matches!(stack.last(), Some(Frame::Object { .. })) && pending_key.is_none() && {
                    let rest = &bytes[i.min(bytes.len())..];
                    rest.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b':')
                };
                if is_key {
                    pending_key = Some(String::from_utf8_lossy(&bytes[start + 1..end]).into_owned());
                    continue;
                }
                let key = value_key(&mut stack, &mut pending_key);
                if stack.len() >= 3 && in_key(&stack, 1, "cells") {
                    let keys: Vec<&str> = stack
                        .iter()
                        .filter_map(|f| match f {
                            Frame::Object { key } | Frame::Array { key, .. } => key.as_deref(),
                        })
                        .chain(key.as_deref())
                        .collect();
                    let kind = if keys.contains(&"source") {
                        Some(CellKind::Source)
                    } else if keys.contains(&"outputs") {
                        Some(CellKind::Output)
                    } else {
                        None
                    };
                    if let Some(kind) = kind {
                        let within = match stack.last() {
                            Some(Frame::Array { index, .. }) => index + 1,
                            _ => 1,
                        };
                        out.push(Piece {
                            line,
                            first,
                            last: col,
                            cell: Cell {
                                index: cell,
                                line: within,
                                kind,
                            },
                            image: keys.iter().any(|k| k.starts_with("image/")),
                        });
                    }
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The key a value now opened sits under: the object's pending key, or its array's key.
fn value_key(stack: &mut [Frame], pending: &mut Option<String>) -> Option<String> {
    match stack.last() {
        Some(Frame::Object { .. }) => pending.take(),
        Some(Frame::Array { key, .. }) => key.clone(),
        None => None,
    }
}

/// Whether the frame at `depth` sits under `key`.
fn in_key(stack: &[Frame], depth: usize, key: &str) -> bool {
    matches!(stack.get(depth), Some(Frame::Object { key: Some(k) } | Frame::Array { key: Some(k), .. }) if k == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NB: &str = r##"{
 "cells": [
  {
   "cell_type": "markdown",
   "metadata": {},
   "source": [
    "# Title\n",
    "text"
   ]
  },
  {
   "cell_type": "code",
   "execution_count": 1,
   "metadata": {},
   "outputs": [
    {
     "name": "stdout",
     "output_type": "stream",
     "text": [
      "first\n",
      "key pk_x\n"
     ]
    },
    {
     "data": {
      "image/png": "iVBORw0KGgo",
      "text/plain": [
       "<Figure>"
      ]
     },
     "output_type": "display_data"
    }
   ],
   "source": [
    "import os\n",
    "k = 1"
   ]
  }
 ],
 "metadata": {"kernelspec": {"name": "python3"}},
 "nbformat": 4
}"##;

    #[test]
    fn strings_of_sources_and_outputs_know_their_cell() {
        let p = pieces(NB.as_bytes());
        let at = |line: usize| p.iter().find(|x| x.line == line).copied();
        let c = |index, line, kind| Cell { index, line, kind };
        assert_eq!(at(7).map(|x| x.cell), Some(c(1, 1, CellKind::Source)));
        assert_eq!(at(8).map(|x| x.cell), Some(c(1, 2, CellKind::Source)));
        assert_eq!(at(21).map(|x| x.cell), Some(c(2, 2, CellKind::Output)));
        assert_eq!(at(26).map(|x| x.image), Some(true));
        assert_eq!(
            at(28).map(|x| (x.cell, x.image)),
            Some((c(2, 1, CellKind::Output), false))
        );
        assert_eq!(at(35).map(|x| x.cell), Some(c(2, 1, CellKind::Source)));
        assert_eq!(at(36).map(|x| x.cell), Some(c(2, 2, CellKind::Source)));
        assert_eq!((at(21).unwrap().first, at(21).unwrap().last), (7, 18));
        assert!(
            at(4).is_none() && at(40).is_none(),
            "cell types and metadata are not pieces"
        );
    }

    #[test]
    fn hostile_bytes_do_not_panic() {
        for s in [
            "",
            "\"",
            "{\"cells\": [{\"source\": [\"\\",
            "]]]}}}",
            "{\"cells\":[{\"source\":\"a\\\"b\"}]}",
        ] {
            let _ = pieces(s.as_bytes());
        }
        assert!(is_notebook("a/b.ipynb") && is_notebook("x.zip!n.IPYNB") && !is_notebook("ipynb"));
        assert!(!is_notebook("名前です.txt") && !is_notebook("é"));
    }
}
