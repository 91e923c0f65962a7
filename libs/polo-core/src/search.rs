//! Search across everything from the header: instances, indexes, accounts and customers,
//! ranked exact id or name first, then prefix, then substring; at most `limit` hits per kind.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Fleet;
use crate::text::contains_lower;

/// How well a hit matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Rank {
    Exact,
    Prefix,
    Substring,
}

/// One hit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// The id (instance id, index id, account name, customer name).
    pub id: String,
    /// What to show beside it.
    pub label: String,
    pub rank: Rank,
}

/// The hits of one kind, and how many there were before the limit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Hits {
    pub total: usize,
    pub hits: Vec<Hit>,
}

/// Every kind's hits.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SearchResults {
    pub q: String,
    pub instances: Hits,
    pub indexes: Hits,
    pub accounts: Hits,
    pub customers: Hits,
}

impl SearchResults {
    /// Hits of all kinds together.
    pub fn total(&self) -> usize {
        self.instances.total + self.indexes.total + self.accounts.total + self.customers.total
    }
}

/// One kind's search keys, lowercased into one buffer, each followed by a NUL: a query is one
/// SIMD substring scan of it (`memchr::memmem`), with no allocation or case folding per row.
/// Rows are in position order, which is also id order (see [`Fleet::new`]), so the first
/// hits of each rank met in a scan are the ones the results show.
#[derive(Debug, Default)]
pub struct KeyText {
    text: Vec<u8>,
    /// Where each key starts in `text`, and one more: the end.
    starts: Vec<u32>,
    /// The row of each key.
    rows: Vec<u32>,
    /// Per row, which one-byte needles ([`byte_bit`]) it holds anywhere, starts a key with,
    /// and is a whole key of: a one-letter query reads these, not the text.
    bytes: Vec<ByteMasks>,
}

/// Which bytes a row's keys hold, start with, and are.
#[derive(Clone, Copy, Debug, Default)]
struct ByteMasks {
    holds: u64,
    starts: u64,
    is: u64,
}

/// The bit of a lowercase ASCII letter, digit or `-._:/@` in a [`ByteMasks`] (63 bytes fit;
/// any other byte has none and is searched in the text).
fn byte_bit(b: u8) -> Option<u32> {
    match b {
        b'a'..=b'z' => Some(u32::from(b - b'a')),
        b'0'..=b'9' => Some(26 + u32::from(b - b'0')),
        b'-' => Some(36),
        b'.' => Some(37),
        b'_' => Some(38),
        b':' => Some(39),
        b'/' => Some(40),
        b'@' => Some(41),
        _ => None,
    }
}

impl KeyText {
    /// The keys of each row (empty keys are left out: they match nothing).
    pub fn build<'a, K: IntoIterator<Item = &'a str>>(rows: impl IntoIterator<Item = K>) -> KeyText {
        let mut index = KeyText::default();
        for (row, keys) in rows.into_iter().enumerate() {
            let mut masks = ByteMasks::default();
            for key in keys.into_iter().filter(|k| !k.is_empty()) {
                let from = index.text.len();
                index.starts.push(u32::try_from(index.text.len()).unwrap_or(u32::MAX));
                index.rows.push(u32::try_from(row).unwrap_or(u32::MAX));
                if key.is_ascii() {
                    index.text.extend(key.bytes().map(|b| b.to_ascii_lowercase()));
                } else {
                    index.text.extend_from_slice(key.to_lowercase().as_bytes());
                }
                let lower = index.text.get(from..).unwrap_or_default();
                let bit = |b: &u8| byte_bit(*b).map_or(0, |bit| 1u64 << bit);
                masks.holds |= lower.iter().map(bit).fold(0, |a, b| a | b);
                masks.starts |= lower.first().map_or(0, bit);
                if let [only] = lower {
                    masks.is |= bit(only);
                }
                index.text.push(0);
            }
            index.bytes.push(masks);
        }
        index.starts.push(u32::try_from(index.text.len()).unwrap_or(u32::MAX));
        index
    }

    /// Each row some key of which holds `needle` (lowercase), with its best rank over its
    /// keys, in row order.
    fn matches(&self, needle: &str, mut each: impl FnMut(usize, Rank)) {
        let needle = needle.as_bytes();
        if needle.is_empty() || needle.contains(&0) {
            return;
        }
        if let [one] = needle
            && let Some(bit) = byte_bit(*one)
        {
            let bit = 1u64 << bit;
            for (row, masks) in self.bytes.iter().enumerate().filter(|(_, m)| m.holds & bit != 0) {
                let rank = if masks.is & bit != 0 {
                    Rank::Exact
                } else if masks.starts & bit != 0 {
                    Rank::Prefix
                } else {
                    Rank::Substring
                };
                each(row, rank);
            }
            return;
        }
        let mut key = 0;
        let mut current: Option<(u32, Rank)> = None;
        for at in memchr::memmem::find_iter(&self.text, needle) {
            // Keys are in text order: walk forward to the one holding `at` (a match never
            // spans two, as the NUL between them is in no needle).
            while self.starts.get(key + 1).is_some_and(|&next| next as usize <= at) {
                key += 1;
            }
            let (Some(&start), Some(&end), Some(&row)) =
                (self.starts.get(key), self.starts.get(key + 1), self.rows.get(key))
            else {
                break;
            };
            let rank = if at != start as usize {
                Rank::Substring
            } else if (end - start) as usize - 1 == needle.len() {
                Rank::Exact
            } else {
                Rank::Prefix
            };
            current = match current {
                Some((r, best)) if r == row => Some((r, best.min(rank))),
                Some((r, best)) => {
                    each(r as usize, best);
                    Some((row, rank))
                }
                None => Some((row, rank)),
            };
        }
        if let Some((row, best)) = current {
            each(row as usize, best);
        }
    }
}

/// What search reads, built on the first search of a snapshot and kept with it.
#[derive(Debug)]
pub struct SearchIndex {
    instances: KeyText,
    indexes: KeyText,
    /// Every customer with its number of indexes, by name.
    customers: Vec<(String, usize)>,
}

impl SearchIndex {
    /// The index of `fleet`'s instances (id, name, private IP), indexes (id, name) and
    /// customers.
    pub fn build(fleet: &Fleet) -> SearchIndex {
        let instances = KeyText::build(fleet.instances().iter().map(|i| {
            [i.id.as_str(), i.name.as_deref().unwrap_or(""), i.private_ip.as_deref().unwrap_or("")]
        }));
        let indexes = KeyText::build(fleet.indexes().iter().map(|x| [x.index_id.as_str(), x.name.as_str()]));
        let mut customers: BTreeMap<&str, usize> = BTreeMap::new();
        for x in fleet.indexes() {
            *customers.entry(&x.customer).or_default() += 1;
        }
        let customers = customers.into_iter().map(|(c, n)| (c.to_owned(), n)).collect();
        SearchIndex { instances, indexes, customers }
    }
}

/// The best `limit` rows of a scan in row order: the first of each rank met are the best
/// of it (rows are in id order), and every match is counted.
fn best_in_order(index: &KeyText, needle: &str, limit: usize) -> (usize, Vec<(Rank, usize)>) {
    let mut total = 0;
    let mut by_rank: [Vec<usize>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    index.matches(needle, |row, rank| {
        total += 1;
        let kept = &mut by_rank[rank as usize];
        if kept.len() < limit {
            kept.push(row);
        }
    });
    let best = [Rank::Exact, Rank::Prefix, Rank::Substring]
        .into_iter()
        .zip(by_rank)
        .flat_map(|(rank, rows)| rows.into_iter().map(move |row| (rank, row)))
        .take(limit)
        .collect();
    (total, best)
}

/// The rank of `needle` (lowercase) against one key, without allocating for ASCII keys.
fn rank_one(needle: &str, key: &str) -> Option<Rank> {
    if key.is_empty() {
        return None;
    }
    if !key.is_ascii() {
        let key = key.to_lowercase();
        return if key == needle {
            Some(Rank::Exact)
        } else if key.starts_with(needle) {
            Some(Rank::Prefix)
        } else if key.contains(needle) {
            Some(Rank::Substring)
        } else {
            None
        };
    }
    let (k, n) = (key.as_bytes(), needle.as_bytes());
    if k.len() == n.len() && k.eq_ignore_ascii_case(n) {
        Some(Rank::Exact)
    } else if k.len() > n.len() && k[..n.len()].eq_ignore_ascii_case(n) {
        Some(Rank::Prefix)
    } else if contains_lower(key, needle) {
        Some(Rank::Substring)
    } else {
        None
    }
}

/// The best rank of `needle` against any of `keys`.
fn rank(needle: &str, keys: &[&str]) -> Option<Rank> {
    keys.iter().filter_map(|k| rank_one(needle, k)).min()
}

/// Keeps the best `limit` candidates (rank, then id) in order, and labels only those: a
/// selection, then a sort of what is kept, not a sort of every match.
fn collect(mut found: Vec<(Rank, &str, usize)>, limit: usize, label: impl Fn(usize) -> String) -> Hits {
    let total = found.len();
    let order = |a: &(Rank, &str, usize), b: &(Rank, &str, usize)| {
        a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)).then(a.2.cmp(&b.2))
    };
    if found.len() > limit {
        found.select_nth_unstable_by(limit, order);
        found.truncate(limit);
    }
    found.sort_unstable_by(order);
    let hits = found
        .into_iter()
        .take(limit)
        .map(|(rank, id, pos)| Hit { id: id.to_owned(), label: label(pos), rank })
        .collect();
    Hits { total, hits }
}

/// The hits of an indexed kind: `id` and `label` of a row by position.
fn indexed_hits(
    index: &KeyText,
    needle: &str,
    limit: usize,
    id: impl Fn(usize) -> String,
    label: impl Fn(usize) -> String,
) -> Hits {
    let (total, best) = best_in_order(index, needle, limit);
    Hits {
        total,
        hits: best.into_iter().map(|(rank, pos)| Hit { id: id(pos), label: label(pos), rank }).collect(),
    }
}

/// What an instance hit shows beside its id.
fn instance_label(i: &crate::model::Instance) -> String {
    format!("{} · {} · {} · {}", i.name.as_deref().unwrap_or(""), i.account, i.region, i.state)
}

/// What an index hit shows beside its id.
fn index_label(x: &crate::model::Index) -> String {
    format!("{} · {} · {}", x.name, x.customer, x.status)
}

/// Searches the fleet for `q` (trimmed, case-insensitive); empty `q` finds nothing.
/// Instances and indexes are read through the snapshot's [`SearchIndex`], never row by row.
pub fn search(fleet: &Fleet, q: &str, limit: usize) -> SearchResults {
    let needle = q.trim().to_lowercase();
    let mut results = SearchResults { q: q.trim().to_owned(), ..SearchResults::default() };
    if needle.is_empty() {
        return results;
    }
    let index = fleet.search_index();
    let instances = fleet.instances();
    results.instances = indexed_hits(
        &index.instances,
        &needle,
        limit,
        |pos| instances[pos].id.clone(),
        |pos| instance_label(&instances[pos]),
    );
    let indexes = fleet.indexes();
    results.indexes = indexed_hits(
        &index.indexes,
        &needle,
        limit,
        |pos| indexes[pos].index_id.clone(),
        |pos| index_label(&indexes[pos]),
    );
    let accounts = fleet.accounts();
    let found = accounts
        .iter()
        .enumerate()
        .filter_map(|(pos, a)| rank(&needle, &[&a.name, &a.id]).map(|r| (r, a.name.as_str(), pos)))
        .collect();
    results.accounts = collect(found, limit, |pos| format!("{} · {}", accounts[pos].id, accounts[pos].kind));
    let customers = &index.customers;
    let found = customers
        .iter()
        .enumerate()
        .filter_map(|(pos, (c, _))| rank(&needle, &[c]).map(|r| (r, c.as_str(), pos)))
        .collect();
    results.customers = collect(found, limit, |pos| {
        let n = customers[pos].1;
        if n == 1 { "1 index".to_owned() } else { format!("{n} indexes") }
    });
    results
}

/// The search of every row one by one, as it was before the index: what the index must
/// answer identically (tests).
#[cfg(test)]
fn scan(fleet: &Fleet, q: &str, limit: usize) -> (Hits, Hits) {
    let needle = q.trim().to_lowercase();
    let instances = fleet.instances();
    let found = instances
        .iter()
        .enumerate()
        .filter_map(|(pos, i)| {
            let keys =
                [i.id.as_str(), i.name.as_deref().unwrap_or(""), i.private_ip.as_deref().unwrap_or("")];
            rank(&needle, &keys).map(|r| (r, i.id.as_str(), pos))
        })
        .collect();
    let a = collect(found, limit, |pos| instance_label(&instances[pos]));
    let indexes = fleet.indexes();
    let found = indexes
        .iter()
        .enumerate()
        .filter_map(|(pos, x)| rank(&needle, &[&x.index_id, &x.name]).map(|r| (r, x.index_id.as_str(), pos)))
        .collect();
    let b = collect(found, limit, |pos| index_label(&indexes[pos]));
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{Scale, generate};
    use time::macros::datetime;

    #[test]
    fn ranks_exact_then_prefix_then_substring() {
        let fleet = Fleet::new(generate(42, Scale::Small, datetime!(2026-11-24 12:00 UTC)));
        let id = fleet.instances()[5].id.clone();
        let r = search(&fleet, &id.to_uppercase(), 20);
        assert_eq!(r.instances.hits[0].id, id);
        assert_eq!(r.instances.hits[0].rank, Rank::Exact);
        let r = search(&fleet, "acme", 20);
        assert_eq!(r.customers.hits[0].rank, Rank::Exact);
        let ranks: Vec<Rank> = r.instances.hits.iter().map(|h| h.rank).collect();
        let mut sorted = ranks.clone();
        sorted.sort();
        assert_eq!(ranks, sorted);
        let r = search(&fleet, "i-0", 20);
        assert_eq!(r.instances.hits.len(), 20, "at most 20 per kind");
        assert_eq!(r.instances.total, fleet.instances().len());
        assert_eq!(search(&fleet, "   ", 20).total(), 0);
        assert_eq!(search(&fleet, "prod", 20).accounts.hits[0].id, "prod");
    }

    #[test]
    fn the_index_answers_exactly_as_a_scan_of_every_row() {
        let fleet = Fleet::new(generate(42, Scale::Small, datetime!(2026-11-24 12:00 UTC)));
        let some_ip = fleet.instances().iter().find_map(|i| i.private_ip.clone()).unwrap();
        let some_name = fleet.instances().iter().find_map(|i| i.name.clone()).unwrap();
        let some_index = fleet.indexes()[3].index_id.to_uppercase();
        for q in [
            "a",
            "i",
            "0",
            "-",
            ".",
            "ac",
            "acme",
            "ACME",
            "acme-",
            "inference",
            "i-0",
            "idx",
            "10.",
            &some_ip,
            &some_name,
            &some_index,
            "zzzz",
            "é",
            "  Prod  ",
            "\u{0}",
        ] {
            for limit in [1, 5, 20] {
                let (instances, indexes) = scan(&fleet, q, limit);
                let found = search(&fleet, q, limit);
                assert_eq!(found.instances, instances, "{q:?} instances, limit {limit}");
                assert_eq!(found.indexes, indexes, "{q:?} indexes, limit {limit}");
            }
        }
    }

    #[test]
    fn a_key_matches_by_its_best_rank_and_only_within_itself() {
        let index = KeyText::build([["ab", "xab"], ["abc", ""], ["b", "a"]]);
        let mut seen = Vec::new();
        index.matches("ab", |row, rank| seen.push((row, rank)));
        assert_eq!(seen, [(0, Rank::Exact), (1, Rank::Prefix)]);
        seen.clear();
        // "b\0a" spans two keys of row 2: no match across the NUL.
        index.matches("ba", |row, rank| seen.push((row, rank)));
        assert!(seen.is_empty(), "{seen:?}");
        let unicode = KeyText::build([["ÉCOLE"]]);
        seen.clear();
        unicode.matches("éc", |row, rank| seen.push((row, rank)));
        assert_eq!(seen, [(0, Rank::Prefix)]);
    }
}
