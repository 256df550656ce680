//! [`Text`]: a rule's string, borrowed from the binary when the rule is built in.
//!
//! A built-in rule is deserialized from the baked tree, whose strings all lie in one static pool
//! (`BAKED_STRINGS`, see `baked.rs`). Copying them cost a pre-commit hook most of its start-up: hundreds of
//! kilobytes of descriptions, remediations, regexes and example secrets, a few thousand allocations, and the
//! page faults of a heap that size, for texts a hook mostly never reads. A `Text` deserialized from a string
//! that lies inside the pool keeps the pool's `&'static str` instead; any other (a config's rule, TOML parsed
//! at run time) is copied once into an `Arc<str>`. Either way a clone is cheap and the text is immutable.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// An immutable string: a `&'static str` (a built-in rule's, or a literal) or a shared copy.
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Text {
    /// A literal, or another text that lives as long as the program: not copied.
    pub const fn from_static(s: &'static str) -> Text {
        Text(Repr::Static(s))
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(s) => s,
            Repr::Shared(s) => s,
        }
    }

    /// Where a built-in rule's text lies in the string pool (its start), when it does.
    pub(crate) fn pool_start(&self) -> Option<u32> {
        match self.0 {
            Repr::Static(s) => pool_offset(s)?.try_into().ok(),
            Repr::Shared(_) => None,
        }
    }

    /// `s` as a text: borrowed when it lies inside the built-in rules' string pool, else copied.
    fn of(s: &str) -> Text {
        match in_pool(s) {
            Some(pooled) => Text(Repr::Static(pooled)),
            None => Text(Repr::Shared(Arc::from(s))),
        }
    }
}

/// The pool's own `'static` slice that `s` is, when `s` lies inside the pool. Only addresses are
/// compared; the slice returned is taken from the pool itself, so no lifetime is stretched.
fn in_pool(s: &str) -> Option<&'static str> {
    let start = pool_offset(s)?;
    super::BAKED_STRINGS.get(start..start + s.len())
}

/// Where `s` starts in the pool, when all of it lies inside (addresses compared, nothing read).
fn pool_offset(s: &str) -> Option<usize> {
    let pool = super::BAKED_STRINGS;
    let start = (s.as_ptr() as usize).checked_sub(pool.as_ptr() as usize)?;
    (start.checked_add(s.len())? <= pool.len()).then_some(start)
}

impl Default for Text {
    fn default() -> Text {
        Text::from_static("")
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text(Repr::Shared(Arc::from(s)))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(Repr::Shared(Arc::from(s)))
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Text {
        Text::from(s.as_str())
    }
}

impl From<Arc<str>> for Text {
    fn from(s: Arc<str>) -> Text {
        Text(Repr::Shared(s))
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        t.as_str().to_string()
    }
}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text::of(v))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text::from(v))
            }
        }
        d.deserialize_str(Visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_from_the_pool_borrows_it_and_any_other_is_copied() {
        let pool = super::super::BAKED_STRINGS;
        assert!(pool.len() > 16, "the built-in rules bake a string pool");
        let end = (1..=16).rev().find(|&n| pool.is_char_boundary(n)).unwrap_or(0);
        let inside = &pool[..end];
        assert!(matches!(Text::of(inside).0, Repr::Static(s) if std::ptr::eq(s, inside)));
        let copy = inside.to_string();
        let text = Text::of(&copy);
        assert!(matches!(text.0, Repr::Shared(_)));
        assert_eq!(text, Text::of(inside));
        let tail = &pool[pool.char_indices().last().map_or(0, |(i, _)| i)..];
        assert!(in_pool(tail).is_some_and(|s| std::ptr::eq(s, tail)));
    }

    #[test]
    fn texts_compare_hash_and_print_as_their_strings() {
        use std::collections::HashSet;
        let a = Text::from_static("generic");
        let b = Text::from("generic".to_string());
        assert_eq!(a, b);
        let owned = String::from("generic");
        assert!(a == "generic" && a == *"generic" && a == owned);
        assert_eq!(HashSet::from([a.clone()]).get("generic"), Some(&b));
        assert_eq!(format!("{a} {b:?}"), "generic \"generic\"");
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"generic\"");
        let back: Text = serde_json::from_str("\"generic\"").unwrap();
        assert_eq!(back, a);
    }
}
