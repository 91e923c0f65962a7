//! [`Tags`]: an instance's EC2 tags, as one sorted slice of shared key–value pairs. A map
//! that is built once and read many times: no tree nodes, one allocation of exactly its
//! pairs (a `BTreeMap` of five tags takes a node sized for eleven), looked up by binary
//! search. It reads, compares and (de)serializes as a map from key to value.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Text;

/// Tags by key: sorted, each key once.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Tags(Box<[(Text, Text)]>);

impl Tags {
    /// How many tags there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Text> {
        self.find(key).ok().map(|at| &self.0[at].1)
    }

    /// The key as held, and its value.
    pub fn get_key_value(&self, key: &str) -> Option<(&Text, &Text)> {
        self.find(key).ok().map(|at| (&self.0[at].0, &self.0[at].1))
    }

    /// Whether `key` is there.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Every tag, by key.
    pub fn iter(&self) -> Iter<'_> {
        self.0.iter().map(pair)
    }

    /// Every key, in order.
    pub fn keys(&self) -> impl Iterator<Item = &Text> {
        self.0.iter().map(|(k, _)| k)
    }

    /// Sets `key` to `value`; the value it had, if any.
    pub fn insert(&mut self, key: Text, value: Text) -> Option<Text> {
        match self.find(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.0[at].1, value)),
            Err(at) => {
                let mut pairs = std::mem::take(&mut self.0).into_vec();
                pairs.insert(at, (key, value));
                self.0 = pairs.into_boxed_slice();
                None
            }
        }
    }

    /// Takes `key` away; its value, if it was there.
    pub fn remove(&mut self, key: &str) -> Option<Text> {
        let at = self.find(key).ok()?;
        let mut pairs = std::mem::take(&mut self.0).into_vec();
        let (_, value) = pairs.remove(at);
        self.0 = pairs.into_boxed_slice();
        Some(value)
    }

    /// Takes every tag away.
    pub fn clear(&mut self) {
        self.0 = Box::default();
    }
}

/// A pair as a map's iterator gives it.
fn pair((k, v): &(Text, Text)) -> (&Text, &Text) {
    (k, v)
}

/// The iterator of [`Tags::iter`].
pub type Iter<'a> = std::iter::Map<std::slice::Iter<'a, (Text, Text)>, fn(&(Text, Text)) -> (&Text, &Text)>;

impl<'a> IntoIterator for &'a Tags {
    type Item = (&'a Text, &'a Text);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// As a map collects them: a key given twice keeps its last value.
impl<K: Into<Text>, V: Into<Text>> FromIterator<(K, V)> for Tags {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut pairs: Vec<(Text, Text)> = pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        // Stable: of equal keys, the last given ends up last, and is the one kept.
        if !pairs.is_sorted_by(|a, b| a.0 < b.0) {
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            let mut kept: Vec<(Text, Text)> = Vec::with_capacity(pairs.len());
            for p in pairs {
                match kept.last_mut() {
                    Some(last) if last.0 == p.0 => *last = p,
                    _ => kept.push(p),
                }
            }
            pairs = kept;
        }
        Tags(pairs.into_boxed_slice())
    }
}

impl<K: Into<Text>, V: Into<Text>, const N: usize> From<[(K, V); N]> for Tags {
    fn from(pairs: [(K, V); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl fmt::Debug for Tags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Tags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in self {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = Tags;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of tag keys to values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tags, A::Error> {
                let mut pairs: Vec<(Text, Text)> = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(pair) = map.next_entry::<Text, Text>()? {
                    pairs.push(pair);
                }
                Ok(pairs.into_iter().collect())
            }
        }
        d.deserialize_map(Pairs)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::Tags;
    use crate::model::Text;

    fn as_map(tags: &Tags) -> BTreeMap<String, String> {
        tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn collects_as_a_map_does_sorted_and_the_last_value_of_a_key_kept() {
        let given = [("b", "1"), ("a", "2"), ("b", "3"), ("c", "4"), ("a", "5")];
        let tags: Tags = given.into_iter().collect();
        let map: BTreeMap<String, String> =
            given.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        assert_eq!(as_map(&tags), map);
        assert_eq!(tags.len(), 3);
        assert!(tags.keys().map(Text::as_str).eq(["a", "b", "c"]));
    }

    #[test]
    fn looks_up_inserts_and_removes_as_a_map_does() {
        let mut tags = Tags::from([("Name", "web-1"), ("owner", "ada")]);
        assert_eq!(tags.get("owner").map(Text::as_str), Some("ada"));
        assert!(tags.get("missing").is_none() && !tags.contains_key("missing"));
        assert_eq!(tags.insert("env".into(), "prod".into()), None);
        assert_eq!(tags.insert("owner".into(), "grace".into()).as_deref(), Some("ada"));
        assert!(tags.keys().map(Text::as_str).eq(["Name", "env", "owner"]));
        assert_eq!(tags.remove("Name").as_deref(), Some("web-1"));
        assert_eq!(tags.remove("Name"), None);
        assert_eq!(tags.get_key_value("env").map(|(k, v)| (k.as_str(), v.as_str())), Some(("env", "prod")));
        tags.clear();
        assert!(tags.is_empty());
    }

    #[test]
    fn serializes_as_a_map_and_reads_one_back() {
        let tags = Tags::from([("b", "2"), ("a", "1")]);
        let json = serde_json::to_string(&tags).unwrap();
        assert_eq!(json, r#"{"a":"1","b":"2"}"#);
        assert_eq!(serde_json::from_str::<Tags>(&json).unwrap(), tags);
        assert_eq!(serde_json::from_str::<Tags>(r#"{"k":"1","k":"2"}"#).unwrap(), Tags::from([("k", "2")]));
        assert!(serde_json::from_str::<Tags>("[1]").is_err());
        assert_eq!(format!("{tags:?}"), r#"{"a": "1", "b": "2"}"#);
    }
}
