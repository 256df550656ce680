//! Writes a parsed rule file in the form [`super::baked`] reads: `build.rs` bakes the built-in rules
//! with it (the file is included there by path, so build time and run time share one encoder), and the
//! tests encode TOML with it to hold the reader to the TOML parser.
//!
//! Why a byte blob and not Rust data: a tree of `&'static str`s and slices costs the dynamic loader one
//! relocation per pointer at every start of a position-independent binary (tens of thousands for the
//! built-in rules, each dirtying a page of `.data.rel.ro`), which a pre-commit hook pays on every commit.
//! Bytes and one text hold no pointer: the loader touches nothing and the pages are read on demand.
//!
//! Layout, integers little-endian: a value is a tag byte and its payload.
//! - `STR`: the text's start and length in the string pool (`u32`, `u32`); equal texts share one copy.
//! - `INT`: `i64`. `FLOAT`: the `f64`'s bits (`u64`), so the value is exactly the one TOML parsed.
//! - `BOOL`: one byte, 0 or 1.
//! - `ARR` and `TABLE`: the item count and the body's length in bytes (`u32`, `u32`), then the body: the
//!   items, or for a table each key (as a `STR` payload, without tag) followed by its value. The length
//!   lets a reader step over a value it does not want without walking it.

#![allow(dead_code)]

use std::collections::HashMap;

pub const STR: u8 = 0;
pub const INT: u8 = 1;
pub const FLOAT: u8 = 2;
pub const BOOL: u8 = 3;
pub const ARR: u8 = 4;
pub const TABLE: u8 = 5;

/// Values encoded so far, and the string pool they point into.
#[derive(Default)]
pub struct Encoder {
    pub tree: Vec<u8>,
    pub strings: String,
    seen: HashMap<String, (u32, u32)>,
}

impl Encoder {
    /// Appends `value` to the tree and returns its byte range there; `None` (and nothing appended) when
    /// it holds a date, which no rule field takes, or is too large for the 32-bit offsets.
    pub fn value(&mut self, value: &toml::Value) -> Option<(u32, u32)> {
        let start = self.tree.len();
        match self.put(value) {
            Some(()) => Some((u32::try_from(start).ok()?, u32::try_from(self.tree.len()).ok()?)),
            None => {
                self.tree.truncate(start);
                None
            }
        }
    }

    fn put(&mut self, value: &toml::Value) -> Option<()> {
        match value {
            toml::Value::String(s) => {
                self.tree.push(STR);
                self.text(s)?;
            }
            toml::Value::Integer(i) => {
                self.tree.push(INT);
                self.tree.extend_from_slice(&i.to_le_bytes());
            }
            toml::Value::Float(f) => {
                self.tree.push(FLOAT);
                self.tree.extend_from_slice(&f.to_bits().to_le_bytes());
            }
            toml::Value::Boolean(b) => {
                self.tree.push(BOOL);
                self.tree.push(u8::from(*b));
            }
            toml::Value::Datetime(_) => return None,
            toml::Value::Array(items) => {
                let body = self.open(ARR, items.len())?;
                for item in items {
                    self.put(item)?;
                }
                self.close(body)?;
            }
            toml::Value::Table(fields) => {
                let body = self.open(TABLE, fields.len())?;
                for (key, item) in fields {
                    self.text(key)?;
                    self.put(item)?;
                }
                self.close(body)?;
            }
        }
        Some(())
    }

    /// Writes a compound value's tag, count and a length to fill in; returns where its body starts.
    /// Where `s` lies in the string pool, when a value written so far holds it.
    pub fn span(&self, s: &str) -> Option<(u32, u32)> {
        self.seen.get(s).copied()
    }

    fn open(&mut self, tag: u8, count: usize) -> Option<usize> {
        self.tree.push(tag);
        self.tree.extend_from_slice(&u32::try_from(count).ok()?.to_le_bytes());
        self.tree.extend_from_slice(&[0; 4]);
        Some(self.tree.len())
    }

    fn close(&mut self, body: usize) -> Option<()> {
        let len = u32::try_from(self.tree.len() - body).ok()?;
        self.tree.get_mut(body - 4..body)?.copy_from_slice(&len.to_le_bytes());
        Some(())
    }

    fn text(&mut self, s: &str) -> Option<()> {
        let (start, len) = match self.seen.get(s) {
            Some(&span) => span,
            None => {
                let span = (u32::try_from(self.strings.len()).ok()?, u32::try_from(s.len()).ok()?);
                self.strings.push_str(s);
                self.seen.insert(s.to_string(), span);
                span
            }
        };
        self.tree.extend_from_slice(&start.to_le_bytes());
        self.tree.extend_from_slice(&len.to_le_bytes());
        Some(())
    }
}
