//! The built-in rule files as static data: `build.rs` parses each `rules/*.toml` once at build time and
//! bakes it into a byte tree and a string pool compiled into the binary (the layout is in `bake.rs`,
//! which writes it). A scan deserializes the rules from that tree with the same serde derives that read a
//! TOML file, so defaults, unknown-field errors and enum spellings cannot drift between the two; what it
//! skips is lexing and parsing text (TOML, or JSON, took most of a pre-commit hook's start-up), and, as
//! the tree holds no pointer, the dynamic loader's relocations of a tree of Rust values.

use serde::de::{self, value::Error, value::StrDeserializer, DeserializeSeed, Visitor};

use super::bake::{ARR, BOOL, FLOAT, INT, STR, TABLE};

/// One value of a baked rule file: where it starts in the tree, and the pool its strings point into.
#[derive(Clone, Copy, Debug)]
pub struct Node<'a> {
    tree: &'a [u8],
    strings: &'a str,
    at: usize,
}

/// Deserializes `T` from the value of `tree` that starts at byte `at`.
pub fn from_node<T: de::DeserializeOwned>(tree: &[u8], strings: &str, at: usize) -> Result<T, Error> {
    T::deserialize(Node { tree, strings, at })
}

/// Where each rule's table starts, in the rule file (`[[rule]]` tables) whose value starts at byte `at`:
/// its rules can then be read one by one, when wanted.
pub fn rule_offsets(tree: &[u8], strings: &str, at: usize) -> Result<Vec<usize>, Error> {
    let file = Node { tree, strings, at };
    if file.tag()? != TABLE {
        return Err(corrupt());
    }
    let mut fields = Items::new(file)?;
    while fields.left > 0 {
        fields.left -= 1;
        let key = fields.next.text(fields.next.at)?;
        fields.next = fields.next.at(fields.next.at + 8);
        let value = fields.take()?;
        if key != "rule" {
            continue;
        }
        if value.tag()? != ARR {
            return Err(corrupt());
        }
        let mut rules = Items::new(value)?;
        let mut out = Vec::with_capacity(rules.left);
        while rules.left > 0 {
            rules.left -= 1;
            out.push(rules.take()?.at);
        }
        return Ok(out);
    }
    Ok(Vec::new())
}

/// The tree is the build's own output, so a bad byte is a bug; still an error, never a panic.
fn corrupt() -> Error {
    de::Error::custom("the baked rule data is corrupt")
}

// The accessors are small and on the path of every value of every rule: inlined, they keep reading the
// tree cheaper than the tree of Rust values it replaced.
impl<'a> Node<'a> {
    #[inline]
    fn bytes<const N: usize>(&self, at: usize) -> Result<[u8; N], Error> {
        let end = at.checked_add(N).ok_or_else(corrupt)?;
        self.tree
            .get(at..end)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(corrupt)
    }

    #[inline]
    fn u32(&self, at: usize) -> Result<usize, Error> {
        Ok(u32::from_le_bytes(self.bytes(at)?) as usize)
    }

    #[inline]
    fn tag(&self) -> Result<u8, Error> {
        self.tree.get(self.at).copied().ok_or_else(corrupt)
    }

    /// The pool text whose start and length are at `at`.
    #[inline]
    fn text(&self, at: usize) -> Result<&'a str, Error> {
        let span: [u8; 8] = self.bytes(at)?;
        let [a, b, c, d, e, f, g, h] = span;
        let start = u32::from_le_bytes([a, b, c, d]) as usize;
        let end = start
            .checked_add(u32::from_le_bytes([e, f, g, h]) as usize)
            .ok_or_else(corrupt)?;
        self.strings.get(start..end).ok_or_else(corrupt)
    }

    /// How many bytes the value takes, tag included.
    #[inline]
    fn len(&self) -> Result<usize, Error> {
        match self.tag()? {
            STR | INT | FLOAT => Ok(9),
            BOOL => Ok(2),
            ARR | TABLE => self.u32(self.at + 5)?.checked_add(9).ok_or_else(corrupt),
            _ => Err(corrupt()),
        }
    }

    fn at(self, at: usize) -> Self {
        Node { at, ..self }
    }
}

/// The items of an array, or the fields of a table, read in order.
struct Items<'a> {
    /// At the next item (for a table, at the next key).
    next: Node<'a>,
    left: usize,
    /// The table's value after the key just read.
    value: Option<Node<'a>>,
}

impl<'a> Items<'a> {
    fn new(node: Node<'a>) -> Result<Self, Error> {
        Ok(Items {
            next: node.at(node.at + 9),
            left: node.u32(node.at + 1)?,
            value: None,
        })
    }

    /// The item at `next`, and `next` moved past it.
    #[inline]
    fn take(&mut self) -> Result<Node<'a>, Error> {
        let item = self.next;
        self.next = item.at(item.at.checked_add(item.len()?).ok_or_else(corrupt)?);
        Ok(item)
    }

    /// A visitor that stopped early (a tuple) has read fewer items than there are: an error, as serde's
    /// own `SeqDeserializer::end` makes it.
    fn end(&self) -> Result<(), Error> {
        match self.left {
            0 => Ok(()),
            left => Err(de::Error::custom(format_args!("{left} items left over"))),
        }
    }
}

impl<'de> de::SeqAccess<'de> for Items<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(self.take()?).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

impl<'de> de::MapAccess<'de> for Items<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let key = self.next.text(self.next.at)?;
        self.next = self.next.at(self.next.at + 8);
        self.value = Some(self.take()?);
        seed.deserialize(StrDeserializer::<Error>::new(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(self.value.take().ok_or_else(corrupt)?)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

impl<'de> de::Deserializer<'de> for Node<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let at = self.at + 1;
        match self.tag()? {
            STR => visitor.visit_str(self.text(at)?),
            INT => visitor.visit_i64(i64::from_le_bytes(self.bytes(at)?)),
            FLOAT => visitor.visit_f64(f64::from_bits(u64::from_le_bytes(self.bytes(at)?))),
            BOOL => visitor.visit_bool(self.bytes::<1>(at)?[0] != 0),
            ARR => {
                let mut items = Items::new(self)?;
                let value = visitor.visit_seq(&mut items)?;
                items.end()?;
                Ok(value)
            }
            TABLE => {
                let mut fields = Items::new(self)?;
                let value = visitor.visit_map(&mut fields)?;
                fields.end()?;
                Ok(value)
            }
            _ => Err(corrupt()),
        }
    }

    /// A field that is present is `Some`; an absent one never reaches here (serde's default applies).
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    /// Unit variants (`severity = "high"`, `check = "jwt"`) are written as strings.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.tag()? {
            STR => visitor.visit_enum(StrDeserializer::<Error>::new(self.text(self.at + 1)?)),
            _ => Err(de::Error::custom(format_args!(
                "{name}: expected a string, one of {variants:?}"
            ))),
        }
    }

    /// A value nobody wants (a field a partial view skips) is stepped over, not walked.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.len()?;
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{bake::Encoder, RuleSpec};

    /// `text` (one TOML table) baked, then read back as `T`.
    fn baked<T: de::DeserializeOwned>(text: &str) -> Result<T, Error> {
        let mut enc = Encoder::default();
        let (start, _) = enc.value(&toml::Value::Table(text.parse().unwrap())).unwrap();
        from_node(&enc.tree, &enc.strings, start as usize)
    }

    const RULE: &str = "id = 'x-y'\nname = 'X'\nseverity = 'high'\nkeywords = ['ab', 'Cd', 'ab']\nregex = 'ab'\n\
                        window = 64\nmin_entropy = 3.5\ndelimited = false\ncheck = 'jwt'\nremediation = 'r'\n\
                        tags = []\n[pair]\nlabel = 'l'\nregex = 'x'\n[examples]\npositive = [{ text = '', secret = 's' }]\n";

    #[test]
    fn a_tree_deserializes_like_the_toml_it_came_from() {
        let baked: RuleSpec = baked(RULE).unwrap();
        let toml: RuleSpec = toml::from_str(RULE).unwrap();
        assert_eq!(format!("{baked:?}"), format!("{toml:?}"));
        assert_eq!(baked.window, 64);
        assert_eq!(baked.min_entropy, Some(3.5));
        assert!(!baked.delimited);
        assert_eq!(*baked.keywords, ["ab", "Cd", "ab"]);
        assert_eq!(baked.pair.map(|p| p.regex), Some("x".to_string()));
    }

    #[test]
    fn unknown_fields_and_bad_enum_values_are_errors() {
        let msg = baked::<RuleSpec>("id = 'x'\ncolour = 'blue'\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("colour"), "{msg}");
        let msg = baked::<RuleSpec>(&RULE.replace("'high'", "'dire'"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("dire"), "{msg}");
        let msg = baked::<RuleSpec>(&RULE.replace("window = 64", "window = 'wide'"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("wide"), "{msg}");
    }

    #[test]
    fn a_tuple_must_take_every_item() {
        assert_eq!(
            baked::<std::collections::BTreeMap<String, (i64, bool)>>("a = [1, true]\n").unwrap()["a"],
            (1, true)
        );
        let msg = baked::<std::collections::BTreeMap<String, (i64,)>>("a = [1, 2]\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("left over"), "{msg}");
    }

    proptest::proptest! {
        /// A damaged tree is an error, never a panic nor a read past the data.
        #[test]
        fn damaged_trees_never_panic(flip in 0usize..4000, byte in proptest::num::u8::ANY, cut in 0usize..4000) {
            let mut enc = Encoder::default();
            let (start, _) = enc.value(&toml::Value::Table(RULE.parse().unwrap())).unwrap();
            let mut tree = enc.tree.clone();
            let n = tree.len();
            tree[flip % n] = byte;
            tree.truncate(cut % (n + 1));
            let _ = from_node::<RuleSpec>(&tree, &enc.strings, start as usize);
            let _ = from_node::<toml::Value>(&tree, &enc.strings, start as usize);
        }
    }
}
