//! [`Text`]: an immutable string that clones by sharing. The values instances repeat by the
//! thousand (account, region, zone, type, owner, customer, index, tag keys and values) are
//! `Text`, so the binary snapshot's decoder gives every row the one copy of each string its
//! table holds instead of an allocation per row and field (docs/scale.md).

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An immutable, shared string: a clone is a reference count, never a copy. It reads as a
/// `&str` (`Deref`, `Borrow<str>`, `AsRef<str>`), compares, orders and hashes as one, and is
/// (de)serialized as a plain string.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(Arc<str>);

impl Text {
    /// The text as a `&str`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Text {
    fn default() -> Self {
        Text(Arc::from(""))
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(Arc::from(s))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(Arc::from(s))
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Self {
        Text(Arc::from(s.as_str()))
    }
}

impl From<Text> for String {
    fn from(t: Text) -> Self {
        t.0.as_ref().to_owned()
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        **self == *other.0
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Text;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Text, E> {
                Ok(Text::from(s))
            }

            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Text, E> {
                Ok(Text::from(s))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    #[test]
    fn a_clone_shares_the_one_copy() {
        let a = Text::from("prod");
        let b = a.clone();
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
    }

    #[test]
    fn reads_compares_and_orders_as_a_str() {
        let t = Text::from("eu-west-1");
        assert_eq!(t, "eu-west-1");
        assert_eq!(t, *"eu-west-1");
        assert_eq!(t, "eu-west-1".to_owned());
        assert_eq!("eu-west-1", t);
        assert!(t.starts_with("eu-"));
        assert_eq!(t.to_string(), "eu-west-1");
        assert_eq!(format!("{t:?}"), "\"eu-west-1\"");
        assert!(Text::from("a").cmp(&Text::from("b")).is_lt());
        assert_eq!(Text::default(), "");
        // Maps keyed by Text are looked up by &str.
        let map: BTreeMap<Text, u8> = [(Text::from("Name"), 1)].into();
        assert_eq!(map.get("Name"), Some(&1));
        let map: HashMap<Text, u8> = [(Text::from("Name"), 1)].into();
        assert_eq!(map.get("Name"), Some(&1));
    }

    #[test]
    fn serializes_as_a_plain_string() {
        let t = Text::from("acme \"quoted\"");
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#""acme \"quoted\"""#);
        assert_eq!(serde_json::from_str::<Text>(&json).unwrap(), t);
        assert!(serde_json::from_str::<Text>("1").is_err());
    }
}
