//! The built-in rule files as static data: `build.rs` parses each `rules/*.toml` once at build time and
//! emits it as a tree of [`Node`]s (tables, arrays, strings, numbers) compiled into the binary. A scan
//! deserializes the rules from that tree with the same serde derives that read a TOML file, so defaults,
//! unknown-field errors and enum spellings cannot drift between the two; what it skips is lexing and
//! parsing text (TOML, or JSON, took most of a pre-commit hook's start-up).

use serde::de::{
    self,
    value::{Error, MapDeserializer, SeqDeserializer},
    IntoDeserializer, Visitor,
};

/// One value of a rule file, as parsed at build time.
#[derive(Debug)]
pub enum Node {
    Str(&'static str),
    Int(i64),
    Float(f64),
    Bool(bool),
    Arr(&'static [Node]),
    Table(&'static [(&'static str, Node)]),
}

/// Deserializes `T` from a static tree.
pub fn from_node<T: de::Deserialize<'static>>(node: &'static Node) -> Result<T, Error> {
    T::deserialize(node)
}

impl<'de> IntoDeserializer<'de, Error> for &'static Node {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> de::Deserializer<'de> for &'static Node {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Node::Str(s) => visitor.visit_str(s),
            Node::Int(i) => visitor.visit_i64(*i),
            Node::Float(f) => visitor.visit_f64(*f),
            Node::Bool(b) => visitor.visit_bool(*b),
            Node::Arr(items) => {
                let mut seq = SeqDeserializer::new(items.iter());
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            Node::Table(fields) => {
                let mut map = MapDeserializer::new(fields.iter().map(|(k, v)| (*k, v)));
                let value = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(value)
            }
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
        match self {
            Node::Str(s) => visitor.visit_enum(IntoDeserializer::<Error>::into_deserializer(*s)),
            _ => Err(de::Error::custom(format_args!(
                "{name}: expected a string, one of {variants:?}"
            ))),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSpec;

    static RULE: Node = Node::Table(&[
        ("id", Node::Str("x-y")),
        ("name", Node::Str("X")),
        ("severity", Node::Str("high")),
        ("keywords", Node::Arr(&[Node::Str("ab"), Node::Str("Cd")])),
        ("regex", Node::Str("ab")),
        ("window", Node::Int(64)),
        ("min_entropy", Node::Float(3.5)),
        ("delimited", Node::Bool(false)),
        ("check", Node::Str("jwt")),
        ("remediation", Node::Str("r")),
    ]);

    #[test]
    fn a_tree_deserializes_like_the_toml_it_came_from() {
        let baked: RuleSpec = from_node(&RULE).unwrap();
        let toml: RuleSpec = toml::from_str(
            "id = 'x-y'\nname = 'X'\nseverity = 'high'\nkeywords = ['ab', 'Cd']\nregex = 'ab'\nwindow = 64\n\
             min_entropy = 3.5\ndelimited = false\ncheck = 'jwt'\nremediation = 'r'\n",
        )
        .unwrap();
        assert_eq!(format!("{baked:?}"), format!("{toml:?}"));
        assert_eq!(baked.window, 64);
        assert_eq!(baked.min_entropy, Some(3.5));
        assert!(!baked.delimited);
    }

    static UNKNOWN: Node = Node::Table(&[("id", Node::Str("x")), ("colour", Node::Str("blue"))]);
    static BAD_ENUM: Node = Node::Table(&[
        ("id", Node::Str("x-y")),
        ("name", Node::Str("X")),
        ("severity", Node::Str("dire")),
        ("keywords", Node::Arr(&[])),
        ("regex", Node::Str("ab")),
        ("remediation", Node::Str("r")),
    ]);

    #[test]
    fn unknown_fields_and_bad_enum_values_are_errors() {
        let msg = from_node::<RuleSpec>(&UNKNOWN).unwrap_err().to_string();
        assert!(msg.contains("colour"), "{msg}");
        let msg = from_node::<RuleSpec>(&BAD_ENUM).unwrap_err().to_string();
        assert!(msg.contains("dire"), "{msg}");
    }
}
